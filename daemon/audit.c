/*
 * audit: builds each audit event three times, as one JSON object per line
 * for the audit file, as one short human line for the log, escaping every
 * value so that no client-supplied string can forge a record, and as the
 * fields of a journal entry; then writes it, at once or from the emitting
 * thread's queue, without a lock per record, and hands it to the journal
 * thread when the journal is on.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "audit.h"
#include "log.h"

#define AUDIT_FILE_MODE		0640
#define AUDIT_HUMAN_VALUE_MAX	128	/* input bytes per human value */
#define AUDIT_TS_MAX		32
#define AUDIT_CUT_MARK		"..."
#define AUDIT_HUMAN_CUT_MARK	" ..."
#define AUDIT_FIELD_PREFIX	"HOPD_"
#define AUDIT_JOURNAL_STOP_MS	1000	/* at exit, to drain the queue */
#define AUDIT_PRIORITY_INFO	"PRIORITY=6"
#define AUDIT_PRIORITY_NOTICE	"PRIORITY=5"

/* Room kept at the end of each buffer for what audit_rec_end appends. */
#define AUDIT_JSON_TAIL		3	/* "}\n" and NUL */
#define AUDIT_HUMAN_TAIL	(sizeof(AUDIT_HUMAN_CUT_MARK))

/* An output buffer that refuses, rather than cuts, what does not fit. */
struct abuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 err;
};

/*
 * An open audit file.  audit.cur holds one reference to the current one; a
 * thread that queues records holds one to the file it last wrote to, until
 * it sees audit.gen change.  The last reference closes the file.
 */
struct audit_file {
	int		 fd;
	bool		 regular;	/* each write(2) lands whole */
	char		*path;
	unsigned	 refs;		/* atomic; taken under audit.lock */
	int		 failing;	/* atomic: last write failed, logged */
};

/*
 * The lock guards cur and orders the changes of gen.  It is taken to change
 * files, to follow a change (once per queueing thread per change), and for
 * the records of threads that do not queue theirs: never per record queued.
 */
static struct {
	pthread_mutex_t		 lock;
	struct audit_file	*cur;	/* NULL: records off */
	unsigned long		 gen;	/* atomic: bumped as cur changes */
} audit = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The queue of a thread that called audit_thread_buffered(true). */
struct audit_thread {
	char			*buf;	/* AUDIT_QUEUE_BYTES, at first record */
	size_t			 len;
	struct audit_file	*file;	/* a reference, or NULL */
	unsigned long		 gen;	/* audit.gen when file was taken */
};

static __thread struct audit_thread	*audit_self;
static pthread_key_t			 audit_key;	/* flushes at exit */
static pthread_once_t			 audit_key_once = PTHREAD_ONCE_INIT;
static bool				 audit_key_ok;

_Static_assert(AUDIT_REC_MAX <= PIPE_BUF && AUDIT_REC_MAX <= AUDIT_QUEUE_BYTES,
    "a record fits in one atomic write and in an empty queue");

static void
abuf_put(struct abuf *b, const char *s, size_t n)
{
	if (b->err || b->len > b->cap || n > b->cap - b->len) {
		b->err = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
abuf_puts(struct abuf *b, const char *s)
{
	abuf_put(b, s, strlen(s));
}

static void
abuf_putc(struct abuf *b, char c)
{
	abuf_put(b, &c, 1);
}

static void
abuf_hex(struct abuf *b, const char *prefix, unsigned char c)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 x[2];

	abuf_puts(b, prefix);
	x[0] = hex[c >> 4];
	x[1] = hex[c & 0xf];
	abuf_put(b, x, 2);
}

/* One unit: a well-formed UTF-8 sequence or one byte that is not. */
static size_t
unit_len(const unsigned char *s)
{
	uint32_t	cp;
	size_t		n = log_utf8_decode((const char *)s, &cp);

	return n == 0 ? 1 : n;
}

/*
 * How many bytes of s to show when at most max may be: all of it, or
 * whole units up to max - strlen("...") (then *cut is set).
 */
static size_t
value_span(const char *s, size_t max, int *cut)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 len = strlen(s), n = 0, k;

	*cut = 0;
	if (len <= max)
		return len;
	*cut = 1;
	max -= sizeof(AUDIT_CUT_MARK) - 1;
	while ((k = unit_len(u + n)) <= max - n)
		n += k;
	return n;
}

