/*
 * Unit tests of proxy.c: PROXY protocol v1 and v2 headers as HAProxy's
 * doc/proxy-protocol.txt specifies them, and as HAProxy 2.6 (Debian 12)
 * sends them.  Every valid header must answer PROXY_MORE on each of its
 * beginnings; each table row is named for the behaviour it pins.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
/* A string literal as bytes and length (it may hold NUL bytes). */
#define BYTES(s)	(const uint8_t *)(s), sizeof(s) - 1

#define SIG		"\r\n\r\n\0\r\nQUIT\n"
#define SIG_BYTES	12
#define JUNK		"SSH-2.0-OpenSSH_9.2\r\n\r\n\r\n\0\r\nQUIT\nPROXY "

Suite	*proxy_suite(void);

/* Independent of proxy.c: bitwise CRC32c, RFC 4960 appendix B. */
static uint32_t
test_crc32c(const uint8_t *p, size_t n)
{
	uint32_t	crc = 0xffffffff;
	int		k;

	while (n-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78 : crc >> 1;
	}
	return ~crc;
}

static enum proxy_status
parse(const uint8_t *b, size_t n, int version, struct proxy_header *h,
    const char **why)
{
	return proxy_parse(b, n, version, h, why);
}

/*
 * b[0..n) holds a whole header of want_len bytes, maybe followed by
 * data: each beginning is PROXY_MORE, the header alone and the header
 * followed by anything read the same.
 */
static void
header_ok(const char *name, const uint8_t *b, size_t n, size_t want_len,
    int version, struct proxy_header *h)
{
	struct proxy_header	 again;
	const char		*why;
	uint8_t			 buf[PROXY_MAX_BYTES + sizeof(JUNK)];
	size_t			 k;

	ck_assert_msg(parse(b, n, version, h, &why) == PROXY_OK, "%s: %s",
	    name, why);
	ck_assert_msg(why == NULL, "%s: why %s", name, why);
	ck_assert_msg(h->len == want_len, "%s: len %zu, want %zu", name,
	    h->len, want_len);
	ck_assert_int_eq(h->version, version);
	for (k = 0; k < want_len; k++) {
		ck_assert_msg(parse(b, k, version, &again, &why) ==
		    PROXY_MORE, "%s: %zu of %zu bytes: not MORE (%s)", name,
		    k, want_len, why);
		ck_assert_str_eq(why, "truncated");
	}
	ck_assert(want_len <= PROXY_MAX_BYTES);
	memcpy(buf, b, want_len);
	memcpy(buf + want_len, JUNK, sizeof(JUNK) - 1);
	for (k = want_len; k <= want_len + sizeof(JUNK) - 1; k++) {
		ck_assert_msg(parse(buf, k, version, &again, &why) == PROXY_OK,
		    "%s: with %zu junk bytes: %s", name, k - want_len, why);
		ck_assert_msg(memcmp(&again, h, sizeof(again)) == 0,
		    "%s: junk changed the header", name);
	}
}

/* b[0..n) is refused, with a reason containing want. */
static void
header_bad(const char *name, const uint8_t *b, size_t n, int version,
    const char *want)
{
	struct proxy_header	 h;
	const char		*why = NULL;
	static const struct proxy_header zero;

	ck_assert_msg(parse(b, n, version, &h, &why) == PROXY_BAD,
	    "%s: not BAD", name);
	ck_assert_msg(why != NULL && strstr(why, want) != NULL,
	    "%s: why \"%s\", want \"%s\"", name, why, want);
	ck_assert_msg(memcmp(&h, &zero, sizeof(h)) == 0, "%s: out not zeroed",
	    name);
}

/*
 * The answers to b[0..k) for growing k are MORE, then OK or BAD for good:
 * a refused beginning stays refused, a header stays the same header.
 * Returns the first k that is not MORE (n + 1 when none).
 */
static size_t
answers_monotonic(const char *name, const uint8_t *b, size_t n, int version)
{
	struct proxy_header	 h, first;
	enum proxy_status	 st, seen = PROXY_MORE;
	const char		*why;
	size_t			 k, decided = n + 1;

	for (k = 0; k <= n; k++) {
		st = parse(b, k, version, &h, &why);
		if (seen == PROXY_MORE && st != PROXY_MORE) {
			seen = st;
			decided = k;
			first = h;
		}
		ck_assert_msg(st == seen, "%s: %zu bytes: %d after %d", name, k,
		    st, seen);
		if (st == PROXY_OK)
			ck_assert(memcmp(&h, &first, sizeof(h)) == 0);
	}
	return decided;
}

static void
addr_is(const char *name, const struct ip_addr *a, const char *want)
{
	char	text[ADDR_TEXT_MAX];

	ck_assert_int_eq(addr_format(a, text, sizeof(text)), 0);
	ck_assert_msg(strcmp(text, want) == 0, "%s: address %s, want %s", name,
	    text, want);
}

/* Version 1. */

