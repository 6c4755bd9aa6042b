/*
 * apireq.h: the broker API's request bodies, checked purely.
 *
 * Every handler's JSON body goes through one of these before anything else
 * happens: bytes in (already size-capped by the HTTP layer), a validated
 * struct or a stable error code and message out. No I/O, no state, so the
 * whole surface is unit-tested and fuzzed (tests/fuzz/fuzz_apireq.c).
 */
#ifndef VDI_BROKER_APIREQ_H
#define VDI_BROKER_APIREQ_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "pammsg.h"
#include "vdierr.h"

#define APIREQ_EVENTS_MAX 1000

struct apireq_error {
	const char *code; /* stable: "bad_json", "bad_request", ... */
	char message[160];
};

/* Parses a JSON object body: duplicate keys, other top-level types,
 * nesting deeper than 16 and trailing garbage are refused. On success the
 * caller json_decref()s *out. */
int apireq_json(
    const void *data, size_t len, json_t **out, struct apireq_error *e) VDI_WUR;

/* POST /v1/login: either a start {"user"} or a step {"login_id",
 * "answers"}. answers point into body. */
struct apireq_login {
	int step; /* 0: start, 1: answers */
	const char *user;
	const char *login_id;
	size_t nanswers;
	const char *answers[PAMMSG_MSGS_MAX];
};
int apireq_login(
    json_t *body, struct apireq_login *out, struct apireq_error *e) VDI_WUR;

/* POST /v1/reconnect {"ticket"}; POST /v1/logoff {"session"}. */
int apireq_reconnect(
    json_t *body, const char **ticket, struct apireq_error *e) VDI_WUR;
int apireq_logoff(
    json_t *body, const char **session, struct apireq_error *e) VDI_WUR;

/* POST /internal/v1/events: every event checked before any is applied. */
int apireq_events(json_t *body, size_t *n, struct apireq_error *e) VDI_WUR;

/* POST /internal/v1/commands {"epoch"?, "after"?, "wait"?}. */
struct apireq_commands {
	const char *epoch; /* NULL: none */
	uint64_t after;
	int64_t wait; /* seconds, clamped to 0..max_wait */
};
int apireq_commands(json_t *body, int64_t max_wait, struct apireq_commands *out,
    struct apireq_error *e) VDI_WUR;

#endif
