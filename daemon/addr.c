/*
 * addr: strict parsing of target hosts, IP addresses, CIDRs and port sets,
 * name globs, and the special address ranges policy.c must never reach by
 * accident.  Pure: libc only; IPv4 is parsed here, never by the resolver.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "addr.h"

#define IPV6_TEXT_MAX	45	/* longest IPv6 text, embedded IPv4 included */
#define WHY_MAX		128

/* The one dynamic *why: the network a CIDR with host bits set meant. */
static __thread char	why_buf[WHY_MAX];

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

static bool
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
to_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Decimal 0..max in s[0..len), no sign, no leading zero. */
static int
parse_decimal(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned	v = 0;
	size_t		i;

	if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* Four decimal octets 0-255, no leading zeros, nothing else. */
static int
parse_ipv4(const char *s, size_t len, uint8_t out[4])
{
	size_t		i = 0, start;
	unsigned	octet, n;

	for (n = 0; n < 4; n++) {
		if (n > 0) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
		start = i;
		while (i < len && is_digit((unsigned char)s[i]))
			i++;
		if (i - start > 3 ||
		    parse_decimal(s + start, i - start, 255, &octet) == -1)
			return -1;
		out[n] = (uint8_t)octet;
	}
	return i == len ? 0 : -1;
}

/* IPv6 text (no brackets, no zone id) in s[0..len). */
static int
parse_ipv6(const char *s, size_t len, uint8_t out[16])
{
	char	buf[IPV6_TEXT_MAX + 1];
	size_t	i;

	if (len == 0 || len > IPV6_TEXT_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if (!is_hex((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
			return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

static bool
has_char(const char *s, size_t len, char c)
{
	return memchr(s, c, len) != NULL;
}

/*
 * An address in s[0..len): a dotted quad, or IPv6 with or without
 * brackets.  *why says what went wrong.
 */
static int
parse_ip_span(const char *s, size_t len, struct ip_addr *out,
    const char **why)
{
	memset(out, 0, sizeof(*out));
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
		if (!has_char(s, len, ':')) {
			*why = "IPv4 addresses take no brackets, e.g. 10.0.0.1";
			return -1;
		}
	}
	if (has_char(s, len, '%')) {
		*why = "IPv6 zone ids are not allowed";
		return -1;
	}
	if (has_char(s, len, ':')) {
		if (parse_ipv6(s, len, out->bytes) == -1) {
			*why = "invalid IPv6 address, e.g. 2001:db8::1";
			return -1;
		}
		out->family = AF_INET6;
		return 0;
	}
	if (parse_ipv4(s, len, out->bytes) == -1) {
		*why = "invalid IPv4 address: four decimal octets like "
		    "10.0.0.1, no octal, hex, integer or short forms";
		return -1;
	}
	out->family = AF_INET;
	return 0;
}

/* A label that inet_aton(3) would read as a number: 123, 0x7f, 0X. */
static bool
label_numeric(const char *s, size_t len)
{
	size_t	i = 0;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (i = 2; i < len; i++)
			if (!is_hex((unsigned char)s[i]))
				return false;
		return true;
	}
	for (i = 0; i < len; i++)
		if (!is_digit((unsigned char)s[i]))
			return false;
	return true;
}

/* RFC 1123 name in s[0..len) (trailing dot already dropped). */
static int
check_name(const char *s, size_t len, const char **why)
{
	size_t	i, start = 0;

	if (len == 0) {
		*why = "empty host";
		return -1;
	}
	if (len > ADDR_NAME_MAX) {
		*why = "host name longer than 253 characters";
		return -1;
	}
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			unsigned char c = (unsigned char)s[i];

			if (!is_alpha(c) && !is_digit(c) && c != '-') {
				*why = "invalid character in host name: "
				    "letters, digits, '-' and '.' only";
				return -1;
			}
			continue;
		}
		if (i == start || i - start > 63) {
			*why = "host name labels are 1 to 63 characters";
			return -1;
		}
		if (s[start] == '-' || s[i - 1] == '-') {
			*why = "host name labels cannot begin or end with '-'";
			return -1;
		}
		if (i == len && label_numeric(s + start, i - start)) {
			*why = "numeric last label: neither a host name nor "
			    "a dotted-quad IPv4 address like 10.0.0.1";
			return -1;
		}
		start = i + 1;
	}
	return 0;
}

int
addr_parse_host(const char *s, struct host *out, const char **why)
{
	const char	*dummy;
	size_t		 len, i;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || out == NULL) {
		*why = "no host";
		return -1;
	}
	memset(out, 0, sizeof(*out));
	len = strnlen(s, ADDR_NAME_MAX + 2);
	if (len == 0) {
		*why = "empty host";
		return -1;
	}
	if (len > ADDR_NAME_MAX + 1) {
		*why = "host name longer than 253 characters";
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f) {
			*why = "invalid character in host: control, space "
			    "or non-ASCII byte";
			return -1;
		}
	}
	if (has_char(s, len, '%')) {
		*why = "IPv6 zone ids are not allowed";
		return -1;
	}
	if (s[0] == '[' || has_char(s, len, ':')) {
		if (s[0] == '[' && (len < 2 || s[len - 1] != ']')) {
			*why = "unbalanced brackets around IPv6 address";
			return -1;
		}
		if (parse_ip_span(s, len, &out->ip, why) == -1)
			return -1;
		out->kind = HOST_IPV6;
		return addr_format(&out->ip, out->text, sizeof(out->text));
	}
	if (strspn(s, "0123456789.") == len) {
		if (parse_ip_span(s, len, &out->ip, why) == -1)
			return -1;
		out->kind = HOST_IPV4;
		return addr_format(&out->ip, out->text, sizeof(out->text));
	}
	if (s[len - 1] == '.')
		len--;
	if (check_name(s, len, why) == -1)
		return -1;
	for (i = 0; i < len; i++)
		out->text[i] = (char)to_lower((unsigned char)s[i]);
	out->text[len] = '\0';
	out->kind = HOST_NAME;
	return 0;
}

