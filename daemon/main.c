/*
 * main: the command line (run, -t, --explain), startup, signals and reload.
 * The main thread accepts connections and handles signals; the sessions
 * live in the worker threads of server.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <uv.h>

#include "addr.h"
#include "audit.h"
#include "auth.h"
#include "cases.h"
#include "config.h"
#include "cred.h"
#include "libssh_compat.h"
#include "log.h"
#include "lookup.h"
#include "notify.h"
#include "policy.h"
#include "server.h"

#define DEFAULT_CONFIG	"/etc/hopd/hopd.ini"
#define STATUS_INTERVAL_MS 5000

enum { EXIT_ALLOW = 0, EXIT_DENY = 1, EXIT_ERROR = 2 };

_Static_assert(CASES_ADDRS_MAX == LOOKUP_ADDRS_MAX,
    "a policy case keeps as many addresses of a name as a tunnel");

static const char	*config_path = DEFAULT_CONFIG;
static char		**extra_cases;		/* --cases, for -t */
static size_t		 nextra_cases;
static struct config	*current;
static uv_signal_t	 sig_hup, sig_term, sig_int, sig_usr1;
static uv_timer_t	 status_timer;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: hopd [-d] [-f file]\n"
	    "       hopd -t [-f file] [--cases file ...]\n"
	    "       hopd --explain user host port [--key file [--from addr]]"
	    " [-f file]\n"
	    "\n"
	    "  -f file    configuration (default %s)\n"
	    "  -t         check the configuration and exit\n"
	    "  --cases    with -t: also run the policy cases of file\n"
	    "  --explain  print the policy's decision for user -> host:port\n"
	    "  --key      with --explain: first whether this public key or\n"
	    "             certificate logs in as user (from --from, default\n"
	    "             127.0.0.1), then its permitopen\n"
	    "  -d         log at debug level to stderr\n"
	    "  -h         this help\n", DEFAULT_CONFIG);
	exit(status);
}

static struct config *
load_or_print(const char *path)
{
	return config_load(path, stderr);
}

/*
 * audit_log: the file opens for appending, or can be made in its directory.
 * Nothing to check without a file (none, or the journal alone): journald
 * may well not be running where hopd -t is.
 */
static int
check_audit_log(const char *path)
{
	char	*copy, *dir;
	int	 fd, bad = 0;

	if (path == NULL)
		return 0;
	fd = open(path, O_WRONLY | O_APPEND | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd != -1) {
		close(fd);
		return 0;
	}
	if (errno != ENOENT) {
		fprintf(stderr, "%s: audit_log: %s\n", path, strerror(errno));
		return 1;
	}
	if ((copy = strdup(path)) == NULL) {
		fprintf(stderr, "%s: audit_log: %s\n", path, strerror(errno));
		return 1;
	}
	dir = dirname(copy);
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == -1) {
		fprintf(stderr, "%s: audit_log: cannot create it in %s: %s\n",
		    path, dir, strerror(errno));
		bad = 1;
	}
	free(copy);
	return bad;
}

/*
 * authorized_keys, authorized_principals: without %u or %h the template is
 * one file, which must be a readable regular file; otherwise the directory
 * before the first of them must be searchable (nothing to check when it
 * starts with %h).
 */