/*
 * One byte of a JSON or human value: the usual C/JSON short escapes, the
 * byte itself when it is printable ASCII, else prefix and two hex digits
 * (\u00XX in JSON, \xNN in the log).
 */
static void
escape_byte(struct abuf *b, unsigned char c, const char *hex_prefix)
{
	switch (c) {
	case '"':
		abuf_puts(b, "\\\"");
		break;
	case '\\':
		abuf_puts(b, "\\\\");
		break;
	case '\n':
		abuf_puts(b, "\\n");
		break;
	case '\r':
		abuf_puts(b, "\\r");
		break;
	case '\t':
		abuf_puts(b, "\\t");
		break;
	default:
		if (c < 0x20 || c >= 0x7f)
			abuf_hex(b, hex_prefix, c);
		else
			abuf_putc(b, (char)c);
	}
}

/*
 * A code point as \uXXXX (lowercase, as the \u00XX of bytes); those
 * log_hidden_cp() names are all in the BMP.
 */
static void
json_escape_cp(struct abuf *b, uint32_t cp)
{
	abuf_hex(b, "\\u", (unsigned char)(cp >> 8));
	abuf_hex(b, "", (unsigned char)(cp & 0xff));
}

/*
 * A JSON string: s escaped, cut at AUDIT_VALUE_MAX; NULL is null.  Valid
 * UTF-8 stays as it is, but for the code points that hide or reorder text
 * (log_hidden_cp()): a reader that prints a decoded value still gets them
 * back, one that prints the line does not.
 */
static void
json_string(struct abuf *b, const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, n, k;
	uint32_t		 cp;
	int			 cut;

	if (s == NULL) {
		abuf_puts(b, "null");
		return;
	}
	n = value_span(s, AUDIT_VALUE_MAX, &cut);
	abuf_putc(b, '"');
	for (i = 0; i < n; i += k) {
		k = log_utf8_decode(s + i, &cp);
		if (k > 1 && log_hidden_cp(cp)) {
			json_escape_cp(b, cp);
			continue;
		}
		if (k > 1) {
			abuf_put(b, s + i, k);
			continue;
		}
		k = 1;
		/* Controls, DEL, and every byte of invalid UTF-8 as \u00XX. */
		escape_byte(b, u[i], "\\u00");
	}
	if (cut)
		abuf_puts(b, AUDIT_CUT_MARK);
	abuf_putc(b, '"');
}

/* A byte that a human value may show as itself without quotes. */
static int
human_bare_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=' &&
	    c != ',';
}

/*
 * A human value: bare when it is made only of harmless printable ASCII,
 * else double-quoted with C escapes and every other byte as \xNN (non-ASCII
 * included, so no terminal or syslog reader sees anything but ASCII).
 */
static void
human_string(struct abuf *b, const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, n;
	int			 cut, quote = 0;

	n = value_span(s, AUDIT_HUMAN_VALUE_MAX, &cut);
	for (i = 0; i < n; i++)
		if (!human_bare_ok(u[i]))
			quote = 1;
	if (n == 0)
		quote = 1;
	if (quote)
		abuf_putc(b, '"');
	for (i = 0; i < n; i++)
		escape_byte(b, u[i], "\\x");
	if (cut)
		abuf_puts(b, AUDIT_CUT_MARK);
	if (quote)
		abuf_putc(b, '"');
}

