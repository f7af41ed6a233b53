/*
 * keyopts: parses the options of an authorized_keys line the way OpenSSH's
 * sshauthopt_parse does, and matches from=, source-address, permitopen,
 * permitlisten and principals the way sshd does, so that a file written
 * for sshd means the same here or, where hopd cannot follow, less.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "addr.h"
#include "keyopts.h"

#define KEYOPTS_SHOWN_MAX	48	/* bytes of a name or value in errors */
#define KEYOPTS_PATTERN_MAX	1022	/* sshd's match_pattern_list gives up
					 * on a longer entry */
#define KEYOPTS_CIDR_TEXT_MAX	49	/* INET6_ADDRSTRLEN + 3, the longest
					 * source-address entry sshd takes */

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

enum keyopts_id {
	KEYOPT_RESTRICT,
	KEYOPT_PORT_FORWARDING,
	KEYOPT_NO_PORT_FORWARDING,
	KEYOPT_CERT_AUTHORITY,
	KEYOPT_INERT,		/* about what hopd never offers */
	KEYOPT_COMMAND,
	KEYOPT_PRINCIPALS,
	KEYOPT_FROM,
	KEYOPT_EXPIRY_TIME,
	KEYOPT_PERMITOPEN,
	KEYOPT_PERMITLISTEN,
	KEYOPT_UNSUPPORTED	/* sshd honours it, hopd cannot */
};

/* Every option sshd knows (auth-options.c, sshauthopt_parse). */
static const struct {
	const char	*name;
	enum keyopts_id	 id;
	bool		 has_value;
} keyopts_table[] = {
	{ "restrict",			KEYOPT_RESTRICT,		false },
	{ "port-forwarding",		KEYOPT_PORT_FORWARDING,		false },
	{ "no-port-forwarding",		KEYOPT_NO_PORT_FORWARDING,	false },
	{ "cert-authority",		KEYOPT_CERT_AUTHORITY,		false },
	{ "pty",			KEYOPT_INERT,			false },
	{ "no-pty",			KEYOPT_INERT,			false },
	{ "agent-forwarding",		KEYOPT_INERT,			false },
	{ "no-agent-forwarding",	KEYOPT_INERT,			false },
	{ "x11-forwarding",		KEYOPT_INERT,			false },
	{ "no-x11-forwarding",		KEYOPT_INERT,			false },
	{ "user-rc",			KEYOPT_INERT,			false },
	{ "no-user-rc",			KEYOPT_INERT,			false },
	{ "command",			KEYOPT_COMMAND,			true },
	{ "principals",			KEYOPT_PRINCIPALS,		true },
	{ "from",			KEYOPT_FROM,			true },
	{ "expiry-time",		KEYOPT_EXPIRY_TIME,		true },
	{ "permitopen",			KEYOPT_PERMITOPEN,		true },
	{ "permitlisten",		KEYOPT_PERMITLISTEN,		true },
	{ "environment",		KEYOPT_UNSUPPORTED,		true },
	{ "tunnel",			KEYOPT_UNSUPPORTED,		true },
	{ "touch-required",		KEYOPT_UNSUPPORTED,		false },
	{ "no-touch-required",		KEYOPT_UNSUPPORTED,		false },
	{ "verify-required",		KEYOPT_UNSUPPORTED,		false },
	{ "no-verify-required",		KEYOPT_UNSUPPORTED,		false },
};

bool
keyopts_is_flag(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < nitems(keyopts_table); i++)
		if (!keyopts_table[i].has_value &&
		    strlen(keyopts_table[i].name) == len &&
		    strncasecmp(name, keyopts_table[i].name, len) == 0)
			return true;
	return false;
}

