/*
 * config: hopd.ini(5) read from temporary files; defaults, every key valid
 * and invalid, FILE:LINE of every error (also in and after includes),
 * hostile bytes, includes, and the rules and groups it builds.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define FILES_MAX	4
#define WANTS_MAX	3
#define TEXT_MAX	16384

Suite	*config_suite(void);

struct test_file {
	const char	*name;		/* relative to the test's directory */
	const char	*text;
};

/*
 * One hopd.ini (files[0], named hopd.ini unless said) and what loading it
 * gives: nerrors error lines (0: it loads), each of want[] somewhere in
 * them, %D standing for the test's directory.
 */
struct load_case {
	const char		*name;
	struct test_file	 files[FILES_MAX];
	int			 nerrors;
	const char		*want[WANTS_MAX];
};

static char	dir[PATH_MAX];
static const char *case_name = "";	/* of the table case running */
static char	errs_text[TEXT_MAX];
static int	errs_lines;

static void
config_setup(void)
{
	char	tmpl[] = "/tmp/check_config.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_ptr_nonnull(realpath(tmpl, dir));
}

static void
config_teardown(void)
{
	char	cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Writes len bytes of text to dir/name, making one level of directory. */
static void
write_bytes(const char *name, const char *text, size_t len)
{
	char	 path[2 * PATH_MAX], *slash;
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((slash = strrchr(path, '/')) != NULL && slash > path + strlen(dir)) {
		*slash = '\0';
		ck_assert(mkdir(path, 0700) == 0 || errno == EEXIST);
		*slash = '/';
	}
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

static void
write_file(const char *name, const char *text)
{
	write_bytes(name, text, strlen(text));
}

/* s with each %D replaced by the test's directory. */
static const char *
expand(const char *s, char *buf, size_t len)
{
	size_t	n = 0;

	for (; *s != '\0' && n + 1 < len; s++) {
		if (s[0] == '%' && s[1] == 'D') {
			n += (size_t)snprintf(buf + n, len - n, "%s", dir);
			s++;
		} else
			buf[n++] = *s;
	}
	buf[n < len ? n : len - 1] = '\0';
	return buf;
}

/* Loads dir/name; its errors land in errs_text and errs_lines. */
static struct config *
load(const char *name)
{
	struct config	*c;
	char		 path[2 * PATH_MAX], *buf = NULL, *p;
	size_t		 len = 0;
	FILE		*errs;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(errs = open_memstream(&buf, &len));
	c = config_load(path, errs);
	ck_assert_int_eq(fclose(errs), 0);
	snprintf(errs_text, sizeof(errs_text), "%s", buf);
	free(buf);
	errs_lines = 0;
	for (p = errs_text; (p = strchr(p, '\n')) != NULL; p++)
		errs_lines++;
	ck_assert_msg((c == NULL) == (errs_lines > 0),
	    "config_load returned %p with errors:\n%s", (void *)c, errs_text);
	return c;
}

/* Loads the text as dir/hopd.ini; it must load without error. */
static struct config *
load_text(const char *text)
{
	struct config	*c;

	write_file("hopd.ini", text);
	c = load("hopd.ini");
	ck_assert_msg(c != NULL, "unexpected errors:\n%s", errs_text);
	return c;
}

static void
assert_error(const char *want)
{
	char	buf[PATH_MAX + 512];

	expand(want, buf, sizeof(buf));
	ck_assert_msg(strstr(errs_text, buf) != NULL,
	    "%s: wanted \"%s\" in the errors, got:\n%s", case_name, buf,
	    errs_text);
}

static void
run_load_case(const struct load_case *lc)
{
	struct config	*c;
	size_t		 i;

	case_name = lc->name;
	for (i = 0; i < FILES_MAX && lc->files[i].text != NULL; i++)
		write_file(lc->files[i].name != NULL ? lc->files[i].name :
		    "hopd.ini", lc->files[i].text);
	c = load(lc->files[0].name != NULL ? lc->files[0].name : "hopd.ini");
	ck_assert_msg(errs_lines == lc->nerrors,
	    "%s: wanted %d errors, got %d:\n%s", lc->name, lc->nerrors,
	    errs_lines, errs_text);
	for (i = 0; i < WANTS_MAX && lc->want[i] != NULL; i++)
		assert_error(lc->want[i]);
	config_unref(c);
}

static const struct policy_section *
find_section(const struct config *c, bool is_group, const char *name)
{
	size_t	i;

	for (i = 0; i < c->policy->nsections; i++)
		if (c->policy->sections[i].is_group == is_group &&
		    strcmp(c->policy->sections[i].name, name) == 0)
			return &c->policy->sections[i];
	ck_abort_msg("no section %s %s", is_group ? "group" : "user", name);
	return NULL;
}

START_TEST(defaults_when_the_file_is_empty)
{
	struct config	*c = load_text("");

	ck_assert_uint_eq(c->nlisten, 2);
	ck_assert_str_eq(c->listen[0].text, "0.0.0.0:22");
	ck_assert_str_eq(c->listen[1].text, "[::]:22");
	ck_assert_uint_eq(c->listen[1].port, 22);
	ck_assert_uint_eq(c->nhost_keys, 1);
	ck_assert_str_eq(c->host_keys[0], "/etc/hopd/ssh_host_ed25519_key");
	ck_assert_str_eq(c->authorized_keys, "/etc/hopd/keys/%u");
	ck_assert_str_eq(c->audit_log, "/var/log/hopd/audit.jsonl");
	ck_assert(!c->audit_journal);
	ck_assert_uint_eq(c->connect_timeout_ms, 10000);
	ck_assert_uint_eq(c->login_grace_time_ms, 120000);
	ck_assert_uint_eq(c->max_auth_tries, 6);
	ck_assert_uint_eq(c->max_startups_begin, 10);
	ck_assert_uint_eq(c->max_startups_rate, 30);
	ck_assert_uint_eq(c->max_startups_full, 100);
	ck_assert_uint_eq(c->per_source_max_startups, 10);
	ck_assert_uint_eq(c->max_channels_per_session, 64);
	ck_assert_uint_eq(c->max_listeners_per_session, 8);
	ck_assert_uint_eq(c->max_pending_opens_per_session, 16);
	ck_assert_uint_eq(c->max_refused_per_session, 64);
	ck_assert_uint_eq(c->max_lookups_per_user, 16);
	ck_assert_uint_eq(c->max_lookups, 24);
	ck_assert_uint_eq(c->workers, 0);
	ck_assert_int_eq(c->log_level, LOG_LEVEL_INFO);
	ck_assert(!c->log_syslog);
	ck_assert_uint_eq(c->policy->nsections, 0);
	ck_assert_uint_eq(c->refs, 1);
	config_unref(c);
}
END_TEST

/* A [server] line and the unsigned field of struct config it sets. */
static const struct {
	const char	*name;
	const char	*line;
	size_t		 off;
	unsigned	 want;
} number_cases[] = {
#define F(f)	offsetof(struct config, f)
	{ "timeout_plain_seconds", "connect_timeout = 30",
	    F(connect_timeout_ms), 30000 },
	{ "timeout_seconds", "connect_timeout = 30s", F(connect_timeout_ms),
	    30000 },
	{ "timeout_minutes", "connect_timeout = 2m", F(connect_timeout_ms),
	    120000 },
	{ "timeout_compound", "connect_timeout = 1m30s",
	    F(connect_timeout_ms), 90000 },
	{ "timeout_min_edge", "connect_timeout = 1s", F(connect_timeout_ms),
	    1000 },
	{ "timeout_max_edge", "connect_timeout = 10m", F(connect_timeout_ms),
	    600000 },
	{ "grace_zero_is_no_limit", "login_grace_time = 0",
	    F(login_grace_time_ms), 0 },
	{ "grace_hour", "login_grace_time = 1h", F(login_grace_time_ms),
	    3600000 },
	{ "auth_tries_min", "max_auth_tries = 1", F(max_auth_tries), 1 },
	{ "auth_tries_max", "max_auth_tries = 100", F(max_auth_tries), 100 },
	{ "startups_single_begin", "max_startups = 5", F(max_startups_begin),
	    5 },
	{ "startups_single_rate", "max_startups = 5", F(max_startups_rate),
	    100 },
	{ "startups_single_full", "max_startups = 5", F(max_startups_full),
	    5 },
	{ "startups_triple_begin", "max_startups = 3:50:7",
	    F(max_startups_begin), 3 },
	{ "startups_triple_rate", "max_startups = 3:50:7",
	    F(max_startups_rate), 50 },
	{ "startups_triple_full", "max_startups = 3:50:7",
	    F(max_startups_full), 7 },
	{ "per_source_max", "per_source_max_startups = 10000",
	    F(per_source_max_startups), 10000 },
	{ "channels_min", "max_channels_per_session = 1",
	    F(max_channels_per_session), 1 },
	{ "channels_max", "max_channels_per_session = 4096",
	    F(max_channels_per_session), 4096 },
	{ "listeners_zero", "max_listeners_per_session = 0",
	    F(max_listeners_per_session), 0 },
	{ "listeners_max", "max_listeners_per_session = 1024",
	    F(max_listeners_per_session), 1024 },
	{ "pending_opens_min", "max_pending_opens_per_session = 1",
	    F(max_pending_opens_per_session), 1 },
	{ "pending_opens_max", "max_pending_opens_per_session = 256",
	    F(max_pending_opens_per_session), 256 },
	{ "refused_min", "max_refused_per_session = 1",
	    F(max_refused_per_session), 1 },
	{ "refused_max", "max_refused_per_session = 100000",
	    F(max_refused_per_session), 100000 },
	{ "lookups_per_user_min", "max_lookups_per_user = 1",
	    F(max_lookups_per_user), 1 },
	{ "lookups_per_user_max", "max_lookups_per_user = 1024",
	    F(max_lookups_per_user), 1024 },
	{ "lookups_min", "max_lookups = 1", F(max_lookups), 1 },
	{ "lookups_max_below_pool", "max_lookups = 28", F(max_lookups), 28 },
	{ "workers_max", "workers = 256", F(workers), 256 },
	{ "log_level_debug", "log_level = debug", F(log_level),
	    LOG_LEVEL_DEBUG },
	{ "log_level_any_case", "log_level = QUIET", F(log_level),
	    LOG_LEVEL_QUIET },
	{ "trailing_comment", "max_auth_tries = 3 ; three", F(max_auth_tries),
	    3 },
	{ "indented_key", "   max_auth_tries = 4", F(max_auth_tries), 4 },
#undef F
};

START_TEST(every_number_key_valid)
{
	struct config	*c;
	char		 text[256];
	unsigned	 got;

	snprintf(text, sizeof(text), "[server]\n%s\n", number_cases[_i].line);
	c = load_text(text);
	memcpy(&got, (char *)c + number_cases[_i].off, sizeof(got));
	ck_assert_msg(got == number_cases[_i].want, "%s: got %u, wanted %u",
	    number_cases[_i].name, got, number_cases[_i].want);
	config_unref(c);
}
END_TEST

/* The lower limit wins at run time: loading refuses neither order. */
START_TEST(lookup_limits_need_no_order)
{
	struct config	*c;

	c = load_text("[server]\nmax_lookups = 4\n"
	    "max_lookups_per_user = 1024\n");
	ck_assert_uint_eq(c->max_lookups, 4);
	ck_assert_uint_eq(c->max_lookups_per_user, 1024);
	config_unref(c);
	c = load_text("[server]\nmax_lookups_per_user = 2\n"
	    "max_lookups = 28\nmax_pending_opens_per_session = 3\n"
	    "max_refused_per_session = 5\n");
	ck_assert_uint_eq(c->max_lookups_per_user, 2);
	ck_assert_uint_eq(c->max_lookups, 28);
	ck_assert_uint_eq(c->max_pending_opens_per_session, 3);
	ck_assert_uint_eq(c->max_refused_per_session, 5);
	config_unref(c);
}
END_TEST

/* A listen line's PROXY protocol words. */
START_TEST(listen_proxy_options)
{
	struct config	*c;
	struct ip_addr	 a;

	c = load_text("[server]\n"
	    "listen = 127.0.0.1:2222 proxy_protocol=v2 "
	    "proxy_from=10.0.0.0/8,[2001:db8::1]\n"
	    "listen = 127.0.0.1:2223  proxy_from=192.0.2.7 proxy_protocol=v1\n"
	    "listen = 127.0.0.1:2224 proxy_protocol=off\n"
	    "listen = 127.0.0.1:2225\n");
	ck_assert_uint_eq(c->nlisten, 4);
	ck_assert_str_eq(c->listen[0].text, "127.0.0.1:2222");
	ck_assert_int_eq(c->listen[0].proxy_version, 2);
	ck_assert_uint_eq(c->listen[0].nproxy_from, 2);
	ck_assert_int_eq(addr_parse_ip("10.200.3.4", &a), 0);
	ck_assert(addr_cidr_contains(&c->listen[0].proxy_from[0].net,
	    c->listen[0].proxy_from[0].prefix, &a));
	ck_assert_uint_eq(c->listen[0].proxy_from[1].prefix, 128);
	ck_assert_int_eq(c->listen[1].proxy_version, 1);
	ck_assert_uint_eq(c->listen[1].proxy_from[0].prefix, 32);
	ck_assert_int_eq(c->listen[2].proxy_version, 0);
	ck_assert_int_eq(c->listen[3].proxy_version, 0);
	ck_assert_uint_eq(c->listen[3].nproxy_from, 0);
	config_unref(c);
}
END_TEST

START_TEST(string_keys_valid)
{
	struct config	*c;

	c = load_text("[server]\n"
	    "listen = 127.0.0.1:2222\n"
	    "listen = [::1]:2222\n"
	    "listen = 10.1.2.3:22\n"
	    "host_key = /k/ed25519\n"
	    "host_key = keys/ecdsa\n"
	    "authorized_keys = %h/.ssh/authorized_keys\n"
	    "audit_log = none\n"
	    "log_syslog = yes\n");
	ck_assert_uint_eq(c->nlisten, 3);
	ck_assert_str_eq(c->listen[0].text, "127.0.0.1:2222");
	ck_assert_str_eq(c->listen[1].text, "[::1]:2222");
	ck_assert_str_eq(c->listen[2].text, "10.1.2.3:22");
	ck_assert_int_eq(c->listen[1].ip.family, AF_INET6);
	ck_assert_uint_eq(c->listen[2].port, 22);
	ck_assert_uint_eq(c->nhost_keys, 2);
	ck_assert_str_eq(c->host_keys[0], "/k/ed25519");
	ck_assert_str_eq(c->authorized_keys, "%h/.ssh/authorized_keys");
	ck_assert_ptr_null(c->audit_log);
	ck_assert(!c->audit_journal);
	ck_assert(c->log_syslog);
	config_unref(c);
}
END_TEST

/* audit_log: a file, journal, or both in either order. */
START_TEST(audit_log_takes_a_file_the_journal_or_both)
{
	struct config	*c;
	char		 want[PATH_MAX + 64];

	c = load_text("[server]\naudit_log = journal\n");
	ck_assert_ptr_null(c->audit_log);
	ck_assert(c->audit_journal);
	config_unref(c);
	c = load_text("[server]\naudit_log = /a/audit.jsonl  journal\n");
	ck_assert_str_eq(c->audit_log, "/a/audit.jsonl");
	ck_assert(c->audit_journal);
	config_unref(c);
	c = load_text("[server]\naudit_log = journal\tlog/audit.jsonl\n");
	ck_assert_str_eq(c->audit_log, expand("%D/log/audit.jsonl", want,
	    sizeof(want)));
	ck_assert(c->audit_journal);
	config_unref(c);
	c = load_text("[server]\naudit_log = /a/audit.jsonl\n");
	ck_assert_str_eq(c->audit_log, "/a/audit.jsonl");
	ck_assert(!c->audit_journal);
	config_unref(c);
}
END_TEST

START_TEST(relative_paths_are_against_the_file)
{
	struct config	*c;
	char		 want[PATH_MAX + 64];

	c = load_text("[server]\nhost_key = keys/host\n"
	    "authorized_keys = keys/%u.pub\naudit_log = log/audit.jsonl\n");
	ck_assert_str_eq(c->host_keys[0], expand("%D/keys/host", want,
	    sizeof(want)));
	ck_assert_str_eq(c->authorized_keys, expand("%D/keys/%u.pub", want,
	    sizeof(want)));
	ck_assert_str_eq(c->audit_log, expand("%D/log/audit.jsonl", want,
	    sizeof(want)));
	config_unref(c);
}
END_TEST

#define SERVER(line)	{ { NULL, "[server]\n" line "\n" } }

static const struct load_case error_cases[] = {
	{ "duration_junk", SERVER("connect_timeout = soon"), 1,
	    { "%D/hopd.ini:2: connect_timeout: expected a duration like 30s, "
	    "2m or 10 (seconds), got 'soon'" } },
	{ "duration_negative", SERVER("connect_timeout = -5"), 1,
	    { "%D/hopd.ini:2: connect_timeout: expected a duration" } },
	{ "duration_empty", SERVER("connect_timeout ="), 1,
	    { "%D/hopd.ini:2: connect_timeout: expected a duration" } },
	{ "duration_space", SERVER("connect_timeout = 30 s"), 1,
	    { "got '30 s'" } },
	{ "duration_unknown_unit", SERVER("connect_timeout = 3d"), 1,
	    { "connect_timeout: expected a duration" } },
	{ "duration_overflow", SERVER("connect_timeout = 99999999999999h"),
	    1, { "connect_timeout: expected a duration" } },
	{ "duration_overflow_32", SERVER("connect_timeout = 4294968s"), 1,
	    { "connect_timeout: expected a duration" } },
	{ "timeout_zero", SERVER("connect_timeout = 0"), 1,
	    { "%D/hopd.ini:2: connect_timeout: expected a duration from 1s to "
	    "10m, got '0'" } },
	{ "timeout_too_long", SERVER("connect_timeout = 601"), 1,
	    { "from 1s to 10m" } },
	{ "grace_too_long", SERVER("login_grace_time = 61m"), 1,
	    { "login_grace_time: expected a duration from 0 to 1h" } },
	{ "auth_tries_zero", SERVER("max_auth_tries = 0"), 1,
	    { "%D/hopd.ini:2: max_auth_tries: expected a whole number from 1 "
	    "to 100, got '0'" } },
	{ "auth_tries_too_many", SERVER("max_auth_tries = 101"), 1,
	    { "from 1 to 100, got '101'" } },
	{ "auth_tries_sign", SERVER("max_auth_tries = +5"), 1,
	    { "got '+5'" } },
	{ "auth_tries_junk", SERVER("max_auth_tries = 6x"), 1,
	    { "got '6x'" } },
	{ "auth_tries_huge", SERVER("max_auth_tries = 99999999999999999999"),
	    1, { "max_auth_tries: expected a whole number" } },
	{ "startups_two_fields", SERVER("max_startups = 10:30"), 1,
	    { "%D/hopd.ini:2: max_startups: expected START:RATE:FULL" } },
	{ "startups_begin_above_full", SERVER("max_startups = 100:30:10"), 1,
	    { "max_startups: expected START:RATE:FULL" } },
	{ "startups_rate_zero", SERVER("max_startups = 10:0:100"), 1,
	    { "max_startups:" } },
	{ "startups_rate_above_100", SERVER("max_startups = 10:101:100"), 1,
	    { "max_startups:" } },
	{ "startups_zero", SERVER("max_startups = 0"), 1,
	    { "max_startups:" } },
	{ "startups_four_fields", SERVER("max_startups = 1:2:3:4"), 1,
	    { "max_startups:" } },
	{ "per_source_zero", SERVER("per_source_max_startups = 0"), 1,
	    { "per_source_max_startups: expected a whole number from 1 to "
	    "10000" } },
	{ "channels_too_many", SERVER("max_channels_per_session = 4097"), 1,
	    { "max_channels_per_session: expected a whole number from 1 to "
	    "4096" } },
	{ "listeners_too_many", SERVER("max_listeners_per_session = 1025"), 1,
	    { "max_listeners_per_session: expected a whole number from 0 to "
	    "1024" } },
	{ "pending_opens_zero", SERVER("max_pending_opens_per_session = 0"),
	    1, { "%D/hopd.ini:2: max_pending_opens_per_session: expected a "
	    "whole number from 1 to 256, got '0'" } },
	{ "pending_opens_too_many",
	    SERVER("max_pending_opens_per_session = 257"), 1,
	    { "max_pending_opens_per_session: expected a whole number from 1 "
	    "to 256, got '257'" } },
	{ "pending_opens_junk", SERVER("max_pending_opens_per_session = 1 6"),
	    1, { "max_pending_opens_per_session: expected a whole number "
	    "from 1 to 256, got '1 6'" } },
	{ "refused_zero", SERVER("max_refused_per_session = 0"), 1,
	    { "%D/hopd.ini:2: max_refused_per_session: expected a whole number "
	    "from 1 to 100000, got '0'" } },
	{ "refused_too_many", SERVER("max_refused_per_session = 100001"), 1,
	    { "max_refused_per_session: expected a whole number from 1 to "
	    "100000, got '100001'" } },
	{ "refused_unit", SERVER("max_refused_per_session = 64k"), 1,
	    { "max_refused_per_session: expected a whole number from 1 to "
	    "100000, got '64k'" } },
	{ "refused_huge", SERVER("max_refused_per_session = "
	    "184467440737095516160"), 1,
	    { "max_refused_per_session: expected a whole number" } },
	{ "lookups_per_user_zero", SERVER("max_lookups_per_user = 0"), 1,
	    { "%D/hopd.ini:2: max_lookups_per_user: expected a whole number "
	    "from 1 to 1024, got '0'" } },
	{ "lookups_per_user_too_many", SERVER("max_lookups_per_user = 1025"),
	    1, { "max_lookups_per_user: expected a whole number from 1 to "
	    "1024, got '1025'" } },
	{ "lookups_per_user_negative", SERVER("max_lookups_per_user = -1"), 1,
	    { "max_lookups_per_user: expected a whole number from 1 to 1024, "
	    "got '-1'" } },
	{ "lookups_per_user_word", SERVER("max_lookups_per_user = sixteen"), 1,
	    { "got 'sixteen'" } },
	{ "lookups_zero", SERVER("max_lookups = 0"), 1,
	    { "%D/hopd.ini:2: max_lookups: expected a whole number from 1 to "
	    "28, got '0'" } },
	{ "lookups_whole_resolver_pool", SERVER("max_lookups = 32"), 1,
	    { "max_lookups: expected a whole number from 1 to 28, got '32'" } },
	{ "lookups_just_above", SERVER("max_lookups = 29"), 1,
	    { "max_lookups: expected a whole number from 1 to 28, got '29'" } },
	{ "lookups_empty", SERVER("max_lookups ="), 1,
	    { "max_lookups: expected a whole number from 1 to 28, got ''" } },
	{ "lookups_hex", SERVER("max_lookups = 0x10"), 1,
	    { "got '0x10'" } },
	{ "lookups_given_twice", SERVER("max_lookups = 4\nmax_lookups = 5"), 1,
	    { "%D/hopd.ini:3: max_lookups: given twice, first at "
	    "%D/hopd.ini:2" } },
	{ "workers_too_many", SERVER("workers = 257"), 1,
	    { "workers: expected a whole number from 0 to 256" } },
	{ "log_level_unknown", SERVER("log_level = loud"), 1,
	    { "%D/hopd.ini:2: log_level: expected quiet, error, info, verbose "
	    "or debug, got 'loud'" } },
	{ "log_syslog_true", SERVER("log_syslog = true"), 1,
	    { "log_syslog: expected yes or no, got 'true'" } },
	{ "listen_name", SERVER("listen = localhost:22"), 1,
	    { "%D/hopd.ini:2: listen: expected ADDRESS:PORT" } },
	{ "listen_no_port", SERVER("listen = 0.0.0.0"), 1,
	    { "listen: expected ADDRESS:PORT" } },
	{ "listen_port_zero", SERVER("listen = 0.0.0.0:0"), 1,
	    { "listen: expected ADDRESS:PORT" } },
	{ "listen_port_too_big", SERVER("listen = 0.0.0.0:65536"), 1,
	    { "listen: expected ADDRESS:PORT" } },
	{ "listen_short_ipv4", SERVER("listen = 127.1:22"), 1,
	    { "listen: expected ADDRESS:PORT" } },
	{ "listen_v6_without_brackets", SERVER("listen = ::1:22"), 1,
	    { "listen:" } },
	{ "listen_proxy_without_from", SERVER("listen = 127.0.0.1:22 "
	    "proxy_protocol=v2"), 1,
	    { "%D/hopd.ini:2: listen: proxy_protocol needs proxy_from" } },
	{ "listen_from_without_proxy", SERVER("listen = 127.0.0.1:22 "
	    "proxy_from=10.0.0.1"), 1,
	    { "listen: proxy_from without proxy_protocol" } },
	{ "listen_proxy_v3", SERVER("listen = 127.0.0.1:22 "
	    "proxy_protocol=v3 proxy_from=10.0.0.1"), 1,
	    { "listen: proxy_protocol is v1, v2 or off, got 'v3'" } },
	{ "listen_proxy_from_name", SERVER("listen = 127.0.0.1:22 "
	    "proxy_protocol=v2 proxy_from=lb1.example"), 1,
	    { "listen: proxy_from: 'lb1.example' is not an address or CIDR" } },
	{ "listen_proxy_from_empty", SERVER("listen = 127.0.0.1:22 "
	    "proxy_protocol=v2 proxy_from=,"), 1,
	    { "listen: proxy_from needs at least one address or CIDR" } },
	{ "listen_proxy_twice", SERVER("listen = 127.0.0.1:22 "
	    "proxy_protocol=v2 proxy_protocol=v1 proxy_from=10.0.0.1"), 1,
	    { "listen: expected ADDRESS:PORT, then at most one "
	    "proxy_protocol" } },
	{ "listen_unknown_word", SERVER("listen = 127.0.0.1:22 rdomain=1"), 1,
	    { "got 'rdomain=1'" } },
	{ "listen_too_many_proxy_from", SERVER("listen = 127.0.0.1:22 "
	    "proxy_protocol=v2 proxy_from=10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4,"
	    "10.0.0.5,10.0.0.6,10.0.0.7,10.0.0.8,10.0.0.9,10.0.0.10,10.0.0.11,"
	    "10.0.0.12,10.0.0.13,10.0.0.14,10.0.0.15,10.0.0.16,10.0.0.17"), 1,
	    { "listen: more than 16 proxy_from networks" } },
	{ "listen_twice", SERVER("listen = 127.0.0.1:22\n"
	    "listen = 127.0.0.1:22"), 1,
	    { "%D/hopd.ini:3: listen: 127.0.0.1:22 is listed twice" } },
	{ "host_key_empty", SERVER("host_key ="), 1,
	    { "%D/hopd.ini:2: host_key: expected the path" } },
	{ "authorized_keys_bad_percent", SERVER("authorized_keys = /k/%x"),
	    1, { "%D/hopd.ini:2: authorized_keys: expected a path where only "
	    "%u" } },
	{ "authorized_keys_trailing_percent", SERVER("authorized_keys = /k/%"),
	    1, { "authorized_keys:" } },
	{ "authorized_keys_empty", SERVER("authorized_keys ="), 1,
	    { "authorized_keys:" } },
	{ "audit_log_empty", SERVER("audit_log ="), 1,
	    { "%D/hopd.ini:2: audit_log: expected a file path, like "
	    "/var/log/hopd/audit.jsonl, journal, both, or none" } },
	{ "audit_log_blank", SERVER("audit_log = \t "), 1,
	    { "audit_log: expected a file path" } },
	{ "audit_log_two_files", SERVER("audit_log = /a/x.jsonl /b/y.jsonl"),
	    1, { "%D/hopd.ini:2: audit_log: a second file, '/b/y.jsonl': "
	    "expected one file path, journal, both, or none" } },
	{ "audit_log_journal_twice", SERVER("audit_log = journal /a journal"),
	    1, { "%D/hopd.ini:2: audit_log: journal is given twice" } },
	{ "audit_log_none_and_journal", SERVER("audit_log = none journal"), 1,
	    { "%D/hopd.ini:2: audit_log: none cannot be given with anything "
	    "else" } },
	{ "audit_log_file_and_none", SERVER("audit_log = /a/x.jsonl none"), 1,
	    { "%D/hopd.ini:2: audit_log: none cannot be given with anything "
	    "else" } },
	{ "audit_log_none_twice", SERVER("audit_log = none none"), 1,
	    { "audit_log: none cannot be given with anything else" } },
	{ "unknown_server_key", SERVER("port = 22"), 1,
	    { "%D/hopd.ini:2: port: unknown key in [server]; valid keys are "
	    "listen, host_key, authorized_keys, audit_log, connect_timeout",
	    "max_listeners_per_session, max_pending_opens_per_session, "
	    "max_refused_per_session, max_lookups_per_user, max_lookups, "
	    "workers, log_level, log_syslog, include" } },
	{ "duplicate_singular_key", SERVER("connect_timeout = 5\n"
	    "max_auth_tries = 3\nconnect_timeout = 6"), 1,
	    { "%D/hopd.ini:4: connect_timeout: given twice, first at "
	    "%D/hopd.ini:2" } },
	{ "duplicate_across_server_sections", { { NULL, "[server]\n"
	    "workers = 2\n[user a]\n[server]\nworkers = 3\n" } }, 1,
	    { "%D/hopd.ini:5: workers: given twice, first at %D/hopd.ini:2" } },
	{ "unknown_section", { { NULL, "[servers]\nworkers = 2\n" } }, 1,
	    { "%D/hopd.ini:1: [servers]: unknown section; valid sections are "
	    "[server], [user NAME] and [group NAME]" } },
	{ "section_case_sensitive", { { NULL, "[Server]\n" } }, 1,
	    { "%D/hopd.ini:1: [Server]: unknown section" } },
	{ "user_name_uppercase", { { NULL, "[user Alice]\n" } }, 1,
	    { "%D/hopd.ini:1: [user Alice]: expected a user name" } },
	{ "user_name_missing", { { NULL, "[user]\n" } }, 1,
	    { "%D/hopd.ini:1: [user ]: expected a user name" } },
	{ "user_name_two_words", { { NULL, "[user al ice]\n" } }, 1,
	    { "expected a user name" } },
	{ "user_name_too_long", { { NULL,
	    "[user abcdefghijklmnopqrstuvwxyz0123456]\n" } }, 1,
	    { "expected a user name of up to 32" } },
	{ "group_name_digit_first", { { NULL, "[group 1ops]\n" } }, 1,
	    { "[group 1ops]: expected a group name" } },
	{ "section_unclosed", { { NULL, "[user alice\nallow = a:22\n" } }, 1,
	    { "%D/hopd.ini:1: '[user alice': expected a section header" } },
	{ "section_trailing_junk", { { NULL, "[server] x\n" } }, 1,
	    { "%D/hopd.ini:1: '[server] x': unexpected text after" } },
	{ "key_outside_section", { { NULL, "workers = 2\n[server]\n" } }, 1,
	    { "%D/hopd.ini:1: workers: outside any section" } },
	{ "line_without_separator", { { NULL, "[server]\nworkers 2\n" } }, 1,
	    { "%D/hopd.ini:2: 'workers 2': expected 'key = value'" } },
	{ "missing_key", SERVER(" = 5"), 1,
	    { "%D/hopd.ini:2: missing key: expected 'key = value', got "
	    "'= 5'" } },
	{ "indented_line_is_no_continuation", { { NULL, "[user alice]\n"
	    "allow = a.example:22\n    b.example:22\n" } }, 1,
	    { "%D/hopd.ini:3: b.example: unknown key in [user NAME]" } },
	{ "unknown_user_key", { { NULL, "[user alice]\npermit = a:22\n" } },
	    1, { "%D/hopd.ini:2: permit: unknown key in [user NAME]; valid "
	    "keys are allow, deny, listen and include" } },
	{ "members_in_user_section", { { NULL, "[user alice]\n"
	    "members = bob\n" } }, 1,
	    { "%D/hopd.ini:2: members: unknown key in [user NAME]" } },
	{ "server_key_in_group", { { NULL, "[group g]\nworkers = 1\n" } }, 1,
	    { "%D/hopd.ini:2: workers: unknown key in [group NAME]; valid keys "
	    "are members, allow, deny, listen and include" } },
	{ "members_empty", { { NULL, "[group g]\nmembers = , ,\n" } }, 1,
	    { "%D/hopd.ini:2: members: expected user names" } },
	{ "members_invalid", { { NULL, "[group g]\nmembers = ok, B@d\n" } },
	    1, { "%D/hopd.ini:2: members: invalid user name: 'B@d'" } },
	{ "cidr_host_bits_set", { { NULL, "[user alice]\n"
	    "allow = db.internal:5432\nallow = 10.0.0.1/8:22\n" } }, 1,
	    { "%D/hopd.ini:3: allow:", "got '10.0.0.1/8:22'" } },
	{ "reversed_port_range", { { NULL, "[group g]\n"
	    "deny = 10.0.0.0/8:90-80\n" } }, 1,
	    { "%D/hopd.ini:2: deny:", "got '10.0.0.0/8:90-80'" } },
	{ "rule_without_port", { { NULL, "[user alice]\nallow = db1\n" } },
	    1, { "%D/hopd.ini:2: allow:", "got 'db1'" } },
	{ "rule_port_zero", { { NULL, "[user alice]\ndeny = *:0\n" } }, 1,
	    { "%D/hopd.ini:2: deny:" } },
	{ "listen_rule_bad_port", { { NULL, "[user alice]\n"
	    "listen = localhost:http\n" } }, 1,
	    { "%D/hopd.ini:2: listen:", "got 'localhost:http'" } },
	{ "rule_octal_ipv4", { { NULL, "[user alice]\n"
	    "allow = 010.0.0.1:22\n" } }, 1, { "%D/hopd.ini:2: allow:" } },
	{ "every_error_is_reported", { { NULL, "[server]\nworkers = x\n"
	    "[bogus]\n[user alice]\nallow = 1.2.3.4/8:22\nfoo = 1\n"
	    "[server]\nlog_level = loud\n" } }, 5,
	    { "hopd.ini:2: workers:", "hopd.ini:3: [bogus]",
	    "hopd.ini:8: log_level:" } },
	{ "errors_in_and_after_include", {
	    { NULL, "[server]\ninclude = a.ini\nconnect_timeout = soon\n" },
	    { "a.ini", "[server]\n\nmax_auth_tries = 0\n" } }, 2,
	    { "%D/a.ini:3: max_auth_tries:",
	    "%D/hopd.ini:3: connect_timeout:" } },
	{ "include_missing_file", { { NULL, "include = nope.ini\n" } }, 1,
	    { "%D/hopd.ini:1: include: %D/nope.ini: No such file or "
	    "directory" } },
	{ "include_directory", { { NULL, "include = sub\n" },
	    { "sub/a.ini", "" } }, 1,
	    { "%D/hopd.ini:1: include: %D/sub: not a regular file" } },
	{ "include_empty", { { NULL, "include =\n" } }, 1,
	    { "%D/hopd.ini:1: include: expected a file or a glob" } },
	{ "include_cycle", { { NULL, "[server]\ninclude = a.ini\n" },
	    { "a.ini", "\ninclude = hopd.ini\n" } }, 1,
	    { "%D/a.ini:2: include: %D/hopd.ini: include cycle" } },
	{ "include_self_by_glob", { { NULL, "include = *.ini\n" } }, 1,
	    { "%D/hopd.ini:1: include: %D/hopd.ini: include cycle" } },
	{ "included_file_starts_without_section", {
	    { NULL, "[user alice]\ninclude = a.ini\n" },
	    { "a.ini", "allow = db1:22\n" } }, 1,
	    { "%D/a.ini:1: allow: outside any section" } },
	{ "bad_section_in_include", {
	    { NULL, "[user alice]\ninclude = conf.d/*.conf\nfoo = 1\n" },
	    { "conf.d/x.conf", "[nope]\n" } }, 2,
	    { "%D/conf.d/x.conf:1: [nope]: unknown section",
	    "%D/hopd.ini:3: foo: unknown key in [user NAME]" } },
};

START_TEST(every_error_names_file_line_and_key)
{
	run_load_case(&error_cases[_i]);
}
END_TEST

START_TEST(main_file_missing_is_an_error)
{
	ck_assert_ptr_null(load("nope.ini"));
	assert_error("%D/nope.ini: No such file or directory");
	ck_assert_ptr_null(load(""));
	ck_assert_int_eq(errs_lines, 1);
}
END_TEST

START_TEST(main_file_directory_is_an_error)
{
	write_file("d/x", "");
	ck_assert_ptr_null(load("d"));
	assert_error("%D/d: not a regular file");
}
END_TEST

/* A line of n bytes: "; " and x's, or a rule padded with spaces. */
static char *
long_line(const char *start, size_t n, char pad)
{
	char	*s;
	size_t	 len = strlen(start);

	ck_assert_uint_ge(n, len);
	ck_assert_ptr_nonnull(s = malloc(n + 1));
	memcpy(s, start, len);
	memset(s + len, pad, n - len);
	s[n] = '\0';
	return s;
}

START_TEST(over_long_line_is_an_error_with_its_line)
{
	char	*line, text[TEXT_MAX];

	line = long_line("; ", 2000, 'x');
	snprintf(text, sizeof(text), "[server]\n\n%s\nfoo = 1\n", line);
	write_file("hopd.ini", text);
	ck_assert_ptr_null(load("hopd.ini"));
	assert_error("%D/hopd.ini:3: line is 2000 bytes long; at most 1024 "
	    "are allowed");
	/* Not split: the next line is 4, and nothing of line 3 is parsed. */
	assert_error("%D/hopd.ini:4: foo: unknown key");
	ck_assert_int_eq(errs_lines, 2);
	free(line);
}
END_TEST

START_TEST(ten_kilobyte_rule_is_an_error)
{
	char	*line, *text;
	size_t	 n = 10 * 1024;

	line = long_line("deny = 10.0.0.0/8:", n, '1');
	ck_assert_ptr_nonnull(text = malloc(n + 64));
	snprintf(text, n + 64, "[user alice]\n%s\n", line);
	write_file("hopd.ini", text);
	ck_assert_ptr_null(load("hopd.ini"));
	assert_error("%D/hopd.ini:2: line is 10240 bytes long");
	ck_assert_int_eq(errs_lines, 1);
	free(text);
	free(line);
}
END_TEST

/* Longer than Debian inih's 200 bytes: one rule, not cut in two. */
START_TEST(line_of_max_length_is_one_line)
{
	const struct policy_section	*s;
	struct config			*c;
	char				*rule, *comment, text[TEXT_MAX];

	rule = long_line("deny = h.example:1,2,3,4,5,6,7,8,9,10,11,12,13,14,"
	    "15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,"
	    "8000-9000", 300, ' ');
	comment = long_line("# ", CONFIG_LINE_MAX, '-');
	snprintf(text, sizeof(text), "%s\r\n[user alice]\r\n%s\r\n", comment,
	    rule);
	c = load_text(text);
	s = find_section(c, false, "alice");
	ck_assert_uint_eq(s->nrules, 1);
	ck_assert_uint_eq(s->rules[0].line, 3);
	ck_assert_uint_eq(s->rules[0].ports.n, 32);
	ck_assert(port_set_contains(&s->rules[0].ports, 8500));
	config_unref(c);
	free(comment);
	comment = long_line("# ", CONFIG_LINE_MAX + 1, '-');
	snprintf(text, sizeof(text), "[server]\n%s\n", comment);
	write_file("hopd.ini", text);
	ck_assert_ptr_null(load("hopd.ini"));
	assert_error("%D/hopd.ini:2: line is 1025 bytes long");
	free(comment);
	free(rule);
}
END_TEST

static const struct {
	const char	*name;
	const char	*bytes;
	size_t		 len;
	const char	*want;
} hostile_cases[] = {
#define B(s)	s, sizeof(s) - 1
	{ "nul_inside_a_line", B("[user alice]\nallow = a.example:22\0"
	    "evil:*\nfoo = 1\n"), "%D/hopd.ini:2: line contains a NUL byte" },
	{ "latin1_byte", B("[server]\n\n# caf\xe9\n"),
	    "%D/hopd.ini:3: line is not valid UTF-8" },
	{ "overlong_utf8_slash", B("[user alice]\nallow = a\xc0\xaf:22\n"),
	    "%D/hopd.ini:2: line is not valid UTF-8" },
	{ "utf8_surrogate", B("[server]\n# \xed\xa0\x80\n"),
	    "%D/hopd.ini:2: line is not valid UTF-8" },
	{ "truncated_utf8", B("[server]\n# \xe2\x82"),
	    "%D/hopd.ini:2: line is not valid UTF-8" },
	{ "escape_character", B("[server]\nworkers = 1\x1b[2J\n"),
	    "%D/hopd.ini:2: line contains the control character 0x1b" },
	{ "carriage_return_inside", B("[server]\nworkers = 1\rworkers = 2\n"),
	    "%D/hopd.ini:2: line contains the control character 0x0d" },
	{ "format_directives", B("[user alice]\nallow = %n%n%s:22\n"),
	    "%D/hopd.ini:2: allow:" },
	{ "utf8_in_user_name", B("[user \xc3\xa9ve]\n"),
	    "%D/hopd.ini:1: [user \xc3\xa9ve]: expected a user name" },
#undef B
};

START_TEST(hostile_bytes_are_errors)
{
	case_name = hostile_cases[_i].name;
	write_bytes("hopd.ini", hostile_cases[_i].bytes,
	    hostile_cases[_i].len);
	ck_assert_msg(load("hopd.ini") == NULL, "%s loaded",
	    hostile_cases[_i].name);
	assert_error(hostile_cases[_i].want);
}
END_TEST

START_TEST(valid_utf8_in_comments_is_fine)
{
	config_unref(load_text("# café, 東京, 🙂\n[server]\n"));
	config_unref(load_text("\xef\xbb\xbf[server]\nworkers = 1\n"));
}
END_TEST

START_TEST(repeated_allow_keys_become_rules_in_order)
{
	const struct policy_section	*s;
	struct config			*c;

	c = load_text("[user alice]\n"
	    "allow = build1.internal:22\n"
	    "allow = 10.30.0.0/24:8000-8099\n"
	    "deny  = 10.30.0.13:*\n"
	    "listen = 127.0.0.1:8080\n"
	    "allow = *.DB.internal:5432 ; comment\n");
	s = find_section(c, false, "alice");
	ck_assert_uint_eq(s->nrules, 5);
	ck_assert_int_eq(s->rules[0].kind, RULE_ALLOW);
	ck_assert_str_eq(s->rules[0].text, "build1.internal:22");
	ck_assert_uint_eq(s->rules[0].line, 2);
	ck_assert_int_eq(s->rules[1].pattern, PATTERN_CIDR);
	ck_assert_uint_eq(s->rules[1].prefix, 24);
	ck_assert_int_eq(s->rules[2].kind, RULE_DENY);
	ck_assert(s->rules[2].ports.any);
	ck_assert_int_eq(s->rules[3].kind, RULE_LISTEN);
	ck_assert_uint_eq(s->rules[3].line, 5);
	ck_assert_str_eq(s->rules[4].text, "*.DB.internal:5432");
	ck_assert_str_eq(s->rules[4].name, "*.db.internal");
	ck_assert_uint_eq(s->rules[4].line, 6);
	ck_assert_str_eq(s->rules[4].file, c->path);
	config_unref(c);
}
END_TEST

START_TEST(groups_members_append)
{
	const struct policy_section	*g;
	struct config			*c;

	c = load_text("[group dba]\nmembers = alice, bob carol\n"
	    "allow = *.db.internal:5432\n"
	    "members = dave,erin\n"
	    "[group empty]\n"
	    "[user frank]\n"
	    "[group dba]\nmembers = ghost\n");
	g = find_section(c, true, "dba");
	ck_assert_uint_eq(g->nmembers, 6);
	ck_assert_str_eq(g->members[0], "alice");
	ck_assert_str_eq(g->members[2], "carol");
	ck_assert_str_eq(g->members[4], "erin");
	ck_assert_str_eq(g->members[5], "ghost");
	ck_assert_uint_eq(g->nrules, 1);
	/* An empty group and a user with no rules are fine. */
	ck_assert_uint_eq(find_section(c, true, "empty")->nmembers, 0);
	ck_assert_uint_eq(find_section(c, false, "frank")->nrules, 0);
	ck_assert(policy_knows_user(c->policy, "alice"));
	ck_assert(!policy_knows_user(c->policy, "mallory"));
	config_unref(c);
}
END_TEST

START_TEST(include_glob_order_and_sections)
{
	const struct policy_section	*s;
	struct config			*c;
	char				 want[PATH_MAX + 64];

	write_file("conf.d/b.ini", "[user alice]\nallow = b.example:22\n");
	write_file("conf.d/a.ini", "[user alice]\nallow = a.example:22\n"
	    "[group g]\nmembers = alice\n");
	write_file("conf.d/c.ini", "[user alice]\n\nallow = c.example:22\n");
	write_file("conf.d/skip.txt", "garbage\n");
	c = load_text("[user alice]\nallow = first.example:22\n"
	    "include = conf.d/*.ini\n"
	    "include = conf.d/none-*.ini\n"
	    "allow = last.example:22\n");
	s = find_section(c, false, "alice");
	ck_assert_uint_eq(s->nrules, 5);
	ck_assert_str_eq(s->rules[0].text, "first.example:22");
	ck_assert_str_eq(s->rules[1].text, "a.example:22");
	ck_assert_str_eq(s->rules[2].text, "b.example:22");
	ck_assert_str_eq(s->rules[3].text, "c.example:22");
	ck_assert_str_eq(s->rules[3].file, expand("%D/conf.d/c.ini", want,
	    sizeof(want)));
	ck_assert_uint_eq(s->rules[3].line, 3);
	/* The including file's section goes on after the include. */
	ck_assert_str_eq(s->rules[4].text, "last.example:22");
	ck_assert_uint_eq(s->rules[4].line, 5);
	ck_assert_uint_eq(find_section(c, true, "g")->nmembers, 1);
	config_unref(c);
}
END_TEST

START_TEST(include_absolute_and_nested_relative)
{
	struct config	*c;
	char		 text[PATH_MAX + 64];

	write_file("a/one.ini", "include = ../b/two.ini\n");
	write_file("b/two.ini", "[server]\nworkers = 7\n");
	snprintf(text, sizeof(text), "include = %s/a/one.ini\n", dir);
	c = load_text(text);
	ck_assert_uint_eq(c->workers, 7);
	config_unref(c);
}
END_TEST

START_TEST(include_depth_is_bounded)
{
	char	name[32], text[64];
	int	i;

	for (i = 0; i <= CONFIG_INCLUDE_DEPTH + 1; i++) {
		snprintf(name, sizeof(name), "d%d.ini", i);
		snprintf(text, sizeof(text), "include = d%d.ini\n", i + 1);
		write_file(name, text);
	}
	ck_assert_ptr_null(load("d0.ini"));
	snprintf(text, sizeof(text), "%%D/d%d.ini:1: include: includes nest "
	    "deeper than %d levels", CONFIG_INCLUDE_DEPTH,
	    CONFIG_INCLUDE_DEPTH);
	assert_error(text);
}
END_TEST

/*
 * conf/hopd.ini (from the top of the tree, where make runs) loads, and
 * its commented-out [server] lines are the real defaults.
 */
START_TEST(example_file_states_the_defaults)
{
	struct config	*ex, *def;
	char		 line[CONFIG_LINE_MAX + 2], text[TEXT_MAX];
	size_t		 n = 0, i;
	FILE		*fp;

	ck_assert_msg((fp = fopen("conf/hopd.ini", "r")) != NULL,
	    "conf/hopd.ini: run from the top of the tree");
	while (fgets(line, sizeof(line), fp) != NULL) {
		/* ";key = value" becomes "key = value"; not the include. */
		i = line[0] == ';' && line[1] >= 'a' && line[1] <= 'z' &&
		    strncmp(line, ";include", 8) != 0 ? 1 : 0;
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s",
		    line + i);
		ck_assert_uint_lt(n, sizeof(text));
	}
	fclose(fp);
	ex = load_text(text);
	def = load_text("");
	ck_assert_uint_eq(ex->nlisten, def->nlisten);
	for (i = 0; i < ex->nlisten; i++)
		ck_assert_str_eq(ex->listen[i].text, def->listen[i].text);
	ck_assert_uint_eq(ex->nhost_keys, 1);
	ck_assert_str_eq(ex->host_keys[0], def->host_keys[0]);
	ck_assert_str_eq(ex->authorized_keys, def->authorized_keys);
	ck_assert_str_eq(ex->audit_log, def->audit_log);
	/* Every number of struct config, from connect_timeout_ms on. */
	ck_assert_mem_eq(&ex->connect_timeout_ms, &def->connect_timeout_ms,
	    offsetof(struct config, policy) -
	    offsetof(struct config, connect_timeout_ms));
	ck_assert(policy_knows_user(ex->policy, "bob"));
	config_unref(def);
	config_unref(ex);
}
END_TEST

static const struct {
	const char	*s;
	int		 rc;
	unsigned	 ms;
} duration_cases[] = {
	{ "0", 0, 0 }, { "30", 0, 30000 }, { "30s", 0, 30000 },
	{ "2m", 0, 120000 }, { "1h", 0, 3600000 }, { "1h30m", 0, 5400000 },
	{ "1m30", 0, 90000 }, { "007", 0, 7000 },
	{ "4294967s", 0, 4294967000u }, { "1193h", 0, 4294800000u },
	{ "", -1, 0 }, { "s", -1, 0 }, { "-1", -1, 0 }, { "+1", -1, 0 },
	{ " 1", -1, 0 }, { "1 ", -1, 0 }, { "1.5s", -1, 0 }, { "1d", -1, 0 },
	{ "1S", -1, 0 }, { "4294968s", -1, 0 }, { "1194h", -1, 0 },
	{ "99999999999999999999", -1, 0 }, { "1ss", -1, 0 }, { "m1", -1, 0 },
};

START_TEST(parse_duration_table)
{
	unsigned	ms = 12345;
	int		rc;

	rc = config_parse_duration(duration_cases[_i].s, &ms);
	ck_assert_msg(rc == duration_cases[_i].rc, "'%s': rc %d",
	    duration_cases[_i].s, rc);
	if (rc == 0)
		ck_assert_uint_eq(ms, duration_cases[_i].ms);
	else
		ck_assert_uint_eq(ms, 12345);
}
END_TEST

static const struct {
	const char	*tmpl, *user, *home;
	size_t		 len;
	const char	*want;		/* NULL: -1 */
} expand_cases[] = {
	{ "/etc/hopd/keys/%u", "alice", "/home/alice", 64,
	    "/etc/hopd/keys/alice" },
	{ "%h/.ssh/authorized_keys", "alice", "/home/alice", 64,
	    "/home/alice/.ssh/authorized_keys" },
	{ "/k/100%%/%u%u", "bob", NULL, 64, "/k/100%/bobbob" },
	{ "/plain", NULL, NULL, 7, "/plain" },
	{ "/plain", NULL, NULL, 6, NULL },
	{ "/k/%u", "alice", NULL, 9, "/k/alice" },
	{ "/k/%u", "alice", NULL, 8, NULL },
	{ "/k/%x", "alice", "/h", 64, NULL },
	{ "/k/%", "alice", "/h", 64, NULL },
	{ "/k/%U", "alice", "/h", 64, NULL },
	{ "/k/%u", "../etc", "/h", 64, NULL },
	{ "/k/%u", "a/b", "/h", 64, NULL },
	{ "/k/%u", "", "/h", 64, NULL },
	{ "/k/%u", NULL, "/h", 64, NULL },
	{ "%h/k", "alice", NULL, 64, NULL },
	{ "", "alice", "/h", 1, "" },
	{ "x", "alice", "/h", 0, NULL },
};

START_TEST(expand_path_table)
{
	char	buf[64];
	int	rc;

	rc = config_expand_path(expand_cases[_i].tmpl, expand_cases[_i].user,
	    expand_cases[_i].home, buf, expand_cases[_i].len);
	if (expand_cases[_i].want == NULL)
		ck_assert_msg(rc == -1, "'%s' expanded to '%s'",
		    expand_cases[_i].tmpl, buf);
	else {
		ck_assert_msg(rc == 0, "'%s' failed", expand_cases[_i].tmpl);
		ck_assert_str_eq(buf, expand_cases[_i].want);
	}
}
END_TEST

static const struct {
	const char	*name;
	bool		 valid;
} name_cases[] = {
	{ "alice", true }, { "_svc", true }, { "a.b-c_d9", true },
	{ "abcdefghijklmnopqrstuvwxyz012345", true },
	{ "abcdefghijklmnopqrstuvwxyz0123456", false },
	{ "", false }, { "Alice", false }, { "9lives", false },
	{ "-x", false }, { ".x", false }, { "a b", false }, { "a/b", false },
	{ "a$", false }, { "\xc3\xa9", false },
};

START_TEST(valid_name_table)
{
	ck_assert_msg(config_valid_name(name_cases[_i].name) ==
	    name_cases[_i].valid, "'%s'", name_cases[_i].name);
}
END_TEST

START_TEST(ref_and_unref_count)
{
	struct config	*c = load_text("[server]\n");

	ck_assert_ptr_eq(config_ref(c), c);
	ck_assert_int_eq(c->refs, 2);
	config_unref(c);
	ck_assert_int_eq(c->refs, 1);
	config_unref(c);
	config_unref(NULL);
	ck_assert_ptr_null(config_load("/nonexistent/hopd.ini", NULL));
}
END_TEST

Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("config");

	tcase_add_checked_fixture(tc, config_setup, config_teardown);
	tcase_add_test(tc, defaults_when_the_file_is_empty);
	tcase_add_loop_test(tc, every_number_key_valid, 0,
	    nitems(number_cases));
	tcase_add_test(tc, lookup_limits_need_no_order);
	tcase_add_test(tc, string_keys_valid);
	tcase_add_test(tc, listen_proxy_options);
	tcase_add_test(tc, relative_paths_are_against_the_file);
	tcase_add_test(tc, audit_log_takes_a_file_the_journal_or_both);
	tcase_add_loop_test(tc, every_error_names_file_line_and_key, 0,
	    nitems(error_cases));
	tcase_add_test(tc, main_file_missing_is_an_error);
	tcase_add_test(tc, main_file_directory_is_an_error);
	tcase_add_test(tc, over_long_line_is_an_error_with_its_line);
	tcase_add_test(tc, ten_kilobyte_rule_is_an_error);
	tcase_add_test(tc, line_of_max_length_is_one_line);
	tcase_add_loop_test(tc, hostile_bytes_are_errors, 0,
	    nitems(hostile_cases));
	tcase_add_test(tc, valid_utf8_in_comments_is_fine);
	tcase_add_test(tc, repeated_allow_keys_become_rules_in_order);
	tcase_add_test(tc, groups_members_append);
	tcase_add_test(tc, include_glob_order_and_sections);
	tcase_add_test(tc, include_absolute_and_nested_relative);
	tcase_add_test(tc, include_depth_is_bounded);
	tcase_add_test(tc, example_file_states_the_defaults);
	tcase_add_loop_test(tc, parse_duration_table, 0,
	    nitems(duration_cases));
	tcase_add_loop_test(tc, expand_path_table, 0, nitems(expand_cases));
	tcase_add_loop_test(tc, valid_name_table, 0, nitems(name_cases));
	tcase_add_test(tc, ref_and_unref_count);
	suite_add_tcase(s, tc);
	return s;
}
