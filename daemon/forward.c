/*
 * forward: remote forwards (ssh -R).  A tcpip-forward request is decided by
 * the listen rules of the user's sections, then bound in the session's
 * loop; each accepted connection becomes a forwarded-tcpip tunnel (the pump
 * of pump.c).  A listener belongs to its session and ends with it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "audit.h"
#include "config.h"
#include "cred.h"
#include "forward.h"
#include "log.h"
#include "policy.h"
#include "session.h"
#include "pump.h"
#include "tunnel.h"

#define FORWARD_ADDRS_MAX	2	/* localhost: 127.0.0.1 and ::1 */
#define FORWARD_BACKLOG		128
#define FORWARD_ALLOC_TRIES	64	/* binding an allocated port */
#define FORWARD_BIND_MAX	256

/* A session's listeners, created by its first tcpip-forward. */
struct forwards {
	TAILQ_HEAD(, forward)	 list;
	unsigned		 n;
};

struct forward {
	TAILQ_ENTRY(forward)	 entry;
	struct session_member	 member;
	struct forwards		*set;
	struct session		*s;
	char			 bind[FORWARD_BIND_MAX];	/* as asked */
	uint16_t		 asked_port;
	uint16_t		 port;				/* bound */
	uv_tcp_t		*tcp[FORWARD_ADDRS_MAX];
	char			 addrs[FORWARD_ADDRS_MAX][ADDR_TEXT_MAX];
	int			 ntcp;				/* bound */
	int			 handles;			/* not closed */
	/*
	 * A connection refused (no channel slot, out of memory) is accepted
	 * into this handle and closed: nothing to allocate, and a listener
	 * whose connection is not accepted stops listening (libuv).
	 */
	uv_tcp_t		 drop;
	bool			 drop_busy;	/* closing the last one */
	bool			 drop_waiting;	/* one waits for it... */
	uv_stream_t		*drop_server;	/* ...on this listener */
	bool			 closing;
	char			 rule[256];
};

static void	forwarded_open_step(struct tunnel *);
static void	forwarded_on_timeout(struct tunnel *);
static bool	forwarded_still_allowed(struct tunnel *);

/* A forwarded-tcpip tunnel: opened by us toward the client, then pumped. */
static const struct tunnel_ops forwarded_ops = {
	.type = "forwarded-tcpip",
	.opening = forwarded_open_step,
	.timeout = forwarded_on_timeout,
	.still_allowed = forwarded_still_allowed,
};

static void	forward_step(void *);
static void	forward_on_session_end(void *, const char *);
static void	forward_on_reload(void *);

static const struct session_member_ops forward_member_ops = {
	forward_step, forward_on_session_end, forward_on_reload
};

/* The concrete addresses a bind string asks for, loopback for "". */
static int
forward_concrete(const char *bind, char out[FORWARD_ADDRS_MAX][ADDR_TEXT_MAX])
{
	struct ip_addr	a;

	if (bind[0] == '\0' || strcasecmp(bind, "localhost") == 0) {
		snprintf(out[0], ADDR_TEXT_MAX, "127.0.0.1");
		snprintf(out[1], ADDR_TEXT_MAX, "::1");
		return 2;
	}
	if (strcmp(bind, "*") == 0) {
		snprintf(out[0], ADDR_TEXT_MAX, "0.0.0.0");
		snprintf(out[1], ADDR_TEXT_MAX, "::");
		return 2;
	}
	if (addr_parse_ip(bind, &a) == -1 ||
	    addr_format(&a, out[0], ADDR_TEXT_MAX) == -1)
		return 0;
	return 1;
}

