/* pam_child.c: one PAM conversation in its own process (see pam_child.h). */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include <openssl/crypto.h>

#include "pam_child.h"
#include "privsep.h"
#include "vlog.h"

#define FRAME_BUF (PAMMSG_HEADER_LEN + PAMMSG_FRAME_MAX)
/* How long the child waits to hand its result to a slow worker. */
#define RESULT_WRITE_MS 5000

struct conv_state {
	int fd;
	struct vbuf *in;
	struct vbuf *out;
	int timeout_ms;
	int broken; /* no more conversation: timeout or bad worker */
	int timed_out;
	unsigned int batches;
};

int
pam_child_status(int pam_code)
{
	switch (pam_code) {
	case PAM_SUCCESS:
		return PAMMSG_STATUS_OK;
	case PAM_AUTH_ERR:
	case PAM_USER_UNKNOWN:
		return PAMMSG_STATUS_AUTH_FAILED;
	case PAM_ACCT_EXPIRED:
		return PAMMSG_STATUS_ACCOUNT_EXPIRED;
	case PAM_NEW_AUTHTOK_REQD:
	case PAM_AUTHTOK_EXPIRED:
		return PAMMSG_STATUS_PASSWORD_EXPIRED;
	case PAM_PERM_DENIED:
	case PAM_MAXTRIES:
		return PAMMSG_STATUS_ACCOUNT_LOCKED;
	}
	return PAMMSG_STATUS_PAM_ERROR;
}

static int
style_from_pam(int style)
{
	switch (style) {
	case PAM_PROMPT_ECHO_OFF:
		return PAMMSG_ECHO_OFF;
	case PAM_PROMPT_ECHO_ON:
		return PAMMSG_ECHO_ON;
	case PAM_ERROR_MSG:
		return PAMMSG_ERROR_MSG;
	case PAM_TEXT_INFO:
		return PAMMSG_TEXT_INFO;
	}
	return -1;
}

static void
free_responses(struct pam_response *rs, int n)
{
	int i;

	if (rs == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (rs[i].resp != NULL) {
			OPENSSL_cleanse(rs[i].resp, strlen(rs[i].resp));
			free(rs[i].resp);
		}
	}
	free(rs);
}

/* The PAM conversation function: one batch out, its answers back. */
static int
conv_fn(int num_msg, const struct pam_message **msg, struct pam_response **resp,
    void *appdata)
{
	struct conv_state *cs = appdata;
	struct pammsg *m = NULL, *a = NULL;
	struct pam_response *rs = NULL;
	size_t nprompts, k;
	int i, style, r, ret = PAM_CONV_ERR;

	/* Some modules pass no resp for text-only batches (pam_matrix). */
	if (resp != NULL)
		*resp = NULL;
	if (cs->broken || num_msg <= 0 || num_msg > PAMMSG_MSGS_MAX ||
	    msg == NULL)
		return PAM_CONV_ERR;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (a = calloc(1, sizeof(*a))) == NULL ||
	    (rs = calloc((size_t)num_msg, sizeof(*rs))) == NULL) {
		ret = PAM_BUF_ERR;
		goto out;
	}
	m->type = PAMMSG_PROMPTS;
	m->u.prompts.n = (size_t)num_msg;
	for (i = 0; i < num_msg; i++) {
		if (msg[i] == NULL ||
		    (style = style_from_pam(msg[i]->msg_style)) < 0) {
			vlog(VLOG_WARNING, "pam_conv_refused",
			    "reason=unsupported_style");
			goto out;
		}
		m->u.prompts.msg[i].style = (uint8_t)style;
		pammsg_sanitize(msg[i]->msg, m->u.prompts.msg[i].text,
		    sizeof(m->u.prompts.msg[i].text));
	}
	if ((nprompts = pammsg_prompt_count(m)) > 0 && resp == NULL)
		goto out;
	vbuf_reset(cs->out);
	if ((r = pammsg_encode(cs->out, m)) != 0 ||
	    (r = privsep_write_all(cs->fd, cs->out, cs->timeout_ms)) != 0) {
		vlog(VLOG_INFO, "pam_conv_end", "reason=write error=%s",
		    vdi_errname(r));
		cs->broken = 1;
		cs->timed_out = r == VDI_ERR_TIMEOUT;
		goto out;
	}
	cs->batches++;
	if (nprompts > 0) {
		r = privsep_read_msg(cs->fd, cs->in, a, cs->timeout_ms);
		if (r == 0 &&
		    (a->type != PAMMSG_ANSWERS || a->u.answers.n != nprompts ||
			vbuf_len(cs->in) != 0))
			r = VDI_ERR_BAD_FORMAT;
		vbuf_wipe(cs->in);
		if (r != 0) {
			/* Timeout, worker gone, or a bad message: over. */
			cs->broken = 1;
			cs->timed_out = r == VDI_ERR_TIMEOUT;
			vlog(VLOG_INFO, "pam_conv_end", "reason=%s error=%s",
			    cs->timed_out         ? "timeout"
				: r == VDI_ERR_IO ? "worker_closed"
						  : "bad_answers",
			    vdi_errname(r));
			goto out;
		}
		for (i = 0, k = 0; i < num_msg; i++) {
			if (m->u.prompts.msg[i].style != PAMMSG_ECHO_OFF &&
			    m->u.prompts.msg[i].style != PAMMSG_ECHO_ON)
				continue;
			if ((rs[i].resp = strdup(a->u.answers.answer[k++])) ==
			    NULL) {
				ret = PAM_BUF_ERR;
				goto out;
			}
		}
	}
	if (resp != NULL) {
		*resp = rs;
		rs = NULL;
	}
	ret = PAM_SUCCESS;
