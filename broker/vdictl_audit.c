/*
 * vdictl_audit.c: vdictl's audit commands: the query (--tenant, --user,
 * --device, --since, --limit), verify (by the broker, or of an export
 * file here without it) and export (the tenant's chain as JSON lines,
 * written whole or not at all); their requests and their reports.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cfgfile.h"
#include "policy.h"
#include "vdictl.h"

static int
parse_since(const char *s, json_int_t *out)
{
	int64_t t;
	uint64_t d;
	char *end;
	long long v;

	if (policy_time_parse(s, &t) == 0) {
		*out = t;
		return 0;
	}
	if (cfg_parse_duration(s, &d) == 0) {
		*out = (json_int_t)(time(NULL) - (time_t)d);
		return 0;
	}
	v = strtoll(s, &end, 10);
	if (*s != '\0' && *end == '\0' && v >= 0) {
		*out = v;
		return 0;
	}
	return -1;
}

/* audit export: the reply's rows as JSON lines in path (0600, written
 * whole or not at all): a header line, then one row per line. */
int
vctl_audit_export_write(const char *path, json_t *rep)
{
	json_t *rows = json_object_get(rep, "rows"), *o, *hdr;
	char tmp[4200], *line;
	size_t i, n = json_array_size(rows);
	const char *head = n > 0 ? json_string_value(json_object_get(
				       json_array_get(rows, n - 1), "hash"))
				 : "";
	FILE *f;
	int fd, bad = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
		0 ||
	    (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "vdictl: %s: %s\n", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	hdr = json_pack("{s:i, s:s, s:O, s:I, s:s}", "vdi_audit_export", 1,
	    "tenant", vctl_str(rep, "tenant"), "exported",
	    json_object_get(rep, "exported"), "rows", (json_int_t)n, "head",
	    head ? head : "");
	line = hdr ? json_dumps(hdr, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	bad |= line == NULL || fprintf(f, "%s\n", line) < 0;
	free(line);
	json_decref(hdr);
	json_array_foreach(rows, i, o) {
		line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		bad |= line == NULL || fprintf(f, "%s\n", line) < 0;
		free(line);
	}
	bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) != 0) {
		fprintf(stderr, "vdictl: cannot write %s: %s\n", path,
		    strerror(errno));
		unlink(tmp);
		return 1;
	}
	printf("exported %zu audit rows of tenant %s to %s, head %s\n", n,
	    vctl_str(rep, "tenant"), path, head ? head : "-");
	return 0;
}

/* Copies the text field k of o into buf (too long: the row is refused). */
static int
field(json_t *o, const char *k, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(o, k));

	if (s == NULL || strlen(s) >= len)
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

/* audit verify --file: checks an export on its own, with the hash the
 * broker chains rows with. Returns 0 intact, 3 broken, 1 unreadable. */
