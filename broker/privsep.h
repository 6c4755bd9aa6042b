/*
 * privsep.h: the broker's privilege separation (OpenSSH's monitor
 * pattern) and the worker's side of PAM conversations, signing and
 * sealing. docs/privsep.md has the picture; pammsg.h the wire format.
 *
 *   monitor (root, the process that called privsep_start())
 *     holds: the Ed25519 token signing key, the AES-256-GCM seal key
 *     does:  forks PAM children, signs claims, seals credentials;
 *            never reads HTTP or TLS; serves requests one at a time;
 *            signs only for logins its own PAM children reported as
 *            successful, and reconnects of sessions it granted itself
 *   worker (unprivileged child, returns from privsep_start())
 *     holds: no signing or seal key, ever (they are loaded after the fork,
 *            in the monitor only)
 *     does:  everything network-facing (the lead's evhttp loop)
 *   PAM child (root, one per login, forked by the monitor)
 *     runs pam_start/pam_authenticate/pam_acct_mgmt for one user and
 *     talks to the worker over its own socket, then exits
 *
 * When the worker exits, the monitor reaps it and exits with the same
 * status; when the monitor dies, the worker gets SIGTERM
 * (PR_SET_PDEATHSIG) and every later request fails. PAM children die with
 * the monitor and end when the worker closes their socket.
 *
 * Every function here is for the worker. None is thread-safe: one
 * struct privsep per process, used from one thread (the event loop).
 * Monitor requests (privsep_pam_begin, privsep_sign, privsep_seal) are
 * synchronous round trips over a local socket: the monitor does a fork, a
 * signature or an AES-GCM operation and answers at once (tens of
 * microseconds to a few milliseconds), so calling them from the event
 * loop is acceptable. The PAM conversation itself, which waits for people,
 * never blocks: its socket is non-blocking and driven by the caller.
 */
#ifndef VDI_BROKER_PRIVSEP_H
#define VDI_BROKER_PRIVSEP_H

#include <stddef.h>

#include <jansson.h>

#include "pammsg.h"
#include "vbuf.h"
#include "vdierr.h"

/* Defaults used when a privsep_config field is 0. */
#define PRIVSEP_CONV_TIMEOUT      120 /* s without answers: PAM child ends */
#define PRIVSEP_PAM_TIMEOUT       600 /* s for a whole PAM child, at most */
#define PRIVSEP_MAX_CONVERSATIONS 64  /* PAM children alive at once */
#define PRIVSEP_TOKEN_LIFETIME    60  /* largest exp - iat the monitor signs */
#define PRIVSEP_CLOCK_SKEW        60  /* |iat - monitor's clock| allowed */
/* s after a PAM success within which its one login token may be signed */
#define PRIVSEP_LOGIN_WINDOW 60
/* s after a login that its grant still lets reconnects be signed (the
 * largest max_session a policy may set) */
#define PRIVSEP_GRANT_LIFETIME (30 * 86400)
/* The monitor's login id (hex + NUL) and a grant (text + NUL). */
#define PRIVSEP_LOGIN_ID_SIZE (PAMMSG_LOGIN_ID_LEN + 1)
#define PRIVSEP_GRANT_SIZE    (PAMMSG_GRANT_MAX + 1)
/* How long the worker waits for one monitor reply, in milliseconds. */
#define PRIVSEP_REQUEST_TIMEOUT_MS 10000
/* Seal key: AES-256, and the GCM nonce and tag sizes. */
#define PRIVSEP_SEAL_KEY_LEN   32
#define PRIVSEP_SEAL_NONCE_LEN 12
#define PRIVSEP_SEAL_TAG_LEN   16

