/*
 * pammsg.h: the messages of the broker's privilege separation, as a pure
 * codec (bytes in, struct or verdict out; no sockets here).
 *
 * Three processes talk over AF_UNIX stream sockets (see docs/privsep.md):
 *
 *   worker  <-- monitor socket -->  monitor     (PAM_START, SIGN, SEAL)
 *   worker  <-- conversation  -->   PAM child   (PROMPTS, ANSWERS, RESULT)
 *
 * Every message is one frame (the layout of common/privmsg.h):
 *
 *   u32be  length of what follows (1..PAMMSG_FRAME_MAX)
 *   u8     type (enum pammsg_type)
 *   ...    fields of that type, in the order listed below
 *
 * with two field encodings only: u8 / i32be integers, and strings as
 * u16be length + that many bytes (no NUL terminator, no NUL inside). A
 * frame must be used up exactly by its fields.
 *
 * The fields are a fixed binary layout rather than JSON on purpose: the
 * privileged side parses them, the answers are passwords, and a binary
 * layout is parsed with vbuf in a few dozen bounded lines, with no
 * allocation, no recursion and no copy of a secret left behind in a JSON
 * library's freed memory. Only SIGN carries JSON (the claims, no secrets),
 * which the monitor parses with jansson after this codec has bounded it.
 *
 * Limits are hard: a longer field, a larger count or a larger frame is an
 * error, never silently cut. Text that the worker will show to a client
 * (prompts, the user name) is valid UTF-8 without control characters other
 * than newline and tab: pammsg_sanitize() makes PAM's text so before it is
 * encoded, and the parser refuses anything else.
 */
#ifndef VDI_BROKER_PAMMSG_H
#define VDI_BROKER_PAMMSG_H

#include <stddef.h>
#include <stdint.h>

#include "privmsg.h"
#include "vbuf.h"
#include "vdierr.h"

/* Frame header and the largest frame body (type byte + fields). */
#define PAMMSG_HEADER_LEN PRIVMSG_HEADER_LEN
#define PAMMSG_FRAME_MAX  16384
/* Messages in one PAM conversation batch, and the longest message text. */
#define PAMMSG_MSGS_MAX 8
#define PAMMSG_TEXT_MAX 512
/* Longest answer to one prompt (bytes, without NUL). */
#define PAMMSG_ANSWER_MAX 512
/* PAM service name: 1..64 of [A-Za-z0-9._-], not starting with '.'. */
#define PAMMSG_SERVICE_MAX 64
/* User name: 1..256 bytes of UTF-8 without control characters. */
#define PAMMSG_USER_MAX 256
/* Remote host: 0..255 printable ASCII characters without spaces. */
#define PAMMSG_RHOST_MAX 255
/* JSON text of the claims to sign, and the longest token returned. */
#define PAMMSG_CLAIMS_MAX 6144
#define PAMMSG_TOKEN_MAX  8192
/* SEAL: plaintext and AAD limits; the sealed text is base64url of
 * nonce (12) || ciphertext || tag (16). */
#define PAMMSG_SEAL_PLAIN_MAX 1024
#define PAMMSG_SEAL_AAD_MAX   256
#define PAMMSG_SEALED_MAX     1408
/* Tenant (same rules as a service name), device thumbprint (base64url of
 * a SHA-256: exactly 43 characters), the monitor's login id (32 lowercase
 * hex digits) and a grant (the monitor's signed record of a session it
 * signed a login for: base64url and dots). */
#define PAMMSG_TENANT_MAX   64
#define PAMMSG_DEVICE_LEN   43
#define PAMMSG_LOGIN_ID_LEN 32
#define PAMMSG_GRANT_MAX    256

enum pammsg_type {
	/* PAM child -> worker: one batch of PAM messages. When the batch
	 * holds at least one prompt the child waits for ANSWERS.
	 * Fields: u8 count (1..PAMMSG_MSGS_MAX), then count times
	 * { u8 style, string text (0..PAMMSG_TEXT_MAX, UTF-8) }. */
	PAMMSG_PROMPTS = 1,
	/* worker -> PAM child: one answer per prompt of the last batch, in
	 * order (messages that are not prompts get none).
	 * Fields: u8 count (0..PAMMSG_MSGS_MAX), count times string
	 * (0..PAMMSG_ANSWER_MAX, any byte but NUL). */
	PAMMSG_ANSWERS = 2,
	/* PAM child -> worker, last message of a conversation.
	 * Fields: u8 status (enum pammsg_status), string user (the final
	 * PAM_USER, 1..PAMMSG_USER_MAX when status is OK, else empty). */
	PAMMSG_RESULT = 3,

