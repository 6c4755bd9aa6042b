/* Unit tests for gateway/sessfsm.c: the session's state machine, driven
 * without sockets. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sessfsm.h"

/* The whole life of a session that relays: every forward step, in
 * order. */
static const struct {
	enum session_state from;
	enum session_event ev;
	enum session_state to;
} life[] = {
	{ SS_FRONT_TLS, SE_TLS_ACCEPTED, SS_REQUEST },
	{ SS_REQUEST, SE_REQUEST, SS_ADMISSION },
	{ SS_ADMISSION, SE_ADMITTED, SS_DESKTOP },
	{ SS_DESKTOP, SE_DESKTOP_UP, SS_CLIENT_X224 },
	{ SS_CLIENT_X224, SE_CLIENT_CR, SS_CLIENT_TLS },
	{ SS_CLIENT_TLS, SE_CLIENT_TLS, SS_RELAYING },
};
#define NLIFE (sizeof(life) / sizeof(life[0]))

/* 1 when ev is legal in from according to the rules sessfsm.h states
 * (the forward steps, a refusal while the front request is unanswered,
 * a close from every state but closing). */
static int
expected(enum session_state from, enum session_event ev, enum session_state *to)
{
	size_t i;

	if (from == SS_CLOSING)
		return 0;
	if (ev == SE_CLOSE) {
		*to = SS_CLOSING;
		return 1;
	}
	if (ev == SE_REFUSE) {
		*to = SS_CLOSING;
		return from == SS_REQUEST || from == SS_ADMISSION ||
		    from == SS_DESKTOP;
	}
	for (i = 0; i < NLIFE; i++)
		if (life[i].from == from && life[i].ev == ev) {
			*to = life[i].to;
			return 1;
		}
	return 0;
}

static void
step__when_forward_steps_in_order__reaches_relaying(void **state)
{
	enum session_state st = SS_FRONT_TLS;
	size_t i;

	for (i = 0; i < NLIFE; i++) {
		assert_int_equal(st, life[i].from);
		assert_int_equal(session_fsm_step(&st, life[i].ev, 1), 0);
		assert_int_equal(st, life[i].to);
	}
	assert_int_equal(st, SS_RELAYING);
	assert_int_equal(session_fsm_step(&st, SE_CLOSE, 1), 0);
	assert_int_equal(st, SS_CLOSING);
}

static void
next__every_state_and_event__legal_ones_move_illegal_ones_refused(void **state)
{
	enum session_state from, to, want;
	enum session_event ev;
	unsigned int legal = 0;
	int r;

	for (from = 0; from < SS_COUNT; from++)
		for (ev = 0; ev < SE_COUNT; ev++) {
			to = SS_COUNT; /* sentinel */
			want = SS_COUNT;
			r = session_fsm_next(from, ev, &to);
			if (expected(from, ev, &want)) {
				assert_int_equal(r, 0);
				assert_int_equal(to, want);
				legal++;
			} else {
				assert_int_equal(r, VDI_ERR_INVALID_ARG);
				assert_int_equal(to, SS_COUNT); /* untouched */
			}
		}
	/* 6 forward steps, 3 refusals, 7 closes */
	assert_int_equal(legal, 16);
}

static void
step__when_illegal__state_unchanged(void **state)
{
	enum session_state st;

	/* skipping a step */
	st = SS_FRONT_TLS;
	assert_int_equal(
	    session_fsm_step(&st, SE_ADMITTED, 1), VDI_ERR_INVALID_ARG);
	assert_int_equal(st, SS_FRONT_TLS);
	/* going back */
	st = SS_RELAYING;
	assert_int_equal(
	    session_fsm_step(&st, SE_CLIENT_CR, 1), VDI_ERR_INVALID_ARG);
	assert_int_equal(st, SS_RELAYING);
	/* a refusal after the front request was answered */
	st = SS_CLIENT_X224;
	assert_int_equal(
	    session_fsm_step(&st, SE_REFUSE, 1), VDI_ERR_INVALID_ARG);
	assert_int_equal(st, SS_CLIENT_X224);
	/* a refusal before there is a request to answer */
	st = SS_FRONT_TLS;
	assert_int_equal(
	    session_fsm_step(&st, SE_REFUSE, 1), VDI_ERR_INVALID_ARG);
	assert_int_equal(st, SS_FRONT_TLS);
	/* the same step twice */
	st = SS_REQUEST;
	assert_int_equal(session_fsm_step(&st, SE_REQUEST, 1), 0);
	assert_int_equal(
	    session_fsm_step(&st, SE_REQUEST, 1), VDI_ERR_INVALID_ARG);
	assert_int_equal(st, SS_ADMISSION);
	/* out of range */
	assert_int_equal(
	    session_fsm_step(&st, SE_COUNT, 1), VDI_ERR_INVALID_ARG);
	st = SS_COUNT;
	assert_int_equal(
	    session_fsm_step(&st, SE_CLOSE, 1), VDI_ERR_INVALID_ARG);
}

static void
step__close_from_every_state__closing_and_nothing_after(void **state)
{
	enum session_state from, st;
	enum session_event ev;

	for (from = 0; from < SS_CLOSING; from++) {
		st = from;
		assert_int_equal(session_fsm_step(&st, SE_CLOSE, 1), 0);
		assert_int_equal(st, SS_CLOSING);
		/* closing is the end: no event leaves it, not even a
		 * second close */
		for (ev = 0; ev < SE_COUNT; ev++) {
			assert_int_equal(
			    session_fsm_step(&st, ev, 1), VDI_ERR_INVALID_ARG);
			assert_int_equal(st, SS_CLOSING);
		}
	}
}

static void
names__every_state_and_event__distinct(void **state)
{
	unsigned int i, j;

	for (i = 0; i < SS_COUNT; i++) {
		assert_string_not_equal(session_state_name(i), "?");
		for (j = 0; j < i; j++)
			assert_string_not_equal(
			    session_state_name(i), session_state_name(j));
	}
	for (i = 0; i < SE_COUNT; i++) {
		assert_string_not_equal(session_event_name(i), "?");
		for (j = 0; j < i; j++)
			assert_string_not_equal(
			    session_event_name(i), session_event_name(j));
	}
	assert_string_equal(session_state_name(SS_COUNT), "?");
	assert_string_equal(session_event_name(SE_COUNT), "?");
	assert_string_equal(session_state_name(SS_RELAYING), "relaying");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    step__when_forward_steps_in_order__reaches_relaying),
		cmocka_unit_test(
		    next__every_state_and_event__legal_ones_move_illegal_ones_refused),
		cmocka_unit_test(step__when_illegal__state_unchanged),
		cmocka_unit_test(
		    step__close_from_every_state__closing_and_nothing_after),
		cmocka_unit_test(names__every_state_and_event__distinct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
