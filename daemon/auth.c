/*
 * auth: may this key or certificate log in as this user?  A plain key must
 * be listed in the user's authorized_keys (sshd(8) format); a certificate
 * must be signed by a CA of trusted_user_ca_keys (principals: its own, or
 * the user's authorized_principals file) or by a cert-authority line of
 * the user's authorized_keys.  revoked_keys is checked for both.  The
 * options of the line that matched narrow what the session may do; lines
 * with options hopd cannot honour are skipped.  Files anyone but their
 * owner could have written are refused.  It blocks (file reads,
 * getpwnam_r for %h): session.c calls it from libuv's thread pool, never
 * on a worker's loop.
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
#include "cert.h"
#include "config.h"
#include "cred.h"
#include "log.h"
#include "policy.h"

#define AUTH_FILE_MAX_BYTES	(1024 * 1024)
#define AUTH_PW_BUF_MAX		(64 * 1024)

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
	return keyopts_is_flag(start, (size_t)(p - start));
}

int
auth_parse_line(const char *line, struct auth_line *out, char *err,
    size_t errlen)
{
	const char	*p;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	p = auth_skip_space(line);
	if (*p == '\0' || *p == '#')
		return 0;
	if (auth_starts_with_options(p)) {
		if (keyopts_parse(p, strlen(p), &out->opts, &p, err,
		    errlen) == -1)
			return -1;
		out->has_opts = true;
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
	if (out->type_len == 0 || out->blob_len == 0) {
		snprintf(err, errlen, "expected a key type and a key");
		auth_line_free(out);
		return -1;
	}
	return 1;
}

void
auth_line_free(struct auth_line *al)
{
	if (al->has_opts)
		keyopts_free(&al->opts);
	al->has_opts = false;
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

/* The file tmpl names for user into path: 0, or -1 (logged). */
static int
auth_user_path(const char *what, const char *tmpl, const char *user,
    char *path, size_t len)
{
	char	home[PATH_MAX];
	int	needs_home = auth_template_needs_home(tmpl);

	if (needs_home && auth_home(user, home, sizeof(home)) == -1)
		return -1;
	if (config_expand_path(tmpl, user, needs_home ? home : NULL, path,
	    len) == -1) {
		/* Also a user name hopd.ini(5) would not accept. */
		log_verbose("auth: %s template \"%s\" does not expand for "
		    "user \"%s\"", what, tmpl, user);
		return -1;
	}
	return 0;
}

/* A user's file, refused as sshd's StrictModes would; NULL is logged. */
static char *
auth_read_user_file(const char *path, size_t *lenp)
{
	char	 err[PATH_MAX + 128], *buf;
	bool	 enoent;

	buf = cred_read_file(path, AUTH_FILE_MAX_BYTES, lenp, &enoent, err,
	    sizeof(err));
	if (buf == NULL && enoent)
		log_verbose("auth: %s", err);
	else if (buf == NULL)
		log_warnx("auth: %s", err);
	return buf;
}

/* What one walk over a file looks for, and what it found. */
struct auth_walk {
	const struct auth_request *req;
	struct credential	*cr;
	const struct cert	*cert;	/* a certificate login, or NULL */
	const uint8_t		*want;	/* the key (or CA key) to find */
	size_t			 want_len;
	char			*reason;	/* why a matching line failed */
	size_t			 reason_len;
	bool			 refused;	/* a line matched, then failed */
};

typedef int (*auth_line_fn)(struct auth_walk *, char *line,
    const char *path, size_t lineno);

/*
 * Calls fn on a NUL-terminated copy of each line of buf (len bytes) until
 * it returns 1; too long lines and lines with a NUL byte are skipped.
 */
static bool
auth_walk(const char *buf, size_t len, const char *path, auth_line_fn fn,
    struct auth_walk *w)
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
		if (fn(w, line, path, lineno) == 1)
			return true;
	}
	return false;
}

