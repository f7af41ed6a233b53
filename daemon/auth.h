/*
 * auth: public key authentication against authorized_keys files named by the
 * authorized_keys template (%u user, %h home, %% percent).
 */
#ifndef HOPD_AUTH_H
#define HOPD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include <libssh/libssh.h>

#define AUTH_LINE_MAX	8192

struct auth_line {
	const char	*type;		/* "ssh-ed25519", points into the line */
	size_t		type_len;
	const char	*blob;		/* base64 */
	size_t		blob_len;
	bool		has_options;
	const char	*unsupported;	/* first option hopd does not
					 * implement, else the restrict or
					 * no-port-forwarding that leaves
					 * forwarding forbidden, or NULL */
	size_t		unsupported_len;
	bool		forbids_forwarding;	/* unsupported is that */
};

/*
 * Pure: splits one authorized_keys line (sshd(8) AUTHORIZED_KEYS FILE
 * FORMAT: [options] keytype base64 [comment]).  Returns 1 for a key line,
 * 0 for a blank or comment line, -1 for a malformed one.
 */
int	auth_parse_line(const char *line, struct auth_line *out);

/*
 * True when key is listed for user in the file the template names.  A user
 * name policy_valid_user_name() refuses, a missing file, an unknown user
 * (when %h is used), an unreadable or malformed file and a key that is not
 * listed are all simply false; the
 * reason goes to the log, never to the client.  Lines with options hopd does
 * not implement are skipped with a log line.
 */
bool	auth_key_allowed(const char *tmpl, const char *user, ssh_key key);

/* "SHA256:..." fingerprint of key into buf (empty on failure). */
void	auth_fingerprint(ssh_key key, char *buf, size_t len);

#endif
