/*
 * bcheck.h: what vdi-brokerd -t checks beyond the syntax of its files:
 * everything the start loads, as the user that loads it. As root (the
 * monitor): the token signing key and the seal key (32 bytes), the user,
 * group, admin_group and operators_group exist. As the service user (a
 * child process that drops to user/group when run as root): the TLS
 * certificate and key (and that they match), gateway_ca and gateway_crl,
 * the policy file and every tenant CA and CRL, and that the store can be
 * opened or created.
 */
#ifndef VDI_BROKER_BCHECK_H
#define VDI_BROKER_BCHECK_H

#include "bconf.h"

/* Runs the checks for configuration c read from path. tls_check(arg, err,
 * errlen) is run as the service user and must build the TLS front as the
 * start does (0 or an error with err set). Returns 0, or VDI_ERR_CONFIG
 * with one "FILE:LINE: KEY: problem" line per problem in *errors (the
 * caller frees it). */
int bcheck_run(const char *path, const struct bconf *c,
    int (*tls_check)(void *arg, char *err, size_t errlen), void *arg,
    char **errors) VDI_WUR;

#endif
