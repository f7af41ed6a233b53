/*
 * Unit tests of sockread.c on real socket pairs: what goes in comes out,
 * byte for byte, whatever the read sizes; reads ahead only when asked;
 * poll() tells of held bytes without hiding the other fds; close() forgets,
 * so a reused number never sees the old connection's bytes; EOF and odd
 * flags behave.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libssh_compat.h"

Suite	*libssh_compat_suite(void);

#define PATTERN_BYTES	(3 * COMPAT_READAHEAD_BYTES + 1234)

static int	sp[2] = { -1, -1 };	/* sp[0] read by "libssh" */
static char	pattern[PATTERN_BYTES];

static void
setup(void)
{
	size_t	i;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (char)(i * 7 + i / 251);
}

static void
teardown(void)
{
	if (sp[0] != -1)
		close(sp[0]);
	if (sp[1] != -1)
		close(sp[1]);
	sp[0] = sp[1] = -1;
	compat_readahead_release();
}

static void
send_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = send(fd, p, len, 0);
		ck_assert_int_gt(n, 0);
		p += n;
		len -= n;
	}
}

/* Reads len bytes in step-sized recv() calls, as libssh does. */
static void
recv_exact(int fd, char *out, size_t len, size_t step)
{
	size_t	got = 0, i;
	ssize_t	n;

	for (i = 0; got < len && i < len; i++) {
		n = recv(fd, out + got, len - got < step ? len - got : step, 0);
		ck_assert_int_gt(n, 0);
		got += n;
	}
	ck_assert_uint_eq(got, len);
}

START_TEST(reads_as_usual_when_not_filling)
{
	char	buf[4096];

	send_all(sp[1], pattern, 100);
	ck_assert_int_eq(recv(sp[0], buf, 10, 0), 10);
	ck_assert_uint_eq(compat_readahead_held(sp[0]), 0);
	ck_assert_int_eq(recv(sp[0], buf + 10, sizeof(buf) - 10, 0), 90);
	ck_assert_int_eq(memcmp(buf, pattern, 100), 0);
}
END_TEST

struct writer {
	pthread_t	 thread;
	int		 fd;
	const char	*p;
	size_t		 len;
};

static void *
writer_main(void *arg)
{
	struct writer	*w = arg;
	ssize_t		 n;

	while (w->len > 0 && (n = send(w->fd, w->p, w->len, 0)) > 0) {
		w->p += n;
		w->len -= n;
	}
	return NULL;
}

/* More than two read-aheads, written by another thread as we read. */
START_TEST(byte_exact_through_read_ahead_any_step)
{
	static const size_t	steps[] = { 1, 7, 4096, 5000, 65535 };
	static char		out[2 * COMPAT_READAHEAD_BYTES + 999];
	struct writer		w;
	size_t			i, len = sizeof(out);

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		w.fd = sp[1];
		w.p = pattern + i;
		w.len = len;
		ck_assert_int_eq(pthread_create(&w.thread, NULL, writer_main,
		    &w), 0);
		memset(out, 0, len);
		compat_readahead_fill(sp[0]);
		recv_exact(sp[0], out, len, steps[i]);
		compat_readahead_fill(-1);
		ck_assert_int_eq(pthread_join(w.thread, NULL), 0);
		ck_assert_uint_eq(w.len, 0);
		ck_assert_msg(memcmp(out, pattern + i, len) == 0,
		    "bytes differ with step %zu", steps[i]);
		ck_assert_uint_eq(compat_readahead_held(sp[0]), 0);
	}
}
END_TEST

