/*
 * tunnel: a TCP connection carried by one SSH channel.  Deciding and
 * connecting a direct-tcpip open (the open is answered only when that is
 * over), and the pump both kinds of tunnel share: bytes both ways, flow
 * control, half-close, close, and the audit records of it all.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "audit.h"
#include "config.h"
#include "log.h"
#include "server.h"
#include "session.h"
#include "tunnel.h"

#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))

struct tunnel_write {
	uv_write_t	 req;
	struct tunnel	*t;
	size_t		 len;
	char		 data[];
};

static void	tunnel_on_timer(uv_timer_t *);
static void	tunnel_connect_next(struct tunnel *);
static void	tunnel_finish(struct tunnel *);

static const char *
tunnel_type(const struct tunnel *t)
{
	return t->kind == TUNNEL_DIRECT ? "direct-tcpip" : "forwarded-tcpip";
}

static uv_loop_t *
tunnel_loop(const struct tunnel *t)
{
	return t->s->poll.loop;
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
	session_step(t->s);
}

static void
tunnel_close_tcp(struct tunnel *t)
{
	if (t->tcp_open && !uv_is_closing((uv_handle_t *)&t->tcp))
		uv_close((uv_handle_t *)&t->tcp, tunnel_on_handle_closed);
}

static void
tunnel_audit_open(struct tunnel *t, const char *decision, const char *result,
    const char *reason)
{
	struct audit_rec	 r;
	char			 text[TUNNEL_ADDRS_MAX][ADDR_TEXT_MAX];
	const char		*addrs[TUNNEL_ADDRS_MAX];
	size_t			 i;

	for (i = 0; i < t->naddrs; i++) {
		if (addr_format(&t->addrs[i], text[i], sizeof(text[i])) == -1)
			snprintf(text[i], sizeof(text[i]), "?");
		addrs[i] = text[i];
	}
	audit_rec_begin(&r, audit_now_ms(), "channel_open", t->s->id);
	audit_rec_u64(&r, "channel", t->id);
	audit_rec_str(&r, "type", tunnel_type(t));
	audit_rec_str(&r, "user", t->s->user);
	audit_rec_str(&r, "target", t->target);
	audit_rec_str(&r, "origin", t->origin);
	audit_rec_str(&r, "decision", decision);
	audit_rec_str(&r, "rule", t->rule[0] != '\0' ? t->rule : "default");
	audit_rec_strv(&r, "addrs", addrs, t->naddrs);
	audit_rec_str(&r, "result", result);
	audit_rec_str(&r, "reason", reason);
	audit_rec_end(&r);
	audit_emit(&r);
}

static void
tunnel_audit_connect(struct tunnel *t, const struct ip_addr *a, int status)
{
	struct audit_rec	r;
	char			text[ADDR_TEXT_MAX];

	if (addr_format_port(a, t->port, text, sizeof(text)) == -1)
		snprintf(text, sizeof(text), "?");
	audit_rec_begin(&r, audit_now_ms(), "connect", t->s->id);
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

	audit_rec_begin(&r, audit_now_ms(), "channel_close", t->s->id);
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

static struct tunnel *
tunnel_new(struct session *s, enum tunnel_kind kind)
{
	struct tunnel	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->s = s;
	t->kind = kind;
	t->id = ++s->channel_seq;
	t->start_ms = audit_now_ms();
	uv_timer_init(s->poll.loop, &t->timer);
	t->timer.data = t;
	t->handles++;
	TAILQ_INSERT_TAIL(&s->tunnels, t, entry);
	s->nchannels++;
	return t;
}

/*
 * Refuses a direct-tcpip open: the reason goes to the client as a debug
 * message (`ssh -v` prints it; libssh 0.10 can only send "administratively
 * prohibited" in the failure itself), to the audit trail and to the log.
 */
static void
tunnel_refuse(struct tunnel *t, const char *decision, const char *reason)
{
	char	safe[sizeof(t->target)], line[512];

	log_printable(t->target, safe, sizeof(safe));
	snprintf(line, sizeof(line), "hopd: open %s refused: %s", safe,
	    reason);
	if (t->open_msg != NULL) {
		ssh_send_debug(t->s->ssh, line, 1);
		ssh_message_reply_default(t->open_msg);
		ssh_message_free(t->open_msg);
		t->open_msg = NULL;
		t->s->npending--;
	}
	tunnel_audit_open(t, decision, "refused", reason);
	t->close_reason = reason;
	t->close_requested = true;
	t->state = TUNNEL_CLOSING;
	tunnel_close_tcp(t);
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

static void
tunnel_on_channel_eof(ssh_session ss, ssh_channel ch, void *arg)
{
	struct tunnel	*t = arg;

	t->ssh_eof = true;
}

static void
tunnel_on_channel_close(ssh_session ss, ssh_channel ch, void *arg)
{
	struct tunnel	*t = arg;

	t->peer_closed = true;
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
		    t->s->id, t->id, uv_strerror(status));
		t->tcp_failed = true;
	}
	session_step(t->s);
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

