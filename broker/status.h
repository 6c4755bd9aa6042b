/*
 * status.h: what `vdictl status` and `vdictl tenants list` show (the
 * admin commands "status" and "tenants.list", see vdictl(8)): the broker's
 * version and start, its store, the gateways and when each was last
 * heard, and per tenant the mode in force and the dates of its CA and CRL.
 */
#ifndef VDI_BROKER_STATUS_H
#define VDI_BROKER_STATUS_H

#include <stddef.h>

#include <jansson.h>

#include "broker.h"

/* The tenants of the policy among tenants (NULL: every tenant), each with
 * "name", "mode" (the mode in force, "" for none), "mode_source"
 * ("vdictl" when set at run time, "policy" when the file's, "" for none),
 * and the dates (Unix seconds) "ca_not_after", "crl_last_update",
 * "crl_next_update" (0 when unknown). A new array, or NULL. */
json_t *status_tenants(
    struct broker *b, const char *const *tenants, size_t ntenants);

/* The whole status: "version", "revision", "pid", "started", "store"
 * {path, schema_version, schema_latest, ok, size_bytes, error}, "gateways"
 * [{name, last_heard, polling, acked, current}], "certificates" [{what,
 * path, not_after | next_update}], "tenants" (as status_tenants). A new
 * object, or NULL. */
json_t *status_json(
    struct broker *b, const char *const *tenants, size_t ntenants);

#endif
