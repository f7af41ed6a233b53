/*
 * cases: policy cases (hopd.ini(5), POLICY CASES).  A line is parsed with
 * addr.c's strict parsers and decided by policy.c's functions, exactly as
 * direct.c and forward.c decide a request; only cases_read() touches a
 * file, and only the caller's resolver the network.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cases.h"

#define SHOWN_MAX	64	/* bytes of a bad word quoted back */
#define WORDS_MAX	4

static const char	expected_case[] = "expected USER HOST:PORT allow|deny "
    "[= ADDR, ...] or USER listen BIND:PORT allow|deny";
static const char	expected_target[] = "expected HOST:PORT with a name, "
    "an IPv4 address or an IPv6 address in brackets and a port from 1 to "
    "65535, like db1.internal:5432, 10.0.0.1:22 or [2001:db8::1]:22";
static const char	expected_bind[] = "expected BIND:PORT with localhost, "
    "*, an IPv4 address or an IPv6 address in brackets and a port from 0 "
    "(any) to 65535, like localhost:8080, *:9000 or [::1]:0";

/* s as quoted back in an error: at most SHOWN_MAX bytes, then "...". */
static int
shown_len(const char *s)
{
	return strlen(s) > SHOWN_MAX ? SHOWN_MAX : (int)strlen(s);
}

static const char *
shown_more(const char *s)
{
	return strlen(s) > SHOWN_MAX ? "..." : "";
}

/*
 * "HOST:PORT" or "[V6]:PORT" split at the port's colon (s is modified):
 * *host keeps its brackets.  -1 when there is no port or an IPv6 address
 * has no brackets (*why).
 */
static int
split_port(char *s, char **host, char **port, const char **why)
{
	char	*colon, *close;

	if (s[0] == '[') {
		if ((close = strchr(s, ']')) == NULL) {
			*why = "missing ']'";
			return -1;
		}
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = strrchr(s, ':');
		if (colon != NULL && memchr(s, ':', (size_t)(colon - s)) !=
		    NULL) {
			*why = "an IPv6 address needs brackets";
			return -1;
		}
	}
	if (colon == s) {
		*why = "nothing before the port";
		return -1;
	}
	if (colon == NULL || colon[1] == '\0') {
		*why = "no port";
		return -1;
	}
	*colon = '\0';
	*host = s;
	*port = colon + 1;
	return 0;
}

static int
parse_target(char *word, struct policy_case *c, char *err, size_t errlen)
{
	char		 copy[CASES_LINE_MAX + 1], *host, *port;
	const char	*why = NULL;

	snprintf(copy, sizeof(copy), "%s", word);
	if (split_port(copy, &host, &port, &why) == -1)
		goto fail;
	if (addr_parse_host(host, &c->host, &why) == -1)
		goto fail;
	if (addr_parse_port(port, &c->port) == -1) {
		why = "invalid port";
		goto fail;
	}
	return 0;
 fail:
	snprintf(err, errlen, "invalid target '%.*s%s' (%s); %s",
	    shown_len(word), word, shown_more(word), why != NULL ? why :
	    "malformed", expected_target);
	return -1;
}

/* The bind as a client sends it: localhost, *, or an address unbracketed. */
static int
parse_bind(char *word, struct policy_case *c, char *err, size_t errlen)
{
	char		 copy[CASES_LINE_MAX + 1], *bind, *port;
	const char	*why = NULL;
	struct ip_addr	 ip;

	snprintf(copy, sizeof(copy), "%s", word);
	if (split_port(copy, &bind, &port, &why) == -1)
		goto fail;
	if (strcasecmp(bind, "localhost") == 0 || strcmp(bind, "*") == 0)
		snprintf(c->bind, sizeof(c->bind), "%s", bind);
	else if (addr_parse_ip(bind, &ip) == -1 ||
	    (bind[0] != '[' && ip.family != AF_INET) ||
	    addr_format(&ip, c->bind, sizeof(c->bind)) == -1) {
		why = "invalid bind address";
		goto fail;
	}
	if (strcmp(port, "0") == 0)
		c->port = 0;
	else if (addr_parse_port(port, &c->port) == -1) {
		why = "invalid port";
		goto fail;
	}
	return 0;
 fail:
	snprintf(err, errlen, "invalid listen '%.*s%s' (%s); %s",
	    shown_len(word), word, shown_more(word), why != NULL ? why :
	    "malformed", expected_bind);
	return -1;
}

