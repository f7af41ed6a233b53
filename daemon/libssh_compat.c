/*
 * libssh_compat: every use hopd makes of libssh beyond its documented API,
 * in one place.  Each trick says which libssh versions need it and how it
 * is verified; the build refuses a libssh it has not been checked against.
 *
 * 1. Read-ahead (libssh 0.10.6; 0.11.5 and 0.12.2 still read 4 KiB).
 *    libssh reads its socket MAX_BUF_SIZE (4096) bytes at a time, with a
 *    poll() before every recv() (socket.c, ssh_socket_pollcallback): an
 *    upload of 1 GB is 250,000 recv() and as many poll() calls, a third of
 *    hopd's CPU.  Nothing public changes that, so hopd defines recv(),
 *    poll() and close() itself: an executable's definitions come first for
 *    the libraries it loads, libssh included.  Once the user is in, a
 *    session wraps its work with libssh in compat_readahead_fill(fd) and
 *    compat_readahead_fill(-1): session_on_poll()'s dopoll rounds and the
 *    whole of session_step() (ssh_message_get, and every channel call the
 *    tunnels make from their steps).  Not covered, so read 4 KiB at a time
 *    by libssh: the key exchange and login (deliberately: a peer before
 *    login gets no more than that), and the ssh_channel_write() a tunnel
 *    makes from its TCP read callback (libssh polls once inside; whatever
 *    it reads there is rare and small).  In between, a recv() on fd from
 *    that thread reads up to 256 KiB (what sshd reads at once) into the
 *    thread's buffer and hands libssh what it asked for; the next ones are
 *    served from the buffer, and poll() says POLLIN while bytes are held.
 *    The session takes them all before it returns to libuv (no epoll event
 *    would tell of them): the buffer is empty whenever a thread is not
 *    inside a session's work, so one buffer per thread is enough
 *    (allocated by its first fill), and an idle session costs nothing
 *    here.  Held bytes are tagged with their fd and only ever handed to a
 *    recv() of that fd in that thread; close() of the fd drops them first.
 *    Every other call (other fds, other threads, flags) goes to the kernel
 *    unchanged, by system call.  Off with HOPD_READAHEAD=0.  Verified by
 *    check_libssh_compat.c and by readahead.sh, which asserts from
 *    compat_readahead_reads() (logged at exit) that it was in effect.
 *
 * 2. Read pause (every version).  hopd must stop reading a peer whose
 *    output libssh has queued is over a bound (nothing else bounds what
 *    libssh answers by itself: keepalives, unimplemented messages), but
 *    libssh reads inside many calls (ssh_message_get, ssh_channel_write...),
 *    each a poll() then recv().  poll() here hides POLLIN of a paused fd, so
 *    those calls still flush output and never read.  Verified by
 *    bounds_preauth.sh (RSS bound under a flood of requests by a client
 *    that does not read).
 *
 * 3. The peer's maximum packet size of a channel open (libssh 0.10.6 only:
 *    it loops forever writing to a channel whose maximum packet is below 11
 *    bytes; 0.11.5 and 0.12.2 have CVE-2026-59843's fix and the check is
 *    harmless there, but the struct layout below is 0.10's).  Read through
 *    a copy of the head of the private struct ssh_message_struct, validated
 *    against the public accessors.  Verified by maxpacket.sh.
 *
 * 4. The auth accessors deprecated (not removed) since 0.10:
 *    ssh_message_auth_pubkey() and ssh_message_auth_publickey_state().
 *
 * 5. Raising a channel's window (0.10.6; same code in 0.11.5, 0.12.2): the
 *    only public way is a read asking for more than buffered + window,
 *    which grows the window to the difference (channels.c,
 *    ssh_channel_read_timeout).  Verified by window.sh (OpenSSH's client
 *    logs the adjust) and the bench (a 50 ms upload).
 *
 * 6. Answering an auth request libssh dropped (every version: a signature
 *    that does not verify is dropped without a reply, and a user name with
 *    a NUL byte is cut there, so its signature never verifies; the client
 *    then waits for the grace time).  Nothing public sends
 *    USERAUTH_FAILURE without an auth message, so the session keeps the
 *    service request's message, retyped as an auth request (its auth
 *    fields are all NULL), and ssh_message_reply_default() on it sends the
 *    failure; it is retyped back before it is freed.  Same head of
 *    struct ssh_message_struct as trick 3.  Verified by bounds_preauth.sh
 *    (a user name with a NUL byte gets an answer at once).
 *
 * 7. Giving back a channel's receive buffer (0.10.6; 0.11.5 and 0.12.2
 *    grow and keep it the same way): libssh buffers a channel's incoming
 *    data in stdout_buffer, which grows to the next power of two above a
 *    packet (64 KiB for OpenSSH's 32 KiB packets) and never shrinks, so
 *    an idle channel that once carried data held 45 KiB against 1.8 KiB
 *    before.  Once the buffer is empty and the channel idle, it is swapped
 *    for a new one (ssh_buffer_new/free are public; the pointer is in the
 *    private struct ssh_channel_struct, read through a copy of its head
 *    validated against ssh_channel_get_session() and
 *    ssh_channel_window_size()).  Verified by bounds_channels.sh (RSS per
 *    idle channel after 64 KiB went through each).
 *
 */
