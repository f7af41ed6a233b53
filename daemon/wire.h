/*
 * wire: strict readers for the SSH wire encoding (RFC 4251 §5: byte,
 * uint32, uint64, string) over a bounded buffer, and the digests and
 * base64 the key, certificate and KRL code share.  Pure: no I/O.
 *
 * A reader never reads past its end; once a read fails the reader is
 * spent (every later read fails too), so a parser may check once at the
 * end, but it must not use values from a failed read.
 */
#ifndef HOPD_WIRE_H
#define HOPD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wire {
	const uint8_t	*p;
	size_t		 len;		/* bytes left */
	bool		 bad;		/* a read failed */
};

/* SHA256:base64-without-padding, as ssh-keygen -l prints it. */
#define WIRE_FP_LEN	(7 + 43 + 1)

void	wire_init(struct wire *, const void *, size_t);
/* Each returns 0, or -1 (truncated; the reader is then spent). */
int	wire_u8(struct wire *, uint8_t *);
int	wire_u32(struct wire *, uint32_t *);
int	wire_u64(struct wire *, uint64_t *);
/* A string: *p points into the buffer, *len bytes (may be 0). */
int	wire_string(struct wire *, const uint8_t **, size_t *);
/* A string as a sub-reader (certificate options, KRL sections). */
int	wire_sub(struct wire *, struct wire *);
/*
 * A string that must be text: no NUL byte inside, at most max bytes.
 * Copied NUL-terminated into buf (max + 1 bytes).
 */
int	wire_text(struct wire *, char *buf, size_t max);
/* True when the reader read everything without a failure. */
bool	wire_done(const struct wire *);
/* Whether the string equals the C string s. */
bool	wire_eq(const uint8_t *, size_t, const char *s);

/* SHA-256 of data into out[32].  0 or -1. */
int	wire_sha256(const void *, size_t, uint8_t out[32]);
/* "SHA256:..." of a key blob into buf (WIRE_FP_LEN).  0 or -1. */
int	wire_fingerprint(const void *, size_t, char *buf, size_t len);
/*
 * Decodes standard base64 (RFC 4648, padding optional, no whitespace)
 * into a new buffer.  NULL when malformed or on memory exhaustion.
 */
uint8_t	*wire_b64_decode(const char *, size_t, size_t *outlen);

#endif
