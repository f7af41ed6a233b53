/*
 * pump: the part of a tunnel both kinds share (pump.h).  Its life, the
 * bytes both ways with flow control and half-close, the one way to its end
 * (tunnel_close, then tunnel_finish from its steps), and the audit records
 * of it: a direct-tcpip tunnel comes from direct.c once connected, a
 * forwarded-tcpip one from forward.c once the client accepted it.
 *
 * Memory per tunnel is bounded whatever the peers do: toward the target,
 * TUNNEL_TCP_HIGH_WATER_BYTES queued (plus what libssh holds, which the
 * window we grant bounds and TUNNEL_CHANNEL_BUFFER_MAX_BYTES enforces);
 * toward the client, one TCP read kept when the channel cannot take it,
 * and the session's bound on libssh's output (session_may_feed) whatever
 * window the client grants.  An idle tunnel holds no buffer: reads land
 * in the worker's buffer and only what the channel does not take is kept;
 * libssh's receive buffer is given back once the channel is idle.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "audit.h"
#include "libssh_compat.h"
#include "log.h"
#include "session.h"
#include "pump.h"
#include "tunnel.h"

#define TUNNEL_READ_BYTES	(64 * 1024)	/* one TCP read */
#define TUNNEL_TCP_HIGH_WATER_BYTES (256 * 1024) /* queued to TCP: stop */
#define TUNNEL_TCP_LOW_WATER_BYTES  (64 * 1024)	 /* ...and resume */
/* Gathering packets for one write to TCP (tunnel_on_channel_data). */
#define TUNNEL_GATHER_BYTES	(256 * 1024)	/* per tunnel: write now */
#define TUNNEL_GATHER_ARENA_BYTES (1024 * 1024)	/* per worker */
/*
 * The window hopd grants a client per channel.  libssh's own top-ups stop
 * at 1,280,000 (and only once window + buffered < 640,000), which capped
 * one upload at 12 MB/s over a 50 ms round trip where sshd (2 MiB) does 40.
 * hopd grants sshd's 2 MiB, and twice that to a far client: one whose
 * first data came TUNNEL_FAR_US or more after the channel opened, which
 * takes at least a round trip (78 MB/s over that link).  Not to every
 * client: given 4 MiB, OpenSSH's client buffers more and page-faults as
 * its buffers grow and shrink (25,000 faults for 512 MiB sent over
 * loopback, against 600), a tenth of its CPU.  tunnel_raise_window() tops
 * the window up again after every TUNNEL_WINDOW_RAISE_BYTES delivered, only
 * while the target keeps up.
 */
#define TUNNEL_WINDOW_BYTES	(2 * 1024 * 1024)
#define TUNNEL_WINDOW_FAR_BYTES	(4 * 1024 * 1024)
#define TUNNEL_FAR_US		2000
#define TUNNEL_WINDOW_RAISE_BYTES (512 * 1024)
/*
 * What libssh may hold for one channel if the peer respects that window:
 * window + buffered never exceeds TUNNEL_WINDOW_FAR_BYTES (libssh's top-ups
 * reach 1,920,000 at most), plus one 35,000-byte packet of slack.  More is
 * a peer ignoring the window (libssh does not enforce it).
 */
#define TUNNEL_CHANNEL_BUFFER_MAX_BYTES \
	(TUNNEL_WINDOW_FAR_BYTES + COMPAT_LOCAL_MAX_PACKET_BYTES)
#define TUNNEL_LINGER_MS	5000	/* flushing to TCP after the end */
/* Idle this long after data came: libssh's receive buffer is given back. */
#define TUNNEL_IDLE_SHRINK_MS	1000

#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))

struct tunnel_write {
	uv_write_t	 req;
	struct tunnel	*t;
	size_t		 len;
	char		 data[];
};

