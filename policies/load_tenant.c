/*
 * load_tenant.c: the tenants section: CA and CRL files, device rules, PAM
 * service, admins, the tenant's mode and its limits.
 *
 *   tenants = {
 *     town-a = {
 *       ca = "pki/town-a/ca.pem";  crl = "pki/town-a/crl.pem";
 *       device = { class_attribute = "OU";
 *                  classes = ["field-tablet", "shared-tablet"];
 *                  shared_classes = ["shared-tablet"];
 *                  subject = { O = "town-a"; };  cn_prefix = "town-a-"; };
 *       pam_service = "vdi-town-a";  admins = ["sato"];
 *     };
 *   };
 *
 * CA and CRL files are read here, once: a file that cannot be read or
 * parsed, a CA certificate that is not a CA, and a CRL that the CA did not
 * sign are load errors. Two tenants may not share a CA subject, since the
 * issuer is how a device certificate finds its tenant.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "load_int.h"

#define PKI_FILE_MAX (1024 * 1024)

static const struct {
	const char *name;
	int nid;
} attrs[] = {
	{ "C", NID_countryName },
	{ "ST", NID_stateOrProvinceName },
	{ "L", NID_localityName },
	{ "O", NID_organizationName },
	{ "OU", NID_organizationalUnitName },
	{ "CN", NID_commonName },
	{ "serialNumber", NID_serialNumber },
	{ "title", NID_title },
	{ "description", NID_description },
};
#define NATTRS (sizeof(attrs) / sizeof(attrs[0]))

static const char *const attr_keys[] = { "C", "ST", "L", "O", "OU", "CN",
	"serialNumber", "title", "description", NULL };
#define ATTR_LIST "C, ST, L, O, OU, CN, serialNumber, title, description"

static int
attr_nid(const char *name)
{
	size_t i;

	for (i = 0; i < NATTRS; i++)
		if (strcmp(attrs[i].name, name) == 0)
			return attrs[i].nid;
	return NID_undef;
}

/* Reads a regular file of at most PKI_FILE_MAX bytes. */
static int
read_small(const char *path, unsigned char **buf, size_t *len, const char **why)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd, r = -1;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		*why = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		*why = strerror(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		goto out;
	}
	if (st.st_size > PKI_FILE_MAX) {
		*why = "larger than 1 MiB";
		goto out;
	}
	if ((*buf = malloc((size_t)st.st_size + 1)) == NULL) {
		*why = "out of memory";
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, *buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*why = n < 0 ? strerror(errno) : "file shrank";
			goto out;
		}
		got += (size_t)n;
	}
	*len = got;
	r = 0;
out:
	if (r != 0) {
		free(*buf);
		*buf = NULL;
	}
	close(fd);
	return r;
}

static int
load_ca(struct lctx *c, const config_setting_t *s, const char *path, X509 **out)
{
	unsigned char *buf;
	const unsigned char *p;
	const char *why;
	size_t len;
	BIO *bio;
	X509 *x = NULL;

	*out = NULL;
	if (read_small(path, &buf, &len, &why) != 0) {
		lerr(c, s,
		    "cannot read CA certificate %s: %s (expected a "
		    "readable PEM or DER file)",
		    path, why);
		return -1;
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL) {
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	if (x == NULL) {
		p = buf;
		x = d2i_X509(NULL, &p, (long)len);
	}
	free(buf);
	ERR_clear_error();
	if (x == NULL) {
		lerr(c, s,
		    "cannot parse CA certificate %s (expected a PEM or "
		    "DER X.509 certificate)",
		    path);
		return -1;
	}
	if (X509_check_ca(x) < 1) {
		lerr(c, s,
		    "%s is not a CA certificate (expected "
		    "basicConstraints CA:TRUE)",
		    path);
		X509_free(x);
		return -1;
	}
	*out = x;
	return 0;
}

static int
load_crl(struct lctx *c, const config_setting_t *s, const char *path, X509 *ca,
    X509_CRL **out)
{
	unsigned char *buf;
	const unsigned char *p;
	const char *why;
	size_t len;
	BIO *bio;
	X509_CRL *crl = NULL;
	EVP_PKEY *key;
	int64_t left;

	*out = NULL;
	if (read_small(path, &buf, &len, &why) != 0) {
		lerr(c, s,
		    "cannot read CRL %s: %s (expected a readable PEM or "
		    "DER file)",
		    path, why);
		return -1;
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL) {
		crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	if (crl == NULL) {
		p = buf;
		crl = d2i_X509_CRL(NULL, &p, (long)len);
	}
	free(buf);
	ERR_clear_error();
	if (crl == NULL) {
		lerr(c, s,
		    "cannot parse CRL %s (expected a PEM or DER X.509 "
		    "CRL)",
		    path);
		return -1;
	}
	if (ca != NULL) {
		key = X509_get0_pubkey(ca);
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
			X509_get_subject_name(ca)) != 0 ||
		    key == NULL || X509_CRL_verify(crl, key) != 1) {
			ERR_clear_error();
			lerr(c, s,
			    "CRL %s was not issued by the tenant's CA "
			    "(expected a CRL signed by the certificate in ca)",
			    path);
			X509_CRL_free(crl);
			return -1;
		}
	}
	/* OpenSSL refuses every device of a CA whose CRL is past its
	 * nextUpdate ("CRL has expired"): a whole tenant locked out. */
	if (policy_crl_seconds_left(crl, &left) == 0 && left < 0) {
		char when[32];

		policy_crl_next_update_str(crl, when, sizeof(when));
		lerr(c, s,
		    "CRL %s expired on %s (its nextUpdate): every device of "
		    "this tenant would be refused; publish a new CRL from the "
		    "tenant's CA",
		    path, when);
		X509_CRL_free(crl);
		return -1;
	}
	*out = crl;
	return 0;
}