static bool
keyopts_is_end(char c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
keyopts_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
keyopts_is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

/*
 * s[0..n) for an error message: file content reaches the log, so control
 * and non-ASCII bytes become '?' and long text is cut.
 */
static void
keyopts_show(char *buf, size_t size, const char *s, size_t n)
{
	size_t	i, max = n > KEYOPTS_SHOWN_MAX ? KEYOPTS_SHOWN_MAX : n;

	if (size < 4) {
		if (size > 0)
			buf[0] = '\0';
		return;
	}
	if (max > size - 4)
		max = size - 4;
	for (i = 0; i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = c < ' ' || c >= 0x7f ? '?' : (char)c;
	}
	if (max < n)
		memcpy(buf + max, "...", 4);
	else
		buf[max] = '\0';
}

static void __attribute__((format(printf, 3, 4)))
keyopts_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
keyopts_init(struct keyopts *o)
{
	memset(o, 0, sizeof(*o));
	o->forwarding = true;
}

static void
keyopts_free_permits(struct keyopts_permit *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(p[i].host);
	free(p);
}

void
keyopts_free(struct keyopts *o)
{
	if (o == NULL)
		return;
	free(o->from);
	free(o->principals);
	free(o->command);
	keyopts_free_permits(o->open, o->nopen);
	keyopts_free_permits(o->listen, o->nlisten);
	keyopts_init(o);
}

/*
 * The quoted value at *pp (which is at the opening quote) up to end, as
 * sshd's opt_dequote: \" is a quote, any other backslash is itself.  Sets
 * *pp after the closing quote.  NULL with *why on error.
 */
static char *
keyopts_dequote(const char **pp, const char *end, const char **why)
{
	const char	*p = *pp + 1, *q;
	char		*v;
	size_t		 n = 0;

	for (q = p; q < end && *q != '\0' && *q != '"'; n++)
		q += (q[0] == '\\' && q + 1 < end && q[1] == '"') ? 2 : 1;
	if (q >= end || *q != '"') {
		*why = "unterminated quote";
		return NULL;
	}
	if (n > KEYOPTS_VALUE_MAX) {
		*why = "value longer than 4096 bytes";
		return NULL;
	}
	if ((v = malloc(n + 1)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	for (n = 0; p < q; p++) {
		if (p[0] == '\\' && p + 1 < q && p[1] == '"')
			p++;
		v[n++] = *p;
	}
	v[n] = '\0';
	*pp = q + 1;
	return v;
}

/*
 * YYYYMMDD[HHMM[SS]] with an optional Z (or UTC, which sshd also takes,
 * any case) for UTC, else local time, as sshd's parse_absolute_time.  Its
 * struct tm is zeroed, so mktime takes the time as standard time even
 * when daylight saving is in force; hopd does the same to agree with it.
 * sshd refuses only time 0 (and wraps earlier ones around to the far
 * future); hopd refuses all before 1970-01-01T00:00:01Z.
 */
static int
keyopts_parse_time(const char *s, int64_t *out)
{
	struct tm	tm;
	time_t		t;
	size_t		len = strlen(s), i;
	int		f[6] = { 0, 0, 0, 0, 0, 0 };
	bool		utc = false;

	if (len > 1 && (s[len - 1] == 'Z' || s[len - 1] == 'z')) {
		utc = true;
		len--;
	} else if (len > 3 && strcasecmp(s + len - 3, "UTC") == 0) {
		utc = true;
		len -= 3;
	}
	if (len != 8 && len != 12 && len != 14)
		return -1;
	for (i = 0; i < len; i++)
		if (!keyopts_is_digit(s[i]))
			return -1;
	f[0] = (s[0] - '0') * 1000 + (s[1] - '0') * 100 +
	    (s[2] - '0') * 10 + (s[3] - '0');
	for (i = 4; i < len; i += 2)
		f[i / 2 - 1] = (s[i] - '0') * 10 + (s[i + 1] - '0');
	/* strptime's ranges; timegm and mktime then fold a 31st February. */
	if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 ||
	    f[4] > 59 || f[5] > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_sec = f[5];
	tm.tm_wday = -1;	/* stays -1 only on failure */
	t = utc ? timegm(&tm) : mktime(&tm);
	if ((t == (time_t)-1 && tm.tm_wday == -1) || t <= 0)
		return -1;
	*out = (int64_t)t;
	return 0;
}

/*
 * "host:port" (permitopen) or "[host:]port" (permitlisten), as sshd's
 * handle_permit and set_fwdpermit_from_authopts: IPv6 in brackets, which
 * are dropped; permitopen may also split at '/' (sshd's hpdelim2), which
 * permitlisten may not (sshd accepts it, then dies on it at session
 * start); the port is 1-65535 or "*".  A bare permitlisten port means any
 * host, "*".  sshd also takes service names and leading zeros, which hopd
 * refuses (no /etc/services lookups).
 */
static int
keyopts_parse_permit(const char *v, bool listen, struct keyopts_permit *out,
    const char **why)
{
	const char	*host = v, *hend, *port;
	size_t		 hlen;

	memset(out, 0, sizeof(*out));
	if (listen && strchr(v, ':') == NULL) {
		host = "*";
		hend = host + 1;
		port = v;
		hlen = 1;
	} else {
		if (v[0] == '[') {
			if ((hend = strchr(v, ']')) == NULL) {
				*why = "missing ']' after the IPv6 address";
				return -1;
			}
			host = v + 1;
			port = hend + 1;
		} else {
			port = hend = v + strcspn(v, ":/");
			host = v;
		}
		if (*port == '\0') {
			*why = "missing port";
			return -1;
		}
		if (*port != ':' && *port != '/') {
			*why = "junk after ']'";
			return -1;
		}
		if (*port == '/' && listen) {
			*why = "host and port are separated by ':'";
			return -1;
		}
		if ((size_t)(port - v) > KEYOPTS_HOST_MAX) {
			*why = "host longer than 1024 bytes";
			return -1;
		}
		port++;
		hlen = (size_t)(hend - host);
	}
	if (strcmp(port, "*") == 0)
		out->any_port = true;
	else if (addr_parse_port(port, &out->port) == -1) {
		*why = "port is 1 to 65535 or *";
		return -1;
	}
	if ((out->host = strndup(host, hlen)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

/* Appends the permit option value v to *list; -1 with err set. */
static int
keyopts_add_permit(const char *name, const char *v, bool listen,
    struct keyopts_permit **list, size_t *n, char *err, size_t errlen)
{
	struct keyopts_permit	 p, *grown;
	const char		*why = NULL;
	char			 shown[KEYOPTS_SHOWN_MAX + 4];

	if (*n >= KEYOPTS_PERMIT_MAX) {
		keyopts_error(err, errlen, "more than %d %s options",
		    KEYOPTS_PERMIT_MAX, name);
		return -1;
	}
	if (keyopts_parse_permit(v, listen, &p, &why) == -1) {
		keyopts_show(shown, sizeof(shown), v, strlen(v));
		keyopts_error(err, errlen, "malformed %s \"%s\": %s", name,
		    shown, why);
		return -1;
	}
	if ((grown = reallocarray(*list, *n + 1, sizeof(**list))) == NULL) {
		free(p.host);
		keyopts_error(err, errlen, "out of memory parsing %s", name);
		return -1;
	}
	grown[(*n)++] = p;
	*list = grown;
	return 0;
}

/* Applies option id with value v (NULL for a flag); takes v on success. */
static int
keyopts_apply(struct keyopts *o, enum keyopts_id id, const char *name,
    char **v, char *err, size_t errlen)
{
	char		**slot = NULL;
	char		  shown[KEYOPTS_SHOWN_MAX + 4];
	int64_t		  t;

	switch (id) {
	case KEYOPT_RESTRICT:
	case KEYOPT_NO_PORT_FORWARDING:
		o->forwarding = false;
		return 0;
	case KEYOPT_PORT_FORWARDING:
		o->forwarding = true;
		return 0;
	case KEYOPT_CERT_AUTHORITY:
		o->cert_authority = true;
		return 0;
	case KEYOPT_INERT:
		return 0;
	case KEYOPT_COMMAND:
		slot = &o->command;
		break;
	case KEYOPT_PRINCIPALS:
		slot = &o->principals;
		break;
	case KEYOPT_FROM:
		/* sshd checks the list only when matching; so does hopd. */
		slot = &o->from;
		break;
	case KEYOPT_EXPIRY_TIME:
		if (keyopts_parse_time(*v, &t) == -1) {
			keyopts_show(shown, sizeof(shown), *v, strlen(*v));
			keyopts_error(err, errlen, "invalid expiry-time "
			    "\"%s\": YYYYMMDD[HHMM[SS]][Z], after 1970",
			    shown);
			return -1;
		}
		/* Several: the earliest wins, as in sshd. */
		if (!o->has_expiry || t < o->expiry)
			o->expiry = t;
		o->has_expiry = true;
		return 0;
	case KEYOPT_PERMITOPEN:
		return keyopts_add_permit(name, *v, false, &o->open,
		    &o->nopen, err, errlen);
	case KEYOPT_PERMITLISTEN:
		return keyopts_add_permit(name, *v, true, &o->listen,
		    &o->nlisten, err, errlen);
	case KEYOPT_UNSUPPORTED:
		keyopts_error(err, errlen, "option \"%s\" is not supported",
		    name);
		return -1;
	}
	if (*slot != NULL) {
		keyopts_error(err, errlen, "option \"%s\" given twice", name);
		return -1;
	}
	*slot = *v;
	*v = NULL;
	return 0;
}

int
keyopts_parse(const char *s, size_t len, struct keyopts *out,
    const char **endp, char *err, size_t errlen)
{
	const char	*p = s, *end = s, *name, *why = NULL;
	char		 shown[KEYOPTS_SHOWN_MAX + 4], *v = NULL;
	size_t		 nlen, i;

	if (s != NULL)
		end = s + len;
	keyopts_init(out);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (p >= end || keyopts_is_end(*p))
		goto done;
	for (;;) {
		name = p;
		while (p < end && !keyopts_is_end(*p) && *p != ',' &&
		    *p != '=' && *p != '"')
			p++;
		nlen = (size_t)(p - name);
		keyopts_show(shown, sizeof(shown), name, nlen);
		if (nlen == 0) {
			keyopts_error(err, errlen, "empty option name "
			    "(stray comma?)");
			goto fail;
		}
		if (p < end && *p == '"') {
			keyopts_error(err, errlen, "quote in option name "
			    "\"%s\"", shown);
			goto fail;
		}
		if (p < end && *p == '=') {
			p++;
			if (p >= end || *p != '"') {
				keyopts_error(err, errlen, "the value of "
				    "option \"%s\" must be in double quotes",
				    shown);
				goto fail;
			}
			if ((v = keyopts_dequote(&p, end, &why)) == NULL) {
				keyopts_error(err, errlen, "%s in option "
				    "\"%s\"", why, shown);
				goto fail;
			}
			if (p < end && !keyopts_is_end(*p) && *p != ',') {
				keyopts_error(err, errlen, "junk after the "
				    "value of option \"%s\"", shown);
				goto fail;
			}
		}
		for (i = 0; i < nitems(keyopts_table); i++)
			if (strlen(keyopts_table[i].name) == nlen &&
			    strncasecmp(name, keyopts_table[i].name,
			    nlen) == 0)
				break;
		if (i == nitems(keyopts_table)) {
			keyopts_error(err, errlen, "unknown option \"%s\"",
			    shown);
			goto fail;
		}
		if (keyopts_table[i].id != KEYOPT_UNSUPPORTED &&
		    keyopts_table[i].has_value != (v != NULL)) {
			keyopts_error(err, errlen, v != NULL ?
			    "option \"%s\" takes no value" :
			    "option \"%s\" needs a value: name=\"value\"",
			    shown);
			goto fail;
		}
		if (keyopts_apply(out, keyopts_table[i].id,
		    keyopts_table[i].name, &v, err, errlen) == -1)
			goto fail;
		free(v);
		v = NULL;
		if (p >= end || *p != ',')
			break;
		p++;
	}
 done:
	if (endp != NULL)
		*endp = p;
	return 0;
 fail:
	free(v);
	keyopts_free(out);
	if (endp != NULL)
		*endp = p;
	return -1;
}

/*
 * Splits list at commas into *entry (not NUL-terminated) of *elen bytes,
 * advancing *pp; false when there is no more.  "" is one empty entry, as
 * strsep gives.
 */
static bool
keyopts_next_entry(const char **pp, const char **entry, size_t *elen)
{
	const char	*p = *pp, *comma;

	if (p == NULL)
		return false;
	comma = strchr(p, ',');
	*entry = p;
	*elen = comma != NULL ? (size_t)(comma - p) : strlen(p);
	*pp = comma != NULL ? comma + 1 : NULL;
	return true;
}

/* The peer's address normalized (as sshd sees it) and as text. */
static int
keyopts_peer(const char *addr, struct ip_addr *ip, char *text, size_t len)
{
	if (addr == NULL || addr_parse_ip(addr, ip) == -1)
		return -1;
	addr_normalize(ip);
	return addr_format(ip, text, len);
}

/*
 * Whether from= entry e is one sshd would take for an address: getaddrinfo
 * reads IPv6 forms, zone ids, and inet_aton's short, octal and hex IPv4
 * forms, which hopd's strict parser refuses.  Globs are never addresses.
 */
static bool
keyopts_address_like(const char *e)
{
	if (strpbrk(e, "*?") != NULL)
		return false;
	if (strpbrk(e, ":[") != NULL)
		return true;
	return keyopts_is_digit(e[0]) &&
	    strspn(e, "0123456789abcdefABCDEFxX./") == strlen(e);
}

/*
 * One from= entry against the peer: 1 match, 0 none, -1 malformed.  sshd
 * (addr_match_list) tries it as a CIDR, else as a glob on the address;
 * match_hostname tries it as a glob again, lowercased: together, one
 * case-insensitive glob.
 */
static int
keyopts_from_entry(const char *e, const struct ip_addr *ip, const char *text)
{
	struct ip_addr	net;
	unsigned	prefix;
	size_t		i, len = strlen(e);

	if (len == 0 || len > KEYOPTS_PATTERN_MAX)
		return -1;
	/* Spaces, controls: text sshd may read in ways hopd would not. */
	for (i = 0; i < len; i++)
		if ((unsigned char)e[i] <= ' ' || (unsigned char)e[i] >= 0x7f)
			return -1;
	if (keyopts_address_like(e)) {
		if (e[0] == '[' || addr_parse_cidr(e, &net, &prefix,
		    NULL) == -1)
			return -1;
		return ip != NULL && addr_cidr_contains(&net, prefix, ip);
	}
	return text != NULL && addr_glob_match(e, text);
}

/* match_host_and_ip with the name being the address; -1 malformed. */
static int
keyopts_from_list(const char *patterns, const struct ip_addr *ip,
    const char *text)
{
	const char	*p = patterns, *e;
	char		 buf[KEYOPTS_PATTERN_MAX + 2];
	size_t		 elen;
	bool		 neg, positive = false;
	int		 r;

	if (patterns == NULL)
		return -1;
	while (keyopts_next_entry(&p, &e, &elen)) {
		if ((neg = elen > 0 && e[0] == '!')) {
			e++;
			elen--;
		}
		if (elen >= sizeof(buf))
			return -1;
		memcpy(buf, e, elen);
		buf[elen] = '\0';
		if ((r = keyopts_from_entry(buf, ip, text)) == -1)
			return -1;
		/* A matching negation refuses, whatever comes after. */
		if (r == 1 && neg)
			return 0;
		if (r == 1)
			positive = true;
	}
	return positive ? 1 : 0;
}

bool
keyopts_from_valid(const char *patterns)
{
	return keyopts_from_list(patterns, NULL, NULL) != -1;
}

int
keyopts_match_from(const char *patterns, const char *addr)
{
	struct ip_addr	ip;
	char		text[ADDR_TEXT_MAX];

	/* The whole list is checked first: malformed refuses everyone. */
	if (!keyopts_from_valid(patterns) ||
	    keyopts_peer(addr, &ip, text, sizeof(text)) == -1)
		return 0;
	return keyopts_from_list(patterns, &ip, text) == 1;
}

/* addr_match_cidr_list: 1 match, 0 none, -1 malformed (ip may be NULL). */
static int
keyopts_cidr_list(const char *list, const struct ip_addr *ip)
{
	const char	*p = list, *e;
	char		 buf[KEYOPTS_CIDR_TEXT_MAX + 1];
	struct ip_addr	 net;
	unsigned	 prefix;
	size_t		 elen;
	bool		 found = false;

	if (list == NULL)
		return -1;
	while (keyopts_next_entry(&p, &e, &elen)) {
		if (elen == 0 || elen > KEYOPTS_CIDR_TEXT_MAX)
			return -1;
		memcpy(buf, e, elen);
		buf[elen] = '\0';
		if (strspn(buf, "0123456789abcdefABCDEF.:/") != elen ||
		    addr_parse_cidr(buf, &net, &prefix, NULL) == -1)
			return -1;
		/* No early return: a later bad entry still refuses. */
		if (ip != NULL && addr_cidr_contains(&net, prefix, ip))
			found = true;
	}
	return found ? 1 : 0;
}

bool
keyopts_cidr_list_valid(const char *list)
{
	return keyopts_cidr_list(list, NULL) != -1;
}

int
keyopts_match_cidr_list(const char *list, const char *addr)
{
	struct ip_addr	ip;
	char		text[ADDR_TEXT_MAX];

	if (keyopts_peer(addr, &ip, text, sizeof(text)) == -1)
		return 0;
	return keyopts_cidr_list(list, &ip) == 1;
}

int
keyopts_authorise(const struct keyopts *o, const char *addr, int64_t now,
    const char **why)
{
	const char	*dummy;

	if (why == NULL)
		why = &dummy;
	if (o == NULL) {
		*why = "no options";
		return -1;
	}
	if (o->has_expiry && o->expiry < now) {
		*why = "key expired (expiry-time)";
		return -1;
	}
	/* sshd(8) says "ignored", but sshd refuses; so does hopd. */
	if (o->principals != NULL && !o->cert_authority) {
		*why = "principals= on a key without cert-authority";
		return -1;
	}
	if (o->from != NULL && !keyopts_from_valid(o->from)) {
		*why = "malformed from= list";
		return -1;
	}
	if (o->from != NULL && keyopts_match_from(o->from, addr) != 1) {
		*why = "address not allowed by from=";
		return -1;
	}
	return 0;
}

bool
keyopts_permits_open(const struct keyopts *o, const char *host,
    uint16_t port)
{
	const struct keyopts_permit	*p;
	size_t				 i;

	if (o == NULL || host == NULL || !o->forwarding)
		return false;
	if (o->nopen == 0)
		return true;
	/* channels.c open_match: "*" or the very string, no lookups. */
	for (i = 0; i < o->nopen; i++) {
		p = &o->open[i];
		if ((p->any_port || p->port == port) &&
		    (strcmp(p->host, "*") == 0 || strcmp(p->host, host) == 0))
			return true;
	}
	return false;
}

/*
 * channels.c remote_open_match lowercases the request and matches it
 * case-sensitively: with addr_glob_match ignoring case, a pattern holding
 * an upper-case letter must be ruled out to agree.
 */
static bool
keyopts_listen_host_match(const char *pattern, const char *host)
{
	const char	*c;

	for (c = pattern; *c != '\0'; c++)
		if (keyopts_is_upper(*c))
			return false;
	return addr_glob_match(pattern, host);
}

bool
keyopts_permits_listen(const struct keyopts *o, const char *host,
    uint16_t port)
{
	const struct keyopts_permit	*p;
	size_t				 i;

	if (o == NULL || host == NULL || !o->forwarding)
		return false;
	if (o->nlisten == 0)
		return true;
	for (i = 0; i < o->nlisten; i++) {
		p = &o->listen[i];
		if ((p->any_port || p->port == port) &&
		    keyopts_listen_host_match(p->host, host))
			return true;
	}
	return false;
}

bool
keyopts_principal_listed(const char *principals, const char *name)
{
	const char	*p = principals, *e;
	size_t		 elen;

	if (principals == NULL || name == NULL)
		return false;
	/* auth2-pubkeyfile.c match_principals_option stops at "". */
	while (keyopts_next_entry(&p, &e, &elen) && elen > 0)
		if (strlen(name) == elen && memcmp(e, name, elen) == 0)
			return true;
	return false;
}