static void
rec_json_buf(struct audit_rec *r, struct abuf *b)
{
	b->p = r->json;
	b->len = r->jlen;
	b->cap = sizeof(r->json) - AUDIT_JSON_TAIL;
	b->err = 0;
}

static void
rec_human_buf(struct audit_rec *r, struct abuf *b)
{
	b->p = r->human;
	b->len = r->hlen;
	b->cap = sizeof(r->human) - AUDIT_HUMAN_TAIL;
	b->err = 0;
}

/*
 * Keeps what was appended to b, or drops all of it when it did not fit.
 * Returns 0 when kept.
 */
static int
rec_commit(struct abuf *b, size_t *len)
{
	if (b->err)
		return -1;
	*len = b->len;
	return 0;
}

/* Starts a JSON field: the comma (unless first), the key, the colon. */
static void
json_key(struct abuf *b, const char *key)
{
	if (b->len > 1)
		abuf_putc(b, ',');
	json_string(b, key);
	abuf_putc(b, ':');
}

static void
human_key(struct abuf *b, const char *key)
{
	if (b->len > 0)
		abuf_putc(b, ' ');
	abuf_puts(b, key);
	abuf_putc(b, '=');
}

/*
 * A human field that does not fit is dropped for a " ..." marker (once in
 * a row); r->full is only about the JSON record, the one of record.
 */
static void
human_commit(struct audit_rec *r, struct abuf *b)
{
	const size_t	mlen = sizeof(AUDIT_HUMAN_CUT_MARK) - 1;

	if (rec_commit(b, &r->hlen) == 0)
		return;
	if (r->hlen >= mlen && memcmp(r->human + r->hlen - mlen,
	    AUDIT_HUMAN_CUT_MARK, mlen) == 0)
		return;
	if (r->hlen + mlen < sizeof(r->human)) {
		memcpy(r->human + r->hlen, AUDIT_HUMAN_CUT_MARK, mlen);
		r->hlen += mlen;
	}
}

static void
json_commit(struct audit_rec *r, struct abuf *b)
{
	if (rec_commit(b, &r->jlen) == -1)
		r->full = true;
}

static void
rec_fields_buf(struct audit_rec *r, struct abuf *b)
{
	b->p = r->fields;
	b->len = r->flen;
	b->cap = sizeof(r->fields);
	b->err = 0;
}

/*
 * One journal field, "HOPD_KEY=value" and its NUL: journald takes only
 * [A-Z0-9_] in a name, so the key is uppercased and any other byte becomes
 * _.  The value is not escaped (a journal value may hold any byte but NUL,
 * and a C string has none); it is cut as the JSON one is.  A field that
 * does not fit is dropped whole.
 */
static void
field_add(struct audit_rec *r, const char *key, const char *val)
{
	struct abuf	b;
	size_t		n;
	int		cut;
	char		c;

	rec_fields_buf(r, &b);
	abuf_puts(&b, AUDIT_FIELD_PREFIX);
	for (; *key != '\0'; key++) {
		c = (char)toupper((unsigned char)*key);
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			c = '_';
		abuf_putc(&b, c);
	}
	abuf_putc(&b, '=');
	n = value_span(val, AUDIT_VALUE_MAX, &cut);
	abuf_put(&b, val, n);
	if (cut)
		abuf_puts(&b, AUDIT_CUT_MARK);
	abuf_putc(&b, '\0');
	if (rec_commit(&b, &r->flen) == -1)
		r->fields_full = true;
}

/* A denial or a failure: the journal entry gets a higher priority. */
static bool
field_is_notice(const char *key, const char *val)
{
	if (strcmp(key, "decision") == 0)
		return strcmp(val, "deny") == 0;
	if (strcmp(key, "result") == 0)
		return strcmp(val, "ok") != 0 && strcmp(val, "open") != 0 &&
		    strcmp(val, "success") != 0;
	if (strcmp(key, "event") == 0)
		return strcmp(val, "proxy_refused") == 0;
	return false;
}

