/*
 * direct: admission of a direct-tcpip open (ssh -J, -W, -L, -D).  The open
 * is parsed, decided before anything is allocated where it can be, looked
 * up (lookup.c), decided per address (policy.c), connected to the allowed
 * addresses in order, and only then answered; from there the pump
 * (pump.c) carries it.  Every refusal is on the record with its reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "addr.h"
#include "audit.h"
#include "config.h"
#include "cred.h"
#include "log.h"
#include "lookup.h"
#include "policy.h"
#include "pump.h"
#include "session.h"
#include "tunnel.h"

#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))

static void	direct_connect_next(struct tunnel *);
static void	direct_on_timeout(struct tunnel *);
static void	direct_unanswered(struct tunnel *, const char *);
static bool	direct_still_allowed(struct tunnel *);

static const struct tunnel_ops direct_ops = {
	.type = "direct-tcpip",
	.timeout = direct_on_timeout,
	.tcp_closed = direct_connect_next,
	.unanswered = direct_unanswered,
	.still_allowed = direct_still_allowed,
};

static const char *
direct_channel_type(int subtype)
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
direct_format_request(ssh_message m, char *target, size_t tlen,
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
direct_reply_refused(struct session *s, ssh_message m, const char *target,
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

/* A refusal decided before any tunnel exists (m is taken). */
static void
direct_refuse_message(struct session *s, ssh_message m, const char *type,
    const char *target, const char *origin, const char *rule,
    const char *reason, bool audit)
{
	if (audit) {
		tunnel_audit_open_rec(s, session_next_channel(s), type, target,
		    origin, "deny", rule, NULL, 0, "refused", reason);
		direct_reply_refused(s, m, target, reason);
	} else
		ssh_message_reply_default(m);
	ssh_message_free(m);
}

void
tunnel_refuse_open(struct session *s, ssh_message m, const char *reason,
    bool audit)
{
	char	target[ADDR_NAME_MAX + 16], origin[ADDR_TEXT_MAX];
	int	subtype = ssh_message_subtype(m);
	bool	direct = subtype == SSH_CHANNEL_DIRECT_TCPIP;

	if (direct)
		direct_format_request(m, target, sizeof(target), origin,
		    sizeof(origin));
	direct_refuse_message(s, m, direct_channel_type(subtype),
	    direct ? target : NULL, direct ? origin : NULL, NULL, reason,
	    audit);
}

/* The open is answered (or will never be): it is no longer pending. */
static void
direct_decided(struct tunnel *t)
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
direct_refuse(struct tunnel *t, const char *decision, const char *reason)
{
	if (t->open_msg != NULL && !session_dying(t->s))
		direct_reply_refused(t->s, t->open_msg, t->target, reason);
	direct_decided(t);
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

static void
direct_audit_connect(struct tunnel *t, const struct ip_addr *a, int status)
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

static const char *
direct_connect_error(int status)
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

/* The connect succeeded: now the client's open is accepted. */
static void
direct_accept(struct tunnel *t)
{
	ssh_channel	ch;

	tunnel_stop_timer(t);
	if ((ch = ssh_channel_new(session_ssh(t->s))) == NULL) {
		direct_refuse(t, "allow", "out of memory");
		return;
	}
	tunnel_set_channel(t, ch);
	if (ssh_message_channel_request_open_reply_accept_channel(t->open_msg,
	    t->ch) != SSH_OK) {
		direct_decided(t);
		tunnel_audit_open(t, "allow", "refused", "client gone");
		tunnel_close(t, "client gone");
		return;
	}
	direct_decided(t);
	tunnel_audit_open(t, "allow", "open", "connected");
	tunnel_start_pump(t);
}

static void
direct_on_connect(uv_connect_t *req, int status)
{
	struct tunnel	*t = container_of(req, struct tunnel, connect_req);

	if (status == UV_ECANCELED)
		return;		/* we closed it; the close callback goes on */
	direct_audit_connect(t, &t->addrs[t->next_addr - 1], status);
	if (t->state == TUNNEL_CONNECTING && !t->close_requested) {
		if (status < 0) {
			t->fail_reason = direct_connect_error(status);
			tunnel_close_tcp(t);	/* its close tries the next */
		} else {
			t->connected_ip = t->addrs[t->next_addr - 1];
			direct_accept(t);
		}
	}
	tunnel_kick(t);
}

static void
direct_connect_next(struct tunnel *t)
{
	struct sockaddr_storage	 ss;
	const struct ip_addr	*a;
	int			 rc;

	while (t->next_addr < t->naddrs && !t->allowed[t->next_addr])
		t->next_addr++;
	if (t->next_addr == t->naddrs) {
		direct_refuse(t, "allow", t->fail_reason != NULL ?
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
	    direct_on_connect);
	if (rc == 0)
		return;
	direct_audit_connect(t, a, rc);
	t->fail_reason = direct_connect_error(rc);
	/* Its close callback comes back here for the next address. */
	tunnel_close_tcp(t);
}

/* Every resolved address decided alone; connect to the allowed ones. */
static void
direct_decide(struct tunnel *t)
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
		direct_refuse(t, "deny", "denied by policy");
		return;
	}
	t->state = TUNNEL_CONNECTING;
	direct_connect_next(t);
}

