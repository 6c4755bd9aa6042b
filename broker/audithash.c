/*
 * audithash.c: the hash of an audit row (store.h), apart from any store
 * so that vdictl can verify an audit export (vdictl audit verify --file)
 * with the very code the broker chains rows with.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "store.h"

/*
 * A row's hash covers every field but the hash itself, each written as its
 * length, a colon and its bytes, so no choice of field contents can make
 * two different rows serialise the same way. The first field names the
 * format, so a row cannot be moved from a tenant's chain (format 2) to the
 * old global one (format 1) without its hash changing.
 */
static void
hash_field(EVP_MD_CTX *md, const char *s)
{
	char len[24];
	int n = snprintf(len, sizeof(len), "%zu:", strlen(s));

	EVP_DigestUpdate(md, len, (size_t)n);
	EVP_DigestUpdate(md, s, strlen(s));
}

void
store_audit_hash(const struct store_audit *ev, char out[65])
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0, i;
	char num[48];
	EVP_MD_CTX *md;

	out[0] = '\0';
	if ((md = EVP_MD_CTX_new()) == NULL)
		return;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return;
	}
	hash_field(md, ev->format == 1 ? "vdi-audit-v1" : "vdi-audit-v2");
	snprintf(num, sizeof(num), "%lld", (long long)ev->seq);
	hash_field(md, num);
	snprintf(num, sizeof(num), "%lld", (long long)ev->time);
	hash_field(md, num);
	hash_field(md, ev->actor);
	hash_field(md, ev->action);
	hash_field(md, ev->outcome);
	hash_field(md, ev->tenant);
	hash_field(md, ev->user);
	hash_field(md, ev->device);
	hash_field(md, ev->session);
	hash_field(md, ev->reason);
	hash_field(md, ev->detail);
	hash_field(md, ev->prev_hash);
	EVP_DigestFinal_ex(md, h, &hl);
	EVP_MD_CTX_free(md);
	for (i = 0; i < hl && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}