/* "= ADDR, ADDR...": the addresses a name resolves to, in order. */
static int
parse_addrs(char *list, struct policy_case *c, char *err, size_t errlen)
{
	char	*item, *end, *next;

	c->naddrs = 0;
	for (item = list; item != NULL; item = next) {
		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		item += strspn(item, " \t");
		end = item + strlen(item);
		while (end > item && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*item == '\0') {
			snprintf(err, errlen, "missing address after '=' or "
			    "','; expected addresses separated by commas, "
			    "like = 10.0.0.1, 2001:db8::1");
			return -1;
		}
		if (c->naddrs == CASES_ADDRS_MAX) {
			snprintf(err, errlen, "more than %d addresses after "
			    "'=': a tunnel keeps at most %d of a name",
			    CASES_ADDRS_MAX, CASES_ADDRS_MAX);
			return -1;
		}
		if (addr_parse_ip(item, &c->addrs[c->naddrs]) == -1) {
			snprintf(err, errlen, "invalid address '%.*s%s' after "
			    "'='; expected IPv4 or IPv6 addresses separated "
			    "by commas, like = 10.0.0.1, 2001:db8::1",
			    shown_len(item), item, shown_more(item));
			return -1;
		}
		addr_normalize(&c->addrs[c->naddrs]);
		c->naddrs++;
	}
	return 0;
}

