/*
 * krl: parses OpenSSH's revoked-keys file (a binary KRL or a list of
 * public keys) into sorted arrays, and answers sshd's revocation questions
 * from them.  The rules are OpenSSH's (krl.c, authfile.c of 9.2 and 10.0);
 * the keys it reads (CAs, a list's lines) are read by cert.c, as every key
 * in hopd is.  Where OpenSSH's rules differ or cannot be followed, the
 * stricter choice is made and said where it is made.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cert.h"
#include "krl.h"
#include "wire.h"

#define KRL_MAGIC		"SSHKRL\n\0"
#define KRL_MAGIC_LEN		8
#define KRL_FORMAT_VERSION	1

#define SECTION_CERTIFICATES	1
#define SECTION_EXPLICIT_KEY	2
#define SECTION_SHA1		3
#define SECTION_SIGNATURE	4
#define SECTION_SHA256		5
#define SECTION_EXTENSION	255

/* Subsections of a certificates section. */
#define SUB_SERIAL_LIST		0x20
#define SUB_SERIAL_RANGE	0x21
#define SUB_SERIAL_BITMAP	0x22
#define SUB_KEY_ID		0x23
#define SUB_EXTENSION		0x39

#define SHA1_BYTES		20
#define SHA256_BYTES		32

/* sshbuf's limit on a bignum, which a serial bitmap is read as. */
#define BITMAP_MAX_BYTES	(16384 / 8)

/* Longer than any key type name, certificate or not. */
#define KEY_TYPE_NAME_MAX	64

#define ARENA_CHUNK_BYTES	(64 * 1024)

/* Bytes inside the KRL's copy of the file or the arena. */
struct bytes {
	const uint8_t	*p;
	size_t		 len;
};

struct range {
	uint64_t	 lo, hi;
};

/* Bit i of the big-endian number bits revokes serial offset + i. */
struct bitmap {
	uint64_t	 offset;
	uint64_t	 last;		/* offset + highest set bit */
	uint64_t	 reach;		/* max last up to this one */
	const uint8_t	*bits;
	size_t		 len;
};

struct krl_ca {
	struct bytes	 key;		/* canonical; len 0: any CA */
	struct range	*ranges;
	size_t		 nranges, cranges;
	struct bitmap	*bitmaps;
	size_t		 nbitmaps, cbitmaps;
	struct bytes	*ids;
	size_t		 nids, cids;
};

struct chunk {
	struct chunk	*next;
	size_t		 used, size;
	uint8_t		 data[];
};

struct krl {
	bool		 is_list;
	uint64_t	 version;
	uint8_t		*data;		/* copy of a KRL file */
	struct chunk	*arena;		/* CA keys, a list's keys */
	size_t		 nentries;
	struct bytes	*keys;		/* explicit, or a list's */
	size_t		 nkeys, ckeys;
	struct bytes	*sha1s;
	size_t		 nsha1s, csha1s;
	struct bytes	*sha256s;
	size_t		 nsha256s, csha256s;
	struct krl_ca	*cas;		/* sorted: the any-CA first */
	size_t		 ncas, ccas;
};

/*
 * The security key types, which sshd reads and hopd never accepts
 * (cert.c refuses them).  A CA or a list line of one is kept, unread, as
 * the bytes it holds, which can equal no key hopd looks up, rather than
 * refusing a file sshd reads.
 */
static const struct sk_type {
	const char	*name;
	bool		 cert;
} sk_types[] = {
	{ "sk-ecdsa-sha2-nistp256@openssh.com", false },
	{ "sk-ssh-ed25519@openssh.com", false },
	{ "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", true },
	{ "sk-ssh-ed25519-cert-v01@openssh.com", true },
};

struct parse {
	struct krl	*krl;
	const uint8_t	*base;
	size_t		 off;		/* of the section (KRL) */
	size_t		 line;		/* list */
	char		*err;
	size_t		 errlen;
};

static void fail(struct parse *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(struct parse *ps, const char *fmt, ...)
{
	char	msg[160];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->err == NULL || ps->errlen == 0)
		return;
	if (ps->krl != NULL && ps->krl->is_list)
		snprintf(ps->err, ps->errlen, "line %zu: %s", ps->line, msg);
	else
		snprintf(ps->err, ps->errlen, "KRL offset %zu: %s", ps->off,
		    msg);
}

static int
bytes_cmp(const void *va, const void *vb)
{
	const struct bytes	*a = va, *b = vb;
	size_t			 n = a->len < b->len ? a->len : b->len;
	int			 r;

	if (n > 0 && (r = memcmp(a->p, b->p, n)) != 0)
		return r;
	return a->len < b->len ? -1 : a->len > b->len;
}

