/*
 * privsep_worker.c: the worker's side of the monitor: PAM conversations
 * started by the monitor and driven here, and the signing and sealing
 * requests (see privsep.h and docs/privsep.md).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "privsep_int.h"
#include "vlog.h"

static int
set_nonblock(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return VDI_ERR_SYSTEM;
	return 0;
}

/* Sends the request in ps->out and reads the reply of type want (or
 * ERROR, whose code is returned). */
static int
request(
    struct privsep *ps, enum pammsg_type want, struct pammsg *rep, int *passed)
{
	int r, fd = -1;

	if (ps->broken) {
		vbuf_wipe(ps->out);
		return VDI_ERR_IO;
	}
	r = privsep_write_all(ps->fd, ps->out, PRIVSEP_REQUEST_TIMEOUT_MS);
	vbuf_wipe(ps->out);
	if (r == 0)
		r = privsep_read_msg_fd(ps->fd, ps->in, rep,
		    PRIVSEP_REQUEST_TIMEOUT_MS, passed != NULL ? &fd : NULL);
	if (r == 0 && vbuf_len(ps->in) != 0)
		r = VDI_ERR_BAD_FORMAT; /* nothing is sent unasked */
	if (r == 0 && fd == PASSED_LOST && rep->type == want) {
		/* The monitor answered in step, but the descriptor it sent
		 * could not be received here (EMFILE/ENFILE: the kernel
		 * dropped it, so the PAM child sees its socket close and
		 * ends). This request fails; the link is fine. */
		vlog(VLOG_WARNING, "privsep_fd_lost",
		    "reason=descriptor_limit detail=\"the worker is out of "
		    "descriptors; the request fails, later ones work\"");
		errno = EMFILE;
		return VDI_ERR_SYSTEM;
	}
	if (fd == PASSED_LOST)
		fd = -1;
	if (r == 0 && rep->type == PAMMSG_ERROR) {
		r = rep->u.error.code;
		if (strcmp(vdi_errname(r), "VDI_ERR_UNKNOWN") == 0)
			r = VDI_ERR_INTERNAL;
		if (fd >= 0)
			r = VDI_ERR_BAD_FORMAT;
		else
			return r;
	} else if (r == 0 && (rep->type != want || (passed != NULL && fd < 0)))
		r = VDI_ERR_BAD_FORMAT;
	if (r != 0) {
		if (fd >= 0)
			close(fd);
		/* The stream can no longer be trusted to be in step. */
		ps->broken = 1;
		vlog(VLOG_ERROR, "privsep_monitor_lost", "error=%s",
		    vdi_errname(r));
		if (r != VDI_ERR_TIMEOUT)
			r = VDI_ERR_IO;
		return r;
	}
	if (passed != NULL)
		*passed = fd;
	return 0;
}

int
privsep_pam_begin(struct privsep *ps, const struct privsep_login *who,
    char login_id[PRIVSEP_LOGIN_ID_SIZE], int *conv_fd)
{
	struct pammsg *m;
	const char *rhost;
	size_t sl, ul, rl, tl, dl;
	int r, fd = -1;

	if (conv_fd != NULL)
		*conv_fd = -1;
	if (login_id != NULL)
		login_id[0] = '\0';
	if (ps == NULL || who == NULL || who->service == NULL ||
	    who->user == NULL || who->tenant == NULL || who->device == NULL ||
	    conv_fd == NULL)
		return VDI_ERR_INVALID_ARG;
	rhost = who->rhost != NULL ? who->rhost : "";
	sl = strlen(who->service);
	ul = strlen(who->user);
	rl = strlen(rhost);
	tl = strlen(who->tenant);
	dl = strlen(who->device);
	if ((r = pammsg_check_service(who->service, sl)) != 0 ||
	    (r = pammsg_check_user(who->user, ul)) != 0 ||
	    (r = pammsg_check_rhost(rhost, rl)) != 0 ||
	    (r = pammsg_check_tenant(who->tenant, tl)) != 0 ||
	    (r = pammsg_check_device(who->device, dl)) != 0)
		return r;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return VDI_ERR_ALLOC;
	m->type = PAMMSG_PAM_START;
	memcpy(m->u.pam_start.service, who->service, sl);
	memcpy(m->u.pam_start.user, who->user, ul);
	memcpy(m->u.pam_start.rhost, rhost, rl);
	memcpy(m->u.pam_start.tenant, who->tenant, tl);
	memcpy(m->u.pam_start.device, who->device, dl);
	vbuf_reset(ps->out);
	if ((r = pammsg_encode(ps->out, m)) == 0 &&
	    (r = request(ps, PAMMSG_PAM_STARTED, m, &fd)) == 0 &&
	    (r = set_nonblock(fd)) != 0)
		close(fd);
	if (r == 0 && login_id != NULL)
		memcpy(login_id, m->u.pam_started.login, PRIVSEP_LOGIN_ID_SIZE);
	pammsg_clear(m);
	free(m);
	if (r == 0)
		*conv_fd = fd;
	return r;
}

