/*
 * Unit tests of policy.c: rule parsing, which rules apply to whom, the
 * decision per resolved address, the pre-DNS check and listen rules.
 */
#include <sys/socket.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_fixture.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_ADDRS	4
#define TEST_FILE	POLICY_FIXTURE_FILE

Suite	*policy_suite(void);

static struct ip_addr
ip(const char *s)
{
	struct ip_addr	a;

	ck_assert_msg(addr_parse_ip(s, &a) == 0, "test address %s", s);
	return a;
}

static const char *const conf_team[] = {
	"[group dba]",					/* 1 */
	"members = alice, bob",
	"allow = *.db.internal:5432",
	"allow = 10.20.0.0/16:5432,6432",
	"deny = secret.db.internal:*",			/* 5 */
	"allow = 10.30.0.13:8080",
	"[user alice]",
	"allow = build1.internal:22",
	"allow = 10.30.0.0/24:8000-8099",
	"deny = 10.30.0.13:*",				/* 10 */
	"allow = secret.db.internal:5432",
	"[user carol]",
	"allow = 10.0.0.0/8:22",
	"[group ops]",
	"members = carol",				/* 15 */
	"deny = 10.9.0.0/16:22",
	"[user mallory]",
	"deny = build1.internal:22",
	NULL
};

static const char *const conf_special[] = {
	"[user dev]",					/* 1 */
	"allow = *.internal:22",
	"allow = *:80",
	"allow = 0.0.0.0/0:443",
	"allow = [::/0]:443",				/* 5 */
	"[user ops]",
	"allow = *.internal:22",
	"allow = 127.0.0.1:22",
	"allow = 127.0.0.0/8:8080",
	"allow = 169.254.169.254:80",			/* 10 */
	"allow = [::1]:22",
	"[user meta]",
	"allow = 169.254.0.0/16:80",
	"allow = 128.0.0.0/1:80",
	"allow = [64:ff9b::7f00:0/104]:22",		/* 15 */
	NULL
};

/* Everything allowed but what is special; then names, then near misses. */
static const char *const conf_cloud[] = {
	"[user wide]",					/* 1 */
	"allow = 0.0.0.0/0:*",
	"allow = [::/0]:*",
	"[user named]",
	"allow = 0.0.0.0/0:*",				/* 5 */
	"allow = [::/0]:*",
	"allow = 100.100.100.200:80",
	"allow = [fd00:ec2::254]:80",
	"allow = 168.63.129.16/32:*",
	"[user near]",					/* 10 */
	"allow = 100.100.100.0/24:*",
	"allow = [fd00:ec2::/64]:*",
	"allow = 168.63.0.0/16:*",
	"allow = [::ffff:100.100.100.200]:443",
	NULL
};

static const char *const conf_mapped[] = {
	"[user alice]",					/* 1 */
	"allow = 10.30.0.0/24:22",
	"deny = [::ffff:10.30.0.13]:*",
	"deny = [::ffff:10.30.0.64/122]:22",
	"allow = [::ffff:192.0.2.0/120]:22",		/* 5 */
	NULL
};

struct want {
	bool		 allow;
	unsigned	 line;		/* 0: the default */
	const char	*reason;
};