static void
forward_audit(struct session *s, const char *event, const char *bind,
    unsigned asked, unsigned bound, const char *decision, const char *rule,
    const char *reason)
{
	struct audit_rec	r;

	audit_rec_begin(&r, audit_now_ms(), event, session_id(s));
	audit_rec_str(&r, "user", session_user(s));
	audit_rec_str(&r, "bind", bind);
	audit_rec_u64(&r, "port", asked);
	if (bound != 0)
		audit_rec_u64(&r, "bound_port", bound);
	if (decision != NULL)
		audit_rec_str(&r, "decision", decision);
	if (rule != NULL)
		audit_rec_str(&r, "rule", rule);
	audit_rec_str(&r, "reason", reason);
	audit_rec_end(&r);
	audit_emit(&r);
}

static void
forward_free_if_done(struct forward *f)
{
	if (!f->closing || f->handles > 0 || f->drop_busy)
		return;
	TAILQ_REMOVE(&f->set->list, f, entry);
	f->set->n--;
	session_leave(f->s, &f->member);	/* may free the session */
	free(f);
}

static void
forward_on_closed(uv_handle_t *h)
{
	struct forward	*f = h->data;

	free(h);
	f->handles--;
	forward_free_if_done(f);
}

/* Closes what is bound so far (f itself stays until the handles close). */
static void
forward_unbind(struct forward *f)
{
	while (f->ntcp > 0) {
		f->ntcp--;
		uv_close((uv_handle_t *)f->tcp[f->ntcp], forward_on_closed);
	}
}

static void
forward_close(struct forward *f, const char *reason)
{
	if (f->closing)
		return;
	f->closing = true;
	forward_audit(f->s, "forward_cancel", f->bind, f->asked_port, f->port,
	    NULL, NULL, reason);
	forward_unbind(f);
	forward_free_if_done(f);
}

/* ---------------------------------------------------------------- forwarded-tcpip */

