/*
 * sockread: libssh's socket reads, 64 KiB at a time instead of 4 KiB.
 *
 * libssh 0.10 reads its socket MAX_BUF_SIZE (4096) bytes at a time, with a
 * poll() before every recv() (socket.c, ssh_socket_pollcallback; the size
 * is fixed, and still is upstream): an upload of 1 GB is 250,000 recv() and
 * as many poll() calls, a third of hopd's CPU.  Nothing public changes
 * that, so hopd defines recv(), poll() and close() itself: an executable's
 * definitions come first for the libraries it loads, libssh included.
 *
 * For a socket hopd has registered (libssh's copy of a session's socket),
 * recv() hands out what an earlier, 64 KiB recv() brought, and only reads
 * ahead between sockread_fill(fd) and sockread_fill(-1), which the session
 * wraps around its ssh_event_dopoll() rounds and drains before it lets go;
 * poll() says POLLIN while bytes are held, so libssh comes back for them.
 * Everything else (other fds, flags, other threads) goes to the kernel
 * unchanged, by system call.  close() forgets the fd first, so a reused
 * number never sees another connection's bytes; registering discards
 * whatever a number had before, whoever closed it.
 *
 * A registered fd is only ever read, registered and closed by the worker
 * thread that owns its session; the table's slots are atomic so that other
 * threads' close() of other fds can look without a lock.  Held bytes live
 * in a buffer allocated on refill and freed once drained: an idle session
 * holds 16 bytes here.
 */
#undef _FORTIFY_SOURCE		/* its inline recv() and poll() are ours */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "sockread.h"

#define SOCKREAD_MAX_FDS	(1 << 20)

struct sockread {
	char		*buf;		/* SOCKREAD_BYTES, NULL when empty */
	uint32_t	 off;
	uint32_t	 len;
};

static _Atomic(struct sockread *)	*sockread_slots;
static int				 sockread_nslots;
static atomic_int			 sockread_count;
static __thread int			 sockread_fill_fd = -1;

int
sockread_init(void)
{
	struct rlimit	rl;
	rlim_t		n = 65536;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		n = rl.rlim_cur;
	if (n > SOCKREAD_MAX_FDS)
		n = SOCKREAD_MAX_FDS;
	if ((sockread_slots = calloc(n, sizeof(*sockread_slots))) == NULL)
		return -1;
	sockread_nslots = (int)n;
	return 0;
}

static struct sockread *
sockread_get(int fd)
{
	if (fd < 0 || fd >= sockread_nslots ||
	    atomic_load_explicit(&sockread_count, memory_order_relaxed) == 0)
		return NULL;
	return atomic_load_explicit(&sockread_slots[fd], memory_order_acquire);
}

static void
sockread_free(struct sockread *r)
{
	int	saved = errno;

	if (r != NULL) {
		atomic_fetch_sub_explicit(&sockread_count, 1,
		    memory_order_relaxed);
		free(r->buf);
		free(r);
	}
	errno = saved;
}

static void
sockread_forget(int fd)
{
	if (fd >= 0 && fd < sockread_nslots &&
	    atomic_load_explicit(&sockread_slots[fd], memory_order_relaxed) !=
	    NULL)
		sockread_free(atomic_exchange_explicit(&sockread_slots[fd],
		    NULL, memory_order_acq_rel));
}

void
sockread_shutdown(void)
{
	int	fd;

	for (fd = 0; fd < sockread_nslots; fd++)
		sockread_forget(fd);
	free(sockread_slots);
	sockread_slots = NULL;
	sockread_nslots = 0;
}

int
sockread_register(int fd)
{
	struct sockread	*r;

	if (fd < 0 || fd >= sockread_nslots ||
	    (r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	atomic_fetch_add_explicit(&sockread_count, 1, memory_order_relaxed);
	sockread_free(atomic_exchange_explicit(&sockread_slots[fd], r,
	    memory_order_acq_rel));
	return 0;
}

void
sockread_fill(int fd)
{
	sockread_fill_fd = fd;
}

unsigned
sockread_held(int fd)
{
	struct sockread	*r = sockread_get(fd);

	return r != NULL ? r->len - r->off : 0;
}

static ssize_t
sockread_sys_recv(int fd, void *buf, size_t len, int flags)
{
	return syscall(SYS_recvfrom, fd, buf, len, flags, NULL, NULL);
}

/* Hands out held bytes; the buffer goes once they are all taken. */
static ssize_t
sockread_take(struct sockread *r, void *buf, size_t len)
{
	size_t	n = r->len - r->off;

	if (n > len)
		n = len;
	memcpy(buf, r->buf + r->off, n);
	r->off += n;
	if (r->off == r->len) {
		free(r->buf);
		r->buf = NULL;
		r->off = r->len = 0;
	}
	return n;
}

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	struct sockread	*r;
	ssize_t		 n;
	int		 saved;

	if ((r = sockread_get(fd)) == NULL || len == 0)
		return sockread_sys_recv(fd, buf, len, flags);
	if (r->off < r->len) {
		if ((flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) != 0) {
			errno = EINVAL;		/* nobody peeks at these */
			return -1;
		}
		return sockread_take(r, buf, len);
	}
	if (fd != sockread_fill_fd || flags != 0 || len >= SOCKREAD_BYTES ||
	    (r->buf = malloc(SOCKREAD_BYTES)) == NULL)
		return sockread_sys_recv(fd, buf, len, flags);
	n = sockread_sys_recv(fd, r->buf, SOCKREAD_BYTES, 0);
	if (n <= 0) {
		saved = errno;
		free(r->buf);
		r->buf = NULL;
		errno = saved;
		return n;
	}
	r->off = 0;
	r->len = (uint32_t)n;
	return sockread_take(r, buf, len);
}

static int
sockread_sys_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct timespec	ts;

	if (timeout < 0)
		return ppoll(fds, nfds, NULL, NULL);
	ts.tv_sec = timeout / 1000;
	ts.tv_nsec = (long)(timeout % 1000) * 1000000;
	return ppoll(fds, nfds, &ts, NULL);
}

/*
 * While bytes are held for one of the fds, the call does not wait: the
 * other fds are only looked at, and an fd holding bytes is readable, and
 * only that (libssh asks for POLLIN|POLLOUT of its one socket once per 4
 * KiB; it hears of POLLOUT once the bytes held are taken, 64 KiB later).
 */
int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	nfds_t	i;
	int	n, held = 0, other = 0;

	for (i = 0; i < nfds; i++) {
		if ((fds[i].events & POLLIN) != 0 &&
		    sockread_held(fds[i].fd) > 0)
			held++;
		else if (fds[i].fd >= 0)
			other++;
	}
	if (held == 0)
		return sockread_sys_poll(fds, nfds, timeout);
	if (other == 0) {
		for (i = 0; i < nfds; i++)
			fds[i].revents = 0;
	} else if (sockread_sys_poll(fds, nfds, 0) == -1)
		return -1;
	for (i = 0, n = 0; i < nfds; i++) {
		if ((fds[i].events & POLLIN) != 0 &&
		    sockread_held(fds[i].fd) > 0)
			fds[i].revents = POLLIN;
		if (fds[i].revents != 0)
			n++;
	}
	return n;
}

int
close(int fd)
{
	sockread_forget(fd);
	return syscall(SYS_close, fd);
}
