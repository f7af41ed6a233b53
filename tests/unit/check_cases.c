/*
 * Unit tests of cases.c: the case line (valid forms, every malformed
 * form), its decision by policy.c's functions against a small policy,
 * the failure text, a cases file read and run, and config.c's
 * policy_cases key.
 */
#include <sys/socket.h>

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"
#include "config.h"
#include "policy.h"
#include "policy_fixture.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define TEST_FILE	POLICY_FIXTURE_FILE
#define LINES_MAX	32

Suite	*cases_suite(void);

/* A policy from INI-like lines; line numbers are array indexes plus one. */
static const char *const conf[] = {
	"[group dba]",					/* 1 */
	"members = alice, bob",
	"allow = *.db.internal:5432",
	"allow = 10.20.0.0/16:5432,6432",
	"deny = 10.20.99.0/24:*",			/* 5 */
	"[user alice]",
	"allow = 10.30.0.0/24:8000-8099",
	"deny = 10.30.0.13:*",
	"allow = 127.0.0.1:8443",
	"listen = localhost:8080",			/* 10 */
	"listen = 127.0.0.1:9000-9099",
	"listen = *:2222",
	"deny = secret.db.internal:*",
	"allow = [2001:db8::/32]:22",
	NULL
};

static struct ip_addr
ip(const char *s)
{
	struct ip_addr	a;

	ck_assert_msg(addr_parse_ip(s, &a) == 0, "test address %s", s);
	addr_normalize(&a);
	return a;
}

/* The resolver of the tests: one name, and counted. */
static unsigned	lookups;

static int
fake_resolve(const char *name, struct ip_addr *addrs, size_t max, size_t *n,
    const char **why)
{
	lookups++;
	if (strcmp(name, "db1.db.internal") == 0 && max >= 2) {
		addrs[0] = ip("10.20.99.7");
		addrs[1] = ip("10.20.1.5");
		*n = 2;
		return 0;
	}
	*why = "unknown node or service";
	return -1;
}

/* Parsing: valid lines. */

static const struct {
	const char	*line;
	enum case_kind	 kind;
	const char	*user;
	bool		 allow;
	const char	*host;		/* host.text, or the bind */
	uint16_t	 port;
	const char	*addrs[3];	/* "= ADDR, ..." */
	const char	*what;
} valid_lines[] = {
	{ "alice db1.internal:5432 allow", CASE_TUNNEL, "alice", true,
	    "db1.internal", 5432, { NULL }, "alice db1.internal:5432" },
	{ "alice DB1.Internal:5432 deny # the name is lowercased",
	    CASE_TUNNEL, "alice", false, "db1.internal", 5432, { NULL },
	    "alice DB1.Internal:5432" },
	{ "bob 10.20.1.5:6432 allow", CASE_TUNNEL, "bob", true, "10.20.1.5",
	    6432, { NULL }, "bob 10.20.1.5:6432" },
	{ "bob [2001:db8::1]:22 deny", CASE_TUNNEL, "bob", false,
	    "2001:db8::1", 22, { NULL }, "bob [2001:db8::1]:22" },
	{ "alice db1.internal:5432 allow = 10.20.1.5, 2001:db8::5",
	    CASE_TUNNEL, "alice", true, "db1.internal", 5432,
	    { "10.20.1.5", "2001:db8::5" }, "alice db1.internal:5432" },
	{ "alice db1.internal:5432 allow =10.20.1.5,10.20.1.6#two",
	    CASE_TUNNEL, "alice", true, "db1.internal", 5432,
	    { "10.20.1.5", "10.20.1.6" }, "alice db1.internal:5432" },
	{ "alice db1.internal:22 deny = [2001:db8::1]", CASE_TUNNEL, "alice",
	    false, "db1.internal", 22, { "2001:db8::1" },
	    "alice db1.internal:22" },
	{ "alice db1.internal:22 deny = ::ffff:10.0.0.1", CASE_TUNNEL,
	    "alice", false, "db1.internal", 22, { "10.0.0.1" },
	    "alice db1.internal:22" },
	{ "\t alice\tdb1.internal.:22\tallow\t", CASE_TUNNEL, "alice", true,
	    "db1.internal", 22, { NULL }, "alice db1.internal.:22" },
	{ "alice listen localhost:8080 allow", CASE_LISTEN, "alice", true,
	    "localhost", 8080, { NULL }, "alice listen localhost:8080" },
	{ "alice listen *:9000 deny # not for her", CASE_LISTEN, "alice",
	    false, "*", 9000, { NULL }, "alice listen *:9000" },
	{ "alice listen [::1]:0 allow", CASE_LISTEN, "alice", true, "::1", 0,
	    { NULL }, "alice listen [::1]:0" },
	{ "alice listen 0.0.0.0:8080 deny", CASE_LISTEN, "alice", false,
	    "0.0.0.0", 8080, { NULL }, "alice listen 0.0.0.0:8080" },
	{ "listen listen localhost:8080 deny", CASE_LISTEN, "listen", false,
	    "localhost", 8080, { NULL }, "listen listen localhost:8080" },
};

