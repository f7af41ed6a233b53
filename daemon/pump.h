/*
 * pump: what the two kinds of tunnel share, for their files only (pump.c,
 * direct.c, forward.c): struct tunnel, its life, the bytes both
 * ways with flow control, half-close and one path to its end.  Each kind
 * says how it opens, times out and is decided again (struct tunnel_ops).
 */
#ifndef HOPD_PUMP_H
#define HOPD_PUMP_H

#include <stdbool.h>
#include <stdint.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <uv.h>

#include "addr.h"
#include "lookup.h"
#include "session.h"
#include "tunnel.h"

#define TUNNEL_ADDRS_MAX	LOOKUP_ADDRS_MAX
#define TUNNEL_RULE_MAX		256
#define TUNNEL_GATHER_PIECES	8	/* pieces gathered for one write */

enum tunnel_state {
	TUNNEL_RESOLVING,	/* direct: the name is looked up */
	TUNNEL_CONNECTING,	/* direct: connecting to an allowed address */
	TUNNEL_OPENING,		/* forwarded: our channel open in flight */
	TUNNEL_OPEN,		/* pumping */
	TUNNEL_CLOSING		/* on its one way to the end */
};

/* Client -> target. */
enum tunnel_up {
	UP_OPEN,
	UP_EOF,			/* the client sent EOF: the rest, then shut */
	UP_SHUTTING,		/* shutdown(SHUT_WR) asked of the target */
	UP_DONE			/* ...and done */
};

/* Target -> client. */
enum tunnel_down {
	DOWN_OPEN,
	DOWN_EOF,		/* the target sent EOF: the rest, then ours */
	DOWN_DONE		/* EOF sent on the channel */
};

struct tunnel;

struct tunnel_ops {
	const char	*type;		/* "direct-tcpip" */
	/* Before the pump: the open (forwarded), NULL if none. */
	void		(*opening)(struct tunnel *);
	/* The timer fired while resolving, connecting or opening. */
	void		(*timeout)(struct tunnel *);
	/* The TCP handle closed before the pump (direct: next address). */
	void		(*tcp_closed)(struct tunnel *);
	/* The open is still unanswered as t ends (direct), or NULL. */
	void		(*unanswered)(struct tunnel *, const char *reason);
	/* After a reload: may t go on? */
	bool		(*still_allowed)(struct tunnel *);
};

struct tunnel {
	struct session_member	 member;
	struct session		*s;
	const struct tunnel_ops	*ops;
	enum tunnel_state	 state;
	enum tunnel_up		 up;
	enum tunnel_down	 down;
	unsigned		 id;		/* channel number in the audit */
	ssh_message		 open_msg;	/* direct: held until answered */
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
	char			 rule[TUNNEL_RULE_MAX];	/* file:line */
	const char		*fail_reason;	/* why the open is refused */
	struct ip_addr		 connected_ip;
	struct lookup		*lookup;
	bool			 pending;	/* counts as an open in progress */

	/* Forwarded only: the listener's request, for the channel open. */
	char			*fwd_bind;
	uint16_t		 fwd_port;
	char			 fwd_local[ADDR_TEXT_MAX]; /* accepted on */
	char			 fwd_oip[ADDR_TEXT_MAX];	/* originator */
	uint16_t		 fwd_oport;

	uv_connect_t		 connect_req;
	uv_tcp_t		 tcp;
	bool			 tcp_open;	/* handle initialised, not closed */
	bool			 tcp_failed;	/* the target connection broke */
	bool			 tcp_reading;
	uv_timer_t		 timer;		/* timeouts, idle, linger */
	bool			 timer_open;
	uv_shutdown_t		 shutdown_req;
	uint64_t		 connect_start_ms;

	/* Client -> target. */
	size_t			 tcp_queued;	/* bytes in uv_write requests */
	size_t			 ssh_kept;	/* bytes libssh holds for us */
	uv_buf_t		 gather[TUNNEL_GATHER_PIECES]; /* to write */
	unsigned		 ngather;
	size_t			 gathered;	/* their bytes */
	struct tunnel		*gather_next;	/* in this thread's list */
	bool			 gather_linked;
	uint64_t		 window_mark;	/* bytes_in at the last raise */
	uint32_t		 window;	/* what a raise grants */
	uint64_t		 open_us;	/* when the channel opened */
	bool			 window_raised;
	bool			 got_data;	/* first data came */
	bool			 shrink_due;	/* data came since the last */
	/* Target -> client: a read the channel did not take at once. */
	char			*kept;
	size_t			 klen, koff;

	bool			 peer_closed;	/* channel CLOSE received */
	bool			 close_requested;
	const char		*close_reason;
	bool			 channel_closed;
	bool			 was_open;	/* pumped: channel_close due */
	unsigned		 handles;	/* open uv handles */
	uint64_t		 bytes_in, bytes_out;
	uint64_t		 start_ms;
};

/* A tunnel of kind ops in s, with a channel slot; NULL: none left. */
struct tunnel	*tunnel_new(struct session *s, const struct tunnel_ops *ops);
/* Gone at once (nothing of it is in the loop yet). */
void	tunnel_free(struct tunnel *t);
/* Something happened to t: its session steps it now. */
void	tunnel_kick(struct tunnel *t);
void	tunnel_set_channel(struct tunnel *t, ssh_channel ch);
void	tunnel_start_pump(struct tunnel *t);
/* Ends t with reason (audited); the rest happens in its steps. */
void	tunnel_close(struct tunnel *t, const char *reason);
void	tunnel_close_tcp(struct tunnel *t);
void	tunnel_start_timer(struct tunnel *t, uint64_t ms);
void	tunnel_stop_timer(struct tunnel *t);

/* The one place a channel_open record is built. */
void	tunnel_audit_open_rec(struct session *s, unsigned channel,
	    const char *type, const char *target, const char *origin,
	    const char *decision, const char *rule, const struct ip_addr *addrs,
	    size_t naddrs, const char *result, const char *reason);
void	tunnel_audit_open(struct tunnel *t, const char *decision,
	    const char *result, const char *reason);

#endif
