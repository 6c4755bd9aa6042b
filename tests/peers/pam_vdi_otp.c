/*
 * pam_vdi_otp.c: a tiny PAM module for tests only, the second factor of
 * a two-prompt stack (password, then one-time code).
 *
 *   auth     required /abs/path/pam_vdi_otp.so codes=/path/file [info]
 *   account  required /abs/path/pam_vdi_otp.so [expired=USER]
 *                                              [acct_expired=USER]
 *
 * auth asks "One-time code: " with PAM_PROMPT_ECHO_ON (with `info`, in the
 * same batch after a PAM_TEXT_INFO line) and succeeds when the file has a
 * line "USER CODE" for the user with that code. An unknown user is asked
 * all the same and fails like a wrong code. account returns
 * PAM_NEW_AUTHTOK_REQD for the user named by expired= and PAM_ACCT_EXPIRED
 * for the one named by acct_expired=, PAM_SUCCESS otherwise. Codes are
 * plain text: never use this outside tests.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#include <security/pam_appl.h>
#include <security/pam_modules.h>

#define OTP_LINE_MAX 512

PAM_EXTERN int pam_sm_authenticate(
    pam_handle_t *pamh, int flags, int argc, const char **argv);
PAM_EXTERN int pam_sm_setcred(
    pam_handle_t *pamh, int flags, int argc, const char **argv);
PAM_EXTERN int pam_sm_acct_mgmt(
    pam_handle_t *pamh, int flags, int argc, const char **argv);

static const char *
arg_value(int argc, const char **argv, const char *key)
{
	size_t kl = strlen(key);
	int i;

	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], key, kl) == 0 && argv[i][kl] == '=')
			return argv[i] + kl + 1;
	}
	return NULL;
}

static int
arg_flag(int argc, const char **argv, const char *key)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], key) == 0)
			return 1;
	}
	return 0;
}

static void
wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

/* Compares without stopping at the first difference. */
static int
same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static int
ask_code(pam_handle_t *pamh, int info, char **code)
{
	const struct pam_conv *conv = NULL;
	struct pam_message m[2];
	const struct pam_message *mp[2];
	struct pam_response *resp = NULL;
	int n = 0, r, i;

	*code = NULL;
	r = pam_get_item(pamh, PAM_CONV, (const void **)&conv);
	if (r != PAM_SUCCESS || conv == NULL || conv->conv == NULL)
		return PAM_CONV_ERR;
	if (info) {
		m[n].msg_style = PAM_TEXT_INFO;
		m[n].msg = "Enter the code shown by your token.";
		n++;
	}
	m[n].msg_style = PAM_PROMPT_ECHO_ON;
	m[n].msg = "One-time code: ";
	n++;
	for (i = 0; i < n; i++)
		mp[i] = &m[i];
	r = conv->conv(n, mp, &resp, conv->appdata_ptr);
	if (r != PAM_SUCCESS || resp == NULL)
		return PAM_CONV_ERR;
	*code = resp[n - 1].resp;
	for (i = 0; i < n - 1; i++) {
		if (resp[i].resp != NULL) {
			wipe(resp[i].resp, strlen(resp[i].resp));
			free(resp[i].resp);
		}
	}
	free(resp);
	return *code == NULL ? PAM_CONV_ERR : PAM_SUCCESS;
}

static int
code_matches(const char *path, const char *user, const char *code)
{
	char line[OTP_LINE_MAX], *sp, *end;
	FILE *f;
	int ok = 0;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((end = strpbrk(line, "\r\n")) != NULL)
			*end = '\0';
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		if (strcmp(line, user) == 0 && same(sp, code))
			ok = 1;
	}
	wipe(line, sizeof(line));
	fclose(f);
	return ok;
}

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const char *user = NULL, *codes;
	char *code = NULL;
	int r;

	(void)flags;
	if ((codes = arg_value(argc, argv, "codes")) == NULL)
		return PAM_AUTHINFO_UNAVAIL;
	if ((r = pam_get_user(pamh, &user, NULL)) != PAM_SUCCESS)
		return r;
	if ((r = ask_code(pamh, arg_flag(argc, argv, "info"), &code)) !=
	    PAM_SUCCESS)
		return r;
	switch (code_matches(codes, user, code)) {
	case 1:
		r = PAM_SUCCESS;
		break;
	case 0:
		r = PAM_AUTH_ERR;
		break;
	default:
		r = PAM_AUTHINFO_UNAVAIL;
		break;
	}
	wipe(code, strlen(code));
	free(code);
	return r;
}

PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const char *user = NULL, *v;
	int r;

	(void)flags;
	if ((r = pam_get_user(pamh, &user, NULL)) != PAM_SUCCESS)
		return r;
	if ((v = arg_value(argc, argv, "expired")) != NULL &&
	    strcmp(v, user) == 0)
		return PAM_NEW_AUTHTOK_REQD;
	if ((v = arg_value(argc, argv, "acct_expired")) != NULL &&
	    strcmp(v, user) == 0)
		return PAM_ACCT_EXPIRED;
	return PAM_SUCCESS;
}