/* A refusal by a line that matched; later lines may still let it in. */
static void
auth_line_refused(struct auth_walk *w, const char *path, size_t lineno,
    const char *fmt, const char *arg)
{
	char	why[AUTH_REASON_MAX];

	snprintf(why, sizeof(why), fmt, arg);
	log_verbose("auth: %s:%zu: the key matches but %s", path, lineno,
	    why);
	snprintf(w->reason, w->reason_len, "%s", why);
	w->refused = true;
}

/*
 * Whether the options of a matching line let this login in (sshd checks
 * the same): each option narrows, none widens.  A key left without port
 * forwarding is refused here, since forwarding is all hopd does.
 */
static bool
auth_opts_allow(struct auth_walk *w, const struct keyopts *o,
    const char *path, size_t lineno)
{
	const char	*why = NULL;

	if (!o->forwarding) {
		auth_line_refused(w, path, lineno, "its options forbid port "
		    "forwarding, all hopd does%s", "");
		return false;
	}
	if (keyopts_authorise(o, w->req->peer, (int64_t)w->req->now,
	    &why) == -1) {
		auth_line_refused(w, path, lineno, "%s", why != NULL ? why :
		    "its options refuse it");
		return false;
	}
	return true;
}

/* The line's options become the session's (the line gives them up). */
static int
auth_keep_opts(struct auth_walk *w, struct auth_line *al)
{
	struct credential	*cr = w->cr;

	if (!al->has_opts)
		return 0;
	if (al->opts.command != NULL && cr->force_command != NULL &&
	    strcmp(al->opts.command, cr->force_command) != 0) {
		snprintf(w->reason, w->reason_len, "the certificate and the "
		    "key's options force different commands");
		w->refused = true;
		return -1;
	}
	if (al->opts.command != NULL && cr->force_command == NULL &&
	    (cr->force_command = strdup(al->opts.command)) == NULL)
		return -1;
	cr->opts = al->opts;
	cr->has_opts = true;
	al->has_opts = false;
	return 0;
}

/*
 * The line lets the login in: its options and the principal (NULL for a
 * plain key) become the credential's.  1, or 0 (the walk goes on).
 */
static int
auth_keep_principal(struct auth_walk *w, struct auth_line *al,
    const char *principal)
{
	char	*copy = NULL;

	if (principal != NULL && (copy = strdup(principal)) == NULL)
		return 0;
	if (auth_keep_opts(w, al) == -1) {
		free(copy);
		return 0;
	}
	w->cr->principal = copy;
	return 1;
}

/* Whether the line lists w->want, with the line's own type. */
static bool
auth_line_lists(const struct auth_walk *w, const struct auth_line *al)
{
	struct wire	 rd;
	const uint8_t	*type;
	size_t		 tlen, len;
	uint8_t		*blob;
	bool		 same;

	if ((blob = wire_b64_decode(al->blob, al->blob_len, &len)) == NULL)
		return false;
	wire_init(&rd, blob, len);
	same = len == w->want_len && memcmp(blob, w->want, len) == 0 &&
	    wire_string(&rd, &type, &tlen) == 0 && tlen == al->type_len &&
	    memcmp(type, al->type, tlen) == 0;
	free(blob);
	return same;
}

/*
 * One authorized_keys line: a plain key line for a plain key, a
 * cert-authority line for a certificate (w->cert).
 */