void
audit_format_ts(uint64_t unix_ms, char *buf, size_t len)
{
	time_t		t = (time_t)(unix_ms / 1000);
	struct tm	tm;

	if (len == 0)
		return;
	buf[0] = '\0';
	if ((uint64_t)t != unix_ms / 1000 || gmtime_r(&t, &tm) == NULL)
		return;
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (unsigned)(unix_ms % 1000));
}

void
audit_rec_begin(struct audit_rec *r, uint64_t unix_ms, const char *event,
    const char *session)
{
	char		ts[AUDIT_TS_MAX];
	struct abuf	b;

	r->jlen = 0;
	r->hlen = 0;
	r->flen = 0;
	r->full = false;
	r->fields_full = false;
	r->notice = false;
	r->json[0] = '\0';
	r->human[0] = '\0';

	audit_format_ts(unix_ms, ts, sizeof(ts));
	rec_json_buf(r, &b);
	abuf_putc(&b, '{');
	json_key(&b, "ts");
	json_string(&b, ts);
	json_commit(r, &b);
	field_add(r, "ts", ts);
	audit_rec_str(r, "event", event);
	audit_rec_str(r, "session", session);

	/* The human line: "session=ID EVENT", the event without a key. */
	rec_human_buf(r, &b);
	if (session != NULL) {
		human_key(&b, "session");
		human_string(&b, session);
		human_commit(r, &b);
		rec_human_buf(r, &b);
	}
	if (b.len > 0)
		abuf_putc(&b, ' ');
	human_string(&b, event != NULL ? event : "-");
	human_commit(r, &b);
}

/* The same field in both forms; event and session are not repeated. */
void
audit_rec_str(struct audit_rec *r, const char *key, const char *val)
{
	struct abuf	b;

	rec_json_buf(r, &b);
	json_key(&b, key);
	json_string(&b, val);
	json_commit(r, &b);

	if (val == NULL)
		return;
	field_add(r, key, val);
	if (field_is_notice(key, val))
		r->notice = true;
	if (strcmp(key, "event") == 0 ||
	    strcmp(key, "session") == 0)
		return;
	rec_human_buf(r, &b);
	human_key(&b, key);
	human_string(&b, val);
	human_commit(r, &b);
}

void
audit_rec_u64(struct audit_rec *r, const char *key, uint64_t val)
{
	char		num[24];
	struct abuf	b;

	snprintf(num, sizeof(num), "%llu", (unsigned long long)val);
	rec_json_buf(r, &b);
	json_key(&b, key);
	abuf_puts(&b, num);
	json_commit(r, &b);
	field_add(r, key, num);

	rec_human_buf(r, &b);
	human_key(&b, key);
	abuf_puts(&b, num);
	human_commit(r, &b);
}

/* A JSON array of strings; "key=a,b,c" in the human line. */
void
audit_rec_strv(struct audit_rec *r, const char *key,
    const char *const *vals, size_t n)
{
	struct abuf	b;
	size_t		i;

	rec_json_buf(r, &b);
	json_key(&b, key);
	abuf_putc(&b, '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			abuf_putc(&b, ',');
		json_string(&b, vals[i]);
	}
	abuf_putc(&b, ']');
	json_commit(r, &b);
	for (i = 0; i < n; i++)
		if (vals[i] != NULL)
			field_add(r, key, vals[i]);

	if (n == 0)
		return;
	rec_human_buf(r, &b);
	human_key(&b, key);
	for (i = 0; i < n; i++) {
		if (i > 0)
			abuf_putc(&b, ',');
		human_string(&b, vals[i] != NULL ? vals[i] : "-");
	}
	human_commit(r, &b);
}

/*
 * Closes the object and terminates both strings (every field left room for
 * that).  Calling it twice is harmless.
 */
