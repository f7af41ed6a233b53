/*
 * forward: remote forwards (ssh -R).  tcpip-forward and
 * cancel-tcpip-forward global requests decided by the listen rules, the
 * listeners they create, and a forwarded-tcpip tunnel per accepted
 * connection.  Listeners are members of their session (session.h).
 */
#ifndef HOPD_FORWARD_H
#define HOPD_FORWARD_H

#include <libssh/libssh.h>

struct session;
struct forwards;

/*
 * A global request of an authenticated session (m stays the caller's);
 * *set holds the session's listeners, created by the first.
 */
void	forward_request(struct session *s, struct forwards **set,
	    ssh_message m);
/* Frees a session's set once its listeners are gone (NULL is fine). */
void	forward_set_free(struct forwards *set);

#endif
