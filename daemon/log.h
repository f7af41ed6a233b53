/*
 * log: one small API for every message hopd prints, to stderr and/or syslog;
 * libssh's own log is routed in.  Thread-safe.
 */
#ifndef HOPD_LOG_H
#define HOPD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

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
 * Copies in to out (len bytes, terminated), printable ASCII only: anything
 * else becomes '?'.  For strings a peer chose, before they are echoed.
 */
void	log_printable(const char *in, char *out, size_t len);

/* Install libssh's logging callback into this thread (it is per thread). */
void	log_route_libssh(void);

#endif