int
addr_parse_port(const char *s, uint16_t *out)
{
	unsigned	v;

	if (s == NULL || parse_decimal(s, strnlen(s, 6), 65535, &v) == -1 ||
	    v == 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int
addr_parse_ip(const char *s, struct ip_addr *out)
{
	const char	*why;
	struct ip_addr	 ip;
	size_t		 len;

	if (s == NULL)
		return -1;
	len = strnlen(s, IPV6_TEXT_MAX + 3);
	if (len == 0 || len > IPV6_TEXT_MAX + 2 ||
	    parse_ip_span(s, len, &ip, &why) == -1)
		return -1;
	*out = ip;
	return 0;
}

static unsigned
addr_bits(const struct ip_addr *a)
{
	return a->family == AF_INET ? 32 : 128;
}

/* Clears the bits of a beyond prefix; true if any was set. */
static bool
mask_host_bits(struct ip_addr *a, unsigned prefix)
{
	unsigned	i, nbytes = addr_bits(a) / 8;
	bool		set = false;
	uint8_t		keep;

	for (i = 0; i < nbytes; i++) {
		if (prefix >= (i + 1) * 8)
			continue;
		keep = prefix <= i * 8 ? 0 :
		    (uint8_t)(0xff << (8 - (prefix - i * 8)));
		if (a->bytes[i] & ~keep)
			set = true;
		a->bytes[i] &= keep;
	}
	return set;
}

int
addr_parse_cidr(const char *s, struct ip_addr *net, unsigned *prefix,
    const char **why)
{
	const char	*dummy, *ip, *slash, *close, *pfx = NULL;
	char		 text[ADDR_TEXT_MAX];
	struct ip_addr	 a, masked;
	size_t		 len, iplen, pfxlen = 0;
	unsigned	 bits;

	if (why == NULL)
		why = &dummy;
	if (s == NULL || (len = strnlen(s, ADDR_TEXT_MAX)) == 0) {
		*why = "empty address";
		return -1;
	}
	if (len >= ADDR_TEXT_MAX) {
		*why = "address too long";
		return -1;
	}
	ip = s;
	iplen = len;
	if (s[0] == '[') {
		/* "[2001:db8::/32]", "[2001:db8::]/32" or "[2001:db8::1]" */
		if ((close = memchr(s, ']', len)) == NULL) {
			*why = "missing ']' after IPv6 address";
			return -1;
		}
		ip = s + 1;
		iplen = (size_t)(close - ip);
		if (close[1] == '/') {
			pfx = close + 2;
			pfxlen = len - (size_t)(pfx - s);
		} else if (close[1] != '\0') {
			*why = "junk after ']'";
			return -1;
		} else if ((slash = memchr(ip, '/', iplen)) != NULL) {
			pfx = slash + 1;
			pfxlen = (size_t)(close - pfx);
			iplen = (size_t)(slash - ip);
		}
		if (!has_char(ip, iplen, ':')) {
			*why = "IPv4 addresses take no brackets, e.g. "
			    "10.0.0.0/8";
			return -1;
		}
	} else if ((slash = memchr(s, '/', len)) != NULL) {
		pfx = slash + 1;
		pfxlen = len - (size_t)(pfx - s);
		iplen = (size_t)(slash - s);
	}
	if (parse_ip_span(ip, iplen, &a, why) == -1)
		return -1;
	bits = addr_bits(&a);
	if (pfx == NULL)
		*prefix = bits;
	else if (parse_decimal(pfx, pfxlen, bits, prefix) == -1) {
		*why = a.family == AF_INET ?
		    "invalid prefix length: /0 to /32 for IPv4" :
		    "invalid prefix length: /0 to /128 for IPv6";
		return -1;
	}
	masked = a;
	if (mask_host_bits(&masked, *prefix)) {
		if (addr_format(&masked, text, sizeof(text)) == -1)
			*why = "host bits set beyond the prefix length";
		else {
			snprintf(why_buf, sizeof(why_buf),
			    masked.family == AF_INET ?
			    "host bits set beyond the prefix length; "
			    "the network is %s/%u" :
			    "host bits set beyond the prefix length; "
			    "the network is [%s/%u]",
			    text, *prefix);
			*why = why_buf;
		}
		return -1;
	}
	*net = a;
	return 0;
}

int
addr_parse_port_set(const char *s, struct port_set *out, const char **why)
{
	const char	*dummy, *item, *end, *dash;
	unsigned	 lo, hi;
	size_t		 len;

	if (why == NULL)
		why = &dummy;
	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0') {
		*why = "empty port set: expected *, 22, 8000-8099 or "
		    "22,443,8000-8099";
		return -1;
	}
	if (strcmp(s, "*") == 0) {
		out->any = true;
		return 0;
	}
	for (item = s;; item = end + 1) {
		end = strchr(item, ',');
		len = end == NULL ? strlen(item) : (size_t)(end - item);
		if (len == 0) {
			*why = "empty item in port set: expected 22,443 or "
			    "8000-8099 (no spaces)";
			return -1;
		}
		if (out->n == PORT_SET_MAX) {
			*why = "more than 32 items in a port set";
			return -1;
		}
		dash = memchr(item, '-', len);
		if (dash == NULL) {
			if (parse_decimal(item, len, 65535, &lo) == -1 ||
			    lo == 0)
				goto bad_port;
			hi = lo;
		} else {
			if (parse_decimal(item, (size_t)(dash - item), 65535,
			    &lo) == -1 || lo == 0 ||
			    parse_decimal(dash + 1,
			    len - (size_t)(dash - item) - 1, 65535, &hi) == -1)
				goto bad_port;
			if (hi < lo) {
				*why = "reversed port range: write LOW-HIGH, "
				    "e.g. 8000-8099";
				return -1;
			}
		}
		out->r[out->n].lo = (uint16_t)lo;
		out->r[out->n].hi = (uint16_t)hi;
		out->n++;
		if (end == NULL)
			return 0;
	}

bad_port:
	*why = "invalid port: ports are 1 to 65535, e.g. *, 22, 8000-8099 "
	    "or 22,443";
	memset(out, 0, sizeof(*out));
	return -1;
}

bool
port_set_contains(const struct port_set *set, uint16_t port)
{
	unsigned	i;

	if (set == NULL || port == 0)
		return false;
	if (set->any)
		return true;
	for (i = 0; i < set->n && i < PORT_SET_MAX; i++)
		if (port >= set->r[i].lo && port <= set->r[i].hi)
			return true;
	return false;
}

bool
addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family ||
	    (a->family != AF_INET && a->family != AF_INET6))
		return false;
	return memcmp(a->bytes, b->bytes, addr_bits(a) / 8) == 0;
}

