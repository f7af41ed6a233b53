/*
 * auth: public key and certificate authentication against the files the
 * configuration names: authorized_keys and authorized_principals (templates:
 * %u user, %h home, %% percent), trusted_user_ca_keys and revoked_keys.
 */
#ifndef HOPD_AUTH_H
#define HOPD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libssh/libssh.h>

#include "keyopts.h"

#define AUTH_LINE_MAX	8192
#define AUTH_REASON_MAX	192

struct config;
struct credential;

struct auth_line {
	const char	*type;		/* "ssh-ed25519", points into the line */
	size_t		type_len;
	const char	*blob;		/* base64 */
	size_t		blob_len;
	bool		has_opts;
	struct keyopts	opts;		/* when has_opts: auth_line_free */
};

/*
 * Pure: splits one authorized_keys line (sshd(8) AUTHORIZED_KEYS FILE
 * FORMAT: [options] keytype base64 [comment]) and parses its options.
 * Returns 1 for a key line, 0 for a blank or comment line, -1 for a
 * malformed one or one with an option hopd cannot honour (the reason in
 * err).
 */
int	auth_parse_line(const char *line, struct auth_line *out, char *err,
	    size_t errlen);
void	auth_line_free(struct auth_line *);

struct auth_request {
	const struct config	*cfg;
	const char		*user;
	ssh_key			 key;	/* as libssh parsed it */
	const char		*peer;	/* the client's address, no port */
	uint64_t		 now;	/* seconds since the epoch */
	/*
	 * The SHA-256 of the certificate whose CA signature verified at an
	 * earlier request of this session (the probe): the same bytes again
	 * need no second verification.  NULL: none.  Out: set when a CA
	 * signature verified now (verified_out may be NULL).
	 */
	const uint8_t		*verified;
	uint8_t			*verified_out;
	bool			*verified_set;
};

/*
 * Whether the key (or certificate) may log in as the user.  Always fills
 * reason (for the audit: why it failed, or how it succeeded) and as much
 * of cr as is known (the key's fingerprint, a certificate's fields), which
 * the caller frees with credential_free().  A user name
 * policy_valid_user_name() refuses, a missing file, an unknown user (when
 * %h is used), an unreadable file and a key that is not listed all fail;
 * the details go to the log, never to the client.  Blocks: file reads.
 */
bool	auth_check(const struct auth_request *, struct credential *cr,
	    char *reason, size_t rlen);

/* "SHA256:..." fingerprint of key into buf (empty on failure). */
void	auth_fingerprint(ssh_key key, char *buf, size_t len);

#endif
