/*
 * Unit tests of keyopts.c: authorized_keys options parsed as sshd parses
 * them, and the from=, source-address, permitopen, permitlisten,
 * principals and expiry checks.  Each table row is named for the
 * behaviour it pins.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyopts.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

Suite	*keyopts_suite(void);

/* Parses s, which must succeed. */
static void
parse_ok(const char *s, struct keyopts *o)
{
	char	err[KEYOPTS_ERR_MAX];

	ck_assert_msg(keyopts_parse(s, strlen(s), o, NULL, err,
	    sizeof(err)) == 0, "%s: %s", s, err);
}

/* Parses s, which must fail with an error containing want. */
static void
parse_fails(const char *s, const char *want)
{
	struct keyopts	o;
	char		err[KEYOPTS_ERR_MAX];

	ck_assert_msg(keyopts_parse(s, strlen(s), &o, NULL, err,
	    sizeof(err)) == -1, "%s: parsed", s);
	ck_assert_msg(strstr(err, want) != NULL, "%s: error \"%s\", want "
	    "\"%s\"", s, err, want);
	/* A failed parse leaves nothing to free and no narrowing half done. */
	ck_assert(o.forwarding && o.from == NULL && o.command == NULL &&
	    o.principals == NULL && o.open == NULL && o.listen == NULL &&
	    !o.has_expiry && !o.cert_authority);
}

/* Syntax. */

static const struct {
	const char	*name;
	const char	*s;
	size_t		 end;		/* where the options end */
	bool		 forwarding;
} syntax_ok[] = {
	{ "empty_options_are_defaults", "", 0, true },
	{ "leading_space_is_no_options", " restrict", 0, true },
	{ "space_ends_options", "restrict ssh-ed25519 AAAA", 8, false },
	{ "tab_ends_options", "restrict\tssh-ed25519", 8, false },
	{ "crlf_ends_options", "restrict\r\n", 8, false },
	{ "inert_flags_accepted",
	    "no-pty,no-agent-forwarding,no-x11-forwarding,no-user-rc,pty,"
	    "agent-forwarding,x11-forwarding,user-rc", 99, true },
	{ "names_case_insensitive", "NO-PTY,Restrict,X11-Forwarding", 30,
	    false },
	{ "quoted_space_and_comma_do_not_end",
	    "command=\"a, b c\",restrict x", 25, false },
	{ "escaped_quote_does_not_end", "command=\"a\\\" b\" x", 15, true },
	{ "empty_value_accepted", "command=\"\"", 10, true },
	{ "command_keeps_forwarding", "command=\"/bin/false\"", 20, true },
	{ "cert_authority_flag", "cert-authority,principals=\"a\"", 99,
	    true },
	{ "repeated_flags_accepted", "no-pty,no-pty,restrict,restrict", 31,
	    false },
};

START_TEST(syntax_accepted)
{
	struct keyopts	 o;
	const char	*s = syntax_ok[_i].s, *end = NULL;
	char		 err[KEYOPTS_ERR_MAX];
	size_t		 want = syntax_ok[_i].end;

	if (want == 99)
		want = strlen(s);
	ck_assert_msg(keyopts_parse(s, strlen(s), &o, &end, err,
	    sizeof(err)) == 0, "%s: %s", syntax_ok[_i].name, err);
	ck_assert_msg(end == s + want, "%s: ends at %td, want %zu",
	    syntax_ok[_i].name, end - s, want);
	ck_assert_msg(o.forwarding == syntax_ok[_i].forwarding, "%s",
	    syntax_ok[_i].name);
	keyopts_free(&o);
}
END_TEST

static const struct {
	const char	*name;
	const char	*s;
	const char	*err;
} syntax_bad[] = {
	{ "unterminated_quote", "command=\"echo x", "unterminated quote in "
	    "option \"command\"" },
	{ "escaped_final_quote_unterminated", "command=\"a\\\" x",
	    "unterminated quote" },
	{ "empty_name_first", ",no-pty", "empty option name" },
	{ "empty_name_between", "no-pty,,no-user-rc", "empty option name" },
	{ "trailing_comma_at_end", "no-pty,", "empty option name" },
	{ "trailing_comma_before_key", "no-pty, ssh-ed25519",
	    "empty option name" },
	{ "bare_equals", "=\"x\"", "empty option name" },
	{ "value_missing", "from=", "must be in double quotes" },
	{ "value_unquoted", "from=10.0.0.1", "must be in double quotes" },
	{ "value_option_without_value", "from", "option \"from\" needs a "
	    "value" },
	{ "garbage_after_value", "command=\"x\"y", "junk after the value of "
	    "option \"command\"" },
	{ "quote_in_name", "no\"pty\"", "quote in option name \"no\"" },
	{ "flag_with_value", "restrict=\"1\"", "option \"restrict\" takes "
	    "no value" },
	{ "inert_flag_with_value", "no-pty=\"1\"", "option \"no-pty\" takes "
	    "no value" },
	{ "unknown_flag", "no-pty,foo", "unknown option \"foo\"" },
	{ "unknown_with_value", "foo=\"bar\"", "unknown option \"foo\"" },
	{ "flag_prefix_not_a_flag", "restrictive", "unknown option "
	    "\"restrictive\"" },
	{ "restrict_not_negatable", "no-restrict", "unknown option" },
	{ "cert_authority_not_negatable", "no-cert-authority",
	    "unknown option" },
	{ "control_bytes_in_name_shown_safely", "fo\001o", "unknown option "
	    "\"fo?o\"" },
	{ "long_name_cut_in_error",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "aaaaaaaaaa...\"" },
	{ "command_twice", "command=\"a\",command=\"b\"", "option "
	    "\"command\" given twice" },
	{ "from_twice", "from=\"*\",from=\"*\"", "option \"from\" given "
	    "twice" },
	{ "principals_twice", "principals=\"a\",principals=\"b\"",
	    "option \"principals\" given twice" },
};