static int
tunnel_write_tcp(struct tunnel *t, const char *data, size_t len)
{
	uv_buf_t	buf = uv_buf_init((char *)data, len);

	return tunnel_write_tcpv(t, &buf, 1);
}

/* Writes what the tunnel gathered (tunnel_gather) to its target. */
static void
tunnel_flush(struct tunnel *t)
{
	size_t	n = t->gathered;

	if (n == 0)
		return;
	if (!t->tcp_failed &&
	    tunnel_write_tcpv(t, t->gather, t->ngather) == 0) {
		t->bytes_in += n;
		t->s->bytes_in += n;
	}
	t->ngather = 0;
	t->gathered = 0;
}

void
tunnel_flush_gathered(struct session *s)
{
	struct tunnel	*t;

	TAILQ_FOREACH(t, &s->tunnels, entry)
		tunnel_flush(t);
	s->worker->gather_used = 0;
}

/*
 * Copies data for t into its worker's gather buffer, where it waits for
 * tunnel_flush_gathered(): at the end of the session's reads, or sooner
 * when the buffer, t's share of it or t's list of pieces is full.
 */
static int
tunnel_gather(struct tunnel *t, const char *data, size_t len)
{
	struct worker	*w = t->s->worker;
	uv_buf_t	*last;
	char		*at;

	if (len == 0)
		return 0;
	if (w->gather == NULL &&
	    (w->gather = malloc(TUNNEL_GATHER_ARENA_BYTES)) == NULL)
		return -1;
	at = w->gather + w->gather_used;
	last = t->ngather > 0 ? &t->gather[t->ngather - 1] : NULL;
	if (w->gather_used + len > TUNNEL_GATHER_ARENA_BYTES ||
	    (t->ngather == TUNNEL_GATHER_PIECES &&
	    last->base + last->len != at)) {
		tunnel_flush_gathered(t->s);
		at = w->gather;
		last = NULL;
	}
	memcpy(at, data, len);
	w->gather_used += len;
	if (last != NULL && last->base + last->len == at)
		last->len += len;
	else
		t->gather[t->ngather++] = uv_buf_init(at, len);
	t->gathered += len;
	if (t->gathered >= TUNNEL_GATHER_BYTES)
		tunnel_flush_gathered(t->s);
	return 0;
}

/*
 * SSH -> TCP.  libssh offers everything it buffered for the channel; we
 * take what fits under the high-water mark, and the rest stays in libssh,
 * which then stops growing the window: the client must stop sending.
 * While the session reads its socket (s->gathering), what we take is
 * gathered and written once the reads are over, as sshd does, rather than
 * in one write (and one wake-up of the target's reader) per packet.
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
		    "the open: window %u", t->s->id, t->id,
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
	if (t->s->gathering && tunnel_gather(t, data, n) == 0) {
		t->ssh_kept = len - n;
		return n;
	}
	tunnel_flush(t);
	if (tunnel_write_tcp(t, data, n) == -1) {
		t->ssh_kept = 0;
		return len;
	}
	t->bytes_in += n;
	t->s->bytes_in += n;
	t->ssh_kept = len - n;
	return n;
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
		want = TUNNEL_TCP_HIGH_WATER_BYTES - t->tcp_queued;
		if (want > t->ssh_kept)
			want = t->ssh_kept;
		if ((buf = malloc(want)) == NULL)
			return;
		n = ssh_channel_read_nonblocking(t->ch, buf, want, 0);
		if (n <= 0) {
			free(buf);
			t->ssh_kept = 0;
			return;
		}
		t->ssh_kept = (size_t)n < t->ssh_kept ? t->ssh_kept - n : 0;
		if (tunnel_write_tcp(t, buf, n) == 0) {
			t->bytes_in += n;
			t->s->bytes_in += n;
		}
		free(buf);
	}
}

/*
 * Grants the client t->window again.  The only public way in
 * libssh 0.10: a read asking for more than buffered + window grows the
 * window to the difference (channels.c, ssh_channel_read_timeout).  Called
 * with nothing kept back, so the read returns at most what one poll of the
 * socket brings; the scratch buffer must still hold the whole count.
 */