static const struct {
	const char		*behaviour;
	const char *const	*conf;
	const char		*user;
	const char		*host;
	uint16_t		 port;
	const char		*addrs[MAX_ADDRS];	/* none: the literal */
	struct want		 want[MAX_ADDRS];
} decide_cases[] = {
	{ "name_rule_allows_its_host", conf_team, "alice", "build1.internal",
	    22, { "10.1.1.1" }, { { true, 8, "allowed by rule" } } },
	{ "name_rule_is_case_insensitive", conf_team, "alice",
	    "BUILD1.Internal", 22, { "10.1.1.1" },
	    { { true, 8, "allowed by rule" } } },
	{ "user_rules_never_apply_to_another_user", conf_team, "bob",
	    "build1.internal", 22, { "10.1.1.1" },
	    { { false, 0, "no rule allows" } } },
	{ "cidr_rule_never_applies_to_another_user", conf_team, "bob",
	    "10.30.0.5", 8000, { NULL }, { { false, 0, "no rule allows" } } },
	{ "cidr_rule_allows_its_user", conf_team, "alice", "10.30.0.5", 8000,
	    { NULL }, { { true, 9, "allowed by rule" } } },
	{ "port_outside_rule_denied", conf_team, "alice", "build1.internal",
	    23, { "10.1.1.1" }, { { false, 0, "no rule allows" } } },
	{ "group_rule_applies_to_member", conf_team, "bob", "db1.db.internal",
	    5432, { "10.99.0.1" }, { { true, 3, "allowed by rule" } } },
	{ "group_glob_ignores_case", conf_team, "bob", "DB1.Db.Internal",
	    5432, { "10.99.0.1" }, { { true, 3, "allowed by rule" } } },
	{ "glob_does_not_match_apex", conf_team, "bob", "db.internal", 5432,
	    { "10.99.0.1" }, { { false, 0, "no rule allows" } } },
	{ "glob_does_not_match_lookalike", conf_team, "bob",
	    "evil-db.internal", 5432, { "10.99.0.1" },
	    { { false, 0, "no rule allows" } } },
	{ "group_deny_beats_own_allow", conf_team, "alice",
	    "secret.db.internal", 5432, { "10.20.0.5" },
	    { { false, 5, "denied by rule" } } },
	{ "own_deny_beats_earlier_group_allow", conf_team, "alice",
	    "10.30.0.13", 8080, { NULL }, { { false, 10, "denied by rule" } } },
	{ "other_users_deny_does_not_apply", conf_team, "bob", "10.30.0.13",
	    8080, { NULL }, { { true, 6, "allowed by rule" } } },
	{ "later_group_deny_beats_own_allow", conf_team, "carol", "10.9.1.1",
	    22, { NULL }, { { false, 16, "denied by rule" } } },
	{ "own_allow_outside_group_deny", conf_team, "carol", "10.8.1.1", 22,
	    { NULL }, { { true, 13, "allowed by rule" } } },
	{ "mapped_address_hits_ipv4_deny", conf_team, "alice",
	    "::ffff:10.30.0.13", 8000, { NULL },
	    { { false, 10, "denied by rule" } } },
	{ "nat64_address_hits_ipv4_deny", conf_team, "alice", "app.internal",
	    8000, { "64:ff9b::a1e:d" }, { { false, 10, "denied by rule" } } },
	{ "sixtofour_address_hits_ipv4_deny", conf_team, "alice",
	    "app.internal", 8000, { "2002:a1e:d::1" },
	    { { false, 10, "denied by rule" } } },
	{ "compat_address_hits_ipv4_deny", conf_team, "alice", "app.internal",
	    8000, { "::10.30.0.13" }, { { false, 10, "denied by rule" } } },
	{ "mapped_address_allowed_by_ipv4_rule", conf_team, "alice",
	    "app.internal", 8000, { "::ffff:10.30.0.5" },
	    { { true, 9, "allowed by rule" } } },
	{ "only_some_addresses_allowed", conf_team, "alice", "app.internal",
	    8000, { "10.30.0.5", "10.30.0.13", "192.0.2.1", "10.30.0.6" },
	    { { true, 9, "allowed by rule" },
	    { false, 10, "denied by rule" },
	    { false, 0, "no rule allows" },
	    { true, 9, "allowed by rule" } } },
	{ "name_deny_covers_every_address", conf_team, "alice",
	    "secret.db.internal", 5432, { "10.20.0.5", "192.0.2.1" },
	    { { false, 5, "denied by rule" },
	    { false, 5, "denied by rule" } } },
	{ "unknown_user_denied", conf_team, "zed", "build1.internal", 22,
	    { "10.1.1.1" }, { { false, 0, "no rule allows" } } },
	{ "glob_resolving_to_loopback_denied", conf_special, "dev",
	    "localtest.internal", 22, { "127.0.0.1" },
	    { { false, 0, "loopback address not named by a rule" } } },
	{ "loopback_allowed_when_named", conf_special, "ops",
	    "localtest.internal", 22, { "127.0.0.1" },
	    { { true, 8, "allowed by rule" } } },
	{ "named_loopback_does_not_unlock_neighbour", conf_special, "ops",
	    "localtest.internal", 22, { "127.0.0.2" },
	    { { false, 0, "loopback address not named by a rule" } } },
	{ "loopback_cidr_unlocks_loopback", conf_special, "ops",
	    "app.internal", 8080, { "127.0.0.5" },
	    { { true, 9, "allowed by rule" } } },
	{ "mapped_loopback_unlocked_by_ipv4_rule", conf_special, "ops",
	    "[::ffff:127.0.0.1]", 22, { NULL },
	    { { true, 8, "allowed by rule" } } },
	{ "ipv6_loopback_allowed_when_named", conf_special, "ops", "::1", 22,
	    { NULL }, { { true, 11, "allowed by rule" } } },
	{ "glob_star_never_unlocks_loopback", conf_special, "dev",
	    "web.example", 80, { "10.0.0.1", "127.0.0.1" },
	    { { true, 3, "allowed by rule" },
	    { false, 0, "loopback address not named by a rule" } } },
	{ "glob_star_does_not_match_literals", conf_special, "dev",
	    "10.0.0.1", 80, { NULL }, { { false, 0, "no rule allows" } } },
	{ "slash_0_allows_ordinary", conf_special, "dev", "10.0.0.1", 443,
	    { NULL }, { { true, 4, "allowed by rule" } } },
	{ "slash_0_does_not_unlock_loopback", conf_special, "dev",
	    "127.0.0.1", 443, { NULL },
	    { { false, 0, "loopback address not named by a rule" } } },
	{ "v6_slash_0_does_not_unlock_loopback", conf_special, "dev", "::1",
	    443, { NULL },
	    { { false, 0, "loopback address not named by a rule" } } },
	{ "mapped_loopback_is_loopback", conf_special, "dev",
	    "::ffff:127.0.0.1", 443, { NULL },
	    { { false, 0, "loopback address not named by a rule" } } },
	{ "mapped_hex_loopback_is_loopback", conf_special, "dev",
	    "[::ffff:7f00:1]", 443, { NULL },
	    { { false, 0, "loopback address not named by a rule" } } },
	{ "nat64_loopback_is_loopback", conf_special, "dev", "64:ff9b::7f00:1",
	    443, { NULL },
	    { { false, 0, "loopback address not named by a rule" } } },
	{ "sixtofour_loopback_is_loopback", conf_special, "dev",
	    "2002:7f00:1::", 443, { NULL },
	    { { false, 0, "loopback address not named by a rule" } } },
	{ "compat_loopback_is_loopback", conf_special, "dev", "::127.0.0.1",
	    443, { NULL },
	    { { false, 0, "loopback address not named by a rule" } } },
	{ "nat64_loopback_unlocked_by_its_own_cidr", conf_special, "meta",
	    "64:ff9b::7f00:1", 22, { NULL },
	    { { true, 15, "allowed by rule" } } },
	{ "mapped_form_deny_rule_denies_ipv4_target", conf_mapped, "alice",
	    "10.30.0.13", 22, { NULL }, { { false, 3, "denied by rule" } } },
	{ "mapped_form_deny_rule_denies_mapped_target", conf_mapped, "alice",
	    "::ffff:10.30.0.13", 22, { NULL },
	    { { false, 3, "denied by rule" } } },
	{ "mapped_form_deny_cidr_denies_inside", conf_mapped, "alice",
	    "10.30.0.65", 22, { NULL }, { { false, 4, "denied by rule" } } },
	{ "mapped_form_deny_cidr_spares_outside", conf_mapped, "alice",
	    "10.30.0.12", 22, { NULL }, { { true, 2, "allowed by rule" } } },
	{ "mapped_form_allow_cidr_allows_ipv4", conf_mapped, "alice",
	    "192.0.2.7", 22, { NULL }, { { true, 5, "allowed by rule" } } },
	{ "ula_is_not_special", conf_special, "dev", "fd00::1", 443, { NULL },
	    { { true, 5, "allowed by rule" } } },
	{ "metadata_address_is_link_local", conf_special, "dev",
	    "169.254.169.254", 443, { NULL },
	    { { false, 0, "link-local address not named by a rule" } } },
	{ "metadata_address_allowed_when_named", conf_special, "ops",
	    "169.254.169.254", 80, { NULL },
	    { { true, 10, "allowed by rule" } } },
	{ "range_wide_cidr_unlocks_its_range", conf_special, "meta",
	    "169.254.1.1", 80, { NULL }, { { true, 13, "allowed by rule" } } },
	{ "wider_cidr_does_not_unlock", conf_special, "meta",
	    "240.0.0.1", 80, { NULL },
	    { { false, 0, "reserved address not named by a rule" } } },
	{ "wider_cidr_allows_ordinary", conf_special, "meta", "192.0.2.1",
	    80, { NULL }, { { true, 14, "allowed by rule" } } },
	{ "unspecified_v4_denied", conf_special, "dev", "0.0.0.0", 443,
	    { NULL },
	    { { false, 0, "unspecified address not named by a rule" } } },
	{ "unspecified_v6_denied", conf_special, "dev", "::", 443, { NULL },
	    { { false, 0, "unspecified address not named by a rule" } } },
	{ "link_local_v6_denied", conf_special, "dev", "fe80::1", 443,
	    { NULL },
	    { { false, 0, "link-local address not named by a rule" } } },
	{ "multicast_denied", conf_special, "dev", "224.0.0.1", 443, { NULL },
	    { { false, 0, "multicast address not named by a rule" } } },
	{ "multicast_v6_denied", conf_special, "dev", "ff02::1", 443,
	    { NULL },
	    { { false, 0, "multicast address not named by a rule" } } },
	{ "broadcast_denied", conf_special, "dev", "255.255.255.255", 443,
	    { NULL },
	    { { false, 0, "broadcast address not named by a rule" } } },
	{ "reserved_denied", conf_special, "dev", "240.0.0.1", 443, { NULL },
	    { { false, 0, "reserved address not named by a rule" } } },
	{ "alibaba_metadata_denied_under_wide_allow", conf_cloud, "wide",
	    "100.100.100.200", 80, { NULL },
	    { { false, 0, "cloud metadata address not named by a rule" } } },
	{ "azure_wireserver_denied_under_wide_allow", conf_cloud, "wide",
	    "168.63.129.16", 80, { NULL },
	    { { false, 0, "cloud metadata address not named by a rule" } } },
	{ "aws_imds_v6_denied_under_wide_allow", conf_cloud, "wide",
	    "fd00:ec2::254", 80, { NULL },
	    { { false, 0, "cloud metadata address not named by a rule" } } },
	{ "aws_v6_services_denied_under_wide_allow", conf_cloud, "wide",
	    "aws.internal", 53, { "fd00:ec2::253", "fd00:ec2::123",
	    "fd00:ec2::1", "100.100.100.201" },
	    { { false, 0, "cloud metadata address not named by a rule" },
	    { false, 0, "cloud metadata address not named by a rule" },
	    { true, 3, "allowed by rule" },
	    { true, 2, "allowed by rule" } } },
	{ "embedded_metadata_denied_under_wide_allow", conf_cloud, "wide",
	    "meta.internal", 80, { "::ffff:100.100.100.200",
	    "64:ff9b::a83f:8110", "::100.100.100.200", "2002:6464:64c8::1" },
	    { { false, 0, "cloud metadata address not named by a rule" },
	    { false, 0, "cloud metadata address not named by a rule" },
	    { false, 0, "cloud metadata address not named by a rule" },
	    { false, 0, "cloud metadata address not named by a rule" } } },
	{ "alibaba_metadata_allowed_when_named", conf_cloud, "named",
	    "100.100.100.200", 80, { NULL },
	    { { true, 7, "allowed by rule" } } },
	{ "named_metadata_only_on_its_ports", conf_cloud, "named",
	    "100.100.100.200", 81, { NULL },
	    { { false, 0, "cloud metadata address not named by a rule" } } },
	{ "mapped_metadata_unlocked_by_ipv4_rule", conf_cloud, "named",
	    "::ffff:100.100.100.200", 80, { NULL },
	    { { true, 7, "allowed by rule" } } },
	{ "aws_imds_v6_allowed_when_named", conf_cloud, "named",
	    "fd00:ec2::254", 80, { NULL },
	    { { true, 8, "allowed by rule" } } },
	{ "azure_allowed_by_its_slash_32", conf_cloud, "named",
	    "168.63.129.16", 32526, { NULL },
	    { { true, 9, "allowed by rule" } } },
	{ "naming_one_aws_address_not_the_others", conf_cloud, "named",
	    "fd00:ec2::253", 80, { NULL },
	    { { false, 0, "cloud metadata address not named by a rule" } } },
	{ "metadata_cidr_does_not_unlock", conf_cloud, "near", "meta.internal",
	    80, { "100.100.100.200", "fd00:ec2::254", "168.63.129.16",
	    "100.100.100.5" },
	    { { false, 0, "cloud metadata address not named by a rule" },
	    { false, 0, "cloud metadata address not named by a rule" },
	    { false, 0, "cloud metadata address not named by a rule" },
	    { true, 11, "allowed by rule" } } },
	{ "mapped_rule_names_ipv4_metadata", conf_cloud, "near",
	    "100.100.100.200", 443, { NULL },
	    { { true, 14, "allowed by rule" } } },
};

