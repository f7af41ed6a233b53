/*
 * tunnel: a TCP connection carried by one SSH channel.  Deciding and
 * connecting a direct-tcpip open (the open is answered only when that is
 * over), and the pump both kinds of tunnel share: bytes both ways, flow
 * control, half-close, close, and the audit records of it all.
 *
 * Memory per tunnel is bounded whatever the peers do: toward the target,
 * TUNNEL_TCP_HIGH_WATER_BYTES queued (plus what libssh holds, which the
 * window we grant bounds and TUNNEL_CHANNEL_BUFFER_MAX_BYTES enforces);
 * toward the client, one TCP read kept when the channel cannot take it,
 * and the session's bound on libssh's output (session_may_feed) whatever
 * window the client grants.  An idle tunnel holds no buffer: reads land
 * in the worker's buffer and only what the channel does not take is kept.
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

#include "addr.h"
#include "audit.h"
#include "config.h"
#include "libssh_compat.h"
#include "log.h"
#include "lookup.h"
#include "policy.h"
#include "session.h"
#include "tunnel.h"

#define TUNNEL_ADDRS_MAX	LOOKUP_ADDRS_MAX
#define TUNNEL_READ_BYTES	(64 * 1024)	/* one TCP read */
#define TUNNEL_TCP_HIGH_WATER_BYTES (256 * 1024) /* queued to TCP: stop */
#define TUNNEL_TCP_LOW_WATER_BYTES  (64 * 1024)	 /* ...and resume */
/* Gathering packets for one write to TCP (tunnel_on_channel_data). */
#define TUNNEL_GATHER_BYTES	(256 * 1024)	/* per tunnel: write now */
#define TUNNEL_GATHER_PIECES	8		/* ...as many pieces */
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
#define TUNNEL_CHANNEL_BUFFER_MAX_BYTES (TUNNEL_WINDOW_FAR_BYTES + 35000)
#define TUNNEL_LINGER_MS	5000	/* flushing to TCP after the end */
/* Idle this long after data came: libssh's receive buffer is given back. */
#define TUNNEL_IDLE_SHRINK_MS	1000
#define TUNNEL_RULE_MAX		256

#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))

enum tunnel_kind {
	TUNNEL_DIRECT,		/* direct-tcpip: client -> target */
	TUNNEL_FORWARDED	/* forwarded-tcpip: bastion listener -> client */
};

enum tunnel_state {
	TUNNEL_RESOLVING,
	TUNNEL_CONNECTING,
	TUNNEL_OPENING,		/* forwarded: our channel open in flight */
	TUNNEL_OPEN,
	TUNNEL_CLOSING
};

struct tunnel {
	struct session_member	 member;
	struct session		*s;
	enum tunnel_kind	 kind;
	enum tunnel_state	 state;
	unsigned		 id;		/* channel number in the audit */
	ssh_message		 open_msg;	/* held until answered */
	ssh_channel		 ch;
	struct ssh_channel_callbacks_struct cb;

	/* The target as asked, and what deciding made of it. */
	char			 target[ADDR_NAME_MAX + 16];
	char			 origin[ADDR_TEXT_MAX];
	struct host		 host;
	uint16_t		 port;
	struct ip_addr		 addrs[TUNNEL_ADDRS_MAX];
	size_t			 naddrs;
	bool			 allowed[TUNNEL_ADDRS_MAX];
	size_t			 next_addr;
	char			 rule[TUNNEL_RULE_MAX];	/* file:line */
	const char		*fail_reason;	/* why the open is refused */
	struct ip_addr		 connected_ip;

	/* Forwarded only: the listener's request, for the channel open. */
	char			*fwd_bind;
	uint16_t		 fwd_port;
	char			 fwd_local[ADDR_TEXT_MAX]; /* accepted on */
	char			 fwd_oip[ADDR_TEXT_MAX];	/* originator */
	uint16_t		 fwd_oport;

	struct lookup		*lookup;
	uv_connect_t		 connect_req;
	uv_tcp_t		 tcp;
	bool			 tcp_open;	/* handle initialised, not closed */
	uv_timer_t		 timer;		/* connect timeout, linger */
	bool			 timer_open;
	uv_shutdown_t		 shutdown_req;
	uint64_t		 connect_start_ms;

