/*
 * privsep_int.h: what the files of the privilege separation share, not
 * part of its interface (privsep.h):
 *
 *   privsep.c         start: fork into monitor and worker, drop the
 *                     worker's privileges
 *   monitor.c         the monitor process: keys, PAM children, requests
 *   monitor_sign.c    the monitor's signing and sealing, and its checks
 *   privsep_worker.c  the worker's requests and PAM conversations
 *   privsep_io.c      frames and passed descriptors on the sockets
 *   pam_child.c       the PAM child (pam_child.h)
 */
#ifndef VDI_BROKER_PRIVSEP_INT_H
#define VDI_BROKER_PRIVSEP_INT_H

#include <sys/types.h>

#include <stdint.h>

#include "jws.h"
#include "privsep.h"

#define FRAME_BUF (PAMMSG_HEADER_LEN + PAMMSG_FRAME_MAX)
/* Upper bounds for the configurable limits. */
#define CONV_TIMEOUT_MAX  3600
#define PAM_TIMEOUT_MAX   7200
#define CONVERSATIONS_MAX 4096
#define LIFETIME_MAX      86400
#define SKEW_MAX          3600
#define GRANT_AGE_MAX     (366 * 86400)
/* How long the monitor waits for a PAM child's report it knows is coming
 * (the child reports to the monitor before it answers the worker). */
#define REPORT_WAIT_MS 2000
/* The domain-separation prefix of a grant's signing input: its NUL byte
 * can never be part of a JWS signing input (base64url and a dot). */
#define GRANT_DOMAIN    "vdi-grant-v1"
#define GRANT_PREFIX    "g1."
#define GRANT_INPUT_MAX 2048

struct privsep {
	int fd;           /* worker's end of the monitor socket */
	pid_t monitor;    /* the monitor's pid */
	struct vbuf *in;  /* replies */
	struct vbuf *out; /* requests (may hold plaintext: wiped) */
	int broken;       /* framing lost or monitor gone: refuse all */
};

/* A PAM conversation the monitor started, from PAM_START until it has
 * been signed for (once) or has expired. What the monitor signs for comes
 * from here: the worker named (user, tenant, device) before PAM ran, and
 * the PAM child reported its result to the monitor itself. */
struct mon_login {
	int used;
	char id[PAMMSG_LOGIN_ID_LEN + 1];
	pid_t pid;     /* the PAM child; 0 once reaped */
	int report_fd; /* the child's report socket; -1 once read */
	int have_result;
	uint8_t status;                 /* enum pammsg_status */
	char user[PAMMSG_USER_MAX + 1]; /* PAM's final user */
	char tenant[PAMMSG_TENANT_MAX + 1];
	char device[PAMMSG_DEVICE_LEN + 1];
	int64_t done_ms; /* when the result was read (monotonic) */
};

/* The monitor's state. */
struct monitor {
	int sock; /* monitor socket, -1 once the worker closed it */
	int sigfd;
	pid_t worker;
	int worker_done;
	int worker_status;
	unsigned int children; /* PAM children alive */
	struct jws_key *sign_key;
	unsigned char seal_key[PRIVSEP_SEAL_KEY_LEN];
	int have_seal_key;
	const char *const *services;
	char **own_services; /* the last list reload_services gave */
	char **(*reload_services)(void *arg);
	void *reload_arg;
	int64_t services_loaded_ms; /* when reload_services last ran */
	unsigned int conv_timeout, pam_timeout, max_conversations;
	unsigned int token_lifetime, clock_skew, login_window;
	unsigned int grant_lifetime;
	struct mon_login *logins; /* 2 x max_conversations slots */
	size_t nlogins;
	struct vbuf *in, *out;
};

/* --- privsep_io.c --------------------------------------------------------- */

/* Reads once, without blocking, into in. A descriptor passed along is
 * stored in *passed (when passed is not NULL and *passed is -1) or
 * closed. When one was expected (passed not NULL) but the kernel could not
 * install it because this process is out of descriptors (the control data
 * comes back empty and MSG_CTRUNC set), *passed becomes PASSED_LOST and
 * the bytes still count: the stream stays in step. Returns 0 (bytes
 * read), VDI_ERR_NEED_MORE (nothing to read now), VDI_ERR_IO (end of
 * file), VDI_ERR_TOO_LARGE (in is full), VDI_ERR_BAD_FORMAT (descriptors
 * not expected or cut off) or VDI_ERR_SYSTEM. */
#define PASSED_LOST (-2)
int privsep_recv(int fd, struct vbuf *in, int *passed);
/* Reads one frame into out, waiting up to timeout_ms (-1: for ever); a
 * descriptor riding on it as for privsep_recv. */
int privsep_read_msg_fd(
    int fd, struct vbuf *in, struct pammsg *out, int timeout_ms, int *passed);
/* Sends the frame in buf with passfd riding on its first byte. */
int privsep_send_fd(int fd, struct vbuf *buf, int passfd, int timeout_ms);

/* --- privsep.c ------------------------------------------------------------ */

/* No core dumps, no ptrace by others of the same uid, no /proc/pid/mem. */
int privsep_harden(void);

/* --- monitor.c ------------------------------------------------------------ */

/* The monitor process: serves the worker on sock until it exits, then
 * exits with its status. */
void monitor_main(const struct privsep_config *cfg, int sock, pid_t worker)
    __attribute__((noreturn));
void mon_login_clear(struct mon_login *l);
/* The login the monitor started as id (expired ones swept first), with
 * its PAM child's report read (waiting up to REPORT_WAIT_MS), or NULL. */
struct mon_login *mon_login_done(struct monitor *mon, const char *id);

/* --- monitor_sign.c ------------------------------------------------------- */

/* SIGN and SEAL requests: fill rep, or return the error to send. */
int monitor_sign(
    struct monitor *mon, const struct pammsg *req, struct pammsg *rep);
int monitor_seal(
    struct monitor *mon, const struct pammsg *req, struct pammsg *rep);

#endif
