/*
 * cred: what a login proved, and the files that can take it back.
 *
 * - struct ca_set: the CAs of trusted_user_ca_keys, read when the
 *   configuration is loaded (a bad line is a configuration error).
 * - struct revoked: revoked_keys (an OpenSSH KRL or a list of public
 *   keys), read at load and read again, off the loop, when the file
 *   changed; unreadable or malformed, it revokes every key (fail closed).
 * - struct credential: the key (or certificate) a session logged in with
 *   and the restrictions of the line that let it in, kept for the whole
 *   session: tunnels are checked against its permitopen/permitlisten, and
 *   a reload or the certificate's end can end the session.
 */
#ifndef HOPD_CRED_H
#define HOPD_CRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyopts.h"
#include "wire.h"

struct cert;
struct config;

#define CRED_FILE_MAX_BYTES	(1024 * 1024)		/* CA files */
#define CRED_KRL_MAX_BYTES	(64 * 1024 * 1024)	/* revoked_keys */
#define CRED_CAS_MAX		1024
#define CRED_FOREVER		UINT64_MAX		/* valid_before */

/*
 * Reads a small regular file whole (NUL-terminated), refusing a symbolic
 * link, a FIFO or device, and a file its group or others may write (as
 * sshd's StrictModes).  NULL with the reason in err; *enoent is set when
 * the file does not exist (callers log that more quietly).
 */
char	*cred_read_file(const char *path, size_t max, size_t *lenp,
	    bool *enoent, char *err, size_t errlen);

struct ca_set;
/* NULL with "FILE:LINE: reason" (or "FILE: reason") in err. */
struct ca_set *ca_set_load(const char *path, char *err, size_t errlen);
void	ca_set_free(struct ca_set *);
bool	ca_set_contains(const struct ca_set *, const uint8_t *, size_t);
size_t	ca_set_count(const struct ca_set *);

struct revoked;
/* Reads path now; NULL only when out of memory. */
struct revoked *revoked_open(const char *path);
void	revoked_free(struct revoked *);
/* Reads the file again if it changed since (blocks: run off the loop). */
void	revoked_refresh(struct revoked *);
/*
 * Whether the file is usable: 0, or -1 with why it is not in buf (every
 * key is then refused).  For hopd -t and the log.
 */
int	revoked_status(struct revoked *, char *buf, size_t len);

enum cred_revocation {
	CRED_NOT_REVOKED,
	CRED_REVOKED,		/* *why: which entry */
	CRED_UNUSABLE		/* the file: fail closed */
};
/* A plain key blob (for a certificate: its certified key). */
enum cred_revocation revoked_check_key(struct revoked *, const uint8_t *,
	    size_t, const char **why);
/* A certificate: its serial and key id, its key and its CA's key. */
enum cred_revocation revoked_check_cert(struct revoked *,
	    const struct cert *, const char **why);

struct credential {
	char		 key_fp[WIRE_FP_LEN];	/* the key, not the cert */
	uint8_t		*key_blob;		/* plain key blob */
	size_t		 key_len;
	bool		 is_cert;
	bool		 ca_from_file;	/* trusted_user_ca_keys, else an
					 * authorized_keys cert-authority */
	uint8_t		*ca_blob;
	size_t		 ca_len;
	char		 ca_fp[WIRE_FP_LEN];
	uint64_t	 serial;
	char		*key_id;
	char		*principal;
	uint64_t	 valid_before;		/* CRED_FOREVER */
	char		*force_command;		/* certificate or command= */
	bool		 has_opts;		/* opts below narrow tunnels */
	struct keyopts	 opts;
};

void	credential_free(struct credential *);
/*
 * Whether a live session's credential still holds under cfg (after a
 * reload): not revoked by cfg's revoked_keys, its CA (when it came from
 * trusted_user_ca_keys) still listed.  True, or false with why.  Reads no
 * file: cfg's revoked_keys were read when cfg was loaded.
 */
bool	credential_still_valid(const struct credential *,
	    const struct config *cfg, const char **why);
/* A certificate's valid_before as the audit writes it, or "forever". */
void	credential_valid_before(const struct credential *, char *buf,
	    size_t len);
/* The tunnel narrowing of the key's options (true when none). */
bool	credential_permits_open(const struct credential *, const char *host,
	    uint16_t port);
bool	credential_permits_listen(const struct credential *,
	    const char *host, uint16_t port);

#endif
