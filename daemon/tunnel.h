/*
 * tunnel: one TCP tunnel through an SSH channel.  A direct-tcpip open is
 * parsed, resolved, decided and connected before it is answered; a
 * forwarded-tcpip one (forward.c) starts from an accepted socket.  Both are
 * pumped by the same code, both ways, with flow control, EOF and close.
 */
#ifndef HOPD_TUNNEL_H
#define HOPD_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <uv.h>

#include "addr.h"
#include "policy.h"

struct session;

#define TUNNEL_ADDRS_MAX	16
#define TUNNEL_READ_BYTES	(64 * 1024)	/* one TCP read */
#define TUNNEL_TCP_HIGH_WATER_BYTES (256 * 1024) /* queued to TCP: stop */
#define TUNNEL_TCP_LOW_WATER_BYTES  (64 * 1024)	 /* ...and resume */
/* Gathering packets for one write to TCP (tunnel_on_channel_data). */
#define TUNNEL_GATHER_BYTES	(256 * 1024)	/* per tunnel: write now */
#define TUNNEL_GATHER_PIECES	8		/* ...as many pieces */
#define TUNNEL_GATHER_ARENA_BYTES (1024 * 1024)	/* per worker */
/*
 * The window hopd grants a client per channel.  libssh's own top-ups stop
 * at 1,280,000 (and only once window + buffered < 640,000), which capped
 * one upload at 12 MB/s over a 50 ms round trip where sshd (2 MiB) does 40.
 * hopd grants sshd's 2 MiB, and twice that to a far client: one whose
 * first data came TUNNEL_FAR_US or more after the channel opened, which
 * takes at least a round trip (78 MB/s over that link).  Not to every
 * client: given 4 MiB, OpenSSH's client buffers more and page-faults as
 * its buffers grow and shrink (25,000 faults for 512 MiB sent over
 * loopback, against 600), a tenth of its CPU.  tunnel_raise_window() tops
 * the window up again after every TUNNEL_WINDOW_RAISE_BYTES delivered, only
 * while the target keeps up.
 */
#define TUNNEL_WINDOW_BYTES	(2 * 1024 * 1024)
#define TUNNEL_WINDOW_FAR_BYTES	(4 * 1024 * 1024)
#define TUNNEL_FAR_US		2000
#define TUNNEL_WINDOW_RAISE_BYTES (512 * 1024)
/*
 * What libssh may hold for one channel if the peer respects that window:
 * window + buffered never exceeds TUNNEL_WINDOW_FAR_BYTES (libssh's top-ups
 * reach 1,920,000 at most), plus one 35,000-byte packet of slack.  More is
 * a peer ignoring the window (libssh does not enforce it).
 */
#define TUNNEL_CHANNEL_BUFFER_MAX_BYTES (TUNNEL_WINDOW_FAR_BYTES + 35000)
#define TUNNEL_LINGER_MS	5000	/* flushing to TCP after the end */

enum tunnel_kind {
	TUNNEL_DIRECT,		/* direct-tcpip: client -> target */
	TUNNEL_FORWARDED	/* forwarded-tcpip: bastion listener -> client */
};

enum tunnel_state {
	TUNNEL_RESOLVING,
	TUNNEL_CONNECTING,
	TUNNEL_OPENING,		/* forwarded: our channel open in flight */
	TUNNEL_OPEN,
	TUNNEL_CLOSING
};

struct tunnel {
	TAILQ_ENTRY(tunnel)	 entry;
	struct session		*s;
	enum tunnel_kind	 kind;
	enum tunnel_state	 state;
	unsigned		 id;		/* channel number in the audit */
	ssh_message		 open_msg;	/* held until answered */
	ssh_channel		 ch;
	struct ssh_channel_callbacks_struct cb;

