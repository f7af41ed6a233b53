/*
 * cred: trusted CAs, revoked keys and the credential of a session; see
 * cred.h.  The file reads block: config_load and the auth thread pool call
 * them, never a worker's loop (credential_still_valid reads nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "cert.h"
#include "config.h"
#include "cred.h"
#include "krl.h"
#include "log.h"

/* ---------------------------------------------------------------- files */

char *
cred_read_file(const char *path, size_t max, size_t *lenp, bool *enoent,
    char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	*enoent = false;
	/* O_NONBLOCK: opening a FIFO must not hang. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY);
	if (fd == -1) {
		*enoent = errno == ENOENT;
		if (errno == ELOOP)
			snprintf(err, errlen, "%s: refused: a symbolic link",
			    path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: refused: not a regular file", path);
		goto fail;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s: refused: writable by %s (mode %03o)",
		    path, st.st_mode & S_IWOTH ? "others" : "its group",
		    (unsigned)(st.st_mode & 0777));
		goto fail;
	}
	if ((uintmax_t)st.st_size > max) {
		snprintf(err, errlen, "%s: refused: larger than %zu bytes",
		    path, max);
		goto fail;
	}
	/* One byte more than allowed, to see a file that grew meanwhile. */
	if ((buf = malloc((size_t)st.st_size + 2)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	while (len <= (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: read: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	/* Caught while rewritten in place: refused, read again later. */
	if (len != (size_t)st.st_size) {
		snprintf(err, errlen, "%s: refused: changed while read", path);
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

/*
 * One OpenSSH public key line ("type base64 [comment]") into a plain key
 * blob that pubkey_parse accepts and whose type is the line's.  1, 0 for a
 * blank or comment line, -1 with the reason in err.
 */
static int
cred_key_line(const char *line, uint8_t **blobp, size_t *lenp, char *err,
    size_t errlen)
{
	struct pubkey	 pk;
	const char	*type, *b64;
	size_t		 tlen, blen, len;
	uint8_t		*blob;
	char		 why[128];

	line += strspn(line, " \t\r");
	if (*line == '\0' || *line == '#')
		return 0;
	type = line;
	tlen = strcspn(type, " \t\r");
	b64 = type + tlen;
	b64 += strspn(b64, " \t\r");
	blen = strcspn(b64, " \t\r");
	if (tlen == 0 || blen == 0) {
		snprintf(err, errlen, "expected \"TYPE BASE64 [COMMENT]\"");
		return -1;
	}
	if ((blob = wire_b64_decode(b64, blen, &len)) == NULL) {
		snprintf(err, errlen, "the key is not valid base64");
		return -1;
	}
	if (pubkey_parse(blob, len, &pk, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "not a key hopd accepts: %s", why);
		free(blob);
		return -1;
	}
	if (strlen(pubkey_type_name(pk.type)) != tlen ||
	    memcmp(pubkey_type_name(pk.type), type, tlen) != 0) {
		snprintf(err, errlen, "the key is a %s, the line says %.*s",
		    pubkey_type_name(pk.type), (int)(tlen < 64 ? tlen : 64), type);
		pubkey_free(&pk);
		free(blob);
		return -1;
	}
	pubkey_free(&pk);
	*blobp = blob;
	*lenp = len;
	return 1;
}

/* ---------------------------------------------------------------- CAs */

struct ca_key {
	uint8_t		*blob;
	size_t		 len;
};

struct ca_set {
	struct ca_key	*keys;
	size_t		 n;
};

void
ca_set_free(struct ca_set *set)
{
	size_t	i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		free(set->keys[i].blob);
	free(set->keys);
	free(set);
}

struct ca_set *
ca_set_load(const char *path, char *err, size_t errlen)
{
	struct ca_set	*set;
	struct ca_key	*nkeys;
	char		*buf, *line, *next, why[256];
	uint8_t		*blob;
	size_t		 len, blen, lineno = 0;
	bool		 enoent;
	int		 rc;

	if ((buf = cred_read_file(path, CRED_FILE_MAX_BYTES, &len, &enoent,
	    err, errlen)) == NULL)
		return NULL;
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: a NUL byte: not a text file", path);
		free(buf);
		return NULL;
	}
	if ((set = calloc(1, sizeof(*set))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(buf);
		return NULL;
	}
	for (line = buf; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((rc = cred_key_line(line, &blob, &blen, why,
		    sizeof(why))) == 0)
			continue;
		if (rc == -1) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
			goto fail;
		}
		if (set->n >= CRED_CAS_MAX) {
			free(blob);
			snprintf(err, errlen, "%s:%zu: more than %d CAs", path,
			    lineno, CRED_CAS_MAX);
			goto fail;
		}
		nkeys = reallocarray(set->keys, set->n + 1, sizeof(*nkeys));
		if (nkeys == NULL) {
			free(blob);
			snprintf(err, errlen, "%s: out of memory", path);
			goto fail;
		}
		set->keys = nkeys;
		set->keys[set->n].blob = blob;
		set->keys[set->n++].len = blen;
	}
	if (set->n == 0) {
		snprintf(err, errlen, "%s: no CA key in the file", path);
		goto fail;
	}
	free(buf);
	return set;
 fail:
	free(buf);
	ca_set_free(set);
	return NULL;
}

bool
ca_set_contains(const struct ca_set *set, const uint8_t *blob, size_t len)
{
	size_t	i;

	if (set == NULL)
		return false;
	for (i = 0; i < set->n; i++)
		if (set->keys[i].len == len &&
		    memcmp(set->keys[i].blob, blob, len) == 0)
			return true;
	return false;
}

size_t
ca_set_count(const struct ca_set *set)
{
	return set != NULL ? set->n : 0;
}

/* ---------------------------------------------------------------- revoked */

struct revoked {
	char		*path;
	pthread_mutex_t	 mu;
	struct krl	*krl;		/* NULL: unusable, why says */
	char		 why[512];
	bool		 have_stat;	/* the file as last read */
	struct stat	 st;
};

/* Whether st is another file, or the same one changed. */
static bool
revoked_changed(const struct revoked *r, const struct stat *st)
{
	return !r->have_stat || st->st_dev != r->st.st_dev ||
	    st->st_ino != r->st.st_ino || st->st_size != r->st.st_size ||
	    st->st_mtim.tv_sec != r->st.st_mtim.tv_sec ||
	    st->st_mtim.tv_nsec != r->st.st_mtim.tv_nsec ||
	    st->st_ctim.tv_sec != r->st.st_ctim.tv_sec ||
	    st->st_ctim.tv_nsec != r->st.st_ctim.tv_nsec;
}

/*
 * Reads and parses the file without the lock (a KRL may be large and the
 * loops' checks must not wait on it), then swaps the result in under it.
 */
static void
revoked_load(struct revoked *r)
{
	struct krl	*krl, *old;
	struct stat	 st;
	char		*buf, err[256], why[sizeof(r->why)];
	size_t		 len;
	bool		 enoent, have_stat, had;

	have_stat = stat(r->path, &st) == 0;
	buf = cred_read_file(r->path, CRED_KRL_MAX_BYTES, &len, &enoent, err,
	    sizeof(err));
	krl = buf != NULL ? krl_parse((const uint8_t *)buf, len, err,
	    sizeof(err)) : NULL;
	free(buf);
	why[0] = '\0';
	if (krl == NULL)
		snprintf(why, sizeof(why), "revoked_keys %s: %s", r->path, err);
	pthread_mutex_lock(&r->mu);
	had = r->krl != NULL || r->why[0] != '\0';
	old = r->krl;
	r->krl = krl;
	memcpy(r->why, why, sizeof(r->why));
	r->have_stat = have_stat;
	if (have_stat)
		r->st = st;
	pthread_mutex_unlock(&r->mu);
	krl_free(old);
	if (krl == NULL)
		log_warnx("%s: refusing every key until it is fixed", why);
	else if (had)
		log_info("revoked_keys %s: read again", r->path);
}

struct revoked *
revoked_open(const char *path)
{
	struct revoked	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->path = strdup(path)) == NULL ||
	    pthread_mutex_init(&r->mu, NULL) != 0) {
		free(r->path);
		free(r);
		return NULL;
	}
	revoked_load(r);
	return r;
}

void
revoked_free(struct revoked *r)
{
	if (r == NULL)
		return;
	krl_free(r->krl);
	pthread_mutex_destroy(&r->mu);
	free(r->path);
	free(r);
}

void
revoked_refresh(struct revoked *r)
{
	struct stat	st;
	bool		exists, changed;

	if (r == NULL)
		return;
	exists = stat(r->path, &st) == 0;
	pthread_mutex_lock(&r->mu);
	/* A file still missing stays unusable: nothing to read again. */
	changed = exists ? revoked_changed(r, &st) : r->have_stat;
	pthread_mutex_unlock(&r->mu);
	if (changed)
		revoked_load(r);
}

int
revoked_status(struct revoked *r, char *buf, size_t len)
{
	int	rc;

	pthread_mutex_lock(&r->mu);
	rc = r->krl != NULL ? 0 : -1;
	snprintf(buf, len, "%s", r->why);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/*
 * The one lookup, as sshd: the key (for a certificate, its certified key),
 * and for a certificate its serial and key id under its CA, and the CA's
 * own key.  ca NULL: a plain key.
 */
static enum cred_revocation
revoked_lookup(struct revoked *r, const uint8_t *key, size_t keylen,
    const uint8_t *ca, size_t calen, uint64_t serial, const char *key_id,
    const char **why)
{
	enum cred_revocation	rc = CRED_NOT_REVOKED;

	*why = NULL;
	if (r == NULL)
		return CRED_NOT_REVOKED;
	pthread_mutex_lock(&r->mu);
	if (r->krl == NULL) {
		rc = CRED_UNUSABLE;
		*why = "revoked_keys unusable: every key is refused";
	} else if (krl_key_revoked(r->krl, key, keylen, NULL)) {
		rc = CRED_REVOKED;
		*why = ca != NULL ? "certificate key revoked" : "key revoked";
	} else if (ca != NULL && krl_cert_revoked(r->krl, ca, calen, serial,
	    key_id, NULL)) {
		rc = CRED_REVOKED;
		*why = "certificate revoked";
	} else if (ca != NULL && krl_key_revoked(r->krl, ca, calen, NULL)) {
		rc = CRED_REVOKED;
		*why = "certificate CA revoked";
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

enum cred_revocation
revoked_check_key(struct revoked *r, const uint8_t *blob, size_t len,
    const char **why)
{
	return revoked_lookup(r, blob, len, NULL, 0, 0, NULL, why);
}

enum cred_revocation
revoked_check_cert(struct revoked *r, const struct cert *c, const char **why)
{
	return revoked_lookup(r, c->key.blob, c->key.blob_len, c->ca.blob,
	    c->ca.blob_len, c->serial, c->key_id, why);
}

/* ---------------------------------------------------------------- credential */

void
credential_free(struct credential *cr)
{
	if (cr == NULL)
		return;
	free(cr->key_blob);
	free(cr->ca_blob);
	free(cr->key_id);
	free(cr->principal);
	free(cr->force_command);
	if (cr->has_opts)
		keyopts_free(&cr->opts);
	memset(cr, 0, sizeof(*cr));
}

bool
credential_still_valid(const struct credential *cr, const struct config *cfg,
    const char **why)
{
	*why = NULL;
	if (cr->key_blob == NULL)
		return true;
	if (revoked_lookup(cfg->revoked, cr->key_blob, cr->key_len,
	    cr->is_cert ? cr->ca_blob : NULL, cr->ca_len, cr->serial,
	    cr->key_id, why) != CRED_NOT_REVOKED)
		return false;
	if (cr->is_cert && cr->ca_from_file &&
	    !ca_set_contains(cfg->trusted_cas, cr->ca_blob, cr->ca_len)) {
		*why = "certificate CA no longer trusted";
		return false;
	}
	return true;
}

void
credential_valid_before(const struct credential *cr, char *buf, size_t len)
{
	if (cr->valid_before == CRED_FOREVER)
		snprintf(buf, len, "forever");
	else
		audit_format_ts(cr->valid_before > UINT64_MAX / 1000 ?
		    UINT64_MAX : cr->valid_before * 1000, buf, len);
}

bool
credential_permits_open(const struct credential *cr, const char *host,
    uint16_t port)
{
	return cr == NULL || !cr->has_opts ||
	    keyopts_permits_open(&cr->opts, host, port);
}

bool
credential_permits_listen(const struct credential *cr, const char *host,
    uint16_t port)
{
	return cr == NULL || !cr->has_opts ||
	    keyopts_permits_listen(&cr->opts, host, port);
}
