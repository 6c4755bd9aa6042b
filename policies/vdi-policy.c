/*
 * vdi-policy: check a policy file, or explain a decision.
 *
 *   vdi-policy check [-q] FILE
 *   vdi-policy explain FILE --user U [--groups a,b] --from ADDR
 *       (--cert device.pem | --tenant T --device-class C)
 *       [--at 2026-11-21T09:00+09:00] [--mode NAME] [--json]
 *
 * check: exit 0 when the file loads, else print every problem on stderr
 * and exit 1 (like sshd -t). explain: print the decision and why; exit 0
 * for allow, 2 for deny, 1 for a usage, policy or certificate error.
 * See vdi-policy(1).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "policy.h"
#include "procinfo.h"

#define EXIT_DENY  2
#define MAX_GROUPS 256

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: vdi-policy check [-q] FILE\n"
	    "       vdi-policy explain FILE --user USER [--groups G1,G2]\n"
	    "           --from ADDRESS (--cert DEVICE.pem | --tenant T "
	    "--device-class C)\n"
	    "           [--at 2026-11-21T09:00+09:00] [--mode NAME|none] "
	    "[--json]\n"
	    "       vdi-policy -V | --version | -h | --help\n");
}

static int
load(const char *path, struct policy **p)
{
	struct policy_errors errs;
	int r;

	r = policy_load_file(path, NULL, p, &errs);
	if (r != 0) {
		if (errs.text != NULL)
			fputs(errs.text, stderr);
		if (errs.truncated)
			fprintf(stderr, "%s: ... %zu errors in all\n", path,
			    errs.count);
		if (r != VDI_ERR_CONFIG)
			fprintf(stderr, "%s: %s\n", path, vdi_strerror(r));
		policy_errors_clear(&errs);
		return 1;
	}
	policy_errors_clear(&errs);
	return 0;
}

static void
print_warning(const char *line, void *arg)
{
	fprintf(stderr, "%s\n", line);
}

static int
cmd_check(int argc, char **argv)
{
	struct policy *p = NULL;
	size_t i, ndesk = 0, nrules;
	int quiet = 0, ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "q")) != -1) {
		if (ch != 'q') {
			usage(stderr);
			return 1;
		}
		quiet = 1;
	}
	if (argc - optind != 1) {
		usage(stderr);
		return 1;
	}
	if (load(argv[optind], &p) != 0)
		return 1;
	if (!quiet) {
		nrules = policy_rule_count(p);
		for (i = 0; i < policy_mode_count(p); i++)
			nrules += policy_mode_rule_count(policy_mode_at(p, i));
		for (i = 0; i < policy_pool_count(p); i++)
			ndesk +=
			    policy_pool_desktop_count(policy_pool_at(p, i));
		printf("%s: ok: %zu tenants, %zu pools, %zu desktops, %zu "
		       "rules, %zu modes\n",
		    argv[optind], policy_tenant_count(p), policy_pool_count(p),
		    ndesk, nrules, policy_mode_count(p));
		fflush(stdout);
	}
	/* After the summary, and even with -q: the file loads, but the
	 * daemons will refuse part of it. */
	(void)policy_warnings(p, print_warning, NULL);
	policy_unref(p);
	return 0;
}

static X509 *
read_cert(const char *path)
{
	FILE *f;
	X509 *x;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "vdi-policy: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	if (x == NULL) {
		rewind(f);
		x = d2i_X509_fp(f, NULL);
	}
	fclose(f);
	ERR_clear_error();
	if (x == NULL)
		fprintf(stderr,
		    "vdi-policy: %s: not a PEM or DER certificate\n", path);
	return x;
}

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

struct trace_ctx {
	int json;
	json_t *arr;
	unsigned int n;
};

static void
trace_fn(void *arg, const struct policy_rule *r, unsigned int failed)
{
	struct trace_ctx *tc = arg;
	char why[128];
	unsigned int bit;
	size_t len;

	why[0] = '\0';
	for (bit = 1; bit <= POLICY_COND_TIME; bit <<= 1)
		if (failed & bit) {
			len = strlen(why);
			snprintf(why + len, sizeof(why) - len, "%s%s",
			    len > 0 ? ", " : "", policy_cond_str(bit));
		}
	tc->n++;
	if (tc->json) {
		json_array_append_new(tc->arr,
		    json_pack("{s:s, s:s, s:i, s:s, "
			      "s:s, s:b, s:s}",
			"rule", policy_rule_name(r), "file",
			policy_rule_file(r), "line", (int)policy_rule_line(r),
			"action", policy_rule_allows(r) ? "allow" : "deny",
			"mode",
			policy_rule_mode(r) != NULL
			    ? policy_mode_name(policy_rule_mode(r))
			    : "none",
			"match", failed == 0, "failed", why));
		return;
	}
	printf("  %u. %s (%s:%u) %s%s%s: %s%s\n", tc->n, policy_rule_name(r),
	    policy_rule_file(r), policy_rule_line(r),
	    policy_rule_allows(r) ? "allow" : "deny",
	    policy_rule_mode(r) != NULL ? ", mode " : "",
	    policy_rule_mode(r) != NULL ? policy_mode_name(policy_rule_mode(r))
					: "",
	    failed == 0 ? "MATCH" : "no match on ", why);
}

