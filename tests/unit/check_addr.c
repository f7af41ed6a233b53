/*
 * Unit tests of addr.c: the strict target parser, CIDRs, port sets, globs
 * and special ranges.  Each table row is named for the behaviour it pins.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netdb.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

Suite	*addr_suite(void);

static struct ip_addr
ip(const char *s)
{
	struct ip_addr	a;

	ck_assert_msg(addr_parse_ip(s, &a) == 0, "test address %s", s);
	return a;
}

/* Target hosts. */

static const struct {
	const char	*behaviour;
	const char	*in;
	int		 ok;
	enum host_kind	 kind;
	const char	*text;
} host_cases[] = {
	{ "plain_name", "db1.internal", 0, HOST_NAME, "db1.internal" },
	{ "name_lowercased", "DB1.Internal", 0, HOST_NAME, "db1.internal" },
	{ "trailing_dot_dropped", "db1.internal.", 0, HOST_NAME,
	    "db1.internal" },
	{ "single_label_name", "localhost", 0, HOST_NAME, "localhost" },
	{ "digit_leading_label_ok", "1password.com", 0, HOST_NAME,
	    "1password.com" },
	{ "numeric_inner_label_ok", "10.example.com", 0, HOST_NAME,
	    "10.example.com" },
	{ "hyphen_inside_ok", "a-b.c", 0, HOST_NAME, "a-b.c" },
	{ "dotted_quad", "10.0.0.1", 0, HOST_IPV4, "10.0.0.1" },
	{ "dotted_quad_zero", "0.0.0.0", 0, HOST_IPV4, "0.0.0.0" },
	{ "dotted_quad_max", "255.255.255.255", 0, HOST_IPV4,
	    "255.255.255.255" },
	{ "ipv6_bare", "2001:DB8::1", 0, HOST_IPV6, "2001:db8::1" },
	{ "ipv6_bracketed", "[2001:db8::1]", 0, HOST_IPV6, "2001:db8::1" },
	{ "ipv6_canonical_text", "2001:db8:0:0:0:0:0:1", 0, HOST_IPV6,
	    "2001:db8::1" },
	{ "ipv6_mapped_text", "[::ffff:7f00:1]", 0, HOST_IPV6,
	    "::ffff:127.0.0.1" },
	{ "integer_ipv4_refused", "2130706433", -1, 0, NULL },
	{ "hex_ipv4_refused", "0x7f000001", -1, 0, NULL },
	{ "hex_dotted_ipv4_refused", "0x7f.0.0.1", -1, 0, NULL },
	{ "octal_ipv4_refused", "0177.0.0.1", -1, 0, NULL },
	{ "short_ipv4_refused", "127.1", -1, 0, NULL },
	{ "three_part_ipv4_refused", "1.2.3", -1, 0, NULL },
	{ "leading_zero_octet_refused", "010.0.0.1", -1, 0, NULL },
	{ "five_octets_refused", "1.2.3.4.5", -1, 0, NULL },
	{ "octet_over_255_refused", "256.1.1.1", -1, 0, NULL },
	{ "leading_space_refused", " 1.2.3.4", -1, 0, NULL },
	{ "trailing_space_refused", "1.2.3.4 ", -1, 0, NULL },
	{ "ipv4_trailing_dot_refused", "1.2.3.4.", -1, 0, NULL },
	{ "empty_refused", "", -1, 0, NULL },
	{ "lone_dot_refused", ".", -1, 0, NULL },
	{ "two_trailing_dots_refused", "a.b..", -1, 0, NULL },
	{ "empty_label_refused", "a..b", -1, 0, NULL },
	{ "leading_dot_refused", ".a.b", -1, 0, NULL },
	{ "label_leading_hyphen_refused", "-a.b", -1, 0, NULL },
	{ "label_trailing_hyphen_refused", "a-.b", -1, 0, NULL },
	{ "underscore_refused", "a_b.c", -1, 0, NULL },
	{ "embedded_newline_refused", "a.b\nc", -1, 0, NULL },
	{ "percent_n_refused", "%n%n", -1, 0, NULL },
	{ "non_utf8_refused", "a\xff\xfe.b", -1, 0, NULL },
	{ "utf8_refused", "caf\xc3\xa9.fr", -1, 0, NULL },
	{ "zone_id_refused", "fe80::1%eth0", -1, 0, NULL },
	{ "bracketed_zone_id_refused", "[fe80::1%eth0]", -1, 0, NULL },
	{ "bracketed_ipv4_refused", "[10.0.0.1]", -1, 0, NULL },
	{ "unbalanced_bracket_refused", "[::1", -1, 0, NULL },
	{ "bracket_junk_refused", "[::1]:22", -1, 0, NULL },
	{ "host_with_port_refused", "db1:22", -1, 0, NULL },
	{ "bad_ipv6_refused", "1:2:3:4:5:6:7:8:9", -1, 0, NULL },
	{ "ipv6_short_embedded_v4_refused", "::ffff:127.1", -1, 0, NULL },
	{ "slash_refused", "a/b", -1, 0, NULL },
	{ "label_64_chars_refused",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b",
	    -1, 0, NULL },
};

