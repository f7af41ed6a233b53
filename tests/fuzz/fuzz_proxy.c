/*
 * libFuzzer target for proxy.c: the input is read as a PROXY v1 and as a
 * PROXY v2 header.  Whatever the answer, it must keep the promises of
 * proxy.h: a header is whole and within its cap, each of its beginnings
 * is MORE, what follows it does not change it, a refusal or a wait is
 * the same on a shorter input, and an accepted header written again
 * reads back the same.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proxy.h"

#define FUZZ_INPUT_MAX	4096

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any violation of a promise is a crash for libFuzzer to keep. */
#define PROMISE(cond)	do { if (!(cond)) __builtin_trap(); } while (0)

static const uint8_t	v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* The header h written again, without TLVs; its length. */
static size_t
rewrite(const struct proxy_header *h, uint8_t *buf, size_t len)
{
	char	src[ADDR_TEXT_MAX], dst[ADDR_TEXT_MAX];
	size_t	alen = h->family == AF_INET ? 4 : 16;
	int	n;

	if (h->version == 1) {
		if (h->local)
			n = snprintf((char *)buf, len, "PROXY UNKNOWN\r\n");
		else {
			PROMISE(addr_format(&h->src, src, sizeof(src)) == 0);
			PROMISE(addr_format(&h->dst, dst, sizeof(dst)) == 0);
			n = snprintf((char *)buf, len,
			    "PROXY %s %s %s %u %u\r\n",
			    h->family == AF_INET ? "TCP4" : "TCP6", src, dst,
			    h->src_port, h->dst_port);
		}
		PROMISE(n > 0 && (size_t)n < len);
		return (size_t)n;
	}
	memcpy(buf, v2_sig, sizeof(v2_sig));
	buf[12] = h->local ? 0x20 : 0x21;
	buf[13] = h->local ? 0x00 : h->family == AF_INET ? 0x11 : 0x21;
	buf[14] = 0;
	buf[15] = h->local ? 0 : (uint8_t)(2 * alen + 4);
	if (h->local)
		return 16;
	memcpy(buf + 16, h->src.bytes, alen);
	memcpy(buf + 16 + alen, h->dst.bytes, alen);
	buf[16 + 2 * alen] = (uint8_t)(h->src_port >> 8);
	buf[17 + 2 * alen] = (uint8_t)h->src_port;
	buf[18 + 2 * alen] = (uint8_t)(h->dst_port >> 8);
	buf[19 + 2 * alen] = (uint8_t)h->dst_port;
	return 20 + 2 * alen;
}

static void
check_header(const uint8_t *data, size_t size, int version,
    const struct proxy_header *h)
{
	struct proxy_header	 again;
	const char		*why;
	uint8_t			 buf[PROXY_MAX_BYTES];
	size_t			 k, n;

	PROMISE(h->version == version);
	PROMISE(h->len > 0 && h->len <= size);
	PROMISE(h->len <= (version == 1 ? PROXY_V1_MAX_BYTES :
	    PROXY_V2_MAX_BYTES));
	if (version == 1)
		PROMISE(h->len >= 15 && data[h->len - 2] == '\r' &&
		    data[h->len - 1] == '\n');
	else
		PROMISE(h->len >= 16 && h->len == 16 + ((size_t)data[14] << 8 |
		    data[15]));
	if (h->local)
		PROMISE(h->family == 0 && h->src.family == 0 &&
		    h->dst.family == 0 && h->src_port == 0 && h->dst_port == 0);
	else
		PROMISE((h->family == AF_INET || h->family == AF_INET6) &&
		    h->src.family == h->family && h->dst.family == h->family);

	/* The header alone reads the same; each beginning is MORE. */
	PROMISE(proxy_parse(data, h->len, version, &again, &why) == PROXY_OK);
	PROMISE(why == NULL && memcmp(&again, h, sizeof(again)) == 0);
	for (k = 0; k < h->len; k++)
		PROMISE(proxy_parse(data, k, version, &again, &why) ==
		    PROXY_MORE && strcmp(why, "truncated") == 0);

	/* Written again (TLVs and UNKNOWN's rest dropped), it reads back. */
	n = rewrite(h, buf, sizeof(buf));
	PROMISE(proxy_parse(buf, n, version, &again, &why) == PROXY_OK);
	PROMISE(again.len == n);
	again.len = h->len;
	PROMISE(memcmp(&again, h, sizeof(again)) == 0);
}

static void
check_version(const uint8_t *data, size_t size, int version)
{
	struct proxy_header	 h, shorter;
	const char		*why = NULL;
	enum proxy_status	 st;
	static const struct proxy_header zero;

	st = proxy_parse(data, size, version, &h, &why);
	switch (st) {
	case PROXY_OK:
		check_header(data, size, version, &h);
		return;
	case PROXY_MORE:
		PROMISE(size < (version == 1 ? PROXY_V1_MAX_BYTES :
		    PROXY_V2_MAX_BYTES));
		PROMISE(why != NULL && strcmp(why, "truncated") == 0);
		break;
	case PROXY_BAD:
		PROMISE(size > 0 && why != NULL && why[0] != '\0');
		break;
	default:
		PROMISE(0);
	}
	PROMISE(memcmp(&h, &zero, sizeof(h)) == 0);
	/* A beginning of a valid beginning is one; refusals do not wait. */
	if (size > 0) {
		enum proxy_status	 before;

		before = proxy_parse(data, size - 1, version, &shorter, &why);
		PROMISE(before != PROXY_OK);
		if (st == PROXY_MORE)
			PROMISE(before == PROXY_MORE);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_INPUT_MAX)
		return 0;
	check_version(data, size, 1);
	check_version(data, size, 2);
	return 0;
}
