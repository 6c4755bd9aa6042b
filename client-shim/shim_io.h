/*
 * shim_io.h: libvdiclient's I/O internals: the device identity
 * (devcert.c), the broker over HTTPS (https.c) and the tunnel to the
 * gateway (tunnel.c).
 */
#ifndef VDI_CLIENT_SHIM_IO_H
#define VDI_CLIENT_SHIM_IO_H

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "shim.h"

/* The device identity: a client SSL_CTX (project TLS profile, the
 * configured CA, the device certificate and key) and the certificate. */
struct shim_device {
	SSL_CTX *ctx;
	X509 *cert;
	char not_after[40], not_before[40]; /* "2026-11-21 09:00 UTC" */
};

/* Loads the identity and checks the certificate's validity dates. Returns
 * VDIC_OK, VDIC_ERR_CONFIG (unusable files) or VDIC_ERR_DEVICE (expired,
 * not yet valid) with a message. */
int shim_device_load(const struct vdic_config *cfg, struct shim_device *dev,
    char *msg, size_t msglen);
void shim_device_free(struct shim_device *dev);

/* Maps the text of a TLS failure (a server's alert) to VDIC_ERR_DEVICE with
 * a message; 0 when it says nothing about the device. what: "service",
 * "gateway". */
int shim_tls_alert_status(const char *why, const char *what,
    const struct shim_device *dev, char *msg, size_t msglen);

/* libcurl: once per process. */
int shim_http_init(void);

/* POSTs json to the broker's path with the device certificate, reusing
 * the handle in *curl (made on first use; free with shim_http_free).
 * Returns VDIC_OK with the parsed answer in out (which may be an error
 * answer), or a status with a message (broker unreachable, device refused
 * at TLS...). */
int shim_broker_post(void **curl, const struct vdic_config *cfg,
    const struct shim_device *dev, const char *path, const char *json,
    struct shim_reply *out, char *msg, size_t msglen);
void shim_http_free(void *curl);

/* Appends s as a JSON string / raw text at *pos in out. Returns 0 or
 * VDI_ERR_TOO_LARGE. */
int shim_json_str(char *out, size_t outlen, size_t *pos, const char *s) VDI_WUR;
int shim_json_raw(char *out, size_t outlen, size_t *pos, const char *s) VDI_WUR;

/* An open tunnel after 101: TLS over fd; early holds RDP bytes that came
 * with the answer. */
struct shim_tunnel {
	int fd;
	SSL *ssl;
	unsigned char early[16384];
	size_t nearly;
};

/* Connects to gateway ("host:port"), runs TLS with the device identity
 * (the gateway must hold a certificate for host from the configured CA),
 * sends the Upgrade with token and reads the answer. Gives up when
 * cancel_fd becomes readable. Returns VDIC_OK with t open, or a status
 * with a message: VDIC_ERR_GATEWAY (unreachable, TLS, refused),
 * VDIC_ERR_DEVICE, VDIC_ERR_NO_DESKTOP, VDIC_ERR_CANCELLED... */
int shim_tunnel_open(const struct shim_device *dev, const char *gateway,
    const char *token, unsigned int timeout, int cancel_fd,
    struct shim_tunnel *t, char *msg, size_t msglen);
void shim_tunnel_close(struct shim_tunnel *t, int graceful);

/* Diagnoses a TLS failure with the broker at url: a handshake and one
 * request with our own TLS stack. Returns 0 when it works, else -1 with the
 * reason (e.g. the server's alert "certificate revoked") in why. */
int shim_tls_probe(const struct shim_device *dev, const char *url,
    unsigned int timeout, char *why, size_t whylen);

#endif