bool
addr_cidr_contains(const struct ip_addr *net, unsigned prefix,
    const struct ip_addr *a)
{
	struct ip_addr	masked;

	if (net->family != a->family ||
	    (a->family != AF_INET && a->family != AF_INET6) ||
	    prefix > addr_bits(a))
		return false;
	masked = *a;
	mask_host_bits(&masked, prefix);
	return addr_equal(&masked, net);
}

static const uint8_t	mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};
static const uint8_t	nat64_prefix[12] = {
	0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0
};
static const uint8_t	zero12[12];

/* Offset (bits) of the IPv4 address embedded in a, or -1. */
static int
embedded_v4_offset(const struct ip_addr *a)
{
	const uint8_t	*b = a->bytes;

	if (a->family != AF_INET6)
		return -1;
	if (memcmp(b, mapped_prefix, 12) == 0 ||
	    memcmp(b, nat64_prefix, 12) == 0)
		return 96;
	if (memcmp(b, zero12, 12) == 0) {
		/* ::/128 and ::1/128 are IPv6's own, not IPv4-compatible. */
		if (b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1)
			return -1;
		return 96;
	}
	if (b[0] == 0x20 && b[1] == 0x02)
		return 16;
	return -1;
}

bool
addr_embedded_v4(const struct ip_addr *a, struct ip_addr *v4)
{
	int	off = embedded_v4_offset(a);

	if (off == -1)
		return false;
	memset(v4, 0, sizeof(*v4));
	v4->family = AF_INET;
	memcpy(v4->bytes, a->bytes + off / 8, 4);
	return true;
}

