/* authpkg_none.c: authpkg.h without a backend (configured without
 * winpr2): every constructor says so. */
#include "config.h"

#include "gateway/authpkg.h"

int
authpkg_available(void)
{
	return 0;
}

int
authpkg_client_new(const char *user, const char *domain, const char *password,
    const char *target, struct authpkg **out, uint32_t *status)
{
	(void)user;
	(void)domain;
	(void)password;
	(void)target;
	*out = NULL;
	*status = 0;
	return VDI_ERR_UNSUPPORTED;
}

int
authpkg_server_new(const char *sam_file, struct authpkg **out, uint32_t *status)
{
	(void)sam_file;
	*out = NULL;
	*status = 0;
	return VDI_ERR_UNSUPPORTED;
}

int
authpkg_step(struct authpkg *a, const unsigned char *in, size_t in_len,
    struct vbuf *out, int *done, uint32_t *status)
{
	(void)a;
	(void)in;
	(void)in_len;
	(void)out;
	*done = 0;
	*status = 0;
	return VDI_ERR_UNSUPPORTED;
}

int
authpkg_seal(struct authpkg *a, const unsigned char *p, size_t n,
    struct vbuf *out, uint32_t *status)
{
	(void)a;
	(void)p;
	(void)n;
	(void)out;
	*status = 0;
	return VDI_ERR_UNSUPPORTED;
}

int
authpkg_unseal(struct authpkg *a, const unsigned char *p, size_t n,
    struct vbuf *out, uint32_t *status)
{
	(void)a;
	(void)p;
	(void)n;
	(void)out;
	*status = 0;
	return VDI_ERR_UNSUPPORTED;
}

void
authpkg_free(struct authpkg *a)
{
	(void)a;
}