static int
check_user_template(const char *key, const char *tmpl)
{
	char		 path[PATH_MAX], *slash;
	const char	*s;
	size_t		 n = 0;
	bool		 per_user = false;
	struct stat	 st;
	int		 fd;

	if (tmpl == NULL)
		return 0;
	for (s = tmpl; *s != '\0' && n < sizeof(path) - 1; s++) {
		if (*s == '%' && s[1] == '%')
			s++;
		else if (*s == '%') {
			per_user = true;
			break;
		}
		path[n++] = *s;
	}
	path[n] = '\0';
	if (per_user) {
		if ((slash = strrchr(path, '/')) == NULL)
			return 0;
		slash[slash == path ? 1 : 0] = '\0';
		if (stat(path, &st) == -1 ||
		    faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == -1) {
			fprintf(stderr, "%s: %s: %s\n", path, key,
			    strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			fprintf(stderr, "%s: %s: not a directory\n", path,
			    key);
			return 1;
		}
		return 0;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		fprintf(stderr, "%s: %s: %s\n", path, key,
		    strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: %s: not a regular file\n", path,
		    key);
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}

/*
 * revoked_keys: read at load; unusable, it refuses every key (the daemon
 * still starts, as sshd), which -t reports.
 */
static int
check_revoked_keys(const struct config *cfg)
{
	char	why[512];

	if (cfg->revoked == NULL || revoked_status(cfg->revoked, why,
	    sizeof(why)) == 0)
		return 0;
	fprintf(stderr, "%s: revoked_keys: %s (every key is refused)\n",
	    cfg->revoked_keys, why);
	return 1;
}

/* lookup_resolve(), as policy cases resolve a name. */
static int
cases_lookup(const char *name, struct ip_addr *addrs, size_t max, size_t *n,
    const char **why)
{
	int	rc;

	if ((rc = lookup_resolve(name, addrs, max, n)) != 0) {
		*why = uv_strerror(rc);
		return -1;
	}
	return 0;
}

/*
 * The policy cases of cfg's policy_cases and of extra files (--cases),
 * run against cfg's policy: the one check of -t, of the start and of every
 * reload.  Each line goes to emit, then "cases: N passed, M failed".
 * Returns EXIT_ALLOW when every case passes (or there are none), EXIT_DENY
 * when one fails, EXIT_ERROR when a file cannot be read or has a malformed
 * line (then no case is run).
 */
static int
run_cases(const struct config *cfg, char *const *extra, size_t nextra,
    cases_emit emit, void *arg)
{
	struct cases	set;
	char		line[80];
	size_t		i, passed, failed;
	int		broken = 0;

	if (cfg->policy_cases == NULL && nextra == 0)
		return EXIT_ALLOW;
	cases_init(&set);
	if (cfg->policy_cases != NULL &&
	    cases_read(&set, cfg->policy_cases, emit, arg) == -1)
		broken = 1;
	for (i = 0; i < nextra; i++)
		if (cases_read(&set, extra[i], emit, arg) == -1)
			broken = 1;
	if (broken) {
		cases_clear(&set);
		return EXIT_ERROR;
	}
	failed = cases_run(&set, cfg->policy, cases_lookup, emit, arg,
	    &passed);
	snprintf(line, sizeof(line), "cases: %zu passed, %zu failed", passed,
	    failed);
	emit(arg, failed > 0 ? CASES_FAIL : CASES_NOTE, line);
	cases_clear(&set);
	return failed > 0 ? EXIT_DENY : EXIT_ALLOW;
}

/* -t: malformed cases files to stderr, with config errors; the rest out. */
static void
cases_print(void *arg, enum cases_line kind, const char *line)
{
	fprintf(kind == CASES_ERROR ? stderr : stdout, "%s\n", line);
}

static void
cases_log(void *arg, enum cases_line kind, const char *line)
{
	if (kind == CASES_NOTE)
		log_info("%s", line);
	else
		log_warnx("%s", line);
}

/*
 * hopd -t: the configuration, then every file it names, as far as can be
 * told without a client: one "FILE: key: reason" line each to stderr; then
 * the policy cases (policy_cases and --cases), each failing one to stdout.
 * 1 if anything is wrong, but 2 for a cases file that cannot be run.
 */
static int
check(void)
{
	struct config	*cfg;
	int		 bad, cases;

	if ((cfg = load_or_print(config_path)) == NULL)
		return 1;
	if (ssh_init() != SSH_OK) {
		fprintf(stderr, "hopd: cannot initialise libssh\n");
		config_unref(cfg);
		return 1;
	}
	bad = server_check_host_keys(cfg, stderr);
	bad += check_audit_log(cfg->audit_log);
	bad += check_user_template("authorized_keys", cfg->authorized_keys);
	bad += check_user_template("authorized_principals",
	    cfg->authorized_principals);
	bad += check_revoked_keys(cfg);
	fflush(stderr);
	cases = run_cases(cfg, extra_cases, nextra_cases, cases_print, NULL);
	if (bad == 0 && cases == EXIT_ALLOW)
		printf("%s: configuration ok\n", config_path);
	config_unref(cfg);
	ssh_finalize();
	if (cases == EXIT_ERROR)
		return EXIT_ERROR;
	return bad == 0 && cases == EXIT_ALLOW ? 0 : 1;
}

/*
 * --explain --key: whether that key or certificate logs in as user from
 * the address, by the login's own check (auth_check: authorized_keys and
 * its options, trusted_user_ca_keys, authorized_principals, revoked_keys).
 * true with *cr filled when it does.
 */
static bool
explain_key(const struct config *cfg, const char *user, const char *path,
    const char *from, struct credential *cr, int *rc)
{
	struct auth_request	 req;
	ssh_key			 key = NULL;
	char			 reason[AUTH_REASON_MAX], ts[40];
	bool			 ok;

	if (ssh_pki_import_pubkey_file(path, &key) != SSH_OK) {
		fprintf(stderr, "hopd: %s: not a public key or certificate\n",
		    path);
		*rc = EXIT_ERROR;
		return false;
	}
	memset(&req, 0, sizeof(req));
	req.cfg = cfg;
	req.user = user;
	req.key = key;
	req.peer = from;
	req.now = (uint64_t)time(NULL);
	ok = auth_check(&req, cr, reason, sizeof(reason));
	ssh_key_free(key);
	printf("%s from %s: key %s", user, from, cr->key_fp[0] != '\0' ?
	    cr->key_fp : "?");
	if (cr->is_cert) {
		credential_valid_before(cr, ts, sizeof(ts));
		printf(", certificate \"%s\" serial %llu by CA %s, valid "
		    "before %s", cr->key_id != NULL ? cr->key_id : "",
		    (unsigned long long)cr->serial, cr->ca_fp, ts);
	}
	printf("\n  login: %s: %s\n", ok ? "allow" : "deny", reason);
	if (!ok)
		*rc = EXIT_DENY;
	return ok;
}

/*
 * hopd --explain: the decision a tunnel would act on, by the same
 * functions: the same lookup (absolute names, as many addresses) and the
 * same decision for each address, with the rule that decides; with --key,
 * the login first and the key's permitopen after.
 */
static int
explain(const char *user, const char *target, const char *portstr,
    const char *keyfile, const char *from)
{
	struct credential cr;
	struct config	*cfg;
	struct host	 h;
	struct ip_addr	 addrs[LOOKUP_ADDRS_MAX];
	struct verdict	 v[LOOKUP_ADDRS_MAX], pre, d;
	char		 text[ADDR_TEXT_MAX], origin[300];
	const char	*why = NULL;
	uint16_t	 port;
	size_t		 i, n = 0, allowed;
	int		 rc;

	memset(&cr, 0, sizeof(cr));
	if ((cfg = load_or_print(config_path)) == NULL)
		return EXIT_ERROR;
	if (addr_parse_port(portstr, &port) == -1) {
		fprintf(stderr, "hopd: invalid port '%s' (expected 1-65535)\n",
		    portstr);
		config_unref(cfg);
		return EXIT_ERROR;
	}
	if (keyfile != NULL && !explain_key(cfg, user, keyfile, from, &cr,
	    &rc)) {
		credential_free(&cr);
		config_unref(cfg);
		return rc;
	}
	if (!credential_permits_open(&cr, target, port)) {
		printf("%s -> %s:%u: deny: not in the key's permitopen\n", user,
		    target, port);
		credential_free(&cr);
		config_unref(cfg);
		return EXIT_DENY;
	}
	credential_free(&cr);
	if (addr_parse_host(target, &h, &why) == -1) {
		printf("%s -> %s:%u: deny: invalid target (%s)\n", user,
		    target, port, why != NULL ? why : "malformed");
		config_unref(cfg);
		return EXIT_DENY;
	}
	printf("%s -> %s:%u\n", user, h.text, port);
	if (!policy_precheck(cfg->policy, user, &h, port, &pre)) {
		policy_rule_origin(pre.rule, origin, sizeof(origin));
		printf("  (not resolved)  deny   %-24s %s\n", origin,
		    pre.reason);
		printf("decision: deny\n");
		config_unref(cfg);
		return EXIT_DENY;
	}
	if (h.kind != HOST_NAME) {
		addrs[n++] = h.ip;
		addr_normalize(&addrs[0]);
	} else if ((rc = lookup_resolve(h.text, addrs, LOOKUP_ADDRS_MAX,
	    &n)) != 0) {
		fprintf(stderr, "hopd: cannot resolve %s: %s\n", h.text,
		    uv_strerror(rc));
		config_unref(cfg);
		return EXIT_ERROR;
	}
	allowed = policy_decide_target(cfg->policy, user, &h, port, addrs, n,
	    v, &d);
	for (i = 0; i < n; i++) {
		addr_format(&addrs[i], text, sizeof(text));
		policy_rule_origin(v[i].rule, origin, sizeof(origin));
		printf("  %-16s %-6s %-24s %s\n", text,
		    v[i].allow ? "allow" : "deny", origin, v[i].reason);
	}
	policy_rule_origin(d.rule, origin, sizeof(origin));
	printf("decision: %s (%s)", allowed > 0 ? "allow" : "deny", origin);
	if (allowed > 0 && allowed < n)
		printf(" (connects only to the allowed addresses)");
	printf("\n");
	config_unref(cfg);
	return allowed > 0 ? EXIT_ALLOW : EXIT_DENY;
}

/* Two audit_log values (NULL: none) name the same file. */
static bool
same_path(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * SIGHUP.  A new audit_log is opened before anything changes, so that a
 * reload either applies whole (policy, log level, audit file and journal)
 * or not at all.
 */
static void
on_reload(uv_signal_t *sig, int signum)
{
	char		*errs = NULL;
	size_t		 len = 0;
	FILE		*f;
	struct config	*cfg;
	char		*line, *save;
	int		 cases = EXIT_ALLOW;

	log_info("SIGHUP: reloading %s", config_path);
	notify_reloading();
	if ((f = open_memstream(&errs, &len)) == NULL) {
		log_warn("reload");
		notify_ready();
		return;
	}
	cfg = config_load(config_path, f);
	fclose(f);
	if (cfg == NULL) {
		for (line = strtok_r(errs, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			log_warnx("%s", line);
		log_warnx("reload failed: the previous policy stays in force");
	} else if ((cases = run_cases(cfg, NULL, 0, cases_log, NULL)) !=
	    EXIT_ALLOW) {
		log_warnx("reload failed: %s (%s): the previous policy stays "
		    "in force", cases == EXIT_ERROR ? "the policy cases cannot "
		    "be run" : "the policy fails its cases", cfg->policy_cases);
		config_unref(cfg);
	} else if (cfg->audit_journal && audit_journal(true) == -1) {
		/* Only the start of its thread can fail; it logged why. */
		log_warnx("reload failed: cannot send the audit records to the "
		    "journal: the previous policy and audit log stay in force");
		config_unref(cfg);
	} else if (!same_path(cfg->audit_log, current->audit_log) &&
	    audit_open(cfg->audit_log) == -1) {
		/* audit_open logged why; the old file is still open. */
		audit_journal(current->audit_journal);
		log_warnx("reload failed: cannot open the audit log %s: the "
		    "previous policy and audit log stay in force",
		    cfg->audit_log);
		config_unref(cfg);
	} else {
		audit_journal(cfg->audit_journal);
		log_set_level(cfg->log_level);
		server_reload(cfg);
		config_unref(current);
		current = cfg;
		log_info("reloaded %s", config_path);
	}
	free(errs);
	notify_ready();
}

static void
on_status_timer(uv_timer_t *timer)
{
	unsigned	sessions, tunnels;

	server_counts(&sessions, &tunnels);
	notify_status(sessions, tunnels);
}

static void
on_terminate(uv_signal_t *sig, int signum)
{
	log_info("%s: shutting down", signum == SIGTERM ? "SIGTERM" :
	    "SIGINT");
	notify_stopping();
	server_stop_listening();
	uv_close((uv_handle_t *)&status_timer, NULL);
	uv_close((uv_handle_t *)&sig_hup, NULL);
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_close((uv_handle_t *)&sig_usr1, NULL);
}

static void
on_reopen(uv_signal_t *sig, int signum)
{
	log_info("SIGUSR1: reopening the audit log");
	audit_reopen();
	server_wake_workers();	/* idle ones let go of the old file too */
}

static int
run(bool debug)
{
	uv_loop_t	*loop = uv_default_loop();
	char		 pool[16];

	if ((current = load_or_print(config_path)) == NULL)
		return 1;
	/*
	 * Name lookups run in libuv's one process-wide pool (4 threads by
	 * default): slow names asked by one user must not stall everyone's.
	 * Its size is what max_lookups is checked against: not overridable.
	 */
	snprintf(pool, sizeof(pool), "%d", LOOKUP_POOL_THREADS);
	setenv("UV_THREADPOOL_SIZE", pool, 1);
	log_init(debug ? LOG_LEVEL_DEBUG : current->log_level, true,
	    current->log_syslog || !isatty(STDERR_FILENO));
	switch (run_cases(current, NULL, 0, cases_log, NULL)) {
	case EXIT_ALLOW:
		break;
	case EXIT_ERROR:
		fatalx("the policy cases cannot be run (%s): not starting",
		    current->policy_cases);
	default:
		fatalx("the policy fails its cases (%s): not starting",
		    current->policy_cases);
	}
	signal(SIGPIPE, SIG_IGN);
	if (ssh_init() != SSH_OK)
		fatalx("cannot initialise libssh");
	if (compat_init() == -1)
		fatalx("libssh %s: hopd was built and checked for libssh 0.10.6 "
		    "only", ssh_version(0));
	log_route_libssh();
	if (audit_open(current->audit_log) == -1)
		fatalx("cannot open the audit log %s", current->audit_log);
	if (current->audit_journal && audit_journal(true) == -1)
		fatalx("cannot send the audit records to the journal");
	if (server_start(current, loop) == -1)
		fatalx("cannot start; see the messages above");
	uv_signal_init(loop, &sig_hup);
	uv_signal_start(&sig_hup, on_reload, SIGHUP);
	uv_signal_init(loop, &sig_term);
	uv_signal_start(&sig_term, on_terminate, SIGTERM);
	uv_signal_init(loop, &sig_int);
	uv_signal_start(&sig_int, on_terminate, SIGINT);
	uv_signal_init(loop, &sig_usr1);
	uv_signal_start(&sig_usr1, on_reopen, SIGUSR1);
	uv_timer_init(loop, &status_timer);
	uv_timer_start(&status_timer, on_status_timer, 0, STATUS_INTERVAL_MS);
	log_info("hopd started (%s)", config_path);
	notify_ready();

	uv_run(loop, UV_RUN_DEFAULT);

	server_stop();
	if (uv_loop_close(loop) != 0)
		log_warnx("main loop: handles left open at exit");
	audit_close();
	config_unref(current);
	ssh_finalize();
	compat_finish();
	log_info("read-ahead: %llu reads", (unsigned long long)
	    compat_readahead_reads());
	log_info("hopd stopped");
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "cases", required_argument, NULL, 'c' },
		{ "explain", no_argument, NULL, 'x' },
		{ "from", required_argument, NULL, 'F' },
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *explain_keyfile = NULL, *explain_from = NULL;
	struct ip_addr from_ip;
	bool	  test = false, do_explain = false, debug = false;
	char	**files;
	int	  ch;

	while ((ch = getopt_long(argc, argv, "df:ht", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			files = reallocarray(extra_cases, nextra_cases + 1,
			    sizeof(*files));
			if (files == NULL) {
				perror("hopd");
				return EXIT_ERROR;
			}
			extra_cases = files;
			extra_cases[nextra_cases++] = optarg;
			break;
		case 'd':
			debug = true;
			break;
		case 'f':
			config_path = optarg;
			break;
		case 'h':
			usage(0);
		case 't':
			test = true;
			break;
		case 'x':
			do_explain = true;
			break;
		case 'k':
			explain_keyfile = optarg;
			break;
		case 'F':
			explain_from = optarg;
			break;
		default:
			usage(EXIT_ERROR);
		}
	}
	argc -= optind;
	argv += optind;
	if ((nextra_cases > 0 && !test) || ((explain_keyfile != NULL ||
	    explain_from != NULL) && !do_explain))
		usage(EXIT_ERROR);
	if (do_explain) {
		if (argc != 3 || test)
			usage(EXIT_ERROR);
		if (explain_from != NULL && addr_parse_ip(explain_from,
		    &from_ip) == -1) {
			fprintf(stderr, "hopd: --from: not an address: %s\n",
			    explain_from);
			return EXIT_ERROR;
		}
		return explain(argv[0], argv[1], argv[2], explain_keyfile,
		    explain_from != NULL ? explain_from : "127.0.0.1");
	}
	if (argc != 0)
		usage(EXIT_ERROR);
	if (test)
		return check();
	return run(debug);
}
