/*
 * authpkg_winpr.c: authpkg.h's NTLM backend, winpr's SSPI
 * (InitSecurityInterfaceExA, AcquireCredentialsHandleA,
 * InitializeSecurityContextA / AcceptSecurityContext, EncryptMessage,
 * DecryptMessage).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <winpr/sspi.h>

#include "gateway/authpkg.h"

/* SSPI takes the package name as a mutable string. */
static char ntlm_package[] = "NTLM";

struct authpkg {
	SecurityFunctionTableA *t;
	int server;
	int have_cred, have_ctx, done;
	CredHandle cred;
	CtxtHandle ctx;
	char *target;   /* SPN, client only */
	char *sam_file; /* server only */
	ULONG trailer;  /* cbSecurityTrailer once established */
	ULONG send_seq, recv_seq;
};

int
authpkg_available(void)
{
	return 1;
}

static void
identity_wipe(SEC_WINNT_AUTH_IDENTITY *id)
{
	if (id->Password != NULL)
		OPENSSL_cleanse(
		    id->Password, id->PasswordLength * sizeof(WCHAR));
	free(id->User);
	free(id->Domain);
	free(id->Password);
	memset(id, 0, sizeof(*id));
}

static int
pkg_new(int server, struct authpkg **out)
{
	struct authpkg *a;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return VDI_ERR_ALLOC;
	a->server = server;
	if ((a->t = InitSecurityInterfaceExA(0)) == NULL) {
		free(a);
		return VDI_ERR_UNSUPPORTED;
	}
	*out = a;
	return 0;
}