START_TEST(parse_valid_lines)
{
	struct policy_case	 c;
	struct ip_addr		 a;
	char			 err[CASES_ERROR_MAX] = "";
	size_t			 i, n;

	ck_assert_msg(cases_parse_line(valid_lines[_i].line, &c, err,
	    sizeof(err)) == 1, "'%s': %s", valid_lines[_i].line, err);
	ck_assert_int_eq(c.kind, valid_lines[_i].kind);
	ck_assert_str_eq(c.user, valid_lines[_i].user);
	ck_assert(c.expect_allow == valid_lines[_i].allow);
	ck_assert_str_eq(c.kind == CASE_LISTEN ? c.bind : c.host.text,
	    valid_lines[_i].host);
	ck_assert_uint_eq(c.port, valid_lines[_i].port);
	for (n = 0; n < 3 && valid_lines[_i].addrs[n] != NULL; n++)
		;
	ck_assert_uint_eq(c.naddrs, n);
	for (i = 0; i < n; i++) {
		a = ip(valid_lines[_i].addrs[i]);
		ck_assert(addr_equal(&c.addrs[i], &a));
	}
	ck_assert_str_eq(c.what, valid_lines[_i].what);
	free(c.what);
}
END_TEST

START_TEST(blank_and_comment_lines_are_no_case)
{
	static const char *const lines[] = { "", "   ", "\t", "# a comment",
	    "  # alice db1:22 allow = 10.0.0.1", "#" };
	struct policy_case	c;
	char			err[CASES_ERROR_MAX];
	size_t			i;

	for (i = 0; i < NITEMS(lines); i++)
		ck_assert_msg(cases_parse_line(lines[i], &c, err,
		    sizeof(err)) == 0, "'%s'", lines[i]);
}
END_TEST

/* Parsing: every malformed form, with what its message must say. */

