/* conf.c: connect.conf, as an MDM provisions it (shim.h, connect.conf in
 * vdi-connect(1)). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cfgfile.h"
#include "shim.h"

int
shim_fingerprint_norm(const char *in, char *out, size_t outlen)
{
	size_t n = 0;
	const char *p = in;

	if (outlen > 0)
		out[0] = '\0';
	if (in == NULL || outlen < 65)
		return VDI_ERR_INVALID_ARG;
	if (strncasecmp(p, "sha256:", 7) == 0)
		p += 7;
	for (; *p != '\0'; p++) {
		if (*p == ':') {
			/* only between byte pairs */
			if (n == 0 || n % 2 != 0 || p[1] == '\0' || p[1] == ':')
				goto bad;
			continue;
		}
		if (!isxdigit((unsigned char)*p) || n >= 64)
			goto bad;
		out[n++] = (char)tolower((unsigned char)*p);
	}
	if (n != 64)
		goto bad;
	out[n] = '\0';
	return 0;
bad:
	out[0] = '\0';
	return VDI_ERR_INVALID_ARG;
}

static const config_setting_t *
setting(struct cfg *c, const config_setting_t *g, const char *key)
{
	return config_setting_get_member(
	    g != NULL ? g : config_root_setting(&c->lc), key);
}

/* Printable, no spaces at the ends: what may go into one argv element. */
static int
argv_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isprint((unsigned char)*s))
			return 0;
	return 1;
}

static void
read_device(struct cfg *c, struct vdic_config *cfg)
{
	static const char *const keys[] = { "cert", "key", "pkcs12",
		"passphrase", "passphrase_file", NULL };
	const config_setting_t *g = cfg_group(c, NULL, "device", 1);
	char pf[SHIM_PATH_MAX] = "";
	int have_pem, have_p12;

	if (g == NULL)
		return;
	cfg_check_keys(c, g, keys);
	(void)cfg_get_path(c, g, "cert", 0, cfg->cert, sizeof(cfg->cert));
	(void)cfg_get_path(c, g, "key", 0, cfg->key, sizeof(cfg->key));
	(void)cfg_get_path(c, g, "pkcs12", 0, cfg->pkcs12, sizeof(cfg->pkcs12));
	(void)cfg_get_strbuf(
	    c, g, "passphrase", 0, cfg->passphrase, sizeof(cfg->passphrase));
	(void)cfg_get_path(c, g, "passphrase_file", 0, pf, sizeof(pf));
	have_pem = cfg->cert[0] != '\0' || cfg->key[0] != '\0';
	have_p12 = cfg->pkcs12[0] != '\0';
	if (have_pem && have_p12)
		cfg_error(c, g, NULL,
		    "give either cert and key (PEM) or pkcs12, not both");
	else if (!have_pem && !have_p12)
		cfg_error(c, g, NULL,
		    "missing the device identity (expected cert and key, or "
		    "pkcs12)");
	else if (have_pem && cfg->cert[0] == '\0')
		cfg_error(c, g, "cert", "missing (expected a PEM file)");
	else if (have_pem && cfg->key[0] == '\0')
		cfg_error(c, g, "key", "missing (expected a PEM file)");
	if ((cfg->passphrase[0] != '\0' || pf[0] != '\0') && !have_p12)
		cfg_error(c, g, NULL,
		    "passphrase is for pkcs12 only (PEM keys are unencrypted)");
	if (cfg->passphrase[0] != '\0' && pf[0] != '\0')
		cfg_error(
		    c, g, NULL, "give passphrase or passphrase_file, not both");
	if (pf[0] != '\0') {
		FILE *f = fopen(pf, "r");
		size_t n;

		if (f == NULL) {
			cfg_error(c, setting(c, g, "passphrase_file"), NULL,
			    "cannot read %s", pf);
			return;
		}
		n = fread(cfg->passphrase, 1, sizeof(cfg->passphrase) - 1, f);
		fclose(f);
		cfg->passphrase[n] = '\0';
		cfg->passphrase[strcspn(cfg->passphrase, "\r\n")] = '\0';
	}
}

static void
read_keyboard(
    struct cfg *c, const config_setting_t *rdp, struct vdic_config *cfg)
{
	static const char *const keys[] = { "layout", "type", "subtype",
		"function_keys", NULL };
	const config_setting_t *g = cfg_group(c, rdp, "keyboard", 0);
	const char *layout = NULL;
	int64_t v;