void
audit_rec_end(struct audit_rec *r)
{
	if (r->jlen > 0 && r->json[r->jlen - 1] == '\n')
		return;
	if (r->jlen == 0)
		r->json[r->jlen++] = '{';
	memcpy(r->json + r->jlen, "}\n", 2);
	r->jlen += 2;
	r->json[r->jlen] = '\0';
	r->human[r->hlen] = '\0';
}

/*
 * The journal.  Emitting threads append a copy of each record's fields to
 * a bounded queue; one thread takes them off and calls sd_journal_sendv().
 * libsystemd's socket is a blocking datagram socket shared by the process:
 * when journald does not read, sendmsg(2) waits (its receive queue holds
 * net.unix.max_dgram_qlen datagrams), which must stall this thread only,
 * never a worker's loop.  A worker holds the lock only to link an entry.
 */
struct audit_jentry {
	struct audit_jentry	*next;
	bool			 notice;
	bool			 cut;		/* fields were dropped */
	size_t			 len;
	char			 data[];	/* the fields, then MESSAGE= */
};

static struct {
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;		/* an entry, or stop */
	pthread_cond_t		 done;		/* the thread has ended */
	pthread_t		 thread;
	bool			 started;
	bool			 stopping;
	bool			 ended;
	bool			 on;		/* atomic */
	struct audit_jentry	*head;
	struct audit_jentry	**tail;
	unsigned		 n;
	unsigned long		 lost;		/* queue full, since logged */
	int			 failing;	/* journal thread only */
} journal = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
	.tail = &journal.head,
};

/*
 * One entry as the journal gets it.  libsystemd returns 0 when the socket
 * does not exist (journald not running): it is looked for first, so that
 * the loss is logged.  The first failure is logged, and the first success
 * after one.
 */
static void
audit_journal_send(const struct audit_jentry *e)
{
	struct iovec	 iov[AUDIT_FIELDS_MAX / 8 + 8];
	const char	*p = e->data, *end = e->data + e->len, *why = NULL;
	char		 errbuf[128];
	int		 n = 0, r;

	while (p < end && n < (int)(sizeof(iov) / sizeof(iov[0])) - 3) {
		iov[n].iov_base = (void *)p;
		iov[n].iov_len = strlen(p);
		p += iov[n++].iov_len + 1;
	}
	iov[n].iov_base = (void *)(e->notice ? AUDIT_PRIORITY_NOTICE :
	    AUDIT_PRIORITY_INFO);
	iov[n].iov_len = strlen(iov[n].iov_base);
	n++;
	iov[n].iov_base = (void *)"SYSLOG_IDENTIFIER=hopd";
	iov[n].iov_len = strlen(iov[n].iov_base);
	n++;
	if (e->cut) {
		iov[n].iov_base = (void *)"HOPD_TRUNCATED=yes";
		iov[n].iov_len = strlen(iov[n].iov_base);
		n++;
	}
	if (access(AUDIT_JOURNAL_SOCKET, F_OK) == -1)
		why = "no socket " AUDIT_JOURNAL_SOCKET;
	else if ((r = sd_journal_sendv(iov, n)) < 0) {
		snprintf(errbuf, sizeof(errbuf), "sd_journal_sendv: %s",
		    strerror(-r));
		why = errbuf;
	}
	if (why != NULL && !journal.failing)
		log_warnx("audit: cannot send to the journal (%s): journal "
		    "records are lost until it works again", why);
	else if (why == NULL && journal.failing)
		log_warnx("audit: sending to the journal again");
	journal.failing = why != NULL;
}