int
cases_parse_line(const char *line, struct policy_case *c, char *err,
    size_t errlen)
{
	char		 buf[CASES_LINE_MAX + 1], *words[WORDS_MAX], *p, *list;
	char		*save;
	size_t		 nwords = 0, i, len;
	const char	*decision;

	memset(c, 0, sizeof(*c));
	if ((len = strlen(line)) > CASES_LINE_MAX) {
		snprintf(err, errlen, "line is %zu bytes long; at most %d are "
		    "allowed", len, CASES_LINE_MAX);
		return -1;
	}
	memcpy(buf, line, len + 1);
	if ((p = strchr(buf, '#')) != NULL)
		*p = '\0';
	for (p = buf; *p != '\0'; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') ||
		    (unsigned char)*p >= 0x7f) {
			snprintf(err, errlen, "unexpected byte 0x%02x: a case "
			    "is ASCII (comments after '#' may be anything)",
			    (unsigned char)*p);
			return -1;
		}
	if ((list = strchr(buf, '=')) != NULL)
		*list++ = '\0';
	for (p = strtok_r(buf, " \t", &save); p != NULL;
	    p = strtok_r(NULL, " \t", &save)) {
		if (nwords == WORDS_MAX) {
			snprintf(err, errlen, "too many words; %s",
			    expected_case);
			return -1;
		}
		words[nwords++] = p;
	}
	if (nwords == 0 && list == NULL)
		return 0;
	if (nwords == 4 && strcmp(words[1], "listen") == 0)
		c->kind = CASE_LISTEN;
	else if (nwords == 3 && strcmp(words[1], "listen") != 0)
		c->kind = CASE_TUNNEL;
	else {
		snprintf(err, errlen, "%s", expected_case);
		return -1;
	}
	if (!policy_valid_user_name(words[0])) {
		snprintf(err, errlen, "invalid user '%.*s%s': 1 to %d "
		    "characters a-z, 0-9, '_', '.' or '-', starting with a "
		    "letter or '_'; %s", shown_len(words[0]), words[0],
		    shown_more(words[0]), POLICY_USER_NAME_MAX, expected_case);
		return -1;
	}
	snprintf(c->user, sizeof(c->user), "%s", words[0]);
	decision = words[nwords - 1];
	if (strcmp(decision, "allow") == 0)
		c->expect_allow = true;
	else if (strcmp(decision, "deny") != 0) {
		snprintf(err, errlen, "expected allow or deny, got '%.*s%s'; "
		    "%s", shown_len(decision), decision, shown_more(decision),
		    expected_case);
		return -1;
	}
	if (c->kind == CASE_LISTEN) {
		if (list != NULL) {
			snprintf(err, errlen, "a listen case takes no '= "
			    "ADDR'; expected USER listen BIND:PORT "
			    "allow|deny");
			return -1;
		}
		if (parse_bind(words[2], c, err, errlen) == -1)
			return -1;
	} else {
		if (parse_target(words[1], c, err, errlen) == -1)
			return -1;
		if (list != NULL && c->host.kind != HOST_NAME) {
			snprintf(err, errlen, "'= ADDR' is for names: an "
			    "address is decided as itself, e.g. alice "
			    "10.0.0.1:22 allow");
			return -1;
		}
		if (list != NULL && parse_addrs(list, c, err, errlen) == -1)
			return -1;
	}
	/* The case as written, for messages: the words but the decision. */
	len = 0;
	for (i = 0; i + 1 < nwords; i++)
		len += strlen(words[i]) + 1;
	if ((c->what = malloc(len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->what[0] = '\0';
	for (i = 0; i + 1 < nwords; i++) {
		if (i > 0)
			strcat(c->what, " ");
		strcat(c->what, words[i]);
	}
	return 1;
}

int
cases_decide(const struct policy *p, const struct policy_case *c,
    cases_resolver resolve, struct case_result *r)
{
	struct verdict	 v[CASES_ADDRS_MAX];
	const char	*why = NULL;
	size_t		 n = 0, i;

	memset(r, 0, sizeof(*r));
	if (c->kind == CASE_LISTEN) {
		r->allow = policy_decide_listen(p, c->user, c->bind, c->port,
		    &r->verdict);
		return 0;
	}
	if (!policy_precheck(p, c->user, &c->host, c->port, &r->verdict))
		return 0;
	if (c->host.kind != HOST_NAME) {
		r->addrs[0] = c->host.ip;
		addr_normalize(&r->addrs[0]);
		n = 1;
	} else if (c->naddrs > 0) {
		memcpy(r->addrs, c->addrs, c->naddrs * sizeof(c->addrs[0]));
		n = c->naddrs;
	} else {
		r->resolved = true;
		if (resolve == NULL)
			r->error = "no resolver";
		else if (resolve(c->host.text, r->addrs, CASES_ADDRS_MAX, &n,
		    &why) == -1)
			r->error = why != NULL ? why : "lookup failed";
		else if (n == 0 || n > CASES_ADDRS_MAX)
			r->error = "no address";
		if (r->error != NULL) {
			r->naddrs = 0;
			return -1;
		}
	}
	r->naddrs = n;
	r->allow = policy_decide_target(p, c->user, &c->host, c->port,
	    r->addrs, n, v, &r->verdict) > 0;
	/* The deciding verdict is the first allowed address's, or the first. */
	for (i = 0; i < n; i++)
		if (!r->allow || v[i].allow)
			break;
	r->has_addr = true;
	r->addr = r->addrs[i < n ? i : 0];
	return 0;
}

static const char *
rule_kind_name(enum rule_kind kind)
{
	switch (kind) {
	case RULE_ALLOW:
		return "allow";
	case RULE_DENY:
		return "deny";
	case RULE_LISTEN:
		return "listen";
	}
	return "rule";
}

void
cases_describe(const struct policy_case *c, const struct case_result *r,
    char *buf, size_t len)
{
	const struct rule	*rule = r->verdict.rule;
	char			 origin[300], text[ADDR_TEXT_MAX];
	char			 ruletext[600] = "";
	char			 addr[ADDR_TEXT_MAX + 8] = "";

	if (buf == NULL || len == 0)
		return;
	if (r->error != NULL) {
		snprintf(buf, len, "expected %s, not decided: cannot resolve "
		    "%s: %s (give its addresses with '= ADDR')",
		    c->expect_allow ? "allow" : "deny", c->host.text,
		    r->error);
		return;
	}
	policy_rule_origin(rule, origin, sizeof(origin));
	if (rule != NULL)
		snprintf(ruletext, sizeof(ruletext), " (%s = %s)",
		    rule_kind_name(rule->kind), rule->text != NULL ?
		    rule->text : "?");
	if (r->has_addr && addr_format(&r->addr, text, sizeof(text)) == 0)
		snprintf(addr, sizeof(addr), " for %s", text);
	snprintf(buf, len, "expected %s, got %s by %s%s%s: %s",
	    c->expect_allow ? "allow" : "deny", r->allow ? "allow" : "deny",
	    origin, ruletext, addr, r->verdict.reason != NULL ?
	    r->verdict.reason : "?");
}

void
cases_init(struct cases *set)
{
	memset(set, 0, sizeof(*set));
}

void
cases_clear(struct cases *set)
{
	size_t	i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		free(set->v[i].what);
	free(set->v);
	for (i = 0; i < set->nfiles; i++)
		free(set->files[i].path);
	free(set->files);
	cases_init(set);
}

/* The file's name kept in set, or NULL (out of memory). */
static const char *
cases_add_file(struct cases *set, const char *path, const struct stat *st)
{
	struct cases_file	*files;
	char			*copy;

	if ((copy = strdup(path)) == NULL)
		return NULL;
	files = reallocarray(set->files, set->nfiles + 1, sizeof(*files));
	if (files == NULL) {
		free(copy);
		return NULL;
	}
	set->files = files;
	files += set->nfiles++;
	files->path = copy;
	files->dev = st->st_dev;
	files->ino = st->st_ino;
	return copy;
}

static void __attribute__((format(printf, 4, 5)))
cases_emitf(cases_emit emit, void *arg, enum cases_line kind,
    const char *fmt, ...)
{
	char	line[CASES_ERROR_MAX + 1200];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(arg, kind, line);
}

static int
cases_add(struct cases *set, struct policy_case *c)
{
	struct policy_case	*v;

	v = reallocarray(set->v, set->n + 1, sizeof(*v));
	if (v == NULL)
		return -1;
	set->v = v;
	set->v[set->n++] = *c;
	return 0;
}

int
cases_read(struct cases *set, const char *path, cases_emit emit, void *arg)
{
	struct policy_case	 c;
	struct stat		 st;
	const char		*file;
	char			*line = NULL, err[CASES_ERROR_MAX];
	size_t			 cap = 0;
	ssize_t			 len;
	unsigned		 lineno = 0;
	FILE			*fp = NULL;
	size_t			 i;
	int			 rc = 0;

	if ((fp = fopen(path, "re")) == NULL ||
	    fstat(fileno(fp), &st) == -1) {
		cases_emitf(emit, arg, CASES_ERROR, "%s: cannot read: %s",
		    path, strerror(errno));
		rc = -1;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		cases_emitf(emit, arg, CASES_ERROR, "%s: not a regular file",
		    path);
		rc = -1;
		goto out;
	}
	for (i = 0; i < set->nfiles; i++)
		if (set->files[i].dev == st.st_dev &&
		    set->files[i].ino == st.st_ino)
			goto out;
	if ((file = cases_add_file(set, path, &st)) == NULL) {
		cases_emitf(emit, arg, CASES_ERROR, "%s: out of memory", path);
		rc = -1;
		goto out;
	}
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (memchr(line, '\0', (size_t)len) != NULL) {
			cases_emitf(emit, arg, CASES_ERROR, "%s:%u: line "
			    "contains a NUL byte", file, lineno);
			rc = -1;
			continue;
		}
		switch (cases_parse_line(line + (lineno == 1 &&
		    strncmp(line, "\xef\xbb\xbf", 3) == 0 ? 3 : 0), &c, err,
		    sizeof(err))) {
		case -1:
			cases_emitf(emit, arg, CASES_ERROR, "%s:%u: %s", file,
			    lineno, err);
			rc = -1;
			break;
		case 1:
			c.file = file;
			c.line = lineno;
			if (cases_add(set, &c) == -1) {
				free(c.what);
				cases_emitf(emit, arg, CASES_ERROR,
				    "%s:%u: out of memory", file, lineno);
				rc = -1;
			}
			break;
		default:
			break;
		}
	}
	if (ferror(fp)) {
		cases_emitf(emit, arg, CASES_ERROR, "%s: cannot read: %s",
		    path, strerror(errno));
		rc = -1;
	}
 out:
	free(line);
	if (fp != NULL)
		fclose(fp);
	return rc;
}

size_t
cases_run(const struct cases *set, const struct policy *p,
    cases_resolver resolve, cases_emit emit, void *arg, size_t *passed)
{
	const struct policy_case	*c;
	struct case_result		 r;
	char				 text[ADDR_TEXT_MAX], list[600];
	char				 why[CASES_ERROR_MAX + 900];
	size_t				 i, j, n, failed = 0, ok = 0;

	for (i = 0; i < set->n; i++) {
		c = &set->v[i];
		cases_decide(p, c, resolve, &r);
		if (r.resolved && r.error == NULL) {
			for (n = 0, j = 0; j < r.naddrs; j++) {
				addr_format(&r.addrs[j], text, sizeof(text));
				n += (size_t)snprintf(list + n,
				    sizeof(list) - n, "%s%s", j > 0 ? ", " : "",
				    text);
				if (n >= sizeof(list))
					break;
			}
			cases_emitf(emit, arg, CASES_NOTE, "%s:%u: %s resolved "
			    "to %s (no '= ADDR' given)", c->file, c->line,
			    c->host.text, list);
		}
		if (r.error == NULL && r.allow == c->expect_allow) {
			ok++;
			continue;
		}
		failed++;
		cases_describe(c, &r, why, sizeof(why));
		cases_emitf(emit, arg, CASES_FAIL, "%s:%u: %s: %s", c->file,
		    c->line, c->what, why);
	}
	if (passed != NULL)
		*passed = ok;
	return failed;
}
