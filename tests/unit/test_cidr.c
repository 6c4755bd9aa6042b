/* Unit tests for common/cidr.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "cidr.h"

static int
match(const char *cidr, const char *addr)
{
	struct vdi_cidr c;
	struct vdi_addr a;

	assert_int_equal(vdi_cidr_parse(cidr, &c), 0);
	assert_int_equal(vdi_addr_parse(addr, &a), 0);
	return vdi_cidr_match(&c, &a);
}

static void
vdi_cidr_match__when_ipv4_boundaries__inside_and_outside(void **state)
{
	assert_true(match("192.0.2.0/24", "192.0.2.0"));
	assert_true(match("192.0.2.0/24", "192.0.2.255"));
	assert_false(match("192.0.2.0/24", "192.0.3.0"));
	assert_false(match("192.0.2.0/24", "192.0.1.255"));
	assert_true(match("10.0.0.0/8", "10.255.255.255"));
	assert_false(match("10.0.0.0/8", "11.0.0.0"));
	assert_true(match("172.16.0.0/12", "172.31.255.1"));
	assert_false(match("172.16.0.0/12", "172.32.0.1"));
	assert_true(match("198.51.100.7/32", "198.51.100.7"));
	assert_false(match("198.51.100.7/32", "198.51.100.6"));
	assert_true(match("198.51.100.7", "198.51.100.7"));
	assert_true(match("0.0.0.0/0", "203.0.113.9"));
	assert_true(match("192.0.2.128/25", "192.0.2.200"));
	assert_false(match("192.0.2.128/25", "192.0.2.127"));
}

static void
vdi_cidr_match__when_ipv6_boundaries__inside_and_outside(void **state)
{
	assert_true(match("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(match("2001:db8::/32", "2001:db9::1"));
	assert_true(
	    match("2001:db8:0:1::/64", "2001:db8:0:1:ffff:ffff:ffff:ffff"));
	assert_false(match("2001:db8:0:1::/64", "2001:db8:0:2::"));
	assert_true(match("::/0", "::1"));
	assert_true(match("::1/128", "::1"));
	assert_false(match("::1/128", "::2"));
	assert_true(match("2001:db8::/33", "2001:db8:7fff::1"));
	assert_false(match("2001:db8::/33", "2001:db8:8000::1"));
}

static void
vdi_cidr_match__when_families_differ__no_match_unless_mapped(void **state)
{
	/* IPv4 prefix vs IPv6 address and the reverse. */
	assert_false(match("0.0.0.0/0", "2001:db8::1"));
	assert_false(match("::/0", "192.0.2.1"));
	/* An IPv4 client seen on an IPv6 socket matches IPv4 prefixes. */
	assert_true(match("192.0.2.0/24", "::ffff:192.0.2.44"));
	/* A v4-mapped IPv6 prefix matches IPv4 clients. */
	assert_true(match("::ffff:192.0.2.0/120", "192.0.2.44"));
	assert_false(match("::ffff:192.0.2.0/120", "192.0.3.44"));
}

static void
vdi_cidr_parse__when_malformed__error_and_cleared(void **state)
{
	static const char *const bad[] = {
		"",
		"/24",
		"192.0.2.0/",
		"192.0.2.0/33",
		"192.0.2.0/-1",
		"192.0.2.0/024",
		"192.0.2.0/2a",
		"192.0.2.1/24",
		"10.0.0.1/8",
		"192.0.2",
		"192.0.2.256",
		"192.000.2.1",
		"1.2.3.4.5",
		"2001:db8::/129",
		"2001:db8::1/64",
		"2001:db8:::1",
		"gateway.example",
		"fe80::1%eth0",
		" 192.0.2.0/24",
		"192.0.2.0/24 ",
		"192.0.2.0/24/1",
		"0x0a.0.0.0/8",
	};
	struct vdi_cidr c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0xAA, sizeof(c));
		if (vdi_cidr_parse(bad[i], &c) != VDI_ERR_CIDR)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(c.prefix, 0);
		assert_int_equal(c.net.a[0], 0);
	}
	assert_int_equal(vdi_cidr_parse(NULL, &c), VDI_ERR_CIDR);
}

static void
vdi_cidr_parse__when_valid__normalised_format(void **state)
{
	struct vdi_cidr c;
	char buf[64];

	assert_int_equal(vdi_cidr_parse("192.0.2.0/24", &c), 0);
	assert_string_equal(
	    vdi_cidr_format(&c, buf, sizeof(buf)), "192.0.2.0/24");
	assert_int_equal(vdi_cidr_parse("2001:DB8:0::/48", &c), 0);
	assert_string_equal(
	    vdi_cidr_format(&c, buf, sizeof(buf)), "2001:db8::/48");
	assert_int_equal(vdi_cidr_parse("0.0.0.0/0", &c), 0);
	assert_int_equal(c.prefix, 0);
	assert_int_equal(vdi_cidr_parse("::1", &c), 0);
	assert_int_equal(c.prefix, 128);
}

static void
vdi_addr_from_sockaddr__when_v4_v6__same_as_parse(void **state)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	struct vdi_addr a, b;

	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_addr.s_addr = htonl(0xC0000207); /* 192.0.2.7 */
	assert_int_equal(
	    vdi_addr_from_sockaddr((struct sockaddr *)&s4, sizeof(s4), &a), 0);
	assert_int_equal(vdi_addr_parse("192.0.2.7", &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));

	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_addr.s6_addr[15] = 1;
	assert_int_equal(
	    vdi_addr_from_sockaddr((struct sockaddr *)&s6, sizeof(s6), &a), 0);
	assert_int_equal(vdi_addr_parse("::1", &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	/* too short */
	assert_int_equal(vdi_addr_from_sockaddr((struct sockaddr *)&s6, 8, &a),
	    VDI_ERR_CIDR);
	assert_int_equal(
	    vdi_addr_from_sockaddr(NULL, 0, &a), VDI_ERR_INVALID_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    vdi_cidr_match__when_ipv4_boundaries__inside_and_outside),
		cmocka_unit_test(
		    vdi_cidr_match__when_ipv6_boundaries__inside_and_outside),
		cmocka_unit_test(
		    vdi_cidr_match__when_families_differ__no_match_unless_mapped),
		cmocka_unit_test(
		    vdi_cidr_parse__when_malformed__error_and_cleared),
		cmocka_unit_test(vdi_cidr_parse__when_valid__normalised_format),
		cmocka_unit_test(
		    vdi_addr_from_sockaddr__when_v4_v6__same_as_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
