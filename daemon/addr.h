/*
 * addr: strict parsing of hosts, IP addresses, CIDRs, ports and port sets,
 * name globs, and the special address ranges.  Pure: libc only, no I/O.
 */
#ifndef HOPD_ADDR_H
#define HOPD_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct addrinfo;
struct sockaddr;
struct sockaddr_storage;

#define ADDR_NAME_MAX	253	/* RFC 1035 presentation length, no root dot */
#define ADDR_TEXT_MAX	64	/* longest formatted IP, port and brackets */
#define PORT_SET_MAX	32	/* ranges in one port set */

struct ip_addr {
	int	family;		/* AF_INET or AF_INET6 */
	uint8_t	bytes[16];	/* network order; AF_INET uses bytes[0..3] */
};

enum host_kind {
	HOST_NAME,		/* DNS name, stored lowercased */
	HOST_IPV4,		/* dotted quad */
	HOST_IPV6		/* IPv6 literal, asked with or without brackets */
};

struct host {
	enum host_kind	kind;
	char		text[ADDR_NAME_MAX + 1];	/* name lowercased, or
							 * canonical address text
							 * (no brackets) */
	struct ip_addr	ip;				/* literals only */
};

struct port_range {
	uint16_t	lo, hi;		/* inclusive, 1 <= lo <= hi */
};

struct port_set {
	bool			any;	/* "*": 1-65535 */
	unsigned		n;
	struct port_range	r[PORT_SET_MAX];
};

enum addr_special {
	ADDR_ORDINARY = 0,
	ADDR_LOOPBACK,		/* 127/8, ::1 */
	ADDR_UNSPECIFIED,	/* 0/8, :: */
	ADDR_LINK_LOCAL,	/* 169.254/16 (incl. 169.254.169.254), fe80::/10 */
	ADDR_MULTICAST,		/* 224/4, ff00::/8 */
	ADDR_BROADCAST,		/* 255.255.255.255 */
	ADDR_RESERVED,		/* 240/4 (but broadcast) */
	ADDR_METADATA		/* cloud metadata outside 169.254/16:
				 * 100.100.100.200, 168.63.129.16,
				 * fd00:ec2::254, ::253, ::123 */
};

/*
 * A target host as a client asked for it.  Accepts a DNS name (RFC 1123
 * labels of 1-63 letters, digits and hyphens, not starting or ending with a
 * hyphen, total <= 253, one optional trailing dot dropped, not all-numeric
 * in its last label), a strict dotted-quad IPv4 (four decimal octets 0-255,
 * no leading zeros), or an IPv6 literal with or without brackets (no zone
 * id).  Integer, hex, octal and short IPv4 forms are refused.  Returns 0 or
 * -1; *why (if not NULL) gets a static reason on failure.
 */
int	addr_parse_host(const char *s, struct host *out, const char **why);

/* Decimal 1-65535, no sign, no leading zero, no junk. */
int	addr_parse_port(const char *s, uint16_t *out);

/* Strict dotted quad or IPv6 literal (brackets allowed around IPv6). */
int	addr_parse_ip(const char *s, struct ip_addr *out);

/*
 * "10.0.0.0/8", "[2001:db8::/32]", "[2001:db8::]/32", "2001:db8::/32", or a
 * plain address (prefix 32 or 128).  Host bits set beyond the prefix are an
 * error whose *why names the network meant; that one text lives in a
 * per-thread buffer rewritten by the next such error, so copy it before
 * calling again.
 */
int	addr_parse_cidr(const char *s, struct ip_addr *net, unsigned *prefix,
	    const char **why);

/*
 * "*", "22", "8000-8099", "22,443,8000-8099".  Reversed or empty ranges,
 * port 0, more than PORT_SET_MAX ranges: error.
 */
int	addr_parse_port_set(const char *s, struct port_set *out,
	    const char **why);
bool	port_set_contains(const struct port_set *set, uint16_t port);

bool	addr_equal(const struct ip_addr *a, const struct ip_addr *b);
bool	addr_cidr_contains(const struct ip_addr *net, unsigned prefix,
	    const struct ip_addr *a);

/*
 * The IPv4 address embedded in an IPv6 one: IPv4-mapped ::ffff:0:0/96,
 * IPv4-compatible ::/96 (but :: and ::1), NAT64 64:ff9b::/96, 6to4
 * 2002::/16.  Returns true and fills *v4, or false.
 */
bool	addr_embedded_v4(const struct ip_addr *a, struct ip_addr *v4);

/*
 * Normal form for deciding and connecting: an IPv4-mapped IPv6 address
 * becomes the IPv4 address the kernel would connect to; others unchanged.
 */
void	addr_normalize(struct ip_addr *a);

/* Special range of a (or of its embedded IPv4 address), with its prefix. */
enum addr_special addr_special(const struct ip_addr *a);
/* The CIDR of the special range containing a; false for ordinary ones. */
bool	addr_special_range(const struct ip_addr *a, struct ip_addr *net,
	    unsigned *prefix);
const char *addr_special_name(enum addr_special s);

/* "10.0.0.1" or "2001:db8::1" (no brackets).  Returns 0 or -1. */
int	addr_format(const struct ip_addr *a, char *buf, size_t len);
/* "10.0.0.1:22" or "[2001:db8::1]:22". */
int	addr_format_port(const struct ip_addr *a, uint16_t port, char *buf,
	    size_t len);
int	addr_from_sockaddr(const struct sockaddr *sa, struct ip_addr *out,
	    uint16_t *port);
/* a and port as a sockaddr_in or sockaddr_in6; returns its length. */
size_t	addr_to_sockaddr(const struct ip_addr *a, uint16_t port,
	    struct sockaddr_storage *ss);
/*
 * The addresses of a resolver answer, in its order, normalized
 * (addr_normalize) and without repeats, at most max.  Returns how many.
 */
size_t	addr_from_addrinfo(const struct addrinfo *res, struct ip_addr *out,
	    size_t max);

/*
 * Glob as in OpenSSH's match_pattern: '*' any run (dots included), '?' one
 * character, case-insensitive ASCII.  Bounded work whatever the input.
 */
bool	addr_glob_match(const char *pattern, const char *name);
/* A name pattern: RFC 1123 characters plus '*' and '?', <= 253 chars. */
bool	addr_valid_glob(const char *pattern);

#endif