/* Per worker thread: buffers shared by its tunnels, gathered tunnels. */
static __thread char		*tunnel_rbuf;	/* TUNNEL_READ_BYTES */
static __thread char		*tunnel_scratch; /* TUNNEL_WINDOW_FAR_BYTES */
static __thread char		*tunnel_arena;	/* TUNNEL_GATHER_ARENA_BYTES */
static __thread size_t		 tunnel_arena_used;
static __thread struct tunnel	*tunnel_gathered;
static unsigned			 tunnel_live;	/* atomic */

static void	tunnel_step(void *);
static void	tunnel_on_session_end(void *, const char *);
static void	tunnel_on_reload(void *);
static void	tunnel_on_timer(uv_timer_t *);
static int	tunnel_on_channel_data(ssh_session, ssh_channel, void *,
		    uint32_t, int, void *);
static void	tunnel_on_channel_eof(ssh_session, ssh_channel, void *);
static void	tunnel_on_channel_close(ssh_session, ssh_channel, void *);

static const struct session_member_ops tunnel_member_ops = {
	tunnel_step, tunnel_on_session_end, tunnel_on_reload
};

unsigned
tunnel_live_count(void)
{
	return __atomic_load_n(&tunnel_live, __ATOMIC_RELAXED);
}

void
tunnel_thread_release(void)
{
	free(tunnel_rbuf);
	free(tunnel_scratch);
	free(tunnel_arena);
	tunnel_rbuf = tunnel_scratch = tunnel_arena = NULL;
}

/* Something happened to t: it is stepped by its session, now. */
void
tunnel_kick(struct tunnel *t)
{
	session_run(t->s, &t->member);
	session_step(t->s);
}

/* The one place a channel_open record is built. */
void
tunnel_audit_open_rec(struct session *s, unsigned channel, const char *type,
    const char *target, const char *origin, const char *decision,
    const char *rule, const struct ip_addr *addrs, size_t naddrs,
    const char *result, const char *reason)
{
	struct audit_rec	 r;
	char			 text[TUNNEL_ADDRS_MAX][ADDR_TEXT_MAX];
	const char		*list[TUNNEL_ADDRS_MAX];
	size_t			 i;

	for (i = 0; i < naddrs && i < TUNNEL_ADDRS_MAX; i++) {
		if (addr_format(&addrs[i], text[i], sizeof(text[i])) == -1)
			snprintf(text[i], sizeof(text[i]), "?");
		list[i] = text[i];
	}
	audit_rec_begin(&r, audit_now_ms(), "channel_open", session_id(s));
	audit_rec_u64(&r, "channel", channel);
	audit_rec_str(&r, "type", type);
	audit_rec_str(&r, "user", session_user(s));
	audit_rec_str(&r, "target", target);
	audit_rec_str(&r, "origin", origin);
	audit_rec_str(&r, "decision", decision);
	audit_rec_str(&r, "rule", rule != NULL && rule[0] != '\0' ? rule :
	    "default");
	audit_rec_strv(&r, "addrs", list, i);
	audit_rec_str(&r, "result", result);
	audit_rec_str(&r, "reason", reason);
	audit_rec_end(&r);
	audit_emit(&r);
}

void
tunnel_audit_open(struct tunnel *t, const char *decision, const char *result,
    const char *reason)
{
	tunnel_audit_open_rec(t->s, t->id, t->ops->type, t->target,
	    t->origin, decision, t->rule, t->addrs, t->naddrs, result, reason);
}

static void
tunnel_audit_close(struct tunnel *t)
{
	struct audit_rec	r;

	audit_rec_begin(&r, audit_now_ms(), "channel_close", session_id(t->s));
	audit_rec_u64(&r, "channel", t->id);
	audit_rec_str(&r, "type", t->ops->type);
	audit_rec_str(&r, "target", t->target);
	audit_rec_u64(&r, "bytes_in", t->bytes_in);
	audit_rec_u64(&r, "bytes_out", t->bytes_out);
	audit_rec_u64(&r, "duration_ms", audit_now_ms() - t->start_ms);
	audit_rec_str(&r, "reason", t->close_reason);
	audit_rec_end(&r);
	audit_emit(&r);
}