int
privsep_pam_read(int conv_fd, struct vbuf *in, struct pammsg *out)
{
	int r;

	for (;;) {
		r = pammsg_parse(in, out);
		if (r == 0) {
			if (out->type == PAMMSG_PROMPTS ||
			    out->type == PAMMSG_RESULT)
				return 0;
			pammsg_clear(out);
			return VDI_ERR_BAD_FORMAT;
		}
		if (r != VDI_ERR_NEED_MORE)
			return r;
		if ((r = privsep_recv(conv_fd, in, NULL)) != 0)
			return r;
	}
}

int
privsep_pam_answer(int conv_fd, const char *const *answers, size_t n)
{
	struct vbuf *b;
	int r;

	if ((b = vbuf_new(FRAME_BUF)) == NULL)
		return VDI_ERR_ALLOC;
	if ((r = pammsg_encode_answers(b, answers, n)) == 0)
		r = privsep_write_all(conv_fd, b, 1000);
	vbuf_free(b); /* wipes */
	return r;
}

int
privsep_pam_converse(struct privsep *ps, const struct privsep_login *who,
    privsep_answer_fn answer_fn, privsep_answer_fn info_fn, void *arg,
    struct pammsg *result, char login_id[PRIVSEP_LOGIN_ID_SIZE])
{
	struct pammsg *m = NULL, *a = NULL;
	struct vbuf *in = NULL, *out = NULL;
	int fd = -1, r;

	if (result == NULL || answer_fn == NULL)
		return VDI_ERR_INVALID_ARG;
	pammsg_clear(result);
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (a = calloc(1, sizeof(*a))) == NULL ||
	    (in = vbuf_new(FRAME_BUF)) == NULL ||
	    (out = vbuf_new(FRAME_BUF)) == NULL) {
		r = VDI_ERR_ALLOC;
		goto out;
	}
	if ((r = privsep_pam_begin(ps, who, login_id, &fd)) != 0)
		goto out;
	for (;;) {
		/* The PAM child bounds the wait (conv and PAM timeouts). */
		if ((r = privsep_read_msg(fd, in, m, -1)) != 0)
			goto out;
		if (m->type == PAMMSG_RESULT) {
			*result = *m;
			break;
		}
		if (m->type != PAMMSG_PROMPTS) {
			r = VDI_ERR_BAD_FORMAT;
			goto out;
		}
		pammsg_clear(a);
		a->type = PAMMSG_ANSWERS;
		if (pammsg_prompt_count(m) == 0) {
			if (info_fn != NULL && (r = info_fn(arg, m, a)) != 0)
				goto out;
			continue;
		}
		if ((r = answer_fn(arg, m, a)) != 0)
			goto out;
		a->type = PAMMSG_ANSWERS;
		vbuf_reset(out);
		r = pammsg_encode(out, a);
		pammsg_clear(a);
		if (r != 0 || (r = privsep_write_all(fd, out, 1000)) != 0)
			goto out;
		vbuf_wipe(out);
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	pammsg_clear(m);
	pammsg_clear(a);
	free(m);
	free(a);
	vbuf_free(in);
	vbuf_free(out);
	return r;
}