static void
tunnel_raise_window(struct tunnel *t)
{
	struct worker	*w = t->s->worker;
	int		 n;

	if (w->scratch == NULL &&
	    (w->scratch = malloc(TUNNEL_WINDOW_FAR_BYTES)) == NULL)
		return;
	t->window_mark = t->bytes_in;
	t->window_raised = true;
	n = ssh_channel_read_timeout(t->ch, w->scratch, t->window, 0, 0);
	if (n > 0 && tunnel_write_tcp(t, w->scratch, n) == 0) {
		t->bytes_in += n;
		t->s->bytes_in += n;
		t->ssh_kept = (size_t)n < t->ssh_kept ? t->ssh_kept - n : 0;
	}
}

static void
tunnel_on_tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct tunnel	*t = h->data;

	*buf = uv_buf_init(t->rbuf, TUNNEL_READ_BYTES);
}

/* Hands bytes read from TCP to the channel; keeps what it cannot take. */
static void
tunnel_write_channel(struct tunnel *t)
{
	int	n;

	if (t->roff >= t->rlen || t->ch == NULL || t->peer_closed)
		return;
	n = ssh_channel_write(t->ch, t->rbuf + t->roff, t->rlen - t->roff);
	if (n == SSH_ERROR) {
		tunnel_close(t, "channel write failed");
		return;
	}
	if (n > 0) {
		t->roff += n;
		t->bytes_out += n;
		t->s->bytes_out += n;
	}
	if (t->roff == t->rlen)
		t->roff = t->rlen = 0;
}

static void
tunnel_on_tcp_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct tunnel	*t = stream->data;

	if (nread == 0)
		return;
	if (nread < 0) {
		uv_read_stop(stream);
		t->tcp_reading = false;
		if (nread == UV_EOF)
			t->tcp_eof = true;
		else {
			log_verbose("session %s channel %u: read from target: "
			    "%s", t->s->id, t->id, uv_strerror(nread));
			t->tcp_eof = true;
			t->tcp_failed = true;
		}
		session_step(t->s);
		return;
	}
	t->roff = 0;
	t->rlen = nread;
	tunnel_write_channel(t);
	if (t->rlen > 0) {
		/* The channel is full: stop reading until it drains. */
		uv_read_stop(stream);
		t->tcp_reading = false;
	}
	session_step(t->s);
}

static void
tunnel_start_pump(struct tunnel *t)
{
	t->state = TUNNEL_OPEN;
	t->was_open = true;
	t->window = TUNNEL_WINDOW_BYTES;
	t->open_us = uv_hrtime() / 1000;
	uv_tcp_nodelay(&t->tcp, 1);
	server_tunnel_count(1);
}

static void
tunnel_set_callbacks(struct tunnel *t)
{
	memset(&t->cb, 0, sizeof(t->cb));
	t->cb.userdata = t;
	t->cb.channel_data_function = tunnel_on_channel_data;
	t->cb.channel_eof_function = tunnel_on_channel_eof;
	t->cb.channel_close_function = tunnel_on_channel_close;
	ssh_callbacks_init(&t->cb);
	ssh_set_channel_callbacks(t->ch, &t->cb);
}

