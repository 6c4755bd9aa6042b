/*
 * dvc.h: dynamic virtual channels (MS-RDPEDYC) inside the drdynvc static
 * channel, and the relay's per-connection DVC table.
 *
 * Every DVC PDU starts with a header byte: cbId (bits 0-1: ChannelId is 1,
 * 2 or 4 bytes; 3 is invalid), Sp/Pri/Len (bits 2-3), Cmd (bits 4-7). One
 * DVC PDU is one drdynvc SVC message (reassembled by svc.h).
 *
 * The relay's rules (docs/gateway.md "What the relay enforces"):
 *   Capabilities (0x5, 2.2.1.1): version 3 (which allows compressed PDUs)
 *     is rewritten to 2, in the desktop's request and the client's reply;
 *     1 and 2 pass; anything else closes;
 *   Create Request (0x1, desktop -> client, 2.2.2.1): allowlisted names pass
 *     and the id becomes REQUESTED; a refused name (or a full table) is not
 *     forwarded: the relay answers the desktop itself with a Create Response
 *     carrying 0xC0000001; an id already in use closes;
 *   Create Response (client -> desktop, 2.2.2.2): only for a REQUESTED id
 *     (else dropped); CreationStatus >= 0 opens it, < 0 frees it;
 *   Data First (0x2) / Data (0x3) (2.2.3): only on OPEN ids, else dropped;
 *     Data First lengths are tracked per id and direction (a Data that
 *     overruns, a Data First inside a message, a Length over
 *     RDP_DVC_MESSAGE_MAX: close); client-to-desktop graphics messages are
 *     reassembled (at most RDP_DVC_INSPECT_MAX) and filtered by gfx.h;
 *   Close (0x4, 2.2.4): passed for known ids (the first Close makes the id
 *     CLOSING, the answering Close from the other side frees it), dropped
 *     for unknown ones;
 *   Data First Compressed (0x6) / Data Compressed (0x7) (2.2.3.3, 2.2.3.4):
 *     close the session;
 *   Soft-Sync Request (0x8) / Response (0x9) (2.2.5): dropped (they only
 *     matter with multitransport, which the relay removes).
 *
 * Memory: the table holds RDP_DVC_MAX_CHANNELS entries; each graphics
 * channel may hold one client-to-desktop message of at most
 * RDP_DVC_INSPECT_MAX bytes while it is reassembled.
 */
#ifndef VDI_RDP_DVC_H
#define VDI_RDP_DVC_H

#include <stddef.h>
#include <stdint.h>

#include "rdp/rdp.h"

#define RDP_DVC_CMD_CREATE                0x1
#define RDP_DVC_CMD_DATA_FIRST            0x2
#define RDP_DVC_CMD_DATA                  0x3
#define RDP_DVC_CMD_CLOSE                 0x4
#define RDP_DVC_CMD_CAPS                  0x5
#define RDP_DVC_CMD_DATA_FIRST_COMPRESSED 0x6
#define RDP_DVC_CMD_DATA_COMPRESSED       0x7
#define RDP_DVC_CMD_SOFT_SYNC_REQUEST     0x8
#define RDP_DVC_CMD_SOFT_SYNC_RESPONSE    0x9

/* CreationStatus the relay sends for a refused channel (E_FAIL-like NTSTATUS
 * STATUS_UNSUCCESSFUL, docs/gateway.md "What the relay enforces"). */
#define RDP_DVC_CREATE_REFUSED 0xC0000001u

#define RDP_DVC_MAX_CHANNELS 32
#define RDP_DVC_NAME_MAX     255
/* Largest DVC message (Data First Length) the relay lets through. */
#define RDP_DVC_MESSAGE_MAX (32u << 20)
/* Largest client-to-desktop graphics message it reassembles to inspect. */
#define RDP_DVC_INSPECT_MAX (128u << 10)
/* Largest DVC PDU the relay writes (one CHANNEL_CHUNK_LENGTH). */
#define RDP_DVC_PDU_MAX 1600

/* Channel classes of the allowlist. */
enum rdp_dvc_class {
	RDP_DVC_CLASS_NONE = 0,
	RDP_DVC_CLASS_GRAPHICS,  /* Microsoft::Windows::RDS::Graphics */
	RDP_DVC_CLASS_DISPLAY,   /* ...::DisplayControl */
	RDP_DVC_CLASS_INPUT,     /* ...::Input */
	RDP_DVC_CLASS_AUDIO_OUT, /* AUDIO_PLAYBACK_DVC, ..._LOSSY_DVC */
};

