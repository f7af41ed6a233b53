/*
 * cert: OpenSSH public keys and certificates read strictly off the wire,
 * and signatures checked with OpenSSL EVP.  See cert.h; the formats are
 * RFC 4253 §6.6, RFC 5656 §3, RFC 8709, RFC 8332 and PROTOCOL.certkeys.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "cert.h"
#include "wire.h"

#define CERT_SUFFIX	"-cert-v01@openssh.com"
/* Longest key type name quoted in an error message. */
#define NAME_QUOTE_MAX	64

struct key_kind {
	enum pubkey_type	 type;
	const char		*name;
	const char		*cert_name;
	const char		*curve;		/* ECDSA: the SSH curve name */
	const char		*group;		/* ECDSA: the OpenSSL group */
	size_t			 field_len;	/* ECDSA: coordinate bytes */
	const EVP_MD		*(*md)(void);	/* ECDSA: the hash */
};

static const struct key_kind key_kinds[] = {
	{ PUBKEY_ED25519, "ssh-ed25519", "ssh-ed25519" CERT_SUFFIX,
	    NULL, NULL, 0, NULL },
	{ PUBKEY_ECDSA_P256, "ecdsa-sha2-nistp256",
	    "ecdsa-sha2-nistp256" CERT_SUFFIX, "nistp256", "P-256", 32,
	    EVP_sha256 },
	{ PUBKEY_ECDSA_P384, "ecdsa-sha2-nistp384",
	    "ecdsa-sha2-nistp384" CERT_SUFFIX, "nistp384", "P-384", 48,
	    EVP_sha384 },
	{ PUBKEY_ECDSA_P521, "ecdsa-sha2-nistp521",
	    "ecdsa-sha2-nistp521" CERT_SUFFIX, "nistp521", "P-521", 66,
	    EVP_sha512 },
	{ PUBKEY_RSA, "ssh-rsa", "ssh-rsa" CERT_SUFFIX, NULL, NULL, 0, NULL },
};
#define NKINDS	(sizeof(key_kinds) / sizeof(key_kinds[0]))

/* Extensions sshd knows; each is a flag and must carry no data. */
static const char *const flag_extensions[] = {
	"no-touch-required",
	"permit-X11-forwarding",
	"permit-agent-forwarding",
	"permit-port-forwarding",
	"permit-pty",
	"permit-user-rc",
};
#define NFLAGS	(sizeof(flag_extensions) / sizeof(flag_extensions[0]))

static int	cert_fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Writes the reason into err and returns -1, for `return cert_fail()`. */
static int
cert_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	/* Refusals leave reasons on OpenSSL's queue; nobody reads them. */
	ERR_clear_error();
	return -1;
}