	/* SSH -> TCP */
	size_t			 tcp_queued;	/* bytes in uv_write requests */
	size_t			 ssh_kept;	/* bytes libssh holds for us */
	uv_buf_t		 gather[TUNNEL_GATHER_PIECES]; /* to write */
	unsigned		 ngather;
	size_t			 gathered;	/* their bytes */
	struct tunnel		*gather_next;	/* in this thread's list */
	bool			 gather_linked;
	uint64_t		 window_mark;	/* bytes_in at the last raise */
	uint32_t		 window;	/* what a raise grants */
	uint64_t		 open_us;	/* when the channel opened */
	bool			 window_raised;
	bool			 got_data;	/* first data came */
	bool			 shrink_due;	/* data came since the last */
	bool			 ssh_eof;	/* peer sent EOF */
	bool			 tcp_shutdown;	/* shutdown(SHUT_WR) requested */
	bool			 tcp_shutdown_done;
	/* TCP -> SSH: a read the channel did not take at once. */
	char			*kept;
	size_t			 klen, koff;
	bool			 tcp_reading;
	bool			 tcp_eof;
	bool			 ssh_eof_sent;

	bool			 peer_closed;	/* channel CLOSE received */
	bool			 tcp_failed;
	bool			 close_requested;
	const char		*close_reason;
	bool			 channel_closed;
	bool			 was_open;	/* pumped: channel_close due */
	bool			 pending;	/* counts as an open in progress */
	unsigned		 handles;	/* open uv handles */
	uint64_t		 bytes_in, bytes_out;
	uint64_t		 start_ms;
};

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
static void	tunnel_connect_next(struct tunnel *);
static void	tunnel_close(struct tunnel *, const char *);

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

static const char *
tunnel_type(const struct tunnel *t)
{
	return t->kind == TUNNEL_DIRECT ? "direct-tcpip" : "forwarded-tcpip";
}

/* Something happened to t: it is stepped by its session, now. */
static void
tunnel_kick(struct tunnel *t)
{
	session_run(t->s, &t->member);
	session_step(t->s);
}

/* ---------------------------------------------------------------- audit */

/* The one place a channel_open record is built. */
static void
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

static void
tunnel_audit_open(struct tunnel *t, const char *decision, const char *result,
    const char *reason)
{
	tunnel_audit_open_rec(t->s, t->id, tunnel_type(t), t->target,
	    t->origin, decision, t->rule, t->addrs, t->naddrs, result, reason);
}

static void
tunnel_audit_connect(struct tunnel *t, const struct ip_addr *a, int status)
{
	struct audit_rec	r;
	char			text[ADDR_TEXT_MAX];

	if (addr_format_port(a, t->port, text, sizeof(text)) == -1)
		snprintf(text, sizeof(text), "?");
	audit_rec_begin(&r, audit_now_ms(), "connect", session_id(t->s));
	audit_rec_u64(&r, "channel", t->id);
	audit_rec_str(&r, "addr", text);
	audit_rec_str(&r, "result", status == 0 ? "ok" : uv_err_name(status));
	audit_rec_u64(&r, "ms", audit_now_ms() - t->connect_start_ms);
	audit_rec_end(&r);
	audit_emit(&r);
}

static void
tunnel_audit_close(struct tunnel *t)
{
	struct audit_rec	r;

	audit_rec_begin(&r, audit_now_ms(), "channel_close", session_id(t->s));
	audit_rec_u64(&r, "channel", t->id);
	audit_rec_str(&r, "type", tunnel_type(t));
	audit_rec_str(&r, "target", t->target);
	audit_rec_u64(&r, "bytes_in", t->bytes_in);
	audit_rec_u64(&r, "bytes_out", t->bytes_out);
	audit_rec_u64(&r, "duration_ms", audit_now_ms() - t->start_ms);
	audit_rec_str(&r, "reason", t->close_reason);
	audit_rec_end(&r);
	audit_emit(&r);
}

/* ---------------------------------------------------------------- refusals */

static const char *
tunnel_channel_type(int subtype)
{
	switch (subtype) {
	case SSH_CHANNEL_SESSION:
		return "session";
	case SSH_CHANNEL_DIRECT_TCPIP:
		return "direct-tcpip";
	case SSH_CHANNEL_FORWARDED_TCPIP:
		return "forwarded-tcpip";
	case SSH_CHANNEL_X11:
		return "x11";
	case SSH_CHANNEL_AUTH_AGENT:
		return "auth-agent";
	default:
		return "unknown";
	}
}