#undef _FORTIFY_SOURCE		/* its inline recv() and poll() are ours */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "libssh_compat.h"

#if !defined(LIBSSH_VERSION_INT) || \
    LIBSSH_VERSION_INT != SSH_VERSION_INT(0, 10, 6)
#error "hopd's libssh_compat.c was checked against libssh 0.10.6 only"
#endif

/* ---------------------------------------------------------------- read-ahead */

static __thread int		ra_fill_fd = -1;
static __thread int		ra_held_fd = -1;	/* whose bytes */
static __thread uint32_t	ra_off;
static __thread uint32_t	ra_len;
static __thread char		*ra_buf;	/* COMPAT_READAHEAD_BYTES */
static int			ra_off_by_env = -1;	/* HOPD_READAHEAD=0 */
static uint64_t			ra_reads;	/* atomic: big recv()s */

static bool
compat_readahead_enabled(void)
{
	const char	*env;
	int		 off = __atomic_load_n(&ra_off_by_env, __ATOMIC_RELAXED);

	if (off == -1) {
		env = getenv("HOPD_READAHEAD");
		off = env != NULL && strcmp(env, "0") == 0;
		__atomic_store_n(&ra_off_by_env, off, __ATOMIC_RELAXED);
	}
	return !off;
}

void
compat_readahead_fill(int fd)
{
	if (fd >= 0 && !compat_readahead_enabled())
		fd = -1;
	if (fd >= 0 && ra_buf == NULL &&
	    (ra_buf = malloc(COMPAT_READAHEAD_BYTES)) == NULL)
		fd = -1;		/* plain reads, then */
	ra_fill_fd = fd;
}

void
compat_readahead_release(void)
{
	compat_readahead_discard();
	ra_fill_fd = -1;
	free(ra_buf);
	ra_buf = NULL;
}

unsigned
compat_readahead_held(int fd)
{
	return fd >= 0 && fd == ra_held_fd ? ra_len - ra_off : 0;
}

unsigned
compat_readahead_pending(void)
{
	return ra_held_fd != -1 ? ra_len - ra_off : 0;
}

void
compat_readahead_discard(void)
{
	ra_held_fd = -1;
	ra_off = ra_len = 0;
}

uint64_t
compat_readahead_reads(void)
{
	return __atomic_load_n(&ra_reads, __ATOMIC_RELAXED);
}

static ssize_t
compat_sys_recv(int fd, void *buf, size_t len, int flags)
{
	return syscall(SYS_recvfrom, fd, buf, len, flags, NULL, NULL);
}

/* Hands out held bytes. */
static ssize_t
compat_readahead_take(void *buf, size_t len)
{
	size_t	n = ra_len - ra_off;

	if (n > len)
		n = len;
	memcpy(buf, ra_buf + ra_off, n);
	ra_off += n;
	if (ra_off == ra_len)
		compat_readahead_discard();
	return n;
}

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t	n;

	if (compat_readahead_held(fd) > 0 && len > 0) {
		if ((flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) != 0) {
			errno = EINVAL;		/* nobody peeks at these */
			return -1;
		}
		return compat_readahead_take(buf, len);
	}
	if (fd < 0 || fd != ra_fill_fd || flags != 0 || len == 0 ||
	    len >= COMPAT_READAHEAD_BYTES || ra_held_fd != -1)
		return compat_sys_recv(fd, buf, len, flags);
	n = compat_sys_recv(fd, ra_buf, COMPAT_READAHEAD_BYTES, 0);
	if (n <= 0)
		return n;
	__atomic_add_fetch(&ra_reads, 1, __ATOMIC_RELAXED);
	ra_held_fd = fd;
	ra_off = 0;
	ra_len = (uint32_t)n;
	return compat_readahead_take(buf, len);
}

