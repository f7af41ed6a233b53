/*
 * main: the command line (run, -t, --explain), startup, signals and reload.
 * The main thread accepts connections and handles signals; the sessions
 * live in the worker threads of server.c.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <uv.h>

#include "addr.h"
#include "audit.h"
#include "config.h"
#include "log.h"
#include "notify.h"
#include "policy.h"
#include "server.h"

#define DEFAULT_CONFIG	"/etc/hopd/hopd.ini"
#define EXPLAIN_ADDRS_MAX 32
#define STATUS_INTERVAL_MS 5000
#define RESOLVER_THREADS "32"

enum { EXIT_ALLOW = 0, EXIT_DENY = 1, EXIT_ERROR = 2 };

static const char	*config_path = DEFAULT_CONFIG;
static struct config	*current;
static uv_signal_t	 sig_hup, sig_term, sig_int, sig_usr1;
static uv_timer_t	 status_timer;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: hopd [-d] [-f file]\n"
	    "       hopd -t [-f file]\n"
	    "       hopd --explain user host port [-f file]\n"
	    "\n"
	    "  -f file    configuration (default %s)\n"
	    "  -t         check the configuration and exit\n"
	    "  --explain  print the policy's decision for user -> host:port\n"
	    "  -d         log at debug level to stderr\n"
	    "  -h         this help\n", DEFAULT_CONFIG);
	exit(status);
}

static struct config *
load_or_print(const char *path)
{
	return config_load(path, stderr);
}

/* hopd --explain: the decision for each address the resolver gives. */
static int
explain(const char *user, const char *target, const char *portstr)
{
	struct config	*cfg;
	struct host	 h;
	struct ip_addr	 addrs[EXPLAIN_ADDRS_MAX];
	struct verdict	 v[EXPLAIN_ADDRS_MAX], pre;
	struct addrinfo	 hints, *res;
	char		 text[ADDR_TEXT_MAX], origin[300];
	const char	*why = NULL;
	uint16_t	 port;
	size_t		 i, n = 0, allowed;
	int		 rc;

	if ((cfg = load_or_print(config_path)) == NULL)
		return EXIT_ERROR;
	if (addr_parse_port(portstr, &port) == -1) {
		fprintf(stderr, "hopd: invalid port '%s' (expected 1-65535)\n",
		    portstr);
		config_unref(cfg);
		return EXIT_ERROR;
	}
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
	} else {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_protocol = IPPROTO_TCP;
		if ((rc = getaddrinfo(h.text, NULL, &hints, &res)) != 0) {
			fprintf(stderr, "hopd: cannot resolve %s: %s\n",
			    h.text, gai_strerror(rc));
			config_unref(cfg);
			return EXIT_ERROR;
		}
		n = addr_from_addrinfo(res, addrs, EXPLAIN_ADDRS_MAX);
		freeaddrinfo(res);
	}
	allowed = policy_decide(cfg->policy, user, &h, port, addrs, n, v);
	for (i = 0; i < n; i++) {
		addr_format(&addrs[i], text, sizeof(text));
		policy_rule_origin(v[i].rule, origin, sizeof(origin));
		printf("  %-16s %-6s %-24s %s\n", text,
		    v[i].allow ? "allow" : "deny", origin, v[i].reason);
	}
	printf("decision: %s", allowed > 0 ? "allow" : "deny");
	if (allowed > 0 && allowed < n)
		printf(" (connects only to the allowed addresses)");
	printf("\n");
	config_unref(cfg);
	return allowed > 0 ? EXIT_ALLOW : EXIT_DENY;
}

static void
on_reload(uv_signal_t *sig, int signum)
{
	char		*errs = NULL;
	size_t		 len = 0;
	FILE		*f;
	struct config	*cfg;
	char		*line, *save;

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
	} else {
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
}

static int
run(bool debug)
{
	uv_loop_t	*loop = uv_default_loop();

	if ((current = load_or_print(config_path)) == NULL)
		return 1;
	/*
	 * Name lookups run in libuv's one process-wide pool (4 threads by
	 * default): slow names asked by one user must not stall everyone's.
	 */
	setenv("UV_THREADPOOL_SIZE", RESOLVER_THREADS, 0);
	log_init(debug ? LOG_LEVEL_DEBUG : current->log_level, true,
	    current->log_syslog || !isatty(STDERR_FILENO));
	signal(SIGPIPE, SIG_IGN);
	if (ssh_init() != SSH_OK)
		fatalx("cannot initialise libssh");
	log_route_libssh();
	if (audit_open(current->audit_log) == -1)
		fatalx("cannot open the audit log %s", current->audit_log);
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
	log_info("hopd stopped");
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "explain", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct config	*cfg;
	bool		 test = false, do_explain = false, debug = false;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "df:ht", longopts, NULL)) != -1) {
		switch (ch) {
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
		default:
			usage(EXIT_ERROR);
		}
	}
	argc -= optind;
	argv += optind;
	if (do_explain) {
		if (argc != 3 || test)
			usage(EXIT_ERROR);
		return explain(argv[0], argv[1], argv[2]);
	}
	if (argc != 0)
		usage(EXIT_ERROR);
	if (test) {
		if ((cfg = load_or_print(config_path)) == NULL)
			return 1;
		printf("%s: configuration ok\n", config_path);
		config_unref(cfg);
		return 0;
	}
	return run(debug);
}
