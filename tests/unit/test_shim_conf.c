/* Unit tests for client-shim/conf.c (connect.conf). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "shim.h"

#define PIN                                                                    \
	"aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:"                     \
	"aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99"

static char path[64];
static char err[4096];
static struct vdic_config cfg;

static int
load(const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_shim_conf.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	fd = shim_conf_load(path, &cfg, err, sizeof(err));
	unlink(path);
	return fd;
}

static const char good[] =
    "broker_url = \"https://broker.example:8443/\";\n"
    "ca = \"/etc/vdi/ca.pem\";\n"
    "device = { cert = \"dev.pem\"; key = \"/etc/vdi/dev.key\"; };\n"
    "gateway_rdp_fingerprint = \"" PIN "\";\n";

static void
shim_conf_load__when_minimal__defaults(void **state)
{
	(void)state;
	assert_int_equal(load(good), 0);
	assert_string_equal(cfg.broker_url, "https://broker.example:8443");
	assert_string_equal(cfg.key, "/etc/vdi/dev.key");
	assert_string_equal(cfg.cert, "/tmp/dev.pem"); /* relative to file */
	assert_string_equal(cfg.rdp_pin,
	    "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899");
	assert_string_equal(cfg.rdp_command, "/usr/bin/xfreerdp");
	assert_int_equal(cfg.reconnect, 1);
	assert_int_equal(cfg.reconnect_give_up, 120);
	assert_int_equal(cfg.kbd_type, -1);
}

static void
shim_conf_load__when_jp106__japanese_keyboard(void **state)
{
	char text[2048];

	(void)state;
	snprintf(text, sizeof(text),
	    "%srdp = { keyboard = { layout = \"jp106\"; }; };\n", good);
	assert_int_equal(load(text), 0);
	assert_string_equal(cfg.kbd_layout, "0x00000411");
	assert_int_equal(cfg.kbd_type, 7);
	assert_int_equal(cfg.kbd_subtype, 2);
	assert_int_equal(cfg.kbd_fn_keys, 12);
}

static void
shim_conf_load__when_unknown_key__file_line_key(void **state)
{
	char text[2048], want[128];

	(void)state;
	snprintf(text, sizeof(text), "%sreconect = true;\n", good);
	assert_int_equal(load(text), VDI_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:5: reconect: unknown key", path);
	assert_non_null(strstr(err, want));
}

static void
shim_conf_load__when_pem_and_p12__refused(void **state)
{
	(void)state;
	assert_int_equal(load("broker_url = \"https://b\";\nca = \"c\";\n"
			      "device = { cert = \"a\"; key = \"b\";\n"
			      "  pkcs12 = \"c\"; };\n"
			      "gateway_rdp_fingerprint = \"" PIN "\";\n"),
	    VDI_ERR_CONFIG);
	assert_non_null(strstr(err, ":3: device: give either cert and key"));
}

static void
shim_conf_load__when_bad_values__every_problem_reported(void **state)
{
	(void)state;
	assert_int_equal(load("broker_url = \"http://b\";\nca = \"c\";\n"
			      "device = { pkcs12 = \"c\"; };\n"
			      "gateway_rdp_fingerprint = \"abc\";\n"
			      "rdp = { size = \"huge\"; keyboard = { type = 9; "
			      "}; };\n"
			      "reconnect = { max_delay = \"forever\"; };\n"),
	    VDI_ERR_CONFIG);
	assert_non_null(strstr(err, ":1: broker_url:"));
	assert_non_null(strstr(err, ":4: gateway_rdp_fingerprint:"));
	assert_non_null(strstr(err, ":5: rdp.size:"));
	assert_non_null(strstr(err, ":5: rdp.keyboard.type:"));
	assert_non_null(strstr(err, ":6: reconnect.max_delay:"));
}

static void
shim_conf_load__when_missing_required__named(void **state)
{
	(void)state;
	assert_int_equal(load("ca = \"c\";\n"), VDI_ERR_CONFIG);
	assert_non_null(strstr(err, "broker_url"));
	assert_non_null(strstr(err, "device"));
	assert_non_null(strstr(err, "gateway_rdp_fingerprint"));
}

static void
shim_conf_load__when_syntax_error__line(void **state)
{
	(void)state;
	assert_int_equal(
	    load("broker_url = \"https://b\"\nca = ;\n"), VDI_ERR_CONFIG);
	assert_non_null(strstr(err, path));
}

static void
shim_fingerprint_norm__when_forms__normalised(void **state)
{
	char out[65];

	(void)state;
	assert_int_equal(
	    shim_fingerprint_norm("sha256:" PIN, out, sizeof(out)), 0);
	assert_int_equal(shim_fingerprint_norm(
			     "AABBCCDDEEFF00112233445566778899AABBCCDDEEFF0011"
			     "2233445566778899",
			     out, sizeof(out)),
	    0);
	assert_string_equal(out,
	    "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899");
	assert_int_equal(shim_fingerprint_norm("aa:b", out, sizeof(out)),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(shim_fingerprint_norm(":aa" PIN, out, sizeof(out)),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(shim_fingerprint_norm(PIN "aa", out, sizeof(out)),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(
	    shim_fingerprint_norm(PIN, out, 10), VDI_ERR_INVALID_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shim_conf_load__when_minimal__defaults),
		cmocka_unit_test(shim_conf_load__when_jp106__japanese_keyboard),
		cmocka_unit_test(
		    shim_conf_load__when_unknown_key__file_line_key),
		cmocka_unit_test(shim_conf_load__when_pem_and_p12__refused),
		cmocka_unit_test(
		    shim_conf_load__when_bad_values__every_problem_reported),
		cmocka_unit_test(shim_conf_load__when_missing_required__named),
		cmocka_unit_test(shim_conf_load__when_syntax_error__line),
		cmocka_unit_test(shim_fingerprint_norm__when_forms__normalised),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
