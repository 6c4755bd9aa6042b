/*
 * policy.c: the policy object: its arena, reference count, destruction and
 * read-only accessors.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509.h>

#include "policy_int.h"

/* ---- arena ------------------------------------------------------------- */

#define ARENA_CHUNK (64u * 1024u)
#define ARENA_ALIGN 16u
#define ARENA_MAX   (256u * 1024u * 1024u)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	/* storage follows, aligned */
};

struct policy_arena {
	struct arena_chunk *head;
	size_t total;
};

#define CHUNK_HDR                                                              \
	((sizeof(struct arena_chunk) + ARENA_ALIGN - 1) &                      \
	    ~(size_t)(ARENA_ALIGN - 1))

struct policy_arena *
policy_arena_new(void)
{
	return calloc(1, sizeof(struct policy_arena));
}

void
policy_arena_free(struct policy_arena *a)
{
	struct arena_chunk *c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void *
policy_arena_alloc(struct policy_arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t want, size;
	unsigned char *p;

	if (n > ARENA_MAX)
		return NULL;
	want = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (want == 0)
		want = ARENA_ALIGN;
	if (c == NULL || c->size - c->used < want) {
		size = want > ARENA_CHUNK ? want : ARENA_CHUNK;
		if (a->total + size > ARENA_MAX)
			return NULL;
		if ((c = malloc(CHUNK_HDR + size)) == NULL)
			return NULL;
		c->size = size;
		c->used = 0;
		/* A big one-off allocation goes behind the current chunk so
		 * that the current chunk's free space is not lost. */
		if (a->head != NULL && size > ARENA_CHUNK) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
		a->total += size;
	}
	p = (unsigned char *)c + CHUNK_HDR + c->used;
	c->used += want;
	memset(p, 0, want);
	return p;
}

void *
policy_arena_calloc(struct policy_arena *a, size_t n, size_t size)
{
	if (size != 0 && n > ARENA_MAX / size)
		return NULL;
	return policy_arena_alloc(a, n * size);
}

char *
policy_arena_strdup(struct policy_arena *a, const char *s)
{
	size_t n = strlen(s);
	char *d;

	if ((d = policy_arena_alloc(a, n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n + 1);
	return d;
}

int
policy_str_in(const char *s, const char *const *v, size_t n)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(s, v[i]) == 0)
			return 1;
	return 0;
}

/* ---- lifetime ---------------------------------------------------------- */

void
policy_destroy(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->ntenants; i++) {
		X509_free(p->tenants[i].ca);
		X509_CRL_free(p->tenants[i].crl);
	}
	policy_arena_free(p->arena);
}

struct policy *
policy_ref(struct policy *p)
{
	if (p != NULL)
		__atomic_fetch_add(&p->refs, 1, __ATOMIC_RELAXED);
	return p;
}

void
policy_unref(struct policy *p)
{
	if (p == NULL)
		return;
	if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0)
		policy_destroy(p);
}

void
policy_errors_clear(struct policy_errors *e)
{
	if (e == NULL)
		return;
	free(e->text);
	memset(e, 0, sizeof(*e));
}

const char *
policy_source(const struct policy *p)
{
	return p->source;
}

/* ---- lookups ----------------------------------------------------------- */

const struct policy_tenant *
policy_tenant_lookup(const struct policy *p, const char *name)
{
	size_t i;

	if (p == NULL || name == NULL)
		return NULL;
	for (i = 0; i < p->ntenants; i++)
		if (strcmp(p->tenants[i].name, name) == 0)
			return &p->tenants[i];
	return NULL;
}

const struct policy_pool *
policy_pool_lookup(const struct policy *p, const char *name)
{
	size_t i;

	if (p == NULL || name == NULL)
		return NULL;
	for (i = 0; i < p->npools; i++)
		if (strcmp(p->pools[i].name, name) == 0)
			return &p->pools[i];
	return NULL;
}

const struct policy_mode *
policy_mode_lookup(const struct policy *p, const char *name)
{
	size_t i;

	if (p == NULL || name == NULL)
		return NULL;
	for (i = 0; i < p->nmodes; i++)
		if (strcmp(p->modes[i].name, name) == 0)
			return &p->modes[i];
	return NULL;
}

size_t
policy_tenant_count(const struct policy *p)
{
	return p->ntenants;
}