START_TEST(syntax_refused)
{
	parse_fails(syntax_bad[_i].s, syntax_bad[_i].err);
}
END_TEST

/* Options sshd honours and hopd cannot: the line is refused, named. */
static const struct {
	const char	*s;
	const char	*err;
} unsupported[] = {
	{ "environment=\"A=b\"", "option \"environment\" is not supported" },
	{ "tunnel=\"0\"", "option \"tunnel\" is not supported" },
	{ "no-touch-required", "option \"no-touch-required\" is not "
	    "supported" },
	{ "touch-required", "option \"touch-required\" is not supported" },
	{ "verify-required", "option \"verify-required\" is not supported" },
	{ "no-verify-required", "option \"no-verify-required\" is not "
	    "supported" },
	{ "restrict,TUNNEL=\"1\",port-forwarding", "option \"tunnel\" is not "
	    "supported" },
	{ "environment", "option \"environment\" is not supported" },
};

START_TEST(unsupported_option_named)
{
	parse_fails(unsupported[_i].s, unsupported[_i].err);
}
END_TEST

START_TEST(values_dequoted_as_sshd)
{
	struct keyopts	o;

	parse_ok("command=\"echo \\\"a, b\\\" c\"", &o);
	ck_assert_str_eq(o.command, "echo \"a, b\" c");
	keyopts_free(&o);
	/* A backslash not before a quote is itself. */
	parse_ok("command=\"a\\\\b\\n\"", &o);
	ck_assert_str_eq(o.command, "a\\\\b\\n");
	keyopts_free(&o);
	parse_ok("from=\"10.0.0.1,*.example.com\",principals=\"a,b\"", &o);
	ck_assert_str_eq(o.from, "10.0.0.1,*.example.com");
	ck_assert_str_eq(o.principals, "a,b");
	ck_assert(!o.cert_authority);
	keyopts_free(&o);
}
END_TEST

/* len and a NUL bound the options, not just whitespace. */
START_TEST(length_and_nul_end_options)
{
	struct keyopts	 o;
	const char	*s = "restrict,no-pty", *end;
	char		 err[KEYOPTS_ERR_MAX];

	ck_assert_int_eq(keyopts_parse(s, 8, &o, &end, err, sizeof(err)), 0);
	ck_assert(end == s + 8 && !o.forwarding);
	s = "no-pty\0restrict";
	ck_assert_int_eq(keyopts_parse(s, 15, &o, &end, err, sizeof(err)),
	    0);
	ck_assert(end == s + 6 && o.forwarding);
	s = "command=\"abc\"";
	ck_assert_int_eq(keyopts_parse(s, 11, &o, &end, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "unterminated"));
	ck_assert_int_eq(keyopts_parse(s, 0, &o, &end, NULL, 0), 0);
	ck_assert(end == s && o.forwarding);
	ck_assert_int_eq(keyopts_parse(NULL, 5, &o, &end, NULL, 0), 0);
	ck_assert(end == NULL && o.forwarding);
	/* keyopts_free twice, or on defaults, is harmless. */
	keyopts_free(&o);
	keyopts_free(&o);
	keyopts_free(NULL);
}
END_TEST

/* restrict, no-port-forwarding and port-forwarding apply in order. */
static const struct {
	const char	*s;
	bool		 forwarding;
} forwarding_cases[] = {
	{ "no-pty", true },
	{ "port-forwarding", true },
	{ "restrict", false },
	{ "no-port-forwarding", false },
	{ "restrict,port-forwarding", true },
	{ "port-forwarding,restrict", false },
	{ "restrict,port-forwarding,restrict", false },
	{ "restrict,no-port-forwarding,port-forwarding", true },
	{ "no-port-forwarding,port-forwarding", true },
	{ "port-forwarding,no-port-forwarding", false },
	{ "restrict,port-forwarding,no-port-forwarding", false },
	{ "RESTRICT,Port-Forwarding", true },
	{ "restrict,port-forwarding,no-pty,pty", true },
	{ "no-pty,restrict,no-user-rc", false },
	{ "restrict,permitopen=\"db:22\"", false },
	{ "command=\"x\",no-port-forwarding", false },
};

