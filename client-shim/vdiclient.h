/*
 * vdiclient.h: libvdiclient, the device side of the VDI service in a small
 * C API that a tablet application can embed (vdi-connect(1) is built on it).
 *
 *   struct vdic_config *cfg;  struct vdic *c;
 *   vdic_config_load("/etc/vdi/connect.conf", &cfg, err, sizeof(err));
 *   vdic_new(cfg, &c);
 *   vdic_set_prompt_cb(c, ask, app);     PAM prompts (password, OTP...)
 *   vdic_set_event_cb(c, show, app);     messages and progress
 *   st = vdic_login(c, "alice");         VDIC_OK or why not (vdic_message)
 *   st = vdic_connect(c);                tunnel + RDP client + reconnects,
 *                                        returns when the session ends
 *   vdic_free(c); vdic_config_free(cfg);
 *
 * The library holds the device certificate, logs the person in at the
 * broker (HTTPS with the device certificate), opens the tunnel to the
 * gateway with the same certificate, offers it to the RDP client it
 * launches on a loopback port that accepts only that client, and tunnels
 * again with the broker's reconnect ticket when the tunnel drops. Secrets
 * (answers to prompts, tokens, tickets, the PKCS#12 passphrase) are wiped
 * after use and never logged or passed to the RDP client.
 *
 * Every function returns a status below; VDIC_OK is 0 and the others are
 * also vdi-connect's exit codes. After a failure vdic_message() holds a
 * sentence a field worker can act on. Not thread-safe, except
 * vdic_cancel(), which may be called from any thread or a signal handler.
 */
#ifndef VDI_CLIENT_H
#define VDI_CLIENT_H

#include <stddef.h>

/*
 * The statuses: what a call returns and vdi-connect's exit code (the
 * values are documented in vdi-connect(1) and never change), with the
 * short English description vdic_status_str() gives. The one list of
 * them: X(name, value, description).
 */
#define VDIC_STATUS_TABLE(X)                                                   \
	/* logged in / session ended normally */                               \
	X(VDIC_OK, 0, "ok")                                                    \
	/* a bug or the system failed */                                       \
	X(VDIC_ERR_INTERNAL, 1, "internal error")                              \
	/* bad configuration or usage */                                       \
	X(VDIC_ERR_CONFIG, 2, "usage or configuration error")                  \
	/* wrong password or code, locked, rate limited */                     \
	X(VDIC_ERR_AUTH, 3, "authentication failed")                           \
	/* device certificate revoked, expired... */                           \
	X(VDIC_ERR_DEVICE, 4, "device problem")                                \
	/* outside hours, network or user not allowed */                       \
	X(VDIC_ERR_POLICY, 5, "refused by policy")                             \
	/* no desktop available */                                             \
	X(VDIC_ERR_NO_DESKTOP, 6, "no desktop available")                      \
	/* broker unreachable or not answering */                              \
	X(VDIC_ERR_BROKER, 7, "broker unreachable")                            \
	/* tunnel lost and reconnecting failed */                              \
	X(VDIC_ERR_GAVE_UP, 8, "gave up reconnecting")                         \
	/* gateway refused or unreachable at start */                          \
	X(VDIC_ERR_GATEWAY, 9, "gateway refused or unreachable")               \
	/* the RDP client could not run */                                     \
	X(VDIC_ERR_CLIENT, 10, "RDP client failed")                            \
	/* the person cancelled the login */                                   \
	X(VDIC_ERR_CANCELLED, 11, "cancelled")                                 \
	/* a newer login took the session over */                              \
	X(VDIC_ERR_REPLACED, 12, "replaced by a newer connection")             \
	/* the session reached its time limit (the policy's max_session) */    \
	X(VDIC_ERR_TIME_LIMIT, 13, "session time limit reached")               \
	/* the organisation's revocation list (CRL) has expired: the broker    \
	 * or gateway refuses every device of the tenant until IT publishes a  \
	 * new one */                                                          \
	X(VDIC_ERR_CRL_EXPIRED, 14, "organisation's revocation list expired")

enum vdic_status {
#define VDIC_STATUS_ENUM(name, value, text) name = value,
	VDIC_STATUS_TABLE(VDIC_STATUS_ENUM)
#undef VDIC_STATUS_ENUM
};

/* Prompt styles of a PAM conversation. */
enum vdic_prompt_style {
	VDIC_PROMPT_ECHO_OFF = 0, /* secret: do not show what is typed */
	VDIC_PROMPT_ECHO_ON,      /* e.g. a user name */
};

