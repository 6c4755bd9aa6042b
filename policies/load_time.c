/*
 * load_time.c: the time_windows section and the time zones it names.
 *
 *   time_windows = {
 *     office-hours = { time_zone = "Asia/Tokyo"; days = ["weekdays"];
 *                      hours = "08:30-17:15"; };
 *   };
 *
 * Each zone is read once from the zoneinfo directory (tzfile.c) and
 * shared by the windows naming it.
 */
#include "config.h"

#include <string.h>

#include "load_int.h"

/* ---- time windows ------------------------------------------------------ */

static int
load_zone(struct lctx *c, const config_setting_t *s, const char *name,
    const struct policy_tz **out)
{
	struct policy_tz *tz;
	struct policy_tz **v;
	size_t i;
	int r;

	*out = NULL;
	for (i = 0; i < c->ntz; i++)
		if (strcmp(c->tz[i]->name, name) == 0) {
			*out = c->tz[i];
			return 0;
		}
	if (!policy_tz_name_ok(name)) {
		lerr(c, s,
		    "bad time zone name \"%s\" (expected an IANA zone "
		    "such as \"Asia/Tokyo\" or \"Europe/Berlin\")",
		    name);
		return -1;
	}
	r = policy_tz_load(c->zonedir, name, c->a, &tz);
	if (r == VDI_ERR_ALLOC)
		return lerr_oom(c);
	if (r == VDI_ERR_NOT_FOUND) {
		lerr(c, s,
		    "unknown time zone \"%s\" (not in %s; expected an "
		    "IANA zone such as \"Asia/Tokyo\")",
		    name, c->zonedir);
		return -1;
	}
	if (r != 0) {
		lerr(c, s,
		    "cannot use time zone \"%s\": %s/%s is not a valid "
		    "TZif file (%s)",
		    name, c->zonedir, name, vdi_strerror(r));
		return -1;
	}
	if ((v = policy_arena_calloc(c->a, c->ntz + 1, sizeof(*v))) == NULL)
		return lerr_oom(c);
	if (c->ntz > 0)
		memcpy(v, c->tz, c->ntz * sizeof(*v));
	v[c->ntz++] = tz;
	c->tz = v;
	*out = tz;
	return 0;
}

int
lload_timewin(struct lctx *c, const config_setting_t *s, void *elem)
{
	struct policy_timewin *w = elem;
	static const char *const keys[] = { "time_zone", "days", "hours",
		"description", NULL };
	const config_setting_t *days, *e;
	const char *zone, *hours, *why, *desc;
	uint8_t mask;
	int bad = 0, i, n, r;

	if ((r = lobj_group(c, s, NULL,
		 "a group: NAME = { time_zone = "
		 "\"Asia/Tokyo\"; days = [\"weekdays\"]; hours = "
		 "\"08:30-17:15\"; }",
		 keys, &w->name, &w->src_file, &w->src_line, &desc)) < -1)
		return -1;
	bad |= r;
	if (lget_string(c, s, "time_zone", 1,
		"an IANA time zone such as "
		"\"Asia/Tokyo\"; every window names its zone",
		&zone) != 0)
		bad = -1;
	else if (load_zone(c, config_setting_get_member(s, "time_zone"), zone,
		     &w->tz) != 0)
		bad = -1;
	if (lget_string(c, s, "hours", 1,
		"\"HH:MM-HH:MM\", e.g. "
		"\"08:30-17:15\" or \"22:00-06:00\"",
		&hours) != 0)
		bad = -1;
	else if (policy_timewin_parse_hours(hours, &w->start, &w->end, &why) !=
	    0) {
		lerr(c, config_setting_get_member(s, "hours"),
		    "bad time window \"%s\" (%s)", hours, why);
		bad = -1;
	}
	if (lget_list(c, s, "days", 0, NULL,
		"day names: mon, tue, wed, thu, "
		"fri, sat, sun, weekdays, weekend, daily",
		&days) != 0)
		return -1;
	if (days == NULL) {
		w->days = 0x7f;
		return bad;
	}
	n = config_setting_length(days);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(days, (unsigned int)i);
		if (policy_timewin_parse_day(
			config_setting_get_string(e), &mask) != 0) {
			lerr(c, e,
			    "bad day \"%s\" (expected mon, tue, wed, thu, "
			    "fri, sat, sun, weekdays, weekend or daily)",
			    config_setting_get_string(e));
			bad = -1;
		} else if ((w->days & mask) != 0) {
			lerr(c, e,
			    "day \"%s\" overlaps days listed before it "
			    "(expected each day once)",
			    config_setting_get_string(e));
			bad = -1;
		}
		w->days |= mask;
	}
	return bad;
}

const struct policy_timewin *
lfind_timewin(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->ntimewins; i++)
		if (p->timewins[i].name != NULL &&
		    strcmp(p->timewins[i].name, name) == 0)
			return &p->timewins[i];
	return NULL;
}