static const char *
device_status_str(enum policy_device_status s)
{
	switch (s) {
	case POLICY_DEVICE_OK:
		return "ok";
	case POLICY_DEVICE_UNKNOWN_CA:
		return "unknown tenant";
	case POLICY_DEVICE_REJECTED:
		return "device certificate rejected";
	case POLICY_DEVICE_BAD_CLASS:
		return "device class not allowed";
	case POLICY_DEVICE_EXPIRED:
		return "device certificate expired";
	case POLICY_DEVICE_NOT_YET_VALID:
		return "device certificate not yet valid";
	case POLICY_DEVICE_REVOKED:
		return "device certificate revoked";
	}
	return "?";
}

static void
reason_line(const struct policy_decision *d, char *buf, size_t len)
{
	switch (d->reason) {
	case POLICY_REASON_ALLOWED:
		snprintf(
		    buf, len, "allowed by rule %s", policy_rule_name(d->rule));
		break;
	case POLICY_REASON_RULE_DENIES:
		snprintf(buf, len, "rule %s denies", policy_rule_name(d->rule));
		break;
	case POLICY_REASON_OUTSIDE_TIME:
	case POLICY_REASON_SITE:
	case POLICY_REASON_GROUP:
	case POLICY_REASON_DEVICE_CLASS:
		if (d->closest != NULL) {
			snprintf(buf, len,
			    "%s (no rule matched; closest: rule "
			    "%s at %s:%u fails only on %s)",
			    policy_reason_str(d->reason),
			    policy_rule_name(d->closest),
			    policy_rule_file(d->closest),
			    policy_rule_line(d->closest),
			    policy_cond_str(d->closest_failed));
			break;
		}
		/* FALLTHROUGH */
	default:
		snprintf(buf, len, "%s", policy_reason_str(d->reason));
		break;
	}
}

