/* vdierr.c: error strings for the table in vdierr.h. */
#include "config.h"

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
