/*
 * keyopts: the options field of an authorized_keys line (sshd(8)
 * AUTHORIZED_KEYS FILE FORMAT), parsed as sshd parses it, and the checks
 * with which a key's options narrow, never widen, what hopd allows.
 * Pure: no I/O, no name lookups (local time conversion reads the zone).
 */
#ifndef HOPD_KEYOPTS_H
#define HOPD_KEYOPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Caps.  sshd allows 4096 permitopen and 4096 permitlisten options and
 * values as long as the line; hopd refuses a line going beyond these.
 */
#define KEYOPTS_PERMIT_MAX	64	/* permitopen options, and
					 * permitlisten options, per line */
#define KEYOPTS_VALUE_MAX	4096	/* bytes of one value, unquoted */
#define KEYOPTS_HOST_MAX	1024	/* bytes of a permit host as written
					 * (sshd: below NI_MAXHOST) */
#define KEYOPTS_ERR_MAX		160	/* enough for any error text */

/* One permitopen or permitlisten option. */
struct keyopts_permit {
	char		*host;		/* brackets removed; permitopen: a
					 * literal, "*" any host; permitlisten:
					 * a pattern, "*" when omitted */
	bool		 any_port;	/* port "*" */
	uint16_t	 port;		/* 1-65535 unless any_port */
};

struct keyopts {
	bool			 forwarding;	/* restrict and [no-]port-
						 * forwarding in order; true
						 * without them */
	bool			 cert_authority;
	bool			 has_expiry;
	int64_t			 expiry;	/* unix seconds, earliest
						 * expiry-time; expired once
						 * it is before now */
	char			*from;		/* pattern-list or NULL */
	char			*principals;	/* name list or NULL */
	char			*command;	/* never run; kept for audit */
	struct keyopts_permit	*open;		/* permitopen, in order */
	size_t			 nopen;
	struct keyopts_permit	*listen;	/* permitlisten, in order */
	size_t			 nlisten;
};

/* What a key line without options gets: sshd's defaults. */
void	keyopts_init(struct keyopts *o);

/*
 * Parses the options at s (at most len bytes, a NUL also ends them) up to
 * the first unquoted space, tab, CR or LF, where *endp (if not NULL) is
 * left; empty options give keyopts_init's defaults.  Syntax as sshd:
 * name or name="value", comma-separated, names case-insensitive, \" a quote
 * inside a value.  Unlike sshd, an empty name (",,", a leading or trailing
 * comma) is an error.  Options hopd cannot honour (environment, tunnel,
 * [no-]touch-required, [no-]verify-required) and unknown ones are errors
 * naming the option, so that the line is refused rather than half obeyed.
 * Returns 0, or -1 with out left as keyopts_init leaves it and the reason
 * in err (if not NULL; KEYOPTS_ERR_MAX is enough).
 */
int	keyopts_parse(const char *s, size_t len, struct keyopts *out,
	    const char **endp, char *err, size_t errlen);

/*
 * Whether name (len bytes) is an option sshd knows that takes no value
 * ("restrict", "no-pty", ...; case-insensitive): a line starting with one
 * has options, not a key type.
 */
bool	keyopts_is_flag(const char *name, size_t len);

/* Frees what o owns and leaves it as keyopts_init does. */
void	keyopts_free(struct keyopts *o);

/*
 * Whether a key line with these options may log in from addr (the peer's
 * address as text) at now (unix seconds), as sshd's
 * auth_authorise_keyopts: not expired, no principals without
 * cert-authority, from= matched.  The forwarding flag is not looked at:
 * keyopts_permits_* refuse every request when it is off.  0, or -1 with a
 * static reason in *why (if not NULL).
 */
int	keyopts_authorise(const struct keyopts *o, const char *addr,
	    int64_t now, const char **why);

/*
 * A from= pattern-list against the peer's address text, as sshd's
 * match_host_and_ip with UseDNS no (the host name is the address): CIDR
 * entries, globs on the address text (case-insensitive), a matching
 * !entry refuses.  1 allowed, 0 not: also for no match, an address that
 * does not parse and a malformed list (empty entry, bad CIDR, or an
 * address form hopd's strict parser refuses but getaddrinfo would read).
 */
int	keyopts_match_from(const char *patterns, const char *addr);
bool	keyopts_from_valid(const char *patterns);

/*
 * A certificate's source-address list (addresses and CIDRs only, no
 * negation, no globs), as sshd's addr_match_cidr_list.  1 allowed, 0 not,
 * also for a malformed list or address.
 */
int	keyopts_match_cidr_list(const char *list, const char *addr);
bool	keyopts_cidr_list_valid(const char *list);

/*
 * Whether a direct-tcpip request for host (exactly as the client sent it)
 * and port is allowed: forwarding on, and no permitopen or one whose host
 * is "*" or equal (case-sensitive) and whose port is "*" or equal.
 */
bool	keyopts_permits_open(const struct keyopts *o, const char *host,
	    uint16_t port);

/*
 * Whether a tcpip-forward request for bind address host (as sent, "" for
 * all) and port is allowed: forwarding on, and no permitlisten or one
 * whose pattern matches host lowercased (an upper-case letter in a pattern
 * never matches, as in sshd) and whose port is "*" or equal.  Port 0
 * (allocate one) only matches a "*" port.
 */
bool	keyopts_permits_listen(const struct keyopts *o, const char *host,
	    uint16_t port);

/*
 * name is in the comma-separated principals list (exact match; as sshd, an
 * empty entry ends the list).
 */
bool	keyopts_principal_listed(const char *principals, const char *name);

#endif