START_TEST(forwarding_last_one_wins)
{
	struct keyopts	o;

	parse_ok(forwarding_cases[_i].s, &o);
	ck_assert_msg(o.forwarding == forwarding_cases[_i].forwarding,
	    "%s: forwarding %d", forwarding_cases[_i].s, o.forwarding);
	keyopts_free(&o);
}
END_TEST

/* from= */

static const struct {
	const char	*name;
	const char	*patterns;
	const char	*addr;
	int		 want;
} from_cases[] = {
	{ "cidr_contains", "10.0.0.0/8", "10.1.2.3", 1 },
	{ "cidr_excludes", "10.0.0.0/8", "11.0.0.1", 0 },
	{ "plain_address", "192.0.2.1", "192.0.2.1", 1 },
	{ "plain_address_other", "192.0.2.1", "192.0.2.10", 0 },
	{ "glob_on_address_text", "10.0.0.*", "10.0.0.77", 1 },
	{ "glob_question_mark", "10.0.0.?", "10.0.0.77", 0 },
	{ "star_matches_all", "*", "203.0.113.9", 1 },
	{ "second_entry_matches", "192.0.2.0/24,10.0.0.0/8", "10.9.9.9", 1 },
	{ "negation_refuses", "!10.0.0.1,10.0.0.0/8", "10.0.0.1", 0 },
	{ "negation_elsewhere_allows", "!10.0.0.1,10.0.0.0/8", "10.0.0.2",
	    1 },
	{ "negation_after_positive_refuses", "10.0.0.0/8,!10.0.0.1",
	    "10.0.0.1", 0 },
	{ "negated_cidr_refuses", "*,!10.0.0.0/8", "10.3.3.3", 0 },
	{ "negated_glob_refuses", "*,!*.1", "10.0.0.1", 0 },
	{ "negation_alone_allows_nobody", "!10.0.0.1", "10.0.0.2", 0 },
	{ "ipv6_cidr", "2001:db8::/32", "2001:db8::1", 1 },
	{ "ipv6_cidr_excludes", "2001:db8::/32", "2001:db9::1", 0 },
	{ "ipv6_peer_any_case", "2001:db8::1", "2001:DB8:0::1", 1 },
	{ "ipv6_glob_on_canonical_text", "2001:db8::*", "2001:db8:0:0::5",
	    1 },
	{ "glob_case_insensitive", "2001:DB8::*", "2001:db8::5", 1 },
	{ "ipv4_mapped_peer_is_ipv4", "10.0.0.0/8", "::ffff:10.0.0.1", 1 },
	{ "ipv4_pattern_not_ipv6_peer", "0.0.0.0/0", "2001:db8::1", 0 },
	{ "zero_prefix_all_ipv4", "0.0.0.0/0", "198.51.100.1", 1 },
	{ "host_name_no_dns", "*.example.com", "10.0.0.1", 0 },
	{ "localhost_name_not_loopback", "localhost", "127.0.0.1", 0 },
	{ "host_name_ignored_when_address_matches",
	    "gw.example.com,10.0.0.1", "10.0.0.1", 1 },
	{ "bad_peer_refused", "*", "not-an-address", 0 },
	{ "null_peer_refused", "*", NULL, 0 },
	/* Malformed lists refuse everyone, even a matching peer. */
	{ "empty_list", "", "10.0.0.1", 0 },
	{ "empty_entry", "10.0.0.1,,*", "10.0.0.1", 0 },
	{ "trailing_comma", "10.0.0.1,", "10.0.0.1", 0 },
	{ "bare_negation", "!,*", "10.0.0.1", 0 },
	{ "host_bits_set", "10.0.0.1/8", "10.0.0.1", 0 },
	{ "prefix_too_long", "10.0.0.0/33", "10.0.0.1", 0 },
	{ "bad_entry_after_match", "10.0.0.0/8,10.0.0.1/8", "10.0.0.1", 0 },
	{ "short_ipv4_form", "*,!10.1", "10.0.0.1", 0 },
	{ "hex_ipv4_form", "0x0a000001", "10.0.0.1", 0 },
	{ "zone_id", "fe80::1%eth0", "fe80::1", 0 },
	{ "bracketed_ipv6", "[2001:db8::1]", "2001:db8::1", 0 },
	{ "space_in_entry", "10.0.0.1 ", "10.0.0.1", 0 },
};

START_TEST(from_matches_as_sshd)
{
	ck_assert_msg(keyopts_match_from(from_cases[_i].patterns,
	    from_cases[_i].addr) == from_cases[_i].want, "%s",
	    from_cases[_i].name);
}
END_TEST