out:
	free_responses(rs, num_msg);
	pammsg_clear(a);
	free(a);
	pammsg_clear(m);
	free(m);
	return ret;
}

static int
send_result(struct conv_state *cs, int fd, int status, const char *user)
{
	struct pammsg *m;
	int r;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return VDI_ERR_ALLOC;
	m->type = PAMMSG_RESULT;
	m->u.result.status = (uint8_t)status;
	if (status == PAMMSG_STATUS_OK)
		snprintf(
		    m->u.result.user, sizeof(m->u.result.user), "%s", user);
	vbuf_reset(cs->out);
	if ((r = pammsg_encode(cs->out, m)) == 0)
		r = privsep_write_all(fd, cs->out, RESULT_WRITE_MS);
	vbuf_wipe(cs->out);
	pammsg_clear(m);
	free(m);
	return r;
}

void
pam_child_run(const struct pam_child_args *a)
{
	struct conv_state cs;
	struct pam_conv conv;
	pam_handle_t *pamh = NULL;
	const void *item = NULL;
	char user[PAMMSG_USER_MAX + 1] = "";
	char qservice[96], quser[PAMMSG_USER_MAX * 4 + 3], qrhost[300];
	char qfinal[PAMMSG_USER_MAX * 4 + 3], qpam[160];
	int pr, status, r, sent = 0;

	memset(&cs, 0, sizeof(cs));
	cs.fd = a->fd;
	cs.timeout_ms = (int)a->conv_timeout * 1000;
	alarm(a->pam_timeout);
	vlog_quote(a->service, qservice, sizeof(qservice));
	vlog_quote(a->user, quser, sizeof(quser));
	vlog_quote(a->rhost, qrhost, sizeof(qrhost));
	if ((cs.in = vbuf_new(FRAME_BUF)) == NULL ||
	    (cs.out = vbuf_new(FRAME_BUF)) == NULL) {
		vlog(VLOG_ERROR, "pam_child_failed", "reason=alloc");
		_exit(1);
	}

	conv.conv = conv_fn;
	conv.appdata_ptr = &cs;
	pr = pam_start(a->service, a->user, &conv, &pamh);
	if (pr == PAM_SUCCESS && a->rhost[0] != '\0')
		pr = pam_set_item(pamh, PAM_RHOST, a->rhost);
	if (pr == PAM_SUCCESS)
		pr = pam_authenticate(pamh, PAM_DISALLOW_NULL_AUTHTOK);
	if (pr == PAM_SUCCESS)
		pr = pam_acct_mgmt(pamh, PAM_DISALLOW_NULL_AUTHTOK);
	status = pam_child_status(pr);
	if (status == PAMMSG_STATUS_OK) {
		/* Modules may rename the user: report the name PAM ended
		 * with, and refuse one the worker could not handle. */
		if (pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS ||
		    item == NULL ||
		    pammsg_check_user(item, strlen(item)) != 0) {
			status = PAMMSG_STATUS_PAM_ERROR;
			vlog(VLOG_WARNING, "pam_user_refused",
			    "service=%s user=%s reason=bad_pam_user", qservice,
			    quser);
		} else
			snprintf(user, sizeof(user), "%s", (const char *)item);
	} else if (cs.timed_out)
		status = PAMMSG_STATUS_TIMEOUT;

	vlog_quote(pamh != NULL ? pam_strerror(pamh, pr) : "pam_start failed",
	    qpam, sizeof(qpam));
	vlog_quote(user, qfinal, sizeof(qfinal));
	vlog(status == PAMMSG_STATUS_OK ? VLOG_INFO : VLOG_NOTICE, "pam_result",
	    "service=%s user=%s rhost=%s result=%s pam_code=%d pam=%s "
	    "batches=%u final_user=%s",
	    qservice, quser, qrhost, pammsg_status_name(status), pr, qpam,
	    cs.batches, status == PAMMSG_STATUS_OK ? qfinal : "-");

	/* The monitor hears the result first: it signs only for what its
	 * PAM children reported. The worker learns it only afterwards, so
	 * the report is waiting when the worker asks for a signature. */
	if ((r = send_result(&cs, a->report_fd, status, user)) != 0) {
		vlog(VLOG_WARNING, "pam_report_lost", "error=%s",
		    vdi_errname(r));
		status = PAMMSG_STATUS_PAM_ERROR;
	}
	close(a->report_fd);
	/* A worker that broke the protocol gets no result: it only sees the
	 * socket close. */
	if (!cs.broken || cs.timed_out) {
		if ((r = send_result(&cs, cs.fd, status, user)) == 0)
			sent = 1;
		else
			vlog(VLOG_INFO, "pam_result_lost", "error=%s",
			    vdi_errname(r));
	}
	if (pamh != NULL)
		pam_end(pamh, pr);
	OPENSSL_cleanse(user, sizeof(user));
	vbuf_free(cs.in);
	vbuf_free(cs.out);
	close(cs.fd);
	/* _exit: this is a fork of the monitor; its atexit handlers and stdio
	 * buffers are not ours to run. */
	_exit(sent ? 0 : 1);
}