struct tunnel *
tunnel_new(struct session *s, const struct tunnel_ops *ops)
{
	struct tunnel	*t;

	if (!session_take_channel(s))
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		session_give_channel(s);
		return NULL;
	}
	t->s = s;
	t->ops = ops;
	t->start_ms = audit_now_ms();
	session_join(s, &t->member, &tunnel_member_ops, t);
	return t;
}

/* Gone: nothing of t is left anywhere (no handle, request or channel). */
void
tunnel_free(struct tunnel *t)
{
	struct session	*s = t->s;

	session_give_channel(s);
	free(t->kept);
	free(t->fwd_bind);
	session_leave(s, &t->member);	/* may free s */
	free(t);
}

static bool
tunnel_done(const struct tunnel *t)
{
	return t->close_requested && t->handles == 0 && t->ch == NULL &&
	    t->open_msg == NULL && t->lookup == NULL && !t->gather_linked;
}

static void
tunnel_on_handle_closed(uv_handle_t *h)
{
	struct tunnel	*t = h->data;

	t->handles--;
	if (h == (uv_handle_t *)&t->tcp) {
		t->tcp_open = false;
		if (t->state == TUNNEL_CONNECTING && !t->close_requested &&
		    t->ops->tcp_closed != NULL)
			t->ops->tcp_closed(t);
	}
	tunnel_kick(t);
}

void
tunnel_close_tcp(struct tunnel *t)
{
	if (t->tcp_open && !uv_is_closing((uv_handle_t *)&t->tcp))
		uv_close((uv_handle_t *)&t->tcp, tunnel_on_handle_closed);
}

void
tunnel_start_timer(struct tunnel *t, uint64_t ms)
{
	if (!t->timer_open) {
		uv_timer_init(session_loop(t->s), &t->timer);
		t->timer.data = t;
		t->timer_open = true;
		t->handles++;
	}
	uv_timer_start(&t->timer, tunnel_on_timer, ms, 0);
}

void
tunnel_stop_timer(struct tunnel *t)
{
	if (t->timer_open)
		uv_timer_stop(&t->timer);
}

static void
tunnel_on_channel_eof(ssh_session ss, ssh_channel ch, void *arg)
{
	struct tunnel	*t = arg;

	if (t->up == UP_OPEN)
		t->up = UP_EOF;
	session_run(t->s, &t->member);
}

static void
tunnel_on_channel_close(ssh_session ss, ssh_channel ch, void *arg)
{
	struct tunnel	*t = arg;

	t->peer_closed = true;
	session_run(t->s, &t->member);
}

static void
tunnel_on_tcp_written(uv_write_t *req, int status)
{
	struct tunnel_write	*w = container_of(req, struct tunnel_write, req);
	struct tunnel		*t = w->t;

	t->tcp_queued -= w->len;
	free(w);
	if (status < 0 && status != UV_ECANCELED && !t->tcp_failed) {
		log_verbose("session %s channel %u: write to target: %s",
		    session_id(t->s), t->id, uv_strerror(status));
		t->tcp_failed = true;
	}
	tunnel_kick(t);
}

/*
 * Queues the bytes of bufs to the TCP side, in order after what is queued:
 * what the socket does not take at once is copied into one write request.
 */