START_TEST(from_validity)
{
	char	long_entry[1100];

	ck_assert(keyopts_from_valid("10.0.0.0/8,!10.0.0.1,*.example.com"));
	ck_assert(keyopts_from_valid("2001:db8::/32,host?"));
	ck_assert(keyopts_from_valid("3com.example.com"));
	ck_assert(!keyopts_from_valid(""));
	ck_assert(!keyopts_from_valid("a,,b"));
	ck_assert(!keyopts_from_valid("10.0.0.1/8"));
	ck_assert(!keyopts_from_valid("!"));
	ck_assert(!keyopts_from_valid(NULL));
	ck_assert_int_eq(keyopts_match_from(NULL, "10.0.0.1"), 0);
	/* sshd's match_pattern_list gives up on entries of 1023 bytes. */
	memset(long_entry, 'a', 1022);
	long_entry[1022] = '\0';
	ck_assert(keyopts_from_valid(long_entry));
	memset(long_entry, 'a', 1023);
	long_entry[1023] = '\0';
	ck_assert(!keyopts_from_valid(long_entry));
}
END_TEST

/* A certificate's source-address. */

static const struct {
	const char	*name;
	const char	*list;
	const char	*addr;
	int		 want;		/* -1: malformed, so 0 */
} cidr_cases[] = {
	{ "cidr_contains", "10.0.0.0/8,192.168.0.0/16", "192.168.1.1", 1 },
	{ "cidr_excludes", "10.0.0.0/8,192.168.0.0/16", "172.16.0.1", 0 },
	{ "plain_address", "198.51.100.7", "198.51.100.7", 1 },
	{ "ipv6", "2001:db8::/32", "2001:db8:1::1", 1 },
	{ "mapped_peer", "10.0.0.0/8", "::ffff:10.1.1.1", 1 },
	{ "bad_peer", "0.0.0.0/0", "x", 0 },
	{ "empty_list", "", "10.0.0.1", -1 },
	{ "empty_entry", "10.0.0.0/8,", "10.0.0.1", -1 },
	{ "negation_invalid", "!10.0.0.0/8", "11.0.0.1", -1 },
	{ "glob_invalid", "10.0.0.*", "10.0.0.1", -1 },
	{ "name_invalid", "localhost", "127.0.0.1", -1 },
	{ "bracket_invalid", "[::1]", "::1", -1 },
	{ "later_bad_entry_refuses", "10.0.0.0/8,bogus", "10.0.0.1", -1 },
	{ "host_bits_set", "10.0.0.1/8", "10.0.0.1", -1 },
	{ "short_ipv4_form", "10.1", "10.0.0.1", -1 },
	{ "entry_over_49_bytes",
	    "10.0.0.0/8,0000:0000:0000:0000:0000:0000:0000:0000:0000:0000",
	    "10.0.0.1", -1 },
};

START_TEST(cidr_list_matches_as_sshd)
{
	int	want = cidr_cases[_i].want;

	ck_assert_msg(keyopts_match_cidr_list(cidr_cases[_i].list,
	    cidr_cases[_i].addr) == (want == 1), "%s", cidr_cases[_i].name);
	ck_assert_msg(keyopts_cidr_list_valid(cidr_cases[_i].list) ==
	    (want != -1), "%s: validity", cidr_cases[_i].name);
}
END_TEST

/* expiry-time */

static char	*saved_tz;

static void
tz_save(void)
{
	const char	*tz = getenv("TZ");

	saved_tz = tz != NULL ? strdup(tz) : NULL;
}

/* Under CK_FORK=no the suites share one process: give TZ back. */
static void
tz_restore(void)
{
	if (saved_tz != NULL)
		setenv("TZ", saved_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved_tz);
	saved_tz = NULL;
}

static const struct {
	const char	*name;
	const char	*tz;		/* NULL: UTC forms only */
	const char	*spec;
	int64_t		 want;		/* -1: refused */
} expiry_cases[] = {
	{ "date_utc", NULL, "20300101Z", 1893456000 },
	{ "lower_z", NULL, "20300101z", 1893456000 },
	{ "utc_suffix_as_sshd", NULL, "20300101UTC", 1893456000 },
	{ "utc_suffix_any_case", NULL, "20300101utc", 1893456000 },
	{ "minutes_utc", NULL, "203001011230Z", 1893501000 },
	{ "seconds_utc", NULL, "20300101123045Z", 1893501045 },
	{ "leap_second_folds", NULL, "20300101235960Z", 1893542400 },
	{ "february_31_folds", NULL, "20300231Z", 1898726400 },
	{ "first_second_after_epoch", NULL, "19700101000001Z", 1 },
	{ "local_fixed_offset", "ABC-3", "20300101", 1893456000 - 3 * 3600 },
	{ "local_minutes", "ABC-3", "203001011230", 1893501000 - 3 * 3600 },
	{ "z_ignores_local_zone", "ABC-3", "20300101Z", 1893456000 },
	/* sshd zeroes tm_isdst: summer dates are read as standard time. */
	{ "local_summer_read_as_standard_time",
	    "CET-1CEST,M3.5.0,M10.5.0/3", "20300701", 1909090800 },
	{ "epoch_refused", NULL, "19700101Z", -1 },
	{ "before_epoch_refused", NULL, "19600101Z", -1 },
	{ "year_zero_refused", NULL, "00000101Z", -1 },
	{ "seven_digits", NULL, "2030010", -1 },
	{ "nine_digits", NULL, "203001011", -1 },
	{ "ten_digits", NULL, "2030010112", -1 },
	{ "dashes", NULL, "2030-01-01", -1 },
	{ "month_13", NULL, "20301301Z", -1 },
	{ "month_0", NULL, "20300001Z", -1 },
	{ "day_32", NULL, "20300132Z", -1 },
	{ "day_0", NULL, "20300100Z", -1 },
	{ "hour_24", NULL, "203001012400Z", -1 },
	{ "minute_60", NULL, "203001011260Z", -1 },
	{ "second_61", NULL, "20300101000061Z", -1 },
	{ "z_alone", NULL, "Z", -1 },
	{ "empty", NULL, "", -1 },
	{ "space_inside", NULL, "2030 101Z", -1 },
	{ "sign_inside", NULL, "+2030101Z", -1 },
	{ "double_z", NULL, "20300101ZZ", -1 },
};

