/*
 * audit: the JSON-lines audit trail (shared/DESIGN.md "The audit log").  A
 * record is built with the pure audit_rec_* functions, which also build the
 * same event as one short human line for the log and as the fields of a
 * journal entry; audit_emit() writes it, or queues it for the thread's next
 * audit_flush(), and hands it to the journal when that is on.
 */
#ifndef HOPD_AUDIT_H
#define HOPD_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_REC_MAX		4096	/* one JSON line, newline included */
#define AUDIT_HUMAN_MAX		1024
#define AUDIT_VALUE_MAX		512	/* longer strings are cut, marked "..." */
#define AUDIT_FIELDS_MAX	4096	/* the journal fields, NULs included */

struct audit_rec {
	char	json[AUDIT_REC_MAX];
	size_t	jlen;
	char	human[AUDIT_HUMAN_MAX];
	size_t	hlen;
	bool	full;		/* a field did not fit and was dropped */
	/*
	 * The journal fields, "HOPD_KEY=value" each ended by a NUL (values
	 * are C strings: no NUL inside, any other byte as it is).
	 */
	char	fields[AUDIT_FIELDS_MAX];
	size_t	flen;
	bool	fields_full;	/* one did not fit and was dropped */
	bool	notice;		/* a denial or failure: journal priority 5 */
};

/*
 * Pure formatting.  begin writes {"ts":...,"event":...,"session":...;
 * every value is escaped, so no input can forge a record or a log line, or
 * change how a terminal shows one.  JSON: quotes, backslash, controls and
 * DEL as \uXXXX, each byte of invalid UTF-8 as \u00XX of the byte, the
 * code points log_hidden_cp() names (C1 controls, U+2028, U+2029, bidi
 * controls) as \uXXXX of the code point; other valid UTF-8 as it is.
 * Human line: C-style escapes, and every other byte that is not printable
 * ASCII as \xNN (valid UTF-8 included: the line is ASCII).  A NULL string
 * is written as JSON null.
 *
 * Journal fields, in the order given: HOPD_TS, HOPD_EVENT, HOPD_SESSION,
 * then one HOPD_<KEY> per field, the key uppercased (a byte outside
 * [A-Za-z0-9_] as _), the value's bytes unescaped (sd_journal_sendv()
 * sends a value with a newline in its binary form), cut as in the JSON
 * record; numbers in decimal; a list as one field per element; a NULL
 * value has no field.  A record is a notice (a denial or failure) when its
 * decision is deny, its result is not ok, open or success, or it is a
 * proxy_refused.
 */
void	audit_rec_begin(struct audit_rec *r, uint64_t unix_ms,
	    const char *event, const char *session);
void	audit_rec_str(struct audit_rec *r, const char *key, const char *val);
void	audit_rec_u64(struct audit_rec *r, const char *key, uint64_t val);
void	audit_rec_strv(struct audit_rec *r, const char *key,
	    const char *const *vals, size_t n);
void	audit_rec_end(struct audit_rec *r);
/* RFC 3339 UTC with milliseconds: 2026-11-23T20:01:56.123Z */
void	audit_format_ts(uint64_t unix_ms, char *buf, size_t len);

/*
 * Writing, thread-safe, to an O_APPEND file.  A thread that said
 * audit_thread_buffered(true) queues its records (at most
 * AUDIT_QUEUE_BYTES) and writes them with one write(2) in audit_flush(),
 * which its event loop calls once per iteration, and when the queue is full
 * or the thread ends; every other thread writes each record at once.  The
 * records of one thread stay in order; none is lost to a reopen or a
 * switch of file (queued ones go to the file current at the flush).
 */
#define AUDIT_QUEUE_BYTES	(64 * 1024)

/* Switches to path (NULL, "none": records off); -1: the old file stays. */
int	audit_open(const char *path);
/*
 * Also sends every record to the journal (on), or stops that.  The entries
 * go through a bounded queue to one thread that calls sd_journal_sendv(),
 * so that a journald that does not read stalls that thread only: when the
 * queue is full, records are lost for the journal (still written to the
 * file) and that is logged.  -1 (logged): the thread cannot start, the
 * journal stays off.
 */
#define AUDIT_JOURNAL_QUEUE_MAX	512	/* entries waiting for journald */
#define AUDIT_JOURNAL_SOCKET	"/run/systemd/journal/socket"
int	audit_journal(bool on);
int	audit_reopen(void);		/* SIGUSR1, logrotate */
void	audit_close(void);
/* Queues (or writes) the record, and writes its human line to the log. */
void	audit_emit(struct audit_rec *r);
/* Writes what this thread queued; nothing when it queued nothing. */
void	audit_flush(void);
/* Queue this thread's records (true); false flushes and stops that. */
void	audit_thread_buffered(bool on);
uint64_t audit_now_ms(void);

#endif
