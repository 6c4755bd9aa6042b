/* Unit tests for client-shim/launch.c: the RDP client's arguments and
 * environment, and where its private directory may be made. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

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

/* A directory on a disk file system: the build directory, unless that is
 * in memory itself (then the disk cases cannot run here). */
static const char *
disk_dir(void)
{
	static char cwd[SHIM_PATH_MAX - 32];

	if (getcwd(cwd, sizeof(cwd)) == NULL || shim_mem_backed(cwd, NULL) != 0)
		return NULL;
	return cwd;
}

static void
shim_mem_backed__when_each_fs__by_type_not_name(void **state)
{
	const char *fs, *disk = disk_dir();

	(void)state;
	assert_int_equal(shim_mem_backed("/dev/shm", &fs), 1);
	assert_string_equal(fs, "tmpfs");
	/* /proc is in memory but not a place for files: not accepted */
	assert_int_equal(shim_mem_backed("/proc", &fs), 0);
	assert_string_equal(fs, "proc");
	assert_int_equal(shim_mem_backed("/nonexistent/x", &fs), -1);
	if (disk != NULL)
		assert_int_equal(shim_mem_backed(disk, &fs), 0);
}

static void
shim_privdir_make__when_private_dir_on_disk__refused_with_reason(void **state)
{
	struct vdic_config c;
	char out[SHIM_PATH_MAX], why[1024];
	const char *disk = disk_dir();

	(void)state;
	if (disk == NULL)
		skip();
	base(&c);
	snprintf(c.private_base, sizeof(c.private_base), "%s", disk);
	assert_int_equal(
	    shim_privdir_make(&c, out, sizeof(out), why, sizeof(why)),
	    VDI_ERR_DENIED);
	assert_string_equal(out, "");
	assert_non_null(strstr(why, "private_dir"));
	assert_non_null(strstr(why, disk));
	assert_non_null(strstr(why, "not in memory"));
	/* a memory-backed private_dir is used */
	snprintf(c.private_base, sizeof(c.private_base), "/dev/shm");
	assert_int_equal(
	    shim_privdir_make(&c, out, sizeof(out), why, sizeof(why)), 0);
	assert_int_equal(strncmp(out, "/dev/shm/vdi-connect.", 21), 0);
	shim_privdir_remove(out);
}

static void
shim_privdir_make__when_runtime_dir_on_disk__dev_shm_never_tmpdir(void **state)
{
	struct vdic_config c;
	char out[SHIM_PATH_MAX], why[1024], xdg[] = "/dev/shm/vdi-test.XXXXXX";
	const char *disk = disk_dir();
	struct stat st;

	(void)state;
	base(&c);
	if (disk != NULL) {
		/* $XDG_RUNTIME_DIR and $TMPDIR on disk: /dev/shm */
		assert_int_equal(setenv("XDG_RUNTIME_DIR", disk, 1), 0);
		assert_int_equal(setenv("TMPDIR", disk, 1), 0);
		assert_int_equal(
		    shim_privdir_make(&c, out, sizeof(out), why, sizeof(why)),
		    0);
		assert_int_equal(strncmp(out, "/dev/shm/vdi-connect.", 21), 0);
		assert_int_equal(stat(out, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0700);
		shim_privdir_remove(out);
		assert_int_not_equal(stat(out, &st), 0);
	}
	/* $XDG_RUNTIME_DIR in memory: there */
	assert_non_null(mkdtemp(xdg));
	assert_int_equal(setenv("XDG_RUNTIME_DIR", xdg, 1), 0);
	assert_int_equal(
	    shim_privdir_make(&c, out, sizeof(out), why, sizeof(why)), 0);
	assert_int_equal(strncmp(out, xdg, strlen(xdg)), 0);
	shim_privdir_remove(out);
	assert_int_equal(rmdir(xdg), 0);
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("TMPDIR");
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
		cmocka_unit_test(
		    shim_mem_backed__when_each_fs__by_type_not_name),
		cmocka_unit_test(
		    shim_privdir_make__when_private_dir_on_disk__refused_with_reason),
		cmocka_unit_test(
		    shim_privdir_make__when_runtime_dir_on_disk__dev_shm_never_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