START_TEST(decide_table)
{
	struct policy	*p = policy_fixture(decide_cases[_i].conf);
	struct host	 h;
	struct ip_addr	 addrs[MAX_ADDRS];
	struct verdict	 v[MAX_ADDRS];
	const char	*why = NULL, *b = decide_cases[_i].behaviour;
	char		 origin[64], want_origin[64];
	size_t		 n, i, allowed = 0;

	ck_assert_msg(addr_parse_host(decide_cases[_i].host, &h, &why) == 0,
	    "%s: host: %s", b, why);
	for (n = 0; n < MAX_ADDRS && decide_cases[_i].addrs[n] != NULL; n++)
		addrs[n] = ip(decide_cases[_i].addrs[n]);
	if (n == 0) {
		ck_assert(h.kind != HOST_NAME);
		addrs[n++] = h.ip;
	}
	for (i = 0; i < n; i++)
		if (decide_cases[_i].want[i].allow)
			allowed++;
	ck_assert_msg(policy_decide(p, decide_cases[_i].user, &h,
	    decide_cases[_i].port, addrs, n, v) == allowed, "%s: count", b);
	for (i = 0; i < n; i++) {
		const struct want *w = &decide_cases[_i].want[i];

		ck_assert_msg(v[i].allow == w->allow, "%s: [%zu] %s", b, i,
		    v[i].reason);
		ck_assert_msg(strcmp(v[i].reason, w->reason) == 0,
		    "%s: [%zu] reason %s", b, i, v[i].reason);
		policy_rule_origin(v[i].rule, origin, sizeof(origin));
		if (w->line == 0)
			snprintf(want_origin, sizeof(want_origin), "default");
		else
			snprintf(want_origin, sizeof(want_origin), "%s:%u",
			    TEST_FILE, w->line);
		ck_assert_msg(strcmp(origin, want_origin) == 0,
		    "%s: [%zu] rule %s", b, i, origin);
	}
	policy_free(p);
}
END_TEST

