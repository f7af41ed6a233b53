/*
 * proxy: strict parsing of PROXY protocol v1 and v2 headers (HAProxy's
 * doc/proxy-protocol.txt).  Pure: no I/O.  Each check runs left to right,
 * so a header that parses has every shorter beginning answer PROXY_MORE,
 * and garbage is refused as soon as the byte that cannot begin a header
 * arrives.
 */
#include <sys/socket.h>

#include <string.h>

#include "proxy.h"

#define V1_TAG		"PROXY "
#define V1_FIELD_MAX	45	/* longest IPv6 text, IPv4 tail included */
#define V1_FIELDS	4	/* src dst sport dport */

#define V2_SIG_BYTES	12
#define V2_FIXED_BYTES	16	/* signature, ver_cmd, fam, 16-bit length */
#define V2_TLV_HEAD	3	/* type, 16-bit length */
#define V2_CRC_BYTES	4

#define V2_CMD_LOCAL	0x0
#define V2_CMD_PROXY	0x1
#define V2_TCP4		0x11
#define V2_TCP6		0x21
#define V2_TYPE_CRC32C	0x03

#define CRC32C_POLY	0x82f63b78	/* Castagnoli, reflected */

static const uint8_t	v2_sig[V2_SIG_BYTES] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static enum proxy_status
bad(const char **why, const char *reason)
{
	*why = reason;
	return PROXY_BAD;
}

/* Whether buf[0..len) begins s, or s begins buf[0..len). */
static bool
prefix_match(const uint8_t *buf, size_t len, const void *s, size_t slen)
{
	return memcmp(buf, s, len < slen ? len : slen) == 0;
}

/*
 * Literal s at buf[*pos]: 1 (matched, *pos moved past it), 0 (buf ends
 * inside a match), -1 (different).
 */
static int
match_literal(const uint8_t *buf, size_t len, size_t *pos, const char *s)
{
	size_t	slen = strlen(s);

	if (!prefix_match(buf + *pos, len - *pos, s, slen))
		return -1;
	if (len - *pos < slen)
		return 0;
	*pos += slen;
	return 1;
}

/*
 * Whether s[0..n) can begin a dotted quad: decimal octets 0-255 without
 * leading zeros, at most four.
 */
static bool
v4_prefix_ok(const char *s, size_t n)
{
	unsigned	dots = 0, digits = 0, octet = 0;
	size_t		i;

	for (i = 0; i < n; i++) {
		if (is_digit((unsigned char)s[i])) {
			if (digits == 1 && octet == 0)
				return false;
			octet = octet * 10 + (unsigned)(s[i] - '0');
			if (octet > 255)
				return false;
			digits++;
		} else if (s[i] == '.') {
			if (digits == 0 || dots == 3)
				return false;
			dots++;
			digits = 0;
			octet = 0;
		} else
			return false;
	}
	return true;
}

/*
 * Whether s[0..n) can begin IPv6 text as inet_pton(3) reads it: groups of
 * 1-4 hex digits, one "::" standing for one group or more, 8 groups in
 * all, the last two of which may be written as a dotted quad.  No
 * brackets, no zone.
 */
static bool
v6_prefix_ok(const char *s, size_t n)
{
	unsigned	groups = 0;	/* begun, the current one included */
	unsigned	digits = 0;	/* of the current group */
	bool		compressed = false;
	size_t		i;

	for (i = 0; i < n; i++) {
		if (is_hex((unsigned char)s[i])) {
			if (digits == 0 && ++groups > (compressed ? 7u : 8u))
				return false;
			if (++digits > 4)
				return false;
		} else if (s[i] == '.') {
			/* The tail stands for two groups and ends the text. */
			if (digits == 0 || (compressed ? groups - 1 > 5 :
			    groups - 1 != 6))
				return false;
			return v4_prefix_ok(s + i - digits, n - i + digits);
		} else if (s[i] != ':')
			return false;
		else if (i > 0 && s[i - 1] == ':') {
			if (compressed || groups >= 8)
				return false;
			compressed = true;
		} else if (i == 0) {
			if (n > 1 && s[1] != ':')
				return false;
		} else {
			/* Another group, or "::", must follow. */
			if (groups >= (compressed ? 7u : 8u))
				return false;
			digits = 0;
		}
	}
	return true;
}

