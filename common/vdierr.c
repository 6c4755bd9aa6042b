/* vdierr.c: error strings for the table in vdierr.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include <openssl/err.h>

#include "vdierr.h"

const char *
vdi_strerror(int code)
{
	switch (code) {
	case VDI_OK:
		return "success";
#define VDI_ERR_CASE(name, value, msg)                                         \
	case name:                                                             \
		return msg;
		VDI_ERROR_TABLE(VDI_ERR_CASE)
#undef VDI_ERR_CASE
	}
	return "unknown error";
}

const char *
vdi_errname(int code)
{
	switch (code) {
	case VDI_OK:
		return "VDI_OK";
#define VDI_ERR_NAME(name, value, msg)                                         \
	case name:                                                             \
		return #name;
		VDI_ERROR_TABLE(VDI_ERR_NAME)
#undef VDI_ERR_NAME
	}
	return "VDI_ERR_UNKNOWN";
}

const char *
vdi_reason_code(enum vdi_reason r)
{
	static const char *const codes[VDI_REASON_COUNT] = {
#define VDI_REASON_CODE(name, code) [name] = code,
		VDI_REASON_TABLE(VDI_REASON_CODE)
#undef VDI_REASON_CODE
	};

	if ((unsigned int)r >= VDI_REASON_COUNT)
		return "internal_error";
	return codes[r];
}

void
vdi_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *
vdi_ossl_reason(void)
{
	unsigned long e, last = 0;
	const char *r;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last == 0 || (r = ERR_reason_error_string(last)) == NULL)
		return "unknown OpenSSL error";
	return r;
}