static const struct {
	const char		*behaviour;
	const char *const	*conf;
	const char		*user;
	const char		*host;
	uint16_t		 port;
	struct want		 want;
} precheck_cases[] = {
	{ "name_allowed_worth_resolving", conf_team, "alice",
	    "build1.internal", 22, { true, 0, "allowed by rule" } },
	{ "name_deny_before_dns", conf_team, "alice", "secret.db.internal",
	    5432, { false, 5, "denied by rule" } },
	{ "only_deny_rules_before_dns", conf_team, "mallory",
	    "build1.internal", 22, { false, 18, "denied by rule" } },
	{ "no_rule_for_port_before_dns", conf_team, "alice", "other.internal",
	    22, { false, 0, "no rule allows" } },
	{ "cidr_rule_with_port_worth_resolving", conf_team, "alice",
	    "other.internal", 8000, { true, 0, "allowed by rule" } },
	{ "other_users_rule_not_worth_resolving", conf_team, "bob",
	    "build1.internal", 22, { false, 0, "no rule allows" } },
	{ "literal_with_cidr_rule_worth_deciding", conf_team, "bob",
	    "10.20.0.5", 5432, { true, 0, "allowed by rule" } },
	{ "literal_never_matches_name_rule", conf_special, "dev", "10.0.0.1",
	    80, { false, 0, "no rule allows" } },
	{ "unknown_user_before_dns", conf_team, "zed", "build1.internal", 22,
	    { false, 0, "no rule allows" } },
	{ "empty_user_invalid", conf_team, "", "build1.internal", 22,
	    { false, 0, "invalid request" } },
	{ "hostile_user_no_crash", conf_team, "%n%n%s", "build1.internal",
	    22, { false, 0, "no rule allows" } },
};

START_TEST(precheck_table)
{
	struct policy	*p = policy_fixture(precheck_cases[_i].conf);
	struct host	 h;
	struct verdict	 v;
	const char	*why = NULL, *b = precheck_cases[_i].behaviour;
	char		 origin[64], want_origin[64];
	bool		 r;

	ck_assert_int_eq(addr_parse_host(precheck_cases[_i].host, &h, &why),
	    0);
	r = policy_precheck(p, precheck_cases[_i].user, &h,
	    precheck_cases[_i].port, &v);
	ck_assert_msg(r == precheck_cases[_i].want.allow, "%s", b);
	ck_assert_msg(v.allow == r, "%s: verdict", b);
	ck_assert_msg(strcmp(v.reason, precheck_cases[_i].want.reason) == 0,
	    "%s: reason %s", b, v.reason);
	policy_rule_origin(v.rule, origin, sizeof(origin));
	if (precheck_cases[_i].want.line == 0)
		snprintf(want_origin, sizeof(want_origin), "default");
	else
		snprintf(want_origin, sizeof(want_origin), "%s:%u", TEST_FILE,
		    precheck_cases[_i].want.line);
	ck_assert_msg(strcmp(origin, want_origin) == 0, "%s: rule %s", b,
	    origin);
	policy_free(p);
}
END_TEST

