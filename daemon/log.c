/*
 * log: hopd's messages to stderr and/or syslog, one line each, with a level
 * filter; libssh's log callback feeds into the same place.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "log.h"

#define LOG_LINE_MAX	2048

static int		 log_level = LOG_LEVEL_INFO;
static bool		 log_to_stderr = true;
static bool		 log_to_syslog;
static pthread_mutex_t	 log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const log_level_names[] = {
	"quiet", "error", "info", "verbose", "debug"
};

void
log_init(int level, bool to_stderr, bool to_syslog)
{
	log_level = level;
	log_to_stderr = to_stderr;
	if (to_syslog && !log_to_syslog)
		openlog("hopd", LOG_PID | LOG_NDELAY, LOG_AUTH);
	log_to_syslog = to_syslog;
}

void
log_set_level(int level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

int
log_get_level(void)
{
	return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

int
log_level_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]);
	    i++)
		if (strcasecmp(s, log_level_names[i]) == 0)
			return (int)i;
	return -1;
}

/* Replaces every byte that could break a log line with '?'. */
static void
log_sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void
log_vemit(int level, const char *errstr, const char *fmt, va_list ap)
{
	static const int prio[] = {
		LOG_CRIT, LOG_ERR, LOG_INFO, LOG_INFO, LOG_DEBUG
	};
	char		 line[LOG_LINE_MAX];
	size_t		 n;
	struct timespec	 ts;
	struct tm	 tm;

	if (level > log_get_level())
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (errstr != NULL) {
		n = strlen(line);
		snprintf(line + n, sizeof(line) - n, ": %s", errstr);
	}
	log_sanitize(line);
	pthread_mutex_lock(&log_lock);
	if (log_to_stderr) {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld hopd: %s\n", tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, line);
	}
	if (log_to_syslog)
		syslog(prio[level], "%s", line);
	pthread_mutex_unlock(&log_lock);
}

#define LOG_FUNC(name, level, with_errno)				\
void									\
name(const char *fmt, ...)						\
{									\
	int	saved = errno;						\
	va_list	ap;							\
									\
	va_start(ap, fmt);						\
	log_vemit(level, with_errno ? strerror(saved) : NULL, fmt, ap);	\
	va_end(ap);							\
	errno = saved;							\
}

LOG_FUNC(log_warn, LOG_LEVEL_ERROR, 1)
LOG_FUNC(log_warnx, LOG_LEVEL_ERROR, 0)
LOG_FUNC(log_info, LOG_LEVEL_INFO, 0)
LOG_FUNC(log_verbose, LOG_LEVEL_VERBOSE, 0)
LOG_FUNC(log_debug, LOG_LEVEL_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	int	saved = errno;
	va_list	ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_ERROR, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

/*
 * libssh's messages: its warnings are ours at verbose (they are about one
 * peer, not about hopd), the rest at debug.  A few are noise by design:
 * the reply to our own keepalive, which OpenSSH answers with FAILURE.
 */
static void
log_on_libssh(int priority, const char *function, const char *buffer,
    void *userdata)
{
	if (strstr(buffer, "keepalive@openssh.com failed") != NULL)
		return;
	if (priority <= SSH_LOG_WARNING)
		log_verbose("libssh: %s", buffer);
	else
		log_debug("libssh: %s: %s", function, buffer);
}

void
log_route_libssh(void)
{
	ssh_set_log_callback(log_on_libssh);
	ssh_set_log_level(log_get_level() >= LOG_LEVEL_DEBUG ?
	    SSH_LOG_PROTOCOL : SSH_LOG_WARNING);
}

void
log_printable(const char *in, char *out, size_t len)
{
	size_t	i;

	if (len == 0)
		return;
	for (i = 0; in[i] != '\0' && i + 1 < len; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[i] = '\0';
}