static const struct {
	const char	*name;
	const char	*line;		/* header, maybe data after it */
	size_t		 len;		/* of the header */
	int		 family;	/* 0: local */
	const char	*src, *dst;
	uint16_t	 sport, dport;
} v1_ok[] = {
	{ "tcp4_spec_example",
	    "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", 47,
	    AF_INET, "192.168.0.1", "192.168.0.11", 56324, 443 },
	{ "tcp4_longest_56_bytes",
	    "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n", 56,
	    AF_INET, "255.255.255.255", "255.255.255.255", 65535, 65535 },
	{ "tcp4_zero_addresses_and_ports", "PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n",
	    32, AF_INET, "0.0.0.0", "0.0.0.0", 0, 0 },
	{ "tcp4_from_haproxy_2_6",
	    "PROXY TCP4 127.0.0.1 127.0.0.1 39342 18101\r\nSSH-2.0-x\r\n", 44,
	    AF_INET, "127.0.0.1", "127.0.0.1", 39342, 18101 },
	{ "tcp6_from_haproxy_2_6",
	    "PROXY TCP6 ::1 ::1 36476 18104\r\nSSH-2.0-x\r\n", 32, AF_INET6,
	    "::1", "::1", 36476, 18104 },
	{ "tcp6_compressed", "PROXY TCP6 2001:db8::1 2001:db8::2 1234 22\r\n",
	    44, AF_INET6, "2001:db8::1", "2001:db8::2", 1234, 22 },
	{ "tcp6_longest_104_bytes",
	    "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF 65535 65535\r\n", 104,
	    AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, 65535 },
	{ "tcp6_all_zeros", "PROXY TCP6 :: :: 0 0\r\n", 22, AF_INET6, "::",
	    "::", 0, 0 },
	{ "tcp6_zero_padded_groups",
	    "PROXY TCP6 0001:0db8:0000:0000:0000:0000:0000:0001 ::2 1 2\r\n",
	    60, AF_INET6, "1:db8::1", "::2", 1, 2 },
	{ "tcp6_v4_mapped_as_haproxy_mixes_families",
	    "PROXY TCP6 ::ffff:192.0.2.1 2001:db8::1 40000 22\r\n", 50,
	    AF_INET6, "::ffff:192.0.2.1", "2001:db8::1", 40000, 22 },
	{ "tcp6_dotted_tail_after_six_groups",
	    "PROXY TCP6 1:2:3:4:5:6:1.2.3.4 1::7:8 1 2\r\n", 43, AF_INET6,
	    "1:2:3:4:5:6:102:304", "1::7:8", 1, 2 },
	{ "tcp6_compression_of_one_group",
	    "PROXY TCP6 1:2:3:4:5:6:7:: ::2:3:4:5:6:7:8 1 2\r\n", 48,
	    AF_INET6, "1:2:3:4:5:6:7:0", "0:2:3:4:5:6:7:8", 1, 2 },
	{ "unknown_short_form", "PROXY UNKNOWN\r\n", 15, 0, NULL, NULL, 0,
	    0 },
	{ "unknown_rest_ignored", "PROXY UNKNOWN 1.2.3.4 anything at all\r\n",
	    39, 0, NULL, NULL, 0, 0 },
	{ "unknown_space_then_crlf", "PROXY UNKNOWN \r\nX", 16, 0, NULL,
	    NULL, 0, 0 },
	{ "unknown_longest_107_bytes",
	    "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n", 107, 0,
	    NULL, NULL, 0, 0 },
};

START_TEST(v1_header_accepted)
{
	struct proxy_header	 h;
	const char		*name = v1_ok[_i].name;

	header_ok(name, (const uint8_t *)v1_ok[_i].line,
	    strlen(v1_ok[_i].line), v1_ok[_i].len, 1, &h);
	ck_assert_msg(h.local == (v1_ok[_i].family == 0), "%s: local", name);
	ck_assert_int_eq(h.family, v1_ok[_i].family);
	if (h.local) {
		ck_assert(h.src.family == 0 && h.dst.family == 0);
		ck_assert(h.src_port == 0 && h.dst_port == 0);
		return;
	}
	addr_is(name, &h.src, v1_ok[_i].src);
	addr_is(name, &h.dst, v1_ok[_i].dst);
	ck_assert_int_eq(h.src.family, v1_ok[_i].family);
	ck_assert_int_eq(h.dst.family, v1_ok[_i].family);
	ck_assert_uint_eq(h.src_port, v1_ok[_i].sport);
	ck_assert_uint_eq(h.dst_port, v1_ok[_i].dport);
}
END_TEST