/* ---------------------------------------------------------------- read pause */

/*
 * One bit per fd, for every fd the process may have (RLIMIT_NOFILE's hard
 * limit, at most COMPAT_PAUSE_FDS_MAX).  Bits of one byte may belong to fds
 * of different threads: atomic updates.
 */
#define COMPAT_PAUSE_FDS_MAX	(1u << 24)

static uint8_t		*pause_bits;
static unsigned		 pause_nfds;

int
compat_init(void)
{
	struct rlimit	 rl;
	rlim_t		 n = 65536;
	const char	*v = ssh_version(0);

	/* libssh-4 is also 0.11's soname: the tricks need what was built. */
	if (v == NULL || strncmp(v, "0.10.6", 6) != 0) {
		errno = ENOTSUP;
		return -1;
	}
	/* Every fd the process may have: the hard limit, else the soft one. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_max != RLIM_INFINITY)
			n = rl.rlim_max;
		else if (rl.rlim_cur > n)
			n = rl.rlim_cur;
	}
	if (n > COMPAT_PAUSE_FDS_MAX)
		n = COMPAT_PAUSE_FDS_MAX;
	if ((pause_bits = calloc((n + 7) / 8, 1)) == NULL)
		return -1;
	pause_nfds = n;
	return 0;
}

void
compat_finish(void)
{
	free(pause_bits);
	pause_bits = NULL;
	pause_nfds = 0;
}

/* An fd beyond the table cannot be paused: the caller refuses it. */
int
compat_read_pause(int fd, bool paused)
{
	uint8_t	bit;

	if (fd < 0 || (unsigned)fd >= pause_nfds)
		return -1;
	bit = (uint8_t)(1u << (fd & 7));
	if (paused)
		__atomic_fetch_or(&pause_bits[fd >> 3], bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&pause_bits[fd >> 3], (uint8_t)~bit,
		    __ATOMIC_RELAXED);
	return 0;
}

static bool
compat_read_paused(int fd)
{
	return fd >= 0 && (unsigned)fd < pause_nfds &&
	    (__atomic_load_n(&pause_bits[fd >> 3], __ATOMIC_RELAXED) &
	    (1u << (fd & 7))) != 0;
}

static int
compat_sys_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct timespec	ts;

	if (timeout < 0)
		return ppoll(fds, nfds, NULL, NULL);
	ts.tv_sec = timeout / 1000;
	ts.tv_nsec = (long)(timeout % 1000) * 1000000;
	return ppoll(fds, nfds, &ts, NULL);
}

/*
 * A paused fd is asked for everything but POLLIN.  While bytes are held
 * for one of the fds, the call does not wait: the other fds are only
 * looked at, and the one holding bytes is readable, and only that (libssh
 * asks for POLLIN|POLLOUT of its one socket once per 4 KiB; it hears of
 * POLLOUT, errors and hang-ups once the bytes are taken, at most
 * COMPAT_READAHEAD_BYTES later).
 */
int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	uint64_t	paused = 0;	/* fds whose POLLIN we hid */
	nfds_t		i;
	int		n, held = 0, other = 0;

	for (i = 0; i < nfds; i++) {
		if ((fds[i].events & POLLIN) != 0 &&
		    compat_readahead_held(fds[i].fd) > 0)
			held++;
		else if (fds[i].fd >= 0)
			other++;
		/*
		 * libssh polls one socket per session: 64 is plenty.  Bytes
		 * already held are handed out, paused or not.
		 */
		if (i < 64 && (fds[i].events & POLLIN) != 0 &&
		    compat_readahead_held(fds[i].fd) == 0 &&
		    compat_read_paused(fds[i].fd)) {
			fds[i].events &= ~POLLIN;
			paused |= 1ull << i;
		}
	}
	if (held == 0)
		n = compat_sys_poll(fds, nfds, timeout);
	else if (other > 0 && compat_sys_poll(fds, nfds, 0) == -1)
		n = -1;
	else {
		for (i = 0, n = 0; i < nfds; i++) {
			if (other == 0)
				fds[i].revents = 0;
			if ((fds[i].events & POLLIN) != 0 &&
			    compat_readahead_held(fds[i].fd) > 0)
				fds[i].revents = POLLIN;
			if (fds[i].revents != 0)
				n++;
		}
	}
	for (i = 0; i < nfds && i < 64; i++)
		if ((paused & (1ull << i)) != 0)
			fds[i].events |= POLLIN;
	return n;
}

