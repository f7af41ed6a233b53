/*
 * session: one SSH connection.  Key exchange, public key authentication, the
 * requests of an authenticated user, and the bridge between libssh and
 * libuv: the socket is watched by a uv_poll_t, libssh reads it in
 * ssh_event_dopoll(), and session_step() does everything else, after every
 * libuv callback, outside libssh's callbacks.  Tunnels and listeners are
 * members of their session (session.h): they ask to be stepped.
 *
 * Bounds against any peer: before login every message counts
 * (SESSION_AUTH_REQUESTS_PER_TRY, SESSION_PREAUTH_EXTRA_MESSAGES); libssh's
 * socket is not read while what it
 * has queued for the peer may be over SESSION_OUT_READ_BYTES (before login)
 * or SESSION_OUT_PAUSE_BYTES (after), and tunnels hand it nothing more
 * while that may be over SESSION_OUT_FEED_BYTES; caps are checked before
 * anything is allocated, and a session that keeps asking past them ends.
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
#include "cred.h"
#include "config.h"
#include "forward.h"
#include "libssh_compat.h"
#include "log.h"
#include "policy.h"
#include "session.h"
#include "tunnel.h"

#define SESSION_DOPOLL_ROUNDS	64	/* per readable event, for fairness */
#define SESSION_MIN_PACKET_BYTES 1024	/* smaller: libssh 0.10.6 spins */
#define SESSION_MESSAGES_PER_STEP 64	/* fairness between sessions */
#define SESSION_AUTH_REQUESTS_PER_TRY 4	/* x max_auth_tries, probes too */
#define SESSION_USER_MAX	(POLICY_USER_NAME_MAX + 1)
/*
 * Before login: messages of any kind (service, auth, anything else), and
 * the bound on what libssh may have queued for the peer before hopd stops
 * reading it.  OpenSSH sends one service request and a few auth requests.
 */
#define SESSION_PREAUTH_EXTRA_MESSAGES 8
#define SESSION_OUT_READ_BYTES	(16 * 1024)
/* After login: feed tunnels' bytes below this, stop reading above that. */
#define SESSION_OUT_FEED_BYTES	(256 * 1024)
#define SESSION_OUT_PAUSE_BYTES	(512 * 1024)
/* Wire bytes a packet may add to its payload: length, padding, MAC. */
#define SESSION_PACKET_OVERHEAD_BYTES 324
/* A session channel gets libssh's first window and never more. */
#define SESSION_SHELL_BUFFER_MAX_BYTES \
	(COMPAT_ACCEPT_WINDOW_BYTES + COMPAT_LOCAL_MAX_PACKET_BYTES)

static const char session_refusal[] =
    "hopd: this host only forwards TCP connections; "
    "try: ssh -J USER@HOST TARGET";

/* A "session" channel: it only ever says session_refusal and exits 1. */
struct shell_channel {
	struct shell_channel	*next;
	struct session		*s;
	ssh_channel		 ch;
	struct ssh_channel_callbacks_struct cb;
	bool			 pty;
	bool			 told;		/* message, status, EOF sent */
};

enum { JOB_IDLE, JOB_RUN, JOB_WAIT };

/*
 * An authorized_keys lookup (a file read, getpwnam_r for %h) runs in
 * libuv's pool, off the worker's loop; the message waits in it, and the
 * session takes no other message meanwhile, so answers keep their order.
 */
struct session_auth_job {
	uv_work_t		 work;
	struct session		*s;
	struct config		*cfg;		/* its authorized_keys */
	ssh_message		 m;
	ssh_key			 key;
	int			 state;
	bool			 allowed;
	char			 user[SESSION_USER_MAX];
	char			 peer[ADDR_TEXT_MAX];	/* address only */
	char			 reason[AUTH_REASON_MAX];
	struct credential	 cred;		/* what the key proved */
	uint8_t			 verified[32];	/* in and out: see auth.h */
	bool			 have_verified;
	bool			 verified_now;
};

