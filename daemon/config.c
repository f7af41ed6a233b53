/*
 * config: hopd.ini(5) and its includes read into a struct config.  inih
 * splits "key = value" lines; our own line reader in front of it refuses
 * what inih would get wrong (Debian's inih cuts a long line and parses its
 * tail as a line of its own) and tracks the sections, so that every error
 * names FILE:LINE and the key.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "cred.h"
#include "log.h"

#define DEFAULT_HOST_KEY	"/etc/hopd/ssh_host_ed25519_key"
#define DEFAULT_AUTHORIZED_KEYS	"/etc/hopd/keys/%u"
#define DEFAULT_AUDIT_LOG	"/var/log/hopd/audit.jsonl"
#define DEFAULT_PORT		22
#define SHOWN_VALUE_MAX		64	/* bytes of a bad value quoted back */
#define STARTUPS_MAX		100000
#define SECOND_MS		1000u
#define MINUTE_MS		(60 * SECOND_MS)
#define HOUR_MS			(60 * MINUTE_MS)

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

enum section_kind {
	SECTION_NONE,		/* before the first header of a file */
	SECTION_SERVER,
	SECTION_USER,
	SECTION_GROUP,
	SECTION_BAD		/* a refused header: its keys are skipped */
};

/*
 * One file being read; includes nest through parent.  A section is kept by
 * name: policy_section() pointers move when a section is added.
 */
struct config_file {
	struct config_file	*parent;
	const char		*path;		/* interned in the policy */
	char			*dir;		/* absolute, for includes */
	FILE			*fp;
	dev_t			 dev;
	ino_t			 ino;
	unsigned		 depth;		/* 0: the main file */
	unsigned		 lineno;
	enum section_kind	 section;
	char			 name[CONFIG_NAME_MAX + 1]; /* user, group */
};

struct config_ctx;

struct server_key {
	const char	*name;
	int		(*parse)(struct config_ctx *, const struct server_key *,
			    const char *);
	size_t		 off;		/* the field of struct config */
	unsigned	 min, max;
	bool		 repeats;	/* a list: each line appends */
};

static int	server_listen(struct config_ctx *, const struct server_key *,
		    const char *);
static int	server_host_key(struct config_ctx *, const struct server_key *,
		    const char *);
static int	server_authorized_keys(struct config_ctx *,
		    const struct server_key *, const char *);
static int	server_audit_log(struct config_ctx *, const struct server_key *,
		    const char *);
static int	server_ca_keys(struct config_ctx *, const struct server_key *,
		    const char *);
static int	server_revoked_keys(struct config_ctx *,
		    const struct server_key *, const char *);
static int	server_cert_expiry(struct config_ctx *,
		    const struct server_key *, const char *);
static int	server_policy_cases(struct config_ctx *,
		    const struct server_key *, const char *);
static int	server_duration(struct config_ctx *, const struct server_key *,
		    const char *);
static int	server_number(struct config_ctx *, const struct server_key *,
		    const char *);
static int	server_max_startups(struct config_ctx *,
		    const struct server_key *, const char *);
static int	server_log_level(struct config_ctx *, const struct server_key *,
		    const char *);
static int	server_yes_no(struct config_ctx *, const struct server_key *,
		    const char *);

#define FIELD(f)	offsetof(struct config, f)

static const struct server_key server_keys[] = {
	{ "listen", server_listen, 0, 0, 0, true },
	{ "host_key", server_host_key, 0, 0, 0, true },
	{ "authorized_keys", server_authorized_keys,
	    FIELD(authorized_keys), 0, 0, false },
	{ "audit_log", server_audit_log, 0, 0, 0, false },
	{ "connect_timeout", server_duration, FIELD(connect_timeout_ms),
	    SECOND_MS, 10 * MINUTE_MS, false },
	{ "policy_cases", server_policy_cases, 0, 0, 0, false },
	{ "authorized_principals", server_authorized_keys,
	    FIELD(authorized_principals), 0, 0, false },
	{ "trusted_user_ca_keys", server_ca_keys, 0, 0, 0, false },
	{ "revoked_keys", server_revoked_keys, 0, 0, 0, false },
	{ "cert_expiry", server_cert_expiry, 0, 0, 0, false },
	{ "login_grace_time", server_duration, FIELD(login_grace_time_ms),
	    0, HOUR_MS, false },
	{ "max_auth_tries", server_number, FIELD(max_auth_tries), 1, 100,
	    false },
	{ "max_startups", server_max_startups, 0, 0, 0, false },
	{ "per_source_max_startups", server_number,
	    FIELD(per_source_max_startups), 1, 10000, false },
	{ "max_channels_per_session", server_number,
	    FIELD(max_channels_per_session), 1, 4096, false },
	{ "max_listeners_per_session", server_number,
	    FIELD(max_listeners_per_session), 0, 1024, false },
	{ "max_pending_opens_per_session", server_number,
	    FIELD(max_pending_opens_per_session), 1, 256, false },
	{ "max_refused_per_session", server_number,
	    FIELD(max_refused_per_session), 1, 100000, false },
	{ "max_lookups_per_user", server_number, FIELD(max_lookups_per_user),
	    1, 1024, false },
	{ "max_lookups", server_number, FIELD(max_lookups), 1,
	    CONFIG_LOOKUPS_MAX, false },
	{ "workers", server_number, FIELD(workers), 0, 256, false },
	{ "log_level", server_log_level, FIELD(log_level), 0, 0, false },
	{ "log_syslog", server_yes_no, FIELD(log_syslog), 0, 0, false },
};

/* Where a [server] key was first given, to name both lines of a repeat. */
struct key_seen {
	const char	*file;
	unsigned	 line;
};