static int
cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "groups", required_argument, NULL, 'g' },
		{ "cert", required_argument, NULL, 'c' },
		{ "tenant", required_argument, NULL, 't' },
		{ "device-class", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' },
		{ "at", required_argument, NULL, 'a' },
		{ "mode", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct policy *p = NULL;
	struct policy_request req;
	struct policy_decision d;
	struct policy_device dev;
	struct trace_ctx tc;
	struct vdi_addr from;
	const char *user = NULL, *cert_path = NULL, *tenant = NULL;
	const char *dclass = NULL, *from_s = NULL, *at_s = NULL, *mode = NULL;
	const char *groups[MAX_GROUPS];
	char *groups_s = NULL, *tok, *save = NULL, reason[512], when[64];
	char chbuf[64];
	json_t *jo = NULL, *ja;
	X509 *cert = NULL;
	size_t ngroups = 0, i;
	int64_t now;
	int ch, json = 0, rc = 1, denied_device = 0;

	memset(&dev, 0, sizeof(dev));
	memset(&tc, 0, sizeof(tc));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			user = optarg;
			break;
		case 'g':
			groups_s = optarg;
			break;
		case 'c':
			cert_path = optarg;
			break;
		case 't':
			tenant = optarg;
			break;
		case 'd':
			dclass = optarg;
			break;
		case 'f':
			from_s = optarg;
			break;
		case 'a':
			at_s = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'j':
			json = 1;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind != 1 || user == NULL || from_s == NULL ||
	    (cert_path == NULL) == (tenant == NULL) ||
	    (tenant == NULL) != (dclass == NULL)) {
		usage(stderr);
		return 1;
	}
	if (vdi_addr_parse(from_s, &from) != 0) {
		fprintf(stderr,
		    "vdi-policy: --from %s: not an IPv4 or IPv6 "
		    "address\n",
		    from_s);
		return 1;
	}
	if (at_s != NULL) {
		if (policy_time_parse(at_s, &now) != 0) {
			fprintf(stderr,
			    "vdi-policy: --at %s: expected "
			    "YYYY-MM-DDTHH:MM[:SS] with Z or +HH:MM\n",
			    at_s);
			return 1;
		}
	} else
		now = (int64_t)time(NULL);
	if (groups_s != NULL) {
		for (tok = strtok_r(groups_s, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			if (ngroups == MAX_GROUPS) {
				fprintf(
				    stderr, "vdi-policy: too many groups\n");
				return 1;
			}
			groups[ngroups++] = tok;
		}
	}
	if (load(argv[optind], &p) != 0)
		return 1;
	if (cert_path != NULL) {
		if ((cert = read_cert(cert_path)) == NULL)
			goto out;
		if (policy_identify(p, cert, now, &dev) != 0)
			goto out;
		tenant =
		    dev.tenant != NULL ? policy_tenant_name(dev.tenant) : NULL;
		dclass = dev.device_class;
		denied_device = dev.status != POLICY_DEVICE_OK;
	}

	memset(&req, 0, sizeof(req));
	req.tenant = tenant;
	req.user = user;
	req.groups = groups;
	req.ngroups = ngroups;
	req.device_class = dclass;
	req.from = &from;
	req.now = now;
	req.mode = mode;
	tc.json = json;
	if (json) {
		tc.arr = json_array();
		jo = json_object();
	}
	if (denied_device) {
		memset(&d, 0, sizeof(d));
		d.verdict = POLICY_DENY;
		d.tenant = dev.tenant;
		snprintf(reason, sizeof(reason), "%s (%s)",
		    device_status_str(dev.status), dev.detail);
	} else {
		if (policy_evaluate(p, &req, &d, NULL, NULL) != 0)
			goto out;
		reason_line(&d, reason, sizeof(reason));
	}
	fmt_time(now, when, sizeof(when));

	if (json) {
		ja = json_array();
		for (i = 0; i < d.npools; i++)
			json_array_append_new(
			    ja, json_string(policy_pool_name(d.pools[i])));
		json_object_set_new(jo, "verdict",
		    json_string(d.verdict == POLICY_ALLOW ? "allow" : "deny"));
		json_object_set_new(jo, "pools", ja);
		json_object_set_new(jo, "reason", json_string(reason));
		if (d.rule != NULL)
			json_object_set_new(jo, "rule",
			    json_pack("{s:s, s:s, "
				      "s:i}",
				"name", policy_rule_name(d.rule), "file",
				policy_rule_file(d.rule), "line",
				(int)policy_rule_line(d.rule)));
		json_object_set_new(jo, "mode",
		    json_string(
			d.mode != NULL ? policy_mode_name(d.mode) : "none"));
		if (d.verdict == POLICY_ALLOW) {
			json_object_set_new(jo, "limits",
			    json_pack("{s:i, s:i, "
				      "s:i, s:b, s:b, s:b}",
				"idle_disconnect",
				(int)d.limits.idle_disconnect,
				"reconnect_window",
				(int)d.limits.reconnect_window, "max_session",
				(int)d.limits.max_session, "single_session",
				d.limits.single_session, "reconnect_ticket",
				d.limits.reconnect_ticket, "shared_device",
				d.limits.shared_device));
			json_object_set_new(jo, "channels",
			    json_string(policy_channels_format(
				d.channels, chbuf, sizeof(chbuf))));
		}
		json_object_set_new(jo, "request",
		    json_pack("{s:s?, s:s?, "
			      "s:s, s:s, s:s}",
			"tenant", tenant, "device_class", dclass, "user", user,
			"from", from_s, "at", when));
		if (!denied_device &&
		    policy_evaluate(p, &req, &d, trace_fn, &tc) != 0)
			goto out;
		json_object_set_new(jo, "trace", tc.arr);
		tc.arr = NULL;
		if (json_dumpf(
			jo, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
			goto out;
		printf("\n");
	} else {
		if (d.verdict == POLICY_ALLOW) {
			printf("allow pool=%s pools=",
			    policy_pool_name(d.pools[0]));
			for (i = 0; i < d.npools; i++)
				printf("%s%s", i > 0 ? "," : "",
				    policy_pool_name(d.pools[i]));
			printf("\n");
		} else
			printf("deny\n");
		printf("reason: %s\n", reason);
		if (d.rule != NULL)
			printf("rule: %s (%s:%u)\n", policy_rule_name(d.rule),
			    policy_rule_file(d.rule), policy_rule_line(d.rule));
		else
			printf("rule: none\n");
		printf("mode: %s\n",
		    d.mode != NULL ? policy_mode_name(d.mode) : "none");
		if (d.verdict == POLICY_ALLOW) {
			printf("limits: idle_disconnect=%u reconnect_window=%u "
			       "max_session=%u single_session=%s "
			       "reconnect_ticket=%s shared_device=%s\n",
			    d.limits.idle_disconnect, d.limits.reconnect_window,
			    d.limits.max_session,
			    d.limits.single_session ? "yes" : "no",
			    d.limits.reconnect_ticket ? "yes" : "no",
			    d.limits.shared_device ? "yes" : "no");
			printf("channels: %s\n",
			    policy_channels_format(
				d.channels, chbuf, sizeof(chbuf)));
		}
		printf("request: tenant=%s device_class=%s user=%s groups=",
		    tenant != NULL ? tenant : "?",
		    dclass != NULL && *dclass != '\0' ? dclass : "?", user);
		for (i = 0; i < ngroups; i++)
			printf("%s%s", i > 0 ? "," : "", groups[i]);
		printf(" from=%s at=%s\n", from_s, when);
		if (!denied_device) {
			printf("trace:\n");
			if (policy_evaluate(p, &req, &d, trace_fn, &tc) != 0)
				goto out;
		}
	}
	rc = d.verdict == POLICY_ALLOW ? 0 : EXIT_DENY;
out:
	json_decref(jo);
	json_decref(tc.arr);
	X509_free(cert);
	policy_unref(p);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 &&
	    (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		vdi_version_print(stdout, "vdi-policy");
		return 0;
	}
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (strcmp(argv[1], "check") == 0 || strcmp(argv[1], "-t") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "explain") == 0)
		return cmd_explain(argc - 1, argv + 1);
	usage(stderr);
	return 1;
}
