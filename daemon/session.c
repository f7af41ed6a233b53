/*
 * session: one SSH connection.  Key exchange, public key authentication, the
 * requests of an authenticated user, and the bridge between libssh and
 * libuv: the socket is watched by a uv_poll_t, libssh reads it in
 * ssh_event_dopoll(), and session_step() does everything else, after every
 * libuv callback, outside libssh's callbacks.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "audit.h"
#include "auth.h"
#include "config.h"
#include "forward.h"
#include "log.h"
#include "policy.h"
#include "server.h"
#include "session.h"
#include "sockread.h"
#include "tunnel.h"

#define SESSION_DOPOLL_ROUNDS	64	/* per readable event, for fairness */
#define SESSION_MIN_PACKET_BYTES 1024	/* smaller: libssh 0.10.6 spins */
#define SESSION_MESSAGES_PER_STEP 64	/* fairness between sessions */
#define SESSION_AUTH_REQUESTS_PER_TRY 4	/* x max_auth_tries, probes too */

static const char session_refusal[] =
    "hopd: this host only forwards TCP connections; "
    "try: ssh -J USER@HOST TARGET";

/* A "session" channel: it only ever says session_refusal and exits 1. */
struct shell_channel {
	struct shell_channel	*next;
	ssh_channel		 ch;
	bool			 pty;
	bool			 told;		/* message, status, EOF sent */
};

static void	session_teardown(struct session *);
static void	session_on_poll(uv_poll_t *, int, int);

