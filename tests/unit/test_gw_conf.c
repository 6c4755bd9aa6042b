/* test_gw_conf.c: vdi-gatewayd.conf reading (gateway/gwconf.c). */
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

#include "gwconf.h"

static char dir[] = "/tmp/test_gw_conf.XXXXXX";
static char path[1100];

static const char minimal[] =
    "policy = \"policy.conf\";\n"
    "tls = { cert = \"gw.pem\"; key = \"gw.key\"; };\n"
    "inner_rdp = { cert = \"rdp.pem\"; key = \"rdp.key\"; };\n"
    "broker = { url = \"https://127.0.0.1:8443\"; ca = \"/etc/ca.pem\";\n"
    "  public_key = \"token.pub\"; };\n";

static void
write_conf(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
setup(void **st)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/gw.conf", dir);
	return 0;
}

static int
teardown(void **st)
{
	unlink(path);
	rmdir(dir);
	return 0;
}

static void
gwconf_load__when_minimal__fills_defaults_and_paths(void **st)
{
	struct gwconf c;
	char *errors = NULL, want[1200];

	write_conf(minimal);
	assert_int_equal(gwconf_load(path, &c, &errors), 0);
	assert_null(errors);
	assert_int_equal(c.listen_port, 9443);
	assert_int_equal(c.threads, 0);
	assert_int_equal(c.handshake_timeout, 10);
	assert_int_equal(c.max_pdu, 65535);
	assert_int_equal(c.nbroker_keys, 1);
	assert_string_equal(c.broker_host, "127.0.0.1");
	assert_int_equal(c.broker_port, 8443);
	assert_string_equal(c.broker_ca, "/etc/ca.pem");
	snprintf(want, sizeof(want), "%s/token.pub", dir);
	assert_string_equal(c.broker_keys[0], want);
	assert_string_equal(c.audience, "vdi-gateway");
	assert_false(c.metrics_enabled);
	assert_string_equal(c.seal_key, "");
}

static void
gwconf_load__when_unknown_key__names_file_line_and_key(void **st)
{
	struct gwconf c;
	char *errors = NULL, text[2048];

	snprintf(text, sizeof(text),
	    "%slimits = { max_pdu = 4096;\n"
	    "  idle_typo = 3; };\n",
	    minimal);
	write_conf(text);
	assert_int_equal(gwconf_load(path, &c, &errors), VDI_ERR_CONFIG);
	assert_non_null(errors);
	assert_non_null(strstr(errors, "gw.conf:7"));
	assert_non_null(strstr(errors, "idle_typo"));
	free(errors);
}

static void
gwconf_load__when_key_list_and_limits__reads_all(void **st)
{
	struct gwconf c;
	char *errors = NULL;

	write_conf(
	    "policy = \"/p.conf\";\n"
	    "listen = \"127.0.0.1:0\"; metrics_listen = \"127.0.0.1:9100\";\n"
	    "threads = 2; user = \"nobody\"; group = \"nogroup\";\n"
	    "tls = { cert = \"gw.pem\"; key = \"gw.key\"; };\n"
	    "inner_rdp = { cert = \"rdp.pem\"; key = \"rdp.key\"; };\n"
	    "seal_key = \"seal.key\"; desktop_ca = \"dca.pem\";\n"
	    "broker = { url = \"https://broker.example/\"; ca = \"ca.pem\";\n"
	    "  crl = \"crl.pem\"; public_key = [\"a.pub\", \"/b.pub\"];\n"
	    "  issuer = \"me\"; audience = \"gw-1\"; };\n"
	    "limits = { handshake_timeout = \"15s\"; clock_skew = 5;\n"
	    "  max_sessions = 10; max_pdu = 16384; reassembly = 65536; };\n");
	assert_int_equal(gwconf_load(path, &c, &errors), 0);
	assert_int_equal(c.listen_port, 0);
	assert_true(c.metrics_enabled);
	assert_int_equal(c.metrics_port, 9100);
	assert_int_equal(c.threads, 2);
	assert_string_equal(c.user, "nobody");
	assert_int_equal(c.nbroker_keys, 2);
	assert_string_equal(c.broker_keys[1], "/b.pub");
	assert_string_equal(c.broker_host, "broker.example");
	assert_int_equal(c.broker_port, 443);
	assert_string_equal(c.audience, "gw-1");
	assert_int_equal(c.handshake_timeout, 15);
	assert_int_equal(c.clock_skew, 5);
	assert_int_equal(c.max_sessions, 10);
	assert_int_equal(c.max_pdu, 16384);
	assert_int_equal(c.reassembly, 65536);
	assert_non_null(strstr(c.seal_key, "/seal.key"));
}