/* Whether s[0..n) can begin a port: decimal 0-65535, no leading zero. */
static bool
port_prefix_ok(const char *s, size_t n, unsigned *value)
{
	unsigned	v = 0;
	size_t		i;

	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]) || (i == 1 && s[0] == '0'))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > 65535)
			return false;
	}
	*value = v;
	return true;
}

/*
 * Field i (src, dst, sport, dport) of a TCP4/TCP6 line in s[0..n): a
 * possible beginning when !whole, else the whole field, into out.
 */
static bool
v1_field_ok(const char *s, size_t n, int i, int family, bool whole,
    struct proxy_header *out)
{
	struct ip_addr	 ip;
	char		 text[V1_FIELD_MAX + 1];
	unsigned	 port;

	if (i >= 2) {
		if (!port_prefix_ok(s, n, &port))
			return false;
		if (whole && n == 0)
			return false;
		if (i == 2)
			out->src_port = (uint16_t)port;
		else
			out->dst_port = (uint16_t)port;
		return true;
	}
	if (family == AF_INET ? !v4_prefix_ok(s, n) : !v6_prefix_ok(s, n))
		return false;
	if (!whole)
		return true;
	if (n == 0 || n > V1_FIELD_MAX)
		return false;
	memcpy(text, s, n);
	text[n] = '\0';
	if (addr_parse_ip(text, &ip) == -1 || ip.family != family)
		return false;
	if (i == 0)
		out->src = ip;
	else
		out->dst = ip;
	return true;
}

/* CR at buf[pos]: the end of the line when LF follows. */
static enum proxy_status
v1_line_end(const uint8_t *buf, size_t len, size_t pos,
    struct proxy_header *out, const char **why)
{
	if (pos + 1 >= len)
		return PROXY_MORE;
	if (buf[pos + 1] != '\n')
		return bad(why, "CR without LF");
	out->len = pos + 2;
	return PROXY_OK;
}

/*
 * After "PROXY UNKNOWN": CRLF, or a space and anything printable (which
 * the spec says to ignore) up to CRLF.
 */
static enum proxy_status
v1_unknown(const uint8_t *buf, size_t len, size_t pos,
    struct proxy_header *out, const char **why)
{
	out->local = true;
	if (pos == len)
		return PROXY_MORE;
	if (buf[pos] == ' ') {
		for (pos++; pos < len && buf[pos] != '\r'; pos++)
			if (buf[pos] < 0x20 || buf[pos] > 0x7e)
				return bad(why, "bad character in line");
		if (pos == len)
			return PROXY_MORE;
	}
	if (buf[pos] != '\r')
		return bad(why, "unknown protocol");
	return v1_line_end(buf, len, pos, out, why);
}

/* The line in buf[0..len), len at most PROXY_V1_MAX_BYTES. */
static enum proxy_status
v1_line(const uint8_t *buf, size_t len, struct proxy_header *out,
    const char **why)
{
	const char	*field;
	size_t		 pos = 0, start, p4, p6, pu;
	int		 i, r4, r6, ru;

	switch (match_literal(buf, len, &pos, V1_TAG)) {
	case -1:
		if (prefix_match(buf, len, v2_sig, sizeof(v2_sig)))
			return bad(why, "PROXY v2 header on a v1 listener");
		return bad(why, "not a PROXY v1 header");
	case 0:
		return PROXY_MORE;
	}
	start = p4 = p6 = pu = pos;
	r4 = match_literal(buf, len, &p4, "TCP4 ");
	r6 = match_literal(buf, len, &p6, "TCP6 ");
	ru = match_literal(buf, len, &pu, "UNKNOWN");
	if (ru == 1)
		return v1_unknown(buf, len, pu, out, why);
	if (r4 == 1) {
		out->family = AF_INET;
		pos = p4;
	} else if (r6 == 1) {
		out->family = AF_INET6;
		pos = p6;
	} else if (r4 == 0 || r6 == 0 || ru == 0)
		return PROXY_MORE;
	else
		return bad(why, start < len && buf[start] == ' ' ?
		    "double space" : "unknown protocol");

	for (i = 0; i < V1_FIELDS; i++) {
		start = pos;
		while (pos < len && buf[pos] != ' ' && buf[pos] != '\r')
			pos++;
		field = (const char *)buf + start;
		if (!v1_field_ok(field, pos - start, i, out->family, pos < len,
		    out)) {
			if (pos - start == 0 && pos < len)
				return bad(why, buf[pos] == ' ' ?
				    "double space" : "missing field");
			return bad(why, i < 2 ? "bad address" : "bad port");
		}
		if (pos == len)
			return PROXY_MORE;
		if (i < V1_FIELDS - 1 && buf[pos] != ' ')
			return bad(why, "missing field");
		if (i == V1_FIELDS - 1 && buf[pos] != '\r')
			return bad(why, "extra field");
		pos++;
	}
	return v1_line_end(buf, len, pos - 1, out, why);
}