	/* worker -> monitor: start a PAM conversation for user of tenant on
	 * the device with that certificate thumbprint. The monitor binds a
	 * successful result to (user, tenant, device) and signs only for it.
	 * Fields: string service, string user, string rhost, string tenant,
	 * string device. */
	PAMMSG_PAM_START = 16,
	/* monitor -> worker: the conversation socket rides along with this
	 * frame (SCM_RIGHTS). Fields: string login (the monitor's id of this
	 * conversation, PAMMSG_LOGIN_ID_LEN lowercase hex digits). */
	PAMMSG_PAM_STARTED = 17,
	/* worker -> monitor: sign these claims. Fields: u8 kind (enum
	 * pammsg_sign_kind), string ref (LOGIN: the login id of a
	 * conversation that succeeded; RECONNECT: the grant the monitor
	 * returned for the session's login, 1..PAMMSG_GRANT_MAX base64url and
	 * dots), string claims (JSON object text, 2..PAMMSG_CLAIMS_MAX). */
	PAMMSG_SIGN = 18,
	/* monitor -> worker: fields: string token (1..PAMMSG_TOKEN_MAX,
	 * base64url and dots only), string grant (0..PAMMSG_GRANT_MAX,
	 * base64url and dots; set for a LOGIN signature, empty otherwise). */
	PAMMSG_TOKEN = 19,
	/* worker -> monitor: seal plaintext with AAD. Fields: string plain
	 * (1..PAMMSG_SEAL_PLAIN_MAX, any bytes), string aad
	 * (0..PAMMSG_SEAL_AAD_MAX, any bytes). */
	PAMMSG_SEAL = 20,
	/* monitor -> worker: fields: string sealed (base64url,
	 * 1..PAMMSG_SEALED_MAX). */
	PAMMSG_SEALED = 21,
	/* monitor -> worker, once, right after the fork: keys loaded, ready
	 * to serve. No fields. */
	PAMMSG_READY = 22,
	/* monitor -> worker: a request failed. Fields: i32be code (a
	 * negative VDI_ERR_* value). */
	PAMMSG_ERROR = 31,
};

/* What a SIGN request is for. */
enum pammsg_sign_kind {
	PAMMSG_SIGN_LOGIN = 1,     /* after a PAM conversation succeeded */
	PAMMSG_SIGN_RECONNECT = 2, /* for a session signed for before */
};

/* Message styles, numbered like Linux-PAM's PAM_PROMPT_ECHO_OFF.. */
enum pammsg_style {
	PAMMSG_ECHO_OFF = 1,  /* secret prompt: do not show what is typed */
	PAMMSG_ECHO_ON = 2,   /* prompt whose answer may be shown */
	PAMMSG_ERROR_MSG = 3, /* error text to show, no answer */
	PAMMSG_TEXT_INFO = 4, /* information to show, no answer */
};

/* How a conversation ended. Never tells the client whether a user exists:
 * an unknown user is AUTH_FAILED like a wrong password. */
enum pammsg_status {
	PAMMSG_STATUS_OK = 0,
	PAMMSG_STATUS_AUTH_FAILED = 1,      /* PAM_AUTH_ERR, PAM_USER_UNKNOWN */
	PAMMSG_STATUS_ACCOUNT_EXPIRED = 2,  /* PAM_ACCT_EXPIRED */
	PAMMSG_STATUS_PASSWORD_EXPIRED = 3, /* PAM_NEW_AUTHTOK_REQD */
	PAMMSG_STATUS_ACCOUNT_LOCKED = 4,   /* PAM_PERM_DENIED, PAM_MAXTRIES */
	PAMMSG_STATUS_PAM_ERROR = 5,        /* anything else */
	PAMMSG_STATUS_TIMEOUT = 6,          /* no answers in time */
};
#define PAMMSG_STATUS_LAST PAMMSG_STATUS_TIMEOUT

struct pammsg_prompt {
	uint8_t style; /* enum pammsg_style */
	char text[PAMMSG_TEXT_MAX + 1];
};

/* One decoded message. Strings are NUL-terminated copies; nothing points
 * into the input. Large (about 8 KiB): fine on a stack, not in arrays.
 * It may hold secrets (answers, plaintext): wipe it with pammsg_clear()
 * when done. Only the member named by type is meaningful. */
struct pammsg {
	enum pammsg_type type;
	union {
		struct {
			size_t n;
			struct pammsg_prompt msg[PAMMSG_MSGS_MAX];
		} prompts;
		struct {
			size_t n;
			char answer[PAMMSG_MSGS_MAX][PAMMSG_ANSWER_MAX + 1];
		} answers;
		struct {
			uint8_t status; /* enum pammsg_status */
			char user[PAMMSG_USER_MAX + 1];
		} result;
		struct {
			char service[PAMMSG_SERVICE_MAX + 1];
			char user[PAMMSG_USER_MAX + 1];
			char rhost[PAMMSG_RHOST_MAX + 1];
			char tenant[PAMMSG_TENANT_MAX + 1];
			char device[PAMMSG_DEVICE_LEN + 1];
		} pam_start;
		struct {
			char login[PAMMSG_LOGIN_ID_LEN + 1];
		} pam_started;
		struct {
			uint8_t kind; /* enum pammsg_sign_kind */
			char ref[PAMMSG_GRANT_MAX + 1];
			size_t len;
			char claims[PAMMSG_CLAIMS_MAX + 1];
		} sign;
		struct {
			char token[PAMMSG_TOKEN_MAX + 1];
			char grant[PAMMSG_GRANT_MAX + 1];
		} token;
		struct {
			size_t plain_len, aad_len;
			unsigned char plain[PAMMSG_SEAL_PLAIN_MAX];
			unsigned char aad[PAMMSG_SEAL_AAD_MAX];
		} seal;
		struct {
			char sealed[PAMMSG_SEALED_MAX + 1];
		} sealed;
		struct {
			int32_t code;
		} error;
	} u;
};

