/* Unit tests for gateway/cutset.c: the gateway's held cuts. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cutset.h"

#define SID  "0123456789abcdef0123456789abcdef"
#define SID2 "fedcba9876543210fedcba9876543210"
#define DEV  "aa00000000000000000000000000000000000000000000000000000000000000"
#define DEV2 "bb00000000000000000000000000000000000000000000000000000000000000"

static struct cut
mk(enum cut_kind kind, const char *key, const char *keep, int64_t time)
{
	struct cut c;

	memset(&c, 0, sizeof(c));
	c.kind = kind;
	snprintf(c.key, sizeof(c.key), "%s", key);
	if (keep != NULL)
		snprintf(c.keep_jti, sizeof(c.keep_jti), "%s", keep);
	snprintf(c.reason, sizeof(c.reason), "test");
	c.time = time;
	return c;
}

static struct cut_subject
tun(const char *sid, const char *dev, const char *jti, int64_t iat)
{
	struct cut_subject t = { sid, dev, jti, iat };

	return t;
}

static void
cutset_match__when_session_ended__refuses_every_token_of_it(void **state)
{
	struct cutset *cs = cutset_new(95, 0);
	struct cut c = mk(CUT_SESSION, SID, NULL, 1000);
	struct cut_subject t;

	assert_non_null(cs);
	assert_int_equal(cutset_add(cs, &c, 1000), 0);
	/* minted long before, in the same second, or (claimed) after */
	t = tun(SID, DEV, "j1", 950);
	assert_non_null(cutset_match(cs, &t, 1001));
	t = tun(SID, DEV, "j2", 1000);
	assert_non_null(cutset_match(cs, &t, 1001));
	t = tun(SID, DEV, "j3", 1010);
	assert_non_null(cutset_match(cs, &t, 1011));
	assert_string_equal(cutset_match(cs, &t, 1011)->reason, "test");
	/* another session on the same device is not named */
	t = tun(SID2, DEV, "j4", 990);
	assert_null(cutset_match(cs, &t, 1001));
	cutset_free(cs);
}

static void
cutset_match__when_device_revoked__refuses_its_tunnels_only(void **state)
{
	struct cutset *cs = cutset_new(95, 0);
	struct cut c = mk(CUT_DEVICE, DEV, NULL, 1000);
	struct cut_subject t;

	assert_non_null(cs);
	assert_int_equal(cutset_add(cs, &c, 1000), 0);
	t = tun(SID, DEV, "j1", 990);
	assert_non_null(cutset_match(cs, &t, 1000));
	t = tun(SID2, DEV, "j2", 1001);
	assert_non_null(cutset_match(cs, &t, 1001));
	t = tun(SID, DEV2, "j3", 990);
	assert_null(cutset_match(cs, &t, 1000));
	t = tun(SID, NULL, "j3", 990);
	assert_null(cutset_match(cs, &t, 1000));
	cutset_free(cs);
}

static void
cutset_match__when_one_tunnel_cut__keeps_the_new_token(void **state)
{
	struct cutset *cs = cutset_new(95, 0);
	struct cut c = mk(CUT_SESSION, SID, "new", 1000);
	struct cut_subject t;

	assert_non_null(cs);
	assert_int_equal(cutset_add(cs, &c, 1000), 0);
	/* the kept token, and any token issued after the cut's second */
	t = tun(SID, DEV, "new", 1000);
	assert_null(cutset_match(cs, &t, 1000));
	t = tun(SID, DEV2, "later", 1001);
	assert_null(cutset_match(cs, &t, 1001));
	/* an older token of the session (the other device's) is refused */
	t = tun(SID, DEV2, "old", 999);
	assert_non_null(cutset_match(cs, &t, 1001));
	/* admission: the cut's own second is given the benefit of the
	 * doubt (a second reconnect in that second); a live tunnel of that
	 * second is cut */
	t = tun(SID, DEV2, "same-second", 1000);
	assert_null(cutset_match(cs, &t, 1000));
	assert_true(cut_matches_live(&c, &t));
	t = tun(SID, DEV, "new", 1000);
	assert_false(cut_matches_live(&c, &t));
	t = tun(SID, DEV, "later", 1001);
	assert_false(cut_matches_live(&c, &t));
	cutset_free(cs);
}

