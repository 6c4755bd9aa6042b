/*
 * fuzz_apireq.c: the broker's request bodies and admin commands.
 *
 * The input is a JSON body. It goes through the same checks as the API's
 * handlers (apireq_*), and then, as an admin request, through admin_run()
 * against a real broker state: a SQLite store in a temporary folder and a
 * small policy, set up once. Nothing may crash, leak or loop. It runs
 * first as an admin of no tenant, who must get empty lists and no change
 * (every other answer refused), then as the tenant's admin, then as an
 * operator.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "apireq.h"
#include "gwapi.h"
#include "vlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct broker B;

static const char *const policy_text =
    "version = 1;\n"
    "zones = { dc = { networks = [\"10.0.0.0/8\"]; }; };\n"
    "tenants = { t = { ca = \"ca.pem\"; crl = \"crl.pem\";\n"
    "  device = { subject = { O = \"t\"; }; classes = [\"c\"]; };\n"
    "  admins = [\"fa\"]; }; };\n"
    "pools = { p = { tenant = \"t\"; zone = \"dc\"; assignment = \"pooled\";\n"
    "  security = \"tls\"; desktops = ( { name = \"d1\"; address = "
    "\"10.0.0.1\"; } ); }; };\n"
    "modes = { m = { tenants = [\"t\"]; }; };\n"
    "rules = ( { name = \"r\"; action = \"allow\"; pools = [\"p\"]; } );\n";

static void
setup(void)
{
	struct policy_load_opts o = { NULL, 1 };
	struct policy_errors e = { 0 };
	struct store_session s;
	char dir[] = "/tmp/fuzz-apireq-XXXXXX", path[64], err[256];

	vlog_init("fuzz", VLOG_STDERR, VLOG_ERROR + 1);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/b.db", dir);
	if (store_open_sqlite(path, &B.store, err, sizeof(err)) != 0 ||
	    policy_load_string(
		policy_text, "fuzz.conf", NULL, &o, &B.policy, &e) != 0 ||
	    gwq_init(&B) != 0)
		abort();
	snprintf(B.conf.policy, sizeof(B.conf.policy), "%s/none.conf", dir);
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "s1");
	snprintf(s.tenant, sizeof(s.tenant), "t");
	snprintf(s.user, sizeof(s.user), "u");
	snprintf(s.device, sizeof(s.device), "%064d", 0);
	snprintf(s.pool, sizeof(s.pool), "p");
	snprintf(s.desktop, sizeof(s.desktop), "d1");
	(void)!store_session_create(B.store, &s);
}

/* An admin of no tenant sees nothing and changes nothing. */
static void
check_outsider(json_t *rep)
{
	static const char *const lists[] = { "sessions", "devices", "desktops",
		"rows", "chains", NULL };
	size_t i;

	if (!json_is_object(rep) ||
	    !json_is_boolean(json_object_get(rep, "ok")))
		abort();
	if (!json_is_true(json_object_get(rep, "ok")))
		return;
	/* Only lists (empty) and an audit check (of nothing) may succeed. */
	for (i = 0; lists[i] != NULL; i++)
		if (json_array_size(json_object_get(rep, lists[i])) != 0)
			abort();
	if (json_object_get(rep, "intact") != NULL) {
		if (json_integer_value(json_object_get(rep, "rows")) != 0)
			abort();
		return;
	}
	for (i = 0; lists[i] != NULL; i++)
		if (json_is_array(json_object_get(rep, lists[i])))
			return;
	abort(); /* an answer that did something */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apireq_login l;
	struct apireq_commands c;
	struct apireq_error e;
	const char *s;
	json_t *body = NULL, *rep;
	size_t n;

	if (B.store == NULL)
		setup();
	if (apireq_json(data, size, &body, &e) != 0) {
		if (body != NULL || e.code == NULL)
			abort();
		return 0;
	}
	if (apireq_login(body, &l, &e) == 0 && l.step && l.nanswers > 8)
		abort();
	(void)!apireq_reconnect(body, &s, &e);
	(void)!apireq_logoff(body, &s, &e);
	if (apireq_events(body, &n, &e) == 0 && n > APIREQ_EVENTS_MAX)
		abort();
	if (apireq_commands(body, 30, &c, &e) == 0 &&
	    (c.wait < 0 || c.wait > 30))
		abort();
	/* policy.reload would try to read a file: not interesting here. */
	s = json_string_value(json_object_get(body, "cmd"));
	if (s == NULL || strcmp(s, "policy.reload") != 0) {
		struct admin_caller who;

		memset(&who, 0, sizeof(who));
		snprintf(who.user, sizeof(who.user), "fb");
		snprintf(who.actor, sizeof(who.actor), "admin:fb");
		rep = admin_run_as(&B, &who, body);
		check_outsider(rep);
		json_decref(rep);
		snprintf(who.user, sizeof(who.user), "fa");
		snprintf(who.actor, sizeof(who.actor), "admin:fa");
		rep = admin_run_as(&B, &who, body);
		if (!json_is_object(rep) ||
		    !json_is_boolean(json_object_get(rep, "ok")))
			abort();
		json_decref(rep);
		rep = admin_run(&B, "admin:fuzz", body);
		if (!json_is_object(rep) ||
		    !json_is_boolean(json_object_get(rep, "ok")))
			abort();
		json_decref(rep);
	}
	json_decref(body);
	return 0;
}