/* "host:port" and "ip:port" of a direct-tcpip open, as asked. */
static void
tunnel_format_request(ssh_message m, char *target, size_t tlen,
    char *origin, size_t olen)
{
	const char	*dest, *orig;
	int		 port, oport;

	dest = ssh_message_channel_request_open_destination(m);
	port = ssh_message_channel_request_open_destination_port(m);
	orig = ssh_message_channel_request_open_originator(m);
	oport = ssh_message_channel_request_open_originator_port(m);
	if (dest == NULL)
		dest = "";
	snprintf(target, tlen, strchr(dest, ':') != NULL ? "[%.*s]:%d" :
	    "%.*s:%d", ADDR_NAME_MAX, dest, port);
	snprintf(origin, olen, "%.40s:%d", orig != NULL ? orig : "", oport);
}

/* The failure, preceded by the reason as a debug message for `ssh -v`. */
static void
tunnel_reply_refused(struct session *s, ssh_message m, const char *target,
    const char *reason)
{
	char	safe[ADDR_NAME_MAX + 16], line[512];

	if (target != NULL) {
		log_printable(target, safe, sizeof(safe));
		snprintf(line, sizeof(line), "hopd: open %s refused: %s", safe,
		    reason);
	} else
		snprintf(line, sizeof(line), "hopd: channel refused: %s",
		    reason);
	ssh_send_debug(session_ssh(s), line, 1);
	ssh_message_reply_default(m);
}

void
tunnel_refuse_open(struct session *s, ssh_message m, const char *reason,
    bool audit)
{
	char	target[ADDR_NAME_MAX + 16], origin[ADDR_TEXT_MAX];
	int	subtype = ssh_message_subtype(m);
	bool	direct = subtype == SSH_CHANNEL_DIRECT_TCPIP;

	if (direct)
		tunnel_format_request(m, target, sizeof(target), origin,
		    sizeof(origin));
	if (audit) {
		tunnel_audit_open_rec(s, session_next_channel(s),
		    tunnel_channel_type(subtype), direct ? target : NULL,
		    direct ? origin : NULL, "deny", NULL, NULL, 0, "refused",
		    reason);
		tunnel_reply_refused(s, m, direct ? target : NULL, reason);
	} else
		ssh_message_reply_default(m);
	ssh_message_free(m);
}

/* ---------------------------------------------------------------- lifetime */

static struct tunnel *
tunnel_new(struct session *s, enum tunnel_kind kind)
{
	struct tunnel	*t;

	if (!session_take_channel(s))
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		session_give_channel(s);
		return NULL;
	}
	t->s = s;
	t->kind = kind;
	t->start_ms = audit_now_ms();
	session_join(s, &t->member, &tunnel_member_ops, t);
	return t;
}

/* Gone: nothing of t is left anywhere (no handle, request or channel). */
static void
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
		if (t->state == TUNNEL_CONNECTING && !t->close_requested) {
			tunnel_connect_next(t);
		}
	}
	tunnel_kick(t);
}

static void
tunnel_close_tcp(struct tunnel *t)
{
	if (t->tcp_open && !uv_is_closing((uv_handle_t *)&t->tcp))
		uv_close((uv_handle_t *)&t->tcp, tunnel_on_handle_closed);
}

static void
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

static void
tunnel_stop_timer(struct tunnel *t)
{
	if (t->timer_open)
		uv_timer_stop(&t->timer);
}

/* The open is answered (or will never be): it is no longer pending. */
static void
tunnel_decided(struct tunnel *t)
{
	if (t->open_msg != NULL) {
		ssh_message_free(t->open_msg);
		t->open_msg = NULL;
	}
	if (t->pending) {
		t->pending = false;
		session_open_decided(t->s);
	}
}

/*
 * Refuses a direct-tcpip open: the reason goes to the client as a debug
 * message (`ssh -v` prints it; libssh 0.10 can only send "administratively
 * prohibited" in the failure itself), to the audit trail and to the log.
 */
