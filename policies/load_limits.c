/*
 * load_limits.c: the limits and channels blocks, at the top level, in a
 * mode, a tenant or an allow rule:
 *
 *   limits = { idle_disconnect = "15m"; reconnect_window = "5m";
 *              max_session = "8h"; single_session = true;
 *              reconnect_ticket = true; };
 *   channels = { audio_out = true; };
 */
#include "config.h"

#include <string.h>

#include "load_int.h"

/* ---- limits and channels ----------------------------------------------- */

int
lload_limits(
    struct lctx *c, const config_setting_t *g, struct policy_limits_set *out)
{
	static const char *const keys[] = { "idle_disconnect",
		"reconnect_window", "max_session", "single_session",
		"reconnect_ticket", NULL };
	const config_setting_t *s = config_setting_get_member(g, "limits");
	int bad = 0, present, b;
	unsigned int v;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return 0;
	if (lexpect_group(c, s,
		"a group: limits = { idle_disconnect = "
		"\"15m\"; ... }") != 0)
		return -1;
	bad |= lcheck_keys(c, s, keys);
	bad |=
	    lget_duration(c, s, "idle_disconnect", 0, 7 * 86400, &present, &v);
	if (present) {
		out->mask |= POLICY_LIM_IDLE;
		out->v.idle_disconnect = v;
	}
	bad |= lget_duration(c, s, "reconnect_window", 0, 86400, &present, &v);
	if (present) {
		out->mask |= POLICY_LIM_RECONNECT;
		out->v.reconnect_window = v;
	}
	bad |= lget_duration(c, s, "max_session", 0, 30 * 86400, &present, &v);
	if (present) {
		out->mask |= POLICY_LIM_MAX_SESSION;
		out->v.max_session = v;
	}
	bad |= lget_bool(c, s, "single_session", &present, &b);
	if (present) {
		out->mask |= POLICY_LIM_SINGLE;
		out->v.single_session = b;
	}
	bad |= lget_bool(c, s, "reconnect_ticket", &present, &b);
	if (present) {
		out->mask |= POLICY_LIM_TICKET;
		out->v.reconnect_ticket = b;
	}
	return bad;
}

int
lload_channels(
    struct lctx *c, const config_setting_t *g, struct policy_channels_set *out)
{
	static const char *const never[] = { "display", "input", "clipboard",
		"cliprdr", "drive", "drives", "rdpdr", "printer", "printers",
		"audio_in", "microphone", "usb", "smartcard", "serial", "video",
		"camera", NULL };
	const config_setting_t *s = config_setting_get_member(g, "channels");
	const config_setting_t *m;
	const char *name;
	int bad = 0, present, b, i, j, n;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return 0;
	if (lexpect_group(c, s, "a group: channels = { audio_out = true; }") !=
	    0)
		return -1;
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		m = config_setting_get_elem(s, (unsigned int)i);
		name = config_setting_name(m);
		if (strcmp(name, "audio_out") == 0)
			continue;
		for (j = 0; never[j] != NULL; j++)
			if (strcmp(name, never[j]) == 0)
				break;
		if (never[j] != NULL && j < 2)
			lerr(c, m,
			    "display and input are always on and cannot "
			    "be configured (allowed: audio_out)");
		else if (never[j] != NULL)
			lerr(c, m,
			    "no such channel class: nothing but display, "
			    "input and audio_out ever reaches a device "
			    "(allowed: audio_out)");
		else
			lerr(c, m, "unknown key (allowed: audio_out)");
		bad = -1;
	}
	bad |= lget_bool(c, s, "audio_out", &present, &b);
	out->set = 1;
	out->channels = present && b ? POLICY_CH_AUDIO_OUT : 0;
	return bad;
}
