/*
 * libFuzzer target for cert.c: the input is read as a certificate, as a
 * plain key and as a signature by fixed keys.  Whatever parses must keep
 * the promises of cert.h: the certified key and the CA key read back as
 * plain keys with the same fingerprint, the signature lies inside the
 * copy, and the options respect their caps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "wire.h"

#define FUZZ_INPUT_MAX	65536

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any violation of a promise is a crash for libFuzzer to keep. */
#define PROMISE(cond)	do { if (!(cond)) __builtin_trap(); } while (0)

/* One key of each type, for signatures read from the input. */
static const char *const fixed_keys[] = {
	"AAAAC3NzaC1lZDI1NTE5AAAAIDoKttl5iAJyU/7+d+0DPLmRSieZy1N88wP79ejMpQ1v",
	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBMIJJ9Qox7Ozs+Y"
	"VtdN6g2wWD+9gQVKx0Gf/Ba98SnJxR6+ta1cuiKAlxg1CAubI4TmtlUb7Ntq9Zxwh1wk"
	"1gc=",
	"AAAAB3NzaC1yc2EAAAADAQABAAAAgQDHVJTXtxqDvEylACT0xnx20ox4nabhrvoCT9WL"
	"jI17NrkiOK3nXI8zkRtOUmc4J52vMEUUz1um3TInK3zC7iUgF5bLxzTfrfakyFTwqwPW"
	"ogRTyfTvZPBY4hxKhv2lvpwiCRCIDLfzBt7jaVu/uyFakIxIudJz6B4Q+dzQqmQAfQ==",
};
#define NFIXED	(sizeof(fixed_keys) / sizeof(fixed_keys[0]))

static struct pubkey	keys[NFIXED];
static bool		keys_ready;

static void
keys_load(void)
{
	uint8_t	*blob;
	size_t	 i, len;

	for (i = 0; i < NFIXED; i++) {
		blob = wire_b64_decode(fixed_keys[i], strlen(fixed_keys[i]),
		    &len);
		PROMISE(blob != NULL);
		PROMISE(pubkey_parse(blob, len, &keys[i], NULL, 0) == 0);
		free(blob);
	}
	keys_ready = true;
}

/* A key that parsed reads back, alone, as the same key. */
static void
check_key(const struct pubkey *k)
{
	struct pubkey	again;

	PROMISE(k->pkey != NULL && k->blob != NULL);
	PROMISE(strncmp(k->fp, "SHA256:", 7) == 0 && strlen(k->fp) == 50);
	PROMISE(pubkey_parse(k->blob, k->blob_len, &again, NULL, 0) == 0);
	PROMISE(again.type == k->type && again.blob_len == k->blob_len);
	PROMISE(strcmp(again.fp, k->fp) == 0);
	pubkey_free(&again);
}

static void
check_cert(const struct cert *c, size_t size)
{
	size_t	i;

	PROMISE(c->blob_len == size);
	PROMISE(c->signed_len + 4 + c->sig_len == c->blob_len);
	PROMISE(c->sig == c->blob + c->signed_len + 4);
	PROMISE(c->cert_type == CERT_TYPE_USER ||
	    c->cert_type == CERT_TYPE_HOST);
	PROMISE(strlen(c->key_id) <= CERT_KEY_ID_MAX);
	PROMISE(c->nprincipals <= CERT_PRINCIPALS_MAX);
	for (i = 0; i < c->nprincipals; i++) {
		PROMISE(strlen(c->principals[i]) <= CERT_PRINCIPAL_MAX);
		PROMISE(cert_has_principal(c, c->principals[i]));
	}
	if (c->cert_type == CERT_TYPE_HOST)
		PROMISE(c->force_command == NULL &&
		    c->source_address == NULL && !c->permit_port_forwarding);
	if (c->force_command != NULL)
		PROMISE(strlen(c->force_command) <= CERT_OPTION_VALUE_MAX);
	if (c->unknown_critical != NULL)
		PROMISE(strlen(c->unknown_critical) <= CERT_OPTION_NAME_MAX);
	check_key(&c->key);
	check_key(&c->ca);
	(void)cert_verify_ca(c, NULL, 0);
	(void)cert_valid_at(c, 1700000000);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cert	c;
	struct pubkey	k;
	char		err[256];
	size_t		i;

	if (size > FUZZ_INPUT_MAX)
		return 0;
	if (!keys_ready)
		keys_load();

	if (cert_parse(data, size, &c, err, sizeof(err)) == 0) {
		check_cert(&c, size);
		/* The input as a signature by the certified key. */
		(void)pubkey_verify(&c.key, data, size, c.blob, c.signed_len,
		    NULL, 0);
	} else
		PROMISE(c.blob == NULL && err[0] != '\0');
	cert_free(&c);

	if (pubkey_parse(data, size, &k, err, sizeof(err)) == 0) {
		check_key(&k);
		PROMISE(k.blob_len == size &&
		    memcmp(k.blob, data, size) == 0);
		(void)pubkey_verify(&k, data, size, data, size, NULL, 0);
	} else
		PROMISE(k.pkey == NULL && err[0] != '\0');
	pubkey_free(&k);

	for (i = 0; i < NFIXED; i++) {
		if (pubkey_verify(&keys[i], data, size, (const uint8_t *)"x",
		    1, err, sizeof(err)) == 0)
			PROMISE(0);	/* nobody has these private keys */
		(void)pubkey_check_alg(&keys[i], false, "rsa-sha2-512", data,
		    size, NULL, 0);
	}
	return 0;
}
