/*
 * policy: the rule set of hopd.ini(5) and the one place where a tunnel is
 * judged: which rules apply to a user, the verdict for each resolved address
 * of a target, and the verdict for a remote-forward bind.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"

#define RULE_TEXT_MAX	512	/* longer values are an error */
#define PRIVILEGED_PORT	1024	/* ports below: only when named */

static const char	reason_allowed[] = "allowed by rule";
static const char	reason_denied[] = "denied by rule";
static const char	reason_no_rule[] = "no rule allows";
static const char	reason_invalid[] = "invalid request";
static const char	reason_no_listen[] = "no listen rule allows";
static const char	reason_bad_bind[] = "invalid bind address";
static const char	reason_privileged[] =
    "port below 1024 not named by a rule";

static const char	why_expected[] =
    "expected HOST:PORTS, e.g. db1.internal:22 or 10.0.0.0/8:5432,6432";
static const char	why_expected_listen[] =
    "expected BIND:PORTS, e.g. localhost:8080, *:8000-8099 or "
    "[::1]:8080";
static const char	why_nomem[] = "out of memory";

static void
verdict_set(struct verdict *v, bool allow, const struct rule *r,
    const char *reason)
{
	v->allow = allow;
	v->rule = r;
	v->reason = reason;
}

static const char *
special_reason(enum addr_special s)
{
	switch (s) {
	case ADDR_LOOPBACK:
		return "loopback address not named by a rule";
	case ADDR_UNSPECIFIED:
		return "unspecified address not named by a rule";
	case ADDR_LINK_LOCAL:
		return "link-local address not named by a rule";
	case ADDR_MULTICAST:
		return "multicast address not named by a rule";
	case ADDR_BROADCAST:
		return "broadcast address not named by a rule";
	case ADDR_RESERVED:
		return "reserved address not named by a rule";
	case ADDR_METADATA:
		return "cloud metadata address not named by a rule";
	case ADDR_ORDINARY:
		break;
	}
	return "special address not named by a rule";
}

/* Building. */

struct policy *
policy_new(void)
{
	return calloc(1, sizeof(struct policy));
}

static void
rule_clear(struct rule *r)
{
	free(r->name);
	free(r->text);
}

void
policy_free(struct policy *p)
{
	struct policy_section	*s;
	size_t			 i, j;

	if (p == NULL)
		return;
	for (i = 0; i < p->nsections; i++) {
		s = &p->sections[i];
		free(s->name);
		for (j = 0; j < s->nmembers; j++)
			free(s->members[j]);
		free(s->members);
		for (j = 0; j < s->nrules; j++)
			rule_clear(&s->rules[j]);
		free(s->rules);
	}
	free(p->sections);
	for (i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	free(p);
}

const char *
policy_intern_file(struct policy *p, const char *file)
{
	char	**files, *copy;
	size_t	  i;

	if (p == NULL || file == NULL)
		return NULL;
	for (i = 0; i < p->nfiles; i++)
		if (strcmp(p->files[i], file) == 0)
			return p->files[i];
	if ((copy = strdup(file)) == NULL)
		return NULL;
	files = reallocarray(p->files, p->nfiles + 1, sizeof(*files));
	if (files == NULL) {
		free(copy);
		return NULL;
	}
	p->files = files;
	p->files[p->nfiles++] = copy;
	return copy;
}

struct policy_section *
policy_section(struct policy *p, bool is_group, const char *name)
{
	struct policy_section	*sections, *s;
	size_t			 i;

	if (p == NULL || name == NULL)
		return NULL;
	for (i = 0; i < p->nsections; i++) {
		s = &p->sections[i];
		if (s->is_group == is_group && strcmp(s->name, name) == 0)
			return s;
	}
	sections = reallocarray(p->sections, p->nsections + 1,
	    sizeof(*sections));
	if (sections == NULL)
		return NULL;
	p->sections = sections;
	s = &p->sections[p->nsections];
	memset(s, 0, sizeof(*s));
	if ((s->name = strdup(name)) == NULL)
		return NULL;
	s->is_group = is_group;
	p->nsections++;
	return s;
}

bool
policy_valid_user_name(const char *name)
{
	size_t	i;
	char	c;

	if (name == NULL)
		return false;
	for (i = 0; (c = name[i]) != '\0'; i++) {
		if (i >= POLICY_USER_NAME_MAX)
			return false;
		if ((c >= 'a' && c <= 'z') || c == '_')
			continue;
		if (i > 0 && ((c >= '0' && c <= '9') || c == '.' || c == '-'))
			continue;
		return false;
	}
	return i > 0;
}

int
policy_add_member(struct policy_section *g, const char *user,
    const char **why)
{
	const char	 *dummy;
	char		**members, *copy;
	size_t		  i;

	if (why == NULL)
		why = &dummy;
	if (g == NULL || !g->is_group) {
		*why = "members belong in a [group NAME] section";
		return -1;
	}
	if (!policy_valid_user_name(user)) {
		*why = "invalid user name: 1 to 32 characters a-z, 0-9, "
		    "'_', '.' or '-', starting with a letter or '_', e.g. "
		    "members = alice, bob";
		return -1;
	}
	for (i = 0; i < g->nmembers; i++)
		if (strcmp(g->members[i], user) == 0)
			return 0;
	if ((copy = strdup(user)) == NULL) {
		*why = why_nomem;
		return -1;
	}
	members = reallocarray(g->members, g->nmembers + 1, sizeof(*members));
	if (members == NULL) {
		free(copy);
		*why = why_nomem;
		return -1;
	}
	g->members = members;
	g->members[g->nmembers++] = copy;
	return 0;
}

/* Only digits and dots, or digits, dots and wildcards: an address. */
static bool
looks_numeric(const char *s, size_t len, const char *extra)
{
	size_t	i;
	bool	digit = false;

	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digit = true;
		else if (s[i] != '.' && strchr(extra, s[i]) == NULL)
			return false;
	}
	return digit;
}