START_TEST(expiry_time_as_sshd)
{
	struct keyopts	 o;
	char		 s[128], err[KEYOPTS_ERR_MAX];
	const char	*tz = expiry_cases[_i].tz;
	int		 rc;

	setenv("TZ", tz != NULL ? tz : "XYZ+7", 1);
	tzset();
	snprintf(s, sizeof(s), "expiry-time=\"%s\"", expiry_cases[_i].spec);
	rc = keyopts_parse(s, strlen(s), &o, NULL, err, sizeof(err));
	if (expiry_cases[_i].want == -1) {
		ck_assert_msg(rc == -1, "%s: parsed", expiry_cases[_i].name);
		ck_assert_ptr_nonnull(strstr(err, "invalid expiry-time"));
		return;
	}
	ck_assert_msg(rc == 0, "%s: %s", expiry_cases[_i].name, err);
	ck_assert(o.has_expiry);
	ck_assert_msg(o.expiry == expiry_cases[_i].want, "%s: %lld, want "
	    "%lld", expiry_cases[_i].name, (long long)o.expiry,
	    (long long)expiry_cases[_i].want);
	keyopts_free(&o);
}
END_TEST

START_TEST(earliest_expiry_wins)
{
	struct keyopts	o;

	parse_ok("expiry-time=\"20310101Z\",expiry-time=\"20300101Z\","
	    "expiry-time=\"20320101Z\"", &o);
	ck_assert(o.has_expiry);
	ck_assert_int_eq(o.expiry, 1893456000);
	keyopts_free(&o);
	parse_ok("no-pty", &o);
	ck_assert(!o.has_expiry);
}
END_TEST

/* permitopen */

static const struct {
	const char	*name;
	const char	*opts;
	const char	*host;
	uint16_t	 port;
	bool		 want;
} open_cases[] = {
	{ "no_permitopen_allows_all", "no-pty", "anything", 1, true },
	{ "restrict_refuses_all", "restrict", "db1", 22, false },
	{ "restrict_refuses_listed", "restrict,permitopen=\"db1:22\"", "db1",
	    22, false },
	{ "port_forwarding_reenables", "restrict,port-forwarding,"
	    "permitopen=\"db1:22\"", "db1", 22, true },
	{ "listed_host_port", "permitopen=\"db1:22\"", "db1", 22, true },
	{ "other_port", "permitopen=\"db1:22\"", "db1", 23, false },
	{ "other_host", "permitopen=\"db1:22\"", "db2", 22, false },
	{ "case_sensitive_like_sshd", "permitopen=\"db1:22\"", "DB1", 22,
	    false },
	{ "no_name_lookup", "permitopen=\"localhost:22\"", "127.0.0.1", 22,
	    false },
	{ "trailing_dot_differs", "permitopen=\"db1:22\"", "db1.", 22,
	    false },
	{ "any_port", "permitopen=\"db1:*\"", "db1", 5432, true },
	{ "any_port_other_host", "permitopen=\"db1:*\"", "db2", 5432, false },
	{ "star_host_any_host", "permitopen=\"*:443\"", "example.org", 443,
	    true },
	{ "star_host_port_checked", "permitopen=\"*:443\"", "example.org", 80,
	    false },
	{ "no_other_glob", "permitopen=\"db*:22\"", "db1", 22, false },
	{ "glob_chars_literal", "permitopen=\"db*:22\"", "db*", 22, true },
	{ "ipv6_brackets_dropped", "permitopen=\"[2001:db8::1]:443\"",
	    "2001:db8::1", 443, true },
	{ "ipv6_request_with_brackets_differs",
	    "permitopen=\"[2001:db8::1]:443\"", "[2001:db8::1]", 443, false },
	{ "ipv6_not_canonicalised", "permitopen=\"[2001:db8::1]:443\"",
	    "2001:db8:0::1", 443, false },
	{ "slash_separator_as_sshd", "permitopen=\"db1/22\"", "db1", 22,
	    true },
	{ "entries_accumulate", "permitopen=\"db1:22\",no-pty,"
	    "permitopen=\"db2:5432\"", "db2", 5432, true },
	{ "entries_accumulate_first", "permitopen=\"db1:22\","
	    "permitopen=\"db2:5432\"", "db1", 22, true },
	{ "entries_not_crossed", "permitopen=\"db1:22\","
	    "permitopen=\"db2:5432\"", "db1", 5432, false },
	{ "empty_host_only_empty", "permitopen=\":22\"", "", 22, true },
	{ "empty_host_not_others", "permitopen=\":22\"", "db1", 22, false },
	{ "port_0_only_star", "permitopen=\"db1:*\"", "db1", 0, true },
	{ "port_0_not_listed", "permitopen=\"db1:22\"", "db1", 0, false },
};