START_TEST(reads_ahead_only_when_filling)
{
	char	buf[4096];

	send_all(sp[1], pattern, 3 * 4096);
	ck_assert_int_eq(recv(sp[0], buf, 4096, 0), 4096);
	ck_assert_uint_eq(compat_readahead_held(sp[0]), 0);	/* not filling */
	compat_readahead_fill(sp[1]);				/* another fd */
	ck_assert_int_eq(recv(sp[0], buf, 4096, 0), 4096);
	ck_assert_uint_eq(compat_readahead_held(sp[0]), 0);
	compat_readahead_fill(sp[0]);
	ck_assert_int_eq(recv(sp[0], buf, 100, 0), 100);
	ck_assert_uint_eq(compat_readahead_held(sp[0]), 4096 - 100);
	compat_readahead_fill(-1);
	/* Held bytes are still handed out, in order, once filling ends. */
	ck_assert_int_eq(recv(sp[0], buf, sizeof(buf), 0), 4096 - 100);
	ck_assert_int_eq(memcmp(buf, pattern + 2 * 4096 + 100, 4096 - 100), 0);
	ck_assert_uint_eq(compat_readahead_held(sp[0]), 0);
}
END_TEST

START_TEST(poll_tells_of_held_bytes_and_still_sees_others)
{
	struct pollfd	pfd[2];
	int		other[2];
	char		buf[16];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, other), 0);
	send_all(sp[1], pattern, 64);
	compat_readahead_fill(sp[0]);
	ck_assert_int_eq(recv(sp[0], buf, 16, 0), 16);
	compat_readahead_fill(-1);
	ck_assert_uint_eq(compat_readahead_held(sp[0]), 48);

	/* The kernel has nothing for sp[0]: only the held bytes make it
	 * readable, and an infinite timeout does not block. */
	memset(pfd, 0, sizeof(pfd));
	pfd[0].fd = sp[0];
	pfd[0].events = POLLIN | POLLOUT;
	pfd[1].fd = other[0];
	pfd[1].events = POLLIN;
	ck_assert_int_eq(poll(pfd, 2, -1), 1);
	ck_assert_int_eq(pfd[0].revents, POLLIN);
	ck_assert_int_eq(pfd[1].revents, 0);

	/* Another fd becomes readable: it is reported too. */
	send_all(other[1], "x", 1);
	ck_assert_int_eq(poll(pfd, 2, -1), 2);
	ck_assert_int_eq(pfd[0].revents, POLLIN);
	ck_assert_int_ne(pfd[1].revents & POLLIN, 0);

	/* Not asked for POLLIN: held bytes change nothing. */
	pfd[0].events = POLLOUT;
	ck_assert_int_eq(poll(pfd, 1, 0), 1);
	ck_assert_int_eq(pfd[0].revents, POLLOUT);

	/* Drained: back to the kernel's answer. */
	ck_assert_int_eq(recv(sp[0], buf, sizeof(buf), 0), 16);
	ck_assert_int_eq(recv(sp[0], buf, sizeof(buf), 0), 16);
	ck_assert_int_eq(recv(sp[0], buf, sizeof(buf), 0), 16);
	pfd[0].events = POLLIN;
	ck_assert_int_eq(poll(pfd, 1, 0), 0);
	close(other[0]);
	close(other[1]);
}
END_TEST

