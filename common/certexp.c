/* certexp.c: certificate and CRL expiry for metrics (see certexp.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "certexp.h"

int
certexp_file_seconds_left(const char *path, int64_t *left)
{
	int days = 0, secs = 0, r = 0;
	FILE *f;
	X509 *x;

	*left = 0;
	if ((f = fopen(path, "r")) == NULL)
		return VDI_ERR_IO;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (x == NULL)
		return VDI_ERR_CERT_LOAD;
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) != 1)
		r = VDI_ERR_CERT_LOAD;
	else
		*left = (int64_t)days * 86400 + secs;
	X509_free(x);
	return r;
}

static size_t
put(char *buf, size_t len, size_t at, const char *s, size_t n)
{
	while (n-- > 0 && at + 1 < len)
		buf[at++] = *s++;
	buf[at < len ? at : len - 1] = '\0';
	return at;
}

char *
certexp_metric_line(char *buf, size_t len, const char *name,
    const char *const *labels, int64_t value)
{
	char num[32];
	const char *v;
	size_t i, at = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	at = put(buf, len, at, name, strlen(name));
	at = put(buf, len, at, "{", 1);
	for (i = 0; labels[i] != NULL && labels[i + 1] != NULL; i += 2) {
		if (i > 0)
			at = put(buf, len, at, ",", 1);
		at = put(buf, len, at, labels[i], strlen(labels[i]));
		at = put(buf, len, at, "=\"", 2);
		for (v = labels[i + 1]; *v != '\0'; v++) {
			if (*v == '\\' || *v == '"')
				at = put(buf, len, at, "\\", 1);
			if (*v == '\n')
				at = put(buf, len, at, "\\n", 2);
			else
				at = put(buf, len, at, v, 1);
		}
		at = put(buf, len, at, "\"", 1);
	}
	snprintf(num, sizeof(num), "} %lld\n", (long long)value);
	(void)put(buf, len, at, num, strlen(num));
	return buf;
}