START_TEST(permitopen_matches_as_sshd)
{
	struct keyopts	o;

	parse_ok(open_cases[_i].opts, &o);
	ck_assert_msg(keyopts_permits_open(&o, open_cases[_i].host,
	    open_cases[_i].port) == open_cases[_i].want, "%s",
	    open_cases[_i].name);
	ck_assert(!keyopts_permits_open(&o, NULL, 22));
	keyopts_free(&o);
}
END_TEST

/* permitlisten */

static const struct {
	const char	*name;
	const char	*opts;
	const char	*host;
	uint16_t	 port;
	bool		 want;
} listen_cases[] = {
	{ "no_permitlisten_allows_all", "no-pty", "0.0.0.0", 80, true },
	{ "restrict_refuses_all", "restrict,permitlisten=\"8080\"",
	    "localhost", 8080, false },
	{ "bare_port_any_host", "permitlisten=\"8080\"", "localhost", 8080,
	    true },
	{ "bare_port_any_address", "permitlisten=\"8080\"", "0.0.0.0", 8080,
	    true },
	{ "bare_port_empty_host", "permitlisten=\"8080\"", "", 8080, true },
	{ "bare_port_other_port", "permitlisten=\"8080\"", "localhost", 8081,
	    false },
	{ "listed_host", "permitlisten=\"localhost:8080\"", "localhost", 8080,
	    true },
	{ "request_lowercased", "permitlisten=\"localhost:8080\"",
	    "LocalHost", 8080, true },
	{ "localhost_not_loopback_address", "permitlisten=\"localhost:8080\"",
	    "127.0.0.1", 8080, false },
	{ "upper_case_pattern_never_matches",
	    "permitlisten=\"Localhost:8080\"", "localhost", 8080, false },
	{ "glob_host", "permitlisten=\"*.example.com:*\"", "a.example.com",
	    1, true },
	{ "glob_host_other", "permitlisten=\"*.example.com:*\"",
	    "example.com", 1, false },
	{ "glob_question_mark", "permitlisten=\"10.0.0.?:8080\"", "10.0.0.7",
	    8080, true },
	{ "star_star_all", "permitlisten=\"*\"", "anything", 65535, true },
	{ "ipv6_brackets_dropped", "permitlisten=\"[::1]:8080\"", "::1",
	    8080, true },
	{ "port_0_needs_star", "permitlisten=\"localhost:8080\"",
	    "localhost", 0, false },
	{ "port_0_star_matches", "permitlisten=\"localhost:*\"", "localhost",
	    0, true },
	{ "port_0_bare_star", "permitlisten=\"*\"", "", 0, true },
	{ "empty_host_only_empty", "permitlisten=\":8080\"", "", 8080, true },
	{ "empty_host_not_named", "permitlisten=\":8080\"", "localhost", 8080,
	    false },
	{ "entries_accumulate", "permitlisten=\"8080\","
	    "permitlisten=\"localhost:9090\"", "localhost", 9090, true },
	{ "listen_does_not_permit_open_host", "permitopen=\"db1:22\"",
	    "localhost", 8080, true },
};

START_TEST(permitlisten_matches_as_sshd)
{
	struct keyopts	o;

	parse_ok(listen_cases[_i].opts, &o);
	ck_assert_msg(keyopts_permits_listen(&o, listen_cases[_i].host,
	    listen_cases[_i].port) == listen_cases[_i].want, "%s",
	    listen_cases[_i].name);
	ck_assert(!keyopts_permits_listen(&o, NULL, 8080));
	keyopts_free(&o);
}
END_TEST