/* A name from the wire, made safe to print: printable ASCII, bounded. */
static void
quote_name(const uint8_t *p, size_t len, char buf[NAME_QUOTE_MAX + 4])
{
	size_t	i, n = len > NAME_QUOTE_MAX ? NAME_QUOTE_MAX : len;

	for (i = 0; i < n; i++)
		buf[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	if (n < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
}

static bool
has_suffix(const uint8_t *p, size_t len, const char *suffix)
{
	size_t	n = strlen(suffix);

	return len >= n && memcmp(p + len - n, suffix, n) == 0;
}

static const struct key_kind *
kind_by_type(enum pubkey_type type)
{
	size_t	i;

	for (i = 0; i < NKINDS; i++)
		if (key_kinds[i].type == type)
			return &key_kinds[i];
	return NULL;
}

static const struct key_kind *
kind_by_name(const uint8_t *p, size_t len, bool cert)
{
	size_t	i;

	for (i = 0; i < NKINDS; i++)
		if (wire_eq(p, len, cert ? key_kinds[i].cert_name :
		    key_kinds[i].name))
			return &key_kinds[i];
	return NULL;
}

/* Why a key type name that kind_by_name() does not know is refused. */
static int
unknown_type(const uint8_t *p, size_t len, char *err, size_t errlen)
{
	char	q[NAME_QUOTE_MAX + 4];

	quote_name(p, len, q);
	if (len >= 3 && memcmp(p, "sk-", 3) == 0)
		return cert_fail(err, errlen, "security key type %s is not "
		    "supported", q);
	if (wire_eq(p, len, "ssh-dss") ||
	    wire_eq(p, len, "ssh-dss" CERT_SUFFIX))
		return cert_fail(err, errlen, "DSA keys are not supported");
	return cert_fail(err, errlen, "unsupported key type \"%s\"", q);
}

/*
 * An mpint (RFC 4251 §5) that must be canonical: not negative, no leading
 * zero byte unless the next byte has its top bit set.  *p and *len give the
 * magnitude, without that zero byte.
 */
static int
mpint_read(struct wire *w, const uint8_t **p, size_t *len, const char *what,
    char *err, size_t errlen)
{
	if (wire_string(w, p, len) == -1)
		return cert_fail(err, errlen, "truncated %s", what);
	if (*len > 0 && ((*p)[0] & 0x80) != 0)
		return cert_fail(err, errlen, "negative %s", what);
	if (*len > 0 && (*p)[0] == 0) {
		if (*len == 1 || ((*p)[1] & 0x80) == 0)
			return cert_fail(err, errlen, "non-canonical %s",
			    what);
		(*p)++;
		(*len)--;
	}
	return 0;
}

static size_t
bits_of(const uint8_t *p, size_t len)
{
	size_t	bits;
	uint8_t	top;

	if (len == 0)
		return 0;
	bits = (len - 1) * 8;
	for (top = p[0]; top != 0; top >>= 1)
		bits++;
	return bits;
}

static EVP_PKEY *
pkey_from_params(const char *alg, OSSL_PARAM *params)
{
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pkey = NULL;

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL)) == NULL)
		return NULL;
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

static EVP_PKEY *
ecdsa_pkey(const struct key_kind *kk, const uint8_t *q, size_t qlen)
{
	OSSL_PARAM	 params[3];
	EVP_PKEY	*pkey;
	EVP_PKEY_CTX	*ctx;

	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)kk->group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, (void *)q, qlen);
	params[2] = OSSL_PARAM_construct_end();
	if ((pkey = pkey_from_params("EC", params)) == NULL)
		return NULL;
	/* Full check: on the curve, not infinity, of the group's order. */
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    EVP_PKEY_public_check(ctx) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