static int
tunnel_write_tcpv(struct tunnel *t, const uv_buf_t *bufs, unsigned nbufs)
{
	struct tunnel_write	*w;
	uv_buf_t		 buf;
	size_t			 len = 0, skip = 0, off = 0, k;
	unsigned		 i;
	int			 n;

	for (i = 0; i < nbufs; i++)
		len += bufs[i].len;
	if (t->tcp_queued == 0) {
		n = uv_try_write((uv_stream_t *)&t->tcp, bufs, nbufs);
		if (n == UV_EAGAIN)
			n = 0;
		else if (n < 0)
			goto fail;
		if ((size_t)n == len)
			return 0;
		skip = n;
	}
	if ((w = malloc(sizeof(*w) + len - skip)) == NULL)
		goto fail;
	w->t = t;
	w->len = len - skip;
	for (i = 0; i < nbufs; i++) {
		if (skip >= bufs[i].len) {
			skip -= bufs[i].len;
			continue;
		}
		k = bufs[i].len - skip;
		memcpy(w->data + off, bufs[i].base + skip, k);
		off += k;
		skip = 0;
	}
	buf = uv_buf_init(w->data, w->len);
	if (uv_write(&w->req, (uv_stream_t *)&t->tcp, &buf, 1,
	    tunnel_on_tcp_written) < 0) {
		free(w);
		goto fail;
	}
	t->tcp_queued += w->len;
	return 0;
fail:
	t->tcp_failed = true;
	return -1;
}

static void
tunnel_delivered(struct tunnel *t, size_t n)
{
	t->shrink_due = true;
	t->bytes_in += n;
	session_count_bytes(t->s, n, 0);
}

static int
tunnel_write_tcp(struct tunnel *t, const char *data, size_t len)
{
	uv_buf_t	buf = uv_buf_init((char *)data, len);

	if (tunnel_write_tcpv(t, &buf, 1) == -1)
		return -1;
	tunnel_delivered(t, len);
	return 0;
}

/* Writes what t gathered (tunnel_gather) to its target. */
static void
tunnel_flush(struct tunnel *t)
{
	size_t	n = t->gathered;

	if (n == 0)
		return;
	if (!t->tcp_failed && tunnel_write_tcpv(t, t->gather, t->ngather) == 0)
		tunnel_delivered(t, n);
	t->ngather = 0;
	t->gathered = 0;
}

void
tunnel_flush_gathered(void)
{
	struct tunnel	*t;

	while ((t = tunnel_gathered) != NULL) {
		tunnel_gathered = t->gather_next;
		t->gather_next = NULL;
		t->gather_linked = false;
		tunnel_flush(t);
		session_run(t->s, &t->member);	/* maybe done now */
	}
	tunnel_arena_used = 0;
}

/*
 * Copies data for t into this worker's gather buffer, where it waits for
 * tunnel_flush_gathered(): at the end of the session's reads, or sooner
 * when the buffer, t's share of it or t's list of pieces is full.
 */
static int
tunnel_gather(struct tunnel *t, const char *data, size_t len)
{
	uv_buf_t	*last;
	char		*at;

	if (len == 0)
		return 0;
	if (tunnel_arena == NULL &&
	    (tunnel_arena = malloc(TUNNEL_GATHER_ARENA_BYTES)) == NULL)
		return -1;
	at = tunnel_arena + tunnel_arena_used;
	last = t->ngather > 0 ? &t->gather[t->ngather - 1] : NULL;
	if (tunnel_arena_used + len > TUNNEL_GATHER_ARENA_BYTES ||
	    (t->ngather == TUNNEL_GATHER_PIECES &&
	    last->base + last->len != at)) {
		tunnel_flush_gathered();
		at = tunnel_arena;
		last = NULL;
	}
	memcpy(at, data, len);
	tunnel_arena_used += len;
	if (last != NULL && last->base + last->len == at)
		last->len += len;
	else
		t->gather[t->ngather++] = uv_buf_init(at, len);
	if (!t->gather_linked) {
		t->gather_next = tunnel_gathered;
		tunnel_gathered = t;
		t->gather_linked = true;
	}
	t->gathered += len;
	if (t->gathered >= TUNNEL_GATHER_BYTES)
		tunnel_flush_gathered();
	return 0;
}