struct session {
	TAILQ_ENTRY(session)	 entry;		/* in the home's list */
	struct session_home	*home;
	struct config		*cfg;		/* reference, for new channels */
	ssh_session		 ssh;
	ssh_event		 event;
	int			 fd;
	uv_poll_t		 poll;
	int			 poll_events;
	uv_timer_t		 timer;		/* login grace, then the end
						 * of the certificate */
	char			 id[SESSION_ID_LEN + 1];
	struct ip_addr		 peer_ip;
	char			 peer[ADDR_TEXT_MAX];
	char			 via[ADDR_TEXT_MAX];	/* PROXY: the balancer */
	char			 local[ADDR_TEXT_MAX];
	enum {
		SESSION_KEX,
		SESSION_AUTH,
		SESSION_OPEN
	}			 state;
	bool			 dying;		/* teardown requested */
	bool			 torn_down;	/* ssh side freed */
	bool			 unauth_counted; /* holds a startup slot */
	bool			 read_paused;
	const char		*end_reason;
	char			 user[SESSION_USER_MAX];
	unsigned		 auth_failures;
	unsigned		 auth_requests;
	unsigned		 preauth_messages;
	/*
	 * To answer an auth request libssh drops (a bad signature gets no
	 * reply from libssh): the service request, retyped (libssh_compat.c,
	 * trick 6).  A drop is a packet read with no message for it.
	 */
	ssh_message		 auth_spare;
	struct session_auth_job	*auth_job;	/* a key being looked up */
	struct credential	 cred;		/* once logged in */
	uint8_t			 cert_verified[32]; /* auth.h: verified */
	bool			 have_cert_verified;
	uint64_t		 msg_packets;	/* raw.in_packets, last message */
	struct ssh_counter_struct raw;		/* libssh's packet counters */
	uint64_t		 out_mark_bytes;	/* raw.out_* when libssh's */
	uint64_t		 out_mark_packets;	/* output was last empty */
	struct session_member_list members;
	struct session_member_list runq;
	struct session_member_list waitq;
	unsigned		 nmembers;
	struct shell_channel	*shells;
	struct forwards		*forwards;
	unsigned		 nchannels;	/* open or opening */
	unsigned		 npending;	/* direct-tcpip being decided */
	unsigned		 channel_seq;	/* audit channel numbers */
	unsigned		 cap_refusals;
	unsigned		 caps_told;	/* bits: session_cap_ends */
	uint64_t		 bytes_in, bytes_out;
	uint64_t		 start_ms;
	unsigned		 handles;	/* uv handles not yet closed */
	bool			 in_step;
	bool			 gathering;	/* reading: tunnels write after */
	bool			 step_again;
};

static void	session_teardown(struct session *);
static void	session_on_poll(uv_poll_t *, int, int);
static void	session_free_if_done(struct session *);

/* ---------------------------------------------------------------- the API */

ssh_session
session_ssh(const struct session *s)
{
	return s->ssh;
}

uv_loop_t *
session_loop(const struct session *s)
{
	return s->home->loop;
}

const struct config *
session_config(const struct session *s)
{
	return s->cfg;
}

const char *
session_id(const struct session *s)
{
	return s->id;
}

const char *
session_user(const struct session *s)
{
	return s->user;
}

const struct credential *
session_credential(const struct session *s)
{
	return &s->cred;
}

bool
session_dying(const struct session *s)
{
	return s->dying || s->torn_down;
}

unsigned
session_next_channel(struct session *s)
{
	return ++s->channel_seq;
}

bool
session_take_channel(struct session *s)
{
	if (s->nchannels >= s->cfg->max_channels_per_session)
		return false;
	s->nchannels++;
	return true;
}

void
session_give_channel(struct session *s)
{
	s->nchannels--;
}

void
session_open_decided(struct session *s)
{
	s->npending--;
}

void
session_count_bytes(struct session *s, uint64_t in, uint64_t out)
{
	s->bytes_in += in;
	s->bytes_out += out;
}

bool
session_gathering(const struct session *s)
{
	return s->gathering;
}

/*
 * At most what libssh may hold for the socket: nothing when its output
 * buffer is empty, else every packet it built since it last was (raw
 * counters count payload when a packet goes into that buffer).
 */
static uint64_t
session_out_queued(struct session *s)
{
	if (s->ssh == NULL ||
	    (ssh_get_status(s->ssh) & SSH_WRITE_PENDING) == 0) {
		s->out_mark_bytes = s->raw.out_bytes;
		s->out_mark_packets = s->raw.out_packets;
		return 0;
	}
	return (s->raw.out_bytes - s->out_mark_bytes) +
	    (s->raw.out_packets - s->out_mark_packets) *
	    SESSION_PACKET_OVERHEAD_BYTES;
}

bool
session_may_feed(struct session *s)
{
	return !s->dying && s->ssh != NULL &&
	    session_out_queued(s) < SESSION_OUT_FEED_BYTES;
}

/*
 * The caps a refusal's reason names, and the end of a session that kept
 * asking past one.  A name that another contains comes after it.
 */
#define SESSION_CAP(name)	{ name, "too many refused requests (" name ")" }
static const char *const session_cap_ends[][2] = {
	SESSION_CAP("max_channels_per_session"),
	SESSION_CAP("max_pending_opens_per_session"),
	SESSION_CAP("max_lookups_per_user"),
	SESSION_CAP("max_lookups"),
	SESSION_CAP("max_listeners_per_session"),
};
#undef SESSION_CAP

bool
session_cap_refused(struct session *s, const char *reason)
{
	size_t		i, n = sizeof(session_cap_ends) /
			    sizeof(session_cap_ends[0]);
	bool		first;

	for (i = 0; i < n; i++)
		if (strstr(reason, session_cap_ends[i][0]) != NULL)
			break;
	first = i == n || (s->caps_told & (1u << i)) == 0;
	if (i < n)
		s->caps_told |= 1u << i;
	if (++s->cap_refusals > s->cfg->max_refused_per_session)
		session_kill(s, i < n ? session_cap_ends[i][1] :
		    "too many refused requests");
	return first;
}