START_TEST(close_forgets_so_a_reused_number_sees_only_its_own_bytes)
{
	char	buf[4096];
	int	old = sp[0], pair[2];

	send_all(sp[1], "secret of the first connection", 30);
	compat_readahead_fill(sp[0]);
	ck_assert_int_eq(recv(sp[0], buf, 6, 0), 6);
	compat_readahead_fill(-1);
	ck_assert_uint_eq(compat_readahead_held(old), 24);
	ck_assert_int_eq(close(sp[0]), 0);
	sp[0] = -1;
	ck_assert_uint_eq(compat_readahead_held(old), 0);

	/* The lowest free number comes back: the same one. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	ck_assert_int_eq(pair[0], old);
	send_all(pair[1], "new", 3);
	ck_assert_int_eq(recv(pair[0], buf, sizeof(buf), 0), 3);
	ck_assert_int_eq(memcmp(buf, "new", 3), 0);
	close(pair[0]);
	close(pair[1]);
}
END_TEST

START_TEST(held_bytes_only_go_to_their_own_fd)
{
	char	buf[64];
	int	other[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, other), 0);
	send_all(sp[1], "0123456789", 10);
	send_all(other[1], "other", 5);
	compat_readahead_fill(sp[0]);
	ck_assert_int_eq(recv(sp[0], buf, 2, 0), 2);
	ck_assert_uint_eq(compat_readahead_held(sp[0]), 8);
	ck_assert_uint_eq(compat_readahead_held(other[0]), 0);
	ck_assert_uint_eq(compat_readahead_pending(), 8);
	/* Another fd, even the one being filled next, reads its own. */
	compat_readahead_fill(other[0]);
	ck_assert_int_eq(recv(other[0], buf, sizeof(buf), 0), 5);
	ck_assert_int_eq(memcmp(buf, "other", 5), 0);
	ck_assert_uint_eq(compat_readahead_held(sp[0]), 8);
	compat_readahead_fill(-1);
	/* Thrown away: the fd reads the kernel again (nothing there). */
	compat_readahead_discard();
	ck_assert_uint_eq(compat_readahead_held(sp[0]), 0);
	ck_assert_uint_eq(compat_readahead_pending(), 0);
	errno = 0;
	ck_assert_int_eq(recv(sp[0], buf, sizeof(buf), MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	close(other[0]);
	close(other[1]);
}
END_TEST

START_TEST(eof_and_errors_come_after_the_held_bytes)
{
	char	buf[4096];

	send_all(sp[1], "abcdefghij", 10);
	close(sp[1]);
	sp[1] = -1;
	compat_readahead_fill(sp[0]);
	ck_assert_int_eq(recv(sp[0], buf, 4, 0), 4);
	ck_assert_int_eq(recv(sp[0], buf + 4, sizeof(buf) - 4, 0), 6);
	ck_assert_int_eq(memcmp(buf, "abcdefghij", 10), 0);
	ck_assert_int_eq(recv(sp[0], buf, sizeof(buf), 0), 0);
	ck_assert_uint_eq(compat_readahead_held(sp[0]), 0);
	ck_assert_int_eq(recv(sp[0], buf, sizeof(buf), 0), 0);
	compat_readahead_fill(-1);
}
END_TEST

START_TEST(odd_flags_never_skip_held_bytes)
{
	char	buf[64];

	send_all(sp[1], "0123456789", 10);
	compat_readahead_fill(sp[0]);
	ck_assert_int_eq(recv(sp[0], buf, 2, 0), 2);
	errno = 0;
	ck_assert_int_eq(recv(sp[0], buf, 2, MSG_PEEK), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(recv(sp[0], buf, 2, MSG_DONTWAIT), 2);
	ck_assert_int_eq(memcmp(buf, "23", 2), 0);
	compat_readahead_fill(-1);
	/* Empty again: MSG_DONTWAIT on an empty socket is the kernel's. */
	ck_assert_int_eq(recv(sp[0], buf, sizeof(buf), 0), 6);
	errno = 0;
	ck_assert_int_eq(recv(sp[0], buf, sizeof(buf), MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
}
END_TEST

Suite *
libssh_compat_suite(void)
{
	Suite	*s = suite_create("sockread");
	TCase	*tc = tcase_create("sockread");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reads_as_usual_when_not_filling);
	tcase_add_test(tc, byte_exact_through_read_ahead_any_step);
	tcase_add_test(tc, reads_ahead_only_when_filling);
	tcase_add_test(tc, poll_tells_of_held_bytes_and_still_sees_others);
	tcase_add_test(tc,
	    close_forgets_so_a_reused_number_sees_only_its_own_bytes);
	tcase_add_test(tc, held_bytes_only_go_to_their_own_fd);
	tcase_add_test(tc, eof_and_errors_come_after_the_held_bytes);
	tcase_add_test(tc, odd_flags_never_skip_held_bytes);
	suite_add_tcase(s, tc);
	return s;
}
