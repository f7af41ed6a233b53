/*
 * forward: remote forwards (ssh -R).  tcpip-forward and
 * cancel-tcpip-forward global requests decided by the listen rules, the
 * listeners they create, and a forwarded-tcpip tunnel per accepted
 * connection.
 */
#ifndef HOPD_FORWARD_H
#define HOPD_FORWARD_H

#include <libssh/libssh.h>

struct session;

/* A global request of an authenticated session (m stays the caller's). */
void	forward_request(struct session *s, ssh_message m);
/* The session ends: every listener of it closes. */
void	forward_close_all(struct session *s);
/* After a reload: listeners the new policy no longer allows close. */
void	forward_reload(struct session *s);

#endif