static EVP_PKEY *
rsa_pkey(const uint8_t *e, size_t elen, const uint8_t *n, size_t nlen)
{
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	BIGNUM		*bn_e = NULL, *bn_n = NULL;
	EVP_PKEY	*pkey = NULL;

	if ((bn_e = BN_bin2bn(e, (int)elen, NULL)) == NULL ||
	    (bn_n = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	pkey = pkey_from_params("RSA", params);
 out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_e);
	BN_free(bn_n);
	return pkey;
}

/*
 * Reads the fields of a key of kind kk (what follows the type name in a
 * plain blob, or the nonce in a certificate) into *out, and builds the
 * plain blob: the plain type name, then those same bytes.
 */
static int
key_read(struct wire *w, const struct key_kind *kk, struct pubkey *out,
    char *err, size_t errlen)
{
	const uint8_t	*start = w->p, *a, *b;
	size_t		 alen, blen, namelen, fieldslen;
	char		 q[NAME_QUOTE_MAX + 4];

	switch (kk->type) {
	case PUBKEY_ED25519:
		if (wire_string(w, &a, &alen) == -1)
			return cert_fail(err, errlen, "truncated key");
		if (alen != 32)
			return cert_fail(err, errlen, "Ed25519 key of %zu "
			    "bytes, not 32", alen);
		out->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
		    NULL, a, alen);
		break;
	case PUBKEY_ECDSA_P256:
	case PUBKEY_ECDSA_P384:
	case PUBKEY_ECDSA_P521:
		if (wire_string(w, &a, &alen) == -1 ||
		    wire_string(w, &b, &blen) == -1)
			return cert_fail(err, errlen, "truncated key");
		if (!wire_eq(a, alen, kk->curve)) {
			quote_name(a, alen, q);
			return cert_fail(err, errlen, "curve \"%s\" in a %s "
			    "key", q, kk->name);
		}
		if (blen != 1 + 2 * kk->field_len ||
		    b[0] != POINT_CONVERSION_UNCOMPRESSED)
			return cert_fail(err, errlen, "ECDSA point is not an "
			    "uncompressed %s point", kk->curve);
		if ((out->pkey = ecdsa_pkey(kk, b, blen)) == NULL)
			return cert_fail(err, errlen, "ECDSA point is not on "
			    "curve %s", kk->curve);
		break;
	case PUBKEY_RSA:
		if (mpint_read(w, &a, &alen, "RSA exponent", err,
		    errlen) == -1 ||
		    mpint_read(w, &b, &blen, "RSA modulus", err,
		    errlen) == -1)
			return -1;
		/* OpenSSL refuses exponents over 64 bits for big moduli. */
		if (alen == 0 || alen > 8 || (a[alen - 1] & 1) == 0 ||
		    (alen == 1 && a[0] < 3))
			return cert_fail(err, errlen, "RSA exponent is not "
			    "odd, at least 3 and at most 64 bits");
		if (bits_of(b, blen) < PUBKEY_RSA_MIN_BITS ||
		    bits_of(b, blen) > PUBKEY_RSA_MAX_BITS)
			return cert_fail(err, errlen, "RSA modulus of %zu "
			    "bits (%d to %d allowed)", bits_of(b, blen),
			    PUBKEY_RSA_MIN_BITS, PUBKEY_RSA_MAX_BITS);
		if ((b[blen - 1] & 1) == 0)
			return cert_fail(err, errlen, "even RSA modulus");
		out->pkey = rsa_pkey(a, alen, b, blen);
		break;
	}
	if (out->pkey == NULL)
		return cert_fail(err, errlen, "key refused by OpenSSL");

	namelen = strlen(kk->name);
	fieldslen = (size_t)(w->p - start);
	out->blob_len = 4 + namelen + fieldslen;
	if ((out->blob = malloc(out->blob_len)) == NULL)
		return cert_fail(err, errlen, "out of memory");
	out->blob[0] = (uint8_t)(namelen >> 24);
	out->blob[1] = (uint8_t)(namelen >> 16);
	out->blob[2] = (uint8_t)(namelen >> 8);
	out->blob[3] = (uint8_t)namelen;
	memcpy(out->blob + 4, kk->name, namelen);
	memcpy(out->blob + 4 + namelen, start, fieldslen);
	if (wire_fingerprint(out->blob, out->blob_len, out->fp,
	    sizeof(out->fp)) == -1)
		return cert_fail(err, errlen, "cannot hash the key");
	out->type = kk->type;
	return 0;
}

int
pubkey_parse(const uint8_t *blob, size_t len, struct pubkey *out, char *err,
    size_t errlen)
{
	const struct key_kind	*kk;
	struct wire		 w;
	const uint8_t		*name;
	size_t			 namelen;

	memset(out, 0, sizeof(*out));
	wire_init(&w, blob, len);
	if (wire_string(&w, &name, &namelen) == -1)
		return cert_fail(err, errlen, "truncated key");
	if ((kk = kind_by_name(name, namelen, false)) == NULL) {
		if (has_suffix(name, namelen, CERT_SUFFIX))
			return cert_fail(err, errlen, "a certificate, not a "
			    "plain key");
		return unknown_type(name, namelen, err, errlen);
	}
	if (key_read(&w, kk, out, err, errlen) == -1)
		goto fail;
	if (!wire_done(&w)) {
		cert_fail(err, errlen, "trailing bytes after the key");
		goto fail;
	}
	return 0;
 fail:
	pubkey_free(out);
	return -1;
}

void
pubkey_free(struct pubkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k->blob);
	memset(k, 0, sizeof(*k));
}

const char *
pubkey_type_name(enum pubkey_type type)
{
	const struct key_kind	*kk = kind_by_type(type);

	return kk != NULL ? kk->name : "unknown";
}

/*
 * An ECDSA signature (RFC 5656 §3.1.2: mpint r, mpint s) as the DER that
 * OpenSSL verifies, into a new buffer.
 */