static void *
audit_journal_main(void *arg)
{
	struct audit_jentry	*e;
	unsigned long		 lost;

	pthread_mutex_lock(&journal.lock);
	for (;;) {
		while (journal.head == NULL && !journal.stopping)
			pthread_cond_wait(&journal.cond, &journal.lock);
		if ((e = journal.head) == NULL)
			break;
		if ((journal.head = e->next) == NULL)
			journal.tail = &journal.head;
		journal.n--;
		lost = journal.lost;
		journal.lost = 0;
		pthread_mutex_unlock(&journal.lock);
		if (lost > 0)
			log_warnx("audit: %lu journal records lost: the queue "
			    "for journald was full", lost);
		audit_journal_send(e);
		free(e);
		pthread_mutex_lock(&journal.lock);
	}
	journal.ended = true;
	pthread_cond_broadcast(&journal.done);
	pthread_mutex_unlock(&journal.lock);
	return NULL;
}

/* The thread starts with the first "on" and lives until audit_close(). */
int
audit_journal(bool on)
{
	int	error = 0;

	pthread_mutex_lock(&journal.lock);
	if (on && !journal.started) {
		journal.stopping = false;
		journal.ended = false;
		if ((error = pthread_create(&journal.thread, NULL,
		    audit_journal_main, NULL)) == 0)
			journal.started = true;
	}
	pthread_mutex_unlock(&journal.lock);
	if (error != 0) {
		log_warnx("audit: cannot start the journal thread: %s",
		    strerror(error));
		return -1;
	}
	__atomic_store_n(&journal.on, on, __ATOMIC_RELAXED);
	return 0;
}

/*
 * Gives the thread AUDIT_JOURNAL_STOP_MS to send what is queued and end;
 * one stuck in a send to a journald that does not read is left behind
 * (the process is about to exit).
 */
static void
audit_journal_stop(void)
{
	struct timespec	 deadline;
	unsigned	 left;
	int		 error = 0;

	__atomic_store_n(&journal.on, false, __ATOMIC_RELAXED);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += AUDIT_JOURNAL_STOP_MS / 1000;
	pthread_mutex_lock(&journal.lock);
	if (!journal.started) {
		pthread_mutex_unlock(&journal.lock);
		return;
	}
	journal.stopping = true;
	pthread_cond_signal(&journal.cond);
	while (!journal.ended && error == 0)
		error = pthread_cond_timedwait(&journal.done, &journal.lock,
		    &deadline);
	if (journal.ended) {
		journal.started = false;
		pthread_mutex_unlock(&journal.lock);
		pthread_join(journal.thread, NULL);
		return;
	}
	left = journal.n;
	pthread_mutex_unlock(&journal.lock);
	pthread_detach(journal.thread);
	log_warnx("audit: the journal thread is stuck sending (%u records "
	    "not sent)", left);
}

/* Queues r for the journal thread, or counts it lost when it cannot. */
static void
audit_journal_put(const struct audit_rec *r)
{
	static const char	 msg[] = "MESSAGE=";
	struct audit_jentry	*e;
	size_t			 len;
	bool			 first_lost = false;

	len = r->flen + sizeof(msg) - 1 + r->hlen + 1;
	if ((e = malloc(sizeof(*e) + len)) != NULL) {
		e->next = NULL;
		e->notice = r->notice;
		e->cut = r->fields_full;
		e->len = len;
		memcpy(e->data, r->fields, r->flen);
		memcpy(e->data + r->flen, msg, sizeof(msg) - 1);
		memcpy(e->data + r->flen + sizeof(msg) - 1, r->human, r->hlen);
		e->data[len - 1] = '\0';
	}
	pthread_mutex_lock(&journal.lock);
	if (e != NULL && journal.started && !journal.stopping &&
	    journal.n < AUDIT_JOURNAL_QUEUE_MAX) {
		*journal.tail = e;
		journal.tail = &e->next;
		journal.n++;
		pthread_cond_signal(&journal.cond);
		e = NULL;
	} else
		first_lost = journal.lost++ == 0;
	pthread_mutex_unlock(&journal.lock);
	if (e != NULL)
		free(e);
	if (first_lost)
		log_warnx("audit: the queue for journald is full (journald "
		    "does not read?): journal records are lost");
}

