/* client.c: libvdiclient's API object (vdiclient.h): configuration, the
 * callbacks, cancel, status strings. The login loop is in auth.c, the
 * session loop in loop.c (see vdic_int.h for the other files). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "vdic_int.h"

long
shim_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
shim_emit(struct vdic *c, enum vdic_event_type type, const char *text,
    unsigned int attempt, long elapsed)
{
	struct vdic_event ev;

	if (c->event == NULL)
		return;
	ev.type = type;
	ev.text = text != NULL ? text : "";
	ev.attempt = attempt;
	ev.elapsed_ms = elapsed;
	c->event(c->event_arg, &ev);
}

const char *
vdic_status_str(int status)
{
	switch (status) {
#define VDIC_STATUS_CASE(name, value, text)                                    \
	case name:                                                             \
		return text;
		VDIC_STATUS_TABLE(VDIC_STATUS_CASE)
#undef VDIC_STATUS_CASE
	default:
		return "internal error";
	}
}

int
vdic_config_load(
    const char *path, struct vdic_config **out, char *err, size_t errlen)
{
	struct vdic_config *cfg;

	*out = NULL;
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		vdi_seterr(err, errlen, "out of memory");
		return VDIC_ERR_INTERNAL;
	}
	if (shim_conf_load(path, cfg, err, errlen) != 0) {
		free(cfg);
		return VDIC_ERR_CONFIG;
	}
	*out = cfg;
	return VDIC_OK;
}

int
vdic_config_check(const struct vdic_config *cfg, char *err, size_t errlen)
{
	struct shim_device dev;
	int st;

	if ((st = shim_device_load(cfg, &dev, err, errlen)) != VDIC_OK)
		return st;
	shim_device_free(&dev);
	if (access(cfg->rdp_command, X_OK) != 0) {
		vdi_seterr(err, errlen,
		    "%s: rdp.command: cannot run %s: %s (install "
		    "freerdp2-x11 or set rdp.command)",
		    cfg->path, cfg->rdp_command, strerror(errno));
		return VDIC_ERR_CONFIG;
	}
	return VDIC_OK;
}

void
vdic_config_free(struct vdic_config *cfg)
{
	if (cfg == NULL)
		return;
	OPENSSL_cleanse(cfg, sizeof(*cfg));
	free(cfg);
}

const char *
vdic_config_user(const struct vdic_config *cfg)
{
	return cfg->user[0] != '\0' ? cfg->user : NULL;
}

int
vdic_new(const struct vdic_config *cfg, struct vdic **out)
{
	struct vdic *c;

	*out = NULL;
	if (shim_http_init() != 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return VDIC_ERR_INTERNAL;
	c->cfg = cfg;
	c->child = -1;
	c->pidfd = -1;
	if (pipe2(c->cancel, O_CLOEXEC | O_NONBLOCK) != 0) {
		free(c);
		return VDIC_ERR_INTERNAL;
	}
	*out = c;
	return VDIC_OK;
}

void
vdic_free(struct vdic *c)
{
	if (c == NULL)
		return;
	if (c->have_dev)
		shim_device_free(&c->dev);
	shim_http_free(c->curl);
	close(c->cancel[0]);
	close(c->cancel[1]);
	shim_wipe_grant(c);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

void
vdic_set_prompt_cb(struct vdic *c, vdic_prompt_cb cb, void *arg)
{
	c->prompt = cb;
	c->prompt_arg = arg;
}

void
vdic_set_event_cb(struct vdic *c, vdic_event_cb cb, void *arg)
{
	c->event = cb;
	c->event_arg = arg;
}

void
vdic_set_logoff(struct vdic *c, int on)
{
	c->logoff = on;
}

void
vdic_cancel(struct vdic *c)
{
	int saved = errno;

	c->cancelled = 1;
	(void)!write(c->cancel[1], "x", 1);
	errno = saved;
}

const char *
vdic_message(const struct vdic *c)
{
	return c->msg;
}

void
shim_wipe_grant(struct vdic *c)
{
	OPENSSL_cleanse(c->token, sizeof(c->token));
	OPENSSL_cleanse(c->ticket, sizeof(c->ticket));
}

int
shim_ensure_device(struct vdic *c)
{
	int st;

	if (c->have_dev)
		return VDIC_OK;
	if ((st = shim_device_load(c->cfg, &c->dev, c->msg, sizeof(c->msg))) !=
	    VDIC_OK)
		return st;
	c->have_dev = 1;
	return VDIC_OK;
}