struct config_ctx {
	struct config		*conf;
	FILE			*errs;
	unsigned		 nerrors;
	struct config_file	*file;		/* being read */
	struct key_seen		 seen[nitems(server_keys)];
	char			 shown[SHOWN_VALUE_MAX + 4];
};

static pthread_once_t	config_ini_once = PTHREAD_ONCE_INIT;

static void	config_read_file(struct config_ctx *, const char *);

static void
config_verror(struct config_ctx *ctx, const char *file, unsigned line,
    const char *key, const char *fmt, va_list ap)
{
	ctx->nerrors++;
	if (ctx->errs == NULL)
		return;
	fprintf(ctx->errs, "%s:", file);
	if (line > 0)
		fprintf(ctx->errs, "%u:", line);
	if (key != NULL)
		fprintf(ctx->errs, " %s:", key);
	fputc(' ', ctx->errs);
	vfprintf(ctx->errs, fmt, ap);
	fputc('\n', ctx->errs);
}

/* An error at the current line of the file being read. */
static void __attribute__((format(printf, 3, 4)))
config_error(struct config_ctx *ctx, const char *key, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	config_verror(ctx, ctx->file->path, ctx->file->lineno, key, fmt, ap);
	va_end(ap);
}

/* An error about a file (line 0: the whole file). */
static void __attribute__((format(printf, 4, 5)))
config_file_error(struct config_ctx *ctx, const char *file, unsigned line,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	config_verror(ctx, file, line, NULL, fmt, ap);
	va_end(ap);
}

/* value as quoted back in an error: cut (at a character) when long. */
static const char *
config_shown(struct config_ctx *ctx, const char *value)
{
	size_t	n;

	if (strlen(value) <= SHOWN_VALUE_MAX)
		return value;
	n = SHOWN_VALUE_MAX;
	while (n > 0 && ((unsigned char)value[n] & 0xc0) == 0x80)
		n--;
	snprintf(ctx->shown, sizeof(ctx->shown), "%.*s...", (int)n, value);
	return ctx->shown;
}

/*
 * Decimal digits at the start of s, at most max.  Returns the end of the
 * digits, or NULL when there are none or the number is too large.
 */
static const char *
config_digits(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long	n = 0;
	const char		*p;

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (unsigned)(*p - '0');
		if (n > max)
			return NULL;
	}
	if (p == s)
		return NULL;
	*out = n;
	return p;
}

static int
config_parse_uint(const char *s, unsigned *out)
{
	unsigned long long	n;
	const char		*end;

	if ((end = config_digits(s, UINT_MAX, &n)) == NULL || *end != '\0')
		return -1;
	*out = (unsigned)n;
	return 0;
}

/* Like sshd's time format: "90", "90s", "2m", "1h", "1m30s". */
int
config_parse_duration(const char *s, unsigned *ms)
{
	unsigned long long	 n, unit, total = 0;
	const char		*p = s;

	if (s == NULL || *s == '\0')
		return -1;
	while (*p != '\0') {
		if ((p = config_digits(p, UINT_MAX, &n)) == NULL)
			return -1;
		switch (*p) {
		case '\0':
			unit = SECOND_MS;
			break;
		case 's':
			unit = SECOND_MS;
			p++;
			break;
		case 'm':
			unit = MINUTE_MS;
			p++;
			break;
		case 'h':
			unit = HOUR_MS;
			p++;
			break;
		default:
			return -1;
		}
		total += n * unit;
		if (total > UINT_MAX)
			return -1;
	}
	*ms = (unsigned)total;
	return 0;
}

/* "0", "90s", "10m", "1h": for messages about ranges. */
static void
config_duration_text(unsigned ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "0");
	else if (ms % HOUR_MS == 0)
		snprintf(buf, len, "%uh", ms / HOUR_MS);
	else if (ms % MINUTE_MS == 0)
		snprintf(buf, len, "%um", ms / MINUTE_MS);
	else
		snprintf(buf, len, "%us", ms / SECOND_MS);
}

bool
config_valid_name(const char *name)
{
	return policy_valid_user_name(name);
}

/*
 * %u must be a valid user name: the user comes from the network, and a
 * name like "../x" must never reach a path.
 */