static int
load_device(struct lctx *c, const config_setting_t *g, struct policy_tenant *t)
{
	static const char *const keys[] = { "class_attribute", "classes",
		"shared_classes", "subject", "cn_prefix", NULL };
	const config_setting_t *d, *list, *e, *subj;
	const char *attr, *v;
	size_t i, j;
	int bad = 0, n;

	t->class_nid = NID_organizationalUnitName;
	if ((d = config_setting_get_member(g, "device")) == NULL) {
		lerr_key(c, g, "device",
		    "missing (expected device = { classes "
		    "= [\"field-tablet\"]; ... }: the rules a device "
		    "certificate must match)");
		return -1;
	}
	if (lexpect_group(c, d, "a group: device = { classes = [...]; ... }") !=
	    0)
		return -1;
	bad |= lcheck_keys(c, d, keys);
	if (lget_string(c, d, "class_attribute", 0,
		"a subject attribute: " ATTR_LIST, &attr) != 0)
		bad = -1;
	else if (attr != NULL && (t->class_nid = attr_nid(attr)) == NID_undef) {
		lerr(c, config_setting_get_member(d, "class_attribute"),
		    "unknown subject attribute \"%s\" (expected one "
		    "of " ATTR_LIST ")",
		    attr);
		bad = -1;
	}
	if (lget_list(c, d, "classes", 1, lname_ok,
		"device class names "
		"such as \"field-tablet\"",
		&list) != 0)
		bad = -1;
	else {
		bad |= lcopy_strings(c, list, &t->classes, &t->nclasses);
		for (i = 0; i < t->nclasses; i++) {
			if (strlen(t->classes[i]) > POLICY_DEVICE_CLASS_MAX) {
				lerr(c,
				    config_setting_get_elem(
					list, (unsigned int)i),
				    "too long (expected at "
				    "most %d characters)",
				    POLICY_DEVICE_CLASS_MAX);
				bad = -1;
			}
			for (j = 0; j < i; j++)
				if (strcmp(t->classes[i], t->classes[j]) == 0)
					break;
			if (j < i) {
				lerr(c,
				    config_setting_get_elem(
					list, (unsigned int)i),
				    "duplicate class \"%s\" "
				    "(expected each class once)",
				    t->classes[i]);
				bad = -1;
			}
		}
	}
	if (lget_list(c, d, "shared_classes", 0, lname_ok,
		"device class "
		"names",
		&list) != 0)
		bad = -1;
	else if (list != NULL) {
		bad |= lcopy_strings(c, list, &t->shared, &t->nshared);
		for (i = 0; i < t->nshared; i++)
			if (t->classes != NULL &&
			    !policy_str_in(
				t->shared[i], t->classes, t->nclasses)) {
				lerr(c,
				    config_setting_get_elem(
					list, (unsigned int)i),
				    "undefined device class "
				    "\"%s\" (expected one of device.classes)",
				    t->shared[i]);
				bad = -1;
			}
	}
	bad |= lget_string(c, d, "cn_prefix", 0,
	    "a string the CN must start "
	    "with",
	    &t->cn_prefix);
	if ((subj = config_setting_get_member(d, "subject")) == NULL)
		return bad;
	if (lexpect_group(c, subj,
		"a group of subject attributes: subject = "
		"{ O = \"town-a\"; }") != 0)
		return -1;
	if (lcheck_keys(c, subj, attr_keys) != 0)
		return -1;
	n = config_setting_length(subj);
	if ((t->subject_nid = policy_arena_calloc(
		 c->a, (size_t)n, sizeof(*t->subject_nid))) == NULL ||
	    (t->subject_val = policy_arena_calloc(
		 c->a, (size_t)n, sizeof(*t->subject_val))) == NULL)
		return lerr_oom(c);
	for (i = 0; i < (size_t)n; i++) {
		e = config_setting_get_elem(subj, (unsigned int)i);
		if (lget_string(c, subj, config_setting_name(e), 1,
			"the exact "
			"value the attribute must have",
			&v) != 0) {
			bad = -1;
			continue;
		}
		t->subject_nid[t->nsubject] = attr_nid(config_setting_name(e));
		t->subject_val[t->nsubject++] = v;
	}
	return bad;
}