static int
ecdsa_sig_der(const struct key_kind *kk, const uint8_t *p, size_t len,
    unsigned char **der, size_t *derlen, char *err, size_t errlen)
{
	struct wire	 w;
	const uint8_t	*r, *s;
	size_t		 rlen, slen;
	BIGNUM		*bn_r = NULL, *bn_s = NULL;
	ECDSA_SIG	*sig = NULL;
	int		 n, rc = -1;

	*der = NULL;
	wire_init(&w, p, len);
	if (mpint_read(&w, &r, &rlen, "ECDSA r", err, errlen) == -1 ||
	    mpint_read(&w, &s, &slen, "ECDSA s", err, errlen) == -1)
		return -1;
	if (!wire_done(&w))
		return cert_fail(err, errlen, "trailing bytes in the ECDSA "
		    "signature");
	if (rlen == 0 || slen == 0 || rlen > kk->field_len ||
	    slen > kk->field_len)
		return cert_fail(err, errlen, "ECDSA signature values out of "
		    "range");
	if ((bn_r = BN_bin2bn(r, (int)rlen, NULL)) == NULL ||
	    (bn_s = BN_bin2bn(s, (int)slen, NULL)) == NULL ||
	    (sig = ECDSA_SIG_new()) == NULL ||
	    ECDSA_SIG_set0(sig, bn_r, bn_s) != 1) {
		cert_fail(err, errlen, "out of memory");
		goto out;
	}
	bn_r = bn_s = NULL;		/* sig owns them now */
	if ((n = i2d_ECDSA_SIG(sig, der)) <= 0) {
		*der = NULL;
		cert_fail(err, errlen, "cannot encode the ECDSA signature");
		goto out;
	}
	*derlen = (size_t)n;
	rc = 0;
 out:
	BN_free(bn_r);
	BN_free(bn_s);
	ECDSA_SIG_free(sig);
	return rc;
}

int
pubkey_verify(const struct pubkey *k, const uint8_t *sig, size_t siglen,
    const uint8_t *data, size_t datalen, char *err, size_t errlen)
{
	const struct key_kind	*kk;
	struct wire		 w;
	const uint8_t		*alg, *s;
	size_t			 alglen, slen, modlen, derlen = 0;
	const EVP_MD		*md = NULL;
	unsigned char		*der = NULL, *padded = NULL;
	const unsigned char	*tosign;
	EVP_MD_CTX		*mctx = NULL;
	char			 q[NAME_QUOTE_MAX + 4];
	int			 rc = -1;

	if (k == NULL || k->pkey == NULL ||
	    (kk = kind_by_type(k->type)) == NULL)
		return cert_fail(err, errlen, "no key");
	wire_init(&w, sig, siglen);
	if (wire_string(&w, &alg, &alglen) == -1 ||
	    wire_string(&w, &s, &slen) == -1)
		return cert_fail(err, errlen, "truncated signature");
	if (!wire_done(&w))
		return cert_fail(err, errlen, "trailing bytes after the "
		    "signature");
	quote_name(alg, alglen, q);
	tosign = s;
	derlen = slen;
	switch (k->type) {
	case PUBKEY_ED25519:
		if (!wire_eq(alg, alglen, kk->name))
			return cert_fail(err, errlen, "%s signature by an "
			    "Ed25519 key", q);
		if (slen != 64)
			return cert_fail(err, errlen, "Ed25519 signature of "
			    "%zu bytes, not 64", slen);
		break;
	case PUBKEY_ECDSA_P256:
	case PUBKEY_ECDSA_P384:
	case PUBKEY_ECDSA_P521:
		if (!wire_eq(alg, alglen, kk->name))
			return cert_fail(err, errlen, "%s signature by a %s "
			    "key", q, kk->name);
		if (ecdsa_sig_der(kk, s, slen, &der, &derlen, err,
		    errlen) == -1)
			return -1;
		tosign = der;
		md = kk->md();
		break;
	case PUBKEY_RSA:
		if (wire_eq(alg, alglen, "rsa-sha2-256"))
			md = EVP_sha256();
		else if (wire_eq(alg, alglen, "rsa-sha2-512"))
			md = EVP_sha512();
		else if (wire_eq(alg, alglen, "ssh-rsa"))
			return cert_fail(err, errlen, "ssh-rsa signatures "
			    "(SHA-1) are refused");
		else
			return cert_fail(err, errlen, "%s signature by an "
			    "RSA key", q);
		/* Some signers drop leading zero bytes; OpenSSH pads. */
		modlen = (size_t)EVP_PKEY_get_size(k->pkey);
		if (slen == 0 || slen > modlen)
			return cert_fail(err, errlen, "RSA signature of %zu "
			    "bytes for a %zu-byte modulus", slen, modlen);
		if (slen < modlen) {
			if ((padded = calloc(1, modlen)) == NULL)
				return cert_fail(err, errlen,
				    "out of memory");
			memcpy(padded + modlen - slen, s, slen);
			tosign = padded;
			derlen = modlen;
		}
		break;
	}

	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(mctx, NULL, md, NULL, k->pkey) != 1) {
		cert_fail(err, errlen, "cannot set up verification");
		goto out;
	}
	if (EVP_DigestVerify(mctx, tosign, derlen, data, datalen) != 1) {
		cert_fail(err, errlen, "bad %s signature", q);
		goto out;
	}
	rc = 0;
 out:
	EVP_MD_CTX_free(mctx);
	OPENSSL_free(der);
	free(padded);
	return rc;
}