static void
gwconf_load__when_handshake_limits__read_checked_and_capped(void **st)
{
	struct gwconf c;
	char *errors = NULL, text[2048];

	write_conf(minimal);
	assert_int_equal(gwconf_load(path, &c, &errors), 0);
	assert_int_equal(c.max_handshakes, 1000);
	assert_int_equal(c.max_handshakes_per_source, 32);
	snprintf(text, sizeof(text),
	    "%slimits = { max_handshakes = 200; "
	    "max_handshakes_per_source = 5; };\n",
	    minimal);
	write_conf(text);
	assert_int_equal(gwconf_load(path, &c, &errors), 0);
	assert_int_equal(c.max_handshakes, 200);
	assert_int_equal(c.max_handshakes_per_source, 5);
	/* Left out, the share is capped to the whole; set above it, an
	 * error naming the key. */
	snprintf(text, sizeof(text), "%slimits = { max_handshakes = 8; };\n",
	    minimal);
	write_conf(text);
	assert_int_equal(gwconf_load(path, &c, &errors), 0);
	assert_int_equal(c.max_handshakes_per_source, 8);
	snprintf(text, sizeof(text),
	    "%slimits = { max_handshakes = 8;\n"
	    "  max_handshakes_per_source = 9; };\n",
	    minimal);
	write_conf(text);
	assert_int_equal(gwconf_load(path, &c, &errors), VDI_ERR_CONFIG);
	assert_non_null(strstr(errors, "max_handshakes_per_source"));
	free(errors);
	snprintf(text, sizeof(text), "%slimits = { max_handshakes = 0; };\n",
	    minimal);
	write_conf(text);
	assert_int_equal(gwconf_load(path, &c, &errors), VDI_ERR_CONFIG);
	assert_non_null(strstr(errors, "max_handshakes"));
	free(errors);
}

static void
gwconf_load__when_required_missing__reports_each(void **st)
{
	struct gwconf c;
	char *errors = NULL;

	write_conf("listen = \"127.0.0.1:1\";\n");
	assert_int_equal(gwconf_load(path, &c, &errors), VDI_ERR_CONFIG);
	assert_non_null(strstr(errors, "policy"));
	assert_non_null(strstr(errors, "tls"));
	assert_non_null(strstr(errors, "inner_rdp"));
	assert_non_null(strstr(errors, "broker"));
	free(errors);
}

static void
gwconf_load__when_values_bad__refused(void **st)
{
	struct gwconf c;
	char *errors = NULL, text[2048];

	snprintf(text, sizeof(text),
	    "%slimits = { max_pdu = 70000; };\n"
	    "threads = 999;\n",
	    minimal);
	write_conf(text);
	assert_int_equal(gwconf_load(path, &c, &errors), VDI_ERR_CONFIG);
	assert_non_null(strstr(errors, "max_pdu"));
	assert_non_null(strstr(errors, "threads"));
	free(errors);
	write_conf("policy = \"p\"; tls = { cert = \"a\"; key = \"b\"; };\n"
		   "inner_rdp = { cert = \"a\"; key = \"b\"; };\n"
		   "broker = { url = \"http://x:1\"; ca = \"c\"; "
		   "public_key = []; };\n");
	assert_int_equal(gwconf_load(path, &c, &errors), VDI_ERR_CONFIG);
	assert_non_null(strstr(errors, "url"));
	assert_non_null(strstr(errors, "public_key"));
	free(errors);
}

static void
gwconf_load__when_file_missing__config_error(void **st)
{
	struct gwconf c;
	char *errors = NULL;

	assert_int_equal(
	    gwconf_load("/nonexistent/gw.conf", &c, &errors), VDI_ERR_CONFIG);
	assert_non_null(errors);
	free(errors);
}

static void
gwconf_load__when_shipped_example__accepted(void **st)
{
	const char *top = getenv("top_srcdir");
	char ex[2048], *errors = NULL;
	struct gwconf c;

	snprintf(ex, sizeof(ex), "%s/gateway/examples/vdi-gatewayd.conf",
	    top != NULL ? top : "..");
	if (gwconf_load(ex, &c, &errors) != 0)
		fail_msg("%s", errors != NULL ? errors : "?");
	assert_int_equal(c.nbroker_keys, 1);
	assert_true(c.metrics_enabled);
}

static void
gwconf_parse_url__when_forms__splits_or_refuses(void **st)
{
	char host[64];
	uint16_t port;

	assert_int_equal(
	    gwconf_parse_url("https://a.b:8443", host, sizeof(host), &port), 0);
	assert_string_equal(host, "a.b");
	assert_int_equal(port, 8443);
	assert_int_equal(
	    gwconf_parse_url("https://[::1]:9", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 9);
	assert_int_equal(
	    gwconf_parse_url("https://[::1]", host, sizeof(host), &port), 0);
	assert_int_equal(port, 443);
	assert_int_equal(
	    gwconf_parse_url("http://a:1", host, sizeof(host), &port),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(
	    gwconf_parse_url("https://", host, sizeof(host), &port),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(
	    gwconf_parse_url("https://a:1/x", host, sizeof(host), &port),
	    VDI_ERR_INVALID_ARG);
	assert_int_equal(
	    gwconf_parse_url("https://a:0", host, sizeof(host), &port),
	    VDI_ERR_INVALID_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    gwconf_load__when_minimal__fills_defaults_and_paths),
		cmocka_unit_test(
		    gwconf_load__when_unknown_key__names_file_line_and_key),
		cmocka_unit_test(
		    gwconf_load__when_key_list_and_limits__reads_all),
		cmocka_unit_test(
		    gwconf_load__when_handshake_limits__read_checked_and_capped),
		cmocka_unit_test(
		    gwconf_load__when_required_missing__reports_each),
		cmocka_unit_test(gwconf_load__when_values_bad__refused),
		cmocka_unit_test(gwconf_load__when_file_missing__config_error),
		cmocka_unit_test(gwconf_load__when_shipped_example__accepted),
		cmocka_unit_test(
		    gwconf_parse_url__when_forms__splits_or_refuses),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