/*
 * SSH -> TCP.  libssh offers everything it buffered for the channel; we
 * take what fits under the high-water mark, and the rest stays in libssh,
 * which then stops growing the window: the client must stop sending.
 * While the session reads its socket, what we take is gathered and written
 * once the reads are over, as sshd does, rather than in one write (and one
 * wake-up of the target's reader) per packet.
 */
static int
tunnel_on_channel_data(ssh_session ss, ssh_channel ch, void *data,
    uint32_t len, int is_stderr, void *arg)
{
	struct tunnel	*t = arg;
	uint64_t	 wait_us;
	size_t		 n;

	if (len > TUNNEL_CHANNEL_BUFFER_MAX_BYTES) {
		session_kill(t->s, "protocol violation: data past the window");
		return 0;
	}
	session_run(t->s, &t->member);
	if (t->state == TUNNEL_OPENING && !is_stderr) {
		/* Data in the same burst as the open confirmation: keep it. */
		t->ssh_kept = len;
		return 0;
	}
	if (!t->got_data && t->state == TUNNEL_OPEN) {
		t->got_data = true;
		wait_us = uv_hrtime() / 1000 - t->open_us;
		if (wait_us >= TUNNEL_FAR_US)
			t->window = TUNNEL_WINDOW_FAR_BYTES;
		log_debug("session %s channel %u: first data %llu us after "
		    "the open: window %u", session_id(t->s), t->id,
		    (unsigned long long)wait_us, t->window);
	}
	if (is_stderr || t->state != TUNNEL_OPEN || t->tcp_failed ||
	    t->up >= UP_SHUTTING || t->close_requested) {
		t->ssh_kept = 0;
		return len;		/* nobody to deliver to: drop */
	}
	if (t->tcp_queued + t->gathered >= TUNNEL_TCP_HIGH_WATER_BYTES) {
		t->ssh_kept = len;
		return 0;
	}
	n = TUNNEL_TCP_HIGH_WATER_BYTES - t->tcp_queued - t->gathered;
	if (n > len)
		n = len;
	if (session_gathering(t->s) && tunnel_gather(t, data, n) == 0) {
		t->ssh_kept = len - n;
		return n;
	}
	tunnel_flush(t);
	if (tunnel_write_tcp(t, data, n) == -1) {
		t->ssh_kept = 0;
		return len;
	}
	t->ssh_kept = len - n;
	return n;
}

static char *
tunnel_scratch_buffer(void)
{
	if (tunnel_scratch == NULL)
		tunnel_scratch = malloc(TUNNEL_CHANNEL_BUFFER_MAX_BYTES);
	return tunnel_scratch;
}

/*
 * Pulls what libssh kept back once the TCP side has drained: all of it at
 * once.  A read that leaves bytes behind is what must not happen: libssh
 * tops the window up to 1,280,000 after any read that leaves it under
 * 640,000, whatever it still holds (channels.c, ssh_channel_read_timeout),
 * so reading a little at a time from a full window would let a client send
 * more than the window we granted, 1.28 MB per read, without bound.  Read
 * whole, libssh holds nothing after it, and the target's queue holds at
 * most the window for a while.
 */
static void
tunnel_pull_kept(struct tunnel *t)
{
	char	*buf;
	int	 n;

	if (t->ssh_kept == 0 || t->tcp_failed || t->up >= UP_SHUTTING ||
	    t->tcp_queued >= TUNNEL_TCP_LOW_WATER_BYTES)
		return;
	if ((buf = tunnel_scratch_buffer()) == NULL)
		return;
	n = ssh_channel_read_nonblocking(t->ch, buf,
	    TUNNEL_CHANNEL_BUFFER_MAX_BYTES, 0);
	t->ssh_kept = 0;
	if (n > 0)
		tunnel_write_tcp(t, buf, n);
}