/*
 * Addresses are decided in normal form, ::ffff:a.b.c.d as a.b.c.d: a rule
 * written in the mapped form must be too, or it could never match (a dead
 * deny is a wrong allow).  A mapped network without host bits set has a
 * prefix of at least 96, so the IPv4 prefix is the rest.
 */
static void
normalize_mapped_cidr(struct rule *r)
{
	struct ip_addr	a = r->net;

	addr_normalize(&a);
	if (a.family == r->net.family || r->prefix < 96)
		return;
	r->net = a;
	r->prefix -= 96;
}

/* The pattern of an allow or deny rule. */
static int
parse_target_pattern(const char *pat, struct rule *r, const char **why)
{
	size_t	i, len = strlen(pat);

	if (pat[0] == '[' || strchr(pat, '/') != NULL ||
	    looks_numeric(pat, len, "")) {
		r->pattern = PATTERN_CIDR;
		if (addr_parse_cidr(pat, &r->net, &r->prefix, why) == -1)
			return -1;
		normalize_mapped_cidr(r);
		return 0;
	}
	if (looks_numeric(pat, len, "*?")) {
		*why = "globs never match addresses; write a CIDR, "
		    "e.g. 10.0.0.0/24:22";
		return -1;
	}
	if (!addr_valid_glob(pat)) {
		*why = "invalid name pattern: letters, digits, '-', '.', "
		    "'*' and '?', e.g. *.db.internal:22";
		return -1;
	}
	r->pattern = PATTERN_NAME;
	if ((r->name = strdup(pat)) == NULL) {
		*why = why_nomem;
		return -1;
	}
	for (i = 0; i < len; i++)
		if (r->name[i] >= 'A' && r->name[i] <= 'Z')
			r->name[i] = (char)(r->name[i] - 'A' + 'a');
	return 0;
}

/* The bind address of a listen rule. */
static int
parse_listen_pattern(const char *pat, struct rule *r, const char **why)
{
	if (strcasecmp(pat, "localhost") == 0) {
		r->pattern = PATTERN_LOCALHOST;
		return 0;
	}
	if (strcmp(pat, "*") == 0) {
		r->pattern = PATTERN_WILDCARD;
		return 0;
	}
	if (addr_parse_ip(pat, &r->net) == -1) {
		*why = why_expected_listen;
		return -1;
	}
	addr_normalize(&r->net);
	r->pattern = PATTERN_CIDR;
	r->prefix = r->net.family == AF_INET ? 32 : 128;
	return 0;
}