static int
auth_key_line(struct auth_walk *w, char *line, const char *path,
    size_t lineno)
{
	struct auth_line	 al;
	char			 err[256];
	const char		*principal = NULL;
	size_t			 i;
	int			 rc;

	if ((rc = auth_parse_line(line, &al, err, sizeof(err))) == 0)
		return 0;
	if (rc == -1) {
		log_verbose("auth: %s:%zu: line skipped: %s", path, lineno,
		    err);
		return 0;
	}
	rc = 0;
	if ((w->cert != NULL) != (al.has_opts && al.opts.cert_authority))
		goto out;
	if (!auth_line_lists(w, &al))
		goto out;
	log_debug("auth: %s:%zu: key matches", path, lineno);
	if (al.has_opts && !auth_opts_allow(w, &al.opts, path, lineno))
		goto out;
	if (w->cert != NULL) {
		/* As sshd: principals= names who, else the login name. */
		if (al.opts.principals != NULL) {
			for (i = 0; i < w->cert->nprincipals; i++)
				if (keyopts_principal_listed(al.opts.principals,
				    w->cert->principals[i])) {
					principal = w->cert->principals[i];
					break;
				}
		} else if (cert_has_principal(w->cert, w->req->user))
			principal = w->req->user;
		if (principal == NULL) {
			auth_line_refused(w, path, lineno, "no principal of "
			    "the certificate is allowed%s", "");
			goto out;
		}
	}
	rc = auth_keep_principal(w, &al, principal);
 out:
	auth_line_free(&al);
	return rc;
}

/*
 * One line of an authorized_principals file: "[options] principal", as
 * sshd's AuthorizedPrincipalsFile (a '#' starts a comment).
 */
static int
auth_principal_line(struct auth_walk *w, char *line, const char *path,
    size_t lineno)
{
	struct auth_line	 al;
	const char		*p = auth_skip_space(line);
	char			*name, *e, err[256];
	int			 rc = 0;

	memset(&al, 0, sizeof(al));
	if ((e = strchr(line, '#')) != NULL)
		*e = '\0';
	if (*p == '\0')
		return 0;
	if (auth_starts_with_options(p)) {
		if (keyopts_parse(p, strlen(p), &al.opts, &p, err,
		    sizeof(err)) == -1) {
			log_verbose("auth: %s:%zu: line skipped: %s", path,
			    lineno, err);
			return 0;
		}
		al.has_opts = true;
		p = auth_skip_space(p);
	}
	name = line + (p - line);
	for (e = name + strlen(name); e > name && auth_is_space(e[-1]); e--)
		e[-1] = '\0';
	if (*name == '\0' || !cert_has_principal(w->cert, name))
		goto out;
	log_debug("auth: %s:%zu: principal \"%s\" matches", path, lineno,
	    name);
	if (al.has_opts && !auth_opts_allow(w, &al.opts, path, lineno))
		goto out;
	rc = auth_keep_principal(w, &al, name);
 out:
	auth_line_free(&al);
	return rc;
}

/* Walks the user's file that tmpl names; the reason stays on a miss. */
static bool
auth_walk_user_file(struct auth_walk *w, const char *what, const char *tmpl,
    auth_line_fn fn)
{
	char	 path[PATH_MAX], *buf;
	size_t	 len;
	bool	 found;

	if (auth_user_path(what, tmpl, w->req->user, path,
	    sizeof(path)) == -1 || (buf = auth_read_user_file(path,
	    &len)) == NULL)
		return false;
	found = auth_walk(buf, len, path, fn, w);
	free(buf);
	if (!found && !w->refused)
		log_verbose("auth: %s of \"%s\" not listed in %s",
		    w->cert != NULL ? "certificate" : "key", w->req->user,
		    path);
	return found;
}

static bool
auth_fail(char *reason, size_t rlen, const char *fmt, const char *arg)
{
	snprintf(reason, rlen, fmt, arg);
	return false;
}

static bool
auth_check_plain(const struct auth_request *req, const uint8_t *blob,
    size_t len, struct credential *cr, char *reason, size_t rlen)
{
	struct auth_walk	 w;
	struct pubkey		 pk;
	char			 err[128];
	const char		*why;

	if (pubkey_parse(blob, len, &pk, err, sizeof(err)) == -1)
		return auth_fail(reason, rlen, "key not accepted: %s", err);
	memcpy(cr->key_fp, pk.fp, sizeof(cr->key_fp));
	cr->key_blob = pk.blob;
	cr->key_len = pk.blob_len;
	pk.blob = NULL;
	pubkey_free(&pk);
	revoked_refresh(req->cfg->revoked);
	if (revoked_check_key(req->cfg->revoked, cr->key_blob, cr->key_len,
	    &why) != CRED_NOT_REVOKED)
		return auth_fail(reason, rlen, "%s", why);
	memset(&w, 0, sizeof(w));
	w.req = req;
	w.cr = cr;
	w.want = cr->key_blob;
	w.want_len = cr->key_len;
	w.reason = reason;
	w.reason_len = rlen;
	return auth_walk_user_file(&w, "authorized_keys",
	    req->cfg->authorized_keys, auth_key_line);
}