int
authpkg_client_new(const char *user, const char *domain, const char *password,
    const char *target, struct authpkg **out, uint32_t *status)
{
	SEC_WINNT_AUTH_IDENTITY id;
	struct authpkg *a = NULL;
	TimeStamp expiry;
	SECURITY_STATUS st;
	int r;

	*out = NULL;
	*status = 0;
	memset(&id, 0, sizeof(id));
	if (user == NULL || *user == '\0' || password == NULL ||
	    strlen(user) > AUTHPKG_USER_MAX ||
	    (domain != NULL && strlen(domain) > AUTHPKG_USER_MAX) ||
	    strlen(password) > AUTHPKG_PASSWORD_MAX)
		return VDI_ERR_INVALID_ARG;
	if ((r = pkg_new(0, &a)) != 0)
		return r;
	if (target != NULL && (a->target = strdup(target)) == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	if (sspi_SetAuthIdentity(&id, user,
		domain != NULL && *domain != '\0' ? domain : NULL,
		password) < 0) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	/* The package keeps its own copy of the identity. */
	st = a->t->AcquireCredentialsHandleA(NULL, ntlm_package,
	    SECPKG_CRED_OUTBOUND, NULL, &id, NULL, NULL, &a->cred, &expiry);
	if (st != SEC_E_OK) {
		*status = (uint32_t)st;
		r = VDI_ERR_DENIED;
		goto out;
	}
	a->have_cred = 1;
	*out = a;
	a = NULL;
	r = 0;
out:
	identity_wipe(&id);
	authpkg_free(a);
	return r;
}

int
authpkg_server_new(const char *sam_file, struct authpkg **out, uint32_t *status)
{
	struct authpkg *a = NULL;
	TimeStamp expiry;
	SECURITY_STATUS st;
	int r;

	*out = NULL;
	*status = 0;
	if (sam_file == NULL || *sam_file == '\0')
		return VDI_ERR_INVALID_ARG;
	if ((r = pkg_new(1, &a)) != 0)
		return r;
	if ((a->sam_file = strdup(sam_file)) == NULL) {
		authpkg_free(a);
		return VDI_ERR_ALLOC;
	}
	st = a->t->AcquireCredentialsHandleA(NULL, ntlm_package,
	    SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL, &a->cred, &expiry);
	if (st != SEC_E_OK) {
		*status = (uint32_t)st;
		authpkg_free(a);
		return VDI_ERR_DENIED;
	}
	a->have_cred = 1;
	*out = a;
	return 0;
}

/* Once established: the signature size the seals carry. */
static int
established(struct authpkg *a, uint32_t *status)
{
	SecPkgContext_Sizes sizes;
	SECURITY_STATUS st;

	memset(&sizes, 0, sizeof(sizes));
	st = a->t->QueryContextAttributesA(&a->ctx, SECPKG_ATTR_SIZES, &sizes);
	if (st != SEC_E_OK || sizes.cbSecurityTrailer > AUTHPKG_TRAILER_MAX) {
		*status = (uint32_t)st;
		return VDI_ERR_INTERNAL;
	}
	a->trailer = sizes.cbSecurityTrailer;
	a->done = 1;
	return 0;
}

static int
map_status(SECURITY_STATUS st)
{
	switch (st) {
	case SEC_E_INVALID_TOKEN:
	case SEC_E_UNSUPPORTED_FUNCTION:
		return VDI_ERR_BAD_FORMAT;
	case SEC_E_INSUFFICIENT_MEMORY:
		return VDI_ERR_ALLOC;
	default:
		return VDI_ERR_DENIED;
	}
}

int
authpkg_step(struct authpkg *a, const unsigned char *in, size_t in_len,
    struct vbuf *out, int *done, uint32_t *status)
{
	SecBuffer ib, ob;
	SecBufferDesc idesc, odesc;
	unsigned char *tok = NULL;
	ULONG attrs = 0;
	TimeStamp expiry;
	SECURITY_STATUS st;
	int r;

	*done = 0;
	*status = 0;
	if (a->done)
		return VDI_ERR_INVALID_ARG;
	if (in_len > AUTHPKG_TOKEN_MAX)
		return VDI_ERR_TOO_LARGE;
	if ((a->server || a->have_ctx) && (in == NULL || in_len == 0))
		return VDI_ERR_INVALID_ARG;
	if ((tok = calloc(1, AUTHPKG_TOKEN_MAX)) == NULL)
		return VDI_ERR_ALLOC;
	ib.BufferType = SECBUFFER_TOKEN;
	ib.cbBuffer = (ULONG)in_len;
	ib.pvBuffer = (void *)(uintptr_t)in;
	idesc.ulVersion = SECBUFFER_VERSION;
	idesc.cBuffers = 1;
	idesc.pBuffers = &ib;
	ob.BufferType = SECBUFFER_TOKEN;
	ob.cbBuffer = AUTHPKG_TOKEN_MAX;
	ob.pvBuffer = tok;
	odesc.ulVersion = SECBUFFER_VERSION;
	odesc.cBuffers = 1;
	odesc.pBuffers = &ob;

	if (!a->server) {
		st = a->t->InitializeSecurityContextA(&a->cred,
		    a->have_ctx ? &a->ctx : NULL, a->target,
		    ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY |
			ISC_REQ_USE_SESSION_KEY,
		    0, SECURITY_NATIVE_DREP, in_len > 0 ? &idesc : NULL, 0,
		    &a->ctx, &odesc, &attrs, &expiry);
	} else {
		st = a->t->AcceptSecurityContext(&a->cred,
		    a->have_ctx ? &a->ctx : NULL, &idesc,
		    ASC_REQ_MUTUAL_AUTH | ASC_REQ_CONFIDENTIALITY |
			ASC_REQ_CONNECTION | ASC_REQ_USE_SESSION_KEY |
			ASC_REQ_REPLAY_DETECT | ASC_REQ_SEQUENCE_DETECT |
			ASC_REQ_EXTENDED_ERROR,
		    SECURITY_NATIVE_DREP, &a->ctx, &odesc, &attrs, &expiry);
		if (st == SEC_I_COMPLETE_NEEDED ||
		    st == SEC_I_COMPLETE_AND_CONTINUE) {
			/* The AUTHENTICATE message: check it against the SAM
			 * file (the SAM is read by CompleteAuthToken). */
			SECURITY_STATUS st2;

			a->have_ctx = 1;
			st2 = a->t->SetContextAttributesA(&a->ctx,
			    SECPKG_ATTR_AUTH_NTLM_SAM_FILE, a->sam_file,
			    (ULONG)strlen(a->sam_file) + 1);
			if (st2 == SEC_E_OK)
				st2 = a->t->CompleteAuthToken(&a->ctx, &odesc);
			if (st2 != SEC_E_OK)
				st = st2;
			else
				st = st == SEC_I_COMPLETE_NEEDED
				    ? SEC_E_OK
				    : SEC_I_CONTINUE_NEEDED;
		}
	}
	*status = (uint32_t)st;
	if (st != SEC_E_OK && st != SEC_I_CONTINUE_NEEDED) {
		r = map_status(st);
		goto out;
	}
	a->have_ctx = 1;
	if (ob.cbBuffer > AUTHPKG_TOKEN_MAX) {
		r = VDI_ERR_INTERNAL;
		goto out;
	}
	if (ob.cbBuffer > vbuf_avail(out)) {
		r = VDI_ERR_TOO_LARGE;
		goto out;
	}
	if (ob.cbBuffer > 0 && (r = vbuf_put(out, tok, ob.cbBuffer)) != 0)
		goto out;
	if (st == SEC_E_OK) {
		if ((r = established(a, status)) != 0)
			goto out;
		*done = 1;
	}
	r = 0;
out:
	OPENSSL_cleanse(tok, AUTHPKG_TOKEN_MAX);
	free(tok);
	return r;
}

int
authpkg_seal(struct authpkg *a, const unsigned char *p, size_t n,
    struct vbuf *out, uint32_t *status)
{
	SecBuffer b[2];
	SecBufferDesc desc;
	unsigned char *buf;
	SECURITY_STATUS st;
	size_t total;
	int r;

	*status = 0;
	if (!a->done)
		return VDI_ERR_INVALID_ARG;
	if (n > AUTHPKG_TOKEN_MAX)
		return VDI_ERR_TOO_LARGE;
	total = a->trailer + n;
	if (total > vbuf_avail(out))
		return VDI_ERR_TOO_LARGE;
	if ((buf = calloc(1, total > 0 ? total : 1)) == NULL)
		return VDI_ERR_ALLOC;
	memcpy(buf + a->trailer, p, n);
	b[0].BufferType = SECBUFFER_TOKEN;
	b[0].cbBuffer = a->trailer;
	b[0].pvBuffer = buf;
	b[1].BufferType = SECBUFFER_DATA;
	b[1].cbBuffer = (ULONG)n;
	b[1].pvBuffer = buf + a->trailer;
	desc.ulVersion = SECBUFFER_VERSION;
	desc.cBuffers = 2;
	desc.pBuffers = b;
	st = a->t->EncryptMessage(&a->ctx, 0, &desc, a->send_seq);
	*status = (uint32_t)st;
	if (st != SEC_E_OK)
		r = VDI_ERR_INTERNAL;
	else if (b[0].cbBuffer != a->trailer || b[1].cbBuffer != n)
		r = VDI_ERR_INTERNAL;
	else {
		a->send_seq++;
		r = vbuf_put(out, buf, total);
	}
	OPENSSL_cleanse(buf, total);
	free(buf);
	return r;
}

int
authpkg_unseal(struct authpkg *a, const unsigned char *p, size_t n,
    struct vbuf *out, uint32_t *status)
{
	SecBuffer b[2];
	SecBufferDesc desc;
	unsigned char *buf;
	SECURITY_STATUS st;
	ULONG qop = 0;
	int r;

	*status = 0;
	if (!a->done)
		return VDI_ERR_INVALID_ARG;
	if (n < a->trailer)
		return VDI_ERR_BAD_FORMAT;
	if (n > AUTHPKG_TOKEN_MAX + a->trailer)
		return VDI_ERR_TOO_LARGE;
	if (n - a->trailer > vbuf_avail(out))
		return VDI_ERR_TOO_LARGE;
	if ((buf = malloc(n > 0 ? n : 1)) == NULL)
		return VDI_ERR_ALLOC;
	memcpy(buf, p, n);
	b[0].BufferType = SECBUFFER_TOKEN;
	b[0].cbBuffer = a->trailer;
	b[0].pvBuffer = buf;
	b[1].BufferType = SECBUFFER_DATA;
	b[1].cbBuffer = (ULONG)(n - a->trailer);
	b[1].pvBuffer = buf + a->trailer;
	desc.ulVersion = SECBUFFER_VERSION;
	desc.cBuffers = 2;
	desc.pBuffers = b;
	st = a->t->DecryptMessage(&a->ctx, &desc, a->recv_seq, &qop);
	*status = (uint32_t)st;
	if (st != SEC_E_OK)
		r = VDI_ERR_DENIED;
	else {
		a->recv_seq++;
		r = vbuf_put(out, buf + a->trailer, n - a->trailer);
	}
	OPENSSL_cleanse(buf, n);
	free(buf);
	return r;
}

void
authpkg_free(struct authpkg *a)
{
	if (a == NULL)
		return;
	if (a->have_ctx)
		(void)a->t->DeleteSecurityContext(&a->ctx);
	if (a->have_cred)
		(void)a->t->FreeCredentialsHandle(&a->cred);
	free(a->target);
	free(a->sam_file);
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}