int
pubkey_check_alg(const struct pubkey *k, bool is_cert, const char *pkalg,
    const uint8_t *sig, size_t siglen, char *err, size_t errlen)
{
	const struct key_kind	*kk;
	struct wire		 w;
	const uint8_t		*base = (const uint8_t *)pkalg, *alg;
	size_t			 alglen, baselen = strlen(pkalg);
	char			 q[NAME_QUOTE_MAX + 4];
	bool			 ok;

	if (k == NULL || (kk = kind_by_type(k->type)) == NULL)
		return cert_fail(err, errlen, "no key");
	quote_name(base, baselen, q);
	if (has_suffix(base, baselen, CERT_SUFFIX) != is_cert)
		return cert_fail(err, errlen, "algorithm %s for a %s", q,
		    is_cert ? "certificate" : "plain key");
	if (is_cert)
		baselen -= strlen(CERT_SUFFIX);
	if (k->type == PUBKEY_RSA) {
		if (wire_eq(base, baselen, "ssh-rsa"))
			return cert_fail(err, errlen, "algorithm %s (SHA-1) "
			    "is refused", q);
		ok = wire_eq(base, baselen, "rsa-sha2-256") ||
		    wire_eq(base, baselen, "rsa-sha2-512");
	} else
		ok = wire_eq(base, baselen, kk->name);
	if (!ok)
		return cert_fail(err, errlen, "algorithm %s for a %s key", q,
		    kk->name);
	if (sig == NULL)
		return 0;
	wire_init(&w, sig, siglen);
	if (wire_string(&w, &alg, &alglen) == -1)
		return cert_fail(err, errlen, "truncated signature");
	if (alglen != baselen || memcmp(alg, base, baselen) != 0)
		return cert_fail(err, errlen, "signature algorithm does not "
		    "match %s", q);
	return 0;
}

bool
cert_type_name(const char *name)
{
	return name != NULL &&
	    has_suffix((const uint8_t *)name, strlen(name), CERT_SUFFIX);
}

/* A text string of at most max bytes, without NUL, into a new C string. */
static int
text_read(struct wire *w, size_t max, char **out, const char *what,
    char *err, size_t errlen)
{
	const uint8_t	*p;
	size_t		 len;

	if (wire_string(w, &p, &len) == -1)
		return cert_fail(err, errlen, "truncated %s", what);
	if (len > max)
		return cert_fail(err, errlen, "%s longer than %zu bytes",
		    what, max);
	if (memchr(p, '\0', len) != NULL)
		return cert_fail(err, errlen, "NUL byte in %s", what);
	if ((*out = strndup((const char *)p, len)) == NULL)
		return cert_fail(err, errlen, "out of memory");
	return 0;
}

/* An option name: as text_read(), but left in the buffer. */
static int
option_name(struct wire *w, const uint8_t **p, size_t *len, char *err,
    size_t errlen)
{
	if (wire_string(w, p, len) == -1)
		return cert_fail(err, errlen, "truncated option");
	if (*len > CERT_OPTION_NAME_MAX || memchr(*p, '\0', *len) != NULL)
		return cert_fail(err, errlen, "malformed option name");
	return 0;
}