struct privsep_config {
	/* Account the worker runs as when started as root (required then;
	 * must not be root). group NULL: the user's primary group. Ignored
	 * (with a log line) when not started as root, e.g. in tests. */
	const char *user;
	const char *group;
	/* Ed25519 private key, PEM PKCS#8; NULL: SIGN requests are refused.
	 * kid NULL: tokens carry no kid. */
	const char *signing_key_path;
	const char *signing_kid;
	/* AES-256-GCM key: 32 raw bytes, or 43 characters of base64url
	 * (trailing newline allowed); NULL: SEAL requests are refused. */
	const char *seal_key_path;
	/* NULL-terminated list of PAM services the worker may name; NULL
	 * allows any syntactically valid service. Set it: a worker taken
	 * over must not pick a service whose stack is weaker. */
	const char *const *pam_services;
	/* Re-reads the PAM services, in the monitor, from a file the monitor
	 * reads itself (the policy): called on SIGHUP before the signal is
	 * passed on to the worker, and when the worker names a service that
	 * is not listed (at most once a second; `vdictl policy reload`
	 * reloads the worker only). Returns a new NULL-terminated list in one
	 * allocation (free() frees it), or NULL to keep the current one.
	 * NULL: the list given at start stays. */
	char **(*reload_services)(void *arg);
	void *reload_arg;
	/* Limits; 0 means the default above. */
	unsigned int conv_timeout;
	unsigned int pam_timeout;
	unsigned int max_conversations;
	unsigned int token_lifetime;
	unsigned int clock_skew;
	unsigned int grant_lifetime;
};

/* Who logs in, as the worker tells the monitor before PAM runs. The
 * monitor signs a login token only with sub = the user PAM reported,
 * tid = tenant and cnf = device. */
struct privsep_login {
	const char *service; /* PAM service of the tenant */
	const char *user;    /* the name the person typed */
	const char *rhost;   /* PAM_RHOST; NULL or "" for none */
	const char *tenant;  /* pammsg_check_tenant() */
	const char *device;  /* base64url SHA-256 of the device certificate */
};

struct privsep;

/* Forks the monitor and the worker. Call it early, before opening
 * network sockets, starting threads or loading any key the worker must
 * not have.
 *
 * In the calling process, which becomes the monitor, it does not return:
 * it loads the keys, serves the worker, and when the worker has exited it
 * calls exit() with the worker's exit status (128 + signal number when
 * the worker was killed; 1 when a key could not be loaded). SIGTERM,
 * SIGINT, SIGHUP, SIGUSR1 and SIGUSR2 sent to the monitor are forwarded
 * to the worker (so `kill -HUP` on the daemon's main pid reaches the
 * worker's policy reload).
 *
 * In the worker it returns 0 and *out, after: no core dumps and not
 * dumpable (prctl PR_SET_DUMPABLE 0, RLIMIT_CORE 0) in both processes;
 * privileges dropped when started as root (setgroups, setresgid,
 * setresuid, then verified that root cannot be regained); parent death
 * signal SIGTERM; and the monitor's report that its keys loaded. On
 * failure it returns VDI_ERR_INVALID_ARG (bad config), VDI_ERR_NOT_FOUND
 * (unknown user or group), VDI_ERR_SYSTEM, VDI_ERR_DENIED (privileges
 * could not be dropped), VDI_ERR_CERT_LOAD / VDI_ERR_CONFIG (the monitor
 * could not load a key), VDI_ERR_IO / VDI_ERR_TIMEOUT (the monitor did
 * not answer); when the fork has happened, the caller should exit. The
 * caller frees *out with privsep_free(). */
int privsep_start(
    const struct privsep_config *cfg, struct privsep **out) VDI_WUR;

/* Closes the worker's end of the monitor socket (the monitor then waits
 * for the worker to exit) and frees ps. NULL is accepted. */
void privsep_free(struct privsep *ps);

/* The worker's monitor socket, e.g. to watch for the monitor's death with
 * an EV_READ|EV_CLOSED event (nothing is ever sent unasked). */
int privsep_fd(const struct privsep *ps);

/* --- PAM conversations ---------------------------------------------------- */

