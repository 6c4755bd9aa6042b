/*
 * info.h: the Client Info PDU (MS-RDPBCGR 2.2.1.11): basic security header
 * with SEC_INFO_PKT, then TS_INFO_PACKET (2.2.1.11.1.1) and its
 * TS_EXTENDED_INFO_PACKET (2.2.1.11.1.1.1).
 *
 * The relay's rewrite (docs/gateway.md "What the relay enforces"):
 *   flags: clear INFO_COMPRESSION and the compression type bits, INFO_RAIL,
 *   INFO_HIDEF_RAIL_SUPPORTED, INFO_AUDIOCAPTURE, INFO_REMOTECONSOLEAUDIO
 *   and INFO_PASSWORD_IS_SC_PIN (no smartcard redirection); set
 *   INFO_NOAUDIOPLAYBACK unless audio_out is allowed;
 *   AlternateShell and WorkingDir blanked;
 *   with credentials: Domain, UserName, Password replaced and
 *   INFO_AUTOLOGON set;
 *   extraInfo checked and copied.
 * Only Unicode Client Info is accepted (INFO_UNICODE; every client since
 * RDP 5 sends it).
 */
#ifndef VDI_RDP_INFO_H
#define VDI_RDP_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "rdp/rdp.h"
#include "rdp/sec.h"

/* TS_INFO_PACKET flags (2.2.1.11.1.1). */
#define RDP_INFO_MOUSE                  0x00000001u
#define RDP_INFO_DISABLECTRLALTDEL      0x00000002u
#define RDP_INFO_AUTOLOGON              0x00000008u
#define RDP_INFO_UNICODE                0x00000010u
#define RDP_INFO_MAXIMIZESHELL          0x00000020u
#define RDP_INFO_LOGONNOTIFY            0x00000040u
#define RDP_INFO_COMPRESSION            0x00000080u
#define RDP_INFO_ENABLEWINDOWSKEY       0x00000100u
#define RDP_INFO_COMPRESSION_TYPE_MASK  0x00001E00u
#define RDP_INFO_REMOTECONSOLEAUDIO     0x00002000u
#define RDP_INFO_FORCE_ENCRYPTED_CS_PDU 0x00004000u
#define RDP_INFO_RAIL                   0x00008000u
#define RDP_INFO_LOGONERRORS            0x00010000u
#define RDP_INFO_MOUSE_HAS_WHEEL        0x00020000u
#define RDP_INFO_PASSWORD_IS_SC_PIN     0x00040000u
#define RDP_INFO_NOAUDIOPLAYBACK        0x00080000u
#define RDP_INFO_USING_SAVED_CREDS      0x00100000u
#define RDP_INFO_AUDIOCAPTURE           0x00200000u
#define RDP_INFO_VIDEO_DISABLE          0x00400000u
#define RDP_INFO_HIDEF_RAIL_SUPPORTED   0x02000000u

/* Largest cb of one string, terminator excluded (512 with it). */
#define RDP_INFO_STRING_MAX 510
/* extraInfo limits (2.2.1.11.1.1.1). */
#define RDP_INFO_ADDRESS_MAX    80
#define RDP_INFO_CLIENT_DIR_MAX 512
#define RDP_INFO_TIMEZONE_LEN   172
#define RDP_INFO_ARC_COOKIE_LEN 28
#define RDP_INFO_DST_KEY_MAX    254

struct rdp_info {
	struct rdp_sec_header sec;
	uint32_t code_page;
	uint32_t flags;
	/* UTF-16LE strings without their terminators (views into the input;
	 * length 0 when empty). */
	struct vbuf domain, user, password, shell, workdir;
	size_t password_off; /* offset of password in the input data */
	struct vbuf extra;   /* TS_EXTENDED_INFO_PACKET, checked (view) */
	int has_arc_cookie;  /* extraInfo carries an auto-reconnect cookie */
};

/*
 * Parses a Client Info PDU from the I/O channel's MCS user data (security
 * header included). Every cb must be even, at most RDP_INFO_STRING_MAX, and
 * each string must be followed by a 2-byte NUL; cbDomain 0 (and any other
 * empty string) is fine and yields an empty view. extraInfo is checked
 * field by field (cbClientAddress <= 80, cbClientDir <= 512, optional
 * trailing groups complete, auto-reconnect cookie 0 or 28 bytes) and nothing
 * may follow it. Returns 0, VDI_ERR_TRUNCATED, VDI_ERR_BAD_LENGTH,
 * VDI_ERR_TOO_LARGE, VDI_ERR_BAD_FORMAT (no SEC_INFO_PKT) or
 * VDI_ERR_UNSUPPORTED (encrypted, or not Unicode).
 */
int rdp_info_parse(const struct vbuf *data, struct rdp_info *info) VDI_WUR;

/* Credentials to inject, UTF-8, each at most RDP_INFO_STRING_MAX / 2
 * UTF-16 code units; domain may be "" (not NULL). */
struct rdp_info_creds {
	const char *domain;
	const char *user;
	const char *password;
};

/*
 * Appends the rewritten Client Info PDU (security header + TS_INFO_PACKET,
 * ready for rdp_mcs_write_send_data()) to out; see the top of this file.
 * creds may be NULL (the client's own Domain/UserName/Password and
 * INFO_AUTOLOGON are kept). On error nothing is appended. out then holds a
 * password: wipe it (vbuf_wipe) once sent. Returns 0, a parse error, or
 * VDI_ERR_INVALID_ARG for credentials that are not valid UTF-8 or too long.
 */
int rdp_info_rewrite(const struct vbuf *data, const struct rdp_policy *pol,
    const struct rdp_info_creds *creds, struct vbuf *out) VDI_WUR;

/* Overwrites the password bytes of the Client Info PDU in data (len bytes,
 * writable, security header first) with zeros. Returns 0, or the parse
 * error (nothing is wiped then). */
int rdp_info_wipe_password(void *data, size_t len) VDI_WUR;

/* Converts NUL-terminated UTF-8 to UTF-16LE appended to out (no
 * terminator); at most max_bytes output bytes. VDI_ERR_INVALID_ARG for
 * malformed UTF-8 (overlong forms, surrogates, > U+10FFFF),
 * VDI_ERR_TOO_LARGE past max_bytes. */
int rdp_utf8_to_utf16le(
    const char *s, size_t max_bytes, struct vbuf *out) VDI_WUR;

#endif
