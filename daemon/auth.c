/*
 * auth: is this public key listed for this user?  Reads the authorized_keys
 * file the template names (sshd(8) format), refusing files anyone but their
 * owner could have written, and lines with options hopd does not enforce.
 * It blocks (file reads, getpwnam_r for %h): session.c calls it from
 * libuv's thread pool, never on a worker's loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "log.h"
#include "policy.h"

#define AUTH_FILE_MAX_BYTES	(1024 * 1024)
#define AUTH_PW_BUF_MAX		(64 * 1024)
#define AUTH_OPTION_LOG_MAX	64	/* bytes of an option name logged */

/* The key formats hopd accepts (RSA signs with rsa-sha2-*, see server.c). */
static const struct {
	const char		*name;
	enum ssh_keytypes_e	 type;
} auth_key_types[] = {
	{ "ssh-ed25519",		SSH_KEYTYPE_ED25519 },
	{ "ecdsa-sha2-nistp256",	SSH_KEYTYPE_ECDSA_P256 },
	{ "ecdsa-sha2-nistp384",	SSH_KEYTYPE_ECDSA_P384 },
	{ "ecdsa-sha2-nistp521",	SSH_KEYTYPE_ECDSA_P521 },
	{ "ssh-rsa",			SSH_KEYTYPE_RSA },
};

/*
 * Options that only take away what hopd never offers (a pty, agent and X11
 * forwarding, ~/.ssh/rc), so accepting them changes nothing.  restrict and
 * no-port-forwarding also forbid port forwarding, all hopd does, and
 * port-forwarding gives it back: sshd applies them in order, the last one
 * wins (see auth_parse_options).  Every other option is unsupported.
 */
static const char *const auth_harmless_options[] = {
	"no-pty", "no-agent-forwarding", "no-x11-forwarding", "no-user-rc",
};

/* Flag options of sshd(8); a line starting with one has options. */
static const char *const auth_flag_options[] = {
	"restrict", "cert-authority", "no-port-forwarding",
	"no-agent-forwarding", "no-x11-forwarding", "no-pty", "no-user-rc",
	"port-forwarding", "agent-forwarding", "x11-forwarding", "pty",
	"user-rc", "no-touch-required", "verify-required",
};

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static int
auth_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *
auth_skip_space(const char *p)
{
	while (auth_is_space(*p))
		p++;
	return p;
}

static int
auth_name_in(const char *name, size_t len, const char *const *list,
    size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strlen(list[i]) == len && strncasecmp(name, list[i],
		    len) == 0)
			return 1;
	return 0;
}

/*
 * Whether the line starts with options rather than a key type: key type
 * names never hold '=', ',' or '"', and are never an option's name.
 */
static int
auth_starts_with_options(const char *p)
{
	const char	*start = p;

	for (; *p != '\0' && !auth_is_space(*p); p++)
		if (*p == '=' || *p == ',' || *p == '"')
			return 1;
	return auth_name_in(start, (size_t)(p - start), auth_flag_options,
	    nitems(auth_flag_options));
}

/*
 * Parses the options at *pp (sshd(8): name or name="value", comma-separated,
 * \" inside quotes) up to the whitespace after them; notes the first
 * unsupported one in out, or else the option that leaves port forwarding
 * forbidden.  0 or -1 (malformed).
 */
static int
auth_parse_options(const char **pp, struct auth_line *out)
{
	const char	*p = *pp, *name, *forbidden_by = NULL;
	size_t		 len, forbidden_len = 0;
	int		 has_value;

	for (;;) {
		name = p;
		while (*p != '\0' && *p != '=' && *p != ',' && *p != '"' &&
		    !auth_is_space(*p))
			p++;
		if ((len = (size_t)(p - name)) == 0 || *p == '"')
			return -1;
		has_value = *p == '=';
		if (has_value) {
			if (*++p != '"')
				return -1;	/* sshd wants quotes */
			for (p++; *p != '"'; p++) {
				if (*p == '\0')
					return -1;
				if (p[0] == '\\' && p[1] == '"')
					p++;
			}
			p++;
		}
		/* In order, as sshd: the last of these three wins. */
		if (!has_value && ((len == 8 && strncasecmp(name, "restrict",
		    len) == 0) || (len == 18 && strncasecmp(name,
		    "no-port-forwarding", len) == 0))) {
			forbidden_by = name;
			forbidden_len = len;
		} else if (!has_value && len == 15 && strncasecmp(name,
		    "port-forwarding", len) == 0)
			forbidden_by = NULL;
		else if ((has_value || !auth_name_in(name, len,
		    auth_harmless_options, nitems(auth_harmless_options))) &&
		    out->unsupported == NULL) {
			out->unsupported = name;
			out->unsupported_len = len;
		}
		if (*p == ',') {
			p++;
			continue;
		}
		if (!auth_is_space(*p))
			return -1;	/* no key after the options */
		break;
	}
	if (forbidden_by != NULL && out->unsupported == NULL) {
		out->unsupported = forbidden_by;
		out->unsupported_len = forbidden_len;
		out->forbids_forwarding = true;
	}
	*pp = p;
	return 0;
}

