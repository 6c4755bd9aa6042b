/*
 * rdp.h: what every RDP parser of the relay shares: directions, verdicts
 * with an audit reason, the channel policy, and a bounded list of messages
 * produced by a rewriter.
 *
 * The parsers under rdp/ are pure: bytes in (a struct vbuf), a
 * struct or a verdict out. They do no I/O, read no clock and keep no
 * globals; any state (SVC reassembly, the DVC table) lives in a struct the
 * caller owns. They return 0, VDI_ERR_NEED_MORE (framing only) or another
 * VDI_ERR_* code. References are to MS-RDPBCGR unless named otherwise.
 */
#ifndef VDI_RDP_H
#define VDI_RDP_H

#include <stddef.h>
#include <stdint.h>

#include "vbuf.h"
#include "vdierr.h"

/* Which way a PDU travels. The client is the RDP client (xfreerdp behind
 * the shim), the server is the desktop. */
enum rdp_dir {
	RDP_C2S = 0,
	RDP_S2C = 1,
};

/* What the relay does with a PDU a filter looked at. */
enum rdp_action {
	RDP_PASS = 0,    /* forward the input unchanged */
	RDP_REWRITE = 1, /* forward the rewritten output instead */
	RDP_DROP = 2,    /* forward nothing; the session goes on */
	RDP_CLOSE = 3,   /* close the connection (fail closed) */
};

#define RDP_REASON_MAX       128
#define RDP_VERDICT_NAME_MAX 48

/* What a verdict refused, as data. The relay acts on these fields (which
 * channel to record as refused, ...); the reason text is for the audit log
 * only and is never parsed. */
enum rdp_refusal {
	RDP_REFUSED_NOTHING = 0,    /* a PASS, or a REWRITE that refused nothing
				     * (a message held or re-chunked) */
	RDP_REFUSED_RULE,           /* a rule of the relay; the reason names it
				     * (malformed, out of phase, a limit) */
	RDP_REFUSED_DVC,            /* a DVC Create Request, by policy: name,
				     * code is the DVC id */
	RDP_REFUSED_DVC_TABLE_FULL, /* a DVC Create Request, for want of a
				     * slot: name */
	RDP_REFUSED_CHANNEL,        /* data on a static channel: code is the
				     * channel id */
	RDP_REFUSED_PDU,            /* a PDU or message by its type: code is
				     * the pduType2 or the RDPGFX cmdId */
	RDP_REFUSED_CAPS,           /* a capability: code is the refused
				     * version */
};

/* What a refusal names: the kind, and the channel name or the code the
 * kind says. */
struct rdp_refusal_data {
	enum rdp_refusal kind;
	uint32_t code;
	char name[RDP_VERDICT_NAME_MAX]; /* sanitised (rdp_name_sanitize) */
};

/*
 * A filter's decision for one PDU. Read the fields; change them only with
 * rdp_verdict_set(), rdp_verdict_refuse(), rdp_verdict_escalate() and
 * rdp_verdict_merge(), which all go through one rule: a verdict only gets more
 * severe (PASS < REWRITE < DROP < CLOSE), and of equally severe refusals the
 * first is kept. reason is a key=value fragment for the audit log ("dvc_refused
 * name=cliprdr"), empty for a plain PASS; peer-supplied names in it are
 * sanitised.
 */
struct rdp_verdict {
	enum rdp_action action;
	struct rdp_refusal_data what;
	char reason[RDP_REASON_MAX];
};

/* The channel classes a token may allow beyond display and input. */
struct rdp_policy {
	int audio_out; /* rdpsnd and the audio playback DVCs */
};

/* Starts the verdict of a new PDU: PASS, nothing refused. */
void rdp_verdict_init(struct rdp_verdict *v);

/* Raises v to action for a relay rule (RDP_REFUSED_RULE; RDP_REFUSED_NOTHING
 * when fmt is NULL) and formats the reason. Does nothing when v is already
 * more severe, or as severe with a refusal. */
void rdp_verdict_set(struct rdp_verdict *v, enum rdp_action action,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The same for a refusal that names what it refused: kind, code, and name
 * (namelen bytes of a peer-supplied name, sanitised here; NULL for none).
 * The reason is fmt followed by " name=NAME" when there is a name. */
void rdp_verdict_refuse(struct rdp_verdict *v, enum rdp_action action,
    enum rdp_refusal kind, uint32_t code, const void *name, size_t namelen,
    const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Makes v's own refusal more severe (a REWRITE that dropped every part of
 * a PDU becomes a DROP): action, keeping what and reason. Does nothing
 * when action is not more severe than v's. */
void rdp_verdict_escalate(struct rdp_verdict *v, enum rdp_action action);

/* Combines a lower layer's verdict into v by the same rule: v takes from's
 * action, refusal and reason when from is more severe. */
void rdp_verdict_merge(struct rdp_verdict *v, const struct rdp_verdict *from);

/* Returns the lower-case name of a refusal kind ("dvc", "rule"). */
const char *rdp_refusal_name(enum rdp_refusal kind);

/* Drops whatever was appended to out after it held mark bytes (undoes a
 * failed builder). Does nothing when out is not longer than mark. */
void rdp_truncate(struct vbuf *out, size_t mark);

/* Returns the lower-case name of an action ("pass", "close"). */
const char *rdp_action_name(enum rdp_action action);

/* Copies up to srclen bytes of a peer-supplied name into dst (dstlen >= 1,
 * always NUL-terminated), stopping at the first NUL and replacing every
 * byte outside [A-Za-z0-9_.:-] with '?', so the result is safe as a log
 * value. Returns dst. */
char *rdp_name_sanitize(
    char *dst, size_t dstlen, const void *src, size_t srclen);

/*
 * A bounded list of messages (each one a complete PDU of the next layer
 * down), used where one input yields several outputs: the DVC filter may
 * re-fragment a message into DYNVC_DATA_FIRST + DYNVC_DATA PDUs, each of
 * which travels as its own SVC message. At most RDP_MSGS_MAX messages and
 * max_bytes bytes in all.
 */
#define RDP_MSGS_MAX 128

struct rdp_msgs {
	struct vbuf *buf;         /* all messages, back to back */
	size_t n;                 /* number of messages */
	size_t end[RDP_MSGS_MAX]; /* end offset of message i in buf */
};

/* Allocates the storage. Returns 0 or VDI_ERR_ALLOC / VDI_ERR_INVALID_ARG.
 * Free with rdp_msgs_free(). */
int rdp_msgs_init(struct rdp_msgs *m, size_t max_bytes) VDI_WUR;

/* Wipes and frees the storage; accepts a zeroed or already freed list. */
void rdp_msgs_free(struct rdp_msgs *m);

/* Empties the list (keeps the storage). */
void rdp_msgs_reset(struct rdp_msgs *m);

/* Where the next message is written: append its bytes to m->buf, then
 * call rdp_msgs_close() to end it. rdp_msgs_close() returns
 * VDI_ERR_TOO_LARGE when the list is full. */
int rdp_msgs_close(struct rdp_msgs *m) VDI_WUR;

/* Makes view a read-only view of message i (valid until the list changes).
 * Returns 0 or VDI_ERR_INVALID_ARG. */
int rdp_msgs_get(const struct rdp_msgs *m, size_t i, struct vbuf *view) VDI_WUR;

#endif