void
addr_normalize(struct ip_addr *a)
{
	uint8_t	v4[4];

	if (a->family != AF_INET6 || memcmp(a->bytes, mapped_prefix, 12) != 0)
		return;
	memcpy(v4, a->bytes + 12, 4);
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	memcpy(a->bytes, v4, 4);
}

struct special_range {
	uint8_t			bytes[16];
	unsigned		prefix;
	enum addr_special	kind;
};

/*
 * First match wins: broadcast before the reserved 240/4 around it.  The
 * cloud metadata addresses are those the providers publish outside
 * 169.254/16 (which is link-local already): one address each, so only a
 * rule naming that very address unlocks it.  hopd.ini(5) lists them all.
 */
static const struct special_range	special_v4[] = {
	{ { 127 }, 8, ADDR_LOOPBACK },
	{ { 0 }, 8, ADDR_UNSPECIFIED },
	{ { 169, 254 }, 16, ADDR_LINK_LOCAL },
	{ { 224 }, 4, ADDR_MULTICAST },
	{ { 255, 255, 255, 255 }, 32, ADDR_BROADCAST },
	{ { 240 }, 4, ADDR_RESERVED },
	/* Alibaba Cloud metadata service. */
	{ { 100, 100, 100, 200 }, 32, ADDR_METADATA },
	/* Azure WireServer, the host's agent and DNS endpoint. */
	{ { 168, 63, 129, 16 }, 32, ADDR_METADATA },
};

