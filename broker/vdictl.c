/*
 * vdictl.c: the broker's admin command (see vdictl(8)). Talks to
 * vdi-brokerd over its admin socket: one JSON request, one JSON reply.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cfgfile.h"
#include "policy.h"
#include "procinfo.h"
#include "store.h"

#define DEFAULT_SOCKET "/run/vdi/brokerd.sock"
#define REPLY_MAX      (64u * 1024u * 1024u)

static int json_out;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: vdictl [-s SOCKET] [--json] COMMAND\n"
	    "       vdictl -V | --version | -h | --help\n"
	    "commands:\n"
	    "  status                       (version, store, gateways, "
	    "certificate and CRL\n"
	    "                               dates, tenants and their modes)\n"
	    "  tenants list                 (each tenant's mode in force, CRL "
	    "and CA dates)\n"
	    "  sessions list [--all] [--tenant T]\n"
	    "  sessions kill ID [--reason TEXT]\n"
	    "  desktops list\n"
	    "  desktops drain NAME | desktops enable NAME\n"
	    "  devices list [--tenant T]\n"
	    "  devices revoke THUMBPRINT [--reason TEXT]  (or the start of "
	    "the thumbprint\n"
	    "                               of a device seen)\n"
	    "  cuts list                    (cuts in force, what each gateway "
	    "acknowledged)\n"
	    "  policy reload\n"
	    "  policy mode TENANT MODE      (MODE \"default\": the policy's "
	    "own)\n"
	    "  audit [--tenant T] [--user U] [--device T] [--since TIME] "
	    "[--limit N]\n"
	    "  audit verify [--tenant T]\n"
	    "  audit export --tenant T --file FILE   (the tenant's chain, as "
	    "JSON lines)\n"
	    "  audit verify --file FILE     (an export, checked here without "
	    "the broker)\n"
	    "each command sees only the tenants the caller administers "
	    "(root and the\n"
	    "broker's operators_group: every tenant)\n"
	    "THUMBPRINT (also --device): 64 hex digits, or any start of them "
	    "that names\none device\n"
	    "TIME: 2026-11-21T09:00+09:00, a unix time, or an age like 2h\n"
	    "socket: -s, else $VDI_BROKER_SOCKET, else " DEFAULT_SOCKET "\n");
}

static json_t *
call(const char *path, json_t *req)
{
	struct sockaddr_un sun;
	char *text, *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	json_t *rep;
	json_error_t je;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "vdictl: socket path too long\n");
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr,
		    "vdictl: cannot reach vdi-brokerd at %s: %s\n"
		    "  (is it running? is this its admin_socket? are you root "
		    "or in its admin_group?)\n",
		    path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	text = json_dumps(req, JSON_COMPACT);
	if (text == NULL || write(fd, text, strlen(text)) < 0 ||
	    write(fd, "\n", 1) != 1) {
		fprintf(stderr, "vdictl: write: %s\n", strerror(errno));
		free(text);
		close(fd);
		return NULL;
	}
	free(text);
	for (;;) {
		if (len + 4096 > cap) {
			char *nb;

			if (cap >= REPLY_MAX ||
			    (nb = realloc(buf, cap + 65536)) == NULL) {
				free(buf);
				close(fd);
				fprintf(stderr, "vdictl: reply too large\n");
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	rep = json_loadb(buf ? buf : "", len, 0, &je);
	free(buf);
	if (rep == NULL)
		fprintf(stderr, "vdictl: the broker sent no valid reply\n");
	return rep;
}

static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static const char *
when(json_t *o, const char *k, char *buf, size_t len)
{
	time_t t = (time_t)json_integer_value(json_object_get(o, k));
	struct tm tm;

	if (t == 0)
		return "-";
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* "2027-01-31T00:00:00Z (in 58 days)" or "... (EXPIRED 2 days ago)". */
static const char *
date_in(json_int_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t, now = time(NULL);
	struct tm tm;
	char d[32];
	long days;

	if (t == 0)
		return "-";
	gmtime_r(&tt, &tm);
	strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%SZ", &tm);
	days = (long)((tt - now) / 86400);
	if (tt >= now)
		snprintf(buf, len, "%s (in %ld days)", d, days);
	else
		snprintf(buf, len, "%s (EXPIRED %ld days ago)", d, -days);
	return buf;
}