struct rdp_dvc_pdu {
	uint8_t cmd;
	uint8_t sp;          /* bits 2-3: Pri (create) or Len (data first) */
	uint8_t cbid;        /* bits 0-1 */
	uint32_t channel_id; /* absent for caps and soft-sync: 0 */
	uint16_t version;    /* caps */
	int32_t creation_status;         /* create response */
	char name[RDP_DVC_NAME_MAX + 1]; /* create request, NUL-terminated */
	size_t name_len;
	uint32_t length;  /* data first: total message length */
	struct vbuf data; /* data first / data: the payload (view) */
};

/*
 * Parses one DVC PDU travelling in dir. Create is a request from the
 * server (name NUL-terminated, ending the PDU, at most RDP_DVC_NAME_MAX
 * bytes) and a response from the client (exactly the status); Caps is a
 * request (4 bytes for version 1, 12 for 2 and 3) or a response (4 bytes);
 * Close is exactly the id. Compressed and soft-sync PDUs parse only their
 * header byte. Returns 0, VDI_ERR_TRUNCATED, VDI_ERR_BAD_LENGTH,
 * VDI_ERR_TOO_LARGE or VDI_ERR_BAD_FORMAT (cbId 3, Len 3, an unknown Cmd).
 */
int rdp_dvc_parse(
    const struct vbuf *msg, enum rdp_dir dir, struct rdp_dvc_pdu *p) VDI_WUR;

/* The class of an allowlisted name under pol, or RDP_DVC_CLASS_NONE.
 * Names compare exactly (case matters). */
enum rdp_dvc_class rdp_dvc_name_class(
    const char *name, const struct rdp_policy *pol);

enum rdp_dvc_state {
	RDP_DVC_FREE = 0,
	RDP_DVC_REQUESTED,
	RDP_DVC_OPEN,
	RDP_DVC_CLOSING,
};

struct rdp_dvc_entry {
	uint32_t id;
	enum rdp_dvc_state state;
	enum rdp_dvc_class cls;
	enum rdp_dir closer;   /* who sent the first Close */
	uint32_t remaining[2]; /* Data First bytes still due, per dir */
	struct vbuf *inspect;  /* graphics message being reassembled */
	char name[48];         /* sanitised, for logs */
};

struct rdp_dvc_table {
	struct rdp_dvc_entry e[RDP_DVC_MAX_CHANNELS];
	uint16_t version; /* negotiated caps version (0: none yet) */
};

/* Empties a table; rdp_dvc_table_free() releases reassembly buffers
 * (wiped). */
void rdp_dvc_table_init(struct rdp_dvc_table *t);
void rdp_dvc_table_free(struct rdp_dvc_table *t);

/* The entry for id, or NULL. */
const struct rdp_dvc_entry *rdp_dvc_lookup(
    const struct rdp_dvc_table *t, uint32_t id);

/* A filter's outputs: out holds DVC PDUs to forward in the message's own
 * direction (v.action == REWRITE, possibly none while a message is held for
 * inspection), reply holds DVC PDUs to send back the other way (the Create
 * Response for a refused channel). Each entry is one drdynvc SVC message. */
struct rdp_dvc_result {
	struct rdp_verdict v;
	struct rdp_msgs out;
	struct rdp_msgs reply;
};

/* Allocates the result's lists. Returns 0 or VDI_ERR_ALLOC. */
int rdp_dvc_result_init(struct rdp_dvc_result *res) VDI_WUR;
void rdp_dvc_result_free(struct rdp_dvc_result *res);

/*
 * Filters one complete DVC PDU (msg) travelling in dir, updating t (see the
 * top of this file). res is reset first. Returns 0 with res->v set (a
 * malformed PDU is a CLOSE verdict), or VDI_ERR_ALLOC.
 */
int rdp_dvc_filter(struct rdp_dvc_table *t, const struct rdp_policy *pol,
    enum rdp_dir dir, const struct vbuf *msg,
    struct rdp_dvc_result *res) VDI_WUR;

/* Appends one DVC PDU of command cmd (Create Response, Close, Data) for id
 * to m as a new message; used for the relay's own replies. For
 * RDP_DVC_CMD_CREATE, value is the CreationStatus; data/len are the payload
 * of RDP_DVC_CMD_DATA. */
int rdp_dvc_write(struct rdp_msgs *m, uint8_t cmd, uint32_t id, uint32_t value,
    const void *data, size_t len) VDI_WUR;

#endif
