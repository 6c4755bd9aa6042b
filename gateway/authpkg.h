/*
 * authpkg.h: the authentication package under CredSSP (MS-CSSP 3.1.5),
 * behind an interface of our own so the CredSSP code does not depend on
 * one library. Today one backend: NTLM through winpr's SSPI
 * (authpkg_winpr.c, built when configure finds winpr2); a GSSAPI backend
 * (MIT krb5 + gss-ntlmssp, for Kerberos) can sit beside it.
 *
 * A context is driven by opaque tokens: authpkg_step() takes the peer's
 * token (none for the client's first step) and appends the next one to
 * send. Once established, authpkg_seal()/authpkg_unseal() protect the
 * CredSSP pubKeyAuth and authInfo payloads (signature then ciphertext, as
 * CredSSP carries them). No I/O, no logging; errors are vdierr.h codes,
 * with the package's own status in *status for the log.
 *
 * Process-wide effect: winpr loads OpenSSL's "legacy" provider (MD4 and
 * RC4 for NTLM) into the default library context on first use.
 * tests/unit/test_authpkg.c checks that the gateway's TLS profiles
 * (common/tls_ctx.c) are unchanged by it: they name their ciphers and
 * protocol versions explicitly.
 */
#ifndef VDI_GW_AUTHPKG_H
#define VDI_GW_AUTHPKG_H

#include <stddef.h>
#include <stdint.h>

#include "vbuf.h"
#include "vdierr.h"

/* Largest token a step may produce, and the most a seal adds (an NTLM
 * signature is 16 bytes). */
#define AUTHPKG_TOKEN_MAX    (48u * 1024u)
#define AUTHPKG_TRAILER_MAX  64u
#define AUTHPKG_USER_MAX     256u /* bytes of UTF-8, each of user, domain */
#define AUTHPKG_PASSWORD_MAX 256u

struct authpkg;

/* 1 when a backend was built in (configure found winpr2), else 0: then
 * every constructor returns VDI_ERR_UNSUPPORTED. */
int authpkg_available(void);

/*
 * A client context for NTLM as user in domain (UTF-8, domain may be "")
 * with password, towards target (the service principal, "TERMSRV/host";
 * may be NULL). The password is copied into the package and wiped from our
 * copies. Returns 0 with *out set (free with authpkg_free), or
 * VDI_ERR_INVALID_ARG (empty user, over the caps), VDI_ERR_UNSUPPORTED (no
 * backend), VDI_ERR_ALLOC, VDI_ERR_DENIED (the package refused the
 * credentials: *status says why).
 */
int authpkg_client_new(const char *user, const char *domain,
    const char *password, const char *target, struct authpkg **out,
    uint32_t *status) VDI_WUR;

/*
 * A server context for NTLM that checks clients against the winpr SAM file
 * at sam_file (lines "user:domain::NTHASH:::", as winpr-hash -f sam
 * writes). For test desktops and peers: the gateway itself is a client.
 */
int authpkg_server_new(
    const char *sam_file, struct authpkg **out, uint32_t *status) VDI_WUR;

/*
 * One step of the exchange. in: the peer's token (NULL or empty for the
 * client's first step). The next token to send, if any, is appended to out
 * (up to AUTHPKG_TOKEN_MAX). *done becomes 1 when the context is
 * established (there may still be a last token in out to send). Returns 0,
 * VDI_ERR_DENIED (authentication failed: *status is the SECURITY_STATUS),
 * VDI_ERR_BAD_FORMAT (a token the package cannot parse), VDI_ERR_TOO_LARGE
 * (out has no room), VDI_ERR_INVALID_ARG (step after done).
 */
int authpkg_step(struct authpkg *a, const unsigned char *in, size_t in_len,
    struct vbuf *out, int *done, uint32_t *status) VDI_WUR;

/*
 * Encrypts n bytes at p for the peer (established contexts only) and
 * appends signature || ciphertext to out. authpkg_unseal() takes that form
 * and appends the plaintext (which may be secret: wipe out). Returns 0,
 * VDI_ERR_INVALID_ARG (not established), VDI_ERR_TOO_LARGE,
 * VDI_ERR_DENIED (unseal: bad signature or replay), VDI_ERR_BAD_FORMAT
 * (unseal: shorter than a signature).
 */
int authpkg_seal(struct authpkg *a, const unsigned char *p, size_t n,
    struct vbuf *out, uint32_t *status) VDI_WUR;
int authpkg_unseal(struct authpkg *a, const unsigned char *p, size_t n,
    struct vbuf *out, uint32_t *status) VDI_WUR;

/* Frees a, wiping what it holds. NULL is accepted. */
void authpkg_free(struct authpkg *a);

#endif