static int
export_verify(const char *path)
{
	char line[16384], prev[65], why[256];
	struct store_audit a;
	json_t *hdr = NULL, *o;
	json_error_t je;
	long long rows = 0, want;
	int64_t last_seq = 0;
	const char *tenant;
	FILE *f;
	int rc = 0, lineno = 0;

	if ((f = fopen(path, "re")) == NULL) {
		fprintf(stderr, "vdictl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	memset(prev, '0', 64);
	prev[64] = '\0';
	why[0] = '\0';
	if (fgets(line, sizeof(line), f) == NULL ||
	    (hdr = json_loads(line, 0, &je)) == NULL ||
	    json_integer_value(json_object_get(hdr, "vdi_audit_export")) != 1) {
		fprintf(stderr,
		    "vdictl: %s: not an audit export (vdictl audit export)\n",
		    path);
		fclose(f);
		json_decref(hdr);
		return 1;
	}
	tenant = vctl_str(hdr, "tenant");
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char h[65];

		lineno++;
		memset(&a, 0, sizeof(a));
		if ((o = json_loads(line, 0, &je)) == NULL ||
		    field(o, "actor", a.actor, sizeof(a.actor)) != 0 ||
		    field(o, "action", a.action, sizeof(a.action)) != 0 ||
		    field(o, "outcome", a.outcome, sizeof(a.outcome)) != 0 ||
		    field(o, "tenant", a.tenant, sizeof(a.tenant)) != 0 ||
		    field(o, "user", a.user, sizeof(a.user)) != 0 ||
		    field(o, "device", a.device, sizeof(a.device)) != 0 ||
		    field(o, "session", a.session, sizeof(a.session)) != 0 ||
		    field(o, "reason", a.reason, sizeof(a.reason)) != 0 ||
		    field(o, "detail", a.detail, sizeof(a.detail)) != 0 ||
		    field(o, "prev_hash", a.prev_hash, sizeof(a.prev_hash)) !=
			0 ||
		    field(o, "hash", a.hash, sizeof(a.hash)) != 0) {
			snprintf(why, sizeof(why), "line %d is not a row",
			    lineno + 1);
			rc = 3;
			json_decref(o);
			break;
		}
		a.seq = json_integer_value(json_object_get(o, "seq"));
		a.time = json_integer_value(json_object_get(o, "time"));
		a.format =
		    (int)json_integer_value(json_object_get(o, "format"));
		json_decref(o);
		store_audit_hash(&a, h);
		if (strcmp(a.tenant, tenant) != 0)
			snprintf(why, sizeof(why),
			    "row %lld is of tenant %.100s, not %.100s",
			    (long long)a.seq, a.tenant, tenant);
		else if (a.seq <= last_seq)
			snprintf(why, sizeof(why), "row %lld is out of order",
			    (long long)a.seq);
		else if (strcmp(h, a.hash) != 0)
			snprintf(why, sizeof(why),
			    "row %lld was changed (its hash does not match)",
			    (long long)a.seq);
		else if (a.format != 1 && strcmp(a.prev_hash, prev) != 0)
			snprintf(why, sizeof(why),
			    "row %lld does not follow the row before it (a row "
			    "was removed or inserted)",
			    (long long)a.seq);
		if (why[0] != '\0') {
			rc = 3;
			break;
		}
		/* Rows of the old global chain (format 1) check their own
		 * hash only: their links run through other tenants. */
		if (a.format != 1)
			memcpy(prev, a.hash, sizeof(prev));
		last_seq = a.seq;
		rows++;
	}
	fclose(f);
	want = (long long)json_integer_value(json_object_get(hdr, "rows"));
	if (rc == 0 &&
	    (rows != want ||
		strcmp(vctl_str(hdr, "head"), rows > 0 ? a.hash : "") != 0)) {
		snprintf(why, sizeof(why),
		    "the export ends after %lld rows, its header says %lld "
		    "rows ending in %.64s (rows were cut off the end)",
		    rows, want, vctl_str(hdr, "head"));
		rc = 3;
	}
	if (rc == 0)
		printf("%s: audit export of tenant %s intact: %lld rows, head "
		       "%s\n",
		    path, tenant, rows, rows > 0 ? a.hash : "-");
	else
		printf("%s: AUDIT EXPORT BROKEN: %s (%lld rows before it "
		       "verify)\n",
		    path, why, rows);
	json_decref(hdr);
	return rc;
}

enum vctl_match
vctl_audit_req(struct vctl_args *v, json_t **req, unsigned int *takes, int *rc)
{
	json_int_t t;

#define IS(n, s) VCTL_IS(v, n, s)
	if (IS(0, "audit") && IS(1, "verify") && v->na == 2 &&
	    v->file != NULL) {
		/* An export, checked here: no broker needed. */
		if (vctl_check_opts(
			"audit verify --file", v->given, OPT_FILE) != 0)
			return vctl_done(rc, 2);
		return vctl_done(rc, export_verify(v->file));
	} else if (IS(0, "audit") && IS(1, "verify") && v->na == 2) {
		*req = json_pack("{s:s}", "cmd", "audit.verify");
		*takes = OPT_TENANT;
	} else if (IS(0, "audit") && IS(1, "export") && v->na == 2) {
		if (v->file == NULL || v->tenant == NULL) {
			fprintf(stderr,
			    "vdictl: audit export needs --tenant "
			    "and --file\n");
			return vctl_done(rc, 2);
		}
		*req = json_pack("{s:s}", "cmd", "audit.export");
		*takes = OPT_TENANT | OPT_FILE | OPT_REASON;
	} else if (IS(0, "audit") && v->na == 1) {
		*req = json_pack("{s:s}", "cmd", "audit.query");
		*takes =
		    OPT_TENANT | OPT_USER | OPT_DEVICE | OPT_SINCE | OPT_LIMIT;
		if (v->since != NULL) {
			if (parse_since(v->since, &t) != 0) {
				fprintf(stderr,
				    "vdictl: --since %s: expected a time with "
				    "offset (2026-11-21T09:00+09:00), a unix "
				    "time, or an age (90m, 2h, 1d)\n",
				    v->since);
				json_decref(*req);
				return vctl_done(rc, 2);
			}
			json_object_set_new(*req, "since", json_integer(t));
		}
		if (v->limit != NULL) {
			char *end;
			long long n;

			errno = 0;
			n = strtoll(v->limit, &end, 10);
			if (*v->limit < '0' || *v->limit > '9' ||
			    *end != '\0' || errno != 0 || n > 1000000000) {
				fprintf(stderr,
				    "vdictl: --limit %s: expected a number of "
				    "rows (0: no limit)\n",
				    v->limit);
				json_decref(*req);
				return vctl_done(rc, 2);
			}
			json_object_set_new(*req, "limit", json_integer(n));
		}
		if (v->device != NULL) {
			if (vctl_thumb_arg("--device", v->device, v->dev) !=
			    0) {
				json_decref(*req);
				return vctl_done(rc, 2);
			}
			v->device = v->dev;
		}
	} else
		return VCTL_NO;
	return VCTL_REQ;
#undef IS
}

int
vctl_audit_print(json_t *rep)
{
	json_t *list, *o;
	size_t i;
	char t1[32];

	if (json_object_get(rep, "intact") != NULL) {
		if (json_is_true(json_object_get(rep, "intact"))) {
			list = json_object_get(rep, "chains");
			json_array_foreach(list, i, o)
				printf(
				    "chain %s: %lld rows intact, last %.16s\n",
				    *vctl_str(o, "tenant") != '\0'
					? vctl_str(o, "tenant")
					: "(no tenant)",
				    (long long)json_integer_value(
					json_object_get(o, "rows")),
				    vctl_str(o, "head"));
			printf(
			    "audit chain intact: %lld rows in %zu chains%s\n",
			    (long long)json_integer_value(
				json_object_get(rep, "rows")),
			    json_array_size(list),
			    json_is_true(json_object_get(rep, "all_tenants"))
				? ", every tenant"
				: " (the tenants you administer)");
		} else
			printf("AUDIT CHAIN BROKEN at row %lld: %s (%lld rows "
			       "before it verify)\n",
			    (long long)json_integer_value(
				json_object_get(rep, "bad_seq")),
			    vctl_str(rep, "reason"),
			    (long long)json_integer_value(
				json_object_get(rep, "rows")));
		return 1;
	}
	if ((list = json_object_get(rep, "rows")) != NULL &&
	    json_is_array(list)) {
		json_array_foreach(list, i, o) {
			char *d = json_object_get(o, "detail")
			    ? json_dumps(json_object_get(o, "detail"),
				  JSON_COMPACT | JSON_SORT_KEYS)
			    : NULL;

			printf(
			    "%lld %s actor=%s action=%s outcome=%s tenant=%s "
			    "user=%s device=%s session=%s "
			    "reason=\"%s\"%s%s\n",
			    (long long)json_integer_value(
				json_object_get(o, "seq")),
			    vctl_when(o, "time", t1, sizeof(t1)),
			    vctl_str(o, "actor"), vctl_str(o, "action"),
			    vctl_str(o, "outcome"), vctl_str(o, "tenant"),
			    vctl_str(o, "user"), vctl_str(o, "device"),
			    vctl_str(o, "session"), vctl_str(o, "reason"),
			    d ? " detail=" : "", d ? d : "");
			free(d);
		}
		return 1;
	}
	return 0;
}