static void
direct_on_resolved(void *arg, int status, const struct ip_addr *addrs,
    size_t naddrs)
{
	struct tunnel	*t = arg;

	t->lookup = NULL;
	if (t->state == TUNNEL_RESOLVING && !t->close_requested) {
		if (status < 0 || naddrs == 0) {
			direct_refuse(t, "deny", status == UV_EAI_NONAME ||
			    (status == 0 && naddrs == 0) ? "unknown host" :
			    "name resolution failed");
		} else {
			memcpy(t->addrs, addrs, naddrs * sizeof(addrs[0]));
			t->naddrs = naddrs;
			direct_decide(t);
		}
	}
	tunnel_kick(t);
}

/* A direct-tcpip open refused before its tunnel exists (m is taken). */
static void
direct_refuse_early(struct session *s, ssh_message m, const char *target,
    const char *origin, const char *rule, const char *reason, bool audit)
{
	direct_refuse_message(s, m, "direct-tcpip", target, origin, rule,
	    reason, audit);
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
	direct_format_request(m, target, sizeof(target), origin,
	    sizeof(origin));
	dest = ssh_message_channel_request_open_destination(m);
	port = ssh_message_channel_request_open_destination_port(m);
	if (dest == NULL || addr_parse_host(dest, &host, &why) == -1 ||
	    port < 1 || port > 65535) {
		log_verbose("session %s: invalid target: %s", session_id(s),
		    why != NULL ? why : "bad port");
		direct_refuse_early(s, m, target, origin, NULL,
		    "invalid target", true);
		return;
	}
	/* The key's permitopen narrows the policy: the text as sent. */
	if (!credential_permits_open(session_credential(s), dest,
	    (uint16_t)port)) {
		log_verbose("session %s: %s denied: not in the key's "
		    "permitopen", session_id(s), target);
		direct_refuse_early(s, m, target, origin, "permitopen",
		    "denied by the key's permitopen", true);
		return;
	}
	if (!policy_precheck(c->policy, session_user(s), &host, port, &v)) {
		policy_rule_origin(v.rule, rule, sizeof(rule));
		log_verbose("session %s: %s denied: %s (%s)", session_id(s),
		    host.text, v.reason, rule);
		direct_refuse_early(s, m, target, origin, rule,
		    "denied by policy", true);
		return;
	}
	if ((t = tunnel_new(s, &direct_ops)) == NULL) {
		direct_refuse_early(s, m, target, origin, NULL,
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
		    direct_on_resolved, t, &t->lookup);
		if (lr != LOOKUP_OK) {
			/* Nothing of t is in the loop yet: it goes at once. */
			cap = lr == LOOKUP_USER_CAP ? "too many lookups in "
			    "progress (max_lookups_per_user)" :
			    lr == LOOKUP_PROCESS_CAP ? "too many lookups in "
			    "progress (max_lookups)" : "name resolution failed";
			t->open_msg = NULL;
			t->pending = false;
			tunnel_free(t);
			direct_refuse_early(s, m, target, origin, NULL, cap,
			    lr == LOOKUP_FAILED || session_cap_refused(s, cap));
			return;
		}
		t->state = TUNNEL_RESOLVING;
	} else {
		t->addrs[0] = host.ip;
		addr_normalize(&t->addrs[0]);
		t->naddrs = 1;
	}
	t->id = session_next_channel(s);
	tunnel_start_timer(t, c->connect_timeout_ms);
	if (host.kind != HOST_NAME)
		direct_decide(t);
}

/*
 * After a reload: an open direct tunnel is decided again for the address it
 * is connected to; one still connecting has its remaining addresses decided
 * again, and loses if the one it is trying is no longer allowed.
 */
static bool
direct_still_allowed(struct tunnel *t)
{
	const struct policy	*p = session_config(t->s)->policy;
	const char		*user = session_user(t->s);
	struct verdict		 v[TUNNEL_ADDRS_MAX];
	size_t			 i;

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
direct_on_timeout(struct tunnel *t)
{
	if (t->state == TUNNEL_RESOLVING || t->state == TUNNEL_CONNECTING)
		direct_refuse(t, t->state == TUNNEL_RESOLVING ? "deny" :
		    "allow", "timed out");
}

/*
 * t ends with its open unanswered: a reload that denies it, or its session
 * going (no reply then; the decision is what was known).
 */
static void
direct_unanswered(struct tunnel *t, const char *reason)
{
	const char	*decision = "allow";

	if (strcmp(reason, "policy_reload") == 0)
		decision = "deny";
	else if (session_dying(t->s) && t->naddrs == 0)
		decision = "deny";
	direct_refuse(t, decision, reason);
}