int
auth_parse_line(const char *line, struct auth_line *out)
{
	const char	*p;

	memset(out, 0, sizeof(*out));
	p = auth_skip_space(line);
	if (*p == '\0' || *p == '#')
		return 0;
	if (auth_starts_with_options(p)) {
		out->has_options = true;
		if (auth_parse_options(&p, out) == -1)
			return -1;
		p = auth_skip_space(p);
	}
	out->type = p;
	while (*p != '\0' && !auth_is_space(*p))
		p++;
	out->type_len = (size_t)(p - out->type);
	p = auth_skip_space(p);
	out->blob = p;
	while (*p != '\0' && !auth_is_space(*p))
		p++;
	out->blob_len = (size_t)(p - out->blob);
	if (out->type_len == 0 || out->blob_len == 0)
		return -1;
	return 1;
}

static enum ssh_keytypes_e
auth_key_type(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < nitems(auth_key_types); i++)
		if (strlen(auth_key_types[i].name) == len &&
		    memcmp(name, auth_key_types[i].name, len) == 0)
			return auth_key_types[i].type;
	return SSH_KEYTYPE_UNKNOWN;
}

static int
auth_template_needs_home(const char *tmpl)
{
	for (; *tmpl != '\0'; tmpl++) {
		if (*tmpl != '%')
			continue;
		if (tmpl[1] == 'h')
			return 1;
		if (tmpl[1] != '\0')
			tmpl++;
	}
	return 0;
}

/* The home directory of user into buf.  0, or -1 (unknown user, error). */
static int
auth_home(const char *user, char *buf, size_t len)
{
	struct passwd	 pw, *res = NULL;
	char		*pwbuf = NULL, *nbuf;
	size_t		 pwlen = 1024;
	int		 rc = -1, error;

	for (;;) {
		if ((nbuf = realloc(pwbuf, pwlen)) == NULL) {
			log_warn("auth: getpwnam_r");
			goto out;
		}
		pwbuf = nbuf;
		error = getpwnam_r(user, &pw, pwbuf, pwlen, &res);
		if (error != ERANGE || pwlen >= AUTH_PW_BUF_MAX)
			break;
		pwlen *= 2;
	}
	if (error != 0) {
		errno = error;
		log_warn("auth: looking up user \"%s\"", user);
		goto out;
	}
	if (res == NULL) {
		log_verbose("auth: unknown user \"%s\"", user);
		goto out;
	}
	if ((size_t)snprintf(buf, len, "%s", pw.pw_dir) >= len) {
		log_verbose("auth: home of \"%s\" too long", user);
		goto out;
	}
	rc = 0;
 out:
	free(pwbuf);
	return rc;
}

/*
 * Opens path and reads it whole into a NUL-terminated buffer, refusing
 * what sshd's StrictModes would (a file others may write) and what is not
 * a small regular file.  NULL when refused (the reason is logged).
 */
static char *
auth_read_file(const char *path, size_t *lenp)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	/* O_NONBLOCK: opening a FIFO must not hang the loop. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY);
	if (fd == -1) {
		if (errno == ENOENT)
			log_verbose("auth: %s: no such file", path);
		else if (errno == ELOOP)
			log_warnx("auth: %s: refused: a symbolic link", path);
		else
			log_warn("auth: %s", path);
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		log_warn("auth: %s", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("auth: %s: refused: not a regular file", path);
		goto fail;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		log_warnx("auth: %s: refused: writable by %s (mode %03o)",
		    path, st.st_mode & S_IWOTH ? "others" : "its group",
		    (unsigned)(st.st_mode & 0777));
		goto fail;
	}
	if (st.st_size > AUTH_FILE_MAX_BYTES) {
		log_warnx("auth: %s: refused: larger than %d bytes", path,
		    AUTH_FILE_MAX_BYTES);
		goto fail;
	}
	/* One byte more than allowed, to see a file that grew meanwhile. */
	if ((buf = malloc(AUTH_FILE_MAX_BYTES + 2)) == NULL) {
		log_warn("auth: %s", path);
		goto fail;
	}
	while (len <= AUTH_FILE_MAX_BYTES) {
		n = read(fd, buf + len, AUTH_FILE_MAX_BYTES + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("auth: %s: read", path);
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > AUTH_FILE_MAX_BYTES) {
		log_warnx("auth: %s: refused: larger than %d bytes", path,
		    AUTH_FILE_MAX_BYTES);
		goto fail;
	}
	buf[len] = '\0';
	close(fd);
	*lenp = len;
	return buf;
 fail:
	free(buf);
	close(fd);
	return NULL;
}