int
close(int fd)
{
	if (fd >= 0 && fd == ra_held_fd)
		compat_readahead_discard();
	return syscall(SYS_close, fd);
}

/* ---------------------------------------------------------------- messages */

/*
 * The head of libssh 0.10.6's private struct ssh_message_struct
 * (include/libssh/messages.h at libssh-0.10.6), up to the channel open
 * request.
 */
struct libssh_auth_request_head {
	char		*username;
	int		 method;
	char		*password;
	void		*pubkey;
	char		*sigtype;
	int		 signature_state;
	char		 kbdint_response;
};

struct libssh_open_request_head {
	int		 type;
	uint32_t	 sender;
	uint32_t	 window;
	uint32_t	 packet_size;
	char		*originator;
	uint16_t	 originator_port;
	char		*destination;
	uint16_t	 destination_port;
};

struct libssh_message_head {
	ssh_session				session;
	int					type;
	struct libssh_auth_request_head		auth_request;
	struct libssh_open_request_head		channel_request_open;
};

uint32_t
compat_open_max_packet(ssh_session ssh, ssh_message m)
{
	const struct libssh_message_head *h = (const void *)m;
	const struct libssh_open_request_head *o = &h->channel_request_open;

	if (h->session != ssh || h->type != ssh_message_type(m) ||
	    h->type != SSH_REQUEST_CHANNEL_OPEN ||
	    o->type != ssh_message_subtype(m))
		return 0;
	if (o->type == SSH_CHANNEL_DIRECT_TCPIP &&
	    (o->destination != ssh_message_channel_request_open_destination(m) ||
	    o->originator != ssh_message_channel_request_open_originator(m) ||
	    o->destination_port !=
	    ssh_message_channel_request_open_destination_port(m)))
		return 0;
	return o->packet_size;
}

int
compat_message_as_auth(ssh_session ssh, ssh_message m)
{
	struct libssh_message_head *h = (void *)m;

	if (h->session != ssh || h->type != ssh_message_type(m) ||
	    h->type != SSH_REQUEST_SERVICE || h->auth_request.username != NULL ||
	    h->auth_request.password != NULL || h->auth_request.pubkey != NULL ||
	    h->auth_request.sigtype != NULL)
		return -1;
	h->type = SSH_REQUEST_AUTH;
	return 0;
}

void
compat_message_free_as_auth(ssh_message m)
{
	struct libssh_message_head *h = (void *)m;

	/* Back to what it is, so that its service string is freed too. */
	h->type = SSH_REQUEST_SERVICE;
	ssh_message_free(m);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
ssh_key
compat_auth_pubkey(ssh_message m, int *state)
{
	*state = ssh_message_auth_publickey_state(m);
	return ssh_message_auth_pubkey(m);
}
#pragma GCC diagnostic pop

/* ---------------------------------------------------------------- channels */

/* The head of libssh 0.10.6's struct ssh_channel_struct (channels.h). */
struct libssh_channel_head {
	ssh_session	 session;
	uint32_t	 local_channel;
	uint32_t	 local_window;
	int		 local_eof;
	uint32_t	 local_maxpacket;
	uint32_t	 remote_channel;
	uint32_t	 remote_window;
	int		 remote_eof;
	uint32_t	 remote_maxpacket;
	int		 state;
	int		 delayed_close;
	int		 flags;
	ssh_buffer	 stdout_buffer;
	ssh_buffer	 stderr_buffer;
};

int
compat_channel_shrink(ssh_channel ch)
{
	struct libssh_channel_head	*h = (void *)ch;
	ssh_buffer			 fresh;

	if (h->session != ssh_channel_get_session(ch) ||
	    h->remote_window != ssh_channel_window_size(ch) ||
	    h->stdout_buffer == NULL || h->stderr_buffer == NULL ||
	    ssh_buffer_get_len(h->stdout_buffer) != 0)
		return -1;
	if ((fresh = ssh_buffer_new()) == NULL)
		return -1;
	ssh_buffer_free(h->stdout_buffer);
	h->stdout_buffer = fresh;
	return 0;
}

/* ---------------------------------------------------------------- windows */

int
compat_channel_grant_window(ssh_channel ch, char *scratch, uint32_t window)
{
	return ssh_channel_read_timeout(ch, scratch, window, 0, 0);
}