int
policy_add_rule(struct policy *p, struct policy_section *sec,
    enum rule_kind kind, const char *value, const char *file,
    unsigned line, const char **why)
{
	struct rule	 r, *rules;
	const char	*dummy, *colon, *close;
	char		*pattern = NULL;
	size_t		 len;

	if (why == NULL)
		why = &dummy;
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.line = line;
	if (p == NULL || sec == NULL ||
	    (kind != RULE_ALLOW && kind != RULE_DENY && kind != RULE_LISTEN)) {
		*why = "rule outside a [user] or [group] section";
		return -1;
	}
	if (value == NULL || (len = strnlen(value, RULE_TEXT_MAX + 1)) == 0) {
		*why = kind == RULE_LISTEN ? why_expected_listen : why_expected;
		return -1;
	}
	if (len > RULE_TEXT_MAX) {
		*why = "rule longer than 512 characters";
		return -1;
	}
	if (value[0] == '[') {
		/* "[2001:db8::/32]:22": the ports follow the ']'. */
		if ((close = strchr(value, ']')) == NULL) {
			*why = "missing ']': write IPv6 as [2001:db8::1]:22";
			return -1;
		}
		colon = strchr(close, ':');
	} else {
		colon = strrchr(value, ':');
		if (colon != NULL && memchr(value, ':',
		    (size_t)(colon - value)) != NULL) {
			*why = "IPv6 addresses need brackets: [2001:db8::1]:22";
			return -1;
		}
	}
	if (colon == NULL || colon == value || colon[1] == '\0') {
		*why = kind == RULE_LISTEN ? why_expected_listen : why_expected;
		return -1;
	}
	if ((pattern = strndup(value, (size_t)(colon - value))) == NULL) {
		*why = why_nomem;
		goto fail;
	}
	if (addr_parse_port_set(colon + 1, &r.ports, why) == -1)
		goto fail;
	if (kind == RULE_LISTEN) {
		if (parse_listen_pattern(pattern, &r, why) == -1)
			goto fail;
	} else if (parse_target_pattern(pattern, &r, why) == -1)
		goto fail;
	if ((r.text = strdup(value)) == NULL ||
	    (file != NULL && (r.file = policy_intern_file(p, file)) == NULL)) {
		*why = why_nomem;
		goto fail;
	}
	rules = reallocarray(sec->rules, sec->nrules + 1, sizeof(*rules));
	if (rules == NULL) {
		*why = why_nomem;
		goto fail;
	}
	sec->rules = rules;
	sec->rules[sec->nrules++] = r;
	free(pattern);
	return 0;

fail:
	free(pattern);
	rule_clear(&r);
	return -1;
}

/* Which rules apply. */

static bool
section_applies(const struct policy_section *s, const char *user)
{
	size_t	i;

	if (!s->is_group)
		return strcmp(s->name, user) == 0;
	for (i = 0; i < s->nmembers; i++)
		if (strcmp(s->members[i], user) == 0)
			return true;
	return false;
}

static bool
valid_user(const struct policy *p, const char *user)
{
	return p != NULL && user != NULL && *user != '\0';
}

bool
policy_knows_user(const struct policy *p, const char *user)
{
	size_t	i;

	if (!valid_user(p, user))
		return false;
	for (i = 0; i < p->nsections; i++)
		if (section_applies(&p->sections[i], user))
			return true;
	return false;
}

/* Targets. */

static bool
name_matches(const struct rule *r, const struct host *h)
{
	return r->pattern == PATTERN_NAME && h->kind == HOST_NAME &&
	    addr_glob_match(r->name, h->text);
}

/* a is normalized; v4 is the IPv4 address embedded in it, or NULL. */
static bool
deny_matches(const struct rule *r, const struct host *h, uint16_t port,
    const struct ip_addr *a, const struct ip_addr *v4)
{
	if (r->kind != RULE_DENY || !port_set_contains(&r->ports, port))
		return false;
	if (r->pattern == PATTERN_NAME)
		return name_matches(r, h);
	if (r->pattern != PATTERN_CIDR)
		return false;
	return addr_cidr_contains(&r->net, r->prefix, a) ||
	    (v4 != NULL && addr_cidr_contains(&r->net, r->prefix, v4));
}

static bool
allow_matches(const struct rule *r, const struct host *h, uint16_t port,
    const struct ip_addr *a)
{
	if (r->kind != RULE_ALLOW || !port_set_contains(&r->ports, port))
		return false;
	if (r->pattern == PATTERN_NAME)
		return name_matches(r, h);
	return r->pattern == PATTERN_CIDR &&
	    addr_cidr_contains(&r->net, r->prefix, a);
}

/*
 * The decision procedure of hopd.ini(5) for one resolved address: deny
 * rules first, then the special ranges, then allow rules, then the default.
 */