static int
sign_request(struct privsep *ps, enum pammsg_sign_kind kind, const char *ref,
    const json_t *claims, char **token, char grant[PRIVSEP_GRANT_SIZE])
{
	struct pammsg *m;
	char *text = NULL;
	size_t len;
	int r;

	if (token != NULL)
		*token = NULL;
	if (grant != NULL)
		grant[0] = '\0';
	if (ps == NULL || token == NULL || ref == NULL ||
	    !json_is_object(claims))
		return VDI_ERR_INVALID_ARG;
	if (strlen(ref) > PAMMSG_GRANT_MAX)
		return VDI_ERR_TOO_LARGE;
	if ((text = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return VDI_ERR_JSON;
	if ((len = strlen(text)) > PAMMSG_CLAIMS_MAX) {
		free(text);
		return VDI_ERR_TOO_LARGE;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		free(text);
		return VDI_ERR_ALLOC;
	}
	m->type = PAMMSG_SIGN;
	m->u.sign.kind = (uint8_t)kind;
	snprintf(m->u.sign.ref, sizeof(m->u.sign.ref), "%s", ref);
	m->u.sign.len = len;
	memcpy(m->u.sign.claims, text, len);
	free(text);
	vbuf_reset(ps->out);
	if ((r = pammsg_encode(ps->out, m)) == 0 &&
	    (r = request(ps, PAMMSG_TOKEN, m, NULL)) == 0) {
		if (kind == PAMMSG_SIGN_LOGIN && m->u.token.grant[0] == '\0')
			r = VDI_ERR_BAD_FORMAT;
		else if ((*token = strdup(m->u.token.token)) == NULL)
			r = VDI_ERR_ALLOC;
		else if (grant != NULL)
			memcpy(grant, m->u.token.grant, PRIVSEP_GRANT_SIZE);
	}
	pammsg_clear(m);
	free(m);
	return r;
}

int
privsep_sign_login(struct privsep *ps, const char *login_id,
    const json_t *claims, char **token, char grant[PRIVSEP_GRANT_SIZE])
{
	if (grant == NULL) {
		if (token != NULL)
			*token = NULL;
		return VDI_ERR_INVALID_ARG;
	}
	return sign_request(
	    ps, PAMMSG_SIGN_LOGIN, login_id, claims, token, grant);
}

int
privsep_sign_reconnect(
    struct privsep *ps, const char *grant, const json_t *claims, char **token)
{
	return sign_request(
	    ps, PAMMSG_SIGN_RECONNECT, grant, claims, token, NULL);
}

int
privsep_seal(struct privsep *ps, const void *plain, size_t len, const char *aad,
    char **sealed)
{
	struct pammsg *m;
	size_t alen = aad == NULL ? 0 : strlen(aad);
	int r;

	if (sealed != NULL)
		*sealed = NULL;
	if (ps == NULL || sealed == NULL || plain == NULL || len == 0)
		return VDI_ERR_INVALID_ARG;
	if (len > PAMMSG_SEAL_PLAIN_MAX || alen > PAMMSG_SEAL_AAD_MAX)
		return VDI_ERR_TOO_LARGE;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return VDI_ERR_ALLOC;
	m->type = PAMMSG_SEAL;
	m->u.seal.plain_len = len;
	memcpy(m->u.seal.plain, plain, len);
	m->u.seal.aad_len = alen;
	if (alen > 0)
		memcpy(m->u.seal.aad, aad, alen);
	vbuf_reset(ps->out);
	r = pammsg_encode(ps->out, m);
	pammsg_clear(m);
	if (r == 0 && (r = request(ps, PAMMSG_SEALED, m, NULL)) == 0 &&
	    (*sealed = strdup(m->u.sealed.sealed)) == NULL)
		r = VDI_ERR_ALLOC;
	pammsg_clear(m);
	free(m);
	return r;
}