/* Asks the monitor for a PAM child for who->user on who->service, with
 * PAM_RHOST who->rhost, and stores the worker's end of the new
 * conversation socket in *conv_fd (non-blocking, close-on-exec; the
 * caller closes it, which also ends the child) and the monitor's id of
 * this login in login_id (may be NULL), which privsep_sign_login() needs
 * after PAM succeeded. Returns 0,
 * VDI_ERR_INVALID_ARG / VDI_ERR_BAD_FORMAT / VDI_ERR_TOO_LARGE (a field
 * breaks the rules of pammsg.h; checked before anything is sent),
 * VDI_ERR_DENIED (service not allowed, too many conversations, or too
 * many successful logins not yet signed for),
 * VDI_ERR_SYSTEM (the monitor could not fork, or this process is out of
 * descriptors and could not receive the socket: errno EMFILE; ps stays
 * usable and a later call can succeed), VDI_ERR_IO /
 * VDI_ERR_TIMEOUT (monitor gone or silent: ps is unusable from then on).
 *
 * Then, for each readable event on *conv_fd, call privsep_pam_read()
 * until it returns VDI_ERR_NEED_MORE. */
int privsep_pam_begin(struct privsep *ps, const struct privsep_login *who,
    char login_id[PRIVSEP_LOGIN_ID_SIZE], int *conv_fd) VDI_WUR;

/* Reads what conv_fd has (never blocks) into in (a vbuf the caller keeps
 * per conversation, PAMMSG_FRAME_MAX + PAMMSG_HEADER_LEN bytes or more)
 * and decodes the next message from the PAM child into out. Returns:
 *   0                  out is PAMMSG_PROMPTS or PAMMSG_RESULT. For
 *                      PROMPTS with pammsg_prompt_count() > 0 the child
 *                      now waits for privsep_pam_answer(); with 0 (only
 *                      info or error texts) it goes on by itself: keep
 *                      reading and show the texts with the next batch.
 *                      RESULT is the end: close conv_fd.
 *   VDI_ERR_NEED_MORE  nothing complete yet: wait until readable.
 *   VDI_ERR_IO         the child closed the socket (it ended, timed out,
 *                      or refused our last message);
 *   VDI_ERR_SYSTEM, or a pammsg_parse() error, or VDI_ERR_BAD_FORMAT for
 *                      a message of another type: the conversation is
 *                      over, close conv_fd.
 * Call again after 0 before waiting: several messages may have arrived
 * in one read. */
int privsep_pam_read(int conv_fd, struct vbuf *in, struct pammsg *out) VDI_WUR;

/* Sends the answers to the last batch: n must equal its
 * pammsg_prompt_count(), or the child ends the conversation. Answers are
 * NUL-terminated, at most PAMMSG_ANSWER_MAX bytes each. The copy made for
 * sending is wiped; the caller wipes its own. Returns 0, a
 * pammsg_encode_answers() error, VDI_ERR_IO or VDI_ERR_TIMEOUT (child
 * gone or not reading: close conv_fd). Waits at most one second for
 * socket space, which a child that asked a question always has. */
int privsep_pam_answer(
    int conv_fd, const char *const *answers, size_t n) VDI_WUR;

/* Called by privsep_pam_converse() for each batch that has prompts: fill
 * answers (type PAMMSG_ANSWERS is set; set n and the strings) and return
 * 0, or an error to abandon the conversation. */
typedef int (*privsep_answer_fn)(
    void *arg, const struct pammsg *prompts, struct pammsg *answers);

/* Whole conversation, blocking: for tests and command-line tools, never
 * for the event loop. Calls answer_fn for every batch with prompts, and
 * info_fn (may be NULL) for every batch without. Stores the RESULT in
 * *result and the login id in login_id (may be NULL). Returns 0 when a
 * result arrived (look at result->u.result.status), or the first error. */