/* The connect succeeded: now the client's open is accepted. */
static void
tunnel_accept(struct tunnel *t)
{
	uv_timer_stop(&t->timer);
	if ((t->rbuf = malloc(TUNNEL_READ_BYTES)) == NULL ||
	    (t->ch = ssh_channel_new(t->s->ssh)) == NULL) {
		tunnel_refuse(t, "allow", "out of memory");
		return;
	}
	tunnel_set_callbacks(t);
	if (ssh_message_channel_request_open_reply_accept_channel(t->open_msg,
	    t->ch) != SSH_OK) {
		ssh_message_free(t->open_msg);
		t->open_msg = NULL;
		t->s->npending--;
		tunnel_audit_open(t, "allow", "refused", "client gone");
		tunnel_close(t, "client gone");
		return;
	}
	ssh_message_free(t->open_msg);
	t->open_msg = NULL;
	t->s->npending--;
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
	if (t->state != TUNNEL_CONNECTING || t->close_requested) {
		session_step(t->s);
		return;
	}
	if (status < 0) {
		t->fail_reason = tunnel_connect_error(status);
		tunnel_close_tcp(t);	/* its close callback tries the next */
	} else {
		t->connected_ip = t->addrs[t->next_addr - 1];
		addr_format_port(&t->connected_ip, t->port, t->connected_to,
		    sizeof(t->connected_to));
		tunnel_accept(t);
	}
	session_step(t->s);
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
	uv_tcp_init(tunnel_loop(t), &t->tcp);
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
	struct verdict	 v[TUNNEL_ADDRS_MAX];
	const struct rule *rule = NULL;
	const char	*reason = "no rule allows";
	size_t		 i, n;

	n = policy_decide(t->s->cfg->policy, t->s->user, &t->host, t->port,
	    t->addrs, t->naddrs, v);
	for (i = 0; i < t->naddrs; i++) {
		t->allowed[i] = v[i].allow;
		if (n > 0 && v[i].allow && rule == NULL)
			rule = v[i].rule;
		if (n == 0 && rule == NULL) {
			rule = v[i].rule;
			reason = v[i].reason;
		}
	}
	policy_rule_origin(rule, t->rule, sizeof(t->rule));
	if (n == 0) {
		log_verbose("session %s channel %u: %s denied: %s (%s)",
		    t->s->id, t->id, t->host.text, reason, t->rule);
		tunnel_refuse(t, "deny", "denied by policy");
		return;
	}
	t->state = TUNNEL_CONNECTING;
	tunnel_connect_next(t);
}

static void
tunnel_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct tunnel	*t = container_of(req, struct tunnel, gai);

	t->gai_busy = false;
	if (t->state != TUNNEL_RESOLVING || t->close_requested) {
		uv_freeaddrinfo(res);
		session_step(t->s);
		return;
	}
	if (status < 0) {
		uv_freeaddrinfo(res);
		tunnel_refuse(t, "deny", status == UV_EAI_NONAME ?
		    "unknown host" : "name resolution failed");
		session_step(t->s);
		return;
	}
	t->naddrs = addr_from_addrinfo(res, t->addrs, TUNNEL_ADDRS_MAX);
	uv_freeaddrinfo(res);
	if (t->naddrs == 0)
		tunnel_refuse(t, "deny", "unknown host");
	else
		tunnel_decide(t);
	session_step(t->s);
}

static void
tunnel_on_timer(uv_timer_t *timer)
{
	struct tunnel	*t = timer->data;

	if (t->state == TUNNEL_RESOLVING || t->state == TUNNEL_CONNECTING) {
		if (t->gai_busy)
			uv_cancel((uv_req_t *)&t->gai);
		tunnel_refuse(t, t->state == TUNNEL_RESOLVING ? "deny" :
		    "allow", "timed out");
	} else if (t->state == TUNNEL_OPENING) {
		tunnel_audit_open(t, "allow", "refused",
		    "client did not answer");
		tunnel_close(t, "client did not answer");
	} else if (t->state == TUNNEL_CLOSING) {
		/* The target did not take the rest in time. */
		t->tcp_failed = true;
		tunnel_close_tcp(t);
	}
	session_step(t->s);
}