static const struct {
	const char	*behaviour;
	const char	*line;
	const char	*want;
} malformed_lines[] = {
	{ "user_alone", "alice", "expected USER HOST:PORT allow|deny" },
	{ "no_decision", "alice db1.internal:22",
	    "expected USER HOST:PORT allow|deny" },
	{ "extra_word", "alice db1.internal:22 allow please",
	    "or USER listen BIND:PORT allow|deny" },
	{ "five_words", "alice listen localhost:80 allow now",
	    "too many words; expected" },
	{ "addresses_without_case", "= 10.0.0.1", "expected USER" },
	{ "upper_case_user", "Alice db1.internal:22 allow",
	    "invalid user 'Alice': 1 to 32 characters" },
	{ "dash_user", "-alice db1.internal:22 allow", "invalid user" },
	{ "unknown_decision", "alice db1.internal:22 maybe",
	    "expected allow or deny, got 'maybe'" },
	{ "capital_decision", "alice db1.internal:22 Allow",
	    "expected allow or deny, got 'Allow'" },
	{ "no_port", "alice db1.internal allow",
	    "invalid target 'db1.internal' (no port); expected HOST:PORT" },
	{ "empty_port", "alice db1.internal: allow", "(no port)" },
	{ "port_zero", "alice db1.internal:0 allow", "(invalid port)" },
	{ "port_too_large", "alice db1.internal:65536 allow",
	    "(invalid port)" },
	{ "port_range", "alice db1.internal:22-23 allow", "(invalid port)" },
	{ "ipv6_without_brackets", "alice 2001:db8::1:22 allow",
	    "(an IPv6 address needs brackets)" },
	{ "unclosed_bracket", "alice [2001:db8::1:22 allow",
	    "(missing ']')" },
	{ "bracket_without_port", "alice [2001:db8::1] allow", "(no port)" },
	{ "ipv4_in_brackets", "alice [10.0.0.1]:22 allow",
	    "IPv4 addresses take no brackets" },
	{ "short_ipv4", "alice 127.1:22 allow", "invalid target '127.1:22'" },
	{ "hex_ipv4", "alice 0x7f.0.0.1:22 allow", "invalid target" },
	{ "bad_name", "alice db_1.internal:22 allow", "invalid target" },
	{ "empty_address_list", "alice db1.internal:22 allow =",
	    "missing address after '='" },
	{ "trailing_comma", "alice db1.internal:22 allow = 10.0.0.1,",
	    "missing address after '=' or ','" },
	{ "addresses_without_comma",
	    "alice db1.internal:22 allow = 10.0.0.1 10.0.0.2",
	    "invalid address '10.0.0.1 10.0.0.2' after '='" },
	{ "name_as_address", "alice db1.internal:22 allow = db2.internal",
	    "expected IPv4 or IPv6 addresses separated by commas" },
	{ "short_ipv4_as_address", "alice db1.internal:22 allow = 10.1",
	    "invalid address '10.1'" },
	{ "addresses_for_a_literal", "alice 10.0.0.1:22 allow = 10.0.0.1",
	    "'= ADDR' is for names" },
	{ "too_many_addresses", "alice db1.internal:22 allow = 10.0.0.1, "
	    "10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5, 10.0.0.6, 10.0.0.7, "
	    "10.0.0.8, 10.0.0.9, 10.0.0.10, 10.0.0.11, 10.0.0.12, 10.0.0.13, "
	    "10.0.0.14, 10.0.0.15, 10.0.0.16, 10.0.0.17",
	    "more than 16 addresses" },
	{ "listen_with_addresses",
	    "alice listen localhost:8080 allow = 127.0.0.1",
	    "a listen case takes no '= ADDR'" },
	{ "listen_without_port", "alice listen localhost allow",
	    "invalid listen 'localhost' (no port); expected BIND:PORT" },
	{ "listen_name", "alice listen db1.internal:8080 allow",
	    "(invalid bind address)" },
	{ "listen_ipv6_without_brackets", "alice listen ::1:8080 allow",
	    "(an IPv6 address needs brackets)" },
	{ "listen_empty_bind", "alice listen :8080 allow",
	    "(nothing before the port)" },
	{ "empty_host", "alice :22 allow", "(nothing before the port)" },
	{ "listen_port_too_large", "alice listen localhost:70000 allow",
	    "(invalid port)" },
	{ "listen_without_target", "alice listen allow", "expected USER" },
	{ "control_byte", "alice db1.internal:22 allow\x01",
	    "unexpected byte 0x01" },
	{ "non_ascii_host", "alice d\xc3\xa9.internal:22 allow",
	    "unexpected byte 0xc3" },
};

START_TEST(parse_malformed_lines)
{
	struct policy_case	c;
	char			err[CASES_ERROR_MAX] = "";

	ck_assert_msg(cases_parse_line(malformed_lines[_i].line, &c, err,
	    sizeof(err)) == -1, "%s: '%s' parsed",
	    malformed_lines[_i].behaviour, malformed_lines[_i].line);
	ck_assert_msg(strstr(err, malformed_lines[_i].want) != NULL,
	    "%s: wanted \"%s\" in \"%s\"", malformed_lines[_i].behaviour,
	    malformed_lines[_i].want, err);
}
END_TEST

START_TEST(overlong_line_is_refused)
{
	struct policy_case	c;
	char			line[CASES_LINE_MAX + 2], err[CASES_ERROR_MAX];

	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	ck_assert_int_eq(cases_parse_line(line, &c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "at most 1024"));
}
END_TEST

/* Deciding: the policy's answer for each case, and the rule behind it. */