static const struct {
	const char	*name;
	const char	*line;
	const char	*why;
	size_t		 at;		/* refused from this many bytes on;
					 * 0: not pinned */
} v1_bad[] = {
	{ "lowercase_tag", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
	    "not a PROXY v1 header", 1 },
	{ "http_request", "GET / HTTP/1.1\r\n", "not a PROXY v1 header", 1 },
	{ "ssh_banner", "SSH-2.0-OpenSSH_9.2\r\n", "not a PROXY v1 header",
	    1 },
	{ "v2_signature_on_v1_listener",
	    "\r\n\r\n\0\r\nQUIT\n\x21\x11\0\x0c", "v2 header on a v1 listener",
	    1 },
	{ "tab_after_tag", "PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n",
	    "not a PROXY v1 header", 6 },
	{ "double_space_after_tag", "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
	    "double space", 7 },
	{ "lowercase_protocol", "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
	    "unknown protocol", 7 },
	{ "udp4_protocol", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
	    "unknown protocol", 8 },
	{ "tcp5_protocol", "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
	    "unknown protocol", 10 },
	{ "protocol_without_space", "PROXY TCP41.2.3.4 5.6.7.8 1 2\r\n",
	    "unknown protocol", 11 },
	{ "unknown_glued_to_text", "PROXY UNKNOWNX\r\n", "unknown protocol",
	    14 },
	{ "unknown_with_control_byte", "PROXY UNKNOWN \x01\r\n",
	    "bad character", 15 },
	{ "unknown_with_bare_lf", "PROXY UNKNOWN a\nb\r\n", "bad character",
	    16 },
	{ "unknown_ended_by_lf", "PROXY UNKNOWN\n", "unknown protocol", 14 },
	{ "unknown_cr_without_lf", "PROXY UNKNOWN\rX", "CR without LF", 15 },
	{ "double_space_between_fields",
	    "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "double space", 20 },
	{ "space_before_crlf", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
	    "extra field", 31 },
	{ "extra_field", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "extra field",
	    31 },
	{ "missing_port", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "missing field",
	    29 },
	{ "missing_everything", "PROXY TCP4\r\n", "unknown protocol", 11 },
	{ "tab_between_fields", "PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n",
	    "bad address", 19 },
	{ "lf_only", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "bad port", 31 },
	{ "cr_only", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rSSH-2.0", "CR without LF",
	    32 },
	{ "no_crlf_data_follows", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2SSH-2.0",
	    "bad port", 31 },
	{ "ipv4_short_form", "PROXY TCP4 127.1 127.0.0.1 1 2\r\n",
	    "bad address", 17 },
	{ "ipv4_leading_zero", "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",
	    "bad address", 13 },
	{ "ipv4_octet_256", "PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n",
	    "bad address", 14 },
	{ "ipv4_five_octets", "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n",
	    "bad address", 19 },
	{ "ipv4_trailing_dot", "PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n",
	    "bad address", 19 },
	{ "ipv4_hex", "PROXY TCP4 0x7f.0.0.1 5.6.7.8 1 2\r\n", "bad address",
	    13 },
	{ "ipv4_integer", "PROXY TCP4 2130706433 5.6.7.8 1 2\r\n",
	    "bad address", 15 },
	{ "v4_mapped_in_tcp4", "PROXY TCP4 ::ffff:1.2.3.4 5.6.7.8 1 2\r\n",
	    "bad address", 12 },
	{ "ipv6_in_tcp4", "PROXY TCP4 ::1 ::1 1 2\r\n", "bad address", 12 },
	{ "ipv4_in_tcp6", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", "bad address",
	    13 },
	{ "ipv6_brackets", "PROXY TCP6 [::1] ::1 1 2\r\n", "bad address",
	    12 },
	{ "ipv6_zone", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", "bad address",
	    19 },
	{ "ipv6_nine_groups", "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n",
	    "bad address", 27 },
	{ "ipv6_two_compressions", "PROXY TCP6 1::2::3 ::1 1 2\r\n",
	    "bad address", 17 },
	{ "ipv6_triple_colon", "PROXY TCP6 1:::2 ::1 1 2\r\n", "bad address",
	    15 },
	{ "ipv6_leading_single_colon", "PROXY TCP6 :1::2 ::1 1 2\r\n",
	    "bad address", 13 },
	{ "ipv6_trailing_single_colon", "PROXY TCP6 1:2:3:4:5:6:7: ::1 1 2\r\n",
	    "bad address", 26 },
	{ "ipv6_five_digit_group", "PROXY TCP6 12345::1 ::1 1 2\r\n",
	    "bad address", 16 },
	{ "ipv6_compression_of_nothing",
	    "PROXY TCP6 1:2:3:4::5:6:7:8 ::1 1 2\r\n", "bad address", 26 },
	{ "ipv6_dotted_tail_too_early", "PROXY TCP6 1:2:1.2.3.4 ::1 1 2\r\n",
	    "bad address", 17 },
	{ "ipv6_hex_dotted_tail", "PROXY TCP6 ::a.2.3.4 ::1 1 2\r\n",
	    "bad address", 15 },
	{ "ipv6_dotted_tail_leading_zero", "PROXY TCP6 ::1.02.3.4 ::1 1 2\r\n",
	    "bad address", 17 },
	{ "ipv6_incomplete", "PROXY TCP6 1:2:3 ::1 1 2\r\n", "bad address",
	    17 },
	{ "port_65536", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "bad port",
	    32 },
	{ "port_99999", "PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", "bad port",
	    34 },
	{ "port_leading_zero", "PROXY TCP4 1.2.3.4 5.6.7.8 022 2\r\n",
	    "bad port", 29 },
	{ "port_sign", "PROXY TCP4 1.2.3.4 5.6.7.8 +22 2\r\n", "bad port",
	    28 },
	{ "port_hex", "PROXY TCP4 1.2.3.4 5.6.7.8 0x16 2\r\n", "bad port", 29 },
	{ "port_too_long", "PROXY TCP4 1.2.3.4 5.6.7.8 123456 2\r\n",
	    "bad port", 0 },
	{ "unknown_line_108_bytes",
	    "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffff 65535 65535\r\n",
	    "oversized", 107 },
	{ "no_crlf_in_107_bytes",
	    "PROXY UNKNOWN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "oversized", 107 },
	/* inet_pton reads it, but it is longer than the spec allows. */
	{ "tcp6_dotted_tails_beyond_107_bytes",
	    "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 65535 65535\r\n",
	    "oversized", 107 },
};

START_TEST(v1_header_refused)
{
	const uint8_t	*b = (const uint8_t *)v1_bad[_i].line;
	size_t		 n = strlen(v1_bad[_i].line), at;

	if (v1_bad[_i].line[0] == '\r')		/* holds a NUL byte */
		n = 16;
	header_bad(v1_bad[_i].name, b, n, 1, v1_bad[_i].why);
	at = answers_monotonic(v1_bad[_i].name, b, n, 1);
	if (v1_bad[_i].at != 0)
		ck_assert_msg(at == v1_bad[_i].at, "%s: refused at %zu, "
		    "want %zu", v1_bad[_i].name, at, v1_bad[_i].at);
}
END_TEST

/* Version 2. */

static const struct {
	const char	*name;
	const uint8_t	*b;
	size_t		 n;
	size_t		 len;
	int		 family;	/* 0: local */
	const char	*src, *dst;
	uint16_t	 sport, dport;
} v2_ok[] = {
	{ "tcp4_from_haproxy_2_6", BYTES(SIG "\x21\x11\x00\x0c"
	    "\x7f\x00\x00\x01\x7f\x00\x00\x01\x8b\x66\x46\xb6"
	    "SSH-2.0-x\r\n"), 28, AF_INET, "127.0.0.1", "127.0.0.1", 35686,
	    18102 },
	{ "tcp6_from_haproxy_2_6", BYTES(SIG "\x21\x21\x00\x24"
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"
	    "\x90\x7a\x46\xb9" "SSH-2.0-x\r\n"), 52, AF_INET6, "::1", "::1",
	    36986, 18105 },
	/* send-proxy-v2 proxy-v2-options crc32c,unique-id */
	{ "crc32c_and_unique_id_from_haproxy_2_6", BYTES(SIG "\x21\x11\x00\x1c"
	    "\x7f\x00\x00\x01\x7f\x00\x00\x01\xad\xf6\x46\xb7"
	    "\x03\x00\x04\x81\x17\x38\x62"
	    "\x05\x00\x06" "abc123" "SSH-2.0-x\r\n"), 44, AF_INET, "127.0.0.1",
	    "127.0.0.1", 44534, 18103 },
	/* A health check: check send-proxy-v2 check-send-proxy */
	{ "local_check_from_haproxy_2_6", BYTES(SIG "\x20\x00\x00\x00"), 16,
	    0, NULL, NULL, 0, 0 },
	{ "tcp4_documentation_addresses", BYTES(SIG "\x21\x11\x00\x0c"
	    "\xc0\x00\x02\x01\xc6\x33\x64\x07\xff\xff\x00\x16"), 28, AF_INET,
	    "192.0.2.1", "198.51.100.7", 65535, 22 },
	{ "tcp6_with_alpn_noop_and_custom_tlvs", BYTES(SIG "\x21\x21\x00\x3b"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02"
	    "\x00\x00\x00\x16"
	    "\x01\x00\x02" "h2" "\x04\x00\x00" "\xea\x00\x0c" "vpce-0123456"),
	    75, AF_INET6, "2001:db8::1", "2001:db8::2", 0, 22 },
	{ "tcp4_with_empty_tlvs", BYTES(SIG "\x21\x11\x00\x12"
	    "\x0a\x00\x00\x01\x0a\x00\x00\x02\x30\x39\x00\x16"
	    "\x04\x00\x00" "\x30\x00\x00"), 34, AF_INET, "10.0.0.1",
	    "10.0.0.2", 12345, 22 },
	{ "tcp6_v4_mapped_kept_as_sent", BYTES(SIG "\x21\x21\x00\x24"
	    "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x01"
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01" "\x00\x01\x00\x02"), 52,
	    AF_INET6, "::ffff:192.0.2.1", "::1", 1, 2 },
	{ "local_ignores_tcp4_addresses", BYTES(SIG "\x20\x11\x00\x0c"
	    "\x01\x02\x03\x04\x05\x06\x07\x08\x00\x01\x00\x02"), 28, 0, NULL,
	    NULL, 0, 0 },
	{ "local_may_omit_its_family_addresses", BYTES(SIG "\x20\x21\x00\x00"),
	    16, 0, NULL, NULL, 0, 0 },
	{ "local_udp4_accepted", BYTES(SIG "\x20\x12\x00\x0c"
	    "\x01\x02\x03\x04\x05\x06\x07\x08\x00\x01\x00\x02"), 28, 0, NULL,
	    NULL, 0, 0 },
	{ "local_with_tlvs", BYTES(SIG "\x20\x00\x00\x05" "\x04\x00\x02xy"),
	    21, 0, NULL, NULL, 0, 0 },
	{ "proxy_unspec_is_local", BYTES(SIG "\x21\x00\x00\x00"), 16, 0, NULL,
	    NULL, 0, 0 },
	{ "proxy_unspec_with_tlvs_is_local", BYTES(SIG "\x21\x00\x00\x03"
	    "\x04\x00\x00"), 19, 0, NULL, NULL, 0, 0 },
};

static void
v2_check(const char *name, const uint8_t *b, size_t n, size_t len,
    int family, const char *src, const char *dst, uint16_t sport,
    uint16_t dport)
{
	struct proxy_header	h;

	header_ok(name, b, n, len, 2, &h);
	ck_assert_msg(h.local == (family == 0), "%s: local", name);
	ck_assert_int_eq(h.family, family);
	if (h.local) {
		ck_assert(h.src.family == 0 && h.dst.family == 0);
		ck_assert(h.src_port == 0 && h.dst_port == 0);
		return;
	}
	addr_is(name, &h.src, src);
	addr_is(name, &h.dst, dst);
	ck_assert_uint_eq(h.src_port, sport);
	ck_assert_uint_eq(h.dst_port, dport);
}

START_TEST(v2_header_accepted)
{
	v2_check(v2_ok[_i].name, v2_ok[_i].b, v2_ok[_i].n, v2_ok[_i].len,
	    v2_ok[_i].family, v2_ok[_i].src, v2_ok[_i].dst, v2_ok[_i].sport,
	    v2_ok[_i].dport);
}
END_TEST

static const struct {
	const char	*name;
	const uint8_t	*b;
	size_t		 n;
	const char	*why;
	size_t		 at;		/* refused from this many bytes on */
} v2_bad[] = {
	{ "v1_line_on_v2_listener",
	    BYTES("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"),
	    "v1 header on a v2 listener", 1 },
	{ "ssh_banner", BYTES("SSH-2.0-OpenSSH_9.2\r\n"),
	    "not a PROXY v2 header", 1 },
	{ "signature_nul_replaced", BYTES("\r\n\r\n \r\nQUIT\n\x21\x11\0\0"),
	    "not a PROXY v2 header", 5 },
	{ "signature_last_byte_wrong",
	    BYTES("\r\n\r\n\0\r\nQUIT\r\x21\x11\0\0"),
	    "not a PROXY v2 header", 12 },
	{ "version_1_nibble", BYTES(SIG "\x11\x11\x00\x0c"), "bad version",
	    13 },
	{ "version_3_nibble", BYTES(SIG "\x31\x11\x00\x0c"), "bad version",
	    13 },
	{ "version_0_nibble", BYTES(SIG "\x01\x11\x00\x0c"), "bad version",
	    13 },
	{ "command_2", BYTES(SIG "\x22\x11\x00\x0c"), "bad command", 13 },
	{ "command_15", BYTES(SIG "\x2f\x11\x00\x0c"), "bad command", 13 },
	{ "family_4", BYTES(SIG "\x21\x41\x00\x0c"), "bad family", 14 },
	{ "transport_3", BYTES(SIG "\x21\x13\x00\x0c"), "bad family", 14 },
	{ "inet_unspec_transport", BYTES(SIG "\x21\x10\x00\x0c"),
	    "bad family", 14 },
	{ "unspec_stream", BYTES(SIG "\x21\x01\x00\x00"), "bad family", 14 },
	{ "local_bad_family_still_refused", BYTES(SIG "\x20\xff\x00\x00"),
	    "bad family", 14 },
	{ "proxy_udp4", BYTES(SIG "\x21\x12\x00\x0c"), "unsupported family",
	    14 },
	{ "proxy_udp6", BYTES(SIG "\x21\x22\x00\x24"), "unsupported family",
	    14 },
	{ "proxy_unix_stream", BYTES(SIG "\x21\x31\x00\xd8"),
	    "unsupported family", 14 },
	{ "proxy_unix_dgram", BYTES(SIG "\x21\x32\x00\xd8"),
	    "unsupported family", 14 },
	{ "tcp4_block_11_bytes", BYTES(SIG "\x21\x11\x00\x0b"
	    "\x01\x02\x03\x04\x05\x06\x07\x08\x00\x01\x00"),
	    "address block too short", 16 },
	{ "tcp4_block_empty", BYTES(SIG "\x21\x11\x00\x00"),
	    "address block too short", 16 },
	{ "tcp6_block_35_bytes", BYTES(SIG "\x21\x21\x00\x23"),
	    "address block too short", 16 },
	{ "tcp6_with_tcp4_block", BYTES(SIG "\x21\x21\x00\x0c"
	    "\x01\x02\x03\x04\x05\x06\x07\x08\x00\x01\x00\x02"),
	    "address block too short", 16 },
	{ "local_partial_block", BYTES(SIG "\x20\x11\x00\x05"
	    "\x01\x02\x03\x04\x05"), "address block too short", 16 },
	{ "two_bytes_after_block", BYTES(SIG "\x21\x11\x00\x0e"
	    "\x01\x02\x03\x04\x05\x06\x07\x08\x00\x01\x00\x02" "\x04\x00"),
	    "TLV overrun", 16 },
	{ "tlv_longer_than_header", BYTES(SIG "\x21\x11\x00\x11"
	    "\x01\x02\x03\x04\x05\x06\x07\x08\x00\x01\x00\x02"
	    "\x04\x00\x03" "ab"), "TLV overrun", 31 },
	{ "tlv_length_ffff", BYTES(SIG "\x21\x00\x00\x03" "\x01\xff\xff"),
	    "TLV overrun", 19 },
	{ "second_tlv_overruns", BYTES(SIG "\x20\x00\x00\x08"
	    "\x04\x00\x00" "\x04\x00\x03" "ab"), "TLV overrun", 22 },
	{ "crc32c_tlv_3_bytes", BYTES(SIG "\x20\x00\x00\x06"
	    "\x03\x00\x03" "\0\0\0"), "bad CRC32C TLV", 19 },
	{ "crc32c_tlv_5_bytes", BYTES(SIG "\x20\x00\x00\x08"
	    "\x03\x00\x05" "\0\0\0\0\0"), "bad CRC32C TLV", 19 },
	{ "crc32c_wrong", BYTES(SIG "\x21\x11\x00\x1c"
	    "\x7f\x00\x00\x01\x7f\x00\x00\x01\xad\xf6\x46\xb7"
	    "\x03\x00\x04\x81\x17\x38\x63" "\x05\x00\x06" "abc123"),
	    "bad CRC32C", 44 },
	{ "crc32c_changed_port", BYTES(SIG "\x21\x11\x00\x1c"
	    "\x7f\x00\x00\x01\x7f\x00\x00\x01\xad\xf6\x46\xb8"
	    "\x03\x00\x04\x81\x17\x38\x62" "\x05\x00\x06" "abc123"),
	    "bad CRC32C", 44 },
	{ "crc32c_twice", BYTES(SIG "\x20\x00\x00\x0e"
	    "\x03\x00\x04" "\0\0\0\0" "\x03\x00\x04" "\0\0\0\0"),
	    "duplicate CRC32C TLV", 26 },
	{ "length_beyond_cap", BYTES(SIG "\x21\x11\x03\xf1"), "oversized", 16 },
	{ "length_ffff", BYTES(SIG "\x20\x00\xff\xff"), "oversized", 16 },
};

START_TEST(v2_header_refused)
{
	size_t	at;

	header_bad(v2_bad[_i].name, v2_bad[_i].b, v2_bad[_i].n, 2,
	    v2_bad[_i].why);
	at = answers_monotonic(v2_bad[_i].name, v2_bad[_i].b, v2_bad[_i].n, 2);
	ck_assert_msg(at == v2_bad[_i].at, "%s: refused at %zu, want %zu",
	    v2_bad[_i].name, at, v2_bad[_i].at);
}
END_TEST

/* Builds a v2 header around body[0..n) into out; returns its length. */
static size_t
v2_build(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const uint8_t *body,
    size_t n)
{
	memcpy(out, SIG, SIG_BYTES);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(n >> 8);
	out[15] = (uint8_t)n;
	memcpy(out + 16, body, n);
	return 16 + n;
}

START_TEST(crc32c_test_vector)
{
	/* RFC 3720 B.4 and the usual check value of CRC-32C. */
	ck_assert_uint_eq(test_crc32c((const uint8_t *)"123456789", 9),
	    0xe3069283);
}
END_TEST

START_TEST(crc32c_covers_every_byte)
{
	static const uint8_t	body[] =
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02" "\x00\x16\x00\x16"
	    "\x01\x00\x02" "h2" "\x03\x00\x04" "\0\0\0\0" "\x05\x00\x01" "u";
	struct proxy_header	 h;
	const char		*why;
	uint8_t			 b[128];
	uint32_t		 crc;
	size_t			 n, crc_at, i;

	n = v2_build(b, 0x21, 0x21, body, sizeof(body) - 1);
	crc_at = 16 + 36 + 5 + 3;
	crc = test_crc32c(b, n);
	b[crc_at] = (uint8_t)(crc >> 24);
	b[crc_at + 1] = (uint8_t)(crc >> 16);
	b[crc_at + 2] = (uint8_t)(crc >> 8);
	b[crc_at + 3] = (uint8_t)crc;
	v2_check("tcp6_crc32c_between_tlvs", b, n, n, AF_INET6, "2001:db8::1",
	    "2001:db8::2", 22, 22);
	/* Any change of an address, a port, a value or the CRC is seen. */
	for (i = 16; i < n; i++) {
		if (i >= 16 + 36 && i < crc_at && i != 16 + 36 + 3 &&
		    i != 16 + 36 + 4)
			continue;	/* a TLV head: a new layout */
		if (i == crc_at + 4 || i == crc_at + 5 || i == crc_at + 6)
			continue;
		b[i] ^= 0x40;
		ck_assert_msg(parse(b, n, 2, &h, &why) == PROXY_BAD &&
		    strcmp(why, "bad CRC32C") == 0, "byte %zu", i);
		b[i] ^= 0x40;
	}
}
END_TEST

START_TEST(v2_largest_header_accepted)
{
	uint8_t	 body[PROXY_V2_MAX_BYTES], b[PROXY_V2_MAX_BYTES + 1];
	size_t	 n, noop = PROXY_V2_MAX_BYTES - 16 - 12 - 3;

	memset(body, 'x', sizeof(body));
	memcpy(body, "\x0a\x00\x00\x01\x0a\x00\x00\x02\x00\x01\x00\x02", 12);
	body[12] = 0x04;
	body[13] = (uint8_t)(noop >> 8);
	body[14] = (uint8_t)noop;
	n = v2_build(b, 0x21, 0x11, body, 12 + 3 + noop);
	ck_assert_uint_eq(n, PROXY_V2_MAX_BYTES);
	v2_check("tcp4_noop_up_to_cap", b, n, n, AF_INET, "10.0.0.1",
	    "10.0.0.2", 1, 2);

	/* One more byte of NOOP value is over the cap. */
	noop++;
	body[13] = (uint8_t)(noop >> 8);
	body[14] = (uint8_t)noop;
	n = v2_build(b, 0x21, 0x11, body, 12 + 3 + noop);
	header_bad("tcp4_noop_beyond_cap", b, n, 2, "oversized");
	ck_assert_uint_eq(answers_monotonic("tcp4_noop_beyond_cap", b, n, 2),
	    16);
}
END_TEST

/*
 * Every v1 address a mutation of these yields is accepted exactly when
 * inet_pton(3) reads it in the family of the line, and then the same;
 * every accepted line has each beginning MORE.
 */
static const char *const v6_seeds[] = {
	"::", "::1", "1::", "2001:db8::1", "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4",
	"1:2:3:4:5:6:1.2.3.4", "1::2:3:4:5:1.2.3.4", "fe80::abcd:ef01",
	"0:0:0:0:0:0:0:0", "ABCD:EF::12:3",
};
static const char *const v4_seeds[] = {
	"1.2.3.4", "0.0.0.0", "255.255.255.255", "10.200.30.4", "192.0.2.199",
};

static void
mutate(char *s, size_t max, unsigned *seed, const char *alphabet)
{
	size_t	len = strlen(s), at, alen = strlen(alphabet);
	char	c;
	int	edits = 1 + (int)(rand_r(seed) % 3);

	while (edits-- > 0) {
		at = len == 0 ? 0 : (size_t)rand_r(seed) % (len + 1);
		c = alphabet[(size_t)rand_r(seed) % alen];
		switch (rand_r(seed) % 3) {
		case 0:
			if (len + 1 < max) {
				memmove(s + at + 1, s + at, len - at + 1);
				s[at] = c;
				len++;
			}
			break;
		case 1:
			if (at < len) {
				memmove(s + at, s + at + 1, len - at);
				len--;
			}
			break;
		default:
			if (at < len)
				s[at] = c;
		}
	}
}

static void
address_agrees(int family, const char *text, bool beginnings)
{
	struct proxy_header	 h;
	const char		*why;
	char			 line[160];
	uint8_t			 want[16];
	bool			 valid;
	int			 n;

	valid = inet_pton(family, text, want) == 1;
	n = snprintf(line, sizeof(line), "PROXY %s %s %s 1 2\r\n",
	    family == AF_INET ? "TCP4" : "TCP6", text,
	    family == AF_INET ? "9.9.9.9" : "::9");
	ck_assert(n > 0 && (size_t)n < sizeof(line));
	if (n > PROXY_V1_MAX_BYTES)
		valid = false;
	ck_assert_msg((parse((const uint8_t *)line, (size_t)n, 1, &h, &why) ==
	    PROXY_OK) == valid, "\"%s\": %s, inet_pton says %s", text,
	    why == NULL ? "accepted" : why, valid ? "valid" : "invalid");
	if (!valid)
		return;
	ck_assert(memcmp(h.src.bytes, want, family == AF_INET ? 4 : 16) == 0);
	if (beginnings)
		header_ok(text, (const uint8_t *)line, (size_t)n, (size_t)n, 1,
		    &h);
}

START_TEST(v1_addresses_agree_with_inet_pton)
{
	char		text[64];
	unsigned	seed = 20240611;
	size_t		i;
	int		round;

	for (i = 0; i < NITEMS(v6_seeds); i++) {
		address_agrees(AF_INET6, v6_seeds[i], true);
		for (round = 0; round < 300; round++) {
			snprintf(text, sizeof(text), "%s", v6_seeds[i]);
			mutate(text, sizeof(text), &seed, "0:1:f:A:.:9");
			address_agrees(AF_INET6, text, true);
		}
	}
	for (i = 0; i < NITEMS(v4_seeds); i++) {
		address_agrees(AF_INET, v4_seeds[i], true);
		for (round = 0; round < 300; round++) {
			snprintf(text, sizeof(text), "%s", v4_seeds[i]);
			mutate(text, sizeof(text), &seed, "0.1.2.5.9.");
			address_agrees(AF_INET, text, true);
		}
	}
}
END_TEST

/*
 * Every string of up to max characters of alphabet, in family (the
 * beginnings of those accepted are left to the mutations above: this
 * must stay fast under sanitizers).
 */
static void
all_strings_agree(int family, const char *alphabet, size_t max)
{
	char	text[16];
	size_t	alen = strlen(alphabet), len, i;
	long	n, x, y;

	for (len = 1; len <= max; len++) {
		for (n = 1, i = 0; i < len; i++)
			n *= (long)alen;
		for (x = 0; x < n; x++) {
			for (y = x, i = 0; i < len; i++, y /= (long)alen)
				text[i] = alphabet[y % (long)alen];
			text[len] = '\0';
			address_agrees(family, text, false);
		}
	}
}

START_TEST(v1_short_ipv6_agree_with_inet_pton)
{
	all_strings_agree(AF_INET6, "0:1.a", 7);
}
END_TEST

START_TEST(v1_short_ipv6_tails_agree_with_inet_pton)
{
	all_strings_agree(AF_INET6, "0:.", 9);
}
END_TEST

START_TEST(v1_short_ipv4_agree_with_inet_pton)
{
	all_strings_agree(AF_INET, "0.12", 8);
}
END_TEST

START_TEST(contract_edges)
{
	struct proxy_header	 h;
	const char		*why = "unset";

	/* Nothing yet is a beginning of anything. */
	ck_assert_int_eq(proxy_parse(NULL, 0, 1, &h, &why), PROXY_MORE);
	ck_assert_str_eq(why, "truncated");
	ck_assert_int_eq(proxy_parse(NULL, 0, 2, &h, NULL), PROXY_MORE);
	/* A listener accepts one version, 1 or 2. */
	ck_assert_int_eq(proxy_parse((const uint8_t *)"PROXY ", 6, 0, &h,
	    &why), PROXY_BAD);
	ck_assert_str_eq(why, "bad version");
	ck_assert_int_eq(proxy_parse((const uint8_t *)"PROXY ", 6, 3, &h,
	    &why), PROXY_BAD);
	ck_assert_int_eq(proxy_parse((const uint8_t *)"PROXY ", 6, 1, NULL,
	    &why), PROXY_BAD);
	ck_assert_int_eq(proxy_parse(NULL, 5, 1, &h, &why), PROXY_BAD);
	/* A full buffer without CRLF is refused, not waited on. */
	ck_assert_int_eq(proxy_parse((const uint8_t *)"PROXY UNKNOWN "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 200, 1, &h,
	    &why), PROXY_BAD);
	/* The caps hold a whole header of either version. */
	ck_assert(PROXY_MAX_BYTES >= PROXY_V1_MAX_BYTES &&
	    PROXY_MAX_BYTES >= PROXY_V2_MAX_BYTES);
	ck_assert(PROXY_V2_MAX_BYTES >= 16 + 216);
}
END_TEST

Suite *
proxy_suite(void)
{
	Suite	*s = suite_create("proxy");
	TCase	*tc;

	tc = tcase_create("v1");
	tcase_add_loop_test(tc, v1_header_accepted, 0, NITEMS(v1_ok));
	tcase_add_loop_test(tc, v1_header_refused, 0, NITEMS(v1_bad));
	tcase_add_test(tc, v1_addresses_agree_with_inet_pton);
	tcase_add_test(tc, v1_short_ipv6_agree_with_inet_pton);
	tcase_add_test(tc, v1_short_ipv6_tails_agree_with_inet_pton);
	tcase_add_test(tc, v1_short_ipv4_agree_with_inet_pton);
	suite_add_tcase(s, tc);

	tc = tcase_create("v2");
	tcase_add_loop_test(tc, v2_header_accepted, 0, NITEMS(v2_ok));
	tcase_add_loop_test(tc, v2_header_refused, 0, NITEMS(v2_bad));
	tcase_add_test(tc, crc32c_test_vector);
	tcase_add_test(tc, crc32c_covers_every_byte);
	tcase_add_test(tc, v2_largest_header_accepted);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_test(tc, contract_edges);
	suite_add_tcase(s, tc);
	return s;
}