	if (g == NULL)
		return;
	cfg_check_keys(c, g, keys);
	if (cfg_get_string(c, g, "layout", 0, &layout) == 1) {
		/* Japanese 106/109-key keyboards: layout 0x411, keyboard
		 * type 7 (Japanese), subtype 2 (106/109), 12 function
		 * keys; what Windows reports for them. */
		if (strcmp(layout, "jp106") == 0 ||
		    strcmp(layout, "jp109") == 0 ||
		    strcmp(layout, "japanese") == 0) {
			snprintf(cfg->kbd_layout, sizeof(cfg->kbd_layout),
			    "0x00000411");
			cfg->kbd_type = 7;
			cfg->kbd_subtype = 2;
			cfg->kbd_fn_keys = 12;
		} else if (strlen(layout) >= sizeof(cfg->kbd_layout) ||
		    !argv_safe(layout) || strchr(layout, ',') != NULL) {
			cfg_error(c, setting(c, g, "layout"), NULL,
			    "\"%s\" is not a keyboard layout (expected "
			    "\"jp106\", \"jp109\", a layout id such as "
			    "\"0x00000409\" or a name from xfreerdp "
			    "/kbd-list)",
			    layout);
		} else {
			memcpy(cfg->kbd_layout, layout, strlen(layout) + 1);
		}
	}
	if (cfg_get_int(c, g, "type", 0, 1, 7, &v) == 1)
		cfg->kbd_type = (int)v;
	if (cfg_get_int(c, g, "subtype", 0, 0, 255, &v) == 1)
		cfg->kbd_subtype = (int)v;
	if (cfg_get_int(c, g, "function_keys", 0, 1, 24, &v) == 1)
		cfg->kbd_fn_keys = (int)v;
}

static void
read_rdp(struct cfg *c, struct vdic_config *cfg)
{
	static const char *const keys[] = { "command", "size", "fullscreen",
		"title", "keyboard", NULL };
	const config_setting_t *g = cfg_group(c, NULL, "rdp", 0);
	unsigned int w, h;
	char tail;

	if (g == NULL)
		return;
	cfg_check_keys(c, g, keys);
	(void)cfg_get_path(
	    c, g, "command", 0, cfg->rdp_command, sizeof(cfg->rdp_command));
	(void)cfg_get_strbuf(
	    c, g, "size", 0, cfg->rdp_size, sizeof(cfg->rdp_size));
	if (cfg->rdp_size[0] != '\0' &&
	    (sscanf(cfg->rdp_size, "%ux%u%c", &w, &h, &tail) != 2 || w < 200 ||
		h < 200 || w > 8192 || h > 8192)) {
		cfg_error(c, setting(c, g, "size"), NULL,
		    "\"%s\" is not a window size (expected e.g. "
		    "\"1280x800\", 200..8192)",
		    cfg->rdp_size);
		cfg->rdp_size[0] = '\0';
	}
	(void)cfg_get_bool(c, g, "fullscreen", 0, &cfg->rdp_fullscreen);
	(void)cfg_get_strbuf(c, g, "title", 0, cfg->title, sizeof(cfg->title));
	if (!argv_safe(cfg->title))
		cfg_error(
		    c, setting(c, g, "title"), NULL, "must be printable text");
	read_keyboard(c, g, cfg);
}

static void
read_reconnect(struct cfg *c, struct vdic_config *cfg)
{
	static const char *const keys[] = { "enabled", "initial_delay_ms",
		"max_delay", "give_up_after", NULL };
	const config_setting_t *g = cfg_group(c, NULL, "reconnect", 0);
	unsigned int d;
	int64_t v;

	if (g == NULL)
		return;
	cfg_check_keys(c, g, keys);
	(void)cfg_get_bool(c, g, "enabled", 0, &cfg->reconnect);
	if (cfg_get_int(c, g, "initial_delay_ms", 0, 0, 60000, &v) == 1)
		cfg->reconnect_initial_ms = (unsigned int)v;
	if (cfg_get_duration(c, g, "max_delay", 0, 1, 300, &d) == 1)
		cfg->reconnect_max_delay_ms = d * 1000;
	(void)cfg_get_duration(
	    c, g, "give_up_after", 0, 1, 86400, &cfg->reconnect_give_up);
}