static void
cut_matches_live__when_named__whatever_the_accept_time(void **state)
{
	struct cut c = mk(CUT_SESSION, SID, NULL, 1000);
	struct cut d = mk(CUT_DEVICE, DEV, NULL, 1000);
	struct cut_subject t = tun(SID, DEV2, "j", 1005);

	/* an ended session's tunnel whose token claims a later iat */
	assert_true(cut_matches_live(&c, &t));
	t = tun(SID2, DEV, "j", 1005);
	assert_true(cut_matches_live(&d, &t));
	assert_false(cut_matches_live(&c, &t));
}

static void
cutset_add__when_held_or_expired__says_so(void **state)
{
	struct cutset *cs = cutset_new(95, 0);
	struct cut c = mk(CUT_SESSION, SID, NULL, 1000);
	struct cut e = mk(CUT_SESSION, "", NULL, 1000);
	struct cut_subject t = tun(SID, DEV, "j", 999);

	assert_non_null(cs);
	assert_int_equal(cutset_add(cs, &c, 1000), 0);
	assert_int_equal(cutset_add(cs, &c, 1020), VDI_ERR_EXISTS);
	c.time = 1001; /* a second cut of the same session is its own */
	assert_int_equal(cutset_add(cs, &c, 1020), 0);
	assert_int_equal(cutset_count(cs, 1020), 2);
	assert_int_equal(cutset_add(cs, &e, 1020), VDI_ERR_INVALID_ARG);
	/* held for exactly the hold, then dropped */
	assert_non_null(cutset_match(cs, &t, 1096));
	assert_int_equal(cutset_count(cs, 1096), 1);
	assert_null(cutset_match(cs, &t, 1097));
	assert_int_equal(cutset_count(cs, 1097), 0);
	/* a cut whose hold is over when it comes is not held */
	c.time = 1000;
	assert_int_equal(cutset_add(cs, &c, 1200), VDI_ERR_TIMEOUT);
	assert_int_equal(cutset_count(cs, 1200), 0);
	cutset_free(cs);
}

static void
cutset_add__when_full__fails_closed_until_the_hold_ends(void **state)
{
	struct cutset *cs = cutset_new(95, 4);
	struct cut c;
	struct cut_subject t = tun(SID2, DEV2, "j", 1000);
	const struct cut *m;
	char key[40];
	int i;

	assert_non_null(cs);
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "sid-%d", i);
		c = mk(CUT_SESSION, key, NULL, 1000);
		assert_int_equal(cutset_add(cs, &c, 1000), 0);
	}
	assert_null(cutset_match(cs, &t, 1000));
	c = mk(CUT_SESSION, "sid-more", NULL, 1010);
	assert_int_equal(cutset_add(cs, &c, 1010), VDI_ERR_TOO_LARGE);
	/* every tunnel is refused while a cut could not be held */
	assert_non_null(m = cutset_match(cs, &t, 1010));
	assert_string_equal(m->reason, "cut_set_full");
	assert_non_null(cutset_match(cs, &t, 1105));
	assert_null(cutset_match(cs, &t, 1106));
	/* the old ones have expired: room again */
	assert_int_equal(cutset_add(cs, &c, 1106), VDI_ERR_TIMEOUT);
	c.time = 1106;
	assert_int_equal(cutset_add(cs, &c, 1106), 0);
	cutset_free(cs);
}

static void
cutset_free__when_null__nothing(void **state)
{
	cutset_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    cutset_match__when_session_ended__refuses_every_token_of_it),
		cmocka_unit_test(
		    cutset_match__when_device_revoked__refuses_its_tunnels_only),
		cmocka_unit_test(
		    cutset_match__when_one_tunnel_cut__keeps_the_new_token),
		cmocka_unit_test(
		    cut_matches_live__when_named__whatever_the_accept_time),
		cmocka_unit_test(cutset_add__when_held_or_expired__says_so),
		cmocka_unit_test(
		    cutset_add__when_full__fails_closed_until_the_hold_ends),
		cmocka_unit_test(cutset_free__when_null__nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