static struct tunnel *
forwarded_new(struct session *s, const char *bind, uint16_t port,
    const char *local)
{
	struct tunnel	*t;

	if ((t = tunnel_new(s, &forwarded_ops)) == NULL)
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

static uv_stream_t *
forwarded_stream(struct tunnel *t)
{
	session_run(t->s, &t->member);
	return (uv_stream_t *)&t->tcp;
}

static void
forwarded_failed(struct tunnel *t)
{
	t->close_requested = true;
	t->state = TUNNEL_CLOSING;
	tunnel_close_tcp(t);
	session_run(t->s, &t->member);
}

/* Our forwarded-tcpip open towards the client; retried until answered. */
static void
forwarded_open_step(struct tunnel *t)
{
	struct ip_addr	a;
	uint16_t	oport = 0;
	char		oip[ADDR_TEXT_MAX] = "127.0.0.1";
	struct sockaddr_storage ss;
	ssh_channel	ch;
	int		len = sizeof(ss), rc;

	if (t->ch == NULL) {
		if ((ch = ssh_channel_new(session_ssh(t->s))) == NULL) {
			tunnel_close(t, "out of memory");
			return;
		}
		/*
		 * Before the open goes out: the client's confirmation, data,
		 * EOF and CLOSE may all come in one burst, and an EOF seen by
		 * no callback would be lost.
		 */
		tunnel_set_channel(t, ch);
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

/* The client did not answer our open in time. */
static void
forwarded_on_timeout(struct tunnel *t)
{
	if (t->state != TUNNEL_OPENING)
		return;
	tunnel_audit_open(t, "allow", "refused", "client did not answer");
	tunnel_close(t, "client did not answer");
}

/*
 * After a reload: decided again by the listen rules for the address and
 * port that accepted it, whether its listener is still there or not.
 */
static bool
forwarded_still_allowed(struct tunnel *t)
{
	return policy_listen_port_allowed(session_config(t->s)->policy,
	    session_user(t->s), t->fwd_local, t->fwd_port);
}

/* ---------------------------------------------------------------- listeners */

static void	forward_drop(struct forward *, uv_stream_t *);

static void
forward_on_drop_closed(uv_handle_t *h)
{
	struct forward	*f = h->data;

	f->drop_busy = false;
	if (f->drop_waiting && !f->closing && f->ntcp > 0) {
		f->drop_waiting = false;
		forward_drop(f, f->drop_server);
		return;
	}
	forward_free_if_done(f);
}

/* Takes the waiting connection off server's backlog and closes it. */
static void
forward_drop(struct forward *f, uv_stream_t *server)
{
	if (f->drop_busy) {
		/* Accepted when the last drop has closed. */
		f->drop_waiting = true;
		f->drop_server = server;
		return;
	}
	uv_tcp_init(server->loop, &f->drop);
	f->drop.data = f;
	f->drop_busy = true;
	uv_accept(server, (uv_stream_t *)&f->drop);
	uv_close((uv_handle_t *)&f->drop, forward_on_drop_closed);
}

static void
forward_on_connection(uv_stream_t *server, int status)
{
	struct forward	*f = server->data;
	struct session	*s = f->s;
	struct tunnel	*t;
	int		 i;

	if (status < 0 || f->closing)
		return;
	for (i = 0; i < f->ntcp; i++)
		if (f->tcp[i] == (uv_tcp_t *)server)
			break;
	if (session_dying(s) || i == f->ntcp ||
	    (t = forwarded_new(s, f->bind, f->port, f->addrs[i])) ==
	    NULL) {
		log_verbose("session %s: remote forward %s:%u: connection "
		    "refused: too many channels", session_id(s), f->bind,
		    f->port);
		forward_drop(f, server);
		return;
	}
	if (uv_accept(server, forwarded_stream(t)) != 0)
		forwarded_failed(t);
	session_step(s);
}

static int
forward_bind_one(struct forward *f, const char *addr, uint16_t port,
    uint16_t *bound)
{
	struct sockaddr_storage	 ss;
	struct ip_addr		 a, b;
	uv_tcp_t		*tcp;
	int			 len = sizeof(ss), rc;

	if (addr_parse_ip(addr, &a) == -1)
		return UV_EINVAL;
	if ((tcp = malloc(sizeof(*tcp))) == NULL)
		return UV_ENOMEM;
	addr_to_sockaddr(&a, port, &ss);
	uv_tcp_init(session_loop(f->s), tcp);
	tcp->data = f;
	f->handles++;
	if ((rc = uv_tcp_bind(tcp, (struct sockaddr *)&ss,
	    a.family == AF_INET6 ? UV_TCP_IPV6ONLY : 0)) == 0 &&
	    (rc = uv_listen((uv_stream_t *)tcp, FORWARD_BACKLOG,
	    forward_on_connection)) == 0 &&
	    (rc = uv_tcp_getsockname(tcp, (struct sockaddr *)&ss, &len)) == 0 &&
	    addr_from_sockaddr((struct sockaddr *)&ss, &b, bound) == -1)
		rc = UV_EINVAL;
	if (rc != 0) {
		uv_close((uv_handle_t *)tcp, forward_on_closed);
		return rc;
	}
	snprintf(f->addrs[f->ntcp], ADDR_TEXT_MAX, "%s", addr);
	f->tcp[f->ntcp++] = tcp;
	return 0;
}

/*
 * Binds every allowed concrete address on one port.  Any of them in use
 * refuses the whole request (nobody takes over a port another session
 * holds, not even on one address family); an address this host does not
 * have (no IPv6) is skipped as long as another one is bound.
 */
static int
forward_bind_all(struct forward *f, char addrs[][ADDR_TEXT_MAX],
    const bool *allowed, int naddrs, uint16_t port)
{
	uint16_t	bound = 0;
	int		i, rc = UV_EADDRNOTAVAIL;

	for (i = 0; i < naddrs; i++) {
		if (!allowed[i])
			continue;
		rc = forward_bind_one(f, addrs[i], port, &bound);
		if (rc == UV_EADDRINUSE || rc == UV_EACCES || rc == UV_ENOMEM) {
			forward_unbind(f);
			return rc;
		}
	}
	if (f->ntcp == 0)
		return rc;
	f->port = port;
	return 0;
}

static uint32_t
forward_xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 32);
}

/* Candidate ports for "-R 0:...": the allowed ones, in random order. */
static size_t
forward_candidates(struct session *s, const char *bind, uint16_t *out,
    size_t max)
{
	uint64_t	x = 0;
	uint32_t	r, port;
	size_t		n = 0, seen = 0, j;

	/* One seed from the kernel, then xorshift: no syscall per port. */
	if (getrandom(&x, sizeof(x), 0) != sizeof(x) || x == 0)
		x = 0x9e3779b97f4a7c15ULL ^ (uintptr_t)s;
	for (port = 1024; port <= 65535; port++) {
		if (!policy_listen_port_allowed(session_config(s)->policy,
		    session_user(s), bind, port))
			continue;
		/* Reservoir sampling: max uniformly chosen ports. */
		seen++;
		if (n < max)
			out[n++] = port;
		else if ((j = forward_xorshift(&x) % seen) < max)
			out[j] = port;
	}
	for (j = n; j > 1; j--) {
		r = forward_xorshift(&x) % j;
		port = out[j - 1];
		out[j - 1] = out[r];
		out[r] = port;
	}
	return n;
}

static void
forward_refuse(struct session *s, ssh_message m, const char *bind,
    unsigned port, const char *decision, const char *rule, const char *why)
{
	char	line[512], safe[201];

	log_printable(bind, safe, sizeof(safe));
	snprintf(line, sizeof(line), "hopd: remote forward %s:%u refused: %s",
	    safe, port, why);
	ssh_send_debug(session_ssh(s), line, 1);
	forward_audit(s, "forward_listen", bind, port, 0, decision, rule, why);
	ssh_message_reply_default(m);
}

static void
forward_listen(struct session *s, struct forwards **setp, ssh_message m)
{
	const struct config *c = session_config(s);
	const char	*user = session_user(s);
	const char	*bind = ssh_message_global_request_address(m);
	int		 asked = ssh_message_global_request_port(m);
	char		 concrete[FORWARD_ADDRS_MAX][ADDR_TEXT_MAX];
	bool		 allowed[FORWARD_ADDRS_MAX] = { false, false };
	uint16_t	 cand[FORWARD_ALLOC_TRIES];
	struct verdict	 v;
	struct forwards	*set = *setp;
	struct forward	*f;
	char		 rule[256];
	size_t		 ncand, k;
	int		 i, n, rc;

	if (bind == NULL)
		bind = "";
	if (strlen(bind) >= FORWARD_BIND_MAX || asked < 0 || asked > 65535) {
		forward_refuse(s, m, "?", asked, "deny", "default",
		    "invalid bind address");
		return;
	}
	/* The key's permitlisten narrows the policy. */
	if (!credential_permits_listen(session_credential(s), bind,
	    (uint16_t)asked)) {
		forward_refuse(s, m, bind, asked, "deny", "permitlisten",
		    "denied by the key's permitlisten");
		return;
	}
	if (!policy_decide_listen(c->policy, user, bind, asked, &v)) {
		policy_rule_origin(v.rule, rule, sizeof(rule));
		forward_refuse(s, m, bind, asked, "deny", rule,
		    "denied by policy");
		return;
	}
	policy_rule_origin(v.rule, rule, sizeof(rule));
	if ((set != NULL ? set->n : 0) >= c->max_listeners_per_session) {
		if (session_cap_refused(s, "too many listeners "
		    "(max_listeners_per_session)"))
			forward_refuse(s, m, bind, asked, "deny", rule,
			    "too many listeners (max_listeners_per_session)");
		else
			ssh_message_reply_default(m);
		return;
	}
	if (set == NULL) {
		if ((set = calloc(1, sizeof(*set))) == NULL) {
			forward_refuse(s, m, bind, asked, "allow", rule,
			    "out of memory");
			return;
		}
		TAILQ_INIT(&set->list);
		*setp = set;
	}
	/* The concrete addresses this user may bind for that request. */
	n = forward_concrete(bind, concrete);
	for (i = 0; i < n; i++)
		allowed[i] = asked == 0 || policy_listen_port_allowed(
		    c->policy, user, concrete[i], asked);
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		forward_refuse(s, m, bind, asked, "allow", rule,
		    "out of memory");
		return;
	}
	f->s = s;
	f->set = set;
	snprintf(f->bind, sizeof(f->bind), "%s", bind);
	snprintf(f->rule, sizeof(f->rule), "%s", rule);
	f->asked_port = asked;
	TAILQ_INSERT_TAIL(&set->list, f, entry);
	set->n++;
	session_join(s, &f->member, &forward_member_ops, f);
	if (asked != 0) {
		rc = forward_bind_all(f, concrete, allowed, n, asked);
	} else {
		ncand = forward_candidates(s, bind, cand, FORWARD_ALLOC_TRIES);
		rc = UV_EADDRNOTAVAIL;
		for (k = 0; k < ncand && rc != 0; k++) {
			for (i = 0; i < n; i++)
				allowed[i] = policy_listen_port_allowed(
				    c->policy, user, concrete[i], cand[k]);
			rc = forward_bind_all(f, concrete, allowed, n, cand[k]);
		}
	}
	if (rc != 0) {
		forward_refuse(s, m, bind, asked, "allow", rule,
		    rc == UV_EADDRINUSE ? "port in use" :
		    rc == UV_EACCES ? "permission denied" :
		    asked == 0 ? "no free port allowed" : uv_strerror(rc));
		f->closing = true;
		forward_free_if_done(f);
		return;
	}
	forward_audit(s, "forward_listen", bind, asked, f->port, "allow", rule,
	    "listening");
	ssh_message_global_request_reply_success(m, f->port);
}