	/* The target as asked, and what deciding made of it. */
	char			 target[ADDR_NAME_MAX + 16];
	char			 origin[ADDR_TEXT_MAX];
	struct host		 host;
	uint16_t		 port;
	struct ip_addr		 addrs[TUNNEL_ADDRS_MAX];
	size_t			 naddrs;
	bool			 allowed[TUNNEL_ADDRS_MAX];
	size_t			 next_addr;
	char			 rule[256];	/* file:line that decided */
	const char		*fail_reason;	/* why the open is refused */
	char			 connected_to[ADDR_TEXT_MAX];
	struct ip_addr		 connected_ip;

	/* Forwarded only: the listener's request, for the channel open. */
	char			*fwd_bind;
	uint16_t		 fwd_port;
	char			 fwd_oip[ADDR_TEXT_MAX];	/* originator */
	uint16_t		 fwd_oport;

	uv_getaddrinfo_t	 gai;
	bool			 gai_busy;
	uv_connect_t		 connect_req;
	uv_tcp_t		 tcp;
	bool			 tcp_open;	/* handle initialised, not closed */
	uv_timer_t		 timer;		/* connect timeout, linger */
	uv_shutdown_t		 shutdown_req;
	uint64_t		 connect_start_ms;

	/* SSH -> TCP */
	size_t			 tcp_queued;	/* bytes in uv_write requests */
	size_t			 ssh_kept;	/* bytes libssh holds for us */
	uv_buf_t		 gather[TUNNEL_GATHER_PIECES]; /* to write */
	unsigned		 ngather;
	size_t			 gathered;	/* their bytes */
	uint64_t		 window_mark;	/* bytes_in at the last raise */
	bool			 window_raised;
	uint32_t		 window;	/* what a raise grants */
	uint64_t		 open_us;	/* when the channel opened */
	bool			 got_data;	/* first data came */
	bool			 ssh_eof;	/* peer sent EOF */
	bool			 tcp_shutdown;	/* shutdown(SHUT_WR) requested */
	bool			 tcp_shutdown_done;
	/* TCP -> SSH */
	char			*rbuf;
	size_t			 rlen, roff;	/* bytes not yet taken by libssh */
	bool			 tcp_reading;
	bool			 tcp_eof;
	bool			 ssh_eof_sent;

	bool			 peer_closed;	/* channel CLOSE received */
	bool			 tcp_failed;
	bool			 close_requested;
	const char		*close_reason;
	bool			 channel_closed;
	bool			 was_open;	/* pumped: channel_close due */
	unsigned		 handles;	/* open uv handles */
	uint64_t		 bytes_in, bytes_out;
	uint64_t		 start_ms;
};

/* Writes what s's tunnels gathered while it read its socket. */
void	tunnel_flush_gathered(struct session *s);
/* A direct-tcpip open message: answers it later; s owns the tunnel. */
void	tunnel_open_direct(struct session *s, ssh_message msg);
/*
 * For a connection a remote-forward listener is about to accept: the caller
 * uv_accept()s into t->tcp (initialised here); tunnel_step then opens the
 * forwarded-tcpip channel, with bind and port as the client asked them.
 */
struct tunnel *tunnel_new_forwarded(struct session *s, const char *bind,
	    uint16_t port);
/* Advances t (retries, flow control, EOF, close).  From session_step. */
void	tunnel_step(struct tunnel *t);
/* Ends t with reason (audited); the rest happens in tunnel_step. */
void	tunnel_close(struct tunnel *t, const char *reason);
/* The session is going away: drop everything at once. */
void	tunnel_abort(struct tunnel *t, const char *reason);
/* True once t can be freed (no handle open); frees it. */
bool	tunnel_reap(struct tunnel *t);
/* After a reload: false if the new policy denies t (see tunnel.c). */
bool	tunnel_still_allowed(struct tunnel *t, const struct policy *p,
	    const char *user);
/* Closes the forwarded tunnels of one listener (bind and port as asked). */
void	tunnel_close_forwarded(struct session *s, const char *bind,
	    uint16_t port, const char *reason);

#endif
