/*
 * tunnel: one TCP connection carried by one SSH channel.  A direct-tcpip
 * open is parsed, resolved, decided and connected before it is answered; a
 * forwarded-tcpip one (forward.c) starts from an accepted socket.  Both are
 * pumped by the same code, both ways, with flow control, EOF and close.
 * struct tunnel is tunnel.c's own.
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
/*
 * A connection a remote-forward listener is about to accept: the tunnel
 * that will carry it, its uv_tcp_t ready for uv_accept() into
 * tunnel_forwarded_stream(), or NULL (out of memory, no channel slot).
 * bind and port are the client's request; local is the concrete address
 * that accepted (for a reload's decision).
 */
struct tunnel *tunnel_new_forwarded(struct session *s, const char *bind,
	    uint16_t port, const char *local);
uv_stream_t *tunnel_forwarded_stream(struct tunnel *t);
/* The accept into that stream failed: the tunnel goes. */
void	tunnel_forwarded_failed(struct tunnel *t);
/* Writes what tunnels gathered while their session read its socket. */
void	tunnel_flush_gathered(void);
/* Frees this thread's buffers (a worker thread, before it ends). */
void	tunnel_thread_release(void);
/* Tunnels open now, in the whole process. */
unsigned tunnel_live_count(void);

#endif
