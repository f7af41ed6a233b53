/*
 * tunnel: one TCP connection carried by one SSH channel, as the session
 * sees it.  A direct-tcpip open is admitted by direct.c (parsed, resolved,
 * decided, connected, then answered); a forwarded-tcpip one is opened by
 * forward.c from an accepted socket; both are pumped by pump.c.  struct
 * tunnel is theirs alone (pump.h).
 */
#ifndef HOPD_TUNNEL_H
#define HOPD_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>

#include <libssh/libssh.h>
#include <uv.h>

struct session;
struct tunnel;

/*
 * A direct-tcpip open message (m is taken): the session counted it as
 * pending and checked its caps; answered when decided and connected.
 */
void	tunnel_open_direct(struct session *s, ssh_message m);
/*
 * Refuses a channel open before any tunnel exists (m is taken): on the
 * record when audit is true, and the reason goes to the client as a debug
 * message (`ssh -v` prints it).
 */
void	tunnel_refuse_open(struct session *s, ssh_message m,
	    const char *reason, bool audit);
/* Writes what tunnels gathered while their session read its socket. */
void	tunnel_flush_gathered(void);
/* Frees this thread's buffers (a worker thread, before it ends). */
void	tunnel_thread_release(void);
/* Tunnels open now, in the whole process. */
unsigned tunnel_live_count(void);

#endif