const struct policy_tenant *
policy_tenant_at(const struct policy *p, size_t i)
{
	return i < p->ntenants ? &p->tenants[i] : NULL;
}

size_t
policy_pool_count(const struct policy *p)
{
	return p->npools;
}

const struct policy_pool *
policy_pool_at(const struct policy *p, size_t i)
{
	return i < p->npools ? &p->pools[i] : NULL;
}

size_t
policy_mode_count(const struct policy *p)
{
	return p->nmodes;
}

const struct policy_mode *
policy_mode_at(const struct policy *p, size_t i)
{
	return i < p->nmodes ? &p->modes[i] : NULL;
}

size_t
policy_rule_count(const struct policy *p)
{
	return p->nrules;
}

const struct policy_rule *
policy_rule_at(const struct policy *p, size_t i)
{
	return i < p->nrules ? &p->rules[i] : NULL;
}

const char *
policy_tenant_name(const struct policy_tenant *t)
{
	return t->name;
}

const char *
policy_tenant_pam_service(const struct policy_tenant *t)
{
	return t->pam_service;
}

X509 *
policy_tenant_ca(const struct policy_tenant *t)
{
	return t->ca;
}

X509_CRL *
policy_tenant_crl(const struct policy_tenant *t)
{
	return t->crl;
}

const struct policy_mode *
policy_tenant_mode(const struct policy_tenant *t)
{
	return t->mode;
}

int
policy_tenant_is_admin(const struct policy_tenant *t, const char *user,
    const char *const *groups, size_t ngroups)
{
	size_t i;

	if (t == NULL || user == NULL)
		return 0;
	if (policy_str_in(user, t->admins, t->nadmins))
		return 1;
	for (i = 0; i < ngroups; i++)
		if (groups[i] != NULL &&
		    policy_str_in(groups[i], t->admin_groups, t->nadmin_groups))
			return 1;
	return 0;
}

const char *
policy_pool_name(const struct policy_pool *pool)
{
	return pool->name;
}

const struct policy_tenant *
policy_pool_tenant(const struct policy_pool *pool)
{
	return pool->tenant;
}

const char *
policy_pool_zone(const struct policy_pool *pool)
{
	return pool->zone->name;
}

enum policy_assignment
policy_pool_assignment(const struct policy_pool *pool)
{
	return pool->assignment;
}

size_t
policy_pool_desktop_count(const struct policy_pool *pool)
{
	return pool->ndesktops;
}

const struct policy_desktop *
policy_pool_desktop(const struct policy_pool *pool, size_t i)
{
	return i < pool->ndesktops ? &pool->desktops[i] : NULL;
}

const struct policy_desktop *
policy_tenant_desktop(
    const struct policy *p, const char *tenant, const char *host, uint16_t port)
{
	const struct policy_pool *pool;
	const struct policy_desktop *d;
	size_t i, k;

	if (p == NULL || tenant == NULL || host == NULL)
		return NULL;
	for (i = 0; i < policy_pool_count(p); i++) {
		pool = policy_pool_at(p, i);
		if (strcmp(policy_tenant_name(policy_pool_tenant(pool)),
			tenant) != 0)
			continue;
		for (k = 0; k < pool->ndesktops; k++) {
			d = &pool->desktops[k];
			if (d->port == port && strcasecmp(d->host, host) == 0)
				return d;
		}
	}
	return NULL;
}

const char *
policy_rule_name(const struct policy_rule *r)
{
	return r->name;
}

int
policy_rule_allows(const struct policy_rule *r)
{
	return r->allow;
}

int
policy_uses_groups(const struct policy *p)
{
	size_t i, j;

	for (i = 0; i < p->nrules; i++)
		if (p->rules[i].ngroups > 0)
			return 1;
	for (i = 0; i < p->nmodes; i++)
		for (j = 0; j < p->modes[i].nrules; j++)
			if (p->modes[i].rules[j].ngroups > 0)
				return 1;
	return 0;
}

const char *
policy_rule_file(const struct policy_rule *r)
{
	return r->src_file;
}

unsigned int
policy_rule_line(const struct policy_rule *r)
{
	return r->src_line;
}

const struct policy_mode *
policy_rule_mode(const struct policy_rule *r)
{
	return r->mode;
}

const char *
policy_mode_name(const struct policy_mode *m)
{
	return m->name;
}

size_t
policy_mode_rule_count(const struct policy_mode *m)
{
	return m->nrules;
}