/* ---------------------------------------------------------------- members */

void
session_join(struct session *s, struct session_member *m,
    const struct session_member_ops *ops, void *arg)
{
	m->ops = ops;
	m->arg = arg;
	m->where = JOB_IDLE;
	TAILQ_INSERT_TAIL(&s->members, m, all);
	s->nmembers++;
}

static void
session_unqueue(struct session *s, struct session_member *m)
{
	if (m->where == JOB_RUN)
		TAILQ_REMOVE(&s->runq, m, queue);
	else if (m->where == JOB_WAIT)
		TAILQ_REMOVE(&s->waitq, m, queue);
	m->where = JOB_IDLE;
}

void
session_leave(struct session *s, struct session_member *m)
{
	session_unqueue(s, m);
	TAILQ_REMOVE(&s->members, m, all);
	s->nmembers--;
	session_free_if_done(s);
}

void
session_run(struct session *s, struct session_member *m)
{
	if (m->where == JOB_RUN)
		return;
	session_unqueue(s, m);
	TAILQ_INSERT_TAIL(&s->runq, m, queue);
	m->where = JOB_RUN;
}

void
session_wait_ssh(struct session *s, struct session_member *m)
{
	if (m->where != JOB_IDLE)
		return;		/* running soon anyway */
	TAILQ_INSERT_TAIL(&s->waitq, m, queue);
	m->where = JOB_WAIT;
}

/* The SSH side moved (read, or output drained): waiters run again. */
static void
session_wake_waiters(struct session *s)
{
	struct session_member	*m;

	while ((m = TAILQ_FIRST(&s->waitq)) != NULL) {
		TAILQ_REMOVE(&s->waitq, m, queue);
		TAILQ_INSERT_TAIL(&s->runq, m, queue);
		m->where = JOB_RUN;
	}
}

/* Steps the members that asked, each once; true if some asked again. */
static bool
session_run_members(struct session *s)
{
	struct session_member	*m;
	unsigned		 n = 0;

	TAILQ_FOREACH(m, &s->runq, queue)
		n++;
	/* Those that ask again during the pass run in the next one. */
	while (n-- > 0 && (m = TAILQ_FIRST(&s->runq)) != NULL) {
		TAILQ_REMOVE(&s->runq, m, queue);
		m->where = JOB_IDLE;
		m->ops->step(m->arg);	/* may leave: m is gone then */
	}
	return !TAILQ_EMPTY(&s->runq);
}

/* ---------------------------------------------------------------- the bridge */

/*
 * libssh's socket is read only while what it queued for the peer is under
 * a bound: before login, its answers are all it sends; after, tunnels stop
 * feeding it earlier (session_may_feed), so only libssh's own answers
 * (keepalives, unimplemented messages) can take it there.
 */
