/*
 * session: one SSH connection, from key exchange to disconnect, and the
 * libssh <-> libuv bridge: its socket is watched by a uv_poll_t, libssh's
 * queued messages are dispatched from session_step().
 */
#ifndef HOPD_SESSION_H
#define HOPD_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <libssh/libssh.h>
#include <uv.h>

#include "addr.h"

#ifndef TAILQ_FOREACH_SAFE	/* BSD's, missing from glibc's sys/queue.h */
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

struct config;
struct worker;
struct tunnel;
struct forward;

#define SESSION_ID_LEN		16	/* hex characters */
#define SESSION_USER_MAX	64
#define SESSION_PENDING_OPENS_MAX 16	/* direct-tcpip opens in progress */

struct session {
	TAILQ_ENTRY(session)	 entry;		/* in the worker's list */
	struct worker		*worker;
	struct config		*cfg;		/* reference, for new channels */
	ssh_session		 ssh;
	ssh_event		 event;
	int			 fd;
	uv_poll_t		 poll;
	int			 poll_events;
	uv_timer_t		 timer;		/* login grace time */
	char			 id[SESSION_ID_LEN + 1];
	struct ip_addr		 peer_ip;
	char			 peer[ADDR_TEXT_MAX];
	char			 local[ADDR_TEXT_MAX];
	enum {
		SESSION_KEX,
		SESSION_AUTH,
		SESSION_OPEN
	}			 state;
	bool			 dying;		/* teardown requested */
	bool			 torn_down;	/* ssh side freed */
	bool			 unauth_counted; /* holds a startup slot */
	const char		*end_reason;
	char			 user[SESSION_USER_MAX];
	unsigned		 auth_failures;
	unsigned		 auth_requests;
	TAILQ_HEAD(, tunnel)	 tunnels;
	TAILQ_HEAD(, forward)	 forwards;
	struct shell_channel	*shells;	/* session channels */
	unsigned		 nchannels;	/* open or opening */
	unsigned		 npending;	/* direct-tcpip being decided */
	unsigned		 nforwards;
	unsigned		 channel_seq;	/* audit channel numbers */
	uint64_t		 bytes_in, bytes_out;
	uint64_t		 start_ms;
	unsigned		 handles;	/* uv handles not yet closed */
	bool			 in_step;
	bool			 gathering;	/* reading: tunnels write after */
	bool			 step_again;
};

/* Takes fd (a connected, non-blocking TCP socket) into worker w. */
void	session_start(struct worker *w, int fd, const struct ip_addr *peer,
	    uint16_t peer_port);
/* Runs the bridge: after every libuv callback that touched s. */
void	session_step(struct session *s);
/* Ends s (reason audited); teardown happens in session_step(). */
void	session_kill(struct session *s, const char *reason);
/* A handle owned by s (or one of its tunnels) finished closing. */
void	session_handle_closed(struct session *s);
/* SIGHUP: re-check live tunnels against the worker's new configuration. */
void	session_reload(struct session *s, struct config *cfg);

#endif