void
tunnel_open_direct(struct session *s, ssh_message msg)
{
	struct tunnel	*t;
	struct verdict	 v;
	struct addrinfo	 hints;
	const char	*dest, *orig, *why = NULL;
	int		 port, oport;

	if ((t = tunnel_new(s, TUNNEL_DIRECT)) == NULL) {
		ssh_message_reply_default(msg);
		ssh_message_free(msg);
		return;
	}
	t->open_msg = msg;
	s->npending++;
	dest = ssh_message_channel_request_open_destination(msg);
	port = ssh_message_channel_request_open_destination_port(msg);
	orig = ssh_message_channel_request_open_originator(msg);
	oport = ssh_message_channel_request_open_originator_port(msg);
	if (dest == NULL)
		dest = "";
	snprintf(t->target, sizeof(t->target), strchr(dest, ':') != NULL ?
	    "[%.*s]:%d" : "%.*s:%d", ADDR_NAME_MAX, dest, port);
	snprintf(t->origin, sizeof(t->origin), "%.40s:%d",
	    orig != NULL ? orig : "", oport);

	if (s->npending > SESSION_PENDING_OPENS_MAX) {
		tunnel_refuse(t, "deny", "too many opens in progress");
		return;
	}
	if (s->nchannels > s->cfg->max_channels_per_session) {
		tunnel_refuse(t, "deny", "too many channels");
		return;
	}
	if (addr_parse_host(dest, &t->host, &why) == -1 || port < 1 ||
	    port > 65535) {
		log_verbose("session %s channel %u: invalid target: %s",
		    s->id, t->id, why != NULL ? why : "bad port");
		tunnel_refuse(t, "deny", "invalid target");
		return;
	}
	t->port = port;
	if (!policy_precheck(s->cfg->policy, s->user, &t->host, t->port, &v)) {
		policy_rule_origin(v.rule, t->rule, sizeof(t->rule));
		log_verbose("session %s channel %u: %s denied: %s (%s)", s->id,
		    t->id, t->host.text, v.reason, t->rule);
		tunnel_refuse(t, "deny", "denied by policy");
		return;
	}
	uv_timer_start(&t->timer, tunnel_on_timer, s->cfg->connect_timeout_ms,
	    0);
	if (t->host.kind != HOST_NAME) {
		t->addrs[0] = t->host.ip;
		addr_normalize(&t->addrs[0]);
		t->naddrs = 1;
		tunnel_decide(t);
		return;
	}
	t->state = TUNNEL_RESOLVING;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	if (uv_getaddrinfo(tunnel_loop(t), &t->gai, tunnel_on_resolved,
	    t->host.text, NULL, &hints) < 0) {
		tunnel_refuse(t, "deny", "name resolution failed");
		return;
	}
	t->gai_busy = true;
}

struct tunnel *
tunnel_new_forwarded(struct session *s, const char *bind, uint16_t port)
{
	struct tunnel	*t;

	if ((t = tunnel_new(s, TUNNEL_FORWARDED)) == NULL)
		return NULL;
	if ((t->fwd_bind = strdup(bind)) == NULL ||
	    (t->rbuf = malloc(TUNNEL_READ_BYTES)) == NULL) {
		t->close_requested = true;
		t->state = TUNNEL_CLOSING;
		t->close_reason = "out of memory";
		return t;
	}
	t->fwd_port = port;
	t->state = TUNNEL_OPENING;
	uv_timer_start(&t->timer, tunnel_on_timer, s->cfg->connect_timeout_ms,
	    0);
	uv_tcp_init(tunnel_loop(t), &t->tcp);
	t->tcp.data = t;
	t->tcp_open = true;
	t->handles++;
	snprintf(t->target, sizeof(t->target), "%.200s:%u", bind, port);
	return t;
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
		if ((t->ch = ssh_channel_new(t->s->ssh)) == NULL) {
			tunnel_close(t, "out of memory");
			return;
		}
		/*
		 * Before the open goes out: the client's confirmation, data,
		 * EOF and CLOSE may all come in one burst, and an EOF seen by
		 * no callback would be lost.
		 */
		tunnel_set_callbacks(t);
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
	if (rc == SSH_AGAIN)
		return;
	if (rc != SSH_OK) {
		tunnel_audit_open(t, "allow", "refused",
		    "client refused the channel");
		tunnel_close(t, "client refused the channel");
		return;
	}
	uv_timer_stop(&t->timer);
	tunnel_audit_open(t, "allow", "open", "client accepted");
	tunnel_start_pump(t);
}