static void
tunnel_refuse(struct tunnel *t, const char *decision, const char *reason)
{
	if (t->open_msg != NULL && !session_dying(t->s))
		tunnel_reply_refused(t->s, t->open_msg, t->target, reason);
	tunnel_decided(t);
	tunnel_audit_open(t, decision, "refused", reason);
	t->close_reason = reason;
	t->close_requested = true;
	t->state = TUNNEL_CLOSING;
	if (t->lookup != NULL) {
		lookup_abandon(t->lookup);
		t->lookup = NULL;
	}
	tunnel_close_tcp(t);
	session_run(t->s, &t->member);
}

static const char *
tunnel_connect_error(int status)
{
	switch (status) {
	case UV_ECONNREFUSED:
		return "connection refused";
	case UV_ETIMEDOUT:
		return "timed out";
	case UV_ENETUNREACH:
	case UV_EHOSTUNREACH:
		return "no route to host";
	default:
		return "connect failed";
	}
}

/* ---------------------------------------------------------------- SSH -> TCP */

static void
tunnel_on_channel_eof(ssh_session ss, ssh_channel ch, void *arg)
{
	struct tunnel	*t = arg;

	t->ssh_eof = true;
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
	    t->tcp_shutdown || t->close_requested) {
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
		tunnel_scratch = malloc(TUNNEL_WINDOW_FAR_BYTES);
	return tunnel_scratch;
}

