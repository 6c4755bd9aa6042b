/*
 * sessfsm.c: the gateway session's state machine (sessfsm.h).
 */
#include "config.h"

#include "sessfsm.h"
#include "vlog.h"

static const char *const state_names[SS_COUNT] = {
	[SS_FRONT_TLS] = "front_tls",
	[SS_REQUEST] = "request",
	[SS_ADMISSION] = "admission",
	[SS_DESKTOP] = "desktop",
	[SS_CLIENT_X224] = "client_x224",
	[SS_CLIENT_TLS] = "client_tls",
	[SS_RELAYING] = "relaying",
	[SS_CLOSING] = "closing",
};

static const char *const event_names[SE_COUNT] = {
	[SE_TLS_ACCEPTED] = "tls_accepted",
	[SE_REQUEST] = "request",
	[SE_ADMITTED] = "admitted",
	[SE_DESKTOP_UP] = "desktop_up",
	[SE_CLIENT_CR] = "client_cr",
	[SE_CLIENT_TLS] = "client_tls",
	[SE_REFUSE] = "refuse",
	[SE_CLOSE] = "close",
};

/* The forward steps of a session's life: in state from, event ev goes to
 * the next state. */
static const struct {
	enum session_state from;
	enum session_event ev;
	enum session_state to;
} steps[] = {
	{ SS_FRONT_TLS, SE_TLS_ACCEPTED, SS_REQUEST },
	{ SS_REQUEST, SE_REQUEST, SS_ADMISSION },
	{ SS_ADMISSION, SE_ADMITTED, SS_DESKTOP },
	{ SS_DESKTOP, SE_DESKTOP_UP, SS_CLIENT_X224 },
	{ SS_CLIENT_X224, SE_CLIENT_CR, SS_CLIENT_TLS },
	{ SS_CLIENT_TLS, SE_CLIENT_TLS, SS_RELAYING },
};

const char *
session_state_name(enum session_state st)
{
	return (unsigned)st < SS_COUNT ? state_names[st] : "?";
}

const char *
session_event_name(enum session_event ev)
{
	return (unsigned)ev < SE_COUNT ? event_names[ev] : "?";
}

int
session_fsm_next(
    enum session_state from, enum session_event ev, enum session_state *to)
{
	size_t i;

	if ((unsigned)from >= SS_COUNT || (unsigned)ev >= SE_COUNT ||
	    from == SS_CLOSING)
		return VDI_ERR_INVALID_ARG;
	switch (ev) {
	case SE_CLOSE:
		*to = SS_CLOSING;
		return 0;
	case SE_REFUSE:
		/* Only a front request read and not answered yet can be
		 * refused with an answer. */
		if (from < SS_REQUEST || from >= SS_CLIENT_X224)
			return VDI_ERR_INVALID_ARG;
		*to = SS_CLOSING;
		return 0;
	default:
		break;
	}
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i].from == from && steps[i].ev == ev) {
			*to = steps[i].to;
			return 0;
		}
	return VDI_ERR_INVALID_ARG;
}

int
session_fsm_step(enum session_state *st, enum session_event ev, uint64_t conn)
{
	enum session_state to;
	int r;

	if ((r = session_fsm_next(*st, ev, &to)) != 0) {
		vlog(VLOG_ERROR, "session_state_refused",
		    "conn=%llu state=%s event=%s", (unsigned long long)conn,
		    session_state_name(*st), session_event_name(ev));
		return r;
	}
	vlog(VLOG_DEBUG, "session_state", "conn=%llu from=%s to=%s event=%s",
	    (unsigned long long)conn, session_state_name(*st),
	    session_state_name(to), session_event_name(ev));
	*st = to;
	return 0;
}