/* Grants the client t->window again (libssh_compat.c, trick 5). */
static void
tunnel_raise_window(struct tunnel *t)
{
	char	*buf;
	int	 n;

	if ((buf = tunnel_scratch_buffer()) == NULL)
		return;
	t->window_mark = t->bytes_in;
	t->window_raised = true;
	n = compat_channel_grant_window(t->ch, buf, t->window);
	if (n > 0 && tunnel_write_tcp(t, buf, n) == 0)
		t->ssh_kept = (size_t)n < t->ssh_kept ? t->ssh_kept - n : 0;
}

static void
tunnel_on_tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	if (tunnel_rbuf == NULL)
		tunnel_rbuf = malloc(TUNNEL_READ_BYTES);
	*buf = uv_buf_init(tunnel_rbuf, tunnel_rbuf != NULL ?
	    TUNNEL_READ_BYTES : 0);
}

/* Hands the channel what it takes of data; returns how much it took. */
static size_t
tunnel_feed_channel(struct tunnel *t, const char *data, size_t len)
{
	int	n;

	if (len == 0 || t->ch == NULL || t->peer_closed ||
	    !session_may_feed(t->s))
		return 0;
	n = ssh_channel_write(t->ch, data, len);
	if (n == SSH_ERROR) {
		tunnel_close(t, "channel write failed");
		return 0;
	}
	if (n > 0) {
		t->bytes_out += n;
		session_count_bytes(t->s, 0, n);
	}
	return n > 0 ? (size_t)n : 0;
}

static void
tunnel_stop_reading(struct tunnel *t)
{
	if (t->tcp_reading) {
		uv_read_stop((uv_stream_t *)&t->tcp);
		t->tcp_reading = false;
	}
}

static void
tunnel_on_tcp_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct tunnel	*t = stream->data;
	size_t		 n;

	if (nread == 0)
		return;
	if (nread == UV_ENOBUFS) {
		/* No buffer for the read: again once the SSH side moves. */
		tunnel_stop_reading(t);
		session_wait_ssh(t->s, &t->member);
		return;
	}
	if (nread < 0) {
		tunnel_stop_reading(t);
		t->down = DOWN_EOF;
		if (nread != UV_EOF) {
			log_verbose("session %s channel %u: read from target: "
			    "%s", session_id(t->s), t->id, uv_strerror(nread));
			t->tcp_failed = true;
		}
		tunnel_kick(t);
		return;
	}
	n = tunnel_feed_channel(t, buf->base, nread);
	if (n < (size_t)nread && !t->close_requested) {
		/* The channel is full: keep the rest, read no more. */
		if ((t->kept = malloc(nread - n)) == NULL) {
			tunnel_close(t, "out of memory");
		} else {
			memcpy(t->kept, buf->base + n, nread - n);
			t->klen = nread - n;
			t->koff = 0;
		}
		tunnel_stop_reading(t);
		session_wait_ssh(t->s, &t->member);
	}
	session_step(t->s);
}

/* Retries what the channel did not take; true when nothing is kept. */
static bool
tunnel_retry_kept(struct tunnel *t)
{
	if (t->kept == NULL)
		return true;
	t->koff += tunnel_feed_channel(t, t->kept + t->koff,
	    t->klen - t->koff);
	if (t->koff < t->klen)
		return false;
	free(t->kept);
	t->kept = NULL;
	t->klen = t->koff = 0;
	return true;
}

static void
tunnel_on_shutdown(uv_shutdown_t *req, int status)
{
	struct tunnel	*t = container_of(req, struct tunnel, shutdown_req);

	t->up = UP_DONE;
	if (status < 0 && status != UV_ECANCELED)
		t->tcp_failed = true;
	tunnel_kick(t);
}

static void
tunnel_shutdown_tcp(struct tunnel *t)
{
	if (t->up >= UP_SHUTTING || !t->tcp_open)
		return;
	t->up = UP_SHUTTING;
	if (uv_shutdown(&t->shutdown_req, (uv_stream_t *)&t->tcp,
	    tunnel_on_shutdown) < 0) {
		t->up = UP_DONE;
		t->tcp_failed = true;
	}
}