static int
load_tenant(struct lctx *c, const config_setting_t *s, struct policy_tenant *t)
{
	static const char *const keys[] = { "description", "ca", "crl",
		"device", "pam_service", "admins", "admin_groups", "mode",
		"limits", "channels", NULL };
	const config_setting_t *list, *ms;
	const char *ca, *crl, *mode;
	int bad = 0, r;

	if ((r = lobj_group(c, s, NULL,
		 "a group: NAME = { ca = \"...\"; crl = "
		 "\"...\"; device = { ... }; }",
		 keys, &t->name, &t->src_file, &t->src_line, &t->description)) <
	    -1)
		return -1;
	bad |= r;
	if (lget_string(c, s, "ca", 1,
		"the path of the tenant's device CA "
		"certificate",
		&ca) != 0)
		bad = -1;
	else {
		ms = config_setting_get_member(s, "ca");
		if ((t->ca_path = ljoin(c, lsrc_dir(c, ms), ca)) == NULL)
			return lerr_oom(c);
		if (c->opts == NULL || !c->opts->skip_pki_files)
			bad |= load_ca(c, ms, t->ca_path, &t->ca);
	}
	if (lget_string(c, s, "crl", 1,
		"the path of the CRL of the tenant's "
		"CA",
		&crl) != 0)
		bad = -1;
	else {
		ms = config_setting_get_member(s, "crl");
		t->crl_line = lsrc_line(ms);
		if ((t->crl_path = ljoin(c, lsrc_dir(c, ms), crl)) == NULL)
			return lerr_oom(c);
		if (c->opts == NULL || !c->opts->skip_pki_files)
			bad |= load_crl(c, ms, t->crl_path, t->ca, &t->crl);
	}
	bad |= load_device(c, s, t);
	if (lget_string(c, s, "pam_service", 0, "a PAM service name",
		&t->pam_service) != 0)
		bad = -1;
	else if (t->pam_service == NULL)
		t->pam_service = "vdi";
	else if (!lname_ok(t->pam_service)) {
		lerr(c, config_setting_get_member(s, "pam_service"),
		    "bad PAM "
		    "service \"%s\" (expected a file name in /etc/pam.d: "
		    "letters, digits, '-', '_', '.')",
		    t->pam_service);
		bad = -1;
	}
	if (lget_list(c, s, "admins", 0, lprincipal_ok, "user names", &list) ==
	    0)
		bad |= lcopy_strings(c, list, &t->admins, &t->nadmins);
	else
		bad = -1;
	if (lget_list(c, s, "admin_groups", 0, lprincipal_ok, "group names",
		&list) == 0)
		bad |=
		    lcopy_strings(c, list, &t->admin_groups, &t->nadmin_groups);
	else
		bad = -1;
	if (lget_string(c, s, "mode", 0, "a name from modes", &mode) != 0)
		bad = -1;
	else if (mode != NULL) {
		ms = config_setting_get_member(s, "mode");
		t->mode_line = lsrc_line(ms);
		if ((t->mode = policy_mode_lookup(c->p, mode)) == NULL) {
			lerr(c, ms,
			    "undefined mode \"%s\" (expected a name "
			    "from modes)",
			    mode);
			bad = -1;
		}
	}
	bad |= lload_limits(c, s, &t->limits);
	bad |= lload_channels(c, s, &t->channels);
	return bad;
}

int
lload_tenants(struct lctx *c, const config_setting_t *root)
{
	const config_setting_t *sec;
	struct policy_tenant *t, *u;
	size_t i, j;
	int bad = 0;

	if ((sec = config_setting_get_member(root, "tenants")) == NULL)
		return 0;
	if (lexpect_group(c, sec, "a group: tenants = { NAME = { ... }; }") !=
	    0)
		return -1;
	c->p->ntenants = (size_t)config_setting_length(sec);
	if ((c->p->tenants = policy_arena_calloc(
		 c->a, c->p->ntenants, sizeof(*c->p->tenants))) == NULL)
		return lerr_oom(c);
	for (i = 0; i < c->p->ntenants; i++)
		bad |= load_tenant(c,
		    config_setting_get_elem(sec, (unsigned int)i),
		    &c->p->tenants[i]);
	/* The CA subject is how a device finds its tenant. */
	for (i = 0; i < c->p->ntenants; i++) {
		t = &c->p->tenants[i];
		for (j = 0; t->ca != NULL && j < i; j++) {
			u = &c->p->tenants[j];
			if (u->ca == NULL ||
			    X509_NAME_cmp(X509_get_subject_name(t->ca),
				X509_get_subject_name(u->ca)) != 0)
				continue;
			lerr(c,
			    config_setting_get_member(
				config_setting_get_elem(sec, (unsigned int)i),
				"ca"),
			    "CA has the same subject as tenant \"%s\"'s CA "
			    "(expected one CA per tenant, with distinct "
			    "subjects)",
			    u->name);
			bad = -1;
			break;
		}
	}
	return bad;
}