static int
range_cmp(const void *va, const void *vb)
{
	const struct range	*a = va, *b = vb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->hi < b->hi ? -1 : a->hi > b->hi;
}

static int
bitmap_cmp(const void *va, const void *vb)
{
	const struct bitmap	*a = va, *b = vb;

	return a->offset < b->offset ? -1 : a->offset > b->offset;
}

static int
ca_cmp(const void *va, const void *vb)
{
	const struct krl_ca	*a = va, *b = vb;

	return bytes_cmp(&a->key, &b->key);
}

/* Room for one more element in *arr (n used, *cap allocated). */
static int
grow(void *arrp, size_t *cap, size_t n, size_t size)
{
	void	**arr = arrp, *p;
	size_t	  ncap;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? 16 : *cap * 2;
	if ((p = reallocarray(*arr, ncap, size)) == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

static int
count_entry(struct parse *ps)
{
	if (ps->krl->nentries >= KRL_ENTRIES_MAX) {
		fail(ps, "more than %d entries", KRL_ENTRIES_MAX);
		return -1;
	}
	ps->krl->nentries++;
	return 0;
}

static int
add_bytes(struct parse *ps, struct bytes **arr, size_t *n, size_t *cap,
    const uint8_t *p, size_t len)
{
	if (count_entry(ps) == -1)
		return -1;
	if (grow(arr, cap, *n, sizeof(**arr)) == -1) {
		fail(ps, "out of memory");
		return -1;
	}
	(*arr)[*n].p = p;
	(*arr)[(*n)++].len = len;
	return 0;
}

/* A copy of len bytes in the arena, which lives as long as the KRL. */
static int
arena_copy(struct parse *ps, const uint8_t *p, size_t len, struct bytes *out)
{
	struct krl	*krl = ps->krl;
	struct chunk	*c = krl->arena;
	size_t		 size;

	if (c == NULL || c->size - c->used < len) {
		size = len > ARENA_CHUNK_BYTES ? len : ARENA_CHUNK_BYTES;
		if ((c = malloc(sizeof(*c) + size)) == NULL) {
			fail(ps, "out of memory");
			return -1;
		}
		c->used = 0;
		c->size = size;
		c->next = krl->arena;
		krl->arena = c;
	}
	if (len > 0)
		memcpy(c->data + c->used, p, len);
	out->p = c->data + c->used;
	out->len = len;
	c->used += len;
	return 0;
}

/*
 * A string read as sshbuf_get_cstring does: no NUL inside, but one NUL at
 * its very end is allowed (and is not part of the text).
 */
static int
read_cstring(struct wire *w, const uint8_t **p, size_t *len)
{
	const uint8_t	*z;

	if (wire_string(w, p, len) == -1)
		return -1;
	if (*len > 0 && (z = memchr(*p, '\0', *len)) != NULL) {
		if (z != *p + *len - 1) {
			w->bad = true;
			w->len = 0;
			return -1;
		}
		(*len)--;
	}
	return 0;
}

/* A key blob's type name: its first string.  0 or -1. */
static int
blob_type(const uint8_t *blob, size_t len, const uint8_t **name,
    size_t *namelen)
{
	struct wire	w;

	wire_init(&w, blob, len);
	return wire_string(&w, name, namelen);
}

/*
 * Whether a key blob's type name is a certificate's (cert_type_name()),
 * which cert_parse() rather than pubkey_parse() reads.  A blob too short
 * to have a name, or with one longer than any type's, is not.
 */
static bool
blob_is_cert(const uint8_t *blob, size_t len)
{
	const uint8_t	*name;
	size_t		 namelen;
	char		 buf[KEY_TYPE_NAME_MAX + 1];

	if (blob_type(blob, len, &name, &namelen) == -1 ||
	    namelen > KEY_TYPE_NAME_MAX || memchr(name, '\0', namelen) != NULL)
		return false;
	memcpy(buf, name, namelen);
	buf[namelen] = '\0';
	return cert_type_name(buf);
}

/*
 * Whether a key blob is of a security key type, or (cert_too) of the
 * certificate type of one.
 */
static bool
blob_is_sk(const uint8_t *blob, size_t len, bool cert_too)
{
	const uint8_t	*name;
	size_t		 namelen, i;

	if (blob_type(blob, len, &name, &namelen) == -1)
		return false;
	for (i = 0; i < sizeof(sk_types) / sizeof(sk_types[0]); i++)
		if (wire_eq(name, namelen, sk_types[i].name))
			return !sk_types[i].cert || cert_too;
	return false;
}

/* An extension section: name, critical, contents; only optional ones. */
static int
parse_extension(struct parse *ps, struct wire *w)
{
	const uint8_t	*name, *p;
	size_t		 namelen, len;
	uint8_t		 critical;

	if (read_cstring(w, &name, &namelen) == -1 ||
	    wire_u8(w, &critical) == -1 || wire_string(w, &p, &len) == -1 ||
	    !wire_done(w)) {
		fail(ps, "malformed extension");
		return -1;
	}
	/* As OpenSSH 10 (9.2 refused them all): none is known. */
	if (critical != 0) {
		fail(ps, "unsupported critical extension \"%.*s\"",
		    namelen > 64 ? 64 : (int)namelen, (const char *)name);
		return -1;
	}
	return 0;
}

static int
add_range(struct parse *ps, struct krl_ca *ca, uint64_t lo, uint64_t hi)
{
	/* ssh_krl_revoke_cert_by_serial_range() refuses these. */
	if (lo == 0) {
		fail(ps, "serial 0 revoked");
		return -1;
	}
	if (lo > hi) {
		fail(ps, "serial range %llu-%llu reversed",
		    (unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	if (count_entry(ps) == -1)
		return -1;
	if (grow(&ca->ranges, &ca->cranges, ca->nranges,
	    sizeof(*ca->ranges)) == -1) {
		fail(ps, "out of memory");
		return -1;
	}
	ca->ranges[ca->nranges].lo = lo;
	ca->ranges[ca->nranges++].hi = hi;
	return 0;
}

static int
add_bitmap(struct parse *ps, struct krl_ca *ca, struct wire *w)
{
	struct bitmap	*b;
	const uint8_t	*p;
	size_t		 len;
	uint64_t	 offset, high;
	unsigned	 top;

	if (wire_u64(w, &offset) == -1 || wire_string(w, &p, &len) == -1) {
		fail(ps, "truncated serial bitmap");
		return -1;
	}
	/*
	 * A bignum, as sshbuf_get_bignum2_bytes_direct reads it: not
	 * negative, at most 16384 bits, leading zeros dropped.
	 */
	if (len > 0 && (p[0] & 0x80) != 0) {
		fail(ps, "serial bitmap: negative number");
		return -1;
	}
	if (len > BITMAP_MAX_BYTES + 1 ||
	    (len == BITMAP_MAX_BYTES + 1 && p[0] != 0)) {
		fail(ps, "serial bitmap: number too large");
		return -1;
	}
	while (len > 0 && p[0] == 0) {
		p++;
		len--;
	}
	if (len == 0)
		return 0;
	/* The highest set bit. */
	for (high = 8 * (uint64_t)(len - 1), top = p[0]; top > 1; top >>= 1)
		high++;
	if (offset == 0 && (p[len - 1] & 1) != 0) {
		fail(ps, "serial 0 revoked");
		return -1;
	}
	if (offset != 0 && high > UINT64_MAX - offset) {
		fail(ps, "serial bitmap wraps");
		return -1;
	}
	if (count_entry(ps) == -1)
		return -1;
	if (grow(&ca->bitmaps, &ca->cbitmaps, ca->nbitmaps,
	    sizeof(*ca->bitmaps)) == -1) {
		fail(ps, "out of memory");
		return -1;
	}
	b = &ca->bitmaps[ca->nbitmaps++];
	b->offset = offset;
	b->last = offset + high;
	b->reach = b->last;
	b->bits = p;
	b->len = len;
	return 0;
}

/*
 * The CA of a certificates section, by pubkey_parse(): its canonical blob
 * into the arena (a security key's bytes, unread).  A key it refuses
 * refuses the KRL, as sshd refuses one it cannot read (OpenSSH 10 a DSA
 * key, which 9.2 read); sshd would take a certificate, which can never
 * equal a certificate's signing key: refused too.
 */
static int
read_ca_key(struct parse *ps, const uint8_t *blob, size_t len,
    struct bytes *key)
{
	struct pubkey	pk;
	char		why[128];
	int		rc;

	if (blob_is_sk(blob, len, false))
		return arena_copy(ps, blob, len, key);
	if (pubkey_parse(blob, len, &pk, why, sizeof(why)) == -1) {
		fail(ps, "CA key: %s", why);
		return -1;
	}
	rc = arena_copy(ps, pk.blob, pk.blob_len, key);
	pubkey_free(&pk);
	return rc;
}

/* One KRL_SECTION_CERTIFICATES: the CA, then its subsections. */
static int
parse_certs(struct parse *ps, struct wire *w)
{
	struct krl	*krl = ps->krl;
	struct krl_ca	*ca;
	struct wire	 sub;
	const uint8_t	*blob, *p;
	size_t		 len, plen;
	uint64_t	 lo, hi;
	uint8_t		 type;

	if (wire_string(w, &blob, &len) == -1 ||
	    wire_string(w, &p, &plen) == -1) {	/* reserved */
		fail(ps, "truncated certificate section");
		return -1;
	}
	if (count_entry(ps) == -1)
		return -1;
	if (grow(&krl->cas, &krl->ccas, krl->ncas, sizeof(*krl->cas)) == -1) {
		fail(ps, "out of memory");
		return -1;
	}
	ca = &krl->cas[krl->ncas++];
	memset(ca, 0, sizeof(*ca));
	if (len > 0 && read_ca_key(ps, blob, len, &ca->key) == -1)
		return -1;

	while (w->len > 0) {
		if (wire_u8(w, &type) == -1 || wire_sub(w, &sub) == -1) {
			fail(ps, "truncated certificate subsection");
			return -1;
		}
		switch (type) {
		case SUB_SERIAL_LIST:
			while (sub.len > 0) {
				if (wire_u64(&sub, &lo) == -1) {
					fail(ps, "truncated serial list");
					return -1;
				}
				if (add_range(ps, ca, lo, lo) == -1)
					return -1;
			}
			break;
		case SUB_SERIAL_RANGE:
			if (wire_u64(&sub, &lo) == -1 ||
			    wire_u64(&sub, &hi) == -1) {
				fail(ps, "truncated serial range");
				return -1;
			}
			if (add_range(ps, ca, lo, hi) == -1)
				return -1;
			break;
		case SUB_SERIAL_BITMAP:
			if (add_bitmap(ps, ca, &sub) == -1)
				return -1;
			break;
		case SUB_KEY_ID:
			while (sub.len > 0) {
				if (read_cstring(&sub, &p, &plen) == -1) {
					fail(ps, "bad key id");
					return -1;
				}
				if (add_bytes(ps, &ca->ids, &ca->nids,
				    &ca->cids, p, plen) == -1)
					return -1;
			}
			break;
		case SUB_EXTENSION:
			if (parse_extension(ps, &sub) == -1)
				return -1;
			break;
		default:
			fail(ps, "unknown certificate subsection 0x%02x", type);
			return -1;
		}
		if (sub.len > 0) {
			fail(ps, "trailing data in certificate subsection "
			    "0x%02x", type);
			return -1;
		}
	}
	return 0;
}

/*
 * Explicit keys or hashes, stored as they are, not read.  sshd compares an
 * explicit key's bytes with the canonical blob of the key it checks; a
 * blob pubkey_parse() accepts is already canonical (it takes only
 * canonical encodings and builds the same bytes back), and one it refuses
 * (DSA, sk-*, a non-canonical number) can equal no blob of a key hopd
 * accepted.  Reading each would cost a key object per entry, up to half a
 * millisecond for P-384.
 */
static int
parse_blobs(struct parse *ps, struct wire *w, struct bytes **arr, size_t *n,
    size_t *cap, size_t want)
{
	const uint8_t	*p;
	size_t		 len;

	while (w->len > 0) {
		if (wire_string(w, &p, &len) == -1) {
			fail(ps, "truncated section");
			return -1;
		}
		if (want != 0 && len != want) {
			fail(ps, "fingerprint of %zu bytes, not %zu", len,
			    want);
			return -1;
		}
		if (add_bytes(ps, arr, n, cap, p, len) == -1)
			return -1;
	}
	return 0;
}

static int
parse_binary(struct parse *ps, const uint8_t *buf, size_t len)
{
	struct krl	*krl = ps->krl;
	struct wire	 w, sect;
	const uint8_t	*p;
	size_t		 plen;
	uint64_t	 u64;
	uint32_t	 version;
	uint8_t		 type;
	int		 rc;

	if ((krl->data = malloc(len)) == NULL) {
		fail(ps, "out of memory");
		return -1;
	}
	memcpy(krl->data, buf, len);
	ps->base = krl->data;
	wire_init(&w, krl->data + KRL_MAGIC_LEN, len - KRL_MAGIC_LEN);
	ps->off = KRL_MAGIC_LEN;
	if (wire_u32(&w, &version) == -1) {
		fail(ps, "truncated header");
		return -1;
	}
	if (version != KRL_FORMAT_VERSION) {
		fail(ps, "unsupported KRL format version %u", version);
		return -1;
	}
	/* krl_version, generated_date, flags (none defined), reserved. */
	if (wire_u64(&w, &krl->version) == -1 || wire_u64(&w, &u64) == -1 ||
	    wire_u64(&w, &u64) == -1 || wire_string(&w, &p, &plen) == -1 ||
	    read_cstring(&w, &p, &plen) == -1) {
		fail(ps, "malformed header");
		return -1;
	}
	while (w.len > 0) {
		ps->off = (size_t)(w.p - ps->base);
		if (wire_u8(&w, &type) == -1 || wire_sub(&w, &sect) == -1) {
			fail(ps, "truncated section");
			return -1;
		}
		switch (type) {
		case SECTION_CERTIFICATES:
			rc = parse_certs(ps, &sect);
			break;
		case SECTION_EXPLICIT_KEY:
			rc = parse_blobs(ps, &sect, &krl->keys, &krl->nkeys,
			    &krl->ckeys, 0);
			break;
		case SECTION_SHA1:
			rc = parse_blobs(ps, &sect, &krl->sha1s, &krl->nsha1s,
			    &krl->csha1s, SHA1_BYTES);
			break;
		case SECTION_SHA256:
			rc = parse_blobs(ps, &sect, &krl->sha256s,
			    &krl->nsha256s, &krl->csha256s, SHA256_BYTES);
			break;
		case SECTION_EXTENSION:
			rc = parse_extension(ps, &sect);
			break;
		case SECTION_SIGNATURE:
			/*
			 * OpenSSH 9.2 verified it against no trusted key,
			 * 10 skips it; ssh-keygen never wrote one.  Refused:
			 * it authenticates nothing.
			 */
			fail(ps, "KRL signatures are not supported");
			return -1;
		default:
			fail(ps, "unknown section type %u", type);
			return -1;
		}
		if (rc == -1)
			return -1;
		if (sect.len > 0) {
			fail(ps, "trailing data in section %u", type);
			return -1;
		}
	}
	return 0;
}

/*
 * The key a list line's blob revokes, read by cert.c into the arena: a
 * plain key's canonical blob (pubkey_parse()), or a certificate's key
 * (cert_parse(): sshd's sshkey_equal_public compares a certificate line's
 * key).  sshd's sshkey_from_blob also checks the certificate's CA
 * signature; hopd does not: a bad one names the key all the same, and
 * cert_verify_ca() refuses ssh-rsa (SHA-1) signatures that sshd takes
 * there, so checking could only refuse files sshd reads.  A blob that
 * cert.c refuses refuses the file (fail closed), among them DSA keys
 * (OpenSSH 10 refuses them too), RSA keys under 1024 bits (sshd skips
 * them) and non-canonical numbers (sshd reads them by value).
 */
static int
store_line_key(struct parse *ps, const uint8_t *blob, size_t len,
    struct bytes *key)
{
	struct pubkey	 pk;
	struct cert	 c;
	char		 why[128];
	int		 rc;

	if (blob_is_cert(blob, len)) {
		if (cert_parse(blob, len, &c, why, sizeof(why)) == -1) {
			fail(ps, "%s", why);
			return -1;
		}
		rc = arena_copy(ps, c.key.blob, c.key.blob_len, key);
		cert_free(&c);
		return rc;
	}
	if (pubkey_parse(blob, len, &pk, why, sizeof(why)) == -1) {
		fail(ps, "%s", why);
		return -1;
	}
	rc = arena_copy(ps, pk.blob, pk.blob_len, key);
	pubkey_free(&pk);
	return rc;
}

/*
 * One line of a list of keys, as authfile.c's sshkey_in_file() reads it
 * with sshkey_read(): "type base64 [comment]"; no options.  The line ends
 * at a newline or, as a C string does, at a NUL.  The type must be the
 * blob's own, exactly.
 */
static int
parse_line(struct parse *ps, const char *s, size_t len)
{
	const char	*end = s + len, *t, *b;
	const uint8_t	*name;
	struct bytes	 key;
	uint8_t		*blob;
	char		*tmp;
	size_t		 tlen, n, bloblen, namelen;
	int		 rc;

	if ((t = memchr(s, '\0', len)) != NULL)
		end = t;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end || *s == '#')
		return 0;
	for (t = s; t < end && *t != ' ' && *t != '\t'; t++)
		;
	tlen = (size_t)(t - s);
	if (t == end) {
		fail(ps, "no key after \"%.*s\"", tlen > 40 ? 40 : (int)tlen,
		    s);
		return -1;
	}
	while (t < end && (*t == ' ' || *t == '\t'))
		t++;
	/*
	 * The base64 runs to a blank; b64_pton skips other white space in
	 * it (sshd sees the line's CR and newline there), and wants padding.
	 */
	for (b = t; b < end && *b != ' ' && *b != '\t'; b++)
		;
	if ((tmp = malloc(b > t ? (size_t)(b - t) : 1)) == NULL) {
		fail(ps, "out of memory");
		return -1;
	}
	for (n = 0, b = t; b < end && *b != ' ' && *b != '\t'; b++)
		if (*b != '\r' && *b != '\v' && *b != '\f')
			tmp[n++] = *b;
	blob = NULL;
	if (n > 0 && n % 4 == 0)
		blob = wire_b64_decode(tmp, n, &bloblen);
	free(tmp);
	if (blob == NULL) {
		fail(ps, "bad base64 key");
		return -1;
	}
	if (blob_type(blob, bloblen, &name, &namelen) == -1 ||
	    namelen != tlen || memcmp(name, s, tlen) != 0) {
		fail(ps, "key type \"%.*s\" does not match its blob",
		    tlen > 40 ? 40 : (int)tlen, s);
		rc = -1;
	} else if (blob_is_sk(blob, bloblen, true))
		rc = arena_copy(ps, blob, bloblen, &key);
	else
		rc = store_line_key(ps, blob, bloblen, &key);
	free(blob);
	if (rc == -1)
		return -1;
	return add_bytes(ps, &ps->krl->keys, &ps->krl->nkeys,
	    &ps->krl->ckeys, key.p, key.len);
}

static int
parse_list(struct parse *ps, const uint8_t *buf, size_t len)
{
	const char	*s = (const char *)buf, *nl;
	size_t		 n;
	int		 rc = 0;

	while (len > 0 && rc == 0) {
		ps->line++;
		nl = memchr(s, '\n', len);
		n = nl != NULL ? (size_t)(nl - s) : len;
		rc = parse_line(ps, s, n);
		if (nl != NULL)
			n++;
		s += n;
		len -= n;
	}
	return rc;
}

/* Sorts, drops repeats. */
static void
sort_bytes(struct bytes *arr, size_t *n)
{
	size_t	i, j;

	if (*n < 2)
		return;
	qsort(arr, *n, sizeof(*arr), bytes_cmp);
	for (i = 0, j = 1; j < *n; j++)
		if (bytes_cmp(&arr[i], &arr[j]) != 0)
			arr[++i] = arr[j];
	*n = i + 1;
}

static void
ca_free(struct krl_ca *ca)
{
	free(ca->ranges);
	free(ca->bitmaps);
	free(ca->ids);
}

/* Appends src's arrays to dst's (sections for one CA are one CA). */
static int
ca_merge(struct krl_ca *dst, struct krl_ca *src)
{
	size_t	i;

	for (i = 0; i < src->nranges; i++) {
		if (grow(&dst->ranges, &dst->cranges, dst->nranges,
		    sizeof(*dst->ranges)) == -1)
			return -1;
		dst->ranges[dst->nranges++] = src->ranges[i];
	}
	for (i = 0; i < src->nbitmaps; i++) {
		if (grow(&dst->bitmaps, &dst->cbitmaps, dst->nbitmaps,
		    sizeof(*dst->bitmaps)) == -1)
			return -1;
		dst->bitmaps[dst->nbitmaps++] = src->bitmaps[i];
	}
	for (i = 0; i < src->nids; i++) {
		if (grow(&dst->ids, &dst->cids, dst->nids,
		    sizeof(*dst->ids)) == -1)
			return -1;
		dst->ids[dst->nids++] = src->ids[i];
	}
	return 0;
}

static void
ca_finish(struct krl_ca *ca)
{
	size_t	i, j;

	if (ca->nranges > 1) {
		qsort(ca->ranges, ca->nranges, sizeof(*ca->ranges), range_cmp);
		/* Merge ranges that overlap or touch. */
		for (i = 0, j = 1; j < ca->nranges; j++) {
			if (ca->ranges[i].hi == UINT64_MAX ||
			    ca->ranges[j].lo <= ca->ranges[i].hi + 1) {
				if (ca->ranges[j].hi > ca->ranges[i].hi)
					ca->ranges[i].hi = ca->ranges[j].hi;
			} else
				ca->ranges[++i] = ca->ranges[j];
		}
		ca->nranges = i + 1;
	}
	if (ca->nbitmaps > 1) {
		qsort(ca->bitmaps, ca->nbitmaps, sizeof(*ca->bitmaps),
		    bitmap_cmp);
		for (i = 1; i < ca->nbitmaps; i++)
			if (ca->bitmaps[i - 1].reach > ca->bitmaps[i].reach)
				ca->bitmaps[i].reach = ca->bitmaps[i - 1].reach;
	}
	sort_bytes(ca->ids, &ca->nids);
}

static int
finish(struct parse *ps)
{
	struct krl	*krl = ps->krl;
	size_t		 i, j;

	sort_bytes(krl->keys, &krl->nkeys);
	sort_bytes(krl->sha1s, &krl->nsha1s);
	sort_bytes(krl->sha256s, &krl->nsha256s);
	if (krl->ncas > 1) {
		qsort(krl->cas, krl->ncas, sizeof(*krl->cas), ca_cmp);
		for (i = 0, j = 1; j < krl->ncas; j++) {
			if (ca_cmp(&krl->cas[i], &krl->cas[j]) == 0) {
				if (ca_merge(&krl->cas[i], &krl->cas[j]) == -1)
					goto nomem;
				ca_free(&krl->cas[j]);
			} else
				krl->cas[++i] = krl->cas[j];
		}
		krl->ncas = i + 1;
	}
	for (i = 0; i < krl->ncas; i++)
		ca_finish(&krl->cas[i]);
	return 0;

 nomem:
	/*
	 * Keep for krl_free only what is owned once: 0..i, and j on (those
	 * between were merged and freed, or copied to i or before).
	 */
	fail(ps, "out of memory");
	memmove(&krl->cas[i + 1], &krl->cas[j],
	    (krl->ncas - j) * sizeof(*krl->cas));
	krl->ncas -= j - i - 1;
	return -1;
}

struct krl *
krl_parse(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct parse	 ps;
	struct krl	*krl;
	int		 rc;

	memset(&ps, 0, sizeof(ps));
	ps.err = err;
	ps.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((krl = calloc(1, sizeof(*krl))) == NULL) {
		fail(&ps, "out of memory");
		return NULL;
	}
	ps.krl = krl;
	if (buf == NULL)
		len = 0;
	/* Not a KRL (even too short to say): a list, as sshd falls back. */
	if (len >= KRL_MAGIC_LEN && memcmp(buf, KRL_MAGIC, KRL_MAGIC_LEN) == 0)
		rc = parse_binary(&ps, buf, len);
	else {
		krl->is_list = true;
		rc = parse_list(&ps, buf, len);
	}
	if (rc == 0)
		rc = finish(&ps);
	if (rc == -1) {
		krl_free(krl);
		return NULL;
	}
	return krl;
}

void
krl_free(struct krl *krl)
{
	struct chunk	*c, *next;
	size_t		 i;

	if (krl == NULL)
		return;
	for (c = krl->arena; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	for (i = 0; i < krl->ncas; i++)
		ca_free(&krl->cas[i]);
	free(krl->cas);
	free(krl->keys);
	free(krl->sha1s);
	free(krl->sha256s);
	free(krl->data);
	free(krl);
}

static bool
bytes_find(const struct bytes *arr, size_t n, const uint8_t *p, size_t len)
{
	struct bytes	key;

	if (n == 0)
		return false;
	key.p = p;
	key.len = len;
	return bsearch(&key, arr, n, sizeof(*arr), bytes_cmp) != NULL;
}

/*
 * A plain blob is looked up as it is given: hopd's callers give the
 * canonical blob pubkey_parse() or cert_parse() made, and reading it again
 * would only cost.  A certificate is reduced to its key, as sshd does;
 * when cert_parse() refuses it (or memory runs out) it cannot tell.
 */
bool
krl_key_revoked(const struct krl *krl, const uint8_t *blob, size_t len,
    const char **why)
{
	struct cert	 c;
	const uint8_t	*key = blob;
	uint8_t		 sha256[SHA256_BYTES], sha1[SHA1_BYTES];
	unsigned int	 n = 0;
	size_t		 keylen = len;
	bool		 revoked = true;
	const char	*reason = NULL;

	memset(&c, 0, sizeof(c));
	if (blob_is_cert(blob, len)) {
		if (cert_parse(blob, len, &c, NULL, 0) == -1) {
			reason = "cannot tell (certificate not readable)";
			goto out;
		}
		key = c.key.blob;
		keylen = c.key.blob_len;
	}
	if (krl->nsha1s > 0) {
		if (EVP_Digest(key, keylen, sha1, &n, EVP_sha1(), NULL) != 1 ||
		    n != SHA1_BYTES) {
			reason = "cannot tell (SHA-1 failed)";
			goto out;
		}
		if (bytes_find(krl->sha1s, krl->nsha1s, sha1, n)) {
			reason = "SHA-1 fingerprint";
			goto out;
		}
	}
	if (krl->nsha256s > 0) {
		if (wire_sha256(key, keylen, sha256) == -1) {
			reason = "cannot tell (SHA-256 failed)";
			goto out;
		}
		if (bytes_find(krl->sha256s, krl->nsha256s, sha256,
		    sizeof(sha256))) {
			reason = "SHA-256 fingerprint";
			goto out;
		}
	}
	if (bytes_find(krl->keys, krl->nkeys, key, keylen)) {
		reason = krl->is_list ? "listed key" : "explicit key";
		goto out;
	}
	revoked = false;
 out:
	cert_free(&c);
	if (revoked && why != NULL)
		*why = reason;
	return revoked;
}

static bool
bitmap_test(const struct bitmap *b, uint64_t serial)
{
	uint64_t	i;

	if (serial < b->offset || serial > b->last)
		return false;
	i = serial - b->offset;
	return (b->bits[b->len - 1 - i / 8] >> (i % 8) & 1) != 0;
}

static bool
serial_revoked(const struct krl_ca *ca, uint64_t serial)
{
	size_t	lo, hi, mid;

	/* The last range starting at or before serial. */
	for (lo = 0, hi = ca->nranges; lo < hi; ) {
		mid = lo + (hi - lo) / 2;
		if (ca->ranges[mid].lo <= serial)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && serial <= ca->ranges[lo - 1].hi)
		return true;
	/* Bitmaps may overlap: walk back while one could reach serial. */
	for (lo = 0, hi = ca->nbitmaps; lo < hi; ) {
		mid = lo + (hi - lo) / 2;
		if (ca->bitmaps[mid].offset <= serial)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo > 0 && ca->bitmaps[lo - 1].reach >= serial) {
		if (bitmap_test(&ca->bitmaps[lo - 1], serial))
			return true;
		lo--;
	}
	return false;
}

/* is_cert_revoked() of OpenSSH's krl.c. */
static bool
ca_revokes(const struct krl_ca *ca, uint64_t serial, const char *key_id,
    const char **reason)
{
	if (bytes_find(ca->ids, ca->nids, (const uint8_t *)key_id,
	    strlen(key_id))) {
		*reason = ca->key.len == 0 ? "key id (any CA)" : "key id";
		return true;
	}
	/* Serial 0 is what a CA gives when it gives none: never looked up. */
	if (serial != 0 && serial_revoked(ca, serial)) {
		*reason = ca->key.len == 0 ? "serial (any CA)" : "serial";
		return true;
	}
	return false;
}

static const struct krl_ca *
ca_find(const struct krl *krl, const uint8_t *key, size_t len)
{
	struct krl_ca	k;

	if (krl->ncas == 0)
		return NULL;
	memset(&k, 0, sizeof(k));
	k.key.p = key;
	k.key.len = len;
	return bsearch(&k, krl->cas, krl->ncas, sizeof(*krl->cas), ca_cmp);
}

bool
krl_cert_revoked(const struct krl *krl, const uint8_t *ca_blob,
    size_t ca_len, uint64_t serial, const char *key_id, const char **why)
{
	const struct krl_ca	*ca;
	const char		*reason = NULL;
	bool			 revoked = true;

	if (key_id == NULL)
		key_id = "";
	/*
	 * The CA's blob as given, as krl_key_revoked() takes a plain key.
	 * An empty one would find the any-CA section; no CA is empty.
	 */
	if (ca_len > 0 && (ca = ca_find(krl, ca_blob, ca_len)) != NULL &&
	    ca_revokes(ca, serial, key_id, &reason))
		goto out;
	if ((ca = ca_find(krl, NULL, 0)) != NULL &&
	    ca_revokes(ca, serial, key_id, &reason))
		goto out;
	revoked = false;
 out:
	if (revoked && why != NULL)
		*why = reason;
	return revoked;
}

void
krl_describe(const struct krl *krl, char *buf, size_t len)
{
	size_t	i, ranges = 0, bitmaps = 0, ids = 0;
	bool	any = false;

	if (krl->is_list) {
		snprintf(buf, len, "list of %zu key%s", krl->nkeys,
		    krl->nkeys == 1 ? "" : "s");
		return;
	}
	for (i = 0; i < krl->ncas; i++) {
		ranges += krl->cas[i].nranges;
		bitmaps += krl->cas[i].nbitmaps;
		ids += krl->cas[i].nids;
		if (krl->cas[i].key.len == 0)
			any = true;
	}
	snprintf(buf, len, "KRL version %llu: %zu keys, %zu SHA-1 and %zu "
	    "SHA-256 fingerprints; %zu CAs%s: %zu serial ranges, %zu bitmaps, "
	    "%zu key ids", (unsigned long long)krl->version, krl->nkeys,
	    krl->nsha1s, krl->nsha256s, krl->ncas, any ? " (one is any CA)" :
	    "", ranges, bitmaps, ids);
}
