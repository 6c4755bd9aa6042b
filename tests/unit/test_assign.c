/* Unit tests for broker/assign.c on a real store and a real policy. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "assign.h"

static const char *const policy_text =
    "version = 1;\n"
    "limits = { idle_disconnect = \"15m\"; reconnect_window = \"5m\"; };\n"
    "sites = { office = [\"192.0.2.0/24\"]; };\n"
    "zones = { dc = { networks = [\"10.0.0.0/8\"]; }; };\n"
    "tenants = { city-a = { ca = \"ca.pem\"; crl = \"crl.pem\";\n"
    "  device = { subject = { O = \"city-a\"; };\n"
    "    classes = [\"field-tablet\"]; }; }; };\n"
    "pools = {\n"
    "  own = { tenant = \"city-a\"; zone = \"dc\"; assignment = "
    "\"persistent\";\n"
    "    security = \"tls\"; desktops = (\n"
    "      { name = \"own-1\"; address = \"10.0.0.1\"; },\n"
    "      { name = \"own-2\"; address = \"10.0.0.2\"; } ); };\n"
    "  shared = { tenant = \"city-a\"; zone = \"dc\"; assignment = "
    "\"pooled\";\n"
    "    security = \"tls\"; capacity = 2; desktops = (\n"
    "      { name = \"pool-1\"; address = \"10.0.1.1\"; },\n"
    "      { name = \"pool-2\"; address = \"10.0.1.2\"; } ); };\n"
    "};\n"
    "rules = (\n"
    "  { name = \"own-first\"; action = \"allow\"; users = [\"alice\", "
    "\"bob\", \"carol\"];\n"
    "    pools = [\"own\", \"shared\"]; },\n"
    "  { name = \"pooled\"; action = \"allow\"; pools = [\"shared\"]; }\n"
    ");\n";

struct fx {
	char dir[256], path[300];
	struct store *st;
	struct policy *p;
	int n;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct policy_load_opts o = { NULL, 1 };
	struct policy_errors e = { 0 };
	const char *base = getenv("top_builddir");
	char err[256];

	snprintf(f->dir, sizeof(f->dir), "%s/test-assign-XXXXXX",
	    base ? base : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/b.db", f->dir);
	if (store_open_sqlite(f->path, &f->st, err, sizeof(err)) != 0)
		return -1;
	if (policy_load_string(
		policy_text, "assign.conf", NULL, &o, &f->p, &e) != 0) {
		fprintf(stderr, "%s", e.text ? e.text : "policy failed\n");
		policy_errors_clear(&e);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char p[400];

	store_close(f->st);
	policy_unref(f->p);
	snprintf(p, sizeof(p), "rm -rf '%s'", f->dir);
	if (system(p) != 0)
		return -1;
	free(f);
	return 0;
}

static void
healthy(struct fx *f, const char *d, int h)
{
	assert_int_equal(
	    store_desktop_set_health(f->st, d, h, h ? "ok" : "down", 100), 0);
}

static void
all_healthy(struct fx *f)
{
	healthy(f, "own-1", 1);
	healthy(f, "own-2", 1);
	healthy(f, "pool-1", 1);
	healthy(f, "pool-2", 1);
}

static int
assign(struct fx *f, const char *user, const char *device,
    struct assign_result *res)
{
	struct policy_request pr;
	struct policy_decision d;
	struct assign_request ar;
	char sid[33];

	memset(&pr, 0, sizeof(pr));
	pr.tenant = "city-a";
	pr.user = user;
	pr.device_class = "field-tablet";
	pr.now = 1000;
	assert_int_equal(policy_evaluate(f->p, &pr, &d, NULL, NULL), 0);
	assert_int_equal(d.verdict, POLICY_ALLOW);
	snprintf(sid, sizeof(sid), "%032d", ++f->n);
	memset(&ar, 0, sizeof(ar));
	ar.tenant = "city-a";
	ar.user = user;
	ar.device = device;
	ar.decision = &d;
	ar.session_id = sid;
	ar.now = 1000 + f->n;
	return assign_desktop(f->st, f->p, &ar, res);
}

/* A grant as the broker makes it, with limits changed after the policy's
 * decision: single_session, max_session, and for a reconnect ticket the
 * ticket's session (NULL for a login). */
static int
assign_with(struct fx *f, const char *user, const char *ticket_session,
    int single, unsigned int max_session, int64_t now,
    struct assign_result *res)
{
	struct policy_request pr;
	struct policy_decision d;
	struct assign_request ar;
	char sid[33];