/* Pulls what libssh kept back once the TCP side has drained. */
static void
tunnel_pull_kept(struct tunnel *t)
{
	char	*buf;
	size_t	 want;
	int	 n;

	while (t->ssh_kept > 0 && !t->tcp_failed && !t->tcp_shutdown &&
	    t->tcp_queued < TUNNEL_TCP_LOW_WATER_BYTES) {
		if ((buf = tunnel_scratch_buffer()) == NULL)
			return;
		want = TUNNEL_TCP_HIGH_WATER_BYTES - t->tcp_queued;
		if (want > t->ssh_kept)
			want = t->ssh_kept;
		n = ssh_channel_read_nonblocking(t->ch, buf, want, 0);
		if (n <= 0) {
			t->ssh_kept = 0;
			return;
		}
		t->ssh_kept = (size_t)n < t->ssh_kept ? t->ssh_kept - n : 0;
		tunnel_write_tcp(t, buf, n);
	}
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

/* ---------------------------------------------------------------- TCP -> SSH */

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
	if (nread < 0) {
		tunnel_stop_reading(t);
		t->tcp_eof = true;
		if (nread != UV_EOF && nread != UV_ENOBUFS) {
			log_verbose("session %s channel %u: read from target: "
			    "%s", session_id(t->s), t->id, uv_strerror(nread));
			t->tcp_failed = true;
		} else if (nread == UV_ENOBUFS) {
			t->tcp_eof = false;	/* no buffer: try later */
			session_wait_ssh(t->s, &t->member);
			return;
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

/* ---------------------------------------------------------------- the pump */

static void
tunnel_on_shutdown(uv_shutdown_t *req, int status)
{
	struct tunnel	*t = container_of(req, struct tunnel, shutdown_req);

	t->tcp_shutdown_done = true;
	if (status < 0 && status != UV_ECANCELED)
		t->tcp_failed = true;
	tunnel_kick(t);
}

static void
tunnel_shutdown_tcp(struct tunnel *t)
{
	if (t->tcp_shutdown || !t->tcp_open)
		return;
	t->tcp_shutdown = true;
	if (uv_shutdown(&t->shutdown_req, (uv_stream_t *)&t->tcp,
	    tunnel_on_shutdown) < 0) {
		t->tcp_shutdown_done = true;
		t->tcp_failed = true;
	}
}

static void
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
	} else if (!t->tcp_reading && !t->tcp_eof && !t->peer_closed &&
	    !t->close_requested) {
		if (uv_read_start((uv_stream_t *)&t->tcp, tunnel_on_tcp_alloc,
		    tunnel_on_tcp_read) == 0)
			t->tcp_reading = true;
		else
			t->tcp_failed = true;
	}
	if (t->close_requested)
		return;
	if (t->kept == NULL && t->tcp_eof && !t->ssh_eof_sent &&
	    !t->peer_closed) {
		ssh_channel_send_eof(t->ch);
		t->ssh_eof_sent = true;
	}

	/* SSH -> TCP: pull what libssh kept, pass EOF on once delivered. */
	tunnel_pull_kept(t);
	if (!t->ssh_eof && !t->peer_closed && t->ssh_kept == 0 &&
	    !t->tcp_failed && !t->tcp_shutdown &&
	    t->tcp_queued < TUNNEL_TCP_LOW_WATER_BYTES &&
	    (!t->window_raised ||
	    t->bytes_in - t->window_mark >= TUNNEL_WINDOW_RAISE_BYTES))
		tunnel_raise_window(t);
	if (t->ssh_eof && t->ssh_kept == 0 && !t->tcp_failed)
		tunnel_shutdown_tcp(t);

	if (t->peer_closed) {
		/* Nothing more comes; what libssh holds is still delivered. */
		tunnel_stop_reading(t);
		if (t->ssh_kept > 0 && !t->tcp_failed)
			return;
		tunnel_close(t, t->ssh_eof_sent ? "eof" : "closed by client");
		return;
	}
	if (t->tcp_failed) {
		tunnel_close(t, "target connection lost");
		return;
	}
	if (t->ssh_eof_sent && t->tcp_shutdown_done)
		tunnel_close(t, "eof");
}

/* Ends t with reason (audited); the rest happens in its steps. */
static void
tunnel_close(struct tunnel *t, const char *reason)
{
	if (t->close_requested)
		return;
	if (t->open_msg != NULL) {
		tunnel_refuse(t, strcmp(reason, "policy_reload") == 0 ? "deny" :
		    "allow", reason);
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
		    (t->tcp_shutdown && t->tcp_shutdown_done))
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

/* ---------------------------------------------------------------- direct */

/* The connect succeeded: now the client's open is accepted. */
static void
tunnel_accept(struct tunnel *t)
{
	tunnel_stop_timer(t);
	if ((t->ch = ssh_channel_new(session_ssh(t->s))) == NULL) {
		tunnel_refuse(t, "allow", "out of memory");
		return;
	}
	memset(&t->cb, 0, sizeof(t->cb));
	t->cb.userdata = t;
	t->cb.channel_data_function = tunnel_on_channel_data;
	t->cb.channel_eof_function = tunnel_on_channel_eof;
	t->cb.channel_close_function = tunnel_on_channel_close;
	ssh_callbacks_init(&t->cb);
	ssh_set_channel_callbacks(t->ch, &t->cb);
	if (ssh_message_channel_request_open_reply_accept_channel(t->open_msg,
	    t->ch) != SSH_OK) {
		tunnel_decided(t);
		tunnel_audit_open(t, "allow", "refused", "client gone");
		tunnel_close(t, "client gone");
		return;
	}
	tunnel_decided(t);
	tunnel_audit_open(t, "allow", "open", "connected");
	tunnel_start_pump(t);
}

static void
tunnel_on_connect(uv_connect_t *req, int status)
{
	struct tunnel	*t = container_of(req, struct tunnel, connect_req);

	if (status == UV_ECANCELED)
		return;		/* we closed it; the close callback goes on */
	tunnel_audit_connect(t, &t->addrs[t->next_addr - 1], status);
	if (t->state == TUNNEL_CONNECTING && !t->close_requested) {
		if (status < 0) {
			t->fail_reason = tunnel_connect_error(status);
			tunnel_close_tcp(t);	/* its close tries the next */
		} else {
			t->connected_ip = t->addrs[t->next_addr - 1];
			tunnel_accept(t);
		}
	}
	tunnel_kick(t);
}

static void
tunnel_connect_next(struct tunnel *t)
{
	struct sockaddr_storage	 ss;
	const struct ip_addr	*a;
	int			 rc;

	while (t->next_addr < t->naddrs && !t->allowed[t->next_addr])
		t->next_addr++;
	if (t->next_addr == t->naddrs) {
		tunnel_refuse(t, "allow", t->fail_reason != NULL ?
		    t->fail_reason : "connection refused");
		return;
	}
	a = &t->addrs[t->next_addr++];
	addr_to_sockaddr(a, t->port, &ss);
	uv_tcp_init(session_loop(t->s), &t->tcp);
	t->tcp.data = t;
	t->tcp_open = true;
	t->handles++;
	t->connect_start_ms = audit_now_ms();
	rc = uv_tcp_connect(&t->connect_req, &t->tcp, (struct sockaddr *)&ss,
	    tunnel_on_connect);
	if (rc == 0)
		return;
	tunnel_audit_connect(t, a, rc);
	t->fail_reason = tunnel_connect_error(rc);
	/* Its close callback comes back here for the next address. */
	tunnel_close_tcp(t);
}

/* Every resolved address decided alone; connect to the allowed ones. */
static void
tunnel_decide(struct tunnel *t)
{
	struct verdict	 v[TUNNEL_ADDRS_MAX], d;
	size_t		 i, n;

	n = policy_decide_target(session_config(t->s)->policy,
	    session_user(t->s), &t->host, t->port, t->addrs, t->naddrs, v, &d);
	for (i = 0; i < t->naddrs; i++)
		t->allowed[i] = v[i].allow;
	policy_rule_origin(d.rule, t->rule, sizeof(t->rule));
	if (n == 0) {
		log_verbose("session %s channel %u: %s denied: %s (%s)",
		    session_id(t->s), t->id, t->host.text, d.reason, t->rule);
		tunnel_refuse(t, "deny", "denied by policy");
		return;
	}
	t->state = TUNNEL_CONNECTING;
	tunnel_connect_next(t);
}

static void
tunnel_on_resolved(void *arg, int status, const struct ip_addr *addrs,
    size_t naddrs)
{
	struct tunnel	*t = arg;

	t->lookup = NULL;
	if (t->state == TUNNEL_RESOLVING && !t->close_requested) {
		if (status < 0 || naddrs == 0) {
			tunnel_refuse(t, "deny", status == UV_EAI_NONAME ||
			    (status == 0 && naddrs == 0) ? "unknown host" :
			    "name resolution failed");
		} else {
			memcpy(t->addrs, addrs, naddrs * sizeof(addrs[0]));
			t->naddrs = naddrs;
			tunnel_decide(t);
		}
	}
	tunnel_kick(t);
}

static void
tunnel_on_timer(uv_timer_t *timer)
{
	struct tunnel	*t = timer->data;

	if (t->state == TUNNEL_RESOLVING || t->state == TUNNEL_CONNECTING) {
		tunnel_refuse(t, t->state == TUNNEL_RESOLVING ? "deny" :
		    "allow", "timed out");
	} else if (t->state == TUNNEL_OPENING) {
		tunnel_audit_open(t, "allow", "refused",
		    "client did not answer");
		tunnel_close(t, "client did not answer");
	} else if (t->state == TUNNEL_OPEN && !t->close_requested) {
		/* Idle since data came: libssh's receive buffer goes. */
		if (t->ch != NULL && t->ssh_kept == 0)
			compat_channel_shrink(t->ch);
	} else if (t->state == TUNNEL_CLOSING) {
		/* The target did not take the rest in time. */
		t->tcp_failed = true;
		tunnel_close_tcp(t);
	}
	tunnel_kick(t);
}

/* A refusal decided before any tunnel exists (m is taken). */
static void
tunnel_refuse_early(struct session *s, ssh_message m, const char *target,
    const char *origin, const char *rule, const char *reason, bool audit)
{
	if (audit) {
		tunnel_audit_open_rec(s, session_next_channel(s),
		    "direct-tcpip", target, origin, "deny", rule, NULL, 0,
		    "refused", reason);
		tunnel_reply_refused(s, m, target, reason);
	} else
		ssh_message_reply_default(m);
	ssh_message_free(m);
	session_open_decided(s);
}

void
tunnel_open_direct(struct session *s, ssh_message m)
{
	const struct config	*c = session_config(s);
	struct tunnel		*t;
	struct verdict		 v;
	struct host		 host;
	enum lookup_refusal	 lr;
	const char		*dest, *why = NULL, *cap;
	char			 target[ADDR_NAME_MAX + 16];
	char			 origin[ADDR_TEXT_MAX];
	char			 rule[TUNNEL_RULE_MAX];
	int			 port;

	/* Everything that can be decided at once, before allocating. */
	tunnel_format_request(m, target, sizeof(target), origin,
	    sizeof(origin));
	dest = ssh_message_channel_request_open_destination(m);
	port = ssh_message_channel_request_open_destination_port(m);
	if (dest == NULL || addr_parse_host(dest, &host, &why) == -1 ||
	    port < 1 || port > 65535) {
		log_verbose("session %s: invalid target: %s", session_id(s),
		    why != NULL ? why : "bad port");
		tunnel_refuse_early(s, m, target, origin, NULL,
		    "invalid target", true);
		return;
	}
	if (!policy_precheck(c->policy, session_user(s), &host, port, &v)) {
		policy_rule_origin(v.rule, rule, sizeof(rule));
		log_verbose("session %s: %s denied: %s (%s)", session_id(s),
		    host.text, v.reason, rule);
		tunnel_refuse_early(s, m, target, origin, rule,
		    "denied by policy", true);
		return;
	}
	if ((t = tunnel_new(s, TUNNEL_DIRECT)) == NULL) {
		tunnel_refuse_early(s, m, target, origin, NULL,
		    "out of memory", true);
		return;
	}
	t->open_msg = m;
	t->pending = true;
	t->host = host;
	t->port = port;
	memcpy(t->target, target, sizeof(t->target));
	memcpy(t->origin, origin, sizeof(t->origin));
	if (host.kind == HOST_NAME) {
		lr = lookup_start(session_loop(s), session_user(s), host.text,
		    c->max_lookups_per_user, c->max_lookups, TUNNEL_ADDRS_MAX,
		    tunnel_on_resolved, t, &t->lookup);
		if (lr != LOOKUP_OK) {
			/* Nothing of t is in the loop yet: it goes at once. */
			cap = lr == LOOKUP_USER_CAP ? "too many lookups in "
			    "progress (max_lookups_per_user)" :
			    lr == LOOKUP_PROCESS_CAP ? "too many lookups in "
			    "progress (max_lookups)" : "name resolution failed";
			t->open_msg = NULL;
			t->pending = false;
			tunnel_free(t);
			tunnel_refuse_early(s, m, target, origin, NULL, cap,
			    lr == LOOKUP_FAILED || session_cap_refused(s, cap));
			return;
		}
		t->id = session_next_channel(s);
		t->state = TUNNEL_RESOLVING;
		tunnel_start_timer(t, c->connect_timeout_ms);
		return;
	}
	t->id = session_next_channel(s);
	t->addrs[0] = host.ip;
	addr_normalize(&t->addrs[0]);
	t->naddrs = 1;
	tunnel_start_timer(t, c->connect_timeout_ms);
	tunnel_decide(t);
}

/* ---------------------------------------------------------------- forwarded */

struct tunnel *
tunnel_new_forwarded(struct session *s, const char *bind, uint16_t port,
    const char *local)
{
	struct tunnel	*t;

	if ((t = tunnel_new(s, TUNNEL_FORWARDED)) == NULL)
		return NULL;
	if ((t->fwd_bind = strdup(bind)) == NULL) {
		tunnel_free(t);
		return NULL;
	}
	t->id = session_next_channel(s);
	t->fwd_port = port;
	t->port = port;
	snprintf(t->fwd_local, sizeof(t->fwd_local), "%s", local);
	t->state = TUNNEL_OPENING;
	t->close_reason = "accept failed";
	uv_tcp_init(session_loop(s), &t->tcp);
	t->tcp.data = t;
	t->tcp_open = true;
	t->handles++;
	tunnel_start_timer(t, session_config(s)->connect_timeout_ms);
	snprintf(t->target, sizeof(t->target), "%.200s:%u", bind, port);
	return t;
}

uv_stream_t *
tunnel_forwarded_stream(struct tunnel *t)
{
	session_run(t->s, &t->member);
	return (uv_stream_t *)&t->tcp;
}

void
tunnel_forwarded_failed(struct tunnel *t)
{
	t->close_requested = true;
	t->state = TUNNEL_CLOSING;
	tunnel_close_tcp(t);
	session_run(t->s, &t->member);
}

/* Our forwarded-tcpip open towards the client; retried until answered. */
static void
tunnel_step_opening(struct tunnel *t)
{
	struct ip_addr	a;
	uint16_t	oport = 0;
	char		oip[ADDR_TEXT_MAX] = "127.0.0.1";
	struct sockaddr_storage ss;
	int		len = sizeof(ss), rc;

	if (t->ch == NULL) {
		if ((t->ch = ssh_channel_new(session_ssh(t->s))) == NULL) {
			tunnel_close(t, "out of memory");
			return;
		}
		/*
		 * Before the open goes out: the client's confirmation, data,
		 * EOF and CLOSE may all come in one burst, and an EOF seen by
		 * no callback would be lost.
		 */
		memset(&t->cb, 0, sizeof(t->cb));
		t->cb.userdata = t;
		t->cb.channel_data_function = tunnel_on_channel_data;
		t->cb.channel_eof_function = tunnel_on_channel_eof;
		t->cb.channel_close_function = tunnel_on_channel_close;
		ssh_callbacks_init(&t->cb);
		ssh_set_channel_callbacks(t->ch, &t->cb);
		if (uv_tcp_getpeername(&t->tcp, (struct sockaddr *)&ss,
		    &len) == 0 &&
		    addr_from_sockaddr((struct sockaddr *)&ss, &a, &oport) == 0)
			addr_format(&a, oip, sizeof(oip));
		snprintf(t->origin, sizeof(t->origin), "%s:%u", oip, oport);
		t->fwd_oport = oport;
		snprintf(t->fwd_oip, sizeof(t->fwd_oip), "%s", oip);
	}
	rc = ssh_channel_open_reverse_forward(t->ch, t->fwd_bind, t->fwd_port,
	    t->fwd_oip, t->fwd_oport);
	if (rc == SSH_AGAIN) {
		session_wait_ssh(t->s, &t->member);
		return;
	}
	if (rc != SSH_OK) {
		tunnel_audit_open(t, "allow", "refused",
		    "client refused the channel");
		tunnel_close(t, "client refused the channel");
		return;
	}
	tunnel_stop_timer(t);
	tunnel_audit_open(t, "allow", "open", "client accepted");
	tunnel_start_pump(t);
}

/* ---------------------------------------------------------------- members */

static void
tunnel_step(void *arg)
{
	struct tunnel	*t = arg;

	if (session_dying(t->s) && !t->close_requested)
		tunnel_close(t, "session ended");
	if (t->state == TUNNEL_OPENING && !t->close_requested)
		tunnel_step_opening(t);
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

	if (t->open_msg != NULL) {
		tunnel_decided(t);
		tunnel_audit_open(t, t->naddrs > 0 ? "allow" : "deny",
		    "refused", reason);
	}
	if (t->lookup != NULL) {
		lookup_abandon(t->lookup);
		t->lookup = NULL;
	}
	tunnel_close(t, reason);
	tunnel_free_channel(t);
	session_run(t->s, &t->member);
}

/*
 * After a reload: an open direct tunnel is decided again for the address it
 * is connected to; one still connecting has its remaining addresses decided
 * again, and loses if the one it is trying is no longer allowed.  A
 * forwarded one is decided again by the listen rules for the address and
 * port that accepted it, whether its listener is still there or not.
 */
static bool
tunnel_still_allowed(struct tunnel *t)
{
	const struct policy	*p = session_config(t->s)->policy;
	const char		*user = session_user(t->s);
	struct verdict		 v[TUNNEL_ADDRS_MAX];
	size_t			 i;

	if (t->close_requested)
		return true;
	if (t->kind == TUNNEL_FORWARDED)
		return policy_listen_port_allowed(p, user, t->fwd_local,
		    t->fwd_port);
	if (t->state == TUNNEL_CONNECTING) {
		if (!policy_precheck(p, user, &t->host, t->port, v))
			return false;
		policy_decide(p, user, &t->host, t->port, t->addrs, t->naddrs,
		    v);
		for (i = 0; i < t->naddrs; i++)
			t->allowed[i] = t->allowed[i] && v[i].allow;
		return t->next_addr == 0 || t->allowed[t->next_addr - 1];
	}
	if (t->state != TUNNEL_OPEN)
		return true;	/* resolving: decided under the new policy */
	if (!policy_precheck(p, user, &t->host, t->port, v))
		return false;
	return policy_decide(p, user, &t->host, t->port, &t->connected_ip, 1,
	    v) == 1;
}

static void
tunnel_on_reload(void *arg)
{
	struct tunnel	*t = arg;

	if (!tunnel_still_allowed(t))
		tunnel_close(t, "policy_reload");
}