/* Whether one key line (a copy the function may change) lists key. */
static int
auth_line_matches(char *line, const char *path, size_t lineno,
    ssh_key key)
{
	struct auth_line	 al;
	enum ssh_keytypes_e	 type;
	ssh_key			 k = NULL;
	int			 rc;

	if ((rc = auth_parse_line(line, &al)) == 0)
		return 0;
	if (rc == -1) {
		log_verbose("auth: %s:%zu: malformed line skipped", path,
		    lineno);
		return 0;
	}
	if (al.forbids_forwarding) {
		log_verbose("auth: %s:%zu: key skipped: \"%.*s\" forbids "
		    "port forwarding, all hopd does (\"port-forwarding\" "
		    "after it allows it)", path, lineno,
		    (int)al.unsupported_len, al.unsupported);
		return 0;
	}
	if (al.unsupported != NULL) {
		log_verbose("auth: %s:%zu: key skipped: option \"%.*s\" is "
		    "not supported", path, lineno,
		    (int)(al.unsupported_len < AUTH_OPTION_LOG_MAX ?
		    al.unsupported_len : AUTH_OPTION_LOG_MAX), al.unsupported);
		return 0;
	}
	type = auth_key_type(al.type, al.type_len);
	if (type == SSH_KEYTYPE_UNKNOWN) {
		log_debug("auth: %s:%zu: key type not supported", path,
		    lineno);
		return 0;
	}
	line[al.blob - line + al.blob_len] = '\0';
	if (ssh_pki_import_pubkey_base64(al.blob, type, &k) != SSH_OK) {
		log_verbose("auth: %s:%zu: key does not decode", path,
		    lineno);
		return 0;
	}
	rc = ssh_key_type(k) == type &&
	    ssh_key_cmp(k, key, SSH_KEY_CMP_PUBLIC) == 0;
	ssh_key_free(k);
	if (rc)
		log_debug("auth: %s:%zu: key matches", path, lineno);
	return rc;
}

/* Walks the lines of buf (len bytes, NUL-terminated) for key. */
static bool
auth_buf_lists_key(const char *buf, size_t len, const char *path,
    ssh_key key)
{
	char		 line[AUTH_LINE_MAX];
	const char	*p = buf, *end = buf + len, *nl;
	size_t		 n, lineno = 0;

	for (; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n >= sizeof(line)) {
			log_verbose("auth: %s:%zu: line longer than %d bytes "
			    "skipped", path, lineno, AUTH_LINE_MAX - 1);
			continue;
		}
		if (memchr(p, '\0', n) != NULL) {
			log_verbose("auth: %s:%zu: line with a NUL byte "
			    "skipped", path, lineno);
			continue;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if (auth_line_matches(line, path, lineno, key))
			return true;
	}
	return false;
}

bool
auth_key_allowed(const char *tmpl, const char *user, ssh_key key)
{
	char	 home[PATH_MAX], path[PATH_MAX], *buf;
	size_t	 len;
	bool	 found;

	if (tmpl == NULL || user == NULL || key == NULL)
		return false;
	/* The name comes from the client: it may go into a path. */
	if (!policy_valid_user_name(user)) {
		log_verbose("auth: invalid user name");
		return false;
	}
	if (auth_template_needs_home(tmpl) &&
	    auth_home(user, home, sizeof(home)) == -1)
		return false;
	if (config_expand_path(tmpl, user, auth_template_needs_home(tmpl) ?
	    home : NULL, path, sizeof(path)) == -1) {
		/* Also a user name hopd.ini(5) would not accept. */
		log_verbose("auth: authorized_keys template \"%s\" does not "
		    "expand for user \"%s\"", tmpl, user);
		return false;
	}
	if ((buf = auth_read_file(path, &len)) == NULL)
		return false;
	found = auth_buf_lists_key(buf, len, path, key);
	free(buf);
	if (!found)
		log_verbose("auth: key of \"%s\" not listed in %s", user,
		    path);
	return found;
}

void
auth_fingerprint(ssh_key key, char *buf, size_t len)
{
	unsigned char	*hash = NULL;
	size_t		 hlen = 0;
	char		*fp = NULL;

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	if (key == NULL || ssh_get_publickey_hash(key,
	    SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0)
		return;
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	if (fp == NULL)
		return;
	if (strlen(fp) < len)
		memcpy(buf, fp, strlen(fp) + 1);
	ssh_string_free_char(fp);
}
