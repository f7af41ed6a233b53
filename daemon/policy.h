/*
 * policy: the rule set and the decision procedure of hopd.ini(5).  Pure: it
 * knows nothing of libssh, libuv or the network; addresses come resolved.
 */
#ifndef HOPD_POLICY_H
#define HOPD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum rule_kind {
	RULE_ALLOW,		/* allow = PATTERN:PORTS */
	RULE_DENY,		/* deny = PATTERN:PORTS */
	RULE_LISTEN		/* listen = BIND:PORTS (remote forwards) */
};

enum pattern_kind {
	PATTERN_NAME,		/* glob on the asked name (names only) */
	PATTERN_CIDR,		/* address or CIDR on each resolved address */
	PATTERN_LOCALHOST,	/* listen rules: "localhost" */
	PATTERN_WILDCARD	/* listen rules: "*" (0.0.0.0 and ::) */
};

struct rule {
	enum rule_kind		kind;
	enum pattern_kind	pattern;
	char			*name;		/* PATTERN_NAME, lowercased */
	struct ip_addr		net;		/* PATTERN_CIDR */
	unsigned		prefix;
	struct port_set		ports;
	const char		*file;		/* owned by struct policy */
	unsigned		line;
	char			*text;		/* the value as written */
};

struct policy_section {
	bool		is_group;
	char		*name;
	char		**members;	/* groups only */
	size_t		nmembers;
	struct rule	*rules;
	size_t		nrules;
};

struct policy {
	struct policy_section	*sections;
	size_t			nsections;
	char			**files;	/* file names rules point into */
	size_t			nfiles;
};

struct verdict {
	bool		allow;
	const struct rule *rule;	/* deciding rule; NULL: the default */
	const char	*reason;	/* static, short, lowercase */
};

/* Building (used by config.c).  All return 0 or -1 with *why set. */
struct policy *policy_new(void);
void	policy_free(struct policy *p);
const char *policy_intern_file(struct policy *p, const char *file);
/*
 * Finds or creates a section.  The pointer stays valid until the next call
 * that creates one (the array moves); look it up again per key.
 */
struct policy_section *policy_section(struct policy *p, bool is_group,
	    const char *name);
/*
 * The one rule for a user name, wherever it comes from: the SSH user name
 * a client sends (before it is looked up, logged or put in a path by %u),
 * [user] and [group] section names, members.  1 to POLICY_USER_NAME_MAX
 * bytes of a-z, 0-9, '_', '.' and '-', the first a letter or '_': no upper
 * case, no leading '.' or '-' (so neither "." nor ".." nor anything that
 * reads as an option), no '/', nothing outside ASCII.  The shape of
 * useradd(8)'s names (Debian's adduser default ^[a-z][-a-z0-9_]*$ fits in
 * it), which may also hold a dot.
 */
#define POLICY_USER_NAME_MAX	32	/* bytes, as useradd(8) allows */
bool	policy_valid_user_name(const char *name);
int	policy_add_member(struct policy_section *g, const char *user,
	    const char **why);
/*
 * Parses "PATTERN:PORTS" for kind into a rule appended to sec.  Verdicts
 * point at rules: build the policy fully before deciding with it.
 */
int	policy_add_rule(struct policy *p, struct policy_section *sec,
	    enum rule_kind kind, const char *value, const char *file,
	    unsigned line, const char **why);

/* True if user is named by some [user] section or group. */
bool	policy_knows_user(const struct policy *p, const char *user);

/*
 * Before resolving: deny at once when a name deny rule matches host:port or
 * when no allow rule of the user could ever match (no rule with that port
 * whose pattern could match).  Returns true when resolving is worth it;
 * otherwise *out says why not.
 */
bool	policy_precheck(const struct policy *p, const char *user,
	    const struct host *h, uint16_t port, struct verdict *out);

/*
 * The decision for each of the n resolved addresses of host h (a literal
 * resolves to itself): out[i] for addrs[i].  Returns how many are allowed.
 */
size_t	policy_decide(const struct policy *p, const char *user,
	    const struct host *h, uint16_t port, const struct ip_addr *addrs,
	    size_t n, struct verdict *out);

/*
 * The decision a direct-tcpip tunnel acts on, and hopd --explain prints:
 * policy_decide() for each address, and in *d the deciding verdict: the
 * first allowed address's if any is allowed, else the first address's.
 */
size_t	policy_decide_target(const struct policy *p, const char *user,
	    const struct host *h, uint16_t port, const struct ip_addr *addrs,
	    size_t n, struct verdict *out, struct verdict *d);

/*
 * Remote forwards.  bind is the address as the client sent it ("" and
 * "localhost" mean loopback, "*" all addresses); port 0 asks for any port
 * the rules allow.  policy_decide_listen() decides the request;
 * policy_listen_port_allowed() tells whether one concrete port may be bound
 * for it (used when allocating for port 0).
 */
bool	policy_decide_listen(const struct policy *p, const char *user,
	    const char *bind, uint16_t port, struct verdict *out);
bool	policy_listen_port_allowed(const struct policy *p, const char *user,
	    const char *bind, uint16_t port);

/* "file:line" of the deciding rule, or "default". */
void	policy_rule_origin(const struct rule *r, char *buf, size_t len);

#endif
