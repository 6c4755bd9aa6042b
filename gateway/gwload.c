/*
 * gwload.c: what vdi-gatewayd loads before it serves and again on SIGHUP
 * (gateway.h): the policy's tenant CAs and CRLs into the front TLS
 * context, the RDP-level server context inside the tunnel (its key stays
 * in the key process), the desktop legs' contexts (pinned, CA-verified)
 * and the broker's public keys. The configuration file itself is read by
 * gwconf.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "gateway.h"
#include "keyproc.h"
#include "trust.h"
#include "vlog.h"

#define TENANTS_MAX 256

/* The front context: the gateway's certificate, every tenant CA and CRL
 * of the policy. */
static void
log_policy_warning(const char *line, void *arg)
{
	(void)arg;
	vlog(VLOG_WARNING, "policy_warning", "detail=%s", VLOG_Q(line));
}

static int
front_configure(
    struct gw *gw, const struct policy_trust *p, char *err, size_t errlen)
{
	struct vdi_tls_ca cas[TENANTS_MAX];
	struct vdi_tls_config tc;
	const struct policy_trust_tenant *t;
	size_t i, n = 0;
	int r;

	memset(&tc, 0, sizeof(tc));
	memset(cas, 0, sizeof(cas));
	for (i = 0; i < policy_trust_count(p) && n < TENANTS_MAX; i++) {
		t = policy_trust_at(p, i);
		cas[n].name = t->name;
		cas[n].ca_file = t->ca_file;
		cas[n].crl_file = t->crl_file;
		n++;
	}
	if (n == 0) {
		snprintf(err, errlen, "%s: no tenant with a device CA",
		    gw->conf.policy);
		return VDI_ERR_CONFIG;
	}
	tc.role = VDI_TLS_SERVER;
	tc.cert_file = gw->conf.tls_cert;
	tc.key_file = gw->conf.tls_key;
	tc.cas = cas;
	tc.ncas = n;
	if (gw->front == NULL)
		r = vdi_tls_new(&tc, &gw->front, err, errlen);
	else
		r = vdi_tls_reconfigure(gw->front, &tc, err, errlen);
	if (r == 0)
		gw->ntenants = n;
	return r;
}

int
gw_load_policy_tls(struct gw *gw, char *err, size_t errlen)
{
	struct policy_trust *p = NULL, *old;
	char *errors = NULL;
	int r;

	if ((r = policy_trust_load(gw->conf.policy, &p, &errors)) != 0) {
		snprintf(err, errlen, "%s%s: policy refused",
		    errors != NULL ? errors : "", gw->conf.policy);
		free(errors);
		return r;
	}
	(void)policy_trust_warnings(p, log_policy_warning, NULL);
	if ((r = front_configure(gw, p, err, errlen)) == 0) {
		/* Keep it for the admission's dst check (session.c). */
		pthread_mutex_lock(&gw->policy_lock);
		old = gw->trust;
		gw->trust = p;
		p = old;
		pthread_mutex_unlock(&gw->policy_lock);
	}
	policy_trust_unref(p);
	return r;
}

/* The RDP-level TLS server inside the tunnel: no client certificate
 * (xfreerdp has none), TLS 1.2+, forward-secret AEAD ciphers. */
static int
inner_ctx_new(struct gw *gw, char *err, size_t errlen)
{
	EVP_PKEY *pk = NULL;
	SSL_CTX *c;
	int r;

	if ((c = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_options(c,
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
		SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	if (SSL_CTX_set_cipher_list(c,
		"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
		"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
		"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") !=
	    1)
		goto fail;
	/* The certificate only: the private key is the key process's, used
	 * through an EVP_PKEY that forwards (keypkey.c). */
	if (SSL_CTX_use_certificate_chain_file(c, gw->conf.inner_cert) != 1 ||
	    (r = keypkey_new(SSL_CTX_get0_certificate(c), &pk)) != 0 ||
	    SSL_CTX_use_PrivateKey(c, pk) != 1 ||
	    SSL_CTX_check_private_key(c) != 1) {
		snprintf(err, errlen,
		    "inner_rdp: cannot use %s / %s (PEM "
		    "certificate and the matching unencrypted EC or RSA key, "
		    "held by the key process)",
		    gw->conf.inner_cert, gw->conf.inner_key);
		EVP_PKEY_free(pk);
		SSL_CTX_free(c);
		return VDI_ERR_CERT_LOAD;
	}
	EVP_PKEY_free(pk); /* the context keeps its reference */
	gw->inner_ctx = c;
	return 0;
fail:
	SSL_CTX_free(c);
	snprintf(err, errlen, "inner_rdp: TLS context failed");
	return VDI_ERR_TLS;
}

static int
desktop_ctxs_new(struct gw *gw, char *err, size_t errlen)
{
	struct vdi_tls_config tc;
	struct vdi_tls_ca ca;
	int r;

	memset(&tc, 0, sizeof(tc));
	tc.role = VDI_TLS_CLIENT;
	tc.flags = VDI_TLS_VERIFY_NONE; /* the pin is checked instead */
	if ((r = vdi_tls_ctx_new(&tc, &gw->desk_pin_ctx, err, errlen)) != 0)
		return r;
	if (gw->conf.desktop_ca[0] == '\0')
		return 0;
	memset(&ca, 0, sizeof(ca));
	ca.name = "desktops";
	ca.ca_file = gw->conf.desktop_ca;
	tc.flags = 0;
	tc.cas = &ca;
	tc.ncas = 1;
	return vdi_tls_ctx_new(&tc, &gw->desk_ca_ctx, err, errlen);
}

/* Each public key gets its RFC 7638 thumbprint as kid, so tokens that
 * name a kid find it; tokens without one try every key (rotation). */
static int
load_keys(struct gw *gw, char *err, size_t errlen)
{
	unsigned char raw[JWS_PUBKEY_LEN];
	char kid[JWS_THUMBPRINT_LEN + 1];
	struct jws_key *k;
	size_t i;
	int r;

	for (i = 0; i < gw->conf.nbroker_keys; i++) {
		if ((r = jws_key_load_public(
			 gw->conf.broker_keys[i], NULL, &k, err, errlen)) != 0)
			return r;
		r = jws_key_raw_public(k, raw);
		if (r == 0)
			r = jws_key_thumbprint(k, kid, sizeof(kid));
		jws_key_free(k);
		if (r == 0)
			r = jws_key_from_public(raw, kid, &gw->keys[gw->nkeys]);
		if (r != 0) {
			snprintf(err, errlen, "%s: %s", gw->conf.broker_keys[i],
			    vdi_strerror(r));
			return r;
		}
		gw->nkeys++;
	}
	/* The seal key is the key process's alone. */
	gw->have_seal = keyclient_have_seal();
	return 0;
}

int
gw_load(struct gw *gw, char *err, size_t errlen)
{
	int r;

	if ((r = gw_load_policy_tls(gw, err, errlen)) != 0 ||
	    (r = inner_ctx_new(gw, err, errlen)) != 0 ||
	    (r = desktop_ctxs_new(gw, err, errlen)) != 0 ||
	    (r = load_keys(gw, err, errlen)) != 0)
		return r;
	return 0;
}