int
config_expand_path(const char *tmpl, const char *user, const char *home,
    char *buf, size_t len)
{
	const char	*s, *piece;
	size_t		 n = 0, add;

	if (tmpl == NULL || buf == NULL || len == 0)
		return -1;
	for (s = tmpl; *s != '\0'; s++) {
		piece = s;
		add = 1;
		if (*s == '%') {
			switch (*++s) {
			case '%':
				piece = s;
				break;
			case 'u':
				if (!config_valid_name(user))
					return -1;
				piece = user;
				add = strlen(user);
				break;
			case 'h':
				if (home == NULL || *home == '\0')
					return -1;
				piece = home;
				add = strlen(home);
				break;
			default:
				return -1;
			}
		}
		if (add >= len - n)
			return -1;
		memcpy(buf + n, piece, add);
		n += add;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * value, or dir/value when value is relative; the characters of dir that
 * are in meta get esc before them (glob patterns, %-templates).
 */
static char *
config_join(const char *dir, const char *value, const char *meta, char esc)
{
	size_t	 dlen, vlen, i, n = 0;
	char	*out;

	if (value[0] == '/')
		return strdup(value);
	dlen = strlen(dir);
	vlen = strlen(value);
	if ((out = malloc(2 * dlen + vlen + 2)) == NULL)
		return NULL;
	for (i = 0; i < dlen; i++) {
		if (strchr(meta, dir[i]) != NULL)
			out[n++] = esc;
		out[n++] = dir[i];
	}
	if (n == 0 || out[n - 1] != '/')
		out[n++] = '/';
	memcpy(out + n, value, vlen + 1);
	return out;
}

/* The absolute directory of path, or NULL. */
static char *
config_dir_of(const char *path)
{
	const char	*slash = strrchr(path, '/');
	char		*dir, *real;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return NULL;
	real = realpath(dir, NULL);
	free(dir);
	return real;
}

/* A path value of the current file: relative ones are against its dir. */
static char *
config_path_value(struct config_ctx *ctx, const char *value)
{
	char	*path;

	if ((path = config_join(ctx->file->dir, value, "", '\0')) == NULL)
		config_error(ctx, NULL, "out of memory");
	return path;
}

static unsigned *
config_uint_field(struct config_ctx *ctx, const struct server_key *k)
{
	return (unsigned *)(void *)((char *)ctx->conf + k->off);
}

static int
config_add_listen(struct config_ctx *ctx, const struct ip_addr *ip,
    uint16_t port)
{
	struct config		*c = ctx->conf;
	struct listen_addr	*l;

	if ((l = reallocarray(c->listen, c->nlisten + 1, sizeof(*l))) == NULL) {
		config_error(ctx, NULL, "out of memory");
		return -1;
	}
	c->listen = l;
	l += c->nlisten;
	memset(l, 0, sizeof(*l));
	l->ip = *ip;
	l->port = port;
	if (addr_format_port(ip, port, l->text, sizeof(l->text)) == -1) {
		config_error(ctx, "listen", "cannot format the address");
		return -1;
	}
	c->nlisten++;
	return 0;
}

/*
 * The words after the address: proxy_protocol=v1|v2|off and
 * proxy_from=CIDR[,CIDR...] (both, or neither with the protocol on).
 */
static int
server_listen_options(struct config_ctx *ctx, const struct server_key *k,
    struct listen_addr *la, char *words)
{
	char		*w, *save = NULL, *net, *nsave = NULL;
	const char	*why = NULL;
	bool		 has_from = false, has_proto = false;

	for (w = strtok_r(words, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (strncmp(w, "proxy_protocol=", 15) == 0 && !has_proto) {
			has_proto = true;
			if (strcmp(w + 15, "v1") == 0)
				la->proxy_version = 1;
			else if (strcmp(w + 15, "v2") == 0)
				la->proxy_version = 2;
			else if (strcmp(w + 15, "off") != 0) {
				config_error(ctx, k->name, "proxy_protocol is "
				    "v1, v2 or off, got '%s'",
				    config_shown(ctx, w + 15));
				return -1;
			}
		} else if (strncmp(w, "proxy_from=", 11) == 0 && !has_from) {
			has_from = true;
			for (net = strtok_r(w + 11, ",", &nsave); net != NULL;
			    net = strtok_r(NULL, ",", &nsave)) {
				if (la->nproxy_from == LISTEN_PROXY_FROM_MAX) {
					config_error(ctx, k->name, "more than "
					    "%d proxy_from networks",
					    LISTEN_PROXY_FROM_MAX);
					return -1;
				}
				if (addr_parse_cidr(net, &la->proxy_from[
				    la->nproxy_from].net, &la->proxy_from[
				    la->nproxy_from].prefix, &why) == -1) {
					config_error(ctx, k->name, "proxy_from: "
					    "'%s' is not an address or CIDR "
					    "(%s)", config_shown(ctx, net),
					    why != NULL ? why : "malformed");
					return -1;
				}
				la->nproxy_from++;
			}
			if (la->nproxy_from == 0) {
				config_error(ctx, k->name, "proxy_from needs "
				    "at least one address or CIDR");
				return -1;
			}
		} else {
			config_error(ctx, k->name, "expected ADDRESS:PORT, then "
			    "at most one proxy_protocol=v1|v2|off and one "
			    "proxy_from=CIDR,..., got '%s'",
			    config_shown(ctx, w));
			return -1;
		}
	}
	if (la->proxy_version != 0 && !has_from) {
		config_error(ctx, k->name, "proxy_protocol needs proxy_from: "
		    "the addresses of the load balancers that may send the "
		    "header");
		return -1;
	}
	if (la->proxy_version == 0 && has_from) {
		config_error(ctx, k->name, "proxy_from without "
		    "proxy_protocol=v1 or v2");
		return -1;
	}
	return 0;
}

static int
server_listen(struct config_ctx *ctx, const struct server_key *k,
    const char *value)
{
	struct config	*c = ctx->conf;
	const char	*colon;
	struct ip_addr	 ip;
	uint16_t	 port;
	char		*host = NULL, *addr = NULL, *words;
	size_t		 i;
	int		 rc = -1;

	if ((addr = strdup(value)) == NULL) {
		config_error(ctx, NULL, "out of memory");
		return -1;
	}
	words = addr + strcspn(addr, " \t");
	if (*words != '\0')
		*words++ = '\0';
	colon = strrchr(addr, ':');
	if (colon == NULL || (host = strndup(addr,
	    (size_t)(colon - addr))) == NULL ||
	    addr_parse_ip(host, &ip) == -1 ||
	    addr_parse_port(colon + 1, &port) == -1) {
		config_error(ctx, k->name, "expected ADDRESS:PORT with an IP "
		    "address (IPv6 in brackets) and a port from 1 to 65535, "
		    "like 0.0.0.0:22 or [::]:22, got '%s'",
		    config_shown(ctx, value));
		goto out;
	}
	if (host[0] != '[' && ip.family != AF_INET) {
		config_error(ctx, k->name, "an IPv6 address needs brackets, "
		    "like [::]:22, got '%s'", config_shown(ctx, value));
		goto out;
	}
	for (i = 0; i < c->nlisten; i++)
		if (c->listen[i].port == port &&
		    addr_equal(&c->listen[i].ip, &ip)) {
			config_error(ctx, k->name, "%s is listed twice",
			    c->listen[i].text);
			goto out;
		}
	if (config_add_listen(ctx, &ip, port) == -1)
		goto out;
	if (server_listen_options(ctx, k, &c->listen[c->nlisten - 1],
	    words) == -1)
		goto out;
	rc = 0;
 out:
	free(host);
	free(addr);
	return rc;
}

static int
server_host_key(struct config_ctx *ctx, const struct server_key *k,
    const char *value)
{
	struct config	*c = ctx->conf;
	char		**keys, *path;

	if (*value == '\0') {
		config_error(ctx, k->name, "expected the path of a private "
		    "host key, like /etc/hopd/ssh_host_ed25519_key");
		return -1;
	}
	if ((path = config_path_value(ctx, value)) == NULL)
		return -1;
	keys = reallocarray(c->host_keys, c->nhost_keys + 1, sizeof(*keys));
	if (keys == NULL) {
		free(path);
		config_error(ctx, NULL, "out of memory");
		return -1;
	}
	c->host_keys = keys;
	c->host_keys[c->nhost_keys++] = path;
	return 0;
}

/* A template that starts with %h is absolute; other relative ones are not. */
static int
server_authorized_keys(struct config_ctx *ctx, const struct server_key *k,
    const char *value)
{
	char	 buf[PATH_MAX], *tmpl, **field;

	if (*value == '\0' ||
	    config_expand_path(value, "user", "/home", buf, sizeof(buf)) == -1) {
		config_error(ctx, k->name, "expected a path where only %%u "
		    "(the user), %%h (the user's home) and %%%% (a percent "
		    "sign) are expanded, like /etc/hopd/keys/%%u or "
		    "%%h/.ssh/authorized_keys, got '%s'",
		    config_shown(ctx, value));
		return -1;
	}
	if (strncmp(value, "%h", 2) == 0)
		tmpl = strdup(value);
	else
		tmpl = config_join(ctx->file->dir, value, "%", '%');
	if (tmpl == NULL) {
		config_error(ctx, NULL, "out of memory");
		return -1;
	}
	field = (char **)(void *)((char *)ctx->conf + k->off);
	free(*field);
	*field = tmpl;
	return 0;
}

/* Read now: a bad CA file is an error of this line. */
static int
server_ca_keys(struct config_ctx *ctx, const struct server_key *k,
    const char *value)
{
	struct ca_set	*set;
	char		*path, err[512];

	if (*value == '\0') {
		config_error(ctx, k->name, "expected the path of a file of CA "
		    "public keys, like /etc/hopd/user_ca.pub");
		return -1;
	}
	if ((path = config_path_value(ctx, value)) == NULL)
		return -1;
	if ((set = ca_set_load(path, err, sizeof(err))) == NULL) {
		config_error(ctx, k->name, "%s", err);
		free(path);
		return -1;
	}
	free(ctx->conf->trusted_user_ca_keys);
	ca_set_free(ctx->conf->trusted_cas);
	ctx->conf->trusted_user_ca_keys = path;
	ctx->conf->trusted_cas = set;
	return 0;
}

/*
 * Read now too, but a bad file is not an error here: as sshd, it refuses
 * every key until fixed (hopd -t reports it).
 */
static int
server_revoked_keys(struct config_ctx *ctx, const struct server_key *k,
    const char *value)
{
	struct revoked	*r;
	char		*path;

	if (*value == '\0') {
		config_error(ctx, k->name, "expected the path of an OpenSSH "
		    "KRL or a file of public keys, like "
		    "/etc/hopd/revoked_keys");
		return -1;
	}
	if ((path = config_path_value(ctx, value)) == NULL)
		return -1;
	if ((r = revoked_open(path)) == NULL) {
		config_error(ctx, NULL, "out of memory");
		free(path);
		return -1;
	}
	free(ctx->conf->revoked_keys);
	revoked_free(ctx->conf->revoked);
	ctx->conf->revoked_keys = path;
	ctx->conf->revoked = r;
	return 0;
}

static int
server_cert_expiry(struct config_ctx *ctx, const struct server_key *k,
    const char *value)
{
	if (strcmp(value, "end") == 0)
		ctx->conf->cert_expiry_end = true;
	else if (strcmp(value, "keep") == 0)
		ctx->conf->cert_expiry_end = false;
	else {
		config_error(ctx, k->name, "expected end or keep, got '%s'",
		    config_shown(ctx, value));
		return -1;
	}
	return 0;
}

/*
 * audit_log: a file, journal, both (in any order), or none.  The words are
 * separated by blanks: a file path with a blank in it cannot be named.
 */
static int
server_audit_log(struct config_ctx *ctx, const struct server_key *k,
    const char *value)
{
	char		*copy, *w, *save = NULL, *path = NULL;
	const char	*file = NULL;
	bool		 journal = false, none = false;
	int		 ret = -1;

	if ((copy = strdup(value)) == NULL) {
		config_error(ctx, NULL, "out of memory");
		return -1;
	}
	for (w = strtok_r(copy, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (strcmp(w, "none") == 0) {
			if (none || journal || file != NULL) {
				config_error(ctx, k->name, "none cannot be "
				    "given with anything else");
				goto out;
			}
			none = true;
		} else if (none) {
			config_error(ctx, k->name, "none cannot be given "
			    "with anything else");
			goto out;
		} else if (strcmp(w, "journal") == 0) {
			if (journal) {
				config_error(ctx, k->name, "journal is given "
				    "twice");
				goto out;
			}
			journal = true;
		} else if (file != NULL) {
			config_error(ctx, k->name, "a second file, '%s': "
			    "expected one file path, journal, both, or none",
			    config_shown(ctx, w));
			goto out;
		} else
			file = w;
	}
	if (!none && !journal && file == NULL) {
		config_error(ctx, k->name, "expected a file path, like "
		    "/var/log/hopd/audit.jsonl, journal, both, or none");
		goto out;
	}
	if (file != NULL && (path = config_path_value(ctx, file)) == NULL)
		goto out;
	free(ctx->conf->audit_log);
	ctx->conf->audit_log = path;
	ctx->conf->audit_journal = journal;
	ret = 0;
out:
	free(copy);
	return ret;
}

/* Read and run by main.c, at start and on every reload. */
static int
server_policy_cases(struct config_ctx *ctx, const struct server_key *k,
    const char *value)
{
	char	*path;

	if (*value == '\0') {
		config_error(ctx, k->name, "expected the path of a cases file, "
		    "like /etc/hopd/hopd.cases");
		return -1;
	}
	if ((path = config_path_value(ctx, value)) == NULL)
		return -1;
	free(ctx->conf->policy_cases);
	ctx->conf->policy_cases = path;
	return 0;
}

static int
server_duration(struct config_ctx *ctx, const struct server_key *k,
    const char *value)
{
	char		lo[16], hi[16];
	unsigned	ms;

	if (config_parse_duration(value, &ms) == -1) {
		config_error(ctx, k->name, "expected a duration like 30s, 2m "
		    "or 10 (seconds), got '%s'", config_shown(ctx, value));
		return -1;
	}
	if (ms < k->min || ms > k->max) {
		config_duration_text(k->min, lo, sizeof(lo));
		config_duration_text(k->max, hi, sizeof(hi));
		config_error(ctx, k->name, "expected a duration from %s to %s, "
		    "got '%s'", lo, hi, config_shown(ctx, value));
		return -1;
	}
	*config_uint_field(ctx, k) = ms;
	return 0;
}

static int
server_number(struct config_ctx *ctx, const struct server_key *k,
    const char *value)
{
	unsigned	n;

	if (config_parse_uint(value, &n) == -1 || n < k->min || n > k->max) {
		config_error(ctx, k->name, "expected a whole number from %u to "
		    "%u, got '%s'", k->min, k->max, config_shown(ctx, value));
		return -1;
	}
	*config_uint_field(ctx, k) = n;
	return 0;
}

/* sshd's MaxStartups: "START:RATE:FULL", or "N" for N:100:N. */
static int
server_max_startups(struct config_ctx *ctx, const struct server_key *k,
    const char *value)
{
	unsigned long long	 begin, rate = 100, full;
	const char		*p;

	if ((p = config_digits(value, STARTUPS_MAX, &begin)) == NULL)
		goto fail;
	full = begin;
	if (*p == ':' && ((p = config_digits(p + 1, 100, &rate)) == NULL ||
	    *p != ':' || (p = config_digits(p + 1, STARTUPS_MAX,
	    &full)) == NULL))
		goto fail;
	if (*p != '\0' || begin < 1 || begin > full || rate < 1)
		goto fail;
	ctx->conf->max_startups_begin = (unsigned)begin;
	ctx->conf->max_startups_rate = (unsigned)rate;
	ctx->conf->max_startups_full = (unsigned)full;
	return 0;
 fail:
	config_error(ctx, k->name, "expected START:RATE:FULL like 10:30:100, "
	    "or one number N (N:100:N), with 1 <= START <= FULL <= %d and "
	    "RATE from 1 to 100 (percent), got '%s'", STARTUPS_MAX,
	    config_shown(ctx, value));
	return -1;
}

static int
server_log_level(struct config_ctx *ctx, const struct server_key *k,
    const char *value)
{
	int	level;

	if ((level = log_level_parse(value)) == -1) {
		config_error(ctx, k->name, "expected quiet, error, info, "
		    "verbose or debug, got '%s'", config_shown(ctx, value));
		return -1;
	}
	ctx->conf->log_level = level;
	return 0;
}

static int
server_yes_no(struct config_ctx *ctx, const struct server_key *k,
    const char *value)
{
	bool	*field = (bool *)(void *)((char *)ctx->conf + k->off);

	if (strcmp(value, "yes") == 0)
		*field = true;
	else if (strcmp(value, "no") == 0)
		*field = false;
	else {
		config_error(ctx, k->name, "expected yes or no, got '%s'",
		    config_shown(ctx, value));
		return -1;
	}
	return 0;
}

static void
config_server_key(struct config_ctx *ctx, const char *name, const char *value)
{
	const struct server_key	*k;
	struct key_seen		*seen;
	char			 valid[512];
	size_t			 i, n;

	for (i = 0; i < nitems(server_keys); i++)
		if (strcmp(name, server_keys[i].name) == 0)
			break;
	if (i == nitems(server_keys)) {
		for (n = 0, i = 0; i < nitems(server_keys); i++)
			n += (size_t)snprintf(valid + n, sizeof(valid) - n,
			    "%s, ", server_keys[i].name);
		config_error(ctx, name, "unknown key in [server]; valid keys "
		    "are %sinclude", valid);
		return;
	}
	k = &server_keys[i];
	seen = &ctx->seen[i];
	if (seen->file != NULL && !k->repeats) {
		config_error(ctx, name, "given twice, first at %s:%u; give it "
		    "once", seen->file, seen->line);
		return;
	}
	if (seen->file == NULL) {
		seen->file = ctx->file->path;
		seen->line = ctx->file->lineno;
	}
	k->parse(ctx, k, value);
}

static void
config_members(struct config_ctx *ctx, const char *value)
{
	struct policy_section	*sec;
	const char		*why;
	char			*copy, *tok, *save;
	bool			 any = false;

	if ((copy = strdup(value)) == NULL) {
		config_error(ctx, NULL, "out of memory");
		return;
	}
	sec = policy_section(ctx->conf->policy, true, ctx->file->name);
	for (tok = strtok_r(copy, ", \t", &save); sec != NULL && tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		any = true;
		why = "invalid user name";
		if (config_valid_name(tok) &&
		    policy_add_member(sec, tok, &why) == 0)
			continue;
		config_error(ctx, "members", "%s: '%s'; expected user names "
		    "of up to %d characters a-z, 0-9, '_', '.', '-', starting "
		    "with a letter or '_'", why, config_shown(ctx, tok),
		    CONFIG_NAME_MAX);
	}
	if (sec == NULL)
		config_error(ctx, NULL, "out of memory");
	else if (!any)
		config_error(ctx, "members", "expected user names separated "
		    "by commas or spaces, like alice, bob");
	free(copy);
}

static void
config_policy_key(struct config_ctx *ctx, const char *name, const char *value)
{
	static const struct {
		const char	*name;
		enum rule_kind	 kind;
		const char	*expected;
	} keys[] = {
		{ "allow", RULE_ALLOW, "HOST:PORTS like db1.internal:5432, "
		    "*.example.com:22,443, 10.0.0.0/8:8000-8099 or "
		    "[2001:db8::/32]:*" },
		{ "deny", RULE_DENY, "HOST:PORTS like db1.internal:5432, "
		    "*.example.com:22,443, 10.0.0.0/8:8000-8099 or "
		    "[2001:db8::/32]:*" },
		{ "listen", RULE_LISTEN, "BIND:PORTS like localhost:8080, "
		    "127.0.0.1:8000-8099, [::1]:8080 or *:8080" },
	};
	struct config_file	*f = ctx->file;
	struct policy_section	*sec;
	const char		*why;
	size_t			 i;

	if (f->section == SECTION_GROUP && strcmp(name, "members") == 0) {
		config_members(ctx, value);
		return;
	}
	for (i = 0; i < nitems(keys); i++) {
		if (strcmp(name, keys[i].name) != 0)
			continue;
		why = NULL;
		sec = policy_section(ctx->conf->policy,
		    f->section == SECTION_GROUP, f->name);
		if (sec == NULL)
			config_error(ctx, NULL, "out of memory");
		else if (policy_add_rule(ctx->conf->policy, sec, keys[i].kind,
		    value, f->path, f->lineno, &why) == -1) {
			if (why == NULL)
				why = "invalid rule";
			/* Say what is valid once: policy's texts may say it. */
			if (strncmp(why, "expected", 8) == 0 ||
			    strstr(why, "e.g.") != NULL)
				config_error(ctx, name, "%s, got '%s'", why,
				    config_shown(ctx, value));
			else
				config_error(ctx, name, "%s; expected %s, got "
				    "'%s'", why, keys[i].expected,
				    config_shown(ctx, value));
		}
		return;
	}
	if (f->section == SECTION_GROUP)
		config_error(ctx, name, "unknown key in [group NAME]; valid "
		    "keys are members, allow, deny, listen and include");
	else
		config_error(ctx, name, "unknown key in [user NAME]; valid "
		    "keys are allow, deny, listen and include (a user's groups "
		    "are named by the members of each [group NAME])");
}

static void
config_include(struct config_ctx *ctx, const char *value)
{
	struct config_file	*f = ctx->file;
	bool			 pattern = strpbrk(value, "*?[") != NULL;
	glob_t			 g;
	char			*path;
	size_t			 i;
	int			 rc;

	if (*value == '\0') {
		config_error(ctx, "include", "expected a file or a glob, like "
		    "conf.d/*.ini");
		return;
	}
	if (f->depth >= CONFIG_INCLUDE_DEPTH) {
		config_error(ctx, "include", "includes nest deeper than %d "
		    "levels", CONFIG_INCLUDE_DEPTH);
		return;
	}
	path = config_join(f->dir, value, pattern ? "*?[\\" : "", '\\');
	if (path == NULL) {
		config_error(ctx, NULL, "out of memory");
		return;
	}
	if (!pattern) {
		config_read_file(ctx, path);
		free(path);
		return;
	}
	memset(&g, 0, sizeof(g));
	rc = glob(path, 0, NULL, &g);
	if (rc == 0)
		for (i = 0; i < g.gl_pathc; i++)
			config_read_file(ctx, g.gl_pathv[i]);
	else if (rc != GLOB_NOMATCH)
		config_error(ctx, "include", "cannot expand '%s'%s",
		    config_shown(ctx, value),
		    rc == GLOB_NOSPACE ? ": out of memory" :
		    ": a directory cannot be read");
	globfree(&g);
	free(path);
}

/*
 * Records a section header; on error the section's keys are skipped (the
 * header's error is the one worth reading).
 */
static void
config_section(struct config_ctx *ctx, char *p)
{
	struct config_file	*f = ctx->file;
	char			*end, *rest, *name;
	size_t			 n;
	bool			 is_group;

	f->section = SECTION_BAD;
	if ((end = strchr(p, ']')) == NULL) {
		config_error(ctx, NULL, "'%s': expected a section header: "
		    "[server], [user NAME] or [group NAME]",
		    config_shown(ctx, p));
		return;
	}
	rest = end + 1 + strspn(end + 1, " \t");
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		config_error(ctx, NULL, "'%s': unexpected text after the "
		    "section header", config_shown(ctx, p));
		return;
	}
	*end = '\0';
	p += 1 + strspn(p + 1, " \t");
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (strcmp(p, "server") == 0) {
		f->section = SECTION_SERVER;
		return;
	}
	n = strcspn(p, " \t");
	name = p + n + strspn(p + n, " \t");
	if (n == 4 && strncmp(p, "user", n) == 0)
		is_group = false;
	else if (n == 5 && strncmp(p, "group", n) == 0)
		is_group = true;
	else {
		config_error(ctx, NULL, "[%s]: unknown section; valid sections "
		    "are [server], [user NAME] and [group NAME]",
		    config_shown(ctx, p));
		return;
	}
	p[n] = '\0';
	if (!config_valid_name(name)) {
		config_error(ctx, NULL, "[%s %s]: expected a %s name of up to "
		    "%d characters a-z, 0-9, '_', '.', '-', starting with a "
		    "letter or '_', like [%s %s]", p, config_shown(ctx, name),
		    p, CONFIG_NAME_MAX, p, is_group ? "dba" : "alice");
		return;
	}
	/* Created now: a section without keys still exists. */
	if (policy_section(ctx->conf->policy, is_group, name) == NULL) {
		config_error(ctx, NULL, "out of memory");
		return;
	}
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->section = is_group ? SECTION_GROUP : SECTION_USER;
}

/* inih's handler: one "key = value" of the current file. */
static int
config_on_key(void *user, const char *section, const char *name,
    const char *value)
{
	struct config_ctx	*ctx = user;
	unsigned		 before = ctx->nerrors;

	if (*name == '\0')
		config_error(ctx, NULL, "missing key: expected 'key = value', "
		    "got '= %s'", config_shown(ctx, value));
	else if (strcmp(name, "include") == 0)
		config_include(ctx, value);
	else {
		switch (ctx->file->section) {
		case SECTION_NONE:
			config_error(ctx, name, "outside any section; put it "
			    "under [server], [user NAME] or [group NAME]");
			break;
		case SECTION_SERVER:
			config_server_key(ctx, name, value);
			break;
		case SECTION_USER:
		case SECTION_GROUP:
			config_policy_key(ctx, name, value);
			break;
		case SECTION_BAD:
			break;
		}
	}
	return ctx->nerrors == before;
}

/* Strict UTF-8: no overlong forms, surrogates or code points > U+10FFFF. */
static bool
config_utf8_valid(const unsigned char *s, size_t len)
{
	uint32_t	cp, min;
	size_t		i = 0, n, k;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return false;
		if (len - i - 1 < n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* As inih finds it: '=' or ':' before any inline comment (" ;"). */
static bool
config_has_separator(const char *s)
{
	bool	was_space = false;

	for (; *s != '\0'; s++) {
		if (*s == '=' || *s == ':')
			return true;
		if (was_space && *s == ';')
			return false;
		was_space = isspace((unsigned char)*s);
	}
	return false;
}

/*
 * Judges one line of total bytes (len of them in line).  Returns what inih
 * should see of it, or NULL for nothing: refused lines (reported here),
 * blank lines, comments and section headers (ours to track).
 */
static char *
config_check_line(struct config_ctx *ctx, char *line, size_t len,
    size_t total)
{
	size_t	i;
	char	*p = line;

	if (total > CONFIG_LINE_MAX) {
		config_error(ctx, NULL, "line is %zu bytes long; at most %d "
		    "are allowed", total, CONFIG_LINE_MAX);
		return NULL;
	}
	if (memchr(line, '\0', len) != NULL) {
		config_error(ctx, NULL, "line contains a NUL byte");
		return NULL;
	}
	if (!config_utf8_valid((unsigned char *)line, len)) {
		config_error(ctx, NULL, "line is not valid UTF-8");
		return NULL;
	}
	for (i = 0; i < len; i++)
		if (((unsigned char)line[i] < 0x20 && line[i] != '\t') ||
		    line[i] == 0x7f) {
			config_error(ctx, NULL, "line contains the control "
			    "character 0x%02x", (unsigned char)line[i]);
			return NULL;
		}
	if (ctx->file->lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	/* No indented continuation lines: inih only sees unindented ones. */
	p += strspn(p, " \t");
	if (*p == '\0' || *p == ';' || *p == '#')
		return NULL;
	if (*p == '[') {
		config_section(ctx, p);
		return NULL;
	}
	if (!config_has_separator(p)) {
		config_error(ctx, NULL, "'%s': expected 'key = value', a "
		    "[section] header or a comment", config_shown(ctx, p));
		return NULL;
	}
	return p;
}

/*
 * inih's reader, fgets-like: hands inih exactly one line of the current
 * file per call, never a piece of one, so that its line numbers are ours.
 */
static char *
config_read_line(char *str, int num, void *stream)
{
	struct config_ctx	*ctx = stream;
	struct config_file	*f = ctx->file;
	char			 line[CONFIG_LINE_MAX + 2];
	char			*p;
	size_t			 len = 0, total = 0;
	int			 c;

	while ((c = getc(f->fp)) != EOF && c != '\n') {
		if (len < sizeof(line) - 1)
			line[len++] = (char)c;
		total++;
	}
	if (ferror(f->fp)) {
		config_file_error(ctx, f->path, 0, "cannot read: %s",
		    strerror(errno));
		return NULL;
	}
	if (c == EOF && total == 0)
		return NULL;
	f->lineno++;
	if (total == len && len > 0 && line[len - 1] == '\r')
		total = --len;
	line[len] = '\0';
	if ((p = config_check_line(ctx, line, len, total)) == NULL)
		p = "";
	else if (strlen(p) + 2 > (size_t)num) {
		config_error(ctx, NULL, "line is longer than inih's buffer "
		    "(%d bytes)", num);
		p = "";
	}
	snprintf(str, (size_t)num, "%s\n", p);
	return str;
}

/*
 * An error about opening path: at the include line naming it, or about
 * the main file itself.
 */
static void
config_open_error(struct config_ctx *ctx, const char *path, const char *msg)
{
	if (ctx->file != NULL)
		config_error(ctx, "include", "%s: %s", path, msg);
	else
		config_file_error(ctx, path, 0, "%s", msg);
}

/* Reads path, the main file or one named by an include of ctx->file. */
static void
config_read_file(struct config_ctx *ctx, const char *path)
{
	struct config_file	 f, *p;
	struct stat		 st;
	unsigned		 before = ctx->nerrors;
	int			 fd, rc;

	memset(&f, 0, sizeof(f));
	f.parent = ctx->file;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1 || fstat(fd, &st) == -1) {
		config_open_error(ctx, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		config_open_error(ctx, path, "not a regular file");
		goto out;
	}
	for (p = f.parent; p != NULL; p = p->parent)
		if (p->dev == st.st_dev && p->ino == st.st_ino) {
			config_open_error(ctx, path, "include cycle: the file "
			    "is already being read");
			goto out;
		}
	if ((f.fp = fdopen(fd, "r")) == NULL) {
		config_open_error(ctx, path, strerror(errno));
		goto out;
	}
	fd = -1;
	if ((f.dir = config_dir_of(path)) == NULL) {
		config_open_error(ctx, path, strerror(errno));
		goto out;
	}
	if ((f.path = policy_intern_file(ctx->conf->policy, path)) == NULL) {
		config_open_error(ctx, path, "out of memory");
		goto out;
	}
	f.dev = st.st_dev;
	f.ino = st.st_ino;
	f.depth = f.parent != NULL ? f.parent->depth + 1 : 0;
	ctx->file = &f;
	rc = ini_parse_stream(config_read_line, ctx, config_on_key, ctx);
	ctx->file = f.parent;
	/* Each error was reported where found; this catches any other. */
	if (rc > 0 && ctx->nerrors == before)
		config_file_error(ctx, f.path, (unsigned)rc, "syntax error");
	else if (rc < 0)
		config_file_error(ctx, f.path, 0, "inih failed (%d)", rc);
 out:
	if (f.fp != NULL)
		fclose(f.fp);
	if (fd != -1)
		close(fd);
	free(f.dir);
}

/*
 * Debian's inih has a 200-byte line buffer, but exports its size: make
 * room for our longest line, its "\r\n" and a NUL.  Our reader refuses a
 * line that would not fit anyway, so no inih can ever cut one.
 */
static void
config_ini_setup(void)
{
	if (ini_max_line < CONFIG_LINE_MAX + 3)
		ini_max_line = CONFIG_LINE_MAX + 3;
}

static void
config_free(struct config *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nhost_keys; i++)
		free(c->host_keys[i]);
	free(c->host_keys);
	free(c->listen);
	free(c->authorized_keys);
	free(c->authorized_principals);
	free(c->trusted_user_ca_keys);
	ca_set_free(c->trusted_cas);
	free(c->revoked_keys);
	revoked_free(c->revoked);
	free(c->audit_log);
	free(c->policy_cases);
	if (c->policy != NULL)
		policy_free(c->policy);
	free(c->path);
	free(c);
}

/* The defaults of the lists, when the files named none. */
static void
config_default_lists(struct config_ctx *ctx)
{
	struct config	*c = ctx->conf;
	struct ip_addr	 ip;
	char		*key;

	if (c->nlisten == 0) {
		memset(&ip, 0, sizeof(ip));
		ip.family = AF_INET;
		if (config_add_listen(ctx, &ip, DEFAULT_PORT) == -1)
			return;
		ip.family = AF_INET6;
		if (config_add_listen(ctx, &ip, DEFAULT_PORT) == -1)
			return;
	}
	if (c->nhost_keys == 0) {
		if ((key = strdup(DEFAULT_HOST_KEY)) == NULL ||
		    (c->host_keys = calloc(1, sizeof(*c->host_keys))) == NULL) {
			free(key);
			config_file_error(ctx, c->path, 0, "out of memory");
			return;
		}
		c->host_keys[c->nhost_keys++] = key;
	}
}

struct config *
config_load(const char *path, FILE *errs)
{
	struct config_ctx	 ctx;
	struct config		*c;

	memset(&ctx, 0, sizeof(ctx));
	ctx.errs = errs;
	if (path == NULL)
		return NULL;
	pthread_once(&config_ini_once, config_ini_setup);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		config_file_error(&ctx, path, 0, "out of memory");
		return NULL;
	}
	ctx.conf = c;
	c->refs = 1;
	c->connect_timeout_ms = 10 * SECOND_MS;
	c->login_grace_time_ms = 120 * SECOND_MS;
	c->max_auth_tries = 6;
	c->max_startups_begin = 10;
	c->max_startups_rate = 30;
	c->max_startups_full = 100;
	c->per_source_max_startups = 10;
	c->max_channels_per_session = 64;
	c->max_listeners_per_session = 8;
	c->max_pending_opens_per_session = 16;
	c->max_refused_per_session = 64;
	/* The lower of the two wins; neither is checked against the other. */
	c->max_lookups_per_user = 16;
	c->max_lookups = 24;
	c->workers = 0;
	c->log_level = LOG_LEVEL_INFO;
	c->log_syslog = false;
	c->cert_expiry_end = true;
	if ((c->path = strdup(path)) == NULL ||
	    (c->policy = policy_new()) == NULL ||
	    (c->authorized_keys = strdup(DEFAULT_AUTHORIZED_KEYS)) == NULL ||
	    (c->audit_log = strdup(DEFAULT_AUDIT_LOG)) == NULL) {
		config_file_error(&ctx, path, 0, "out of memory");
		goto fail;
	}
	config_read_file(&ctx, path);
	if (ctx.nerrors == 0)
		config_default_lists(&ctx);
	if (ctx.nerrors > 0)
		goto fail;
	return c;
 fail:
	config_free(c);
	return NULL;
}

struct config *
config_ref(struct config *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	return c;
}

void
config_unref(struct config *c)
{
	if (c != NULL && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
		config_free(c);
}