static const struct {
	const char	*behaviour;
	const char	*line;
	bool		 allow;
	unsigned	 rule;		/* 0: the default */
	const char	*addr;		/* of the deciding verdict, or NULL */
	unsigned	 lookups;
} decide_cases[] = {
	{ "name_rule_allows", "alice db1.db.internal:5432 allow = 10.20.1.5",
	    true, 3, "10.20.1.5", 0 },
	{ "name_to_loopback_is_denied",
	    "alice db1.db.internal:5432 deny = 127.0.0.1", false, 0,
	    "127.0.0.1", 0 },
	{ "deny_beats_allow", "bob 10.20.99.5:5432 deny", false, 5,
	    "10.20.99.5", 0 },
	{ "cidr_allows_listed_port", "bob 10.20.1.5:6432 allow", true, 4,
	    "10.20.1.5", 0 },
	{ "no_rules_no_tunnel", "carol 10.20.1.5:5432 deny", false, 0, NULL,
	    0 },
	{ "own_deny_beats_group_allow", "alice 10.30.0.13:8000 deny", false,
	    8, "10.30.0.13", 0 },
	{ "named_loopback_is_allowed", "alice 127.0.0.1:8443 allow", true, 9,
	    "127.0.0.1", 0 },
	{ "other_loopback_is_denied", "alice 127.0.0.2:8443 deny", false, 0,
	    "127.0.0.2", 0 },
	{ "metadata_is_denied", "alice 169.254.169.254:8000 deny", false, 0,
	    "169.254.169.254", 0 },
	{ "ipv6_cidr_allows", "alice [2001:db8::7]:22 allow", true, 14,
	    "2001:db8::7", 0 },
	{ "name_deny_needs_no_lookup", "alice secret.db.internal:5432 deny",
	    false, 13, NULL, 0 },
	{ "no_rule_for_port_needs_no_lookup", "alice db1.db.internal:23 deny",
	    false, 0, NULL, 0 },
	{ "name_without_addresses_is_resolved",
	    "alice db1.db.internal:5432 allow", true, 3, "10.20.1.5", 1 },
	{ "one_allowed_address_allows",
	    "alice db1.db.internal:5432 allow = 10.20.99.5, 10.20.1.5", true,
	    3, "10.20.1.5", 0 },
	{ "all_denied_decided_by_first",
	    "alice db1.db.internal:5432 deny = 10.20.99.5, 127.0.0.1", false,
	    5, "10.20.99.5", 0 },
	{ "listen_localhost_rule", "alice listen localhost:8080 allow", true,
	    10, NULL, 0 },
	{ "listen_localhost_rule_covers_ipv6_loopback",
	    "alice listen [::1]:8080 allow", true, 10, NULL, 0 },
	{ "listen_other_port_denied", "alice listen localhost:8081 deny",
	    false, 0, NULL, 0 },
	{ "listen_address_rule", "alice listen 127.0.0.1:9050 allow", true,
	    11, NULL, 0 },
	{ "listen_any_port", "alice listen localhost:0 allow", true, 10,
	    NULL, 0 },
	{ "listen_star_rule", "alice listen *:2222 allow", true, 12, NULL,
	    0 },
	{ "listen_star_rule_covers_any_ipv4", "alice listen 0.0.0.0:2222 allow",
	    true, 12, NULL, 0 },
	{ "listen_privileged_port_denied", "alice listen localhost:80 deny",
	    false, 0, NULL, 0 },
	{ "listen_other_user_denied", "bob listen localhost:8080 deny", false,
	    0, NULL, 0 },
};

START_TEST(decide_table)
{
	struct policy		*p = policy_fixture(conf);
	struct policy_case	 c;
	struct case_result	 r;
	struct ip_addr		 a;
	char			 err[CASES_ERROR_MAX] = "";
	const char		*name = decide_cases[_i].behaviour;

	ck_assert_msg(cases_parse_line(decide_cases[_i].line, &c, err,
	    sizeof(err)) == 1, "%s: %s", name, err);
	lookups = 0;
	ck_assert_int_eq(cases_decide(p, &c, fake_resolve, &r), 0);
	ck_assert_msg(r.allow == decide_cases[_i].allow, "%s: got %s", name,
	    r.allow ? "allow" : "deny");
	/* A case passes exactly when it says what the policy decides. */
	ck_assert_msg(r.allow == c.expect_allow, "%s: the case fails", name);
	if (decide_cases[_i].rule == 0)
		ck_assert_msg(r.verdict.rule == NULL, "%s: rule at line %u",
		    name, r.verdict.rule->line);
	else {
		ck_assert_msg(r.verdict.rule != NULL, "%s: default", name);
		ck_assert_uint_eq(r.verdict.rule->line, decide_cases[_i].rule);
	}
	ck_assert(r.has_addr == (decide_cases[_i].addr != NULL));
	if (decide_cases[_i].addr != NULL) {
		a = ip(decide_cases[_i].addr);
		ck_assert_msg(addr_equal(&r.addr, &a), "%s: deciding address",
		    name);
	}
	ck_assert_uint_eq(lookups, decide_cases[_i].lookups);
	ck_assert(r.resolved == (decide_cases[_i].lookups > 0));
	free(c.what);
	policy_free(p);
}
END_TEST

