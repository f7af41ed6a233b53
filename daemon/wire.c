/*
 * wire: see wire.h.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "wire.h"

void
wire_init(struct wire *w, const void *buf, size_t len)
{
	w->p = buf;
	w->len = buf != NULL ? len : 0;
	w->bad = false;
}

static int
wire_take(struct wire *w, size_t n, const uint8_t **p)
{
	if (w->bad || n > w->len) {
		w->bad = true;
		w->len = 0;
		return -1;
	}
	*p = w->p;
	w->p += n;
	w->len -= n;
	return 0;
}

int
wire_u8(struct wire *w, uint8_t *v)
{
	const uint8_t	*p;

	if (wire_take(w, 1, &p) == -1)
		return -1;
	*v = p[0];
	return 0;
}

int
wire_u32(struct wire *w, uint32_t *v)
{
	const uint8_t	*p;

	if (wire_take(w, 4, &p) == -1)
		return -1;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	return 0;
}

int
wire_u64(struct wire *w, uint64_t *v)
{
	uint32_t	hi, lo;

	if (wire_u32(w, &hi) == -1 || wire_u32(w, &lo) == -1)
		return -1;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
wire_string(struct wire *w, const uint8_t **p, size_t *len)
{
	uint32_t	n;

	if (wire_u32(w, &n) == -1 || wire_take(w, n, p) == -1)
		return -1;
	*len = n;
	return 0;
}

int
wire_sub(struct wire *w, struct wire *sub)
{
	const uint8_t	*p;
	size_t		 len;

	if (wire_string(w, &p, &len) == -1) {
		wire_init(sub, NULL, 0);
		sub->bad = true;
		return -1;
	}
	wire_init(sub, p, len);
	return 0;
}

int
wire_text(struct wire *w, char *buf, size_t max)
{
	const uint8_t	*p;
	size_t		 len;

	if (wire_string(w, &p, &len) == -1)
		return -1;
	if (len > max || memchr(p, '\0', len) != NULL) {
		w->bad = true;
		w->len = 0;
		return -1;
	}
	memcpy(buf, p, len);
	buf[len] = '\0';
	return 0;
}

bool
wire_done(const struct wire *w)
{
	return !w->bad && w->len == 0;
}

bool
wire_eq(const uint8_t *p, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(p, s, len) == 0;
}

int
wire_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int	n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 ||
	    n != 32)
		return -1;
	return 0;
}

int
wire_fingerprint(const void *blob, size_t len, char *buf, size_t buflen)
{
	uint8_t		hash[32];
	unsigned char	b64[4 * ((32 + 2) / 3) + 1];
	int		n;

	if (buflen > 0)
		buf[0] = '\0';
	if (buflen < WIRE_FP_LEN || wire_sha256(blob, len, hash) == -1)
		return -1;
	n = EVP_EncodeBlock(b64, hash, sizeof(hash));
	while (n > 0 && b64[n - 1] == '=')
		n--;
	b64[n] = '\0';
	memcpy(buf, "SHA256:", 7);
	memcpy(buf + 7, b64, (size_t)n + 1);
	return 0;
}

static int
wire_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

uint8_t *
wire_b64_decode(const char *s, size_t len, size_t *outlen)
{
	uint8_t		*out;
	uint32_t	 acc = 0;
	size_t		 i, n = 0, pad = 0;
	int		 v, bits = 0;

	/* Padding only at the end, at most two, and only to a multiple of 4. */
	while (pad < 2 && len > 0 && s[len - 1] == '=') {
		len--;
		pad++;
	}
	if (len % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0))
		return NULL;
	if ((out = malloc(len * 3 / 4 + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if ((v = wire_b64_value((unsigned char)s[i])) == -1)
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero (a canonical encoding). */
	if ((acc & ((1u << bits) - 1)) != 0)
		goto bad;
	*outlen = n;
	return out;
 bad:
	free(out);
	return NULL;
}