/*
 * The head of libssh 0.10's private struct ssh_message_struct
 * (include/libssh/messages.h at libssh-0.10.6), up to the channel open
 * request: the only way to see the peer's maximum packet size, which
 * 0.10.6 cannot cope with below 11 bytes (it loops forever writing empty
 * packets).  Every read is validated against the public accessors first.
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

/* The peer's maximum packet size for a channel open, or 0 if unsure. */
static uint32_t
session_open_max_packet(struct session *s, ssh_message m)
{
	const struct libssh_message_head *h = (const void *)m;
	const struct libssh_open_request_head *o = &h->channel_request_open;

	if (h->session != s->ssh || h->type != ssh_message_type(m) ||
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

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
/*
 * Auth must come from the message queue to be answered by us; the two
 * accessors it needs are deprecated (not removed) in libssh 0.10.
 */
static ssh_key
session_auth_key(ssh_message m, int *state)
{
	*state = ssh_message_auth_publickey_state(m);
	return ssh_message_auth_pubkey(m);
}
#pragma GCC diagnostic pop

static void
session_update_poll(struct session *s)
{
	int	events = UV_READABLE;

	if (s->ssh != NULL &&
	    (ssh_get_poll_flags(s->ssh) & SSH_WRITE_PENDING) != 0)
		events |= UV_WRITABLE;
	if (events != s->poll_events) {
		s->poll_events = events;
		uv_poll_start(&s->poll, events, session_on_poll);
	}
}

void
session_kill(struct session *s, const char *reason)
{
	if (s->dying)
		return;
	s->dying = true;
	s->end_reason = reason;
	log_verbose("session %s: %s", s->id, reason);
}

/*
 * Until the user is in, every message of ours answers one of the client's,
 * so Linux acknowledges the client's next segment late (delayed ACK in its
 * "ping-pong" mode), and OpenSSH, which sends its small key exchange packet
 * right behind its KEXINIT with Nagle still on, waits for that ACK: 40 ms
 * per connection.  Asking for quick ACKs after every round of the handshake
 * ends the wait; once the client is in, it sets TCP_NODELAY itself.
 */
static void
session_quickack(struct session *s)
{
	int	one = 1;

	if (s->state != SESSION_OPEN && !s->dying)
		setsockopt(s->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static void
session_on_poll(uv_poll_t *poll, int status, int events)
{
	struct session	*s = poll->data;
	unsigned	 held;
	int		 i;

	if (status < 0) {
		session_kill(s, "connection lost");
	} else if (!s->dying) {
		/*
		 * libssh reads SOCKREAD_BYTES ahead here; what it has not
		 * taken when the rounds end is taken before we leave, since
		 * no epoll event will tell of it: more rounds while each
		 * one takes some.  Bytes libssh will not take (it stops
		 * reading only when it is out of memory) go with the session.
		 * Tunnels gather what comes for them meanwhile, and write it
		 * to their targets after (tunnel_on_channel_data).
		 */
		s->gathering = true;
		sockread_fill(ssh_get_fd(s->ssh));
		for (i = 0; i < SESSION_DOPOLL_ROUNDS; i++)
			if (ssh_event_dopoll(s->event, 0) != SSH_OK)
				break;
		sockread_fill(-1);
		while ((held = sockread_pending()) > 0 &&
		    ssh_event_dopoll(s->event, 0) == SSH_OK &&
		    sockread_pending() < held)
			;
		if (sockread_pending() > 0) {
			sockread_discard();
			session_kill(s, "libssh stopped reading its socket");
		}
		s->gathering = false;
		tunnel_flush_gathered(s);	/* also if s is ending */
	}
	session_step(s);
	session_quickack(s);
}

static void
session_on_grace_timer(uv_timer_t *timer)
{
	struct session	*s = timer->data;

	if (s->state != SESSION_OPEN)
		session_kill(s, "login grace time exceeded");
	session_step(s);
}

static void
session_audit_auth(struct session *s, const char *user, ssh_key key,
    const char *result, const char *reason)
{
	struct audit_rec	r;
	char			fp[128] = "";

	if (key != NULL)
		auth_fingerprint(key, fp, sizeof(fp));
	audit_rec_begin(&r, audit_now_ms(), "auth", s->id);
	audit_rec_str(&r, "user", user);
	audit_rec_str(&r, "method", "publickey");
	audit_rec_str(&r, "key", fp);
	audit_rec_str(&r, "result", result);
	audit_rec_str(&r, "reason", reason);
	audit_rec_end(&r);
	audit_emit(&r);
}

static void
session_auth_failed(struct session *s, ssh_message m, const char *user,
    ssh_key key, const char *reason)
{
	session_audit_auth(s, user, key, "failure", reason);
	ssh_message_auth_set_methods(m, SSH_AUTH_METHOD_PUBLICKEY);
	ssh_message_reply_default(m);
	if (++s->auth_failures >= s->cfg->max_auth_tries)
		session_kill(s, "too many authentication failures");
}

/* The policy's user names, short enough for s->user, no leading dot. */
static bool
session_valid_user(const char *user)
{
	return policy_valid_user_name(user) && user[0] != '.' &&
	    strlen(user) < SESSION_USER_MAX;
}

/*
 * Public keys only.  An unknown user, a missing file and an unlisted key
 * all get the same failure; a key the file lists gets PK_OK for a probe
 * and success once libssh has verified the signature.
 */
static void
session_auth(struct session *s, ssh_message m)
{
	const char	*user = ssh_message_auth_user(m);
	ssh_key		 key;
	int		 state;

	if (s->state != SESSION_AUTH) {
		ssh_message_reply_default(m);
		return;
	}
	if (s->user[0] != '\0' && user != NULL && strcmp(user, s->user) != 0) {
		session_kill(s, "user changed during authentication");
		return;
	}
	/*
	 * Every request counts, probes and other methods too (sshd counts
	 * failures only): each one may read an authorized_keys file, and
	 * the grace timer alone would let a peer ask thousands of times.
	 */
	if (++s->auth_requests > SESSION_AUTH_REQUESTS_PER_TRY *
	    s->cfg->max_auth_tries) {
		session_kill(s, "too many authentication requests");
		return;
	}
	if (ssh_message_subtype(m) != SSH_AUTH_METHOD_PUBLICKEY) {
		/* "none" and any other method: say what is possible. */
		ssh_message_auth_set_methods(m, SSH_AUTH_METHOD_PUBLICKEY);
		ssh_message_reply_default(m);
		return;
	}
	if (!session_valid_user(user)) {
		session_auth_failed(s, m, user, NULL, "invalid user name");
		return;
	}
	snprintf(s->user, sizeof(s->user), "%s", user);
	key = session_auth_key(m, &state);
	if (key == NULL || !auth_key_allowed(s->cfg->authorized_keys, user,
	    key)) {
		session_auth_failed(s, m, user, key, "key not authorized");
		return;
	}
	if (state == SSH_PUBLICKEY_STATE_NONE) {
		ssh_message_auth_reply_pk_ok_simple(m);
		return;
	}
	if (state != SSH_PUBLICKEY_STATE_VALID) {
		session_auth_failed(s, m, user, key, "bad signature");
		return;
	}
	ssh_message_auth_reply_success(m, 0);
	s->state = SESSION_OPEN;
	uv_timer_stop(&s->timer);
	if (s->unauth_counted) {
		s->unauth_counted = false;
		server_startup_done(&s->peer_ip);
	}
	session_audit_auth(s, user, key, "success", "key authorized");
}

static void
session_open_shell(struct session *s, ssh_message m)
{
	struct shell_channel	*sc;

	if ((sc = calloc(1, sizeof(*sc))) == NULL) {
		ssh_message_reply_default(m);
		return;
	}
	if ((sc->ch = ssh_message_channel_request_open_reply_accept(m)) ==
	    NULL) {
		free(sc);
		return;
	}
	sc->next = s->shells;
	s->shells = sc;
	s->nchannels++;
}

static struct shell_channel *
session_find_shell(struct session *s, ssh_channel ch)
{
	struct shell_channel	*sc;

	for (sc = s->shells; sc != NULL; sc = sc->next)
		if (sc->ch == ch)
			return sc;
	return NULL;
}

/* Channel requests: a pty is granted, a shell or command gets the refusal. */
static void
session_channel_request(struct session *s, ssh_message m)
{
	struct shell_channel	*sc;
	char			 line[sizeof(session_refusal) + 2];

	sc = session_find_shell(s, ssh_message_channel_request_channel(m));
	if (sc == NULL || sc->told) {
		ssh_message_reply_default(m);
		return;
	}
	switch (ssh_message_subtype(m)) {
	case SSH_CHANNEL_REQUEST_PTY:
		sc->pty = true;
		ssh_message_channel_request_reply_success(m);
		break;
	case SSH_CHANNEL_REQUEST_SHELL:
	case SSH_CHANNEL_REQUEST_EXEC:
		ssh_message_channel_request_reply_success(m);
		snprintf(line, sizeof(line), "%s%s", session_refusal,
		    sc->pty ? "\r\n" : "\n");
		ssh_channel_write_stderr(sc->ch, line, strlen(line));
		ssh_channel_request_send_exit_status(sc->ch, 1);
		ssh_channel_send_eof(sc->ch);
		sc->told = true;
		log_verbose("session %s: refused a shell or command", s->id);
		break;
	default:
		ssh_message_reply_default(m);
		break;
	}
}

static const char *
session_channel_type(int subtype)
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

/* A channel refused before any tunnel exists: on the record all the same. */
static void
session_refuse_open(struct session *s, ssh_message m, const char *reason)
{
	struct audit_rec	 r;
	const char		*dest = NULL;
	char			 target[ADDR_NAME_MAX + 16];
	int			 subtype = ssh_message_subtype(m);

	if (subtype == SSH_CHANNEL_DIRECT_TCPIP &&
	    (dest = ssh_message_channel_request_open_destination(m)) != NULL)
		snprintf(target, sizeof(target), "%.*s:%d", ADDR_NAME_MAX,
		    dest, ssh_message_channel_request_open_destination_port(m));
	audit_rec_begin(&r, audit_now_ms(), "channel_open", s->id);
	audit_rec_u64(&r, "channel", ++s->channel_seq);
	audit_rec_str(&r, "type", session_channel_type(subtype));
	audit_rec_str(&r, "user", s->user);
	audit_rec_str(&r, "target", dest != NULL ? target : NULL);
	audit_rec_str(&r, "decision", "deny");
	audit_rec_str(&r, "rule", "default");
	audit_rec_str(&r, "result", "refused");
	audit_rec_str(&r, "reason", reason);
	audit_rec_end(&r);
	audit_emit(&r);
	ssh_message_reply_default(m);
	ssh_message_free(m);
}

static void
session_channel_open(struct session *s, ssh_message m)
{
	uint32_t	maxpkt;

	if (s->state != SESSION_OPEN) {
		ssh_message_reply_default(m);
		ssh_message_free(m);
		return;
	}
	switch (ssh_message_subtype(m)) {
	case SSH_CHANNEL_DIRECT_TCPIP:
	case SSH_CHANNEL_SESSION:
		maxpkt = session_open_max_packet(s, m);
		if (maxpkt < SESSION_MIN_PACKET_BYTES) {
			log_verbose("session %s: maximum packet size %u < %d",
			    s->id, maxpkt, SESSION_MIN_PACKET_BYTES);
			ssh_send_debug(s->ssh, "hopd: channel refused: "
			    "maximum packet size too small", 1);
			session_refuse_open(s, m, "maximum packet size too small");
			return;
		}
		if (ssh_message_subtype(m) == SSH_CHANNEL_DIRECT_TCPIP) {
			tunnel_open_direct(s, m);	/* takes m */
			return;
		}
		if (s->nchannels >= s->cfg->max_channels_per_session) {
			session_refuse_open(s, m, "too many channels");
			return;
		}
		session_open_shell(s, m);
		ssh_message_free(m);
		return;
	default:
		session_refuse_open(s, m, "channel type not supported");
		return;
	}
}

static void
session_dispatch(struct session *s, ssh_message m)
{
	const char	*service;

	switch (ssh_message_type(m)) {
	case SSH_REQUEST_SERVICE:
		service = ssh_message_service_service(m);
		if (service == NULL || strcmp(service, "ssh-userauth") != 0) {
			session_kill(s, "unknown service requested");
			break;
		}
		ssh_message_service_reply_success(m);
		break;
	case SSH_REQUEST_AUTH:
		session_auth(s, m);
		break;
	case SSH_REQUEST_CHANNEL_OPEN:
		session_channel_open(s, m);	/* takes m */
		return;
	case SSH_REQUEST_CHANNEL:
		session_channel_request(s, m);
		break;
	case SSH_REQUEST_GLOBAL:
		if (s->state == SESSION_OPEN)
			forward_request(s, m);
		else
			ssh_message_reply_default(m);
		break;
	default:
		ssh_message_reply_default(m);
		break;
	}
	ssh_message_free(m);
}

static void
session_step_shells(struct session *s)
{
	struct shell_channel	**p, *sc;

	for (p = &s->shells; (sc = *p) != NULL;) {
		if (!sc->told && !ssh_channel_is_closed(sc->ch)) {
			p = &sc->next;
			continue;
		}
		if (ssh_channel_close(sc->ch) == SSH_AGAIN) {
			p = &sc->next;
			continue;
		}
		ssh_channel_free(sc->ch);
		*p = sc->next;
		free(sc);
		s->nchannels--;
	}
}

static bool
session_ssh_closed(struct session *s)
{
	return (ssh_get_status(s->ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0;
}

/* One round of the bridge; true if it should run again. */
static bool
session_step_once(struct session *s)
{
	struct tunnel	*t, *tnext;
	ssh_message	 m;
	int		 rc, n = 0;

	if (s->state == SESSION_KEX) {
		rc = ssh_handle_key_exchange(s->ssh);
		if (rc == SSH_ERROR) {
			log_verbose("session %s: key exchange failed: %s",
			    s->id, ssh_get_error(s->ssh));
			session_kill(s, "key exchange failed");
			return false;
		}
		if (rc == SSH_OK) {
			s->state = SESSION_AUTH;
			ssh_set_auth_methods(s->ssh, SSH_AUTH_METHOD_PUBLICKEY);
		}
	}
	if (s->state != SESSION_KEX) {
		/* Bounded: the rest waits for the next round or event. */
		while (!s->dying && n < SESSION_MESSAGES_PER_STEP &&
		    (m = ssh_message_get(s->ssh)) != NULL) {
			session_dispatch(s, m);
			n++;
		}
	}
	if (!s->dying && session_ssh_closed(s))
		session_kill(s, "connection closed by client");
	if (s->dying)
		return false;
	TAILQ_FOREACH_SAFE(t, &s->tunnels, entry, tnext)
		tunnel_step(t);
	session_step_shells(s);
	TAILQ_FOREACH_SAFE(t, &s->tunnels, entry, tnext)
		tunnel_reap(t);
	return n > 0;
}

void
session_step(struct session *s)
{
	int	rounds;

	if (s->in_step) {
		s->step_again = true;
		return;
	}
	s->in_step = true;
	for (rounds = 0; rounds < SESSION_DOPOLL_ROUNDS; rounds++) {
		s->step_again = false;
		if (s->torn_down || !session_step_once(s)) {
			if (!s->step_again)
				break;
		}
	}
	if (s->dying && !s->torn_down)
		session_teardown(s);
	if (!s->torn_down)
		session_update_poll(s);
	s->in_step = false;
	if (s->torn_down)
		session_handle_closed(s);	/* maybe the last one */
}

static void
session_audit_end(struct session *s)
{
	struct audit_rec	r;

	audit_rec_begin(&r, audit_now_ms(), "session_end", s->id);
	audit_rec_str(&r, "user", s->user[0] != '\0' ? s->user : NULL);
	audit_rec_u64(&r, "bytes_in", s->bytes_in);
	audit_rec_u64(&r, "bytes_out", s->bytes_out);
	audit_rec_u64(&r, "channels", s->channel_seq);
	audit_rec_u64(&r, "duration_ms", audit_now_ms() - s->start_ms);
	audit_rec_str(&r, "reason", s->end_reason);
	audit_rec_end(&r);
	audit_emit(&r);
}

static void
session_on_handle_closed(uv_handle_t *h)
{
	struct session	*s = h->data;

	if (h == (uv_handle_t *)&s->poll)
		close(s->fd);
	s->handles--;
	session_handle_closed(s);
}

/*
 * The end of the SSH side: every tunnel is dropped (what was queued for a
 * target is still written, bounded in time), every channel freed before
 * the session, the poll handle closed before our copy of the socket.
 */
static void
session_teardown(struct session *s)
{
	struct tunnel		*t, *tnext;
	struct shell_channel	*sc;

	TAILQ_FOREACH_SAFE(t, &s->tunnels, entry, tnext) {
		tunnel_abort(t, s->end_reason);
		tunnel_reap(t);
	}
	forward_close_all(s);
	while ((sc = s->shells) != NULL) {
		s->shells = sc->next;
		ssh_channel_free(sc->ch);
		free(sc);
		s->nchannels--;
	}
	if (s->unauth_counted) {
		s->unauth_counted = false;
		server_startup_done(&s->peer_ip);
	}
	session_audit_end(s);
	ssh_event_remove_session(s->event, s->ssh);
	ssh_event_free(s->event);
	s->event = NULL;
	if (!session_ssh_closed(s))
		ssh_disconnect(s->ssh);
	ssh_free(s->ssh);
	s->ssh = NULL;
	uv_close((uv_handle_t *)&s->poll, session_on_handle_closed);
	uv_close((uv_handle_t *)&s->timer, session_on_handle_closed);
	s->torn_down = true;
}

void
session_handle_closed(struct session *s)
{
	struct tunnel	*t, *tnext;

	if (!s->torn_down || s->in_step)
		return;
	/* Tunnels still flushing to their targets finish on their own. */
	TAILQ_FOREACH_SAFE(t, &s->tunnels, entry, tnext) {
		tunnel_step(t);
		tunnel_reap(t);
	}
	if (s->handles > 0 || !TAILQ_EMPTY(&s->tunnels))
		return;
	TAILQ_REMOVE(&s->worker->sessions, s, entry);
	__atomic_sub_fetch(&s->worker->nsessions, 1, __ATOMIC_RELAXED);
	config_unref(s->cfg);
	free(s);
}

static void
session_audit_start(struct session *s)
{
	struct audit_rec	r;

	audit_rec_begin(&r, audit_now_ms(), "session_start", s->id);
	audit_rec_str(&r, "peer", s->peer);
	audit_rec_str(&r, "local", s->local);
	audit_rec_end(&r);
	audit_emit(&r);
}

static void
session_make_id(struct session *s)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t		  rnd[SESSION_ID_LEN / 2];
	size_t		  i;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++) {
		s->id[2 * i] = hex[rnd[i] >> 4];
		s->id[2 * i + 1] = hex[rnd[i] & 15];
	}
	s->id[SESSION_ID_LEN] = '\0';
}

void
session_start(struct worker *w, int fd, const struct ip_addr *peer,
    uint16_t peer_port)
{
	struct session		*s;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	struct ip_addr		 local;
	uint16_t		 lport;
	int			 sshfd = -1;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto fail;
	s->worker = w;
	s->cfg = config_ref(w->cfg);
	s->fd = fd;
	s->peer_ip = *peer;
	s->unauth_counted = true;
	s->start_ms = audit_now_ms();
	TAILQ_INIT(&s->tunnels);
	TAILQ_INIT(&s->forwards);
	session_make_id(s);
	addr_format_port(peer, peer_port, s->peer, sizeof(s->peer));
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0 &&
	    addr_from_sockaddr((struct sockaddr *)&ss, &local, &lport) == 0)
		addr_format_port(&local, lport, s->local, sizeof(s->local));

	/* libssh closes its socket when the peer goes: give it a copy. */
	if ((sshfd = dup(fd)) == -1 || (s->ssh = ssh_new()) == NULL)
		goto fail;
	if (ssh_bind_accept_fd(w->bind, s->ssh, sshfd) != SSH_OK) {
		log_warnx("session %s: %s", s->id, ssh_get_error(w->bind));
		if (ssh_get_fd(s->ssh) == sshfd)
			sshfd = -1;	/* libssh's now: ssh_free closes it */
		goto fail;
	}
	sshfd = -1;
	/* No compression: nothing to gain on a tunnel, an oracle to lose. */
	if (ssh_options_set(s->ssh, SSH_OPTIONS_COMPRESSION_C_S, "none") < 0 ||
	    ssh_options_set(s->ssh, SSH_OPTIONS_COMPRESSION_S_C, "none") < 0)
		goto fail;
	ssh_set_blocking(s->ssh, 0);
	if (ssh_handle_key_exchange(s->ssh) == SSH_ERROR) {
		log_verbose("session %s: %s", s->id, ssh_get_error(s->ssh));
		goto fail;
	}
	if ((s->event = ssh_event_new()) == NULL ||
	    ssh_event_add_session(s->event, s->ssh) != SSH_OK)
		goto fail;

	uv_poll_init_socket(&w->loop, &s->poll, fd);
	s->poll.data = s;
	s->handles++;
	s->poll_events = UV_READABLE;
	uv_poll_start(&s->poll, UV_READABLE, session_on_poll);
	uv_timer_init(&w->loop, &s->timer);
	s->timer.data = s;
	s->handles++;
	if (s->cfg->login_grace_time_ms > 0)
		uv_timer_start(&s->timer, session_on_grace_timer,
		    s->cfg->login_grace_time_ms, 0);
	TAILQ_INSERT_TAIL(&w->sessions, s, entry);
	__atomic_add_fetch(&w->nsessions, 1, __ATOMIC_RELAXED);
	log_verbose("session %s: connection from %s", s->id, s->peer);
	session_audit_start(s);
	session_step(s);
	session_quickack(s);
	return;
fail:
	if (sshfd != -1)
		close(sshfd);
	if (s != NULL) {
		if (s->event != NULL)
			ssh_event_free(s->event);
		if (s->ssh != NULL)
			ssh_free(s->ssh);
		config_unref(s->cfg);
		free(s);
	}
	close(fd);
	server_startup_done(peer);
}

void
session_reload(struct session *s, struct config *cfg)
{
	struct tunnel	*t;

	config_unref(s->cfg);
	s->cfg = config_ref(cfg);
	if (s->dying || s->state != SESSION_OPEN)
		return;
	TAILQ_FOREACH(t, &s->tunnels, entry)
		if (!t->close_requested &&
		    !tunnel_still_allowed(t, cfg->policy, s->user))
			tunnel_close(t, "policy_reload");
	forward_reload(s);
	session_step(s);
}