/* The decision is the tunnel's: the same verdict policy.c gives. */
START_TEST(decision_is_policy_decide_target)
{
	struct policy		*p = policy_fixture(conf);
	struct policy_case	 c;
	struct case_result	 r;
	struct verdict		 v[2], d;
	struct ip_addr		 addrs[2];
	char			 err[CASES_ERROR_MAX];
	size_t			 n;

	ck_assert_int_eq(cases_parse_line("bob db1.db.internal:6432 deny = "
	    "10.20.99.5, 10.20.1.5", &c, err, sizeof(err)), 1);
	ck_assert_int_eq(cases_decide(p, &c, NULL, &r), 0);
	addrs[0] = ip("10.20.99.5");
	addrs[1] = ip("10.20.1.5");
	n = policy_decide_target(p, "bob", &c.host, 6432, addrs, 2, v, &d);
	ck_assert(r.allow == (n > 0));
	ck_assert_ptr_eq(r.verdict.rule, d.rule);
	ck_assert_str_eq(r.verdict.reason, d.reason);
	free(c.what);
	policy_free(p);
}
END_TEST

START_TEST(unresolvable_name_is_not_decided)
{
	struct policy		*p = policy_fixture(conf);
	struct policy_case	 c;
	struct case_result	 r;
	char			 err[CASES_ERROR_MAX], text[1024];

	ck_assert_int_eq(cases_parse_line("alice db2.db.internal:5432 deny",
	    &c, err, sizeof(err)), 1);
	lookups = 0;
	ck_assert_int_eq(cases_decide(p, &c, fake_resolve, &r), -1);
	ck_assert_uint_eq(lookups, 1);
	ck_assert_str_eq(r.error, "unknown node or service");
	cases_describe(&c, &r, text, sizeof(text));
	ck_assert_str_eq(text, "expected deny, not decided: cannot resolve "
	    "db2.db.internal: unknown node or service (give its addresses "
	    "with '= ADDR')");
	/* No resolver: the same, never a guess. */
	ck_assert_int_eq(cases_decide(p, &c, NULL, &r), -1);
	free(c.what);
	policy_free(p);
}
END_TEST

static const struct {
	const char	*line;
	const char	*text;
} describe_cases[] = {
	{ "bob 10.20.99.5:5432 allow", "expected allow, got deny by "
	    "test.ini:5 (deny = 10.20.99.0/24:*) for 10.20.99.5: denied by "
	    "rule" },
	{ "carol 10.20.1.5:5432 allow", "expected allow, got deny by "
	    "default: no rule allows" },
	{ "alice db1.db.internal:5432 deny = 10.20.99.5, 10.20.1.5",
	    "expected deny, got allow by test.ini:3 (allow = "
	    "*.db.internal:5432) for 10.20.1.5: allowed by rule" },
	{ "alice listen *:2222 deny", "expected deny, got allow by "
	    "test.ini:12 (listen = *:2222): allowed by rule" },
	{ "alice listen localhost:80 allow", "expected allow, got deny by "
	    "default: no listen rule allows" },
};

START_TEST(describe_names_what_came_and_the_rule)
{
	struct policy		*p = policy_fixture(conf);
	struct policy_case	 c;
	struct case_result	 r;
	char			 err[CASES_ERROR_MAX], text[1024];

	ck_assert_int_eq(cases_parse_line(describe_cases[_i].line, &c, err,
	    sizeof(err)), 1);
	ck_assert_int_eq(cases_decide(p, &c, NULL, &r), 0);
	ck_assert(r.allow != c.expect_allow);
	cases_describe(&c, &r, text, sizeof(text));
	ck_assert_str_eq(text, describe_cases[_i].text);
	free(c.what);
	policy_free(p);
}
END_TEST