static void
decide_one(const struct policy *p, const char *user, const struct host *h,
    uint16_t port, const struct ip_addr *addr, struct verdict *out)
{
	const struct policy_section	*s;
	const struct rule		*r, *allow = NULL, *unlock = NULL;
	struct ip_addr			 a = *addr, v4, range;
	enum addr_special		 special;
	unsigned			 range_prefix = 0;
	bool				 has_v4;
	size_t				 i, j;

	if (a.family != AF_INET && a.family != AF_INET6) {
		verdict_set(out, false, NULL, reason_invalid);
		return;
	}
	addr_normalize(&a);
	has_v4 = addr_embedded_v4(&a, &v4);
	special = addr_special(&a);
	if (special != ADDR_ORDINARY &&
	    !addr_special_range(&a, &range, &range_prefix)) {
		verdict_set(out, false, NULL, reason_invalid);
		return;
	}
	for (i = 0; i < p->nsections; i++) {
		s = &p->sections[i];
		if (!section_applies(s, user))
			continue;
		for (j = 0; j < s->nrules; j++) {
			r = &s->rules[j];
			if (deny_matches(r, h, port, &a, has_v4 ? &v4 : NULL)) {
				verdict_set(out, false, r, reason_denied);
				return;
			}
			if (!allow_matches(r, h, port, &a))
				continue;
			if (allow == NULL)
				allow = r;
			/* Only an address rule as narrow as the range. */
			if (unlock == NULL && r->pattern == PATTERN_CIDR &&
			    r->prefix >= range_prefix)
				unlock = r;
		}
	}
	if (special != ADDR_ORDINARY) {
		if (unlock != NULL)
			verdict_set(out, true, unlock, reason_allowed);
		else
			verdict_set(out, false, NULL, special_reason(special));
	} else if (allow != NULL)
		verdict_set(out, true, allow, reason_allowed);
	else
		verdict_set(out, false, NULL, reason_no_rule);
}

bool
policy_precheck(const struct policy *p, const char *user,
    const struct host *h, uint16_t port, struct verdict *out)
{
	const struct policy_section	*s;
	const struct rule		*r;
	bool				 could = false;
	size_t				 i, j;

	if (out == NULL)
		return false;
	if (!valid_user(p, user) || h == NULL || port == 0) {
		verdict_set(out, false, NULL, reason_invalid);
		return false;
	}
	for (i = 0; i < p->nsections; i++) {
		s = &p->sections[i];
		if (!section_applies(s, user))
			continue;
		for (j = 0; j < s->nrules; j++) {
			r = &s->rules[j];
			if (!port_set_contains(&r->ports, port))
				continue;
			if (r->kind == RULE_DENY && name_matches(r, h)) {
				verdict_set(out, false, r, reason_denied);
				return false;
			}
			if (r->kind == RULE_ALLOW &&
			    (r->pattern == PATTERN_CIDR || name_matches(r, h)))
				could = true;
		}
	}
	if (!could) {
		verdict_set(out, false, NULL, reason_no_rule);
		return false;
	}
	verdict_set(out, true, NULL, reason_allowed);
	return true;
}

size_t
policy_decide(const struct policy *p, const char *user, const struct host *h,
    uint16_t port, const struct ip_addr *addrs, size_t n, struct verdict *out)
{
	size_t	i, allowed = 0;

	if (out == NULL || n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (!valid_user(p, user) || h == NULL || port == 0 ||
		    addrs == NULL)
			verdict_set(&out[i], false, NULL, reason_invalid);
		else
			decide_one(p, user, h, port, &addrs[i], &out[i]);
		if (out[i].allow)
			allowed++;
	}
	return allowed;
}

size_t
policy_decide_target(const struct policy *p, const char *user,
    const struct host *h, uint16_t port, const struct ip_addr *addrs,
    size_t n, struct verdict *out, struct verdict *d)
{
	size_t	i, allowed;

	allowed = policy_decide(p, user, h, port, addrs, n, out);
	verdict_set(d, false, NULL, n > 0 ? out[0].reason : reason_invalid);
	if (n > 0)
		d->rule = out[0].rule;
	for (i = 0; i < n && allowed > 0; i++)
		if (out[i].allow) {
			*d = out[i];
			break;
		}
	return allowed;
}

/* Remote forwards. */

enum bind_kind {
	BIND_LOOPBACK,		/* "" or "localhost" */
	BIND_STAR,		/* "*" */
	BIND_IP			/* a literal, 0.0.0.0 and :: included */
};

static int
parse_bind(const char *bind, enum bind_kind *kind, struct ip_addr *ip)
{
	if (bind == NULL)
		return -1;
	if (*bind == '\0' || strcasecmp(bind, "localhost") == 0) {
		*kind = BIND_LOOPBACK;
		return 0;
	}
	if (strcmp(bind, "*") == 0) {
		*kind = BIND_STAR;
		return 0;
	}
	if (addr_parse_ip(bind, ip) == -1)
		return -1;
	addr_normalize(ip);
	*kind = BIND_IP;
	return 0;
}