/* The value of a critical option: a string inside its data, nothing else. */
static int
option_value(struct wire *data, const char *name, char **out, char *err,
    size_t errlen)
{
	if (*out != NULL)
		return cert_fail(err, errlen, "certificate has multiple %s "
		    "options", name);
	if (text_read(data, CERT_OPTION_VALUE_MAX, out, name, err,
	    errlen) == -1)
		return -1;
	if (data->len != 0)
		return cert_fail(err, errlen, "extra data in option %s",
		    name);
	return 0;
}

/*
 * Critical options, as sshd's cert_option_list() reads them: it neither
 * checks the order nor refuses repeats in general, but a second
 * force-command or source-address is an error.
 */
static int
critical_read(struct wire *opts, struct cert *c, char *err, size_t errlen)
{
	struct wire	 data;
	const uint8_t	*name;
	size_t		 namelen, n;
	bool		 user = c->cert_type == CERT_TYPE_USER;

	for (n = 0; opts->len > 0; n++) {
		if (n == CERT_OPTIONS_MAX)
			return cert_fail(err, errlen, "more than %d critical "
			    "options", CERT_OPTIONS_MAX);
		if (option_name(opts, &name, &namelen, err, errlen) == -1)
			return -1;
		if (wire_sub(opts, &data) == -1)
			return cert_fail(err, errlen, "truncated option");
		if (user && wire_eq(name, namelen, "force-command")) {
			if (option_value(&data, "force-command",
			    &c->force_command, err, errlen) == -1)
				return -1;
		} else if (user && wire_eq(name, namelen, "source-address")) {
			if (option_value(&data, "source-address",
			    &c->source_address, err, errlen) == -1)
				return -1;
		} else if (c->unknown_critical == NULL &&
		    (c->unknown_critical = strndup((const char *)name,
		    namelen)) == NULL)
			return cert_fail(err, errlen, "out of memory");
	}
	return 0;
}

/* Extensions: the known flags must be empty; the others are ignored. */
static int
extensions_read(struct wire *exts, struct cert *c, char *err,
    size_t errlen)
{
	struct wire	 data;
	const uint8_t	*name;
	size_t		 namelen, n, i;

	for (n = 0; exts->len > 0; n++) {
		if (n == CERT_OPTIONS_MAX)
			return cert_fail(err, errlen, "more than %d "
			    "extensions", CERT_OPTIONS_MAX);
		if (option_name(exts, &name, &namelen, err, errlen) == -1)
			return -1;
		if (wire_sub(exts, &data) == -1)
			return cert_fail(err, errlen, "truncated extension");
		if (c->cert_type != CERT_TYPE_USER)
			continue;
		for (i = 0; i < NFLAGS; i++)
			if (wire_eq(name, namelen, flag_extensions[i]))
				break;
		if (i == NFLAGS)
			continue;
		if (data.len != 0)
			return cert_fail(err, errlen, "extra data in "
			    "extension %s", flag_extensions[i]);
		if (strcmp(flag_extensions[i], "permit-port-forwarding") == 0)
			c->permit_port_forwarding = true;
	}
	return 0;
}

static int
principals_read(struct wire *w, struct cert *c, char *err, size_t errlen)
{
	char	**p;

	while (w->len > 0) {
		if (c->nprincipals == CERT_PRINCIPALS_MAX)
			return cert_fail(err, errlen, "more than %d "
			    "principals", CERT_PRINCIPALS_MAX);
		if ((p = reallocarray(c->principals, c->nprincipals + 1,
		    sizeof(*p))) == NULL)
			return cert_fail(err, errlen, "out of memory");
		c->principals = p;
		if (text_read(w, CERT_PRINCIPAL_MAX,
		    &c->principals[c->nprincipals], "principal", err,
		    errlen) == -1)
			return -1;
		c->nprincipals++;
	}
	return 0;
}