/* Files: read, run, and the lines that come out. */

static char	dir[PATH_MAX];
static char	lines[LINES_MAX][2048];
static enum cases_line kinds[LINES_MAX];
static size_t	nlines;

static void
files_setup(void)
{
	char	tmpl[] = "/tmp/check_cases.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_ptr_nonnull(realpath(tmpl, dir));
	nlines = 0;
}

static void
files_teardown(void)
{
	char	cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
collect(void *arg, enum cases_line kind, const char *line)
{
	ck_assert_uint_lt(nlines, LINES_MAX);
	kinds[nlines] = kind;
	snprintf(lines[nlines++], sizeof(lines[0]), "%s", line);
}

/* Writes text to dir/name; returns its path in a static buffer. */
static const char *
write_file(const char *name, const char *text)
{
	static char	 path[2 * PATH_MAX];
	FILE		*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
	return path;
}

START_TEST(run_reports_failing_cases_only)
{
	struct policy	*p = policy_fixture(conf);
	struct cases	 set;
	char		 path[2 * PATH_MAX], want[3 * PATH_MAX];
	size_t		 passed = 99, failed;

	snprintf(path, sizeof(path), "%s", write_file("t.cases",
	    "# Expected decisions.\n"
	    "alice db1.db.internal:5432 allow = 10.20.1.5   # dba\n"
	    "\n"
	    "bob 10.20.99.5:5432 allow  # flipped: the backup network\n"
	    "alice db1.db.internal:5432 allow\r\n"
	    "alice listen localhost:8080 allow\n"
	    "alice listen localhost:8081 allow\n"));
	cases_init(&set);
	ck_assert_int_eq(cases_read(&set, path, collect, NULL), 0);
	ck_assert_uint_eq(nlines, 0);
	ck_assert_uint_eq(set.n, 5);
	ck_assert_uint_eq(set.v[1].line, 4);
	ck_assert_str_eq(set.v[1].file, path);
	failed = cases_run(&set, p, fake_resolve, collect, NULL, &passed);
	ck_assert_uint_eq(failed, 2);
	ck_assert_uint_eq(passed, 3);
	ck_assert_uint_eq(nlines, 3);
	snprintf(want, sizeof(want), "%s:4: bob 10.20.99.5:5432: expected "
	    "allow, got deny by test.ini:5 (deny = 10.20.99.0/24:*) for "
	    "10.20.99.5: denied by rule", path);
	ck_assert_int_eq(kinds[0], CASES_FAIL);
	ck_assert_str_eq(lines[0], want);
	snprintf(want, sizeof(want), "%s:5: db1.db.internal resolved to "
	    "10.20.99.7, 10.20.1.5 (no '= ADDR' given)", path);
	ck_assert_int_eq(kinds[1], CASES_NOTE);
	ck_assert_str_eq(lines[1], want);
	snprintf(want, sizeof(want), "%s:7: alice listen localhost:8081: "
	    "expected allow, got deny by default: no listen rule allows",
	    path);
	ck_assert_int_eq(kinds[2], CASES_FAIL);
	ck_assert_str_eq(lines[2], want);
	cases_clear(&set);
	policy_free(p);
}
END_TEST

START_TEST(read_reports_each_malformed_line)
{
	struct cases	set;
	char		path[2 * PATH_MAX], want[3 * PATH_MAX];

	snprintf(path, sizeof(path), "%s", write_file("bad.cases",
	    "alice db1.internal:22 allow\n"
	    "alice db1.internal allow\n"
	    "# fine\n"
	    "alice listen localhost:8080 maybe\n"));
	cases_init(&set);
	ck_assert_int_eq(cases_read(&set, path, collect, NULL), -1);
	ck_assert_uint_eq(set.n, 1);
	ck_assert_uint_eq(nlines, 2);
	ck_assert_int_eq(kinds[0], CASES_ERROR);
	snprintf(want, sizeof(want), "%s:2: invalid target 'db1.internal' "
	    "(no port); expected HOST:PORT", path);
	ck_assert_msg(strncmp(lines[0], want, strlen(want)) == 0, "got %s",
	    lines[0]);
	snprintf(want, sizeof(want), "%s:4: expected allow or deny, got "
	    "'maybe'", path);
	ck_assert_msg(strncmp(lines[1], want, strlen(want)) == 0, "got %s",
	    lines[1]);
	cases_clear(&set);
}
END_TEST

START_TEST(read_refuses_missing_file_and_skips_a_repeat)
{
	struct cases	set;
	char		path[2 * PATH_MAX], link[2 * PATH_MAX];

	cases_init(&set);
	snprintf(path, sizeof(path), "%s/none.cases", dir);
	ck_assert_int_eq(cases_read(&set, path, collect, NULL), -1);
	ck_assert_uint_eq(nlines, 1);
	ck_assert_ptr_nonnull(strstr(lines[0], "none.cases: cannot read: "));
	ck_assert_int_eq(cases_read(&set, dir, collect, NULL), -1);
	ck_assert_ptr_nonnull(strstr(lines[1], "not a regular file"));
	snprintf(path, sizeof(path), "%s", write_file("a.cases",
	    "alice db1.internal:22 allow\n"));
	snprintf(link, sizeof(link), "%s/b.cases", dir);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(cases_read(&set, path, collect, NULL), 0);
	ck_assert_int_eq(cases_read(&set, link, collect, NULL), 0);
	ck_assert_uint_eq(set.n, 1);
	cases_clear(&set);
}
END_TEST

/* policy_cases in [server]: a path, relative to the file's directory. */
START_TEST(config_policy_cases_is_a_path)
{
	struct config	*c;
	char		 want[2 * PATH_MAX], *buf = NULL;
	size_t		 len = 0;
	FILE		*errs;

	c = config_load(write_file("a.ini", "[server]\n"), NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_null(c->policy_cases);
	config_unref(c);
	c = config_load(write_file("b.ini",
	    "[server]\npolicy_cases = hopd.cases\n"), NULL);
	ck_assert_ptr_nonnull(c);
	snprintf(want, sizeof(want), "%s/hopd.cases", dir);
	ck_assert_str_eq(c->policy_cases, want);
	config_unref(c);
	ck_assert_ptr_nonnull(errs = open_memstream(&buf, &len));
	c = config_load(write_file("c.ini", "[server]\n"
	    "policy_cases = /etc/hopd/a.cases\n"
	    "policy_cases = /etc/hopd/b.cases\n"), errs);
	fclose(errs);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(buf, "c.ini:3: policy_cases: given twice, "
	    "first at ") != NULL, "%s", buf);
	free(buf);
	buf = NULL;
	ck_assert_ptr_nonnull(errs = open_memstream(&buf, &len));
	c = config_load(write_file("d.ini", "[server]\npolicy_cases =\n"),
	    errs);
	fclose(errs);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(buf, "d.ini:2: policy_cases: expected the path "
	    "of a cases file") != NULL, "%s", buf);
	free(buf);
}
END_TEST

Suite *
cases_suite(void)
{
	Suite	*s = suite_create("cases");
	TCase	*tc = tcase_create("parse");
	TCase	*tf = tcase_create("files");

	tcase_add_loop_test(tc, parse_valid_lines, 0, NITEMS(valid_lines));
	tcase_add_test(tc, blank_and_comment_lines_are_no_case);
	tcase_add_loop_test(tc, parse_malformed_lines, 0,
	    NITEMS(malformed_lines));
	tcase_add_test(tc, overlong_line_is_refused);
	tcase_add_loop_test(tc, decide_table, 0, NITEMS(decide_cases));
	tcase_add_test(tc, decision_is_policy_decide_target);
	tcase_add_test(tc, unresolvable_name_is_not_decided);
	tcase_add_loop_test(tc, describe_names_what_came_and_the_rule, 0,
	    NITEMS(describe_cases));
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tf, files_setup, files_teardown);
	tcase_add_test(tf, run_reports_failing_cases_only);
	tcase_add_test(tf, read_reports_each_malformed_line);
	tcase_add_test(tf, read_refuses_missing_file_and_skips_a_repeat);
	tcase_add_test(tf, config_policy_cases_is_a_path);
	suite_add_tcase(s, tf);
	return s;
}