/* The certificate's own fields into cr, for the session and the audit. */
static int
auth_cert_credential(const struct cert *c, struct credential *cr)
{
	cr->is_cert = true;
	memcpy(cr->key_fp, c->key.fp, sizeof(cr->key_fp));
	memcpy(cr->ca_fp, c->ca.fp, sizeof(cr->ca_fp));
	cr->serial = c->serial;
	cr->valid_before = c->valid_before;
	if ((cr->key_blob = malloc(c->key.blob_len)) == NULL ||
	    (cr->ca_blob = malloc(c->ca.blob_len)) == NULL ||
	    (cr->key_id = strdup(c->key_id)) == NULL ||
	    (c->force_command != NULL &&
	    (cr->force_command = strdup(c->force_command)) == NULL))
		return -1;
	memcpy(cr->key_blob, c->key.blob, c->key.blob_len);
	cr->key_len = c->key.blob_len;
	memcpy(cr->ca_blob, c->ca.blob, c->ca.blob_len);
	cr->ca_len = c->ca.blob_len;
	return 0;
}

/*
 * A certificate, as strictly as sshd or more: libssh checked only the
 * user's signature by the certified key.
 */
static bool
auth_check_cert(const struct auth_request *req, const uint8_t *blob,
    size_t len, struct credential *cr, char *reason, size_t rlen)
{
	const struct config	*cfg = req->cfg;
	struct auth_walk	 w;
	struct cert		 c;
	uint8_t			 hash[32];
	char			 err[160], first[AUTH_REASON_MAX];
	const char		*why;
	bool			 ok = false, hashed;

	if (cert_parse(blob, len, &c, err, sizeof(err)) == -1)
		return auth_fail(reason, rlen, "certificate malformed: %s",
		    err);
	if (auth_cert_credential(&c, cr) == -1) {
		auth_fail(reason, rlen, "out of memory%s", "");
		goto out;
	}
	if (c.cert_type != CERT_TYPE_USER) {
		auth_fail(reason, rlen, "certificate: not a user "
		    "certificate%s", "");
		goto out;
	}
	if (!cert_valid_at(&c, req->now)) {
		auth_fail(reason, rlen, req->now < c.valid_after ?
		    "certificate not yet valid%s" : "certificate expired%s",
		    "");
		goto out;
	}
	revoked_refresh(cfg->revoked);
	if (revoked_check_cert(cfg->revoked, &c, &why) != CRED_NOT_REVOKED) {
		auth_fail(reason, rlen, "%s", why);
		goto out;
	}
	if (c.unknown_critical != NULL) {
		auth_fail(reason, rlen, "certificate: unsupported critical "
		    "option \"%s\"", c.unknown_critical);
		goto out;
	}
	if (!c.permit_port_forwarding) {
		auth_fail(reason, rlen, "certificate: no "
		    "permit-port-forwarding extension%s", "");
		goto out;
	}
	if (c.source_address != NULL &&
	    keyopts_match_cidr_list(c.source_address, req->peer) != 1) {
		auth_fail(reason, rlen, "certificate: source-address does not "
		    "match %s", req->peer);
		goto out;
	}
	memset(&w, 0, sizeof(w));
	w.req = req;
	w.cr = cr;
	w.cert = &c;
	w.want = c.ca.blob;
	w.want_len = c.ca.blob_len;
	w.reason = reason;
	w.reason_len = rlen;
	first[0] = '\0';
	if (ca_set_contains(cfg->trusted_cas, c.ca.blob, c.ca.blob_len)) {
		cr->ca_from_file = true;
		if (cfg->authorized_principals != NULL) {
			/* The file decides: the user name is not enough. */
			snprintf(reason, rlen, "certificate principal not "
			    "allowed by authorized_principals");
			ok = auth_walk_user_file(&w, "authorized_principals",
			    cfg->authorized_principals, auth_principal_line);
		} else if (cert_has_principal(&c, req->user))
			ok = (cr->principal = strdup(req->user)) != NULL;
		else
			auth_fail(reason, rlen, "certificate principal not "
			    "allowed: \"%s\" is not one of its principals",
			    req->user);
		if (!ok) {
			/* As sshd, a cert-authority line may still let it in. */
			snprintf(first, sizeof(first), "%s", reason);
			cr->ca_from_file = false;
			w.refused = false;
		}
	}
	if (!ok) {
		snprintf(reason, rlen, "certificate CA not trusted");
		ok = auth_walk_user_file(&w, "authorized_keys",
		    cfg->authorized_keys, auth_key_line);
		/* The trusted CA's refusal says more than "not trusted". */
		if (!ok && !w.refused && first[0] != '\0')
			snprintf(reason, rlen, "%s", first);
	}
	/*
	 * Last, once a CA the administrator named is known to be the
	 * signer: a peer cannot make hopd verify signatures of keys it chose
	 * (an RSA-16384 CA costs milliseconds a try).  The probe's
	 * certificate again, byte for byte, was verified then.
	 */
	if (ok) {
		hashed = wire_sha256(blob, len, hash) == 0;
		if (!hashed || req->verified == NULL ||
		    memcmp(hash, req->verified, sizeof(hash)) != 0) {
			if (cert_verify_ca(&c, err, sizeof(err)) == -1) {
				ok = false;
				auth_fail(reason, rlen, "certificate: bad CA "
				    "signature: %s", err);
				goto out;
			}
			if (hashed && req->verified_out != NULL &&
			    req->verified_set != NULL) {
				memcpy(req->verified_out, hash, sizeof(hash));
				*req->verified_set = true;
			}
		}
		snprintf(reason, rlen, "certificate authorized");
	}
 out:
	cert_free(&c);
	return ok;
}

