/*
 * cert: strict parsing of OpenSSH public key blobs and certificates
 * (PROTOCOL.certkeys) and signature verification with OpenSSL.  libssh
 * takes a certificate as valid once the user's signature verifies, so hopd
 * reads the blob itself and checks the CA's signature.  Pure: no I/O.
 */
#ifndef HOPD_CERT_H
#define HOPD_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "wire.h"

enum pubkey_type {
	PUBKEY_ED25519 = 1,
	PUBKEY_ECDSA_P256,
	PUBKEY_ECDSA_P384,
	PUBKEY_ECDSA_P521,
	PUBKEY_RSA,
};

/* Bounds of what pubkey_parse() takes for RSA, in bits of the modulus. */
#define PUBKEY_RSA_MIN_BITS	1024
#define PUBKEY_RSA_MAX_BITS	16384

/*
 * Caps of cert_parse() (a certificate over one of them is refused): text
 * fields are counted in bytes, without a terminating NUL.
 */
#define CERT_KEY_ID_MAX		1024	/* key id */
#define CERT_PRINCIPALS_MAX	256	/* as OpenSSH's own cap */
#define CERT_PRINCIPAL_MAX	256	/* one principal */
#define CERT_OPTIONS_MAX	64	/* critical options, and extensions */
#define CERT_OPTION_NAME_MAX	256
#define CERT_OPTION_VALUE_MAX	4096	/* force-command, source-address */

/* A cert's valid_before meaning "no end". */
#define CERT_FOREVER		UINT64_MAX

#define CERT_TYPE_USER		1
#define CERT_TYPE_HOST		2

struct pubkey {
	enum pubkey_type	 type;
	EVP_PKEY		*pkey;
	uint8_t			*blob;		/* the plain key blob, owned */
	size_t			 blob_len;
	char			 fp[WIRE_FP_LEN]; /* of blob: ssh-keygen -l */
};

struct cert {
	uint8_t		*blob;		/* the whole certificate, owned */
	size_t		 blob_len;
	size_t		 signed_len;	/* blob[0..signed_len) is signed */
	struct pubkey	 key;		/* the certified key, as a plain key */
	uint64_t	 serial;
	uint32_t	 cert_type;	/* CERT_TYPE_USER or CERT_TYPE_HOST */
	char		*key_id;
	char		**principals;	/* none: valid for no principal */
	size_t		 nprincipals;
	uint64_t	 valid_after;	/* seconds since the epoch */
	uint64_t	 valid_before;	/* CERT_FOREVER: no end */
	char		*source_address; /* critical option, raw, or NULL */
	char		*force_command;	/* critical option, or NULL */
	char		*unknown_critical; /* first critical option hopd does
					 * not implement, or NULL */
	bool		 permit_port_forwarding; /* extension */
	struct pubkey	 ca;		/* the signature key */
	const uint8_t	*sig;		/* the CA's signature, into blob */
	size_t		 sig_len;
};

/*
 * Parses a plain public key blob (ssh-ed25519, ecdsa-sha2-nistp256/384/521,
 * ssh-rsa) into *out, which is overwritten, not freed.  Strict: no trailing
 * bytes, the ECDSA curve name matches the type and the point is an
 * uncompressed point of the curve, the RSA modulus has PUBKEY_RSA_MIN_BITS
 * to PUBKEY_RSA_MAX_BITS bits, e is odd, at least 3 and at most 64 bits,
 * mpints are canonical.  DSA, sk-* (FIDO) keys, certificates and anything
 * else are refused.  0, or -1 with a short reason in err (which may be
 * NULL when errlen is 0) and *out left zeroed.
 */
int	pubkey_parse(const uint8_t *, size_t, struct pubkey *out, char *err,
	    size_t errlen);
/* Frees what k owns and zeroes it; safe on a zeroed struct. */
void	pubkey_free(struct pubkey *k);
/* "ssh-ed25519", "ecdsa-sha2-nistp256", ... "ssh-rsa". */
const char *pubkey_type_name(enum pubkey_type);

/*
 * Verifies sig, an SSH signature blob (string algorithm, string
 * signature), by k over data.  The algorithm must be the key's own
 * (ssh-ed25519, ecdsa-sha2-*); for RSA only rsa-sha2-256 and rsa-sha2-512:
 * ssh-rsa (SHA-1) is refused.  No trailing bytes at any level.  0 when it
 * verifies, -1 otherwise with the reason in err.
 */
int	pubkey_verify(const struct pubkey *k, const uint8_t *sig,
	    size_t siglen, const uint8_t *data, size_t datalen, char *err,
	    size_t errlen);

/*
 * Checks the public key algorithm a client named in its userauth request
 * (RFC 4252 §7) against the key and the signature it sent, as sshd does:
 * pkalg names k's type (a certificate algorithm, e.g.
 * "rsa-sha2-512-cert-v01@openssh.com", exactly when is_cert), and the
 * signature's algorithm is the one pkalg implies.  ssh-rsa and
 * ssh-rsa-cert-v01@openssh.com (SHA-1) are refused.  sig may be NULL (the
 * probe, before a signature): then only pkalg is checked.  0 or -1.
 */
int	pubkey_check_alg(const struct pubkey *k, bool is_cert,
	    const char *pkalg, const uint8_t *sig, size_t siglen, char *err,
	    size_t errlen);

/*
 * True when name is an OpenSSH certificate type or algorithm name (it ends
 * in "-cert-v01@openssh.com"), whether cert_parse() supports it or not: a
 * caller sends such blobs to cert_parse() rather than to pubkey_parse().
 */
bool	cert_type_name(const char *name);

/*
 * Parses a certificate blob (ssh-ed25519, ecdsa-sha2-nistp256/384/521 and
 * ssh-rsa -cert-v01@openssh.com) into *out, overwritten, not freed.  Every
 * field must be present and nothing may follow the signature; the
 * certified key and the CA key are read as strictly as pubkey_parse()
 * reads a plain key (a CA key that is a certificate is refused); text
 * fields hold no NUL and stay within the CERT_* caps.
 *
 * Options, as sshd reads them: in a user certificate, force-command and
 * source-address fill their fields (each at most once) and any other
 * critical option is named in unknown_critical; in a host certificate
 * every critical option is unknown.  The caller must refuse a certificate
 * with unknown_critical set, and must parse source_address itself.  The
 * permit-* and no-touch-required extensions must carry no data; other
 * extensions are ignored.  Option order is not checked (sshd does not).
 *
 * The CA's signature is NOT checked here: see cert_verify_ca().  0, or -1
 * with the reason in err and *out left zeroed.
 */
int	cert_parse(const uint8_t *, size_t, struct cert *out, char *err,
	    size_t errlen);
/* Verifies the CA's signature over the certificate.  0 or -1. */
int	cert_verify_ca(const struct cert *, char *err, size_t errlen);
/* Whether name is one of the certificate's principals. */
bool	cert_has_principal(const struct cert *, const char *name);
/* Whether now (seconds since the epoch) is in [valid_after, valid_before). */
bool	cert_valid_at(const struct cert *, uint64_t now);
/* Frees what c owns and zeroes it; safe on a zeroed or half-filled one. */
void	cert_free(struct cert *c);

#endif
