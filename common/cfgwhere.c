/* cfgwhere.c: the line of a setting in a libconfig file (cfgwhere.h). */
#include "config.h"

#include <stdio.h>

#include <libconfig.h>

#include "cfgwhere.h"

char *
cfg_where(const char *path, const char *key, char *buf, size_t len)
{
	const config_setting_t *s = NULL;
	config_t lc;

	config_init(&lc);
	if (config_read_file(&lc, path) == CONFIG_TRUE)
		s = config_lookup(&lc, key);
	if (s != NULL)
		snprintf(buf, len, "%s:%u: %s", path,
		    config_setting_source_line(s), key);
	else
		snprintf(buf, len, "%s: %s", path, key);
	config_destroy(&lc);
	return buf;
}