START_TEST(invalid_requests_denied)
{
	struct policy	*p = policy_fixture(conf_team);
	struct host	 h;
	struct ip_addr	 a = ip("10.30.0.5");
	struct verdict	 v = { true, NULL, NULL };
	char		 big[10 * 1024 + 1];

	ck_assert_int_eq(addr_parse_host("10.30.0.5", &h, NULL), 0);
	ck_assert_uint_eq(policy_decide(p, "alice", &h, 8000, &a, 1, &v), 1);
	ck_assert_uint_eq(policy_decide(p, NULL, &h, 8000, &a, 1, &v), 0);
	ck_assert(!v.allow);
	ck_assert_str_eq(v.reason, "invalid request");
	v.allow = true;
	ck_assert_uint_eq(policy_decide(p, "", &h, 8000, &a, 1, &v), 0);
	ck_assert(!v.allow);
	ck_assert_uint_eq(policy_decide(p, "alice", &h, 0, &a, 1, &v), 0);
	ck_assert(!v.allow);
	ck_assert_uint_eq(policy_decide(p, "alice", NULL, 8000, &a, 1, &v),
	    0);
	ck_assert_uint_eq(policy_decide(p, "alice", &h, 8000, &a, 0, &v), 0);
	ck_assert_uint_eq(policy_decide(NULL, "alice", &h, 8000, &a, 1, &v),
	    0);
	ck_assert(!v.allow);
	ck_assert(!policy_precheck(p, NULL, &h, 8000, &v));
	ck_assert(!policy_precheck(p, "alice", NULL, 8000, &v));
	ck_assert(!policy_precheck(p, "alice", &h, 0, &v));
	a.family = AF_UNIX;
	v.allow = true;
	ck_assert_uint_eq(policy_decide(p, "alice", &h, 8000, &a, 1, &v), 0);
	ck_assert(!v.allow);
	/* A 10 KB user name is just an unknown user. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	a = ip("10.30.0.5");
	ck_assert_uint_eq(policy_decide(p, big, &h, 8000, &a, 1, &v), 0);
	ck_assert(!policy_decide_listen(p, big, big, 8080, &v));
	policy_free(p);
}
END_TEST

/* Rule parsing. */

static const struct {
	const char		*behaviour;
	enum rule_kind		 kind;
	const char		*value;
	int			 ok;
	enum pattern_kind	 pattern;	/* when ok */
	const char		*why;		/* substring, when not */
} rule_cases[] = {
	{ "name_rule", RULE_ALLOW, "db1.internal:22", 0, PATTERN_NAME, NULL },
	{ "glob_rule", RULE_ALLOW, "*.db.internal:5432", 0, PATTERN_NAME,
	    NULL },
	{ "star_is_a_name_glob", RULE_ALLOW, "*:22", 0, PATTERN_NAME, NULL },
	{ "star_star", RULE_DENY, "*:*", 0, PATTERN_NAME, NULL },
	{ "cidr_rule", RULE_ALLOW, "10.0.0.0/8:5432,6432", 0, PATTERN_CIDR,
	    NULL },
	{ "address_rule", RULE_DENY, "10.30.0.13:*", 0, PATTERN_CIDR, NULL },
	{ "ipv6_cidr_bracketed", RULE_ALLOW, "[2001:db8::/32]:22", 0,
	    PATTERN_CIDR, NULL },
	{ "ipv6_prefix_outside_brackets", RULE_ALLOW, "[2001:db8::]/32:22", 0,
	    PATTERN_CIDR, NULL },
	{ "ipv6_address", RULE_ALLOW, "[2001:db8::1]:22", 0, PATTERN_CIDR,
	    NULL },
	{ "ipv6_without_brackets_refused", RULE_ALLOW, "2001:db8::1:22", -1,
	    0, "need brackets" },
	{ "ipv6_cidr_without_brackets_refused", RULE_ALLOW,
	    "2001:db8::/32:22", -1, 0, "need brackets" },
	{ "missing_bracket_refused", RULE_ALLOW, "[::1:22", -1, 0, "']'" },
	{ "bracket_without_port_refused", RULE_ALLOW, "[::1]", -1, 0,
	    "HOST:PORTS" },
	{ "bracketed_ipv4_refused", RULE_ALLOW, "[10.0.0.1]:22", -1, 0,
	    "no brackets" },
	{ "missing_ports_refused", RULE_ALLOW, "db1.internal", -1, 0,
	    "HOST:PORTS" },
	{ "empty_ports_refused", RULE_ALLOW, "db1.internal:", -1, 0,
	    "HOST:PORTS" },
	{ "empty_pattern_refused", RULE_ALLOW, ":22", -1, 0, "HOST:PORTS" },
	{ "empty_value_refused", RULE_ALLOW, "", -1, 0, "HOST:PORTS" },
	{ "host_bits_refused_naming_network", RULE_ALLOW, "10.0.0.1/8:22", -1,
	    0, "10.0.0.0/8" },
	{ "prefix_too_long_refused", RULE_ALLOW, "10.0.0.0/33:22", -1, 0,
	    "/32" },
	{ "short_ipv4_refused", RULE_ALLOW, "127.1:22", -1, 0, "IPv4" },
	{ "address_glob_refused", RULE_ALLOW, "10.0.0.*:22", -1, 0, "CIDR" },
	{ "bad_name_refused", RULE_ALLOW, "db_1.internal:22", -1, 0,
	    "name pattern" },
	{ "port_zero_refused", RULE_ALLOW, "db1.internal:0", -1, 0, "ports" },
	{ "port_too_big_refused", RULE_ALLOW, "db1.internal:65536", -1, 0,
	    "ports" },
	{ "reversed_range_refused", RULE_ALLOW, "db1.internal:20-10", -1, 0,
	    "reversed" },
	{ "trailing_comma_refused", RULE_ALLOW, "db1.internal:22,", -1, 0,
	    "empty item" },
	{ "newline_refused", RULE_ALLOW, "db1\n.internal:22", -1, 0, NULL },
	{ "percent_n_refused", RULE_ALLOW, "%n%n:22", -1, 0, NULL },
	{ "non_utf8_refused", RULE_DENY, "db\xff\xfe.internal:22", -1, 0,
	    NULL },
	{ "listen_localhost", RULE_LISTEN, "localhost:8080", 0,
	    PATTERN_LOCALHOST, NULL },
	{ "listen_wildcard", RULE_LISTEN, "*:8000-8099", 0, PATTERN_WILDCARD,
	    NULL },
	{ "listen_ipv4", RULE_LISTEN, "127.0.0.1:8080", 0, PATTERN_CIDR,
	    NULL },
	{ "listen_ipv6", RULE_LISTEN, "[::1]:8080", 0, PATTERN_CIDR, NULL },
	{ "listen_any_ipv4", RULE_LISTEN, "0.0.0.0:80", 0, PATTERN_CIDR,
	    NULL },
	{ "listen_name_refused", RULE_LISTEN, "example.com:80", -1, 0,
	    "BIND:PORTS" },
	{ "listen_cidr_refused", RULE_LISTEN, "10.0.0.0/8:80", -1, 0,
	    "BIND:PORTS" },
	{ "listen_ipv6_without_brackets_refused", RULE_LISTEN, "::1:8080", -1,
	    0, "need brackets" },
	{ "listen_without_port_refused", RULE_LISTEN, "localhost", -1, 0,
	    "BIND:PORTS" },
};

START_TEST(add_rule_table)
{
	struct policy		*p = policy_new();
	struct policy_section	*sec = policy_section(p, false, "alice");
	const char		*why = NULL, *b = rule_cases[_i].behaviour;
	int			 r;

	r = policy_add_rule(p, sec, rule_cases[_i].kind, rule_cases[_i].value,
	    TEST_FILE, 7, &why);
	ck_assert_msg(r == rule_cases[_i].ok, "%s: %s", b, why);
	if (r == 0) {
		ck_assert_uint_eq(sec->nrules, 1);
		ck_assert_msg(sec->rules[0].pattern == rule_cases[_i].pattern,
		    "%s: pattern", b);
		ck_assert_str_eq(sec->rules[0].text, rule_cases[_i].value);
		ck_assert_uint_eq(sec->rules[0].line, 7);
	} else {
		ck_assert_uint_eq(sec->nrules, 0);
		ck_assert_msg(why != NULL && *why != '\0', "%s: no reason", b);
		if (rule_cases[_i].why != NULL)
			ck_assert_msg(strstr(why, rule_cases[_i].why) != NULL,
			    "%s: %s", b, why);
	}
	policy_free(p);
}
END_TEST

START_TEST(rules_keep_their_origin)
{
	struct policy		*p = policy_new();
	struct policy_section	*sec;
	const char		*why = NULL;
	char			 buf[64], tiny[4];

	sec = policy_section(p, false, "alice");
	ck_assert_int_eq(policy_add_rule(p, sec, RULE_ALLOW,
	    "DB1.Internal:22", "/etc/hopd/hopd.ini", 12, &why), 0);
	ck_assert_str_eq(sec->rules[0].name, "db1.internal");
	policy_rule_origin(&sec->rules[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "/etc/hopd/hopd.ini:12");
	policy_rule_origin(NULL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "default");
	policy_rule_origin(&sec->rules[0], tiny, sizeof(tiny));
	ck_assert_str_eq(tiny, "/et");
	ck_assert_ptr_eq(policy_intern_file(p, "/etc/hopd/hopd.ini"),
	    sec->rules[0].file);
	policy_free(p);
}
END_TEST

/*
 * The one user-name rule: what a client may log in as, what sections and
 * members may name, what %u may expand to.
 */
static const struct {
	const char	*name;
	bool		 valid;
} user_names[] = {
	{ "alice", true }, { "_svc", true }, { "a", true }, { "_", true },
	{ "svc.deploy_1", true }, { "first.last", true }, { "a-b", true },
	{ "build-bot2", true }, { "a..b", true },
	{ "abcdefghijklmnopqrstuvwxyz012345", true },	/* 32 */
	{ "abcdefghijklmnopqrstuvwxyz0123456", false },	/* 33 */
	{ "", false }, { ".", false }, { "..", false }, { ".x", false },
	{ "-x", false }, { "--help", false }, { "-oProxyCommand=x", false },
	{ "9lives", false }, { "Alice", false }, { "aLICE", false },
	{ "a/b", false }, { "../x", false }, { "/etc", false },
	{ "a b", false }, { "a\tb", false }, { "a\nb", false },
	{ "a$", false }, { "a%n", false }, { "a@b", false }, { "a:b", false },
	{ "a\\b", false }, { "\xc3\xa9", false },
	{ "al\xe2\x80\xaeice", false },
	{ "a\x7f", false }, { "\x01", false },
};

START_TEST(user_name_rule)
{
	ck_assert_msg(policy_valid_user_name(user_names[_i].name) ==
	    user_names[_i].valid, "'%s'", user_names[_i].name);
}
END_TEST

/* A name cut by a NUL is judged by what comes before it, as C sees it. */
START_TEST(user_name_rule_edges)
{
	static const char	cut[] = "alice\0/../x";
	char			long_name[POLICY_USER_NAME_MAX + 2];

	ck_assert(!policy_valid_user_name(NULL));
	ck_assert(policy_valid_user_name(cut));
	ck_assert_uint_eq(POLICY_USER_NAME_MAX, 32);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ck_assert(!policy_valid_user_name(long_name));
	long_name[POLICY_USER_NAME_MAX] = '\0';
	ck_assert(policy_valid_user_name(long_name));
}
END_TEST

START_TEST(sections_and_members)
{
	struct policy		*p = policy_fixture(conf_team);
	struct policy_section	*u, *g;
	const char		*why = NULL;
	char			 big[100];

	ck_assert(policy_knows_user(p, "alice"));
	ck_assert(policy_knows_user(p, "bob"));
	ck_assert(policy_knows_user(p, "carol"));
	ck_assert(!policy_knows_user(p, "zed"));
	ck_assert(!policy_knows_user(p, "Alice"));
	ck_assert(!policy_knows_user(p, ""));
	ck_assert(!policy_knows_user(p, NULL));
	u = policy_section(p, false, "alice");
	ck_assert_int_eq(policy_add_member(u, "bob", &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "[group"));
	g = policy_section(p, true, "dba");
	ck_assert_uint_eq(g->nmembers, 2);
	ck_assert_int_eq(policy_add_member(g, "bob", &why), 0);
	ck_assert_uint_eq(g->nmembers, 2);
	ck_assert_int_eq(policy_add_member(g, "", &why), -1);
	ck_assert_int_eq(policy_add_member(g, "a b", &why), -1);
	ck_assert_int_eq(policy_add_member(g, "-x", &why), -1);
	ck_assert_int_eq(policy_add_member(g, "%n", &why), -1);
	ck_assert_int_eq(policy_add_member(g, "a\nb", &why), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(policy_add_member(g, big, &why), -1);
	ck_assert_int_eq(policy_add_member(g, "Carol", &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "1 to 32 characters"));
	ck_assert_int_eq(policy_add_member(g, ".hidden", &why), -1);
	ck_assert_int_eq(policy_add_member(g, "9lives", &why), -1);
	ck_assert_int_eq(policy_add_member(g, "svc.deploy_1", &why), 0);
	ck_assert(policy_knows_user(p, "svc.deploy_1"));
	ck_assert(policy_valid_user_name("alice"));
	ck_assert(!policy_valid_user_name(NULL));
	policy_free(p);
	policy_free(NULL);
}
END_TEST

/* Listen rules. */

static const char *const conf_listen[] = {
	"[user rf]",					/* 1 */
	"listen = localhost:8080",
	"listen = 0.0.0.0:9000",
	"listen = *:10000-10100",
	"listen = 127.0.0.1:80",			/* 5 */
	"listen = [::1]:8443",
	"listen = 10.0.0.5:2000",
	"allow = *:*",
	"[user any]",
	"listen = *:*",					/* 10 */
	"listen = localhost:1-1023",
	"[user low]",
	"listen = localhost:*",
	NULL
};

static const struct {
	const char	*behaviour;
	const char	*user;
	const char	*bind;
	uint16_t	 port;
	struct want	 want;
} listen_cases[] = {
	{ "empty_bind_is_loopback", "rf", "", 8080,
	    { true, 2, "allowed by rule" } },
	{ "localhost_bind", "rf", "localhost", 8080,
	    { true, 2, "allowed by rule" } },
	{ "localhost_rule_covers_127_0_0_1", "rf", "127.0.0.1", 8080,
	    { true, 2, "allowed by rule" } },
	{ "localhost_rule_covers_ipv6_loopback", "rf", "::1", 8080,
	    { true, 2, "allowed by rule" } },
	{ "localhost_rule_covers_bracketed_loopback", "rf", "[::1]", 8080,
	    { true, 2, "allowed by rule" } },
	{ "localhost_rule_not_other_loopback", "rf", "127.0.0.2", 8080,
	    { false, 0, "no listen rule allows" } },
	{ "localhost_rule_not_wildcard", "rf", "*", 8080,
	    { false, 0, "no listen rule allows" } },
	{ "localhost_rule_not_any_address", "rf", "0.0.0.0", 8080,
	    { false, 0, "no listen rule allows" } },
	{ "any_ipv4_when_named", "rf", "0.0.0.0", 9000,
	    { true, 3, "allowed by rule" } },
	{ "any_ipv4_rule_not_star", "rf", "*", 9000,
	    { false, 0, "no listen rule allows" } },
	{ "any_ipv4_rule_not_any_ipv6", "rf", "::", 9000,
	    { false, 0, "no listen rule allows" } },
	{ "any_ipv4_rule_not_loopback", "rf", "", 9000,
	    { false, 0, "no listen rule allows" } },
	{ "star_rule_matches_star", "rf", "*", 10000,
	    { true, 4, "allowed by rule" } },
	{ "star_rule_port_range_edge", "rf", "*", 10100,
	    { true, 4, "allowed by rule" } },
	{ "star_rule_outside_range", "rf", "*", 10101,
	    { false, 0, "no listen rule allows" } },
	{ "star_rule_covers_any_ipv4", "rf", "0.0.0.0", 10000,
	    { true, 4, "allowed by rule" } },
	{ "star_rule_covers_any_ipv6", "rf", "::", 10000,
	    { true, 4, "allowed by rule" } },
	{ "star_rule_covers_bracketed_any_ipv6", "rf", "[::]", 10000,
	    { true, 4, "allowed by rule" } },
	{ "star_rule_covers_mapped_any_ipv4", "rf", "::ffff:0.0.0.0", 10050,
	    { true, 4, "allowed by rule" } },
	{ "star_rule_any_ipv4_outside_range", "rf", "0.0.0.0", 10101,
	    { false, 0, "no listen rule allows" } },
	{ "star_rule_not_loopback_ip", "rf", "127.0.0.1", 10000,
	    { false, 0, "no listen rule allows" } },
	{ "star_rule_not_ipv6_loopback", "rf", "::1", 10000,
	    { false, 0, "no listen rule allows" } },
	{ "star_rule_not_other_address", "rf", "10.0.0.5", 10000,
	    { false, 0, "no listen rule allows" } },
	{ "star_rule_not_this_network", "rf", "0.0.0.1", 10000,
	    { false, 0, "no listen rule allows" } },
	{ "star_rule_not_loopback", "rf", "localhost", 10000,
	    { false, 0, "no listen rule allows" } },
	{ "named_low_port_on_loopback_ip", "rf", "127.0.0.1", 80,
	    { true, 5, "allowed by rule" } },
	{ "loopback_ip_rule_covers_localhost", "rf", "localhost", 80,
	    { true, 5, "allowed by rule" } },
	{ "ipv4_loopback_rule_not_ipv6", "rf", "::1", 80,
	    { false, 0, "no listen rule allows" } },
	{ "ipv6_loopback_rule", "rf", "::1", 8443,
	    { true, 6, "allowed by rule" } },
	{ "ipv6_loopback_rule_covers_empty", "rf", "", 8443,
	    { true, 6, "allowed by rule" } },
	{ "ipv6_loopback_rule_not_ipv4", "rf", "127.0.0.1", 8443,
	    { false, 0, "no listen rule allows" } },
	{ "address_rule_exact", "rf", "10.0.0.5", 2000,
	    { true, 7, "allowed by rule" } },
	{ "address_rule_not_neighbour", "rf", "10.0.0.6", 2000,
	    { false, 0, "no listen rule allows" } },
	{ "name_bind_invalid", "rf", "example.com", 8080,
	    { false, 0, "invalid bind address" } },
	{ "short_ipv4_bind_invalid", "rf", "127.1", 8080,
	    { false, 0, "invalid bind address" } },
	{ "hostile_bind_invalid", "rf", "%n%n\n", 8080,
	    { false, 0, "invalid bind address" } },
	{ "allow_rules_do_not_grant_listen", "rf", "*", 5000,
	    { false, 0, "no listen rule allows" } },
	{ "port_0_on_loopback", "rf", "", 0, { true, 2, "allowed by rule" } },
	{ "port_0_on_star", "rf", "*", 0, { true, 4, "allowed by rule" } },
	{ "port_0_without_rule", "rf", "10.0.0.6", 0,
	    { false, 0, "no listen rule allows" } },
	{ "star_ports_above_1024", "any", "*", 1024,
	    { true, 10, "allowed by rule" } },
	{ "star_ports_never_low", "any", "*", 22,
	    { false, 0, "port below 1024 not named by a rule" } },
	{ "star_ports_never_1023", "any", "*", 1023,
	    { false, 0, "port below 1024 not named by a rule" } },
	{ "star_ports_any_ipv6_never_low", "any", "::", 443,
	    { false, 0, "port below 1024 not named by a rule" } },
	{ "star_ports_any_ipv4_high", "any", "0.0.0.0", 8080,
	    { true, 10, "allowed by rule" } },
	{ "explicit_low_range", "any", "localhost", 1,
	    { true, 11, "allowed by rule" } },
	{ "explicit_low_range_top", "any", "127.0.0.1", 1023,
	    { true, 11, "allowed by rule" } },
	{ "explicit_low_range_only", "any", "localhost", 5000,
	    { false, 0, "no listen rule allows" } },
	{ "localhost_star_not_low", "low", "localhost", 80,
	    { false, 0, "port below 1024 not named by a rule" } },
	{ "localhost_star_high", "low", "localhost", 8080,
	    { true, 13, "allowed by rule" } },
	{ "localhost_star_port_0", "low", "", 0,
	    { true, 13, "allowed by rule" } },
	{ "other_users_listen_rules_never_apply", "bob", "", 8080,
	    { false, 0, "no listen rule allows" } },
	{ "empty_user_invalid", "", "", 8080,
	    { false, 0, "invalid request" } },
};

START_TEST(listen_table)
{
	struct policy	*p = policy_fixture(conf_listen);
	struct verdict	 v;
	const char	*b = listen_cases[_i].behaviour;
	char		 origin[64], want_origin[64];
	bool		 r;

	r = policy_decide_listen(p, listen_cases[_i].user,
	    listen_cases[_i].bind, listen_cases[_i].port, &v);
	ck_assert_msg(r == listen_cases[_i].want.allow, "%s: %s", b,
	    v.reason);
	ck_assert_msg(v.allow == r, "%s: verdict", b);
	ck_assert_msg(strcmp(v.reason, listen_cases[_i].want.reason) == 0,
	    "%s: reason %s", b, v.reason);
	policy_rule_origin(v.rule, origin, sizeof(origin));
	if (listen_cases[_i].want.line == 0)
		snprintf(want_origin, sizeof(want_origin), "default");
	else
		snprintf(want_origin, sizeof(want_origin), "%s:%u", TEST_FILE,
		    listen_cases[_i].want.line);
	ck_assert_msg(strcmp(origin, want_origin) == 0, "%s: rule %s", b,
	    origin);
	if (listen_cases[_i].port != 0)
		ck_assert_msg(policy_listen_port_allowed(p,
		    listen_cases[_i].user, listen_cases[_i].bind,
		    listen_cases[_i].port) == r, "%s: port_allowed", b);
	policy_free(p);
}
END_TEST

START_TEST(listen_port_allowed_checks_one_port)
{
	struct policy	*p = policy_fixture(conf_listen);

	ck_assert(!policy_listen_port_allowed(p, "low", "localhost", 0));
	ck_assert(!policy_listen_port_allowed(p, "low", "localhost", 80));
	ck_assert(!policy_listen_port_allowed(p, "low", "localhost", 1023));
	ck_assert(policy_listen_port_allowed(p, "low", "localhost", 1024));
	ck_assert(policy_listen_port_allowed(p, "low", "", 65535));
	ck_assert(policy_listen_port_allowed(p, "rf", "", 8080));
	ck_assert(!policy_listen_port_allowed(p, "rf", "", 8081));
	ck_assert(!policy_listen_port_allowed(p, NULL, "", 8080));
	ck_assert(!policy_listen_port_allowed(p, "rf", NULL, 8080));
	ck_assert(!policy_decide_listen(p, "rf", "", 8081, NULL));
	policy_free(p);
}
END_TEST

/*
 * What forward.c asks, address by address, for "*", "" and "localhost":
 * the concrete 0.0.0.0 and :: (a "*" rule), 127.0.0.1 and ::1 (a
 * "localhost" rule).  Before, "*:PORTS" passed the request and then no
 * concrete address, so nothing was ever bound.
 */
START_TEST(listen_concrete_addresses_of_star_and_loopback)
{
	static const char *const conf[] = {
		"[user star]",
		"listen = *:8000-8099",
		"[user lo]",
		"listen = localhost:9000",
		"[user v4]",
		"listen = 0.0.0.0:7000",
		NULL
	};
	struct policy	*p = policy_fixture(conf);

	ck_assert(policy_decide_listen(p, "star", "*", 8000, NULL));
	ck_assert(policy_listen_port_allowed(p, "star", "0.0.0.0", 8000));
	ck_assert(policy_listen_port_allowed(p, "star", "::", 8099));
	ck_assert(!policy_listen_port_allowed(p, "star", "0.0.0.0", 8100));
	ck_assert(!policy_listen_port_allowed(p, "star", "127.0.0.1", 8000));
	ck_assert(!policy_listen_port_allowed(p, "star", "::1", 8000));
	ck_assert(!policy_decide_listen(p, "star", "", 8000, NULL));

	ck_assert(policy_decide_listen(p, "lo", "localhost", 9000, NULL));
	ck_assert(policy_listen_port_allowed(p, "lo", "127.0.0.1", 9000));
	ck_assert(policy_listen_port_allowed(p, "lo", "::1", 9000));
	ck_assert(!policy_listen_port_allowed(p, "lo", "0.0.0.0", 9000));
	ck_assert(!policy_listen_port_allowed(p, "lo", "::", 9000));

	/* Naming one wildcard address covers it alone, and not "*". */
	ck_assert(policy_listen_port_allowed(p, "v4", "0.0.0.0", 7000));
	ck_assert(!policy_listen_port_allowed(p, "v4", "::", 7000));
	ck_assert(!policy_decide_listen(p, "v4", "*", 7000, NULL));
	policy_free(p);
}
END_TEST

Suite *
policy_suite(void)
{
	Suite	*s = suite_create("policy");
	TCase	*tc = tcase_create("policy");

	tcase_add_loop_test(tc, decide_table, 0, NITEMS(decide_cases));
	tcase_add_loop_test(tc, precheck_table, 0, NITEMS(precheck_cases));
	tcase_add_test(tc, invalid_requests_denied);
	tcase_add_loop_test(tc, add_rule_table, 0, NITEMS(rule_cases));
	tcase_add_test(tc, rules_keep_their_origin);
	tcase_add_loop_test(tc, user_name_rule, 0, NITEMS(user_names));
	tcase_add_test(tc, user_name_rule_edges);
	tcase_add_test(tc, sections_and_members);
	tcase_add_loop_test(tc, listen_table, 0, NITEMS(listen_cases));
	tcase_add_test(tc, listen_port_allowed_checks_one_port);
	tcase_add_test(tc, listen_concrete_addresses_of_star_and_loopback);
	suite_add_tcase(s, tc);
	return s;
}