/* Wipes m (it may have held answers or plaintext). NULL is accepted. */
void pammsg_clear(struct pammsg *m);

/* Parses one frame from the front of in into out (cleared on entry).
 * Returns:
 *   0                    a whole valid frame was consumed;
 *   VDI_ERR_NEED_MORE    the frame is not complete yet: read more bytes
 *                        into in and call again (nothing consumed);
 *   VDI_ERR_TOO_LARGE    the length field exceeds PAMMSG_FRAME_MAX (known
 *                        from the header alone), a count exceeds
 *                        PAMMSG_MSGS_MAX or a string its limit;
 *   VDI_ERR_BAD_LENGTH   length 0, or bytes left over after the fields;
 *   VDI_ERR_TRUNCATED    a field runs past the end of the frame;
 *   VDI_ERR_UNSUPPORTED  unknown type, style or status;
 *   VDI_ERR_BAD_FORMAT   any other rule above broken (NUL in a string,
 *                        bad UTF-8, bad service name, zero prompts, OK
 *                        result without user, non-negative error code, ..).
 * On any error nothing is consumed, out is cleared, and the stream is
 * unusable: the caller closes the connection. */
int pammsg_parse(struct vbuf *in, struct pammsg *out) VDI_WUR;

/* Appends the frame for m to out. Checks m against the same rules as the
 * parser (and returns the same codes), so whatever it writes parses back
 * to an equal message. On error nothing is appended. */
int pammsg_encode(struct vbuf *out, const struct pammsg *m) VDI_WUR;

/* Appends an ANSWERS frame with n (0..PAMMSG_MSGS_MAX) NUL-terminated
 * answers, without copying them into a struct pammsg first. Returns 0,
 * VDI_ERR_INVALID_ARG (NULL answer), VDI_ERR_TOO_LARGE (n or an answer
 * too long) or a vbuf error; on error nothing is appended. The caller
 * wipes out when done (vbuf_wipe / vbuf_free). */
int pammsg_encode_answers(
    struct vbuf *out, const char *const *answers, size_t n) VDI_WUR;

/* Appends a frame made of the type byte only (PAMMSG_READY), or an ERROR frame
 * with code (< 0). */
int pammsg_encode_empty(struct vbuf *out, enum pammsg_type type) VDI_WUR;
int pammsg_encode_error(struct vbuf *out, int code) VDI_WUR;

/* Number of messages in a PROMPTS batch that want an answer (styles
 * ECHO_OFF and ECHO_ON); 0 for other messages. */
size_t pammsg_prompt_count(const struct pammsg *m);

/* Short lower-case names for logs and the HTTP API: "ok", "auth_failed",
 * "account_expired", "password_expired", "account_locked", "pam_error",
 * "timeout"; "unknown" otherwise. Static storage. */
const char *pammsg_status_name(int status);

/* "echo_off", "echo_on", "error", "info"; "unknown" otherwise. */
const char *pammsg_style_name(int style);

/* Copies the NUL-terminated in to out (outlen >= 1) as text the parser
 * accepts: invalid UTF-8 and control characters other than '\n' and '\t'
 * become '?', and the result is cut at a character boundary to at most
 * outlen - 1 bytes (and at most PAMMSG_TEXT_MAX). Always NUL-terminates.
 * Returns the length written. */
size_t pammsg_sanitize(const char *in, char *out, size_t outlen);

/* Checks the syntax rules of the fields (see the limits above). Return 0
 * or VDI_ERR_BAD_FORMAT / VDI_ERR_TOO_LARGE. */
int pammsg_check_service(const char *s, size_t len) VDI_WUR;
int pammsg_check_user(const char *s, size_t len) VDI_WUR;
int pammsg_check_rhost(const char *s, size_t len) VDI_WUR;
/* Tenant: the service-name rules. Device: exactly PAMMSG_DEVICE_LEN
 * base64url characters. Login id: PAMMSG_LOGIN_ID_LEN lowercase hex. */
int pammsg_check_tenant(const char *s, size_t len) VDI_WUR;
int pammsg_check_device(const char *s, size_t len) VDI_WUR;
int pammsg_check_login_id(const char *s, size_t len) VDI_WUR;

#endif