void
tunnel_set_channel(struct tunnel *t, ssh_channel ch)
{
	t->ch = ch;
	memset(&t->cb, 0, sizeof(t->cb));
	t->cb.userdata = t;
	t->cb.channel_data_function = tunnel_on_channel_data;
	t->cb.channel_eof_function = tunnel_on_channel_eof;
	t->cb.channel_close_function = tunnel_on_channel_close;
	ssh_callbacks_init(&t->cb);
	ssh_set_channel_callbacks(ch, &t->cb);
}

void
tunnel_start_pump(struct tunnel *t)
{
	t->state = TUNNEL_OPEN;
	t->was_open = true;
	t->window = TUNNEL_WINDOW_BYTES;
	t->open_us = uv_hrtime() / 1000;
	uv_tcp_nodelay(&t->tcp, 1);
	__atomic_add_fetch(&tunnel_live, 1, __ATOMIC_RELAXED);
}

static void
tunnel_pump(struct tunnel *t)
{
	tunnel_flush(t);		/* before anything else goes to TCP */

	/* TCP -> SSH: retry what the channel refused, then read again. */
	if (!tunnel_retry_kept(t)) {
		session_wait_ssh(t->s, &t->member);
	} else if (!t->tcp_reading && t->down == DOWN_OPEN && !t->peer_closed &&
	    !t->close_requested) {
		if (uv_read_start((uv_stream_t *)&t->tcp, tunnel_on_tcp_alloc,
		    tunnel_on_tcp_read) == 0)
			t->tcp_reading = true;
		else
			t->tcp_failed = true;
	}
	if (t->close_requested)
		return;
	if (t->kept == NULL && t->down >= DOWN_EOF && t->down != DOWN_DONE &&
	    !t->peer_closed) {
		ssh_channel_send_eof(t->ch);
		t->down = DOWN_DONE;
	}

	/* SSH -> TCP: pull what libssh kept, pass EOF on once delivered. */
	tunnel_pull_kept(t);
	if (t->up == UP_OPEN && !t->peer_closed && t->ssh_kept == 0 &&
	    !t->tcp_failed && t->up < UP_SHUTTING &&
	    t->tcp_queued < TUNNEL_TCP_LOW_WATER_BYTES &&
	    (!t->window_raised ||
	    t->bytes_in - t->window_mark >= TUNNEL_WINDOW_RAISE_BYTES))
		tunnel_raise_window(t);
	if (t->up >= UP_EOF && t->ssh_kept == 0 && !t->tcp_failed)
		tunnel_shutdown_tcp(t);

	if (t->peer_closed) {
		/* Nothing more comes; what libssh holds is still delivered. */
		tunnel_stop_reading(t);
		if (t->ssh_kept > 0 && !t->tcp_failed)
			return;
		tunnel_close(t, t->down == DOWN_DONE ? "eof" : "closed by client");
		return;
	}
	if (t->tcp_failed) {
		tunnel_close(t, "target connection lost");
		return;
	}
	if (t->down == DOWN_DONE && t->up == UP_DONE)
		tunnel_close(t, "eof");
}

/* Ends t with reason (audited); the rest happens in its steps. */
void
tunnel_close(struct tunnel *t, const char *reason)
{
	if (t->close_requested)
		return;
	if (t->open_msg != NULL && t->ops->unanswered != NULL) {
		t->ops->unanswered(t, reason);	/* refuses, and ends t */
		return;
	}
	t->close_requested = true;
	t->close_reason = reason;
	if (t->state == TUNNEL_OPEN) {
		__atomic_sub_fetch(&tunnel_live, 1, __ATOMIC_RELAXED);
		tunnel_stop_timer(t);	/* an idle timer is no linger */
	}
	t->state = TUNNEL_CLOSING;
	tunnel_stop_reading(t);
	session_run(t->s, &t->member);
}

/* The channel goes: closed first while the session lives, never inside
 * one of its callbacks (we are in a step). */
