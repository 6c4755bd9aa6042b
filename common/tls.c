/* tls.c: the reloadable TLS context holder (see tls.h). Contexts are
 * built in tls_ctx.c, files read in tls_load.c, connections asked in
 * tls_peer.c. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "tls.h"
#include "tls_int.h"
#include "vdierr.h"

/* --- reloadable holder ---------------------------------------------- */

struct vdi_tls {
	pthread_mutex_t lock;        /* guards ctx and generation */
	pthread_mutex_t reload_lock; /* serialises reloads, guards cfg */
	SSL_CTX *ctx;
	unsigned long generation;
	struct vdi_tls_config cfg; /* deep copy */
};

static void
config_free(struct vdi_tls_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	free((char *)c->cert_file);
	free((char *)c->key_file);
	if (c->cas != NULL) {
		for (i = 0; i < c->ncas; i++) {
			free((char *)c->cas[i].name);
			free((char *)c->cas[i].ca_file);
			free((char *)c->cas[i].crl_file);
		}
	}
	free((struct vdi_tls_ca *)c->cas);
	memset(c, 0, sizeof(*c));
}

static int
dup_str(const char *s, const char **out)
{
	*out = NULL;
	if (s == NULL)
		return 1;
	return (*out = strdup(s)) != NULL;
}

static int
config_copy(const struct vdi_tls_config *src, struct vdi_tls_config *dst)
{
	struct vdi_tls_ca *cas = NULL;
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->role = src->role;
	dst->flags = src->flags;
	if (!dup_str(src->cert_file, &dst->cert_file) ||
	    !dup_str(src->key_file, &dst->key_file))
		goto fail;
	if (src->ncas > 0) {
		if ((cas = calloc(src->ncas, sizeof(*cas))) == NULL)
			goto fail;
		dst->cas = cas;
		dst->ncas = src->ncas;
		for (i = 0; i < src->ncas; i++) {
			if (!dup_str(src->cas[i].name, &cas[i].name) ||
			    !dup_str(src->cas[i].ca_file, &cas[i].ca_file) ||
			    !dup_str(src->cas[i].crl_file, &cas[i].crl_file))
				goto fail;
		}
	}
	return 0;
fail:
	config_free(dst);
	return VDI_ERR_ALLOC;
}

int
vdi_tls_new(const struct vdi_tls_config *cfg, struct vdi_tls **out, char *err,
    size_t errlen)
{
	struct vdi_tls *t;
	int r;

	if (out == NULL) {
		vdi_seterr(err, errlen, "no output pointer");
		return VDI_ERR_INVALID_ARG;
	}
	*out = NULL;
	if ((r = vtls_check_config(cfg, err, errlen)) != 0)
		return r;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		vdi_seterr(err, errlen, "out of memory");
		return VDI_ERR_ALLOC;
	}
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
		free(t);
		vdi_seterr(err, errlen, "cannot create a mutex");
		return VDI_ERR_SYSTEM;
	}
	if (pthread_mutex_init(&t->reload_lock, NULL) != 0) {
		pthread_mutex_destroy(&t->lock);
		free(t);
		vdi_seterr(err, errlen, "cannot create a mutex");
		return VDI_ERR_SYSTEM;
	}
	if (config_copy(cfg, &t->cfg) != 0) {
		vdi_seterr(err, errlen, "out of memory");
		vdi_tls_free(t);
		return VDI_ERR_ALLOC;
	}
	if ((r = vdi_tls_ctx_new(&t->cfg, &t->ctx, err, errlen)) != 0) {
		vdi_tls_free(t);
		return r;
	}
	t->generation = 1;
	*out = t;
	return 0;
}

void
vdi_tls_free(struct vdi_tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	config_free(&t->cfg);
	pthread_mutex_destroy(&t->reload_lock);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* Builds from cfg and swaps the new context in. Caller holds reload_lock. */
static int
rebuild(struct vdi_tls *t, const struct vdi_tls_config *cfg, char *err,
    size_t errlen)
{
	SSL_CTX *fresh = NULL, *old;
	int r;

	if ((r = vdi_tls_ctx_new(cfg, &fresh, err, errlen)) != 0)
		return r;
	pthread_mutex_lock(&t->lock);
	old = t->ctx;
	t->ctx = fresh;
	t->generation++;
	pthread_mutex_unlock(&t->lock);
	SSL_CTX_free(old); /* SSLs made from it keep their own reference */
	return 0;
}

int
vdi_tls_reload(struct vdi_tls *t, char *err, size_t errlen)
{
	int r;

	if (t == NULL) {
		vdi_seterr(err, errlen, "no TLS holder");
		return VDI_ERR_INVALID_ARG;
	}
	pthread_mutex_lock(&t->reload_lock);
	r = rebuild(t, &t->cfg, err, errlen);
	pthread_mutex_unlock(&t->reload_lock);
	return r;
}

int
vdi_tls_reconfigure(struct vdi_tls *t, const struct vdi_tls_config *cfg,
    char *err, size_t errlen)
{
	struct vdi_tls_config copy;
	int r;

	if (t == NULL) {
		vdi_seterr(err, errlen, "no TLS holder");
		return VDI_ERR_INVALID_ARG;
	}
	if ((r = vtls_check_config(cfg, err, errlen)) != 0)
		return r;
	if (config_copy(cfg, &copy) != 0) {
		vdi_seterr(err, errlen, "out of memory");
		return VDI_ERR_ALLOC;
	}
	pthread_mutex_lock(&t->reload_lock);
	if ((r = rebuild(t, &copy, err, errlen)) == 0) {
		config_free(&t->cfg);
		t->cfg = copy;
	} else {
		config_free(&copy);
	}
	pthread_mutex_unlock(&t->reload_lock);
	return r;
}

SSL_CTX *
vdi_tls_get_ctx(struct vdi_tls *t)
{
	SSL_CTX *ctx;

	if (t == NULL)
		return NULL;
	pthread_mutex_lock(&t->lock);
	ctx = t->ctx;
	if (!SSL_CTX_up_ref(ctx))
		ctx = NULL;
	pthread_mutex_unlock(&t->lock);
	return ctx;
}

SSL *
vdi_tls_ssl_new(struct vdi_tls *t)
{
	SSL *ssl;

	if (t == NULL)
		return NULL;
	pthread_mutex_lock(&t->lock);
	ssl = SSL_new(t->ctx); /* takes its own reference to ctx */
	pthread_mutex_unlock(&t->lock);
	return ssl;
}

unsigned long
vdi_tls_generation(struct vdi_tls *t)
{
	unsigned long g;

	if (t == NULL)
		return 0;
	pthread_mutex_lock(&t->lock);
	g = t->generation;
	pthread_mutex_unlock(&t->lock);
	return g;
}