int privsep_pam_converse(struct privsep *ps, const struct privsep_login *who,
    privsep_answer_fn answer_fn, privsep_answer_fn info_fn, void *arg,
    struct pammsg *result, char login_id[PRIVSEP_LOGIN_ID_SIZE]) VDI_WUR;

/* --- keys held by the monitor --------------------------------------------- */

/* Has the monitor sign claims (a JSON object) as a compact JWS (see
 * jws.h) for the login login_id (from privsep_pam_begin()) and stores the
 * new NUL-terminated token in *token (the caller frees it with free())
 * and the monitor's grant for the session in grant: store it with the
 * session, privsep_sign_reconnect() needs it. The monitor signs once per
 * login, only when its PAM child reported success at most
 * PRIVSEP_LOGIN_WINDOW seconds ago, and only when the claims' sub is the
 * user PAM ended with, tid and cnf.x5t#S256 the tenant and device of
 * PAM_START; sid and dst must be present (the grant binds them).
 * Refusals: VDI_ERR_DENIED (logged by the monitor with the reason),
 * VDI_ERR_TOKEN_CLAIM (iat/exp missing, exp <= iat, exp - iat >
 * token_lifetime, iat further than clock_skew from its clock, or a bound
 * claim missing), VDI_ERR_NOT_FOUND (no signing key). Other returns:
 * VDI_ERR_INVALID_ARG, VDI_ERR_JSON, VDI_ERR_TOO_LARGE (claims over
 * PAMMSG_CLAIMS_MAX serialized), VDI_ERR_ALLOC, VDI_ERR_IO /
 * VDI_ERR_TIMEOUT (monitor gone). */
int privsep_sign_login(struct privsep *ps, const char *login_id,
    const json_t *claims, char **token, char grant[PRIVSEP_GRANT_SIZE]) VDI_WUR;

/* The same for a reconnect: grant is what privsep_sign_login() returned
 * for the session's login. The monitor verifies its own signature on it
 * over the claims' sid, sub, tid, cnf.x5t#S256 and dst, and that the login
 * is at most grant_lifetime old; else VDI_ERR_DENIED. Works after a
 * restart and on any broker holding the same signing key. */
int privsep_sign_reconnect(struct privsep *ps, const char *grant,
    const json_t *claims, char **token) VDI_WUR;

/* Has the monitor seal len bytes of plain (1..PAMMSG_SEAL_PLAIN_MAX) with
 * AES-256-GCM under the seal key, binding aad (NUL-terminated, may be
 * NULL for none; the token's jti for the `cred` claim). Stores in *sealed
 * a new NUL-terminated base64url text of nonce (12 random bytes) ||
 * ciphertext || tag (16 bytes); the caller frees it with free(). The copy
 * of plain made for sending is wiped. Returns 0, VDI_ERR_INVALID_ARG,
 * VDI_ERR_TOO_LARGE, VDI_ERR_NOT_FOUND (no seal key), VDI_ERR_TLS,
 * VDI_ERR_ALLOC, VDI_ERR_IO / VDI_ERR_TIMEOUT. */
int privsep_seal(struct privsep *ps, const void *plain, size_t len,
    const char *aad, char **sealed) VDI_WUR;

/* --- frame I/O shared with the monitor and the PAM child ------------------ */

/* Reads from fd into in until one message parses into out, or
 * timeout_ms (< 0: no limit) passes. Returns 0, VDI_ERR_TIMEOUT,
 * VDI_ERR_IO (end of file), VDI_ERR_SYSTEM, or a pammsg_parse() error. */
int privsep_read_msg(
    int fd, struct vbuf *in, struct pammsg *out, int timeout_ms) VDI_WUR;

/* Writes all unread bytes of buf to fd (consuming them), waiting at most
 * timeout_ms for socket space. Returns 0, VDI_ERR_TIMEOUT, VDI_ERR_IO
 * (peer gone) or VDI_ERR_SYSTEM. */
int privsep_write_all(int fd, struct vbuf *buf, int timeout_ms) VDI_WUR;

#endif
