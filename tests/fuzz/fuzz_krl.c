/*
 * libFuzzer target for krl.c: the whole input is a revoked-keys file (a
 * KRL or a list of keys).  Whatever parses is queried with keys and
 * certificates taken from the input and a fixed CA, and must keep the
 * promises of krl.h: parsing is deterministic, a list revokes no
 * certificate by serial or id, a key id revokes at every serial, and an
 * empty section appended to a KRL changes nothing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "krl.h"

#define FUZZ_INPUT_MAX	(64 * 1024)
#define FUZZ_SLICES	8

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any violation of a promise is a crash for libFuzzer to keep. */
#define PROMISE(cond)	do { if (!(cond)) __builtin_trap(); } while (0)

/* An Ed25519 public key blob (any will do: KRLs in the corpus name it). */
static const uint8_t ca_blob[] = {
	0x00, 0x00, 0x00, 0x0b, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5',
	'1', '9', 0x00, 0x00, 0x00, 0x20, 0x6f, 0xba, 0xb3, 0x00, 0x22, 0xfe,
	0x7a, 0xad, 0xfd, 0x4b, 0x52, 0xea, 0x0a, 0xe9, 0xe0, 0xac, 0x16,
	0xeb, 0x4d, 0xb5, 0x35, 0x75, 0xde, 0x24, 0xba, 0x90, 0xa3, 0xa4,
	0x99, 0x84, 0xe2, 0x06
};

static uint64_t
load_u64(const uint8_t *p, size_t len)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < len && i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
query(const struct krl *krl, bool is_list, const uint8_t *data,
    size_t size)
{
	char		 id[32];
	size_t		 i, off, len, idlen;
	uint64_t	 serial;
	bool		 by_id;

	(void)krl_key_revoked(krl, ca_blob, sizeof(ca_blob), NULL);
	(void)krl_key_revoked(krl, data, size, NULL);
	for (i = 0; i < FUZZ_SLICES && size > 0; i++) {
		off = i % size;
		off = (size_t)load_u64(data + off, size - off < 2 ?
		    size - off : 2) % size;
		len = (i * 7) % size;
		len = (size_t)load_u64(data + len, size - len < 2 ?
		    size - len : 2) % (size - off + 1);
		(void)krl_key_revoked(krl, data + off, len, NULL);

		idlen = len < sizeof(id) - 1 ? len : sizeof(id) - 1;
		memcpy(id, data + off, idlen);
		id[idlen] = '\0';
		serial = load_u64(data + off, size - off);
		by_id = krl_cert_revoked(krl, ca_blob, sizeof(ca_blob), 0, id,
		    NULL);
		if (is_list)
			PROMISE(!by_id && !krl_cert_revoked(krl, ca_blob,
			    sizeof(ca_blob), serial, id, NULL));
		/* Serial 0 is never looked up: only the id revoked it. */
		if (by_id)
			PROMISE(krl_cert_revoked(krl, ca_blob,
			    sizeof(ca_blob), serial, id, NULL));
		(void)krl_cert_revoked(krl, data + off, len, serial, id,
		    NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct krl	*krl, *again;
	uint8_t		*more;
	char		 err[256], desc[256], desc2[256];
	bool		 is_krl;

	if (size > FUZZ_INPUT_MAX)
		return 0;
	is_krl = size >= 8 && memcmp(data, "SSHKRL\n\0", 8) == 0;
	krl = krl_parse(data, size, err, sizeof(err));
	again = krl_parse(data, size, err, sizeof(err));
	PROMISE((krl == NULL) == (again == NULL));
	if (krl == NULL) {
		PROMISE(err[0] != '\0');
		return 0;
	}
	krl_describe(krl, desc, sizeof(desc));
	krl_describe(again, desc2, sizeof(desc2));
	PROMISE(strcmp(desc, desc2) == 0);
	PROMISE(strncmp(desc, is_krl ? "KRL version " : "list of ",
	    is_krl ? 12 : 8) == 0);
	krl_free(again);
	query(krl, !is_krl, data, size);

	/* An empty explicit-key section appended changes nothing. */
	if (is_krl && (more = malloc(size + 5)) != NULL) {
		memcpy(more, data, size);
		memcpy(more + size, "\x02\0\0\0\0", 5);
		again = krl_parse(more, size + 5, err, sizeof(err));
		PROMISE(again != NULL);
		krl_describe(again, desc2, sizeof(desc2));
		PROMISE(strcmp(desc, desc2) == 0);
		krl_free(again);
		free(more);
	}
	krl_free(krl);
	return 0;
}