static enum proxy_status
v1_parse(const uint8_t *buf, size_t len, struct proxy_header *out,
    const char **why)
{
	enum proxy_status	st;

	out->version = 1;
	st = v1_line(buf, len < PROXY_V1_MAX_BYTES ? len :
	    PROXY_V1_MAX_BYTES, out, why);
	/* The spec: no CRLF in the first 107 bytes is no header. */
	if (st == PROXY_MORE && len >= PROXY_V1_MAX_BYTES)
		return bad(why, "oversized");
	return st;
}

static uint32_t
crc32c_update(uint32_t crc, const uint8_t *p, size_t n)
{
	unsigned	k;

	while (n-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (CRC32C_POLY & (0u - (crc & 1)));
	}
	return crc;
}

/*
 * The CRC32c of the header buf[0..total) with the 4 bytes at crc_at read
 * as zeros equals the big-endian value there.
 */
static bool
v2_crc_ok(const uint8_t *buf, size_t total, size_t crc_at)
{
	static const uint8_t	zeros[V2_CRC_BYTES];
	uint32_t		crc = 0xffffffff, want;

	want = (uint32_t)buf[crc_at] << 24 | (uint32_t)buf[crc_at + 1] << 16 |
	    (uint32_t)buf[crc_at + 2] << 8 | buf[crc_at + 3];
	crc = crc32c_update(crc, buf, crc_at);
	crc = crc32c_update(crc, zeros, sizeof(zeros));
	crc = crc32c_update(crc, buf + crc_at + V2_CRC_BYTES,
	    total - crc_at - V2_CRC_BYTES);
	return (crc ^ 0xffffffff) == want;
}

/*
 * Bytes of the address block of a family/transport byte, for the
 * combinations the spec lists; -1 for any other.
 */
static int
v2_block_bytes(uint8_t fam)
{
	switch (fam) {
	case 0x00:
		return 0;
	case 0x11:
	case 0x12:
		return 2 * 4 + 2 * 2;
	case 0x21:
	case 0x22:
		return 2 * 16 + 2 * 2;
	case 0x31:
	case 0x32:
		return 2 * 108;
	}
	return -1;
}

/*
 * The TLVs in buf[pos..total), of which buf[0..have) arrived: each whole
 * inside total, a CRC32C one 4 bytes and alone.  *crc_at is where the CRC
 * value is, or 0.  Refuses what arrived as soon as it cannot fit.
 */
static enum proxy_status
v2_tlvs(const uint8_t *buf, size_t have, size_t pos, size_t total,
    size_t *crc_at, const char **why)
{
	size_t	vlen;

	*crc_at = 0;
	while (pos < total) {
		if (total - pos < V2_TLV_HEAD)
			return bad(why, "TLV overrun");
		if (have < pos + V2_TLV_HEAD)
			return PROXY_MORE;
		vlen = (size_t)buf[pos + 1] << 8 | buf[pos + 2];
		if (vlen > total - pos - V2_TLV_HEAD)
			return bad(why, "TLV overrun");
		if (buf[pos] == V2_TYPE_CRC32C) {
			if (vlen != V2_CRC_BYTES)
				return bad(why, "bad CRC32C TLV");
			if (*crc_at != 0)
				return bad(why, "duplicate CRC32C TLV");
			*crc_at = pos + V2_TLV_HEAD;
		}
		pos += V2_TLV_HEAD + vlen;
	}
	return have < total ? PROXY_MORE : PROXY_OK;
}

