/*
 * session: one SSH connection, from key exchange to disconnect, and the
 * libssh <-> libuv bridge: its socket is watched by a uv_poll_t, libssh's
 * queued messages are dispatched from session_step().  Tunnels and
 * listeners use a session only through the functions below.
 */
#ifndef HOPD_SESSION_H
#define HOPD_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <uv.h>

#include "addr.h"

#ifndef TAILQ_FOREACH_SAFE	/* BSD's, missing from glibc's sys/queue.h */
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

struct config;
struct credential;
struct session;

#define SESSION_ID_LEN		16	/* hex characters */

/*
 * Where a worker keeps its sessions (server.c owns it): the loop, the
 * ssh_bind new sessions are accepted with, the current configuration.
 */
struct session_home {
	uv_loop_t		*loop;
	ssh_bind		 bind;
	struct config		*cfg;
	TAILQ_HEAD(session_list, session) sessions;
	unsigned		 nsessions;	/* atomic reads from acceptor */
	/* A connection counted at accept stopped being unauthenticated. */
	void			(*startup_done)(const struct ip_addr *);
};

/*
 * A member of a session: a tunnel or a listener.  The session runs its
 * step from session_step(), outside libssh's callbacks, when it asked:
 * soon (session_run) or once the SSH side may take more (session_wait_ssh:
 * after the session's socket was read or its output drained).  Only the
 * members that asked are stepped: no event costs work for every tunnel of
 * a session.  end() is called once when the session goes (the member then
 * finishes on its own and leaves), reload() after SIGHUP.  A session is
 * freed only once every member has left.
 */
struct session_member_ops {
	void	(*step)(void *);
	void	(*end)(void *, const char *reason);
	void	(*reload)(void *);
};

TAILQ_HEAD(session_member_list, session_member);

struct session_member {
	TAILQ_ENTRY(session_member) queue;	/* run or wait */
	TAILQ_ENTRY(session_member) all;
	const struct session_member_ops *ops;
	void			*arg;
	int			 where;		/* session.c's */
};

void	session_join(struct session *s, struct session_member *m,
	    const struct session_member_ops *ops, void *arg);
void	session_leave(struct session *s, struct session_member *m);
void	session_run(struct session *s, struct session_member *m);
void	session_wait_ssh(struct session *s, struct session_member *m);

/* Takes fd (a connected, non-blocking TCP socket) into home. */
void	session_start(struct session_home *home, int fd,
	    const struct ip_addr *peer, uint16_t peer_port, const char *via);
/* Runs the bridge: after every libuv callback that touched s. */
void	session_step(struct session *s);
/* Ends s (reason audited); teardown happens in session_step(). */
void	session_kill(struct session *s, const char *reason);
/* SIGHUP: new sessions take cfg (the reference is home's now); live
 * tunnels are checked again. */
void	session_home_reload(struct session_home *home, struct config *cfg);
/* Ends every session of home (shutdown). */
void	session_home_end(struct session_home *home, const char *reason);

/* What tunnels and listeners may know of their session. */
ssh_session	 session_ssh(const struct session *s);
uv_loop_t	*session_loop(const struct session *s);
const struct config *session_config(const struct session *s);
const char	*session_id(const struct session *s);
const char	*session_user(const struct session *s);
/* The key or certificate the session logged in with, and its options. */
const struct credential *session_credential(const struct session *);
bool		 session_dying(const struct session *s);
/* A new channel number for the audit trail. */
unsigned	 session_next_channel(struct session *s);
/*
 * Channel slots: a tunnel takes one while it exists (false: the session is
 * at max_channels_per_session); a direct-tcpip open is pending until
 * decided.
 */
bool		 session_take_channel(struct session *s);
void		 session_give_channel(struct session *s);
/* Bytes client -> target (in) and target -> client (out). */
void		 session_count_bytes(struct session *s, uint64_t in,
		    uint64_t out);
void		 session_open_decided(struct session *s);
/*
 * A request refused because a cap was hit: true the first time for that
 * cap (audit it); the session ends once max_refused_per_session is passed.
 */
bool		 session_cap_refused(struct session *s, const char *cap);
/*
 * Whether a tunnel may hand the client more bytes now: false while what
 * libssh has queued for the socket may be over SESSION_OUT_FEED_BYTES.
 */
bool		 session_may_feed(struct session *s);
/* The session is reading its socket: channel data may be gathered. */
bool		 session_gathering(const struct session *s);

#endif
