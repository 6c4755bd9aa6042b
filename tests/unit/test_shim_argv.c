/* Unit tests for client-shim/launch.c: the RDP client's arguments and
 * environment. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shim.h"

static int
has(char **v, const char *s)
{
	for (; *v != NULL; v++)
		if (strcmp(*v, s) == 0)
			return 1;
	return 0;
}

static int
has_prefix(char **v, const char *s)
{
	for (; *v != NULL; v++)
		if (strncmp(*v, s, strlen(s)) == 0)
			return 1;
	return 0;
}

static void
base(struct vdic_config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->rdp_command, "/usr/bin/xfreerdp");
	strcpy(c->rdp_pin,
	    "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899");
	c->kbd_type = c->kbd_subtype = c->kbd_fn_keys = -1;
}

static void
shim_rdp_argv__when_default__hardened(void **state)
{
	struct vdic_config c;
	char **v;

	(void)state;
	base(&c);
	assert_int_equal(shim_rdp_argv(&c, "alice", 4242, &v), 0);
	assert_string_equal(v[0], "/usr/bin/xfreerdp");
	assert_true(has(v, "/v:127.0.0.1:4242"));
	assert_true(has(v, "/sec:tls"));
	assert_true(has(v,
	    "/cert:deny,fingerprint:sha256:aa:bb:cc:dd:ee:ff:"
	    "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:"
	    "00:11:22:33:44:55:66:77:88:99"));
	assert_true(has(v, "-clipboard"));
	assert_true(has(v, "-drives"));
	assert_true(has(v, "-home-drive"));
	assert_true(has(v, "/u:alice"));
	assert_false(has_prefix(v, "/p:"));
	assert_false(has_prefix(v, "/drive"));
	assert_false(has_prefix(v, "/kbd"));
	assert_false(has_prefix(v, "+"));
	assert_false(has_prefix(v, "/load"));
	shim_argv_free(v);
}

static void
shim_rdp_argv__when_japanese__kbd_args(void **state)
{
	struct vdic_config c;
	char **v;

	(void)state;
	base(&c);
	strcpy(c.kbd_layout, "0x00000411");
	c.kbd_type = 7;
	c.kbd_subtype = 2;
	c.kbd_fn_keys = 12;
	c.rdp_fullscreen = 1;
	strcpy(c.rdp_size, "800x600");
	assert_int_equal(shim_rdp_argv(&c, NULL, 1, &v), 0);
	assert_true(has(v, "/kbd:0x00000411"));
	assert_true(has(v, "/kbd-type:7"));
	assert_true(has(v, "/kbd-subtype:2"));
	assert_true(has(v, "/kbd-fn-key:12"));
	assert_true(has(v, "/f"));
	assert_false(has_prefix(v, "/size:"));
	assert_false(has_prefix(v, "/u:"));
	shim_argv_free(v);
}

static void
shim_rdp_argv__when_bad_input__invalid(void **state)
{
	struct vdic_config c;
	char **v;

	(void)state;
	base(&c);
	assert_int_equal(shim_rdp_argv(&c, "a", 0, &v), VDI_ERR_INVALID_ARG);
	assert_null(v);
	c.rdp_pin[10] = '\0';
	assert_int_equal(shim_rdp_argv(&c, "a", 1, &v), VDI_ERR_INVALID_ARG);
}

static void
shim_rdp_env__when_env__private_dirs_and_whitelist(void **state)
{
	const char *envp[] = { "HOME=/home/u", "DISPLAY=:5",
		"LD_PRELOAD=/evil.so", "VDI_SECRET=x", "LANG=ja_JP.UTF-8",
		NULL };
	char **e;

	(void)state;
	assert_int_equal(shim_rdp_env(envp, "/run/p", &e), 0);
	assert_true(has(e, "HOME=/run/p"));
	assert_true(has(e, "XDG_CONFIG_HOME=/run/p/config"));
	assert_true(has(e, "XDG_CACHE_HOME=/run/p/cache"));
	assert_true(has(e, "XDG_DATA_HOME=/run/p/data"));
	assert_true(has(e, "TMPDIR=/run/p/tmp"));
	assert_true(has(e, "DISPLAY=:5"));
	assert_true(has(e, "LANG=ja_JP.UTF-8"));
	assert_true(has(e, "XAUTHORITY=/home/u/.Xauthority"));
	assert_false(has_prefix(e, "LD_PRELOAD"));
	assert_false(has_prefix(e, "VDI_SECRET"));
	assert_false(has(e, "HOME=/home/u"));
	shim_argv_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shim_rdp_argv__when_default__hardened),
		cmocka_unit_test(shim_rdp_argv__when_japanese__kbd_args),
		cmocka_unit_test(shim_rdp_argv__when_bad_input__invalid),
		cmocka_unit_test(
		    shim_rdp_env__when_env__private_dirs_and_whitelist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
