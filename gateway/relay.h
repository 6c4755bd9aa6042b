/*
 * relay.h: the display-only relay engine, PDU by PDU, without I/O.
 *
 * One struct relay per session holds the state of the connection sequence
 * (MCS Connect Initial / Response, Client Info, licensing, capabilities)
 * and of the channels (static channel map with fake ids, drdynvc
 * reassembly, DVC table). relay_pdu() takes one whole PDU (TPKT or
 * fast-path, as split by relay_frame_len()) travelling in one direction,
 * applies every rule of docs/gateway.md ("What the relay enforces")
 * through the parsers of rdp/,
 * and says what to send on: bytes to forward to the other side, bytes to
 * answer the sender with (local Channel Join Confirms, DVC Create
 * Responses for refused channels), or close with a reason. It starts after
 * the X.224 exchange and both TLS handshakes (the session does those).
 *
 * Every channel the client or the desktop asks for is recorded with its
 * verdict (relay_channels()), so the session can log and report it.
 */
#ifndef VDI_GATEWAY_RELAY_H
#define VDI_GATEWAY_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "rdp/caps.h"
#include "rdp/dvc.h"
#include "rdp/gcc.h"
#include "rdp/info.h"
#include "rdp/rdp.h"
#include "rdp/svc.h"
#include "vbuf.h"

/* Most channel records kept per session (later ones are counted only). */
#define RELAY_RECORDS_MAX 64
/* Largest output of one PDU (a DVC message re-chunked, a rewrite). */
#define RELAY_OUT_MAX (4u << 20)

struct relay_record {
	char name[48]; /* sanitised static or dynamic channel name */
	int dynamic;   /* 1 for a DVC, 0 for a static channel */
	int allowed;   /* the verdict */
};

struct relay_params {
	struct rdp_policy pol;
	uint32_t client_requested; /* the client's X.224 requestedProtocols */
	uint32_t desktop_selected; /* what the desktop's CC selected */
	size_t max_pdu;            /* largest PDU either way (<= 65535) */
	uint32_t reassembly;       /* largest SVC message reassembled */
};

/*
 * The phases of the connection sequence (MS-RDPBCGR 1.3.1.1) as the relay
 * walks them. Each phase says what may come from which side; anything else
 * closes the session with a reason naming the phase:
 *
 *   CONNECT_INITIAL   client: MCS Connect Initial
 *   CONNECT_RESPONSE  desktop: MCS Connect Response
 *   DOMAIN            client: Erect Domain, then Attach User, then one
 *                     Channel Join Request per id it was given (the user
 *                     id, the I/O channel, each channel of SC_NET; fake
 *                     ids are answered here), then the Client Info PDU;
 *                     desktop: the Attach User Confirm and one Channel
 *                     Join Confirm per request passed on
 *   LICENSING         desktop: licensing PDUs; client: only the licensing
 *                     reply a License Request or Platform Challenge asks
 *                     for, parsed as that message
 *   SHARE             the capability exchange and the session (struct
 *                     rdp_share_state, caps.h): Share Control PDUs on the
 *                     I/O channel, fast-path once a Confirm Active passed,
 *                     the kept channels' data
 *
 * Either side may end the connection (X.224 Disconnect, MCS Disconnect
 * Provider Ultimatum) in any phase.
 */
enum relay_phase {
	RELAY_CONNECT_INITIAL = 0,
	RELAY_CONNECT_RESPONSE,
	RELAY_DOMAIN,
	RELAY_LICENSING,
	RELAY_SHARE,
};

/* Most refused DVC Create Requests answered for one session: a desktop
 * asking again and again for refused channels is closed. */
#define RELAY_DVC_REFUSALS_MAX 256

struct relay {
	struct relay_params p;
	enum relay_phase phase;
	int erected, attach_asked; /* DOMAIN: what the client sent */
	int attached;              /* DOMAIN: Attach User Confirm seen */
	int license_reply;         /* LICENSING: a client reply is due */
	struct rdp_share_state share;
	struct rdp_gcc_map map;
	uint16_t drdynvc, rdpsnd, user_channel;
	unsigned int join_asked;    /* RELAY_JOINED_*: join requested */
	unsigned int join_answered; /* RELAY_JOINED_*: confirm seen */
	unsigned int joined; /* RELAY_JOINED_*: join confirmed by the desktop */
	uint32_t fake_asked; /* bit i: fake id of map.ch[i] joined locally */
	unsigned int dvc_refusals;
	struct rdp_svc_stream dyn[2], snd[2];
	uint32_t dyn_show[2];
	struct rdp_dvc_table dvc;
	struct rdp_dvc_result dres;
	struct relay_record rec[RELAY_RECORDS_MAX];
	size_t nrec;       /* records kept */
	size_t nrec_total; /* records seen, kept or not */
	uint64_t dropped;  /* PDUs or messages not forwarded */
};

/* What one PDU gave. The caller owns fwd and back (vbuf_new(RELAY_OUT_MAX))
 * and passes them empty. */
struct relay_result {
	struct rdp_verdict v; /* RDP_CLOSE: close the session with
			       * v.reason; otherwise send fwd and back
			       * (v says what the layers below refused,
			       * merged by rdp_verdict_merge()) */
	struct vbuf *fwd;     /* to the other side */
	struct vbuf *back;    /* back to the sender */
	int secret;           /* fwd holds a password: wipe after sending */
	int input;            /* a client input PDU (idle tracking) */
};

/* Sets up r for one session. Returns 0 or VDI_ERR_ALLOC. Free with
 * relay_free() (also after a failed init). */
int relay_init(struct relay *r, const struct relay_params *p) VDI_WUR;
void relay_free(struct relay *r);

/*
 * Length of the PDU at the front of a stream whose first bytes are hdr
 * (hdrlen of them, at least 1): 0 with *len set, VDI_ERR_NEED_MORE when
 * more header bytes are needed (at most 4), VDI_ERR_BAD_FORMAT or
 * VDI_ERR_BAD_LENGTH for a byte that starts no PDU, VDI_ERR_TOO_LARGE over
 * max_len. Lets a caller find PDU boundaries in a non-contiguous buffer.
 */
int relay_frame_len(const unsigned char *hdr, size_t hdrlen, size_t max_len,
    size_t *len) VDI_WUR;

/*
 * Relays one whole PDU. creds (may be NULL) are injected into the Client
 * Info PDU. Returns 0 with res filled (a protocol violation is a CLOSE
 * verdict, not an error), or VDI_ERR_ALLOC / VDI_ERR_TOO_LARGE (close
 * too). On return the Client Info PDU's password bytes in pdu are wiped
 * when pdu is writable memory: pass a mutable view via pdu_mut (may be
 * NULL).
 */
int relay_pdu(struct relay *r, enum rdp_dir dir, const struct vbuf *pdu,
    unsigned char *pdu_mut, const struct rdp_info_creds *creds,
    struct relay_result *res) VDI_WUR;

/* The channel records so far (*n of them). */
const struct relay_record *relay_records(const struct relay *r, size_t *n);

/* Channels the desktop confirmed a join for; data on a channel before its
 * join is dropped. */
#define RELAY_JOINED_IO      0x1u
#define RELAY_JOINED_USER    0x2u
#define RELAY_JOINED_DRDYNVC 0x4u
#define RELAY_JOINED_RDPSND  0x8u

#endif