static const struct special_range	special_v6[] = {
	{ { 0 }, 128, ADDR_UNSPECIFIED },
	{ { [15] = 1 }, 128, ADDR_LOOPBACK },
	{ { 0xfe, 0x80 }, 10, ADDR_LINK_LOCAL },
	{ { 0xff }, 8, ADDR_MULTICAST },
	/* AWS over IPv6: IMDS, the Route 53 resolver, time sync. */
	{ { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54 }, 128,
	    ADDR_METADATA },
	{ { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x53 }, 128,
	    ADDR_METADATA },
	{ { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x01, [15] = 0x23 }, 128,
	    ADDR_METADATA },
};

static const struct special_range *
special_lookup(const struct ip_addr *a)
{
	const struct special_range	*t;
	struct ip_addr			 net;
	size_t				 i, n;

	if (a->family == AF_INET) {
		t = special_v4;
		n = sizeof(special_v4) / sizeof(special_v4[0]);
	} else if (a->family == AF_INET6) {
		t = special_v6;
		n = sizeof(special_v6) / sizeof(special_v6[0]);
	} else
		return NULL;
	for (i = 0; i < n; i++) {
		net.family = a->family;
		memcpy(net.bytes, t[i].bytes, sizeof(net.bytes));
		if (addr_cidr_contains(&net, t[i].prefix, a))
			return &t[i];
	}
	return NULL;
}

bool
addr_special_range(const struct ip_addr *a, struct ip_addr *net,
    unsigned *prefix)
{
	const struct special_range	*r;
	struct ip_addr			 v4;
	int				 off;

	if (a == NULL)
		return false;
	if ((r = special_lookup(a)) != NULL) {
		*prefix = r->prefix;
	} else {
		/*
		 * An IPv6 form of a special IPv4 address: its range is the
		 * IPv4 range seen through the same embedding, e.g.
		 * 64:ff9b::7f00:0/104 for NAT64 loopback.
		 */
		if ((off = embedded_v4_offset(a)) == -1 ||
		    !addr_embedded_v4(a, &v4) ||
		    (r = special_lookup(&v4)) == NULL)
			return false;
		*prefix = (unsigned)off + r->prefix;
	}
	*net = *a;
	mask_host_bits(net, *prefix);
	return true;
}

enum addr_special
addr_special(const struct ip_addr *a)
{
	const struct special_range	*r;
	struct ip_addr			 v4;

	if (a == NULL)
		return ADDR_ORDINARY;
	if ((r = special_lookup(a)) != NULL)
		return r->kind;
	if (addr_embedded_v4(a, &v4) && (r = special_lookup(&v4)) != NULL)
		return r->kind;
	return ADDR_ORDINARY;
}

const char *
addr_special_name(enum addr_special s)
{
	switch (s) {
	case ADDR_ORDINARY:
		return "ordinary";
	case ADDR_LOOPBACK:
		return "loopback";
	case ADDR_UNSPECIFIED:
		return "unspecified";
	case ADDR_LINK_LOCAL:
		return "link-local";
	case ADDR_MULTICAST:
		return "multicast";
	case ADDR_BROADCAST:
		return "broadcast";
	case ADDR_RESERVED:
		return "reserved";
	case ADDR_METADATA:
		return "cloud metadata";
	}
	return "unknown";
}