static bool
tunnel_free_channel(struct tunnel *t)
{
	if (t->ch == NULL)
		return true;
	/*
	 * Close (send CLOSE, also in answer to the client's) every channel
	 * that was open, never one that was not: its remote id is not set.
	 */
	if (!session_dying(t->s) && t->was_open && !t->channel_closed) {
		if (ssh_channel_close(t->ch) == SSH_AGAIN) {
			session_wait_ssh(t->s, &t->member);
			return false;
		}
		t->channel_closed = true;
	}
	ssh_remove_channel_callbacks(t->ch, &t->cb);
	ssh_channel_free(t->ch);
	t->ch = NULL;
	if (t->was_open)
		tunnel_audit_close(t);
	return true;
}

/*
 * Closing: what was queued for the target is written first (bounded by
 * TUNNEL_LINGER_MS), the channel is closed until libssh has sent CLOSE,
 * then freed, and t with it once its handles are closed.
 */
static void
tunnel_finish(struct tunnel *t)
{
	tunnel_flush(t);
	if (t->tcp_open && !uv_is_closing((uv_handle_t *)&t->tcp)) {
		if (t->tcp_queued > 0 && !t->tcp_failed) {
			tunnel_shutdown_tcp(t);
			if (!t->timer_open ||
			    !uv_is_active((uv_handle_t *)&t->timer))
				tunnel_start_timer(t, TUNNEL_LINGER_MS);
		}
		if (t->tcp_queued == 0 || t->tcp_failed ||
		    (t->up >= UP_SHUTTING && t->up == UP_DONE))
			tunnel_close_tcp(t);
	}
	if (!tunnel_free_channel(t))
		return;
	if (!t->tcp_open && t->timer_open &&
	    !uv_is_closing((uv_handle_t *)&t->timer))
		uv_close((uv_handle_t *)&t->timer, tunnel_on_handle_closed);
	if (tunnel_done(t))
		tunnel_free(t);
}

static void
tunnel_on_timer(uv_timer_t *timer)
{
	struct tunnel	*t = timer->data;

	if (t->state == TUNNEL_OPEN && !t->close_requested) {
		/* Idle since data came: libssh's receive buffer goes. */
		if (t->ch != NULL && t->ssh_kept == 0)
			compat_channel_shrink(t->ch);
	} else if (t->state == TUNNEL_CLOSING) {
		/* The target did not take the rest in time. */
		t->tcp_failed = true;
		tunnel_close_tcp(t);
	} else if (!t->close_requested)
		t->ops->timeout(t);
	tunnel_kick(t);
}
static void
tunnel_step(void *arg)
{
	struct tunnel	*t = arg;

	if (session_dying(t->s) && !t->close_requested)
		tunnel_close(t, "session ended");
	if (t->state == TUNNEL_OPENING && !t->close_requested &&
	    t->ops->opening != NULL)
		t->ops->opening(t);
	if (t->state == TUNNEL_OPEN && !t->close_requested) {
		tunnel_pump(t);
		if (t->shrink_due && !t->close_requested) {
			t->shrink_due = false;
			tunnel_start_timer(t, TUNNEL_IDLE_SHRINK_MS);
		}
	}
	if (t->close_requested)
		tunnel_finish(t);
}

/*
 * The session is going: the open is refused on the record, the channel
 * freed now (before the session), what was queued for the target still
 * written (tunnel_finish, bounded in time).
 */
static void
tunnel_on_session_end(void *arg, const char *reason)
{
	struct tunnel	*t = arg;

	tunnel_close(t, reason);	/* an unanswered open is refused */
	tunnel_free_channel(t);
	session_run(t->s, &t->member);
}

static void
tunnel_on_reload(void *arg)
{
	struct tunnel	*t = arg;

	if (!t->close_requested && !t->ops->still_allowed(t))
		tunnel_close(t, "policy_reload");
}
