/*
 * log: one small API for every message hopd prints, to stderr and/or syslog;
 * libssh's own log is routed in.  Thread-safe.
 */
#ifndef HOPD_LOG_H
#define HOPD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_QUIET = 0,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_INFO,
	LOG_LEVEL_VERBOSE,
	LOG_LEVEL_DEBUG
};

void	log_init(int level, bool to_stderr, bool to_syslog);
void	log_set_level(int level);
int	log_get_level(void);
/* "quiet", "error", "info", "verbose", "debug" (case-insensitive), or -1. */
int	log_level_parse(const char *s);

void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Startup only: print and exit(1). */
void	fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Every log line, and log_printable(), shows printable ASCII and valid
 * UTF-8 as they are, and writes each byte of anything that could break the
 * line or change how a terminal or log viewer shows it as \xNN (two
 * lowercase hex digits): C0 controls and DEL, every byte of invalid UTF-8
 * (truncated, overlong, surrogates, past U+10FFFF), and the UTF-8 bytes of
 * the code points log_hidden_cp() names, e.g. U+202E as \xe2\x80\xae.  A
 * backslash stays a backslash: the escape keeps a line one honest line, it
 * is not meant to be reversed.
 */

/*
 * Copies in to out (len bytes, terminated), escaped as above, cut before
 * a character or escape that would not fit whole.  For strings a peer
 * chose, before they are echoed or logged.
 */
void	log_printable(const char *in, char *out, size_t len);

/*
 * Length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF) at the NUL-terminated s, with its code
 * point in *cp; 0 if s does not start one.  ASCII (NUL too) is length 1.
 */
size_t	log_utf8_decode(const char *s, uint32_t *cp);

/*
 * Code points that are valid text but move, hide or split what a reader
 * sees: C1 controls U+0080-U+009F (U+009B is a CSI), the line and
 * paragraph separators U+2028 and U+2029, and the bidirectional controls
 * U+061C, U+200E, U+200F, U+202A-U+202E and U+2066-U+2069.
 */
bool	log_hidden_cp(uint32_t cp);

/* Install libssh's logging callback into this thread (it is per thread). */
void	log_route_libssh(void);

#endif
