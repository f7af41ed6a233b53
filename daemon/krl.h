/*
 * krl: OpenSSH's revoked-keys file, as sshd's RevokedKeys reads it: a
 * binary KRL (PROTOCOL.krl, made by ssh-keygen -k) or, when the bytes do
 * not start with the KRL magic, a list of public keys one a line.  Parsed
 * once into sorted arrays, so that a lookup at each login is cheap.  Pure:
 * the caller reads the file and hands over its bytes.
 *
 * A certificate login is checked as sshd does (auth2-pubkey.c and
 * krl.c's ssh_krl_check_key): revoked when any of
 *	krl_key_revoked(certified plain key)
 *	krl_cert_revoked(CA key, serial, key id)
 *	krl_key_revoked(CA key)
 * is true; a plain key login only by krl_key_revoked(key).
 */
#ifndef HOPD_KRL_H
#define HOPD_KRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * At most this many stored entries (keys, fingerprints, CAs, serial
 * ranges, bitmaps, key ids; for a list, its keys), so that memory stays
 * within about the file's size plus 32 bytes an entry.  More is refused.
 */
#define KRL_ENTRIES_MAX		(1024 * 1024)

struct krl;

/*
 * Parses a whole revoked-keys file.  Empty or shorter than the magic, it
 * is a list (of no keys, when empty: nothing revoked, as sshd).  NULL with
 * the reason in err when malformed (anything sshd would refuse, and a few
 * things it would not: see krl.c) or on memory exhaustion; the caller
 * then refuses every key, as sshd does when its file is bad.
 */
struct krl *krl_parse(const uint8_t *, size_t, char *err, size_t errlen);
void	krl_free(struct krl *);

/*
 * Whether a key is revoked: by an explicit key, a SHA-1 or SHA-256
 * fingerprint of its plain blob, or (a list) an equal key.  Give the
 * canonical plain key blob (struct pubkey's blob), which is compared as
 * given; a certificate blob is reduced to its key by cert_parse(), as
 * sshd does.  True also when it cannot tell (a certificate cert_parse()
 * refuses, memory exhaustion).  When revoked and why is not NULL, *why
 * names the kind of entry.
 */
bool	krl_key_revoked(const struct krl *, const uint8_t *, size_t,
	    const char **why);

/*
 * Whether a certificate of the CA whose canonical plain key blob is given
 * (struct cert's ca.blob, compared as given) is revoked by serial (not
 * serial 0, which sshd never looks up) or by key id, under that CA or
 * under the any-CA section.  False for a list (it revokes keys only).
 */
bool	krl_cert_revoked(const struct krl *, const uint8_t *ca, size_t,
	    uint64_t serial, const char *key_id, const char **why);

/* A one-line summary for the log: the kind of file, counts of entries. */
void	krl_describe(const struct krl *, char *, size_t);

#endif
