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

size_t
log_utf8_decode(const char *s, uint32_t *cp)
{
	const unsigned char	*u = (const unsigned char *)s;
	unsigned char		 lo = 0x80, hi = 0xbf;
	uint32_t		 c;
	size_t			 n, i;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		n = 2;
		c = u[0] & 0x1f;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		n = 3;
		c = u[0] & 0x0f;
		if (u[0] == 0xe0)
			lo = 0xa0;	/* overlong below U+0800 */
		else if (u[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		n = 4;
		c = u[0] & 0x07;
		if (u[0] == 0xf0)
			lo = 0x90;	/* overlong below U+10000 */
		else if (u[0] == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else
		return 0;
	/* A NUL fails every test below: nothing past it is read. */
	if (u[1] < lo || u[1] > hi)
		return 0;
	for (i = 1; i < n; i++) {
		if (u[i] < 0x80 || u[i] > 0xbf)
			return 0;
		c = c << 6 | (u[i] & 0x3f);
	}
	*cp = c;
	return n;
}

bool
log_hidden_cp(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	    cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * in escaped as log.h says into out (len bytes, terminated), whole
 * characters and escapes only.
 */
static void
log_escape(const char *in, char *out, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*u = (const unsigned char *)in;
	size_t			 i = 0, o = 0, k, j;
	uint32_t		 cp;
	bool			 show;

	if (len == 0)
		return;
	while (u[i] != '\0') {
		k = log_utf8_decode(in + i, &cp);
		show = k > 1 ? !log_hidden_cp(cp) :
		    k == 1 && u[i] >= 0x20 && u[i] != 0x7f;
		if (k == 0)
			k = 1;
		if ((show ? k : 4 * k) >= len - o)
			break;
		for (j = 0; j < k; j++, i++) {
			if (show) {
				out[o++] = (char)u[i];
				continue;
			}
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[u[i] >> 4];
			out[o++] = hex[u[i] & 0xf];
		}
	}
	out[o] = '\0';
}

static void
log_vemit(int level, const char *errstr, const char *fmt, va_list ap)
{
	static const int prio[] = {
		LOG_CRIT, LOG_ERR, LOG_INFO, LOG_INFO, LOG_DEBUG
	};
	char		 raw[LOG_LINE_MAX], line[LOG_LINE_MAX];
	size_t		 n;
	struct timespec	 ts;
	struct tm	 tm;

	if (level > log_get_level())
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	if (errstr != NULL) {
		n = strlen(raw);
		snprintf(raw + n, sizeof(raw) - n, ": %s", errstr);
	}
	/* Whatever a peer put in the arguments, the line stays one line. */
	log_escape(raw, line, sizeof(line));
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
	log_escape(in, out, len);
}
