/*
 * forward: remote forwards (ssh -R).  Until listen rules are enforced here,
 * every tcpip-forward request is refused, and audited as such.
 */
#include <stdio.h>
#include <string.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "audit.h"
#include "forward.h"
#include "log.h"
#include "session.h"

void
forward_request(struct session *s, ssh_message m)
{
	struct audit_rec	r;
	const char		*bind;

	if (ssh_message_subtype(m) != SSH_GLOBAL_REQUEST_TCPIP_FORWARD) {
		ssh_message_reply_default(m);
		return;
	}
	bind = ssh_message_global_request_address(m);
	audit_rec_begin(&r, audit_now_ms(), "forward_listen", s->id);
	audit_rec_str(&r, "user", s->user);
	audit_rec_str(&r, "bind", bind);
	audit_rec_u64(&r, "port", ssh_message_global_request_port(m));
	audit_rec_str(&r, "decision", "deny");
	audit_rec_str(&r, "rule", "default");
	audit_rec_end(&r);
	audit_emit(&r);
	ssh_message_reply_default(m);
}

void
forward_step(struct session *s)
{
}

void
forward_close_all(struct session *s)
{
}

void
forward_reload(struct session *s)
{
}