/* RFC 5952 text: lowercase, longest zero run (>= 2 groups) as "::". */
static int
format_ipv6(const uint8_t b[16], char *buf, size_t len)
{
	unsigned	g[8], i, best = 8, bestlen = 0, run;
	size_t		off = 0;
	int		n;

	for (i = 0; i < 8; i++)
		g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	for (i = 0; i < 8; i += run ? run : 1) {
		for (run = 0; i + run < 8 && g[i + run] == 0; run++)
			;
		if (run >= 2 && run > bestlen) {
			best = i;
			bestlen = run;
		}
	}
	if (memcmp(b, mapped_prefix, 12) == 0) {
		n = snprintf(buf, len, "::ffff:%u.%u.%u.%u", b[12], b[13],
		    b[14], b[15]);
		return n < 0 || (size_t)n >= len ? -1 : 0;
	}
	if (len == 0)
		return -1;
	buf[0] = '\0';
	for (i = 0; i < 8; i++) {
		if (i == best) {
			n = snprintf(buf + off, len - off, "::");
			i += bestlen - 1;
		} else
			n = snprintf(buf + off, len - off, "%s%x",
			    i == 0 || i == best + bestlen ? "" : ":", g[i]);
		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int
addr_format(const struct ip_addr *a, char *buf, size_t len)
{
	int	n;

	if (a == NULL || buf == NULL || len == 0)
		return -1;
	if (a->family == AF_INET) {
		n = snprintf(buf, len, "%u.%u.%u.%u", a->bytes[0],
		    a->bytes[1], a->bytes[2], a->bytes[3]);
		return n < 0 || (size_t)n >= len ? -1 : 0;
	}
	if (a->family == AF_INET6)
		return format_ipv6(a->bytes, buf, len);
	buf[0] = '\0';
	return -1;
}

int
addr_format_port(const struct ip_addr *a, uint16_t port, char *buf,
    size_t len)
{
	char	text[ADDR_TEXT_MAX];
	int	n;

	if (addr_format(a, text, sizeof(text)) == -1)
		return -1;
	n = snprintf(buf, len, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	    text, (unsigned)port);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
addr_from_sockaddr(const struct sockaddr *sa, struct ip_addr *out,
    uint16_t *port)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	uint16_t			 p;

	if (sa == NULL || out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		out->family = AF_INET;
		memcpy(out->bytes, &sin->sin_addr, 4);
		p = ntohs(sin->sin_port);
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		out->family = AF_INET6;
		memcpy(out->bytes, &sin6->sin6_addr, 16);
		p = ntohs(sin6->sin6_port);
		break;
	default:
		return -1;
	}
	if (port != NULL)
		*port = p;
	return 0;
}

size_t
addr_to_sockaddr(const struct ip_addr *a, uint16_t port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a->bytes, 16);
	return sizeof(*sin6);
}

size_t
addr_from_addrinfo(const struct addrinfo *res, struct ip_addr *out,
    size_t max)
{
	const struct addrinfo	*ai;
	struct ip_addr		 a;
	size_t			 i, n = 0;

	for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
		if (addr_from_sockaddr(ai->ai_addr, &a, NULL) == -1)
			continue;
		addr_normalize(&a);
		for (i = 0; i < n; i++)
			if (addr_equal(&out[i], &a))
				break;
		if (i == n)
			out[n++] = a;
	}
	return n;
}

/*
 * Iterative: on a mismatch, go back to just after the last '*' and let it
 * swallow one more character.  Earlier stars never need revisiting, so the
 * work is at most strlen(pattern) * strlen(name).
 */
bool
addr_glob_match(const char *pattern, const char *name)
{
	const char	*p = pattern, *n = name, *star = NULL, *mark = NULL;

	if (pattern == NULL || name == NULL)
		return false;
	while (*n != '\0') {
		if (*p == '*') {
			star = ++p;
			mark = n;
		} else if (*p != '\0' && (*p == '?' ||
		    to_lower((unsigned char)*p) ==
		    to_lower((unsigned char)*n))) {
			p++;
			n++;
		} else if (star != NULL) {
			p = star;
			n = ++mark;
		} else
			return false;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

bool
addr_valid_glob(const char *pattern)
{
	size_t	i, len;

	if (pattern == NULL)
		return false;
	len = strnlen(pattern, ADDR_NAME_MAX + 1);
	if (len == 0 || len > ADDR_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)pattern[i];

		if (c == '.') {
			/* No empty labels: ".a", "a..b", "a." never match. */
			if (i == 0 || i == len - 1 || pattern[i + 1] == '.')
				return false;
		} else if (!is_alpha(c) && !is_digit(c) && c != '-' &&
		    c != '*' && c != '?')
			return false;
	}
	return true;
}