const char *
policy_assignment_name(enum policy_assignment a)
{
	return a == POLICY_ASSIGN_PERSISTENT ? "persistent" : "pooled";
}

const char *
policy_security_name(enum policy_security s)
{
	return s == POLICY_SEC_NLA ? "nla" : "tls";
}

/* ---- sites ------------------------------------------------------------- */

const struct policy_site *
policy_site_in_mode(const struct policy_site *s, const struct policy_mode *m)
{
	size_t i;

	if (m == NULL || s->mode != NULL)
		return s;
	for (i = 0; i < m->nsites; i++)
		if (m->sites[i].overrides == s)
			return &m->sites[i];
	return s;
}

int
policy_site_match(const struct policy_site *s, const struct vdi_addr *addr)
{
	size_t i;

	for (i = 0; i < s->ncidrs; i++)
		if (vdi_cidr_match(&s->cidrs[i], addr))
			return 1;
	return 0;
}

int
policy_crl_seconds_left(const X509_CRL *crl, int64_t *left)
{
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	int days = 0, secs = 0;

	*left = 0;
	if (next == NULL || ASN1_TIME_diff(&days, &secs, NULL, next) != 1)
		return VDI_ERR_NOT_FOUND;
	*left = (int64_t)days * 86400 + secs;
	return 0;
}

void
policy_crl_next_update_str(const X509_CRL *crl, char *buf, size_t len)
{
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	struct tm tm;

	if (next == NULL || ASN1_TIME_to_tm(next, &tm) != 1) {
		snprintf(buf, len, "never");
		return;
	}
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

unsigned int
policy_crl_warning(const struct policy *p)
{
	return p->crl_warning;
}

static void
crl_warnings(const struct policy *p, void (*fn)(const char *, void *),
    void *arg, size_t *n)
{
	const struct policy_tenant *t;
	char line[1024], when[32];
	int64_t left;
	size_t i;

	for (i = 0; i < p->ntenants; i++) {
		t = &p->tenants[i];
		if (t->crl == NULL ||
		    policy_crl_seconds_left(t->crl, &left) != 0 ||
		    left >= (int64_t)p->crl_warning)
			continue;
		(*n)++;
		if (fn == NULL)
			continue;
		policy_crl_next_update_str(t->crl, when, sizeof(when));
		if (left < 0)
			snprintf(line, sizeof(line),
			    "%s:%u: tenants.%s.crl: warning: CRL %s expired "
			    "on %s (its nextUpdate): every device of this "
			    "tenant is refused; publish a new CRL from the "
			    "tenant's CA",
			    t->src_file != NULL ? t->src_file : "?",
			    t->crl_line, t->name, t->crl_path, when);
		else
			snprintf(line, sizeof(line),
			    "%s:%u: tenants.%s.crl: warning: CRL %s expires "
			    "on %s (its nextUpdate, in %lldh%02lldm): publish "
			    "a new CRL from the tenant's CA before then, or "
			    "every device of this tenant is refused",
			    t->src_file != NULL ? t->src_file : "?",
			    t->crl_line, t->name, t->crl_path, when,
			    (long long)(left / 3600),
			    (long long)(left % 3600 / 60));
		fn(line, arg);
	}
}

size_t
policy_warnings(
    const struct policy *p, void (*fn)(const char *, void *), void *arg)
{
	const struct policy_pool *pool;
	const struct policy_desktop *d;
	char line[1024];
	size_t i, j, n = 0;

	crl_warnings(p, fn, arg, &n);
	for (i = 0; i < policy_pool_count(p); i++) {
		pool = policy_pool_at(p, i);
		for (j = 0; j < policy_pool_desktop_count(pool); j++) {
			d = policy_pool_desktop(pool, j);
			if (d->security != POLICY_SEC_NLA)
				continue;
			n++;
			if (fn == NULL)
				continue;
			snprintf(line, sizeof(line),
			    "%s:%u: pools.%s.desktops: %s: warning: security "
			    "= \"nla\": vdi-gatewayd does not support NLA "
			    "desktops yet and refuses their tunnels "
			    "(nla_unsupported); use security = \"tls\"",
			    d->src_file != NULL ? d->src_file : "?",
			    d->src_line, policy_pool_name(pool), d->name);
			fn(line, arg);
		}
	}
	return n;
}