bool
auth_check(const struct auth_request *req, struct credential *cr,
    char *reason, size_t rlen)
{
	struct wire	 rd;
	const uint8_t	*type;
	uint8_t		*blob = NULL;
	char		*b64 = NULL, tname[64];
	size_t		 len, tlen;
	bool		 ok = false;

	memset(cr, 0, sizeof(*cr));
	snprintf(reason, rlen, "key not authorized");
	if (req->cfg == NULL || req->user == NULL || req->key == NULL)
		return false;
	/* The name comes from the client: it may go into a path. */
	if (!policy_valid_user_name(req->user)) {
		log_verbose("auth: invalid user name");
		return false;
	}
	/* libssh keeps a certificate's whole blob: this exports it. */
	if (ssh_pki_export_pubkey_base64(req->key, &b64) != SSH_OK ||
	    (blob = wire_b64_decode(b64, strlen(b64), &len)) == NULL) {
		snprintf(reason, rlen, "key not readable");
		goto out;
	}
	wire_init(&rd, blob, len);
	if (wire_string(&rd, &type, &tlen) == -1 || tlen >= sizeof(tname)) {
		snprintf(reason, rlen, "key malformed");
		goto out;
	}
	memcpy(tname, type, tlen);
	tname[tlen] = '\0';
	if (cert_type_name(tname))
		ok = auth_check_cert(req, blob, len, cr, reason, rlen);
	else if ((ok = auth_check_plain(req, blob, len, cr, reason, rlen)))
		snprintf(reason, rlen, "key authorized");
	if (!ok)
		log_verbose("auth: %s: %s", req->user, reason);
 out:
	free(blob);
	ssh_string_free_char(b64);
	return ok;
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