	memset(&pr, 0, sizeof(pr));
	pr.tenant = "city-a";
	pr.user = user;
	pr.device_class = "field-tablet";
	pr.now = 1000;
	assert_int_equal(policy_evaluate(f->p, &pr, &d, NULL, NULL), 0);
	d.limits.single_session = single;
	d.limits.max_session = max_session;
	snprintf(sid, sizeof(sid), "%032d", ++f->n);
	memset(&ar, 0, sizeof(ar));
	ar.tenant = "city-a";
	ar.user = user;
	ar.device = "dev-a";
	ar.decision = &d;
	ar.session_id = sid;
	ar.reconnect_session = ticket_session;
	ar.now = now;
	return assign_desktop(f->st, f->p, &ar, res);
}

static int
count_live(const struct store_session *s, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void
assign_desktop__when_ticket_and_not_single_session__its_own_session(
    void **state)
{
	struct fx *f = *state;
	struct assign_result r1, r2, r3;
	int n = 0;

	all_healthy(f);
	/* single_session = false: each login is a session of its own */
	assert_int_equal(assign_with(f, "dave", NULL, 0, 0, 1000, &r1), 0);
	assert_int_equal(r1.how, ASSIGN_POOLED);
	assert_int_equal(assign_with(f, "dave", NULL, 0, 0, 1001, &r2), 0);
	assert_string_not_equal(r2.session.id, r1.session.id);
	/* the first one's ticket brings back the first one, no new one */
	assert_int_equal(
	    assign_with(f, "dave", r1.session.id, 0, 0, 1002, &r3), 0);
	assert_int_equal(r3.how, ASSIGN_REUSED);
	assert_string_equal(r3.session.id, r1.session.id);
	assert_int_equal(r3.session.updated, 1002);
	assert_int_equal(store_session_list(f->st, 0, count_live, &n), 0);
	assert_int_equal(n, 2);
	/* a ticket whose session ended gets nothing, and makes nothing */
	assert_int_equal(store_session_set_state(f->st, r1.session.id,
			     STORE_SESSION_ENDED, "logoff", 1003),
	    0);
	assert_int_equal(assign_with(f, "dave", r1.session.id, 0, 0, 1004, &r3),
	    VDI_ERR_NOT_FOUND);
	assert_non_null(strstr(r3.reason, "ticket"));
	assert_int_equal(assign_with(f, "dave", r1.session.id, 1, 0, 1004, &r3),
	    VDI_ERR_NOT_FOUND);
	n = 0;
	assert_int_equal(store_session_list(f->st, 0, count_live, &n), 0);
	assert_int_equal(n, 1);
	/* nor does another user's session */
	assert_int_equal(assign_with(f, "erin", r2.session.id, 0, 0, 1005, &r3),
	    VDI_ERR_NOT_FOUND);
}

static void
assign_desktop__when_max_session__deadline_fixed_at_start(void **state)
{
	struct fx *f = *state;
	struct assign_result r1, r2;

	all_healthy(f);
	assert_int_equal(assign_with(f, "dave", NULL, 1, 600, 1000, &r1), 0);
	assert_int_equal(r1.session.deadline, 1600);
	/* a reconnect under a shorter (or longer) max_session keeps it */
	assert_int_equal(
	    assign_with(f, "dave", r1.session.id, 1, 60, 1100, &r2), 0);
	assert_string_equal(r2.session.id, r1.session.id);
	assert_int_equal(r2.session.deadline, 1600);
	assert_int_equal(
	    assign_with(f, "dave", r1.session.id, 1, 6000, 1200, &r2), 0);
	assert_int_equal(r2.session.deadline, 1600);
	/* at the deadline: a ticket gets nothing, a login a new session */
	assert_int_equal(
	    assign_with(f, "dave", r1.session.id, 1, 600, 1600, &r2),
	    VDI_ERR_NOT_FOUND);
	assert_int_equal(assign_with(f, "dave", NULL, 1, 600, 1600, &r2), 0);
	assert_string_not_equal(r2.session.id, r1.session.id);
	assert_int_equal(r2.session.deadline, 2200);
	/* no max_session: no deadline */
	assert_int_equal(assign_with(f, "erin", NULL, 1, 0, 1000, &r2), 0);
	assert_int_equal(r2.session.deadline, 0);
}

static void
assign_desktop__when_first_login__persistent_then_kept(void **state)
{
	struct fx *f = *state;
	struct assign_result r1, r2;

	all_healthy(f);
	assert_int_equal(assign(f, "alice", "dev-a", &r1), 0);
	assert_int_equal(r1.how, ASSIGN_PERSISTENT);
	assert_string_equal(r1.desktop->name, "own-1");
	assert_int_equal(assign(f, "bob", "dev-b", &r2), 0);
	assert_string_equal(r2.desktop->name, "own-2");
	/* alice logs off, logs in again: same desktop, new session */
	assert_int_equal(store_session_set_state(f->st, r1.session.id,
			     STORE_SESSION_ENDED, "logoff", 2000),
	    0);
	assert_int_equal(assign(f, "alice", "dev-a", &r2), 0);
	assert_int_equal(r2.how, ASSIGN_PERSISTENT);
	assert_string_equal(r2.desktop->name, "own-1");
	assert_string_not_equal(r2.session.id, r1.session.id);
}

static void
assign_desktop__when_live_session__reused_and_takeover_flagged(void **state)
{
	struct fx *f = *state;
	struct assign_result r1, r2, r3;

	all_healthy(f);
	assert_int_equal(assign(f, "alice", "dev-a", &r1), 0);
	assert_int_equal(assign(f, "alice", "dev-a", &r2), 0);
	assert_int_equal(r2.how, ASSIGN_REUSED);
	assert_string_equal(r2.session.id, r1.session.id);
	assert_int_equal(r2.takeover, 0);
	/* from another device: same session, taken over */
	assert_int_equal(assign(f, "alice", "dev-z", &r3), 0);
	assert_int_equal(r3.how, ASSIGN_REUSED);
	assert_string_equal(r3.session.id, r1.session.id);
	assert_int_equal(r3.takeover, 1);
	assert_string_equal(r3.previous_device, "dev-a");
	assert_string_equal(r3.session.device, "dev-z");
}

static void
assign_desktop__when_persistent_full__falls_to_pooled_least_loaded(void **state)
{
	struct fx *f = *state;
	struct assign_result r;

	all_healthy(f);
	assert_int_equal(assign(f, "alice", "d1", &r), 0); /* own-1 */
	assert_int_equal(assign(f, "bob", "d2", &r), 0);   /* own-2 */
	/* carol: persistent pool full (capacity 1 each), goes pooled */
	assert_int_equal(assign(f, "carol", "d3", &r), 0);
	assert_int_equal(r.how, ASSIGN_POOLED);
	assert_string_equal(r.desktop->name, "pool-1");
	/* dave is only allowed pooled: least loaded is pool-2 */
	assert_int_equal(assign(f, "dave", "d4", &r), 0);
	assert_string_equal(r.desktop->name, "pool-2");
	assert_int_equal(assign(f, "erin", "d5", &r), 0);
	assert_string_equal(r.desktop->name, "pool-1");
	assert_int_equal(assign(f, "frank", "d6", &r), 0);
	assert_string_equal(r.desktop->name, "pool-2");
	/* capacity 2 x 2 used up */
	assert_int_equal(assign(f, "gina", "d7", &r), VDI_ERR_NOT_FOUND);
	assert_non_null(strstr(r.reason, "2 full"));
}

static void
assign_desktop__when_unhealthy_or_drained__skipped(void **state)
{
	struct fx *f = *state;
	struct assign_result r;

	all_healthy(f);
	healthy(f, "pool-1", 0);
	assert_int_equal(assign(f, "dave", "d4", &r), 0);
	assert_string_equal(r.desktop->name, "pool-2");
	assert_int_equal(store_desktop_set_drained(f->st, "pool-2", 1), 0);
	assert_int_equal(assign(f, "erin", "d5", &r), VDI_ERR_NOT_FOUND);
	assert_non_null(strstr(r.reason, "1 unhealthy, 1 drained"));
	/* never probed counts as unhealthy */
	assert_int_equal(store_desktop_set_drained(f->st, "pool-2", 0), 0);
	assert_int_equal(assign(f, "erin", "d5", &r), 0);
	assert_string_equal(r.desktop->name, "pool-2");
}

static void
assign_desktop__when_own_desktop_down__not_given_someone_elses(void **state)
{
	struct fx *f = *state;
	struct assign_result r;

	all_healthy(f);
	assert_int_equal(assign(f, "alice", "d1", &r), 0); /* own-1 */
	assert_int_equal(store_session_set_state(f->st, r.session.id,
			     STORE_SESSION_ENDED, "logoff", 2000),
	    0);
	healthy(f, "own-1", 0);
	/* own-2 is free, but it is not alice's: she goes to the pool */
	assert_int_equal(assign(f, "alice", "d1", &r), 0);
	assert_int_equal(r.how, ASSIGN_POOLED);
	assert_string_equal(r.desktop->name, "pool-1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    assign_desktop__when_first_login__persistent_then_kept,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    assign_desktop__when_live_session__reused_and_takeover_flagged,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    assign_desktop__when_persistent_full__falls_to_pooled_least_loaded,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    assign_desktop__when_unhealthy_or_drained__skipped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    assign_desktop__when_own_desktop_down__not_given_someone_elses,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    assign_desktop__when_ticket_and_not_single_session__its_own_session,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    assign_desktop__when_max_session__deadline_fixed_at_start,
		    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