/* Asks the person: text is the prompt ("Password: "); the answer goes into
 * answer (answer_size bytes, NUL-terminated, without a line end). Return 0,
 * or non-zero to cancel the login. The library wipes answer afterwards. */
typedef int (*vdic_prompt_cb)(void *arg, enum vdic_prompt_style style,
    const char *text, char *answer, size_t answer_size);

enum vdic_event_type {
	VDIC_EV_INFO = 0,  /* a message to show (from PAM or the broker) */
	VDIC_EV_ERROR,     /* an error message from PAM */
	VDIC_EV_LOGGED_IN, /* text: desktop name */
	VDIC_EV_CONNECTED, /* the RDP client is connected through the tunnel */
	VDIC_EV_DROPPED,   /* the tunnel dropped */
	VDIC_EV_RECONNECTING, /* attempt number in attempt */
	VDIC_EV_RECONNECTED,  /* elapsed_ms since the drop */
	VDIC_EV_GAVE_UP,      /* reconnecting failed; text says why */
	VDIC_EV_ENDED,        /* the session ended (client closed or cancel) */
};

struct vdic_event {
	enum vdic_event_type type;
	const char *text; /* never NULL; valid during the callback */
	unsigned int attempt;
	long elapsed_ms;
};

typedef void (*vdic_event_cb)(void *arg, const struct vdic_event *ev);

struct vdic_config;
struct vdic;

/* Reads a connect.conf(5) file. Returns VDIC_OK and sets *out (free with
 * vdic_config_free), or VDIC_ERR_CONFIG with every problem as
 * "FILE:LINE: KEY: problem" lines in err (errlen bytes). */
int vdic_config_load(
    const char *path, struct vdic_config **out, char *err, size_t errlen);
void vdic_config_free(struct vdic_config *cfg);

/* Opens everything a connection will use, as vdi-connect -t does: the CA
 * file, the device certificate and key or the PKCS#12 file with its
 * passphrase (and their validity dates), and the RDP command. Returns
 * VDIC_OK, or the status a connection would end with (VDIC_ERR_CONFIG,
 * VDIC_ERR_DEVICE) with the problem in err. */
int vdic_config_check(const struct vdic_config *cfg, char *err, size_t errlen);

/* The user name configured for this device (NULL when none). Borrowed. */
const char *vdic_config_user(const struct vdic_config *cfg);

/* Makes a client for cfg (which must outlive it). Returns VDIC_OK or
 * VDIC_ERR_INTERNAL. Free with vdic_free(). */
int vdic_new(const struct vdic_config *cfg, struct vdic **out);
void vdic_free(struct vdic *c);

void vdic_set_prompt_cb(struct vdic *c, vdic_prompt_cb cb, void *arg);
void vdic_set_event_cb(struct vdic *c, vdic_event_cb cb, void *arg);

/* With on != 0 the desktop session is ended at the broker (logoff) when
 * vdic_connect() returns after a normal end or a cancel. */
void vdic_set_logoff(struct vdic *c, int on);

/* Logs user in: POST /v1/login and the PAM conversation through the
 * prompt callback. Returns VDIC_OK, or a status with vdic_message(). */
int vdic_login(struct vdic *c, const char *user);

/* After vdic_login(): opens the tunnel, launches the RDP client and keeps
 * the session running, tunnelling again with the reconnect ticket when the
 * tunnel drops. Returns when the client is closed or vdic_cancel() was
 * called (VDIC_OK), or on failure (VDIC_ERR_GATEWAY, VDIC_ERR_CLIENT,
 * VDIC_ERR_GAVE_UP, VDIC_ERR_REPLACED when a newer login took the session,
 * ...). */
int vdic_connect(struct vdic *c);

/* One reconnect at the broker with the ticket (new token and ticket),
 * without tunnelling. Returns VDIC_OK or a status with vdic_message(). */
int vdic_reconnect(struct vdic *c);

/* Ends the session at the broker (POST /v1/logoff). */
int vdic_logoff(struct vdic *c);

/* Asks vdic_connect() (or a login in progress) to stop. Async-signal-safe. */
void vdic_cancel(struct vdic *c);

/* The last message for the person (never NULL; "" when none). */
const char *vdic_message(const struct vdic *c);

/* A short English description of a status ("device problem"); "internal
 * error" for a value not in VDIC_STATUS_TABLE. */
const char *vdic_status_str(int status);

#endif