static void
print_tenants(json_t *list)
{
	json_t *o;
	size_t i;
	char t1[96], t2[96];

	printf("%-16s %-16s %-8s %-38s %s\n", "TENANT", "MODE", "SET BY",
	    "CRL NEXT UPDATE", "CA NOT AFTER");
	json_array_foreach(list, i, o)
		printf("%-16s %-16s %-8s %-38s %s\n", str(o, "name"),
		    *str(o, "mode") ? str(o, "mode") : "(none)",
		    *str(o, "mode_source") ? str(o, "mode_source") : "-",
		    date_in(json_integer_value(
				json_object_get(o, "crl_next_update")),
			t1, sizeof(t1)),
		    date_in(
			json_integer_value(json_object_get(o, "ca_not_after")),
			t2, sizeof(t2)));
}

static void
print_status(json_t *rep)
{
	json_t *st = json_object_get(rep, "store"), *o;
	time_t now = time(NULL);
	size_t i;
	char t1[96];

	printf("vdi-brokerd %s, pid %lld, up since %s\n", str(rep, "version"),
	    (long long)json_integer_value(json_object_get(rep, "pid")),
	    when(rep, "started", t1, sizeof(t1)));
	printf("store %s: %s, schema %lld of %lld, %lld bytes\n",
	    str(st, "path"),
	    json_is_true(json_object_get(st, "ok")) ? "ok" : "NOT READABLE",
	    (long long)json_integer_value(
		json_object_get(st, "schema_version")),
	    (long long)json_integer_value(json_object_get(st, "schema_latest")),
	    (long long)json_integer_value(json_object_get(st, "size_bytes")));
	printf("retention: ended sessions %llds, tickets and token uses %llds "
	       "after expiry (0: kept)\n",
	    (long long)json_integer_value(json_object_get(
		json_object_get(rep, "retention"), "ended_sessions")),
	    (long long)json_integer_value(
		json_object_get(json_object_get(rep, "retention"), "tickets")));
	printf("\n%-24s %-9s %-36s %s\n", "GATEWAY", "POLLING", "LAST HEARD",
	    "CUTS");
	json_array_foreach(json_object_get(rep, "gateways"), i, o) {
		json_int_t h =
		    json_integer_value(json_object_get(o, "last_heard"));
		char ago[160];

		if (h == 0)
			snprintf(ago, sizeof(ago), "never");
		else
			snprintf(ago, sizeof(ago), "%s (%llds ago)",
			    when(o, "last_heard", t1, sizeof(t1)),
			    (long long)(now - (time_t)h));
		printf("%-24s %-9s %-36s %s\n", str(o, "name"),
		    json_is_true(json_object_get(o, "polling")) ? "yes" : "no",
		    ago,
		    json_is_true(json_object_get(o, "current"))
			? "has every cut"
			: "BEHIND");
	}
	printf("\n%-12s %-44s %s\n", "FILE", "PATH", "DATE");
	json_array_foreach(json_object_get(rep, "certificates"), i, o) {
		char d[160];

		snprintf(d, sizeof(d), "%s %s", str(o, "date"),
		    date_in(json_integer_value(json_object_get(o, "when")), t1,
			sizeof(t1)));
		printf("%-12s %-44s %s\n", str(o, "what"), str(o, "path"), d);
	}
	printf("\n");
	print_tenants(json_object_get(rep, "tenants"));
}