uint64_t
audit_now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Opens path for appending, with one reference; NULL (logged) if not. */
static struct audit_file *
audit_file_open(const char *path)
{
	struct audit_file	*f;
	struct stat		 st;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		goto fail;
	if ((f->path = strdup(path)) == NULL)
		goto fail;
	f->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY, AUDIT_FILE_MODE);
	if (f->fd == -1)
		goto fail;
	f->regular = fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode);
	f->refs = 1;
	return f;
fail:
	log_warn("audit: %s", path);
	if (f != NULL)
		free(f->path);
	free(f);
	return NULL;
}

static void
audit_file_release(struct audit_file *f)
{
	if (f == NULL || __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	close(f->fd);
	free(f->path);
	free(f);
}

/*
 * A reference to the current file (NULL: records off) and, if gen is not
 * NULL, the generation it belongs to.  cur's own reference is dropped only
 * once cur changed, under the lock: what the lock lets us see is alive.
 */
static struct audit_file *
audit_file_current(unsigned long *gen)
{
	struct audit_file	*f;

	pthread_mutex_lock(&audit.lock);
	if ((f = audit.cur) != NULL)
		__atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
	if (gen != NULL)
		*gen = __atomic_load_n(&audit.gen, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&audit.lock);
	return f;
}

/*
 * Makes f (its reference passes to audit.cur) current.  The old file closes
 * when its last user lets go: at once, or at the next audit_flush() of each
 * thread that wrote to it (an idle worker: when its loop next wakes up).
 */
static void
audit_swap(struct audit_file *f)
{
	struct audit_file	*old;

	pthread_mutex_lock(&audit.lock);
	old = audit.cur;
	audit.cur = f;
	__atomic_store_n(&audit.gen, audit.gen + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&audit.lock);
	audit_file_release(old);
}

/*
 * The new file is open before the old one is closed: a failure changes
 * nothing (a reload naming another audit_log relies on it).
 */
int
audit_open(const char *path)
{
	struct audit_file	*f;

	if (path == NULL || strcmp(path, "none") == 0) {
		audit_swap(NULL);
		return 0;
	}
	if ((f = audit_file_open(path)) == NULL)
		return -1;
	audit_swap(f);
	return 0;
}

/* A failure keeps the old file open: records keep going somewhere. */
int
audit_reopen(void)
{
	struct audit_file	*cur, *f;

	if ((cur = audit_file_current(NULL)) == NULL)
		return 0;	/* records off */
	f = audit_file_open(cur->path);
	audit_file_release(cur);
	if (f == NULL) {
		log_warnx("audit: reopen failed, still writing to the old "
		    "file");
		return -1;
	}
	audit_swap(f);
	return 0;
}

void
audit_close(void)
{
	audit_swap(NULL);
	audit_journal_stop();
}

/*
 * Writes p, whole lines, to f; -1 with errno set when some was not written.
 *
 * No lock is needed against the other threads: on Linux, a write(2) to a
 * regular file opened O_APPEND takes the inode's lock, moves to the end of
 * the file and copies the whole buffer before the next writer gets in, so
 * each call lands whole, after every call that returned before it and
 * never interleaved with another.  Such a write is short only when the
 * file can take no more (disk full, quota, RLIMIT_FSIZE) or the process
 * is being killed: the rest is tried once more, and the error that follows
 * ends the batch, which is then lost (the caller logs it once): never a
 * retry loop, never a queue that grows.  Pipes and devices promise whole
 * writes only up to PIPE_BUF bytes: they get whole lines of at most that
 * per call (a record is shorter than AUDIT_REC_MAX <= PIPE_BUF).
 */
static int
audit_file_write(struct audit_file *f, const char *p, size_t len)
{
	const char	*nl;
	size_t		 chunk;
	ssize_t		 n;

	while (len > 0) {
		chunk = len;
		if (!f->regular && chunk > PIPE_BUF) {
			nl = memrchr(p, '\n', PIPE_BUF);
			chunk = nl != NULL ? (size_t)(nl - p) + 1 : PIPE_BUF;
		}
		n = write(f->fd, p, chunk);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes p to f; logs the first failure, and the first success after. */
static void
audit_file_put(struct audit_file *f, const char *p, size_t len)
{
	if (audit_file_write(f, p, len) == -1) {
		if (__atomic_exchange_n(&f->failing, 1, __ATOMIC_RELAXED) == 0)
			log_warn("audit: write to %s", f->path);
	} else if (__atomic_load_n(&f->failing, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&f->failing, 0, __ATOMIC_RELAXED) == 1)
		log_warnx("audit: writing to %s again", f->path);
}

/*
 * Writes t's queue with one write(2), to the file current now.  A thread
 * sees that the file changed with one atomic load; only then does it take
 * the lock, to follow.  Records queued before a reopen or a switch go to
 * the new file (as logrotate expects), or to the old one when records were
 * just turned off: none is lost to it.
 */
static void
audit_thread_flush(struct audit_thread *t)
{
	struct audit_file	*old;

	if (__atomic_load_n(&audit.gen, __ATOMIC_ACQUIRE) != t->gen) {
		old = t->file;
		t->file = audit_file_current(&t->gen);
		if (t->file == NULL && old != NULL && t->len > 0) {
			audit_file_put(old, t->buf, t->len);
			t->len = 0;
		}
		audit_file_release(old);
	}
	if (t->len > 0 && t->file != NULL)
		audit_file_put(t->file, t->buf, t->len);
	t->len = 0;
}

/* Flushes and frees t: audit_thread_buffered(false), or the thread's end. */
static void
audit_thread_end(void *arg)
{
	struct audit_thread	*t = arg;

	audit_thread_flush(t);
	audit_file_release(t->file);
	free(t->buf);
	free(t);
	audit_self = NULL;
}

static void
audit_key_create(void)
{
	audit_key_ok = pthread_key_create(&audit_key, audit_thread_end) == 0;
}

/*
 * The key's destructor flushes a queue left at the thread's exit.  With no
 * memory, the thread's records keep being written at once.
 */
void
audit_thread_buffered(bool on)
{
	struct audit_thread	*t = audit_self;

	if (!on) {
		if (t != NULL) {
			pthread_setspecific(audit_key, NULL);
			audit_thread_end(t);
		}
		return;
	}
	if (t != NULL)
		return;
	pthread_once(&audit_key_once, audit_key_create);
	/* Zeroed, gen and file are what audit.cur was before any open. */
	if (!audit_key_ok || (t = calloc(1, sizeof(*t))) == NULL)
		return;
	if (pthread_setspecific(audit_key, t) != 0) {
		free(t);
		return;
	}
	audit_self = t;
}

/*
 * Also lets go of a file that is no longer current, when the thread has
 * nothing to write: a worker's loop calls it at every iteration.
 */
void
audit_flush(void)
{
	if (audit_self != NULL)
		audit_thread_flush(audit_self);
}

void
audit_emit(struct audit_rec *r)
{
	struct audit_thread	*t = audit_self;
	struct audit_file	*f;

	audit_rec_end(r);
	if (t != NULL && t->buf == NULL)
		t->buf = malloc(AUDIT_QUEUE_BYTES);
	if (t != NULL && t->buf != NULL) {
		if (r->jlen > AUDIT_QUEUE_BYTES - t->len)
			audit_thread_flush(t);
		memcpy(t->buf + t->len, r->json, r->jlen);
		t->len += r->jlen;
	} else if ((f = audit_file_current(NULL)) != NULL) {
		audit_file_put(f, r->json, r->jlen);
		audit_file_release(f);
	}
	if (__atomic_load_n(&journal.on, __ATOMIC_RELAXED))
		audit_journal_put(r);
	log_info("%s", r->human);
}