static void
forward_cancel(struct session *s, struct forwards *set, ssh_message m)
{
	const char	*bind = ssh_message_global_request_address(m);
	int		 port = ssh_message_global_request_port(m);
	struct forward	*f = NULL;

	if (bind == NULL)
		bind = "";
	if (set != NULL)
		TAILQ_FOREACH(f, &set->list, entry)
			if (!f->closing && f->port == port &&
			    strcmp(f->bind, bind) == 0)
				break;
	if (f == NULL) {
		ssh_message_reply_default(m);
		return;
	}
	forward_close(f, "cancelled by client");
	ssh_message_global_request_reply_success(m, 0);
}

void
forward_request(struct session *s, struct forwards **setp, ssh_message m)
{
	switch (ssh_message_subtype(m)) {
	case SSH_GLOBAL_REQUEST_TCPIP_FORWARD:
		forward_listen(s, setp, m);
		break;
	case SSH_GLOBAL_REQUEST_CANCEL_TCPIP_FORWARD:
		forward_cancel(s, *setp, m);
		break;
	default:
		ssh_message_reply_default(m);
		break;
	}
}

void
forward_set_free(struct forwards *set)
{
	free(set);	/* empty: its listeners left the session first */
}

static void
forward_step(void *arg)
{
	forward_free_if_done(arg);
}

static void
forward_on_session_end(void *arg, const char *reason)
{
	forward_close(arg, "session ended");
}

/*
 * After a reload: a listener the new policy no longer allows closes.  Its
 * connections are decided again by themselves (forwarded_still_allowed),
 * as are those of listeners cancelled before.
 */
static void
forward_on_reload(void *arg)
{
	struct forward	*f = arg;
	const struct config *c = session_config(f->s);
	int		 i;

	if (f->closing)
		return;
	for (i = 0; i < f->ntcp; i++)
		if (!policy_listen_port_allowed(c->policy,
		    session_user(f->s), f->addrs[i], f->port))
			break;
	if (i < f->ntcp)
		forward_close(f, "policy_reload");
}
