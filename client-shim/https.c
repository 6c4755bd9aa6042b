/* https.c: HTTPS to the broker with the device certificate (libcurl), TLS
 * alerts explained, and the JSON writers for request bodies (shim_io.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "shim_io.h"
#include "tls.h"

#define BODY_MAX (64u * 1024u)

struct body {
	char *d;
	size_t len;
	int overflow;
};

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;

	if (b->len + n >= BODY_MAX) {
		b->overflow = 1;
		return 0;
	}
	memcpy(b->d + b->len, p, n);
	b->len += n;
	b->d[b->len] = '\0';
	return n;
}

/* Why a TLS handshake failed, from the alert the server sent. */
int
shim_tls_alert_status(const char *why, const char *what,
    const struct shim_device *dev, char *msg, size_t msglen)
{
	if (strstr(why, "revoked") != NULL) {
		vdi_seterr(msg, msglen,
		    "This tablet has been blocked: the %s says its device "
		    "certificate is revoked. Do not retry: bring it to your IT "
		    "department.",
		    what);
		return VDIC_ERR_DEVICE;
	}
	/* OpenSSL sends the same "certificate expired" alert when the
	 * tenant's CRL is past its nextUpdate: a certificate still valid by
	 * this tablet's clock (shim_device_load refuses expired ones) means
	 * the revocation list ran out, which IT must fix, not the tablet. */
	if (strstr(why, "expired") != NULL && dev->cert != NULL &&
	    X509_cmp_time(X509_get0_notAfter(dev->cert), NULL) > 0) {
		vdi_seterr(msg, msglen,
		    "Your organisation's revocation list has expired: tell IT. "
		    "The %s refuses every tablet of your organisation until IT "
		    "publishes a new certificate revocation list (CRL); this "
		    "tablet's own certificate is valid until %s.",
		    what, dev->not_after);
		return VDIC_ERR_CRL_EXPIRED;
	}
	if (strstr(why, "expired") != NULL) {
		vdi_seterr(msg, msglen,
		    "This tablet's device certificate has expired (valid until "
		    "%s). Bring it to your IT department to renew the "
		    "certificate.",
		    dev->not_after);
		return VDIC_ERR_DEVICE;
	}
	if (strstr(why, "unknown ca") != NULL ||
	    strstr(why, "bad certificate") != NULL ||
	    strstr(why, "certificate required") != NULL ||
	    strstr(why, "unsupported certificate") != NULL) {
		vdi_seterr(msg, msglen,
		    "The %s does not accept this tablet's device certificate "
		    "(%s). Ask your IT department to check its enrolment.",
		    what, why);
		return VDIC_ERR_DEVICE;
	}
	return 0;
}

int
shim_http_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK
	    ? 0
	    : VDI_ERR_INTERNAL;
}

int
shim_broker_post(void **curlp, const struct vdic_config *cfg,
    const struct shim_device *dev, const char *path, const char *json,
    struct shim_reply *out, char *msg, size_t msglen)
{
	char url[SHIM_STR_MAX + 64], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdr = NULL;
	struct body b = { NULL, 0, 0 };
	CURL *h = *curlp;
	CURLcode cc;
	long status = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (h == NULL && (h = *curlp = curl_easy_init()) == NULL)
		return VDIC_ERR_INTERNAL;
	if ((b.d = malloc(BODY_MAX)) == NULL)
		return VDIC_ERR_INTERNAL;
	b.d[0] = '\0';
	snprintf(url, sizeof(url), "%s%s", cfg->broker_url, path);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->pkcs12[0] != '\0') {
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "P12");
		curl_easy_setopt(h, CURLOPT_SSLCERT, cfg->pkcs12);
		curl_easy_setopt(h, CURLOPT_KEYPASSWD, cfg->passphrase);
	} else {
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLCERT, cfg->cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, cfg->key);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)cfg->connect_timeout);
	/* A PAM conversation may wait on the broker's rate limiter. */
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)cfg->connect_timeout + 30);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "vdi-connect/" PACKAGE_VERSION);
	cc = curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdr);
	if (cc != CURLE_OK) {
		const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);

		switch (cc) {
		case CURLE_SSL_CERTPROBLEM:
			vdi_seterr(msg, msglen,
			    "Cannot use the device certificate (%s). Ask your "
			    "IT department to provision this tablet again.",
			    why);
			r = VDIC_ERR_CONFIG;
			break;
		case CURLE_PEER_FAILED_VERIFICATION:
			vdi_seterr(msg, msglen,
			    "The server at %s is not the VDI service (%s). You "
			    "may be on a wrong network (hotel or captive "
			    "Wi-Fi): "
			    "change network and try again.",
			    cfg->broker_url, why);
			r = VDIC_ERR_BROKER;
			break;
		default:
			if ((r = shim_tls_alert_status(
				 why, "service", dev, msg, msglen)) != 0)
				break;
			/* TLS 1.3: a refused client certificate shows after
			 * the handshake, and libcurl's message hides the
			 * server's alert; ask once more with our TLS. */
			if (cc != CURLE_COULDNT_CONNECT &&
			    cc != CURLE_COULDNT_RESOLVE_HOST &&
			    cc != CURLE_OPERATION_TIMEDOUT) {
				char probe[256];

				if (shim_tls_probe(dev, cfg->broker_url,
					cfg->connect_timeout, probe,
					sizeof(probe)) != 0 &&
				    (r = shim_tls_alert_status(probe, "service",
					 dev, msg, msglen)) != 0)
					break;
			}
			vdi_seterr(msg, msglen,
			    "Cannot reach the VDI service at %s (%s). Check "
			    "that the tablet is online (Wi-Fi or mobile data) "
			    "and try again.",
			    cfg->broker_url, why);
			r = VDIC_ERR_BROKER;
			break;
		}
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (shim_reply_parse(b.d, b.len, status, out) != 0) {
		vdi_seterr(msg, msglen,
		    "The VDI service at %s gave an answer this program does "
		    "not understand (HTTP %ld). Call the help desk.",
		    cfg->broker_url, status);
		r = VDIC_ERR_BROKER;
		goto out;
	}
	r = VDIC_OK;
out:
	OPENSSL_cleanse(b.d, BODY_MAX);
	free(b.d);
	return r;
}

void
shim_http_free(void *curl)
{
	if (curl != NULL)
		curl_easy_cleanup(curl);
}

/* JSON string escaping into a bounded buffer (secrets stay in memory we
 * wipe). Returns 0 or VDI_ERR_TOO_LARGE. */
int
shim_json_str(char *out, size_t outlen, size_t *pos, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t p = *pos;

#define PUT(ch)                                                                \
	do {                                                                   \
		if (p + 1 >= outlen)                                           \
			return VDI_ERR_TOO_LARGE;                              \
		out[p++] = (ch);                                               \
	} while (0)
	PUT('"');
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			PUT('\\');
			PUT((char)ch);
		} else if (ch < 0x20) {
			PUT('\\');
			PUT('u');
			PUT('0');
			PUT('0');
			PUT(hex[ch >> 4]);
			PUT(hex[ch & 15]);
		} else {
			PUT((char)ch);
		}
	}
	PUT('"');
#undef PUT
	out[p] = '\0';
	*pos = p;
	return 0;
}

int
shim_json_raw(char *out, size_t outlen, size_t *pos, const char *s)
{
	size_t l = strlen(s);

	if (*pos + l + 1 > outlen)
		return VDI_ERR_TOO_LARGE;
	memcpy(out + *pos, s, l + 1);
	*pos += l;
	return 0;
}