static void
print_human(const char *what, json_t *rep)
{
	json_t *list, *o;
	size_t i;
	char t1[32], t2[32];

	/* What was done but needs an eye (a CRL near its nextUpdate). */
	json_array_foreach(json_object_get(rep, "warnings"), i, o)
		fprintf(stderr, "vdictl: %s\n", json_string_value(o));
	if (strcmp(what, "status") == 0) {
		print_status(rep);
		return;
	}
	if (strcmp(what, "tenants.list") == 0) {
		print_tenants(json_object_get(rep, "tenants"));
		return;
	}

	if ((list = json_object_get(rep, "sessions")) != NULL) {
		printf("%-32s %-10s %-16s %-12s %-14s %-64s %s\n", "SESSION",
		    "TENANT", "USER", "STATE", "DESKTOP", "DEVICE", "UPDATED");
		json_array_foreach(list, i, o)
			printf("%-32s %-10s %-16s %-12s %-14s %-64s %s\n",
			    str(o, "id"), str(o, "tenant"), str(o, "user"),
			    str(o, "state"), str(o, "desktop"),
			    str(o, "device"),
			    when(o, "updated", t1, sizeof(t1)));
		return;
	}
	if ((list = json_object_get(rep, "desktops")) != NULL) {
		printf("%-16s %-12s %-10s %-22s %-9s %-8s %-9s %s\n", "DESKTOP",
		    "POOL", "TENANT", "ADDRESS", "HEALTH", "DRAINED",
		    "SESSIONS", "REASON");
		json_array_foreach(list, i, o) {
			char addr[300];

			snprintf(addr, sizeof(addr), "%s:%lld", str(o, "host"),
			    (long long)json_integer_value(
				json_object_get(o, "port")));
			printf("%-16s %-12s %-10s %-22s %-9s %-8s %3lld/%-5lld "
			       "%s\n",
			    str(o, "name"), str(o, "pool"), str(o, "tenant"),
			    addr,
			    json_is_true(json_object_get(o, "healthy"))
				? "healthy"
				: "DOWN",
			    json_is_true(json_object_get(o, "drained")) ? "yes"
									: "no",
			    (long long)json_integer_value(
				json_object_get(o, "sessions")),
			    (long long)json_integer_value(
				json_object_get(o, "capacity")),
			    str(o, "reason"));
		}
		return;
	}
	if ((list = json_object_get(rep, "devices")) != NULL) {
		printf("%-64s %-10s %-20s %-20s %s\n", "THUMBPRINT", "TENANT",
		    "LAST SEEN", "REVOKED", "SUBJECT");
		json_array_foreach(list, i, o)
			printf("%-64s %-10s %-20s %-20s %s\n",
			    str(o, "thumbprint"), str(o, "tenant"),
			    when(o, "last_seen", t1, sizeof(t1)),
			    when(o, "revoked_at", t2, sizeof(t2)),
			    str(o, "subject"));
		return;
	}
	if ((list = json_object_get(rep, "cuts")) != NULL) {
		printf("%-6s %-8s %-64s %-16s %-20s %s\n", "SEQ", "KIND",
		    "NAME", "REASON", "HELD UNTIL", "KEEP_JTI");
		json_array_foreach(list, i, o)
			printf("%-6lld %-8s %-64s %-16s %-20s %s\n",
			    (long long)json_integer_value(
				json_object_get(o, "seq")),
			    str(o, "kind"), str(o, "name"), str(o, "reason"),
			    when(o, "expires", t1, sizeof(t1)),
			    str(o, "keep_jti")[0] ? str(o, "keep_jti") : "-");
		printf("\n%-24s %-8s %s\n", "GATEWAY", "ACKED", "STATE");
		json_array_foreach(json_object_get(rep, "gateways"), i, o) {
			long long a = (long long)json_integer_value(
			    json_object_get(o, "acked"));

			printf("%-24s %-8lld %s\n", str(o, "name"), a,
			    json_is_true(json_object_get(o, "current"))
				? "has every cut"
				: a == 0 ? "NOT POLLING: cuts not acknowledged"
					 : "BEHIND: cuts not acknowledged");
		}
		return;
	}
	if (json_object_get(rep, "intact") != NULL) {
		if (json_is_true(json_object_get(rep, "intact"))) {
			list = json_object_get(rep, "chains");
			json_array_foreach(list, i, o)
				printf(
				    "chain %s: %lld rows intact, last %.16s\n",
				    *str(o, "tenant") != '\0' ? str(o, "tenant")
							      : "(no tenant)",
				    (long long)json_integer_value(
					json_object_get(o, "rows")),
				    str(o, "head"));
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
			    str(rep, "reason"),
			    (long long)json_integer_value(
				json_object_get(rep, "rows")));
		return;
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
			    when(o, "time", t1, sizeof(t1)), str(o, "actor"),
			    str(o, "action"), str(o, "outcome"),
			    str(o, "tenant"), str(o, "user"), str(o, "device"),
			    str(o, "session"), str(o, "reason"),
			    d ? " detail=" : "", d ? d : "");
			free(d);
		}
		return;
	}
	printf("%s: done\n", what);
}

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

