/*
 * cfgwhere.h: where a setting is written in a libconfig file, for checks
 * that run after the file was read (vdi-gatewayd -t opening files as the
 * service user) and report "FILE:LINE: KEY: problem".
 */
#ifndef VDI_CFGWHERE_H
#define VDI_CFGWHERE_H

#include <stddef.h>

/* Writes "FILE:LINE: KEY" into buf for the dotted key ("tls.key") in the
 * file path, or "FILE: KEY" when the file does not set it. Returns buf. */
char *cfg_where(const char *path, const char *key, char *buf, size_t len);

#endif