int
shim_conf_load(
    const char *path, struct vdic_config *cfg, char *err, size_t errlen)
{
	static const char *const keys[] = { "broker_url", "ca", "device",
		"user", "gateway_rdp_fingerprint", "rdp", "reconnect",
		"connect_timeout", "private_dir", "log_level", NULL };
	struct cfg c;
	const char *fp = NULL;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	snprintf(
	    cfg->rdp_command, sizeof(cfg->rdp_command), "/usr/bin/xfreerdp");
	snprintf(cfg->log_level, sizeof(cfg->log_level), "notice");
	cfg->kbd_type = cfg->kbd_subtype = cfg->kbd_fn_keys = -1;
	cfg->reconnect = 1;
	cfg->reconnect_initial_ms = 100;
	cfg->reconnect_max_delay_ms = 5000;
	cfg->reconnect_give_up = 120;
	cfg->connect_timeout = 10;

	if (cfg_open(&c, path) != 0) {
		vdi_seterr(err, errlen, "%s", cfg_errors(&c));
		cfg_free(&c);
		return VDI_ERR_CONFIG;
	}
	cfg_check_keys(&c, config_root_setting(&c.lc), keys);
	(void)cfg_get_strbuf(&c, NULL, "broker_url", 1, cfg->broker_url,
	    sizeof(cfg->broker_url));
	if (cfg->broker_url[0] != '\0' &&
	    (strncmp(cfg->broker_url, "https://", 8) != 0 ||
		cfg->broker_url[8] == '\0' || !argv_safe(cfg->broker_url) ||
		strchr(cfg->broker_url, ' ') != NULL))
		cfg_error(&c, setting(&c, NULL, "broker_url"), NULL,
		    "\"%s\" is not an https:// URL", cfg->broker_url);
	/* No trailing slash: paths are appended. */
	while (strlen(cfg->broker_url) > 8 &&
	    cfg->broker_url[strlen(cfg->broker_url) - 1] == '/')
		cfg->broker_url[strlen(cfg->broker_url) - 1] = '\0';
	(void)cfg_get_path(&c, NULL, "ca", 1, cfg->ca, sizeof(cfg->ca));
	read_device(&c, cfg);
	(void)cfg_get_strbuf(&c, NULL, "user", 0, cfg->user, sizeof(cfg->user));
	if ((r = cfg_get_string(&c, NULL, "gateway_rdp_fingerprint", 1, &fp)) ==
		1 &&
	    shim_fingerprint_norm(fp, cfg->rdp_pin, sizeof(cfg->rdp_pin)) != 0)
		cfg_error(&c, setting(&c, NULL, "gateway_rdp_fingerprint"),
		    NULL,
		    "\"%s\" is not a SHA-256 fingerprint (expected 64 hex "
		    "digits, colons allowed)",
		    fp);
	read_rdp(&c, cfg);
	read_reconnect(&c, cfg);
	(void)cfg_get_duration(
	    &c, NULL, "connect_timeout", 0, 1, 120, &cfg->connect_timeout);
	(void)cfg_get_path(&c, NULL, "private_dir", 0, cfg->private_base,
	    sizeof(cfg->private_base));
	(void)cfg_get_strbuf(
	    &c, NULL, "log_level", 0, cfg->log_level, sizeof(cfg->log_level));
	if (strcmp(cfg->log_level, "debug") != 0 &&
	    strcmp(cfg->log_level, "info") != 0 &&
	    strcmp(cfg->log_level, "notice") != 0 &&
	    strcmp(cfg->log_level, "warning") != 0 &&
	    strcmp(cfg->log_level, "error") != 0)
		cfg_error(&c, setting(&c, NULL, "log_level"), NULL,
		    "\"%s\" is not a level (expected debug, info, notice, "
		    "warning or error)",
		    cfg->log_level);
	if (cfg_failed(&c)) {
		vdi_seterr(err, errlen, "%s", cfg_errors(&c));
		cfg_free(&c);
		OPENSSL_cleanse(cfg->passphrase, sizeof(cfg->passphrase));
		return VDI_ERR_CONFIG;
	}
	cfg_free(&c);
	return 0;
}