static enum proxy_status
v2_parse(const uint8_t *buf, size_t len, struct proxy_header *out,
    const char **why)
{
	enum proxy_status	st;
	size_t			total, crc_at, block;
	uint8_t			cmd, fam;
	int			n;

	out->version = 2;
	if (!prefix_match(buf, len, v2_sig, sizeof(v2_sig))) {
		if (prefix_match(buf, len, V1_TAG, 5))
			return bad(why, "PROXY v1 header on a v2 listener");
		return bad(why, "not a PROXY v2 header");
	}
	if (len <= V2_SIG_BYTES)
		return PROXY_MORE;
	if (buf[12] >> 4 != 2)
		return bad(why, "bad version");
	cmd = buf[12] & 0x0f;
	if (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY)
		return bad(why, "bad command");
	if (len <= 13)
		return PROXY_MORE;
	fam = buf[13];
	if ((n = v2_block_bytes(fam)) == -1)
		return bad(why, "bad family");
	/* hopd listens on TCP: UDP or UNIX sources make no sense. */
	if (cmd == V2_CMD_PROXY && fam != 0x00 && fam != V2_TCP4 &&
	    fam != V2_TCP6)
		return bad(why, "unsupported family");
	if (len < V2_FIXED_BYTES)
		return PROXY_MORE;
	total = V2_FIXED_BYTES + ((size_t)buf[14] << 8 | buf[15]);
	if (total > PROXY_V2_MAX_BYTES)
		return bad(why, "oversized");
	block = (size_t)n;
	if (total - V2_FIXED_BYTES < block) {
		/* A LOCAL header may omit the addresses the spec says it
		 * should not send. */
		if (cmd != V2_CMD_LOCAL || total != V2_FIXED_BYTES)
			return bad(why, "address block too short");
		block = 0;
	}
	st = v2_tlvs(buf, len < total ? len : total, V2_FIXED_BYTES + block,
	    total, &crc_at, why);
	if (st != PROXY_OK)
		return st;
	if (crc_at != 0 && !v2_crc_ok(buf, total, crc_at))
		return bad(why, "bad CRC32C");

	out->len = total;
	if (cmd == V2_CMD_LOCAL || fam == 0x00) {
		out->local = true;
		return PROXY_OK;
	}
	buf += V2_FIXED_BYTES;
	if (fam == V2_TCP4) {
		out->family = out->src.family = out->dst.family = AF_INET;
		memcpy(out->src.bytes, buf, 4);
		memcpy(out->dst.bytes, buf + 4, 4);
		buf += 8;
	} else {
		out->family = out->src.family = out->dst.family = AF_INET6;
		memcpy(out->src.bytes, buf, 16);
		memcpy(out->dst.bytes, buf + 16, 16);
		buf += 32;
	}
	out->src_port = (uint16_t)(buf[0] << 8 | buf[1]);
	out->dst_port = (uint16_t)(buf[2] << 8 | buf[3]);
	return PROXY_OK;
}

enum proxy_status
proxy_parse(const uint8_t *buf, size_t len, int version,
    struct proxy_header *out, const char **why)
{
	struct proxy_header	 h;
	enum proxy_status	 st;
	const char		*dummy;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	memset(&h, 0, sizeof(h));
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (out == NULL || (buf == NULL && len > 0))
		return bad(why, "no buffer");
	if (version != 1 && version != 2)
		return bad(why, "bad version");
	if (len == 0)
		st = PROXY_MORE;
	else if (version == 1)
		st = v1_parse(buf, len, &h, why);
	else
		st = v2_parse(buf, len, &h, why);
	if (st == PROXY_MORE)
		*why = "truncated";
	else if (st == PROXY_OK)
		*out = h;
	return st;
}
