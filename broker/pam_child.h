/*
 * pam_child.h: one PAM conversation in its own process.
 *
 * The monitor forks a PAM child per login (monitor.c). The child keeps
 * the monitor's privileges (pam_unix reads /etc/shadow), runs
 *
 *   pam_start(service, user) ; PAM_RHOST = rhost
 *   pam_authenticate(PAM_DISALLOW_NULL_AUTHTOK)
 *   pam_acct_mgmt(PAM_DISALLOW_NULL_AUTHTOK)
 *
 * and relays every batch of PAM messages to the worker over its socket
 * (PAMMSG_PROMPTS), waiting for PAMMSG_ANSWERS when the batch has
 * prompts, then sends PAMMSG_RESULT with the final PAM_USER to the monitor
 * (report_fd) and then to the worker, and exits. It
 * never opens a PAM session and never sets credentials: the broker
 * authenticates, it does not log anyone in on this host.
 *
 * A malformed or unexpected message from the worker, a wrong number of
 * answers, or conv_timeout seconds without answers ends the conversation
 * (PAM_CONV_ERR to the modules, then exit); after pam_timeout seconds in
 * total SIGALRM ends the child whatever the modules are doing.
 */
#ifndef VDI_BROKER_PAM_CHILD_H
#define VDI_BROKER_PAM_CHILD_H

#include "pammsg.h"

struct pam_child_args {
	const char *service; /* checked with pammsg_check_service() */
	const char *user;
	const char *rhost; /* "" for none */
	int fd;            /* the child's end of the conversation socket */
	int report_fd;     /* socket to the monitor: the RESULT goes there
			      first, so the monitor knows what it signs for */
	unsigned int conv_timeout; /* seconds */
	unsigned int pam_timeout;  /* seconds */
};

/* Runs the conversation and ends the process with _exit(): 0 when a result
 * was sent, 1 otherwise. Call it only in a freshly forked child whose
 * other descriptors are closed. */
void pam_child_run(const struct pam_child_args *a) __attribute__((noreturn));

/* Maps a PAM return code to enum pammsg_status: PAM_SUCCESS -> OK;
 * PAM_AUTH_ERR, PAM_USER_UNKNOWN -> AUTH_FAILED; PAM_ACCT_EXPIRED ->
 * ACCOUNT_EXPIRED; PAM_NEW_AUTHTOK_REQD, PAM_AUTHTOK_EXPIRED ->
 * PASSWORD_EXPIRED; PAM_PERM_DENIED, PAM_MAXTRIES -> ACCOUNT_LOCKED;
 * anything else -> PAM_ERROR. */
int pam_child_status(int pam_code);

#endif
