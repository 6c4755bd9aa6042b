/*
 * certexp.h: how long certificates and CRLs have left, for the daemons'
 * expiry metrics (vdi_*_crl_next_update_seconds,
 * vdi_*_certificate_expiry_seconds).
 */
#ifndef VDI_CERTEXP_H
#define VDI_CERTEXP_H

#include <stdint.h>

#include <stddef.h>

#include "vdierr.h"

/* Seconds from now to the notAfter of the first certificate in the PEM file
 * path (negative once past) in *left. Returns 0, VDI_ERR_IO (cannot read)
 * or VDI_ERR_CERT_LOAD (no certificate in it). */
int certexp_file_seconds_left(const char *path, int64_t *left) VDI_WUR;

/* Writes one sample line "NAME{LABEL="VALUE",...} N\n" into buf, label
 * values escaped for the Prometheus text format (\\, \", \n); labels is
 * a NULL-terminated list of name, value pairs. Returns buf (truncated to
 * len, NUL-terminated). */
char *certexp_metric_line(char *buf, size_t len, const char *name,
    const char *const *labels, int64_t value);

#endif
