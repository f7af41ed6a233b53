/*
 * libFuzzer target for the strict parsers of addr.c and the rules and
 * decisions of policy.c.  The whole input goes to each parser; then it is
 * read as lines: rules ("a"/"d"/"l" then PATTERN:PORTS, space separated),
 * a target host, and resolved addresses.  Every verdict is checked against
 * the promises of hopd.ini(5): an allow always has an allow rule for the
 * port, no deny rule matches it, and a special address is allowed only by
 * an address rule at least as specific as its range.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "policy.h"

#define FUZZ_INPUT_MAX	8192
#define FUZZ_ADDRS_MAX	8
#define FUZZ_USER	"alice"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any violation of a promise is a crash for libFuzzer to keep. */
#define PROMISE(cond)	do { if (!(cond)) __builtin_trap(); } while (0)

static void
parse_everything(const char *s)
{
	struct host	 h;
	struct port_set	 ps;
	struct ip_addr	 ip, net;
	unsigned	 prefix;
	uint16_t	 port;
	const char	*why;
	char		 buf[ADDR_TEXT_MAX];

	if (addr_parse_host(s, &h, &why) == 0) {
		PROMISE(strlen(h.text) <= ADDR_NAME_MAX);
		PROMISE(h.kind == HOST_NAME || h.ip.family == AF_INET ||
		    h.ip.family == AF_INET6);
	}
	if (addr_parse_port_set(s, &ps, &why) == 0)
		PROMISE(ps.any || (ps.n >= 1 && ps.n <= PORT_SET_MAX));
	if (addr_parse_port(s, &port) == 0)
		PROMISE(port != 0);
	if (addr_parse_cidr(s, &net, &prefix, &why) == 0) {
		PROMISE(prefix <= (net.family == AF_INET ? 32u : 128u));
		PROMISE(addr_cidr_contains(&net, prefix, &net));
	}
	if (addr_parse_ip(s, &ip) == 0) {
		/* What addr_format prints, addr_parse_ip reads back. */
		PROMISE(addr_format(&ip, buf, sizeof(buf)) == 0);
		PROMISE(addr_parse_ip(buf, &net) == 0 && addr_equal(&ip, &net));
	}
	(void)addr_valid_glob(s);
}

static bool
section_applies(const struct policy_section *s)
{
	size_t	i;

	if (!s->is_group)
		return strcmp(s->name, FUZZ_USER) == 0;
	for (i = 0; i < s->nmembers; i++)
		if (strcmp(s->members[i], FUZZ_USER) == 0)
			return true;
	return false;
}

/* An allow of a (as decided) must keep every promise of hopd.ini(5). */
static void
check_allow(const struct policy *p, const struct host *h, uint16_t port,
    const struct ip_addr *addr, const struct verdict *v)
{
	const struct policy_section	*s;
	const struct rule		*r;
	struct ip_addr			 a = *addr, v4, range;
	unsigned			 range_prefix = 0;
	bool				 special, has_v4, unlocked = false;
	size_t				 i, j;

	PROMISE(v->rule != NULL && v->rule->kind == RULE_ALLOW);
	PROMISE(port_set_contains(&v->rule->ports, port));
	addr_normalize(&a);
	has_v4 = addr_embedded_v4(&a, &v4);
	special = addr_special(&a) != ADDR_ORDINARY;
	if (special)
		PROMISE(addr_special_range(&a, &range, &range_prefix));
	for (i = 0; i < p->nsections; i++) {
		s = &p->sections[i];
		if (!section_applies(s))
			continue;
		for (j = 0; j < s->nrules; j++) {
			r = &s->rules[j];
			if (!port_set_contains(&r->ports, port))
				continue;
			if (r->kind == RULE_DENY && r->pattern == PATTERN_NAME)
				PROMISE(h->kind != HOST_NAME ||
				    !addr_glob_match(r->name, h->text));
			if (r->kind == RULE_DENY && r->pattern == PATTERN_CIDR)
				PROMISE(!addr_cidr_contains(&r->net, r->prefix,
				    &a) && (!has_v4 || !addr_cidr_contains(
				    &r->net, r->prefix, &v4)));
			if (r->kind == RULE_ALLOW &&
			    r->pattern == PATTERN_CIDR &&
			    r->prefix >= range_prefix &&
			    addr_cidr_contains(&r->net, r->prefix, &a))
				unlocked = true;
		}
	}
	if (special)
		PROMISE(unlocked);
	if (v->rule->pattern == PATTERN_NAME)
		PROMISE(h->kind == HOST_NAME &&
		    addr_glob_match(v->rule->name, h->text));
}

static void
add_rules(struct policy *p, char *line)
{
	struct policy_section	*sec;
	enum rule_kind		 kind;
	const char		*why;
	char			*tok, *save;
	unsigned		 n = 0;

	for (tok = strtok_r(line, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save), n++) {
		kind = tok[0] == 'd' ? RULE_DENY : tok[0] == 'l' ?
		    RULE_LISTEN : RULE_ALLOW;
		/* Alternately the user's own section and a group's. */
		sec = policy_section(p, n % 2 == 1, n % 2 ? "ops" : FUZZ_USER);
		if (sec == NULL)
			return;
		(void)policy_add_rule(p, sec, kind, tok + 1, "fuzz", n + 1,
		    &why);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy	*p;
	struct host	 h;
	struct ip_addr	 addrs[FUZZ_ADDRS_MAX];
	struct verdict	 v[FUZZ_ADDRS_MAX], lv;
	const char	*why;
	char		*s, *rules, *host, *line, *save;
	uint16_t	 port = 22;
	size_t		 n = 0, i, allowed;

	if (size > FUZZ_INPUT_MAX || (s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	parse_everything(s);
	if ((p = policy_new()) == NULL)
		goto out;
	if (policy_add_member(policy_section(p, true, "ops"), FUZZ_USER,
	    &why) == -1)
		goto out;
	rules = strtok_r(s, "\n", &save);
	host = strtok_r(NULL, "\n", &save);
	if (rules != NULL)
		add_rules(p, rules);
	if (host != NULL && addr_parse_host(host, &h, &why) == 0) {
		if (h.kind != HOST_NAME)
			addrs[n++] = h.ip;
		while (n < FUZZ_ADDRS_MAX &&
		    (line = strtok_r(NULL, "\n", &save)) != NULL)
			if (addr_parse_ip(line, &addrs[n]) == 0)
				n++;
		(void)policy_precheck(p, FUZZ_USER, &h, port, &v[0]);
		allowed = policy_decide(p, FUZZ_USER, &h, port, addrs, n, v);
		for (i = 0; i < n; i++)
			if (v[i].allow) {
				check_allow(p, &h, port, &addrs[i], &v[i]);
				allowed--;
			}
		PROMISE(allowed == 0);
		/* Nobody else gets alice's rules. */
		PROMISE(policy_decide(p, "mallory", &h, port, addrs, n,
		    v) == 0);
	}
	if (host != NULL && policy_decide_listen(p, FUZZ_USER, host, 0, &lv))
		PROMISE(lv.rule != NULL && lv.rule->kind == RULE_LISTEN);
	if (host != NULL && policy_decide_listen(p, FUZZ_USER, host, 80, &lv))
		PROMISE(lv.rule != NULL && lv.rule->ports.any == false);
 out:
	policy_free(p);
	free(s);
	return 0;
}
