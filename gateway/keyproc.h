/*
 * keyproc.h: vdi-gatewayd's key process (relayd's "ca" process) and the
 * gateway's client side of it.
 *
 *   vdi-gatewayd (main, worker threads: TLS, HTTP, every RDP parser)
 *     holds: the inner certificate (public), never the seal key or the
 *            inner private key: it cannot open a sealed password itself
 *     asks:  UNSEAL(aad, sealed) -> plaintext, SIGN(alg, padding, input)
 *            over one socketpair per thread (keymsg.h frames)
 *   key process (forked first, before the policy, TLS, threads and the
 *   privilege drop)
 *     holds: the seal key and the inner TLS private key, read by it alone
 *     does:  nothing else; no network, no parser but keymsg_parse();
 *            drops to the gateway's user after loading, is not dumpable,
 *            dies with the gateway (PR_SET_PDEATHSIG) and when every
 *            socket closes
 *
 * The inner key's private operations reach the key process through an
 * EVP_PKEY whose RSA_METHOD / EC_KEY_METHOD forwards them (keypkey.c), so
 * libssl's TLS 1.2 and 1.3 handshakes (ECDSA, RSA PKCS#1 and RSA-PSS) work
 * unchanged. See docs/gateway.md "Key process".
 */
#ifndef VDI_GATEWAY_KEYPROC_H
#define VDI_GATEWAY_KEYPROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/x509.h>

#include "vdierr.h"

/* How long a request may take before the gateway gives up on it. */
#define KEYPROC_TIMEOUT_MS 5000
/* Channels (one per thread that uses keys), at most. */
#define KEYPROC_CHANNELS_MAX 65

struct keyproc_config {
	const char *seal_key;   /* NULL or "": no single sign-on */
	const char *inner_cert; /* public; the key process checks the pair */
	const char *inner_key;  /* NULL or "": no inner key (tests) */
	const char *user;       /* drop to this account when root; "" stay */
	const char *group;      /* "" : the user's primary group */
};

/* --- the key process (keyproc.c) ----------------------------------------- */

/* Runs the key process in a freshly forked child, serving the n sockets
 * fds (fds[0] gets READY or ERROR first). Never returns: _exit(0) when
 * every socket has closed, 1 when the keys could not be loaded. */
void keyproc_main(const struct keyproc_config *cfg, const int *fds,
    unsigned int n) __attribute__((noreturn));

/* --- the gateway's client (keyclient.c) ------------------------------------
 */

/* Forks the key process with nchannels sockets (1..KEYPROC_CHANNELS_MAX)
 * and waits for its READY. Call it before threads, before loading
 * anything else and before dropping privileges. Returns 0, or
 * VDI_ERR_CERT_LOAD / VDI_ERR_CONFIG (a key could not be loaded: the key
 * process logged why), VDI_ERR_SYSTEM, VDI_ERR_IO / VDI_ERR_TIMEOUT (it
 * died or did not answer); err gets a line for the operator. */
int keyclient_start(const struct keyproc_config *cfg, unsigned int nchannels,
    char *err, size_t errlen) VDI_WUR;

/* Closes every channel (the key process then exits) and reaps it. */
void keyclient_stop(void);

/* The key process's pid (0 when not started). */
pid_t keyclient_pid(void);
/* After the caller reaped the key process itself: not waited for again. */
void keyclient_forget(void);

/* Whether the key process holds a seal key / an inner key. */
int keyclient_have_seal(void);
int keyclient_have_inner(void);

/* Makes the calling thread use channel i (0 for the main thread, 1.. for
 * worker threads). Every channel has its own lock, so sharing one is safe,
 * only slower. */
void keyclient_bind_thread(unsigned int i);

/* Opens sealed (base64url, NUL-terminated) with aad through the key
 * process into out (outlen bytes), *len the plaintext length. The caller
 * wipes out. Returns 0, VDI_ERR_NOT_FOUND (no seal key), a seal_open()
 * error (wrong key, AAD or text), VDI_ERR_TOO_LARGE,
 * VDI_ERR_IO / VDI_ERR_TIMEOUT (key process gone). */
int keyclient_unseal(const char *sealed, const void *aad, size_t aadlen,
    unsigned char *out, size_t outlen, size_t *len) VDI_WUR;

/* A private-key operation with the inner key: alg KEYMSG_ALG_ECDSA (in is
 * a digest, out gets a DER signature) or KEYMSG_ALG_RSA (padding
 * KEYMSG_RSA_PKCS1 or KEYMSG_RSA_NONE, out gets RSA_size bytes). */
int keyclient_sign(uint8_t alg, uint8_t padding, const void *in, size_t inlen,
    unsigned char *out, size_t outlen, size_t *outl) VDI_WUR;

/* --- the inner key as an EVP_PKEY (keypkey.c) ----------------------------- */

/* Makes an EVP_PKEY with cert's public key whose private operations go to
 * the key process (EC and RSA keys), then proves the pair with a signature
 * made by the key process and checked against cert (SHA-256; for RSA both
 * PKCS#1 and PSS). Returns 0 and *out (EVP_PKEY_free() it),
 * VDI_ERR_UNSUPPORTED (another key type), VDI_ERR_CERT_LOAD (the key
 * process's key does not match cert), VDI_ERR_TLS, VDI_ERR_ALLOC. */
int keypkey_new(X509 *cert, EVP_PKEY **out) VDI_WUR;

#endif