/* 127.0.0.1 or ::1, the addresses "localhost" binds. */
static bool
is_localhost_ip(const struct ip_addr *a)
{
	static const uint8_t	v4[4] = { 127, 0, 0, 1 };
	static const uint8_t	v6[16] = { [15] = 1 };

	if (a->family == AF_INET)
		return memcmp(a->bytes, v4, sizeof(v4)) == 0;
	return a->family == AF_INET6 && memcmp(a->bytes, v6, sizeof(v6)) == 0;
}

/* 0.0.0.0 or ::, the addresses "*" binds (ip is normalized). */
static bool
is_any_ip(const struct ip_addr *a)
{
	static const uint8_t	zero[16];

	if (a->family == AF_INET)
		return memcmp(a->bytes, zero, 4) == 0;
	return a->family == AF_INET6 && memcmp(a->bytes, zero, 16) == 0;
}

/*
 * Whether rule r covers the bind asked.  forward.c asks again for each
 * concrete address it binds ("*" is 0.0.0.0 and ::, loopback 127.0.0.1
 * and ::1), so a "*" rule covers 0.0.0.0 and :: as "localhost" covers the
 * loopback pair; a rule naming one address covers that one alone.
 */
static bool
listen_bind_matches(const struct rule *r, enum bind_kind kind,
    const struct ip_addr *ip)
{
	switch (r->pattern) {
	case PATTERN_LOCALHOST:
		return kind == BIND_LOOPBACK ||
		    (kind == BIND_IP && is_localhost_ip(ip));
	case PATTERN_WILDCARD:
		return kind == BIND_STAR || (kind == BIND_IP && is_any_ip(ip));
	case PATTERN_CIDR:
		if (kind == BIND_LOOPBACK)
			return is_localhost_ip(&r->net);
		return kind == BIND_IP && addr_equal(&r->net, ip);
	case PATTERN_NAME:
		break;
	}
	return false;
}

/* A port below 1024 only when the rule writes it with numbers. */
static bool
listen_port_ok(const struct rule *r, uint16_t port)
{
	unsigned	i;

	if (!port_set_contains(&r->ports, port))
		return false;
	if (port >= PRIVILEGED_PORT)
		return true;
	for (i = 0; i < r->ports.n && i < PORT_SET_MAX; i++)
		if (port >= r->ports.r[i].lo && port <= r->ports.r[i].hi)
			return true;
	return false;
}

bool
policy_decide_listen(const struct policy *p, const char *user,
    const char *bind, uint16_t port, struct verdict *out)
{
	const struct policy_section	*s;
	const struct rule		*r;
	struct verdict			 dummy;
	struct ip_addr			 ip;
	enum bind_kind			 kind;
	const char			*reason = reason_no_listen;
	size_t				 i, j;

	if (out == NULL)
		out = &dummy;
	if (!valid_user(p, user)) {
		verdict_set(out, false, NULL, reason_invalid);
		return false;
	}
	if (parse_bind(bind, &kind, &ip) == -1) {
		verdict_set(out, false, NULL, reason_bad_bind);
		return false;
	}
	for (i = 0; i < p->nsections; i++) {
		s = &p->sections[i];
		if (!section_applies(s, user))
			continue;
		for (j = 0; j < s->nrules; j++) {
			r = &s->rules[j];
			if (r->kind != RULE_LISTEN ||
			    !listen_bind_matches(r, kind, &ip))
				continue;
			/* Port 0: any valid rule allows some port. */
			if (port == 0 ? (r->ports.any || r->ports.n > 0) :
			    listen_port_ok(r, port)) {
				verdict_set(out, true, r, reason_allowed);
				return true;
			}
			if (port < PRIVILEGED_PORT &&
			    port_set_contains(&r->ports, port))
				reason = reason_privileged;
		}
	}
	verdict_set(out, false, NULL, reason);
	return false;
}

bool
policy_listen_port_allowed(const struct policy *p, const char *user,
    const char *bind, uint16_t port)
{
	if (port == 0)
		return false;
	return policy_decide_listen(p, user, bind, port, NULL);
}

void
policy_rule_origin(const struct rule *r, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return;
	if (r == NULL)
		snprintf(buf, len, "default");
	else
		snprintf(buf, len, "%s:%u", r->file != NULL ? r->file : "-",
		    r->line);
}
