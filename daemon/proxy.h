/*
 * proxy: a strict parser of HAProxy's PROXY protocol headers, version 1
 * (one text line) and version 2 (binary), as doc/proxy-protocol.txt
 * specifies them.  Pure: no I/O; made to be called again on each peek at
 * a new connection until it says OK or BAD.
 */
#ifndef HOPD_PROXY_H
#define HOPD_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define PROXY_V1_MAX_BYTES	107	/* the spec's worst UNKNOWN line, CRLF
					 * included */
#define PROXY_V2_MAX_BYTES	1024	/* 16-byte fixed part, address block
					 * and TLVs; longer is refused */
/* A buffer this long always holds a whole header of either version. */
#define PROXY_MAX_BYTES		PROXY_V2_MAX_BYTES

enum proxy_status {
	PROXY_MORE,		/* a valid beginning: peek again later */
	PROXY_OK,		/* a whole header of len bytes */
	PROXY_BAD		/* not a header: close the connection */
};

struct proxy_header {
	int		 version;	/* 1 or 2 */
	bool		 local;		/* v2 LOCAL, v2 PROXY with UNSPEC, v1
					 * UNKNOWN: use the real peer */
	int		 family;	/* AF_INET or AF_INET6 when !local */
	struct ip_addr	 src, dst;	/* as sent: an IPv4-mapped address
					 * stays AF_INET6 (addr_normalize) */
	uint16_t	 src_port, dst_port;
	size_t		 len;		/* bytes of the header, to consume */
};

/*
 * Reads the header of the given version (1 or 2: the one a listener
 * accepts; the other is refused) at the start of buf[0..len).
 *
 * PROXY_OK: *out holds the header, which is out->len <= len bytes; what
 * follows is the client's data.  PROXY_MORE: every byte so far begins a
 * valid header and fewer than the maximum were given (*why is
 * "truncated", for a caller that gives up waiting).  PROXY_BAD: *why is a
 * short static reason.  *out is filled on PROXY_OK only (zeroed
 * otherwise); why may be NULL.
 *
 * v1: "PROXY TCP4|TCP6 src dst sport dport\r\n" with single spaces,
 * addresses in the strict text of the family (dotted quads without
 * leading zeros; IPv6 without brackets or zone), ports 0-65535 without
 * leading zeros; or "PROXY UNKNOWN" then CRLF or a space and printable
 * ASCII up to CRLF.  At most PROXY_V1_MAX_BYTES.
 *
 * v2: signature, version 2, LOCAL or PROXY, one of the family/transport
 * bytes the spec lists (0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32; PROXY
 * accepts TCP over IPv4 or IPv6, and UNSPEC as local).  The address block
 * of the family must fit in the declared length (a LOCAL header may also
 * declare none at all); the rest must be whole TLVs; a CRC32C TLV must be
 * 4 bytes, alone and right.  At most PROXY_V2_MAX_BYTES.
 */
enum proxy_status proxy_parse(const uint8_t *buf, size_t len, int version,
	    struct proxy_header *out, const char **why);

#endif
