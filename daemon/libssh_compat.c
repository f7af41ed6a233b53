/*
 * sockread: libssh's socket reads, 256 KiB at a time instead of 4 KiB.
 *
 * libssh 0.10 reads its socket MAX_BUF_SIZE (4096) bytes at a time, with a
 * poll() before every recv() (socket.c, ssh_socket_pollcallback; the size
 * is fixed, and still is upstream): an upload of 1 GB is 250,000 recv() and
 * as many poll() calls, a third of hopd's CPU.  Nothing public changes
 * that, so hopd defines recv(), poll() and close() itself: an executable's
 * definitions come first for the libraries it loads, libssh included.
 *
 * A session wraps its ssh_event_dopoll() rounds in sockread_fill(fd) and
 * sockread_fill(-1), fd being libssh's socket.  In between, a recv() on fd
 * from that thread reads up to 256 KiB (what sshd reads at once) into the
 * thread's buffer and hands libssh what it asked for; the next ones are
 * served from the buffer, and poll() says POLLIN while bytes are held, so
 * libssh comes back for them.  The session takes them all before it
 * returns to libuv (no epoll event would tell of them): the buffer is empty
 * whenever a thread is not inside a session's rounds, so one buffer per
 * thread is enough (allocated by its first fill: only the workers' threads
 * have one), and an idle session costs nothing here.
 *
 * Held bytes are tagged with their fd and only ever handed to a recv() of
 * that fd in that thread; close() of the fd drops them first, so a reused
 * number never sees another connection's bytes.  Every other call (other
 * fds, other threads, flags) goes to the kernel unchanged, by system call.
 */
#undef _FORTIFY_SOURCE		/* its inline recv() and poll() are ours */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/syscall.h>

#include "sockread.h"

static __thread int		sockread_fill_fd = -1;
static __thread int		sockread_held_fd = -1;	/* whose bytes */
static __thread uint32_t	sockread_off;
static __thread uint32_t	sockread_len;
static __thread char		*sockread_buf;	/* SOCKREAD_BYTES, lazily */

void
sockread_fill(int fd)
{
	if (fd >= 0 && sockread_buf == NULL &&
	    (sockread_buf = malloc(SOCKREAD_BYTES)) == NULL)
		fd = -1;		/* plain reads, then */
	sockread_fill_fd = fd;
}

void
sockread_release(void)
{
	sockread_discard();
	sockread_fill_fd = -1;
	free(sockread_buf);
	sockread_buf = NULL;
}

unsigned
sockread_held(int fd)
{
	return fd >= 0 && fd == sockread_held_fd ?
	    sockread_len - sockread_off : 0;
}

unsigned
sockread_pending(void)
{
	return sockread_held_fd != -1 ? sockread_len - sockread_off : 0;
}

void
sockread_discard(void)
{
	sockread_held_fd = -1;
	sockread_off = sockread_len = 0;
}

static ssize_t
sockread_sys_recv(int fd, void *buf, size_t len, int flags)
{
	return syscall(SYS_recvfrom, fd, buf, len, flags, NULL, NULL);
}

/* Hands out held bytes. */
static ssize_t
sockread_take(void *buf, size_t len)
{
	size_t	n = sockread_len - sockread_off;

	if (n > len)
		n = len;
	memcpy(buf, sockread_buf + sockread_off, n);
	sockread_off += n;
	if (sockread_off == sockread_len)
		sockread_discard();
	return n;
}

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t	n;

	if (sockread_held(fd) > 0 && len > 0) {
		if ((flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) != 0) {
			errno = EINVAL;		/* nobody peeks at these */
			return -1;
		}
		return sockread_take(buf, len);
	}
	if (fd < 0 || fd != sockread_fill_fd || flags != 0 || len == 0 ||
	    len >= SOCKREAD_BYTES || sockread_held_fd != -1)
		return sockread_sys_recv(fd, buf, len, flags);
	n = sockread_sys_recv(fd, sockread_buf, SOCKREAD_BYTES, 0);
	if (n <= 0)
		return n;
	sockread_held_fd = fd;
	sockread_off = 0;
	sockread_len = (uint32_t)n;
	return sockread_take(buf, len);
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
 * other fds are only looked at, and the one holding bytes is readable, and
 * only that (libssh asks for POLLIN|POLLOUT of its one socket once per 4
 * KiB; it hears of POLLOUT, errors and hang-ups once the bytes are taken,
 * at most SOCKREAD_BYTES later).
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
	if (fd >= 0 && fd == sockread_held_fd)
		sockread_discard();
	return syscall(SYS_close, fd);
}