static void
session_update_poll(struct session *s)
{
	uint64_t	queued = session_out_queued(s);
	bool		pause;
	int		events = UV_READABLE;

	if (s->dying)
		return;
	pause = queued >= (s->state == SESSION_OPEN ?
	    SESSION_OUT_PAUSE_BYTES : SESSION_OUT_READ_BYTES);
	if (pause != s->read_paused) {
		if (compat_read_pause(s->fd, pause) == -1 ||
		    compat_read_pause(ssh_get_fd(s->ssh), pause) == -1) {
			session_kill(s, "socket out of range");
			return;
		}
		s->read_paused = pause;
	}
	if (pause)
		events = 0;
	/*
	 * Writable: libssh has output to flush, or members still asked to
	 * run when the step's rounds ran out (the next event runs them).
	 */
	if ((ssh_get_poll_flags(s->ssh) & SSH_WRITE_PENDING) != 0 ||
	    !TAILQ_EMPTY(&s->runq))
		events |= UV_WRITABLE;
	if (events != s->poll_events) {
		s->poll_events = events;
		if (events == 0)
			uv_poll_stop(&s->poll);
		else
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

	if (s->state != SESSION_OPEN && !s->dying && !s->torn_down)
		setsockopt(s->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

/*
 * Takes what the read-ahead holds for the session before control goes
 * back to libuv (no epoll event would tell of it): more rounds while each
 * one takes some.  Bytes libssh will not take (it stops reading only when
 * it is out of memory) go with the session.
 */
static void
session_drain_readahead(struct session *s)
{
	unsigned	held;

	compat_readahead_fill(-1);
	while ((held = compat_readahead_pending()) > 0 && s->event != NULL &&
	    ssh_event_dopoll(s->event, 0) == SSH_OK &&
	    compat_readahead_pending() < held)
		;
	if (compat_readahead_pending() > 0) {
		compat_readahead_discard();
		session_kill(s, "libssh stopped reading its socket");
	}
}

static void
session_on_poll(uv_poll_t *poll, int status, int events)
{
	struct session	*s = poll->data;
	int		 i;

	if (status < 0) {
		session_kill(s, "connection lost");
	} else if (!s->dying) {
		/*
		 * libssh reads COMPAT_READAHEAD_BYTES ahead here once the
		 * user is in (before, a peer gets no more than libssh's own
		 * 4 KiB reads).  Tunnels gather what comes for them
		 * meanwhile, and write it to their targets after.
		 */
		s->gathering = true;
		if (s->state == SESSION_OPEN)
			compat_readahead_fill(ssh_get_fd(s->ssh));
		/*
		 * Before login one round: libssh reads 4 KiB, and what it
		 * queued is dispatched (and counted) before it reads more.
		 */
		for (i = 0; i < (s->state == SESSION_OPEN ?
		    SESSION_DOPOLL_ROUNDS : 1); i++)
			if (ssh_event_dopoll(s->event, 0) != SSH_OK)
				break;
		session_drain_readahead(s);
		s->gathering = false;
		tunnel_flush_gathered();	/* also if s is ending */
		session_wake_waiters(s);
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

static void	session_on_cert_timer(uv_timer_t *);

/*
 * With cert_expiry = end, a session that logged in with a certificate
 * ends when it does: the timer is armed for valid_before (again after a
 * reload, which may change cert_expiry).
 */
static void
session_arm_cert_timer(struct session *s)
{
	uint64_t	now = audit_now_ms(), end;

	uv_timer_stop(&s->timer);
	if (!s->cred.is_cert || !s->cfg->cert_expiry_end ||
	    s->cred.valid_before == CRED_FOREVER)
		return;
	end = s->cred.valid_before > UINT64_MAX / 1000 ? UINT64_MAX :
	    s->cred.valid_before * 1000;
	uv_timer_start(&s->timer, session_on_cert_timer,
	    end > now ? end - now : 0, 0);
}

static void
session_on_cert_timer(uv_timer_t *timer)
{
	struct session	*s = timer->data;

	/* The loop's clock may lag the wall clock: never end early. */
	if (audit_now_ms() / 1000 < s->cred.valid_before) {
		session_arm_cert_timer(s);
		return;
	}
	log_info("session %s: %s: certificate %s (serial %llu) expired",
	    s->id, s->user, s->cred.key_id != NULL ? s->cred.key_id : "",
	    (unsigned long long)s->cred.serial);
	session_kill(s, "cert_expired");
	session_step(s);
}

/* ---------------------------------------------------------------- auth */

/*
 * key is the fingerprint of the key itself: for a certificate, of the
 * certified key (cr), not of the certificate blob libssh would hash.
 */
static void
session_audit_auth(struct session *s, const char *user, ssh_key key,
    const struct credential *cr, const char *result, const char *reason)
{
	struct audit_rec	r;
	char			fp[128] = "", ts[40];

	if (cr != NULL && cr->key_fp[0] != '\0')
		snprintf(fp, sizeof(fp), "%s", cr->key_fp);
	else if (key != NULL)
		auth_fingerprint(key, fp, sizeof(fp));
	audit_rec_begin(&r, audit_now_ms(), "auth", s->id);
	audit_rec_str(&r, "user", user);
	audit_rec_str(&r, "method", "publickey");
	audit_rec_str(&r, "key", fp);
	if (cr != NULL && cr->is_cert) {
		audit_rec_str(&r, "cert_id", cr->key_id);
		audit_rec_u64(&r, "cert_serial", cr->serial);
		audit_rec_str(&r, "ca", cr->ca_fp);
		if (cr->principal != NULL)
			audit_rec_str(&r, "principal", cr->principal);
		credential_valid_before(cr, ts, sizeof(ts));
		audit_rec_str(&r, "valid_before", ts);
	}
	if (cr != NULL && cr->force_command != NULL)
		audit_rec_str(&r, "force_command", cr->force_command);
	audit_rec_str(&r, "result", result);
	audit_rec_str(&r, "reason", reason);
	audit_rec_end(&r);
	audit_emit(&r);
}

static void
session_auth_release(struct session *s)
{
	if (s->auth_spare != NULL) {
		compat_message_free_as_auth(s->auth_spare);
		s->auth_spare = NULL;
	}
}

/* The connection no longer holds a startup slot (server.c's admission). */
static void
session_startup_done(struct session *s)
{
	if (s->unauth_counted) {
		s->unauth_counted = false;
		s->home->startup_done(&s->peer_ip);
	}
}

/* Ends a login that asked too often, with the reason sshd gives. */
static void
session_auth_give_up(struct session *s, const char *reason)
{
	ssh_session_set_disconnect_message(s->ssh,
	    "Too many authentication failures");
	session_kill(s, reason);
}

/* An authentication failure: counted, and the end says why as sshd does. */
static void
session_auth_count_failure(struct session *s)
{
	if (++s->auth_failures >= s->cfg->max_auth_tries)
		session_auth_give_up(s, "too many authentication failures");
}

static void
session_auth_failed(struct session *s, ssh_message m, const char *user,
    ssh_key key, const struct credential *cr, const char *reason)
{
	session_audit_auth(s, user, key, cr, "failure", reason);
	ssh_message_auth_set_methods(m, SSH_AUTH_METHOD_PUBLICKEY);
	ssh_message_reply_default(m);
	session_auth_count_failure(s);
}

/*
 * libssh drops a signed request whose signature does not verify, without
 * a reply (a user name with a NUL byte is cut there, so its signature never
 * verifies): a packet came and no message with it.  The spare answers it
 * with a failure, which counts as one.
 */
static void
session_auth_check_dropped(struct session *s)
{
	if (s->auth_spare == NULL || s->state != SESSION_AUTH || s->dying ||
	    s->raw.in_packets == s->msg_packets)
		return;
	s->msg_packets = s->raw.in_packets;
	session_audit_auth(s, s->user[0] != '\0' ? s->user : NULL, NULL,
	    NULL, "failure", "request dropped (bad signature)");
	ssh_message_auth_set_methods(s->auth_spare, SSH_AUTH_METHOD_PUBLICKEY);
	ssh_message_reply_default(s->auth_spare);
	session_auth_count_failure(s);
}

/*
 * The answer once the key was looked up (m stays the caller's; the job's
 * credential becomes the session's on success).
 */
static void
session_auth_answer(struct session *s, struct session_auth_job *j,
    bool allowed)
{
	ssh_message	 m = j->m;
	ssh_key		 key = j->key;
	const char	*why;

	/* A reload while the job ran: the new revoked_keys and CAs count. */
	if (allowed && j->cfg != s->cfg &&
	    !credential_still_valid(&j->cred, s->cfg, &why)) {
		allowed = false;
		snprintf(j->reason, sizeof(j->reason), "%s", why);
	}
	if (!allowed) {
		session_auth_failed(s, m, s->user, key, &j->cred,
		    j->reason[0] != '\0' ? j->reason : "key not authorized");
		return;
	}
	if (j->state == SSH_PUBLICKEY_STATE_NONE) {
		ssh_message_auth_reply_pk_ok_simple(m);
		return;
	}
	if (j->state != SSH_PUBLICKEY_STATE_VALID) {
		session_auth_failed(s, m, s->user, key, &j->cred,
		    "bad signature");
		return;
	}
	ssh_message_auth_reply_success(m, 0);
	s->state = SESSION_OPEN;
	session_auth_release(s);
	uv_timer_stop(&s->timer);
	session_startup_done(s);
	s->cred = j->cred;
	memset(&j->cred, 0, sizeof(j->cred));
	session_audit_auth(s, s->user, key, &s->cred, "success",
	    j->reason[0] != '\0' ? j->reason : "key authorized");
	session_arm_cert_timer(s);
}

static void
session_auth_work(uv_work_t *work)
{
	struct session_auth_job	*j = work->data;
	struct auth_request	 req;

	memset(&req, 0, sizeof(req));
	req.cfg = j->cfg;
	req.user = j->user;
	req.key = j->key;
	req.peer = j->peer;
	req.now = audit_now_ms() / 1000;
	req.verified = j->have_verified ? j->verified : NULL;
	req.verified_out = j->verified;
	req.verified_set = &j->verified_now;
	j->allowed = auth_check(&req, &j->cred, j->reason, sizeof(j->reason));
}

static void
session_auth_done(uv_work_t *work, int status)
{
	struct session_auth_job	*j = work->data;
	struct session		*s = j->s;

	s->handles--;
	s->auth_job = NULL;
	if (j->verified_now) {
		memcpy(s->cert_verified, j->verified, sizeof(s->cert_verified));
		s->have_cert_verified = true;
	}
	if (!s->dying && !s->torn_down)
		session_auth_answer(s, j, status == 0 && j->allowed);
	ssh_message_free(j->m);		/* safe after ssh_free: no session */
	credential_free(&j->cred);
	config_unref(j->cfg);
	free(j);
	if (!s->torn_down)
		session_step(s);
	else
		session_free_if_done(s);
}

/* Looks the key up off the loop; true: m is kept until it is answered. */
static bool
session_auth_lookup(struct session *s, ssh_message m, ssh_key key,
    int state)
{
	struct session_auth_job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		session_auth_failed(s, m, s->user, key, NULL, "out of memory");
		return false;
	}
	j->s = s;
	j->cfg = config_ref(s->cfg);
	j->m = m;
	j->key = key;
	j->state = state;
	memcpy(j->user, s->user, sizeof(j->user));
	addr_format(&s->peer_ip, j->peer, sizeof(j->peer));
	memcpy(j->verified, s->cert_verified, sizeof(j->verified));
	j->have_verified = s->have_cert_verified;
	j->work.data = j;
	if (uv_queue_work(s->home->loop, &j->work, session_auth_work,
	    session_auth_done) != 0) {
		config_unref(j->cfg);
		free(j);
		session_auth_failed(s, m, s->user, key, NULL,
		    "key lookup failed");
		return false;
	}
	s->handles++;
	s->auth_job = j;
	return true;
}

/*
 * Public keys only.  An unknown user, a missing file and an unlisted key
 * all get the same failure; a key the file lists gets PK_OK for a probe
 * and success once libssh has verified the signature.  Returns true when
 * it kept m.
 */
static bool
session_auth(struct session *s, ssh_message m)
{
	const char	*user = ssh_message_auth_user(m);
	ssh_key		 key;
	int		 state;

	if (s->state != SESSION_AUTH) {
		ssh_message_reply_default(m);
		return false;
	}
	if (s->user[0] != '\0' && user != NULL && strcmp(user, s->user) != 0) {
		session_kill(s, "user changed during authentication");
		return false;
	}
	/*
	 * Every request counts, probes and other methods too (sshd counts
	 * failures only): each one may read an authorized_keys file, and
	 * the grace timer alone would let a peer ask thousands of times.
	 */
	if (++s->auth_requests > SESSION_AUTH_REQUESTS_PER_TRY *
	    s->cfg->max_auth_tries) {
		session_auth_give_up(s, "too many authentication requests");
		return false;
	}
	if (ssh_message_subtype(m) != SSH_AUTH_METHOD_PUBLICKEY) {
		/* "none" and any other method: say what is possible. */
		ssh_message_auth_set_methods(m, SSH_AUTH_METHOD_PUBLICKEY);
		ssh_message_reply_default(m);
		return false;
	}
	/* The one user-name rule; s->user holds any name it accepts. */
	if (!policy_valid_user_name(user)) {
		session_auth_failed(s, m, user, NULL, NULL,
		    "invalid user name");
		return false;
	}
	snprintf(s->user, sizeof(s->user), "%s", user);
	key = compat_auth_pubkey(m, &state);
	if (key == NULL) {
		session_auth_failed(s, m, user, NULL, NULL,
		    "key not authorized");
		return false;
	}
	return session_auth_lookup(s, m, key, state);
}

/* ---------------------------------------------------------------- channels */

/* Session channels get data only by ignoring their window: see above. */
static int
session_on_shell_data(ssh_session ss, ssh_channel ch, void *data,
    uint32_t len, int is_stderr, void *arg)
{
	struct shell_channel	*sc = arg;

	if (len > SESSION_SHELL_BUFFER_MAX_BYTES)
		session_kill(sc->s, "protocol violation: data past the window");
	return 0;
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
	sc->s = s;
	sc->cb.userdata = sc;
	sc->cb.channel_data_function = session_on_shell_data;
	ssh_callbacks_init(&sc->cb);
	ssh_set_channel_callbacks(sc->ch, &sc->cb);
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

/*
 * A channel open past a cap: refused before anything is allocated; the
 * first refusal for each cap is on the record, and a session that goes on
 * asking ends (session_cap_refused).
 */
static void
session_refuse_cap(struct session *s, ssh_message m, const char *reason)
{
	bool	audit = session_cap_refused(s, reason);

	tunnel_refuse_open(s, m, reason, audit);
}

static void
session_channel_open(struct session *s, ssh_message m)
{
	const struct config	*c = s->cfg;
	uint32_t		 maxpkt;
	int			 subtype = ssh_message_subtype(m);

	if (s->state != SESSION_OPEN) {
		ssh_message_reply_default(m);
		ssh_message_free(m);
		return;
	}
	if (subtype != SSH_CHANNEL_DIRECT_TCPIP &&
	    subtype != SSH_CHANNEL_SESSION) {
		tunnel_refuse_open(s, m, "channel type not supported", true);
		return;
	}
	maxpkt = compat_open_max_packet(s->ssh, m);
	if (maxpkt < SESSION_MIN_PACKET_BYTES) {
		log_verbose("session %s: maximum packet size %u < %d", s->id,
		    maxpkt, SESSION_MIN_PACKET_BYTES);
		tunnel_refuse_open(s, m, "maximum packet size too small", true);
		return;
	}
	if (s->nchannels >= c->max_channels_per_session) {
		session_refuse_cap(s, m,
		    "too many channels (max_channels_per_session)");
		return;
	}
	if (subtype == SSH_CHANNEL_SESSION) {
		session_open_shell(s, m);
		ssh_message_free(m);
		return;
	}
	if (s->npending >= c->max_pending_opens_per_session) {
		session_refuse_cap(s, m, "too many opens in progress "
		    "(max_pending_opens_per_session)");
		return;
	}
	s->npending++;
	tunnel_open_direct(s, m);	/* takes m, decides the pending */
}

/* Returns true when it kept m. */
static bool
session_dispatch(struct session *s, ssh_message m)
{
	const char	*service;

	/*
	 * Before login every message counts: auth requests against their
	 * own cap (session_auth), any other (paramiko sends a service
	 * request before each auth request) against as many and a few.
	 */
	if (s->state != SESSION_OPEN &&
	    ssh_message_type(m) != SSH_REQUEST_AUTH &&
	    ++s->preauth_messages > SESSION_AUTH_REQUESTS_PER_TRY *
	    s->cfg->max_auth_tries + SESSION_PREAUTH_EXTRA_MESSAGES) {
		session_kill(s, "too many messages before authentication");
		return false;
	}
	switch (ssh_message_type(m)) {
	case SSH_REQUEST_SERVICE:
		service = ssh_message_service_service(m);
		if (service == NULL || strcmp(service, "ssh-userauth") != 0) {
			session_kill(s, "unknown service requested");
			break;
		}
		ssh_message_service_reply_success(m);
		if (s->auth_spare == NULL && s->state == SESSION_AUTH &&
		    compat_message_as_auth(s->ssh, m) == 0) {
			s->auth_spare = m;
			return true;
		}
		break;
	case SSH_REQUEST_AUTH:
		return session_auth(s, m);
	case SSH_REQUEST_CHANNEL_OPEN:
		session_channel_open(s, m);	/* takes m */
		return true;
	case SSH_REQUEST_CHANNEL:
		session_channel_request(s, m);
		break;
	case SSH_REQUEST_GLOBAL:
		if (s->state == SESSION_OPEN)
			forward_request(s, &s->forwards, m);
		else
			ssh_message_reply_default(m);
		break;
	default:
		ssh_message_reply_default(m);
		break;
	}
	return false;
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
		ssh_remove_channel_callbacks(sc->ch, &sc->cb);
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
	ssh_message	 m;
	int		 rc, n = 0;
	bool		 again;

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
		while (!s->dying && s->auth_job == NULL &&
		    n < SESSION_MESSAGES_PER_STEP &&
		    (m = ssh_message_get(s->ssh)) != NULL) {
			s->msg_packets = s->raw.in_packets;
			if (!session_dispatch(s, m))
				ssh_message_free(m);
			n++;
		}
		if (n == 0 && s->auth_job == NULL)
			session_auth_check_dropped(s);
	}
	if (!s->dying && session_ssh_closed(s))
		session_kill(s, "connection closed by client");
	if (s->dying)
		return false;
	again = session_run_members(s);
	session_step_shells(s);
	return n > 0 || again;
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
	if (!s->torn_down && s->state == SESSION_OPEN)
		compat_readahead_fill(ssh_get_fd(s->ssh));
	for (rounds = 0; rounds < SESSION_DOPOLL_ROUNDS; rounds++) {
		s->step_again = false;
		if (s->torn_down || !session_step_once(s)) {
			if (!s->step_again)
				break;
		}
	}
	if (!s->torn_down)
		session_drain_readahead(s);
	if (s->dying && !s->torn_down)
		session_teardown(s);
	if (!s->torn_down) {
		session_update_poll(s);
	} else {
		/* Members finishing on their own (flushing to targets). */
		while (session_run_members(s))
			;
	}
	s->in_step = false;
	session_free_if_done(s);
}

/* ---------------------------------------------------------------- the end */

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
	session_free_if_done(s);
}

/*
 * The end of the SSH side: every member is told (what was queued for a
 * target is still written, bounded in time), every channel freed before
 * the session, the poll handle closed before our copy of the socket.
 */
static void
session_teardown(struct session *s)
{
	struct session_member	*m, *mnext;
	struct shell_channel	*sc;

	s->torn_down = true;	/* members see the SSH side as gone */
	TAILQ_FOREACH_SAFE(m, &s->members, all, mnext)
		m->ops->end(m->arg, s->end_reason);
	while ((sc = s->shells) != NULL) {
		s->shells = sc->next;
		ssh_remove_channel_callbacks(sc->ch, &sc->cb);
		ssh_channel_free(sc->ch);
		free(sc);
		s->nchannels--;
	}
	session_auth_release(s);
	if (s->auth_job != NULL)	/* its end frees it (and the message) */
		uv_cancel((uv_req_t *)&s->auth_job->work);
	session_startup_done(s);
	session_audit_end(s);
	if (s->read_paused) {
		compat_read_pause(s->fd, false);
		compat_read_pause(ssh_get_fd(s->ssh), false);
	}
	if (!session_ssh_closed(s)) {
		/*
		 * libssh writes the DISCONNECT (and its reason) at once only
		 * if a poll saw the socket writable with nothing queued;
		 * else it is dropped with the socket.  One flush and one
		 * poll, no waiting: a peer that does not read gets nothing.
		 */
		ssh_blocking_flush(s->ssh, 0);
		ssh_event_dopoll(s->event, 0);
		ssh_disconnect(s->ssh);
	}
	ssh_event_remove_session(s->event, s->ssh);
	ssh_event_free(s->event);
	s->event = NULL;
	ssh_free(s->ssh);
	s->ssh = NULL;
	uv_close((uv_handle_t *)&s->poll, session_on_handle_closed);
	uv_close((uv_handle_t *)&s->timer, session_on_handle_closed);
}

static void
session_free_if_done(struct session *s)
{
	if (!s->torn_down || s->in_step || s->handles > 0 || s->nmembers > 0)
		return;
	forward_set_free(s->forwards);
	credential_free(&s->cred);
	TAILQ_REMOVE(&s->home->sessions, s, entry);
	__atomic_sub_fetch(&s->home->nsessions, 1, __ATOMIC_RELAXED);
	config_unref(s->cfg);
	free(s);
}

/* ---------------------------------------------------------------- the start */

static void
session_audit_start(struct session *s)
{
	struct audit_rec	r;

	audit_rec_begin(&r, audit_now_ms(), "session_start", s->id);
	audit_rec_str(&r, "peer", s->peer);
	if (s->via[0] != '\0')
		audit_rec_str(&r, "via", s->via);
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
session_start(struct session_home *home, int fd, const struct ip_addr *peer,
    uint16_t peer_port, const char *via)
{
	struct session		*s;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	struct ip_addr		 local;
	uint16_t		 lport;
	int			 sshfd = -1;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto fail;
	s->home = home;
	s->cfg = config_ref(home->cfg);
	s->fd = fd;
	s->peer_ip = *peer;
	s->unauth_counted = true;
	s->start_ms = audit_now_ms();
	TAILQ_INIT(&s->members);
	TAILQ_INIT(&s->runq);
	TAILQ_INIT(&s->waitq);
	session_make_id(s);
	addr_format_port(peer, peer_port, s->peer, sizeof(s->peer));
	if (via != NULL)
		snprintf(s->via, sizeof(s->via), "%s", via);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0 &&
	    addr_from_sockaddr((struct sockaddr *)&ss, &local, &lport) == 0)
		addr_format_port(&local, lport, s->local, sizeof(s->local));

	/* libssh closes its socket when the peer goes: give it a copy. */
	if ((sshfd = dup(fd)) == -1 || (s->ssh = ssh_new()) == NULL)
		goto fail;
	if (ssh_bind_accept_fd(home->bind, s->ssh, sshfd) != SSH_OK) {
		log_warnx("session %s: %s", s->id, ssh_get_error(home->bind));
		if (ssh_get_fd(s->ssh) == sshfd)
			sshfd = -1;	/* libssh's now: ssh_free closes it */
		goto fail;
	}
	sshfd = -1;
	ssh_set_counters(s->ssh, NULL, &s->raw);
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

	uv_poll_init_socket(home->loop, &s->poll, fd);
	s->poll.data = s;
	s->handles++;
	s->poll_events = UV_READABLE;
	uv_poll_start(&s->poll, UV_READABLE, session_on_poll);
	uv_timer_init(home->loop, &s->timer);
	s->timer.data = s;
	s->handles++;
	if (s->cfg->login_grace_time_ms > 0)
		uv_timer_start(&s->timer, session_on_grace_timer,
		    s->cfg->login_grace_time_ms, 0);
	TAILQ_INSERT_TAIL(&home->sessions, s, entry);
	__atomic_add_fetch(&home->nsessions, 1, __ATOMIC_RELAXED);
	log_verbose("session %s: connection from %s%s%s", s->id, s->peer,
	    s->via[0] != '\0' ? " via " : "", s->via);
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
	home->startup_done(peer);
}

static void
session_reload(struct session *s, struct config *cfg)
{
	struct session_member	*m, *mnext;

	const char		*why;

	config_unref(s->cfg);
	s->cfg = config_ref(cfg);
	if (s->dying || s->torn_down || s->state != SESSION_OPEN)
		return;
	/* The credential first: a revoked one ends everything. */
	if (!credential_still_valid(&s->cred, cfg, &why)) {
		log_info("session %s: %s: ended on reload: %s", s->id, s->user,
		    why);
		session_kill(s, "revoked");
		session_step(s);
		return;
	}
	session_arm_cert_timer(s);
	TAILQ_FOREACH_SAFE(m, &s->members, all, mnext)
		m->ops->reload(m->arg);
	session_step(s);
}

void
session_home_reload(struct session_home *home, struct config *cfg)
{
	struct session	*s, *next;

	config_unref(home->cfg);
	home->cfg = cfg;
	TAILQ_FOREACH_SAFE(s, &home->sessions, entry, next)
		session_reload(s, cfg);
}

void
session_home_end(struct session_home *home, const char *reason)
{
	struct session	*s, *next;

	TAILQ_FOREACH_SAFE(s, &home->sessions, entry, next) {
		session_kill(s, reason);
		session_step(s);
	}
}