int
cert_parse(const uint8_t *blob, size_t len, struct cert *out, char *err,
    size_t errlen)
{
	const struct key_kind	*kk;
	struct wire		 w, principals, crit, exts;
	const uint8_t		*name, *p, *ca;
	size_t			 namelen, plen, calen;
	char			 why[128];

	memset(out, 0, sizeof(*out));
	if ((out->blob = malloc(len > 0 ? len : 1)) == NULL)
		return cert_fail(err, errlen, "out of memory");
	if (len > 0)
		memcpy(out->blob, blob, len);
	out->blob_len = len;
	/* From here on everything points into the copy. */
	wire_init(&w, out->blob, len);

	if (wire_string(&w, &name, &namelen) == -1) {
		cert_fail(err, errlen, "truncated certificate");
		goto fail;
	}
	if ((kk = kind_by_name(name, namelen, true)) == NULL) {
		if (kind_by_name(name, namelen, false) != NULL)
			cert_fail(err, errlen, "a plain key, not a "
			    "certificate");
		else
			unknown_type(name, namelen, err, errlen);
		goto fail;
	}
	if (wire_string(&w, &p, &plen) == -1) {		/* nonce */
		cert_fail(err, errlen, "truncated certificate");
		goto fail;
	}
	if (key_read(&w, kk, &out->key, why, sizeof(why)) == -1) {
		cert_fail(err, errlen, "certified key: %s", why);
		goto fail;
	}
	if (wire_u64(&w, &out->serial) == -1 ||
	    wire_u32(&w, &out->cert_type) == -1) {
		cert_fail(err, errlen, "truncated certificate");
		goto fail;
	}
	if (text_read(&w, CERT_KEY_ID_MAX, &out->key_id, "key id", err,
	    errlen) == -1)
		goto fail;
	/* The sub-readers are read once the layout is known to be whole. */
	(void)wire_sub(&w, &principals);
	(void)wire_u64(&w, &out->valid_after);
	(void)wire_u64(&w, &out->valid_before);
	(void)wire_sub(&w, &crit);
	(void)wire_sub(&w, &exts);
	(void)wire_string(&w, &p, &plen);		/* reserved */
	(void)wire_string(&w, &ca, &calen);
	out->signed_len = len - w.len;
	(void)wire_string(&w, &out->sig, &out->sig_len);
	if (w.bad) {
		cert_fail(err, errlen, "truncated certificate");
		goto fail;
	}
	if (w.len != 0) {
		cert_fail(err, errlen, "trailing bytes after the signature");
		goto fail;
	}
	if (out->cert_type != CERT_TYPE_USER &&
	    out->cert_type != CERT_TYPE_HOST) {
		cert_fail(err, errlen, "unknown certificate type %u",
		    out->cert_type);
		goto fail;
	}
	if (principals_read(&principals, out, err, errlen) == -1 ||
	    critical_read(&crit, out, err, errlen) == -1 ||
	    extensions_read(&exts, out, err, errlen) == -1)
		goto fail;
	if (pubkey_parse(ca, calen, &out->ca, why, sizeof(why)) == -1) {
		cert_fail(err, errlen, "CA key: %s", why);
		goto fail;
	}
	return 0;
 fail:
	cert_free(out);
	return -1;
}

int
cert_verify_ca(const struct cert *c, char *err, size_t errlen)
{
	char	why[128];

	if (c == NULL || c->blob == NULL || c->sig == NULL)
		return cert_fail(err, errlen, "no certificate");
	if (pubkey_verify(&c->ca, c->sig, c->sig_len, c->blob, c->signed_len,
	    why, sizeof(why)) == -1)
		return cert_fail(err, errlen, "CA signature: %s", why);
	return 0;
}

bool
cert_has_principal(const struct cert *c, const char *name)
{
	size_t	i;

	for (i = 0; i < c->nprincipals; i++)
		if (strcmp(c->principals[i], name) == 0)
			return true;
	return false;
}

bool
cert_valid_at(const struct cert *c, uint64_t now)
{
	return now >= c->valid_after && now < c->valid_before;
}

void
cert_free(struct cert *c)
{
	size_t	i;

	if (c == NULL)
		return;
	free(c->blob);
	pubkey_free(&c->key);
	free(c->key_id);
	for (i = 0; i < c->nprincipals; i++)
		free(c->principals[i]);
	free(c->principals);
	free(c->source_address);
	free(c->force_command);
	free(c->unknown_critical);
	pubkey_free(&c->ca);
	memset(c, 0, sizeof(*c));
}