START_TEST(parse_host_table)
{
	struct host	h;
	const char	*why = NULL;
	int		 r;

	r = addr_parse_host(host_cases[_i].in, &h, &why);
	ck_assert_msg(r == host_cases[_i].ok, "%s: got %d",
	    host_cases[_i].behaviour, r);
	if (r == 0) {
		ck_assert_msg(h.kind == host_cases[_i].kind, "%s: kind",
		    host_cases[_i].behaviour);
		ck_assert_str_eq(h.text, host_cases[_i].text);
	} else
		ck_assert_msg(why != NULL && *why != '\0', "%s: no reason",
		    host_cases[_i].behaviour);
}
END_TEST

START_TEST(host_length_limits)
{
	char		 buf[10 * 1024 + 1];
	struct host	 h;
	const char	*why = NULL;
	size_t		 i;

	/* 253 characters: labels of 63 + dots, last label alphabetic. */
	memset(buf, 'a', 253);
	for (i = 63; i < 253; i += 64)
		buf[i] = '.';
	buf[253] = '\0';
	ck_assert_int_eq(addr_parse_host(buf, &h, &why), 0);
	ck_assert_uint_eq(strlen(h.text), 253);
	buf[253] = '.';
	buf[254] = '\0';
	ck_assert_int_eq(addr_parse_host(buf, &h, &why), 0);
	buf[254] = 'a';
	buf[255] = '\0';
	ck_assert_int_eq(addr_parse_host(buf, &h, &why), -1);
	/* A hostile 10 KB host. */
	memset(buf, 'a', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	ck_assert_int_eq(addr_parse_host(buf, &h, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(addr_parse_host(NULL, &h, &why), -1);
	ck_assert_int_eq(addr_parse_host("a.b", &h, NULL), 0);
}
END_TEST

/* Ports and port sets. */

static const struct {
	const char	*behaviour;
	const char	*in;
	int		 ok;
	uint16_t	 port;
} port_cases[] = {
	{ "lowest_port", "1", 0, 1 },
	{ "highest_port", "65535", 0, 65535 },
	{ "ssh_port", "22", 0, 22 },
	{ "port_zero_refused", "0", -1, 0 },
	{ "port_over_max_refused", "65536", -1, 0 },
	{ "negative_port_refused", "-1", -1, 0 },
	{ "plus_sign_refused", "+22", -1, 0 },
	{ "leading_zero_refused", "022", -1, 0 },
	{ "empty_port_refused", "", -1, 0 },
	{ "junk_after_port_refused", "22x", -1, 0 },
	{ "space_refused", " 22", -1, 0 },
	{ "huge_port_refused", "999999999999", -1, 0 },
};

START_TEST(parse_port_table)
{
	uint16_t	p = 0;
	int		r;

	r = addr_parse_port(port_cases[_i].in, &p);
	ck_assert_msg(r == port_cases[_i].ok, "%s", port_cases[_i].behaviour);
	if (r == 0)
		ck_assert_uint_eq(p, port_cases[_i].port);
}
END_TEST

static const struct {
	const char	*behaviour;
	const char	*in;
	int		 ok;
	uint16_t	 inside, outside;
} port_set_cases[] = {
	{ "star_is_every_port", "*", 0, 1, 0 },
	{ "single_port", "22", 0, 22, 23 },
	{ "range_low_edge", "8000-8099", 0, 8000, 7999 },
	{ "range_high_edge", "8000-8099", 0, 8099, 8100 },
	{ "list_of_items", "22,443,8000-8099", 0, 443, 444 },
	{ "full_range", "1-65535", 0, 65535, 0 },
	{ "one_port_range", "22-22", 0, 22, 21 },
	{ "reversed_range_refused", "20-10", -1, 0, 0 },
	{ "range_from_zero_refused", "0-10", -1, 0, 0 },
	{ "range_past_max_refused", "1-65536", -1, 0, 0 },
	{ "trailing_comma_refused", "22,", -1, 0, 0 },
	{ "leading_comma_refused", ",22", -1, 0, 0 },
	{ "double_comma_refused", "22,,23", -1, 0, 0 },
	{ "negative_refused", "-1", -1, 0, 0 },
	{ "open_range_refused", "10-", -1, 0, 0 },
	{ "empty_refused", "", -1, 0, 0 },
	{ "zero_refused", "0", -1, 0, 0 },
	{ "over_max_refused", "65536", -1, 0, 0 },
	{ "star_in_list_refused", "*,22", -1, 0, 0 },
	{ "space_refused", "22, 23", -1, 0, 0 },
	{ "double_dash_refused", "1-2-3", -1, 0, 0 },
	{ "too_many_items_refused",
	    "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,"
	    "25,26,27,28,29,30,31,32,33", -1, 0, 0 },
};

START_TEST(parse_port_set_table)
{
	struct port_set	 set;
	const char	*why = NULL;
	int		 r;

	r = addr_parse_port_set(port_set_cases[_i].in, &set, &why);
	ck_assert_msg(r == port_set_cases[_i].ok, "%s",
	    port_set_cases[_i].behaviour);
	if (r == 0) {
		ck_assert_msg(port_set_contains(&set,
		    port_set_cases[_i].inside), "%s: inside",
		    port_set_cases[_i].behaviour);
		ck_assert_msg(!port_set_contains(&set,
		    port_set_cases[_i].outside), "%s: outside",
		    port_set_cases[_i].behaviour);
	} else
		ck_assert_ptr_nonnull(why);
}
END_TEST

/* CIDRs. */

static const struct {
	const char	*behaviour;
	const char	*in;
	int		 ok;
	const char	*net;
	unsigned	 prefix;
} cidr_cases[] = {
	{ "ipv4_slash_8", "10.0.0.0/8", 0, "10.0.0.0", 8 },
	{ "ipv4_slash_0", "0.0.0.0/0", 0, "0.0.0.0", 0 },
	{ "ipv4_slash_32", "10.1.2.3/32", 0, "10.1.2.3", 32 },
	{ "ipv4_plain_is_32", "10.1.2.3", 0, "10.1.2.3", 32 },
	{ "ipv6_bracket_inside", "[2001:db8::/32]", 0, "2001:db8::", 32 },
	{ "ipv6_bracket_outside", "[2001:db8::]/32", 0, "2001:db8::", 32 },
	{ "ipv6_bare", "2001:db8::/32", 0, "2001:db8::", 32 },
	{ "ipv6_slash_0", "[::/0]", 0, "::", 0 },
	{ "ipv6_slash_128", "[::1/128]", 0, "::1", 128 },
	{ "ipv6_plain_is_128", "[2001:db8::1]", 0, "2001:db8::1", 128 },
	{ "ipv4_slash_33_refused", "10.0.0.0/33", -1, NULL, 0 },
	{ "ipv6_slash_129_refused", "[::/129]", -1, NULL, 0 },
	{ "host_bits_refused", "10.0.0.1/8", -1, NULL, 0 },
	{ "ipv6_host_bits_refused", "[2001:db8::1/32]", -1, NULL, 0 },
	{ "empty_prefix_refused", "10.0.0.0/", -1, NULL, 0 },
	{ "prefix_leading_zero_refused", "10.0.0.0/08", -1, NULL, 0 },
	{ "negative_prefix_refused", "10.0.0.0/-8", -1, NULL, 0 },
	{ "short_ipv4_refused", "10.0/16", -1, NULL, 0 },
	{ "bracketed_ipv4_refused", "[10.0.0.0/8]", -1, NULL, 0 },
	{ "junk_after_bracket_refused", "[::1]x", -1, NULL, 0 },
	{ "missing_bracket_refused", "[::1", -1, NULL, 0 },
	{ "two_slashes_refused", "10.0.0.0/8/8", -1, NULL, 0 },
	{ "empty_refused", "", -1, NULL, 0 },
};

START_TEST(parse_cidr_table)
{
	struct ip_addr	 net, want;
	unsigned	 prefix = 999;
	const char	*why = NULL;
	int		 r;

	r = addr_parse_cidr(cidr_cases[_i].in, &net, &prefix, &why);
	ck_assert_msg(r == cidr_cases[_i].ok, "%s", cidr_cases[_i].behaviour);
	if (r == 0) {
		want = ip(cidr_cases[_i].net);
		ck_assert_msg(addr_equal(&net, &want), "%s: network",
		    cidr_cases[_i].behaviour);
		ck_assert_uint_eq(prefix, cidr_cases[_i].prefix);
	} else
		ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(host_bits_error_names_the_network)
{
	struct ip_addr	 net;
	unsigned	 prefix;
	const char	*why = NULL;

	ck_assert_int_eq(addr_parse_cidr("10.1.2.3/8", &net, &prefix, &why),
	    -1);
	ck_assert_ptr_nonnull(strstr(why, "10.0.0.0/8"));
	ck_assert_int_eq(addr_parse_cidr("[2001:db8::1/32]", &net, &prefix,
	    &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "[2001:db8::/32]"));
}
END_TEST

static const struct {
	const char	*behaviour;
	const char	*net;
	unsigned	 prefix;
	const char	*a;
	bool		 in;
} contains_cases[] = {
	{ "slash_0_contains_all_v4", "0.0.0.0", 0, "203.0.113.9", true },
	{ "slash_8_low_edge", "10.0.0.0", 8, "10.0.0.0", true },
	{ "slash_8_high_edge", "10.0.0.0", 8, "10.255.255.255", true },
	{ "slash_8_outside", "10.0.0.0", 8, "11.0.0.0", false },
	{ "slash_32_exact", "10.1.2.3", 32, "10.1.2.3", true },
	{ "slash_32_neighbour", "10.1.2.3", 32, "10.1.2.4", false },
	{ "slash_31_odd_bits", "10.0.0.2", 31, "10.0.0.3", true },
	{ "slash_128_exact", "::1", 128, "::1", true },
	{ "ipv6_slash_32", "2001:db8::", 32, "2001:db8:ffff::1", true },
	{ "ipv6_slash_32_outside", "2001:db8::", 32, "2001:db9::", false },
	{ "families_never_mix", "0.0.0.0", 0, "::1", false },
	{ "v4_rule_not_mapped_v6", "10.0.0.0", 8, "::ffff:10.0.0.1", false },
};

START_TEST(cidr_contains_table)
{
	struct ip_addr	net = ip(contains_cases[_i].net);
	struct ip_addr	a = ip(contains_cases[_i].a);

	ck_assert_msg(addr_cidr_contains(&net, contains_cases[_i].prefix, &a)
	    == contains_cases[_i].in, "%s", contains_cases[_i].behaviour);
}
END_TEST

/* Addresses. */

static const struct {
	const char	*behaviour;
	const char	*in;
	int		 ok;
} ip_cases[] = {
	{ "dotted_quad", "192.0.2.1", 0 },
	{ "ipv6", "2001:db8::1", 0 },
	{ "ipv6_bracketed", "[2001:db8::1]", 0 },
	{ "bracketed_ipv4_refused", "[192.0.2.1]", -1 },
	{ "name_refused", "example.com", -1 },
	{ "integer_refused", "3221225985", -1 },
	{ "octal_refused", "0300.0.2.1", -1 },
	{ "zone_refused", "fe80::1%1", -1 },
	{ "empty_refused", "", -1 },
	{ "cidr_refused", "10.0.0.0/8", -1 },
};

START_TEST(parse_ip_table)
{
	struct ip_addr	a;

	ck_assert_msg(addr_parse_ip(ip_cases[_i].in, &a) == ip_cases[_i].ok,
	    "%s", ip_cases[_i].behaviour);
}
END_TEST

static const struct {
	const char	*behaviour;
	const char	*in;
	const char	*text;
} format_cases[] = {
	{ "ipv4", "192.0.2.1", "192.0.2.1" },
	{ "ipv6_longest_zero_run", "2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::" },
	{ "ipv6_first_of_equal_runs", "2001:0:0:1:0:0:1:1", "2001::1:0:0:1:1" },
	{ "ipv6_single_zero_not_compressed", "2001:db8:0:1:1:1:1:1",
	    "2001:db8:0:1:1:1:1:1" },
	{ "ipv6_unspecified", "::", "::" },
	{ "ipv6_loopback", "::1", "::1" },
	{ "ipv6_lowercase", "2001:DB8::ABCD", "2001:db8::abcd" },
	{ "ipv6_mapped", "::ffff:10.0.0.1", "::ffff:10.0.0.1" },
	{ "ipv6_all_set", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
};

START_TEST(format_table)
{
	struct ip_addr	a = ip(format_cases[_i].in);
	char		buf[ADDR_TEXT_MAX];

	ck_assert_int_eq(addr_format(&a, buf, sizeof(buf)), 0);
	ck_assert_msg(strcmp(buf, format_cases[_i].text) == 0, "%s: %s",
	    format_cases[_i].behaviour, buf);
}
END_TEST

START_TEST(format_with_port_and_sockaddr)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	struct ip_addr		a;
	uint16_t		port = 0;
	char			buf[ADDR_TEXT_MAX], tiny[4];

	a = ip("10.0.0.1");
	ck_assert_int_eq(addr_format_port(&a, 22, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "10.0.0.1:22");
	ck_assert_int_eq(addr_format(&a, tiny, sizeof(tiny)), -1);
	a = ip("2001:db8::1");
	ck_assert_int_eq(addr_format_port(&a, 443, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "[2001:db8::1]:443");
	ck_assert_int_eq(addr_format(&a, tiny, sizeof(tiny)), -1);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(2222);
	sin.sin_addr.s_addr = htonl(0x7f000001);
	ck_assert_int_eq(addr_from_sockaddr((struct sockaddr *)&sin, &a,
	    &port), 0);
	ck_assert_uint_eq(port, 2222);
	ck_assert_int_eq(addr_format(&a, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "127.0.0.1");

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(22);
	sin6.sin6_addr.s6_addr[15] = 1;
	ck_assert_int_eq(addr_from_sockaddr((struct sockaddr *)&sin6, &a,
	    &port), 0);
	ck_assert_uint_eq(port, 22);
	ck_assert_int_eq(addr_format(&a, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "::1");

	sin.sin_family = AF_UNIX;
	ck_assert_int_eq(addr_from_sockaddr((struct sockaddr *)&sin, &a,
	    &port), -1);
}
END_TEST

START_TEST(sockaddr_round_trip_keeps_address_and_port)
{
	static const char *const addrs[] = { "192.0.2.7", "2001:db8::7" };
	struct sockaddr_storage	 ss;
	struct ip_addr		 a, b;
	uint16_t		 port;
	size_t			 i, len;

	for (i = 0; i < 2; i++) {
		a = ip(addrs[i]);
		len = addr_to_sockaddr(&a, 8022, &ss);
		ck_assert_uint_eq(len, a.family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		ck_assert_int_eq(ss.ss_family, a.family);
		ck_assert_int_eq(addr_from_sockaddr((struct sockaddr *)&ss, &b,
		    &port), 0);
		ck_assert(addr_equal(&a, &b));
		ck_assert_uint_eq(port, 8022);
	}
}
END_TEST

/* A resolver answer: order kept, mapped forms as IPv4, repeats dropped. */
START_TEST(addrinfo_normalized_deduplicated_bounded)
{
	static const char *const answer[] = {
		"10.0.0.1", "::ffff:10.0.0.1", "2001:db8::1", "10.0.0.2",
		"2001:db8::1", "10.0.0.3"
	};
	static const char *const want[] = { "10.0.0.1", "2001:db8::1",
	    "10.0.0.2" };
	struct sockaddr_storage	 ss[NITEMS(answer) + 1];
	struct addrinfo		 ai[NITEMS(answer) + 1];
	struct ip_addr		 a, out[3];
	size_t			 i, n;

	memset(ai, 0, sizeof(ai));
	/* First an address of a family hopd cannot use: skipped. */
	memset(&ss[0], 0, sizeof(ss[0]));
	ss[0].ss_family = AF_UNIX;
	ai[0].ai_addr = (struct sockaddr *)&ss[0];
	ai[0].ai_next = &ai[1];
	for (i = 0; i < NITEMS(answer); i++) {
		a = ip(answer[i]);
		ai[i + 1].ai_addrlen = addr_to_sockaddr(&a, 0, &ss[i + 1]);
		ai[i + 1].ai_addr = (struct sockaddr *)&ss[i + 1];
		ai[i + 1].ai_next = i + 1 < NITEMS(answer) ? &ai[i + 2] : NULL;
	}
	n = addr_from_addrinfo(ai, out, NITEMS(out));
	ck_assert_uint_eq(n, NITEMS(want));
	for (i = 0; i < n; i++) {
		a = ip(want[i]);
		ck_assert_msg(addr_equal(&out[i], &a), "answer %zu", i);
	}
	ck_assert_uint_eq(addr_from_addrinfo(NULL, out, NITEMS(out)), 0);
}
END_TEST

/* Special ranges. */

static const struct {
	const char		*behaviour;
	const char		*in;
	enum addr_special	 kind;
	const char		*range;
	unsigned		 prefix;
} special_cases[] = {
	{ "loopback_v4", "127.0.0.1", ADDR_LOOPBACK, "127.0.0.0", 8 },
	{ "loopback_v4_high", "127.255.255.254", ADDR_LOOPBACK, "127.0.0.0",
	    8 },
	{ "loopback_v6", "::1", ADDR_LOOPBACK, "::1", 128 },
	{ "mapped_loopback", "::ffff:127.0.0.1", ADDR_LOOPBACK,
	    "::ffff:127.0.0.0", 104 },
	{ "mapped_loopback_hex", "[::ffff:7f00:1]", ADDR_LOOPBACK,
	    "::ffff:127.0.0.0", 104 },
	{ "compat_loopback", "::127.0.0.1", ADDR_LOOPBACK, "::127.0.0.0",
	    104 },
	{ "nat64_loopback", "64:ff9b::7f00:1", ADDR_LOOPBACK,
	    "64:ff9b::7f00:0", 104 },
	{ "sixtofour_loopback", "2002:7f00:1::", ADDR_LOOPBACK,
	    "2002:7f00::", 24 },
	{ "unspecified_v4", "0.0.0.0", ADDR_UNSPECIFIED, "0.0.0.0", 8 },
	{ "this_network_v4", "0.1.2.3", ADDR_UNSPECIFIED, "0.0.0.0", 8 },
	{ "unspecified_v6", "::", ADDR_UNSPECIFIED, "::", 128 },
	{ "metadata_link_local", "169.254.169.254", ADDR_LINK_LOCAL,
	    "169.254.0.0", 16 },
	{ "mapped_metadata", "::ffff:169.254.169.254", ADDR_LINK_LOCAL,
	    "::ffff:169.254.0.0", 112 },
	{ "link_local_v6", "fe80::1", ADDR_LINK_LOCAL, "fe80::", 10 },
	{ "link_local_v6_top", "febf::1", ADDR_LINK_LOCAL, "fe80::", 10 },
	{ "multicast_v4", "224.0.0.1", ADDR_MULTICAST, "224.0.0.0", 4 },
	{ "multicast_v4_top", "239.255.255.255", ADDR_MULTICAST, "224.0.0.0",
	    4 },
	{ "multicast_v6", "ff02::1", ADDR_MULTICAST, "ff00::", 8 },
	{ "broadcast", "255.255.255.255", ADDR_BROADCAST, "255.255.255.255",
	    32 },
	{ "reserved", "240.0.0.1", ADDR_RESERVED, "240.0.0.0", 4 },
	{ "reserved_below_broadcast", "255.255.255.254", ADDR_RESERVED,
	    "240.0.0.0", 4 },
	{ "alibaba_metadata", "100.100.100.200", ADDR_METADATA,
	    "100.100.100.200", 32 },
	{ "alibaba_neighbour_ordinary", "100.100.100.201", ADDR_ORDINARY,
	    NULL, 0 },
	{ "cgnat_range_ordinary", "100.64.0.1", ADDR_ORDINARY, NULL, 0 },
	{ "azure_wireserver", "168.63.129.16", ADDR_METADATA,
	    "168.63.129.16", 32 },
	{ "azure_neighbour_ordinary", "168.63.129.17", ADDR_ORDINARY, NULL,
	    0 },
	{ "aws_imds_v6", "fd00:ec2::254", ADDR_METADATA, "fd00:ec2::254",
	    128 },
	{ "aws_imds_v6_brackets", "[fd00:ec2:0:0:0:0:0:254]", ADDR_METADATA,
	    "fd00:ec2::254", 128 },
	{ "aws_dns_v6", "fd00:ec2::253", ADDR_METADATA, "fd00:ec2::253",
	    128 },
	{ "aws_ntp_v6", "fd00:ec2::123", ADDR_METADATA, "fd00:ec2::123",
	    128 },
	{ "aws_neighbour_ordinary", "fd00:ec2::255", ADDR_ORDINARY, NULL,
	    0 },
	{ "aws_prefix_ordinary", "fd00:ec2::1", ADDR_ORDINARY, NULL, 0 },
	{ "mapped_alibaba", "::ffff:100.100.100.200", ADDR_METADATA,
	    "::ffff:100.100.100.200", 128 },
	{ "compat_alibaba", "::100.100.100.200", ADDR_METADATA,
	    "::100.100.100.200", 128 },
	{ "nat64_azure", "64:ff9b::a83f:8110", ADDR_METADATA,
	    "64:ff9b::a83f:8110", 128 },
	{ "sixtofour_alibaba", "2002:6464:64c8::1", ADDR_METADATA,
	    "2002:6464:64c8::", 48 },
	{ "private_is_ordinary", "10.0.0.1", ADDR_ORDINARY, NULL, 0 },
	{ "public_is_ordinary", "192.0.2.1", ADDR_ORDINARY, NULL, 0 },
	{ "ula_is_ordinary", "fd00::1", ADDR_ORDINARY, NULL, 0 },
	{ "global_v6_is_ordinary", "2001:db8::1", ADDR_ORDINARY, NULL, 0 },
	{ "site_after_link_local_ordinary", "fec0::1", ADDR_ORDINARY, NULL,
	    0 },
	{ "mapped_ordinary", "::ffff:10.0.0.1", ADDR_ORDINARY, NULL, 0 },
	{ "nat64_ordinary", "64:ff9b::a00:1", ADDR_ORDINARY, NULL, 0 },
	{ "below_loopback_ordinary", "126.255.255.255", ADDR_ORDINARY, NULL,
	    0 },
};

START_TEST(special_table)
{
	struct ip_addr	a = ip(special_cases[_i].in), net, want;
	unsigned	prefix = 0;
	bool		r;

	ck_assert_msg(addr_special(&a) == special_cases[_i].kind, "%s: %s",
	    special_cases[_i].behaviour, addr_special_name(addr_special(&a)));
	r = addr_special_range(&a, &net, &prefix);
	ck_assert_msg(r == (special_cases[_i].range != NULL), "%s: range",
	    special_cases[_i].behaviour);
	if (r) {
		want = ip(special_cases[_i].range);
		ck_assert_msg(addr_equal(&net, &want), "%s: network",
		    special_cases[_i].behaviour);
		ck_assert_uint_eq(prefix, special_cases[_i].prefix);
	}
}
END_TEST

/* The names --explain and the man page's table use. */
START_TEST(special_names)
{
	ck_assert_str_eq(addr_special_name(ADDR_ORDINARY), "ordinary");
	ck_assert_str_eq(addr_special_name(ADDR_LOOPBACK), "loopback");
	ck_assert_str_eq(addr_special_name(ADDR_UNSPECIFIED), "unspecified");
	ck_assert_str_eq(addr_special_name(ADDR_LINK_LOCAL), "link-local");
	ck_assert_str_eq(addr_special_name(ADDR_MULTICAST), "multicast");
	ck_assert_str_eq(addr_special_name(ADDR_BROADCAST), "broadcast");
	ck_assert_str_eq(addr_special_name(ADDR_RESERVED), "reserved");
	ck_assert_str_eq(addr_special_name(ADDR_METADATA), "cloud metadata");
	ck_assert_str_eq(addr_special_name((enum addr_special)99), "unknown");
}
END_TEST

static const struct {
	const char	*behaviour;
	const char	*in;
	const char	*v4;		/* NULL: nothing embedded */
	const char	*normal;	/* addr_normalize */
} embed_cases[] = {
	{ "mapped", "::ffff:10.1.2.3", "10.1.2.3", "10.1.2.3" },
	{ "compatible", "::10.1.2.3", "10.1.2.3", "::10.1.2.3" },
	{ "nat64", "64:ff9b::a01:203", "10.1.2.3", "64:ff9b::a01:203" },
	{ "sixtofour", "2002:a01:203::1", "10.1.2.3", "2002:a01:203::1" },
	{ "unspecified_not_compat", "::", NULL, "::" },
	{ "loopback_not_compat", "::1", NULL, "::1" },
	{ "global_none", "2001:db8::1", NULL, "2001:db8::1" },
	{ "v4_none", "10.1.2.3", NULL, "10.1.2.3" },
};

START_TEST(embedded_table)
{
	struct ip_addr	a = ip(embed_cases[_i].in), v4, want;
	bool		r;

	r = addr_embedded_v4(&a, &v4);
	ck_assert_msg(r == (embed_cases[_i].v4 != NULL), "%s",
	    embed_cases[_i].behaviour);
	if (r) {
		want = ip(embed_cases[_i].v4);
		ck_assert_msg(addr_equal(&v4, &want), "%s: address",
		    embed_cases[_i].behaviour);
	}
	addr_normalize(&a);
	want = ip(embed_cases[_i].normal);
	ck_assert_msg(addr_equal(&a, &want), "%s: normal form",
	    embed_cases[_i].behaviour);
}
END_TEST

/* Globs. */

static const struct {
	const char	*behaviour;
	const char	*pattern;
	const char	*name;
	bool		 match;
} glob_cases[] = {
	{ "star_dot_one_label", "*.example.com", "a.example.com", true },
	{ "star_dot_two_labels", "*.example.com", "a.b.example.com", true },
	{ "star_dot_not_apex", "*.example.com", "example.com", false },
	{ "star_dot_not_hyphen_lookalike", "*.example.com",
	    "evil-example.com", false },
	{ "star_dot_not_suffix_extension", "*.example.com",
	    "a.example.com.evil", false },
	{ "case_insensitive_name", "*.example.com", "A.EXAMPLE.COM", true },
	{ "case_insensitive_pattern", "DB?.Internal", "db1.internal", true },
	{ "question_one_char", "db?.internal", "db12.internal", false },
	{ "question_any_char", "db?.internal", "db1.internal", true },
	{ "exact", "build1.internal", "build1.internal", true },
	{ "exact_not_prefix", "build1.internal", "build1.internal.evil",
	    false },
	{ "star_alone", "*", "anything.at.all", true },
	{ "star_middle", "db*.internal", "db-primary.internal", true },
	{ "star_empty_run", "db*.internal", "db.internal", true },
	{ "stars_collapse", "**a**", "bab", true },
	{ "trailing_star", "db1.*", "db1.internal", true },
	{ "empty_name", "*", "", true },
	{ "empty_pattern_empty_name", "", "", true },
	{ "empty_pattern", "", "a", false },
};

START_TEST(glob_table)
{
	ck_assert_msg(addr_glob_match(glob_cases[_i].pattern,
	    glob_cases[_i].name) == glob_cases[_i].match, "%s",
	    glob_cases[_i].behaviour);
}
END_TEST

START_TEST(glob_is_bounded)
{
	char	pattern[256], name[4096];
	size_t	i;

	/* "*a*a*a...*b" against "aaaa...": exponential if backtracking. */
	for (i = 0; i + 2 < sizeof(pattern) - 1; i += 2) {
		pattern[i] = '*';
		pattern[i + 1] = 'a';
	}
	pattern[i] = 'b';
	pattern[i + 1] = '\0';
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert(!addr_glob_match(pattern, name));
}
END_TEST

static const struct {
	const char	*behaviour;
	const char	*pattern;
	bool		 valid;
} valid_glob_cases[] = {
	{ "name", "db1.internal", true },
	{ "star_dot", "*.example.com", true },
	{ "question", "db?.internal", true },
	{ "star_alone", "*", true },
	{ "empty_refused", "", false },
	{ "space_refused", "a b", false },
	{ "underscore_refused", "a_b", false },
	{ "colon_refused", "a:b", false },
	{ "slash_refused", "a/b", false },
	{ "double_dot_refused", "a..b", false },
	{ "leading_dot_refused", ".a", false },
	{ "trailing_dot_refused", "a.", false },
	{ "non_ascii_refused", "caf\xc3\xa9", false },
};

START_TEST(valid_glob_table)
{
	ck_assert_msg(addr_valid_glob(valid_glob_cases[_i].pattern) ==
	    valid_glob_cases[_i].valid, "%s", valid_glob_cases[_i].behaviour);
}
END_TEST

START_TEST(valid_glob_length)
{
	char	buf[300];

	memset(buf, 'a', 253);
	buf[253] = '\0';
	ck_assert(addr_valid_glob(buf));
	buf[253] = 'a';
	buf[254] = '\0';
	ck_assert(!addr_valid_glob(buf));
	ck_assert(!addr_valid_glob(NULL));
}
END_TEST

Suite *
addr_suite(void)
{
	Suite	*s = suite_create("addr");
	TCase	*tc = tcase_create("addr");

	tcase_add_loop_test(tc, parse_host_table, 0, NITEMS(host_cases));
	tcase_add_test(tc, host_length_limits);
	tcase_add_loop_test(tc, parse_port_table, 0, NITEMS(port_cases));
	tcase_add_loop_test(tc, parse_port_set_table, 0,
	    NITEMS(port_set_cases));
	tcase_add_loop_test(tc, parse_cidr_table, 0, NITEMS(cidr_cases));
	tcase_add_test(tc, host_bits_error_names_the_network);
	tcase_add_loop_test(tc, cidr_contains_table, 0,
	    NITEMS(contains_cases));
	tcase_add_loop_test(tc, parse_ip_table, 0, NITEMS(ip_cases));
	tcase_add_loop_test(tc, format_table, 0, NITEMS(format_cases));
	tcase_add_test(tc, format_with_port_and_sockaddr);
	tcase_add_test(tc, sockaddr_round_trip_keeps_address_and_port);
	tcase_add_test(tc, addrinfo_normalized_deduplicated_bounded);
	tcase_add_loop_test(tc, special_table, 0, NITEMS(special_cases));
	tcase_add_test(tc, special_names);
	tcase_add_loop_test(tc, embedded_table, 0, NITEMS(embed_cases));
	tcase_add_loop_test(tc, glob_table, 0, NITEMS(glob_cases));
	tcase_add_test(tc, glob_is_bounded);
	tcase_add_loop_test(tc, valid_glob_table, 0,
	    NITEMS(valid_glob_cases));
	tcase_add_test(tc, valid_glob_length);
	suite_add_tcase(s, tc);
	return s;
}