/* A thumbprint or the start of one, as the broker takes it: lower-case
 * hex; colons (as openssl prints it) are dropped and upper case folded. */
static int
thumb_arg(const char *what, const char *in, char out[STORE_THUMB_MAX])
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		if (*in == ':')
			continue;
		if (n + 1 >= STORE_THUMB_MAX ||
		    strchr("0123456789abcdefABCDEF", *in) == NULL) {
			fprintf(stderr,
			    "vdictl: %s: expected the device certificate's "
			    "SHA-256 thumbprint, or its first digits, in hex "
			    "(vdictl devices list)\n",
			    what);
			return -1;
		}
		out[n++] = (char)(*in >= 'A' && *in <= 'F' ? *in + 32 : *in);
	}
	out[n] = '\0';
	if (n == 0) {
		fprintf(stderr, "vdictl: %s: empty thumbprint\n", what);
		return -1;
	}
	return 0;
}

/* audit export: the reply's rows as JSON lines in path (0600, written
 * whole or not at all): a header line, then one row per line. */
static int
export_write(const char *path, json_t *rep)
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
	    "tenant", str(rep, "tenant"), "exported",
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
	    str(rep, "tenant"), path, head ? head : "-");
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
	tenant = str(hdr, "tenant");
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
		strcmp(str(hdr, "head"), rows > 0 ? a.hash : "") != 0)) {
		snprintf(why, sizeof(why),
		    "the export ends after %lld rows, its header says %lld "
		    "rows ending in %.64s (rows were cut off the end)",
		    rows, want, str(hdr, "head"));
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

/* The options a command takes (others given with it are errors). */
enum {
	OPT_ALL = 1 << 0,
	OPT_REASON = 1 << 1,
	OPT_TENANT = 1 << 2,
	OPT_USER = 1 << 3,
	OPT_DEVICE = 1 << 4,
	OPT_SINCE = 1 << 5,
	OPT_LIMIT = 1 << 6,
	OPT_FILE = 1 << 7,
};

static const char *const opt_names[] = { "--all", "--reason", "--tenant",
	"--user", "--device", "--since", "--limit", "--file" };

/* Refuses the options given that the command does not take. */
static int
check_opts(const char *cmd, unsigned int given, unsigned int takes)
{
	size_t i;

	for (i = 0; i < sizeof(opt_names) / sizeof(opt_names[0]); i++)
		if ((given & ~takes) & (1u << i)) {
			fprintf(stderr, "vdictl: %s does not take %s\n", cmd,
			    opt_names[i]);
			return -1;
		}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *sock = getenv("VDI_BROKER_SOCKET");
	const char *a[8] = { NULL };
	const char *reason = NULL, *tenant = NULL, *user = NULL, *device = NULL;
	const char *since = NULL, *limit = NULL, *file = NULL;
	char what[64], dev[STORE_THUMB_MAX];
	json_t *req = NULL, *rep;
	int i, na = 0, all = 0, rc;
	unsigned int given = 0, takes = 0;
	json_int_t t;

	if (sock == NULL)
		sock = DEFAULT_SOCKET;
	for (i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char **dst = NULL;
		unsigned int bit = 0;

		if (strcmp(o, "--json") == 0)
			json_out = 1;
		else if (strcmp(o, "--all") == 0) {
			all = 1;
			given |= OPT_ALL;
		} else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(o, "-V") == 0 ||
		    strcmp(o, "--version") == 0) {
			vdi_version_print(stdout, "vdictl");
			return 0;
		} else if (strcmp(o, "-s") == 0)
			dst = &sock;
		else if (strcmp(o, "--reason") == 0)
			dst = &reason, bit = OPT_REASON;
		else if (strcmp(o, "--tenant") == 0)
			dst = &tenant, bit = OPT_TENANT;
		else if (strcmp(o, "--user") == 0)
			dst = &user, bit = OPT_USER;
		else if (strcmp(o, "--device") == 0)
			dst = &device, bit = OPT_DEVICE;
		else if (strcmp(o, "--since") == 0)
			dst = &since, bit = OPT_SINCE;
		else if (strcmp(o, "--limit") == 0)
			dst = &limit, bit = OPT_LIMIT;
		else if (strcmp(o, "--file") == 0)
			dst = &file, bit = OPT_FILE;
		else if (o[0] == '-') {
			fprintf(stderr, "vdictl: unknown option %s\n", o);
			usage(stderr);
			return 2;
		} else if (na < 8)
			a[na++] = o;
		else {
			fprintf(stderr, "vdictl: too many arguments\n");
			return 2;
		}
		if (dst != NULL) {
			if (++i >= argc) {
				fprintf(
				    stderr, "vdictl: %s needs a value\n", o);
				return 2;
			}
			*dst = argv[i];
			given |= bit;
		}
	}
#define IS(n, s) (na > (n) && strcmp(a[n], (s)) == 0)
	if (IS(0, "sessions") && IS(1, "list") && na == 2) {
		req =
		    json_pack("{s:s, s:b}", "cmd", "sessions.list", "all", all);
		takes = OPT_ALL | OPT_TENANT;
	} else if (IS(0, "sessions") && IS(1, "kill") && na == 3) {
		req =
		    json_pack("{s:s, s:s}", "cmd", "sessions.kill", "id", a[2]);
		takes = OPT_REASON;
	} else if (IS(0, "desktops") && IS(1, "list") && na == 2)
		req = json_pack("{s:s}", "cmd", "desktops.list");
	else if (IS(0, "desktops") && (IS(1, "drain") || IS(1, "enable")) &&
	    na == 3) {
		req = json_pack("{s:s, s:s}", "cmd",
		    IS(1, "drain") ? "desktops.drain" : "desktops.enable",
		    "name", a[2]);
		takes = OPT_REASON;
	} else if (IS(0, "devices") && IS(1, "list") && na == 2) {
		req = json_pack("{s:s}", "cmd", "devices.list");
		takes = OPT_TENANT;
	} else if (IS(0, "devices") && IS(1, "revoke") && na == 3) {
		if (thumb_arg("devices revoke", a[2], dev) != 0)
			return 2;
		req = json_pack(
		    "{s:s, s:s}", "cmd", "devices.revoke", "thumbprint", dev);
		takes = OPT_REASON;
	} else if (IS(0, "status") && na == 1)
		req = json_pack("{s:s}", "cmd", "status");
	else if (IS(0, "tenants") && IS(1, "list") && na == 2)
		req = json_pack("{s:s}", "cmd", "tenants.list");
	else if (IS(0, "cuts") && IS(1, "list") && na == 2)
		req = json_pack("{s:s}", "cmd", "cuts.list");
	else if (IS(0, "policy") && IS(1, "reload") && na == 2)
		req = json_pack("{s:s}", "cmd", "policy.reload");
	else if (IS(0, "policy") && IS(1, "mode") && na == 4) {
		req = json_pack(
		    "{s:s, s:s}", "cmd", "policy.mode", "tenant", a[2]);
		if (req != NULL)
			json_object_set_new(req, "mode",
			    strcmp(a[3], "default") == 0 ? json_null()
							 : json_string(a[3]));
		takes = OPT_REASON;
	} else if (IS(0, "audit") && IS(1, "verify") && na == 2 &&
	    file != NULL) {
		/* An export, checked here: no broker needed. */
		if (check_opts("audit verify --file", given, OPT_FILE) != 0)
			return 2;
		return export_verify(file);
	} else if (IS(0, "audit") && IS(1, "verify") && na == 2) {
		req = json_pack("{s:s}", "cmd", "audit.verify");
		takes = OPT_TENANT;
	} else if (IS(0, "audit") && IS(1, "export") && na == 2) {
		if (file == NULL || tenant == NULL) {
			fprintf(stderr,
			    "vdictl: audit export needs --tenant "
			    "and --file\n");
			return 2;
		}
		req = json_pack("{s:s}", "cmd", "audit.export");
		takes = OPT_TENANT | OPT_FILE | OPT_REASON;
	} else if (IS(0, "audit") && na == 1) {
		req = json_pack("{s:s}", "cmd", "audit.query");
		takes =
		    OPT_TENANT | OPT_USER | OPT_DEVICE | OPT_SINCE | OPT_LIMIT;
		if (since != NULL) {
			if (parse_since(since, &t) != 0) {
				fprintf(stderr,
				    "vdictl: --since %s: expected a time with "
				    "offset (2026-11-21T09:00+09:00), a unix "
				    "time, or an age (90m, 2h, 1d)\n",
				    since);
				json_decref(req);
				return 2;
			}
			json_object_set_new(req, "since", json_integer(t));
		}
		if (limit != NULL) {
			char *end;
			long long v;

			errno = 0;
			v = strtoll(limit, &end, 10);
			if (*limit < '0' || *limit > '9' || *end != '\0' ||
			    errno != 0 || v > 1000000000) {
				fprintf(stderr,
				    "vdictl: --limit %s: expected a number of "
				    "rows (0: no limit)\n",
				    limit);
				json_decref(req);
				return 2;
			}
			json_object_set_new(req, "limit", json_integer(v));
		}
		if (device != NULL) {
			if (thumb_arg("--device", device, dev) != 0) {
				json_decref(req);
				return 2;
			}
			device = dev;
		}
	} else {
		usage(stderr);
		return 2;
	}
	if (req == NULL)
		return 1;
	if (check_opts(json_string_value(json_object_get(req, "cmd")), given,
		takes) != 0) {
		json_decref(req);
		return 2;
	}
	if (reason != NULL)
		json_object_set_new(req, "reason", json_string(reason));
	if (tenant != NULL)
		json_object_set_new(req, "tenant", json_string(tenant));
	if (user != NULL)
		json_object_set_new(req, "user", json_string(user));
	if (device != NULL)
		json_object_set_new(req, "device", json_string(device));
	snprintf(what, sizeof(what), "%s",
	    json_string_value(json_object_get(req, "cmd")));
	rep = call(sock, req);
	json_decref(req);
	if (rep == NULL)
		return 1;
	rc = json_is_true(json_object_get(rep, "ok")) ? 0 : 1;
	if (rc == 0 && json_object_get(rep, "intact") != NULL &&
	    !json_is_true(json_object_get(rep, "intact")))
		rc = 3; /* audit verify found tampering */
	if (rc == 0 && strcmp(what, "audit.export") == 0) {
		/* The rows go to the file, whatever the output format. */
		rc = export_write(file, rep);
	} else if (json_out) {
		char *s = json_dumps(rep, JSON_INDENT(2) | JSON_SORT_KEYS);

		printf("%s\n", s ? s : "{}");
		free(s);
	} else if (rc == 1) {
		fprintf(stderr, "vdictl: %s: %s\n", str(rep, "error"),
		    str(rep, "message"));
	} else {
		print_human(what, rep);
	}
	json_decref(rep);
	return rc;
}