static const struct {
	const char	*s;
	const char	*err;
} permit_bad[] = {
	{ "permitopen=\"db1\"", "malformed permitopen \"db1\": missing port" },
	{ "permitopen=\"\"", "missing port" },
	{ "permitopen=\"db1:\"", "port is 1 to 65535 or *" },
	{ "permitopen=\"db1:0\"", "port is 1 to 65535" },
	{ "permitopen=\"db1:65536\"", "port is 1 to 65535" },
	{ "permitopen=\"db1:ssh\"", "port is 1 to 65535" },
	{ "permitopen=\"db1:022\"", "port is 1 to 65535" },
	{ "permitopen=\"db1:22:33\"", "port is 1 to 65535" },
	{ "permitopen=\"::1:22\"", "port is 1 to 65535" },
	{ "permitopen=\"[::1\"", "missing ']'" },
	{ "permitopen=\"[::1]\"", "missing port" },
	{ "permitopen=\"[::1]x:22\"", "junk after ']'" },
	{ "permitlisten=\"\"", "malformed permitlisten \"\": port" },
	{ "permitlisten=\"0\"", "port is 1 to 65535" },
	{ "permitlisten=\"localhost\"", "port is 1 to 65535" },
	{ "permitlisten=\"localhost:\"", "port is 1 to 65535" },
	{ "permitlisten=\"[::1]/8080\"", "separated by ':'" },
	{ "permitlisten=\"a/b:8080\"", "separated by ':'" },
	{ "permitlisten=\"host/8080\"", "port is 1 to 65535" },
	{ "permitopen=\"db1:22\",permitopen=\"x\"", "malformed permitopen "
	    "\"x\"" },
	{ "permitopen=\"d\001b:x\"", "malformed permitopen \"d?b:x\"" },
};

START_TEST(permit_syntax_refused)
{
	parse_fails(permit_bad[_i].s, permit_bad[_i].err);
}
END_TEST

/* Caps. */

static char *
repeat_option(const char *opt, size_t n)
{
	size_t	 i, len = strlen(opt);
	char	*s = malloc(n * (len + 1) + 1), *p = s;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < n; i++) {
		memcpy(p, opt, len);
		p += len;
		*p++ = ',';
	}
	p[-1] = '\0';
	return s;
}

START_TEST(permit_caps)
{
	struct keyopts	 o;
	char		*s;

	s = repeat_option("permitopen=\"db1:22\"", KEYOPTS_PERMIT_MAX);
	parse_ok(s, &o);
	ck_assert_uint_eq(o.nopen, KEYOPTS_PERMIT_MAX);
	keyopts_free(&o);
	free(s);
	s = repeat_option("permitopen=\"db1:22\"", KEYOPTS_PERMIT_MAX + 1);
	parse_fails(s, "more than 64 permitopen options");
	free(s);
	s = repeat_option("permitlisten=\"80\"", KEYOPTS_PERMIT_MAX);
	parse_ok(s, &o);
	ck_assert_uint_eq(o.nlisten, KEYOPTS_PERMIT_MAX);
	keyopts_free(&o);
	free(s);
	s = repeat_option("permitlisten=\"80\"", KEYOPTS_PERMIT_MAX + 1);
	parse_fails(s, "more than 64 permitlisten options");
	free(s);
}
END_TEST

/* Builds name="<n bytes of c>suffix". */
static char *
long_value(const char *name, char c, size_t n, const char *suffix)
{
	size_t	 len = strlen(name) + n + strlen(suffix) + 8;
	char	*s = malloc(len);
	int	 at;

	ck_assert_ptr_nonnull(s);
	at = snprintf(s, len, "%s=\"", name);
	memset(s + at, c, n);
	snprintf(s + at + n, len - at - n, "%s\"", suffix);
	return s;
}

START_TEST(value_caps)
{
	struct keyopts	 o;
	char		*s;

	s = long_value("command", 'x', KEYOPTS_VALUE_MAX, "");
	parse_ok(s, &o);
	ck_assert_uint_eq(strlen(o.command), KEYOPTS_VALUE_MAX);
	keyopts_free(&o);
	free(s);
	s = long_value("command", 'x', KEYOPTS_VALUE_MAX + 1, "");
	parse_fails(s, "value longer than 4096 bytes in option \"command\"");
	free(s);
	s = long_value("permitopen", 'h', KEYOPTS_HOST_MAX, ":22");
	parse_ok(s, &o);
	ck_assert_uint_eq(strlen(o.open[0].host), KEYOPTS_HOST_MAX);
	keyopts_free(&o);
	free(s);
	s = long_value("permitopen", 'h', KEYOPTS_HOST_MAX + 1, ":22");
	parse_fails(s, "host longer than 1024 bytes");
	free(s);
}
END_TEST

/* cert-authority, principals and the login checks. */

START_TEST(principals_listed_exactly)
{
	ck_assert(keyopts_principal_listed("alice,bob", "alice"));
	ck_assert(keyopts_principal_listed("alice,bob", "bob"));
	ck_assert(!keyopts_principal_listed("alice,bob", "ali"));
	ck_assert(!keyopts_principal_listed("alice,bob", "alice,bob"));
	ck_assert(!keyopts_principal_listed("alice,bob", "Alice"));
	ck_assert(!keyopts_principal_listed("alice,bob", "*"));
	ck_assert(!keyopts_principal_listed("a*", "alice"));
	/* As sshd, an empty entry ends the list. */
	ck_assert(!keyopts_principal_listed("alice,,bob", "bob"));
	ck_assert(!keyopts_principal_listed(",alice", "alice"));
	ck_assert(!keyopts_principal_listed("", ""));
	ck_assert(!keyopts_principal_listed("alice,", ""));
	ck_assert(!keyopts_principal_listed(NULL, "alice"));
	ck_assert(!keyopts_principal_listed("alice", NULL));
}
END_TEST