static void
tunnel_on_shutdown(uv_shutdown_t *req, int status)
{
	struct tunnel	*t = container_of(req, struct tunnel, shutdown_req);

	t->tcp_shutdown_done = true;
	if (status < 0 && status != UV_ECANCELED)
		t->tcp_failed = true;
	session_step(t->s);
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
tunnel_pump(struct tunnel *t)
{
	tunnel_flush(t);		/* before anything else goes to TCP */

	/* TCP -> SSH: retry what the window refused, then read again. */
	tunnel_write_channel(t);
	if (t->close_requested)
		return;
	if (t->rlen == 0 && !t->tcp_reading && !t->tcp_eof && !t->peer_closed) {
		if (uv_read_start((uv_stream_t *)&t->tcp, tunnel_on_tcp_alloc,
		    tunnel_on_tcp_read) == 0)
			t->tcp_reading = true;
		else
			t->tcp_failed = true;
	}
	if (t->rlen == 0 && t->tcp_eof && !t->ssh_eof_sent && !t->peer_closed) {
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
		if (t->tcp_reading) {
			uv_read_stop((uv_stream_t *)&t->tcp);
			t->tcp_reading = false;
		}
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

void
tunnel_close(struct tunnel *t, const char *reason)
{
	if (t->close_requested)
		return;
	t->close_requested = true;
	t->close_reason = reason;
	if (t->state == TUNNEL_OPEN)
		server_tunnel_count(-1);
	else if (t->open_msg != NULL) {
		tunnel_refuse(t, strcmp(reason, "policy_reload") == 0 ? "deny" :
		    "allow", reason);
		return;
	}
	t->state = TUNNEL_CLOSING;
	if (t->tcp_reading) {
		uv_read_stop((uv_stream_t *)&t->tcp);
		t->tcp_reading = false;
	}
}

/*
 * Closing: what was queued for the target is written first (bounded by
 * TUNNEL_LINGER_MS), the channel is closed until libssh has sent CLOSE,
 * then freed here, outside any of its callbacks.
 */
static void
tunnel_finish(struct tunnel *t)
{
	int	rc;

	if (t->tcp_open && !uv_is_closing((uv_handle_t *)&t->tcp)) {
		if (t->tcp_queued > 0 && !t->tcp_failed) {
			tunnel_shutdown_tcp(t);
			if (!uv_is_active((uv_handle_t *)&t->timer))
				uv_timer_start(&t->timer, tunnel_on_timer,
				    TUNNEL_LINGER_MS, 0);
		}
		if (t->tcp_queued == 0 || t->tcp_failed ||
		    (t->tcp_shutdown && t->tcp_shutdown_done))
			tunnel_close_tcp(t);
	}
	/*
	 * Close (send CLOSE, also in answer to the client's) every channel
	 * that was open, never one that was not: its remote id is not set.
	 */
	if (t->ch != NULL && !t->s->dying && t->was_open) {
		if (!t->channel_closed) {
			rc = ssh_channel_close(t->ch);
			if (rc == SSH_AGAIN)
				return;
			t->channel_closed = true;
		}
	}
	if (t->ch != NULL) {
		ssh_remove_channel_callbacks(t->ch, &t->cb);
		ssh_channel_free(t->ch);
		t->ch = NULL;
		if (t->was_open)
			tunnel_audit_close(t);
	}
	if (!t->tcp_open && !uv_is_closing((uv_handle_t *)&t->timer))
		uv_close((uv_handle_t *)&t->timer, tunnel_on_handle_closed);
}

void
tunnel_step(struct tunnel *t)
{
	if (t->state == TUNNEL_OPENING && !t->close_requested)
		tunnel_step_opening(t);
	if (t->state == TUNNEL_OPEN && !t->close_requested)
		tunnel_pump(t);
	if (t->close_requested)
		tunnel_finish(t);
}

void
tunnel_abort(struct tunnel *t, const char *reason)
{
	if (t->open_msg != NULL) {
		ssh_message_free(t->open_msg);
		t->open_msg = NULL;
		t->s->npending--;
		tunnel_audit_open(t, t->naddrs > 0 ? "allow" : "deny",
		    "refused", reason);
	}
	if (t->gai_busy)
		uv_cancel((uv_req_t *)&t->gai);
	tunnel_close(t, reason);
	tunnel_finish(t);
}

bool
tunnel_reap(struct tunnel *t)
{
	struct session	*s = t->s;

	if (!t->close_requested || t->handles > 0 || t->gai_busy ||
	    t->ch != NULL)
		return false;
	TAILQ_REMOVE(&s->tunnels, t, entry);
	s->nchannels--;
	free(t->rbuf);
	free(t->fwd_bind);
	free(t);
	return true;
}

/*
 * After a reload: an open direct tunnel is decided again for the address it
 * is connected to; one still connecting has its remaining addresses decided
 * again, and loses if the one it is trying is no longer allowed.
 */
bool
tunnel_still_allowed(struct tunnel *t, const struct policy *p,
    const char *user)
{
	struct verdict	v[TUNNEL_ADDRS_MAX];
	size_t		i;

	if (t->kind != TUNNEL_DIRECT || t->close_requested)
		return true;
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

void
tunnel_close_forwarded(struct session *s, const char *bind, uint16_t port,
    const char *reason)
{
	struct tunnel	*t;

	TAILQ_FOREACH(t, &s->tunnels, entry)
		if (t->kind == TUNNEL_FORWARDED && t->fwd_port == port &&
		    t->fwd_bind != NULL && strcmp(t->fwd_bind, bind) == 0)
			tunnel_close(t, reason);
}