START_TEST(authorise_as_sshd)
{
	struct keyopts	 o;
	const char	*why;

	parse_ok("no-pty", &o);
	ck_assert_int_eq(keyopts_authorise(&o, "10.0.0.1", 0, &why), 0);
	keyopts_free(&o);

	/* Valid up to and including the expiry second. */
	parse_ok("expiry-time=\"20300101Z\"", &o);
	ck_assert_int_eq(keyopts_authorise(&o, "10.0.0.1", 1893456000, &why),
	    0);
	ck_assert_int_eq(keyopts_authorise(&o, "10.0.0.1", 1893456001, &why),
	    -1);
	ck_assert_ptr_nonnull(strstr(why, "expired"));
	keyopts_free(&o);

	parse_ok("principals=\"alice\"", &o);
	ck_assert_int_eq(keyopts_authorise(&o, "10.0.0.1", 0, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "cert-authority"));
	keyopts_free(&o);
	parse_ok("cert-authority,principals=\"alice\"", &o);
	ck_assert(o.cert_authority);
	ck_assert_int_eq(keyopts_authorise(&o, "10.0.0.1", 0, NULL), 0);
	keyopts_free(&o);

	parse_ok("from=\"10.0.0.0/8\"", &o);
	ck_assert_int_eq(keyopts_authorise(&o, "10.0.0.1", 0, &why), 0);
	ck_assert_int_eq(keyopts_authorise(&o, "11.0.0.1", 0, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "not allowed by from="));
	keyopts_free(&o);

	/* sshd checks a from= list when matching, not when parsing. */
	parse_ok("from=\"10.0.0.0/8,,\"", &o);
	ck_assert_int_eq(keyopts_authorise(&o, "10.0.0.1", 0, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "malformed"));
	keyopts_free(&o);

	/* Forwarding is the requests' business, not login's. */
	parse_ok("restrict", &o);
	ck_assert_int_eq(keyopts_authorise(&o, "10.0.0.1", 0, &why), 0);
	keyopts_free(&o);
	ck_assert_int_eq(keyopts_authorise(NULL, "10.0.0.1", 0, &why), -1);
}
END_TEST

START_TEST(null_options_refuse)
{
	ck_assert(!keyopts_permits_open(NULL, "db1", 22));
	ck_assert(!keyopts_permits_listen(NULL, "localhost", 8080));
}
END_TEST

START_TEST(init_is_sshd_defaults)
{
	struct keyopts	o;

	keyopts_init(&o);
	ck_assert(o.forwarding && !o.cert_authority && !o.has_expiry);
	ck_assert(keyopts_permits_open(&o, "db1", 22));
	ck_assert(keyopts_permits_listen(&o, "", 0));
	ck_assert_int_eq(keyopts_authorise(&o, "10.0.0.1", 0, NULL), 0);
	keyopts_free(&o);
}
END_TEST

Suite *
keyopts_suite(void)
{
	Suite	*s = suite_create("keyopts");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, syntax_accepted, 0, NITEMS(syntax_ok));
	tcase_add_loop_test(tc, syntax_refused, 0, NITEMS(syntax_bad));
	tcase_add_loop_test(tc, unsupported_option_named, 0,
	    NITEMS(unsupported));
	tcase_add_test(tc, values_dequoted_as_sshd);
	tcase_add_test(tc, length_and_nul_end_options);
	tcase_add_loop_test(tc, forwarding_last_one_wins, 0,
	    NITEMS(forwarding_cases));
	tcase_add_test(tc, earliest_expiry_wins);
	tcase_add_test(tc, permit_caps);
	tcase_add_test(tc, value_caps);
	tcase_add_loop_test(tc, permit_syntax_refused, 0, NITEMS(permit_bad));
	suite_add_tcase(s, tc);

	tc = tcase_create("expiry");
	tcase_add_checked_fixture(tc, tz_save, tz_restore);
	tcase_add_loop_test(tc, expiry_time_as_sshd, 0, NITEMS(expiry_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("match");
	tcase_add_loop_test(tc, from_matches_as_sshd, 0, NITEMS(from_cases));
	tcase_add_test(tc, from_validity);
	tcase_add_loop_test(tc, cidr_list_matches_as_sshd, 0,
	    NITEMS(cidr_cases));
	tcase_add_loop_test(tc, permitopen_matches_as_sshd, 0,
	    NITEMS(open_cases));
	tcase_add_loop_test(tc, permitlisten_matches_as_sshd, 0,
	    NITEMS(listen_cases));
	tcase_add_test(tc, principals_listed_exactly);
	tcase_add_test(tc, authorise_as_sshd);
	tcase_add_test(tc, null_options_refuse);
	tcase_add_test(tc, init_is_sshd_defaults);
	suite_add_tcase(s, tc);
	return s;
}
