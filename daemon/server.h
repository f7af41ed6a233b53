/*
 * server: the listening sockets, the workers (one libuv loop and one
 * ssh_bind per thread), and the admission of new connections: max_startups
 * and per_source_max_startups for connections not yet authenticated.
 */
#ifndef HOPD_SERVER_H
#define HOPD_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <uv.h>

#include "addr.h"

struct config;
struct session;

struct worker {
	unsigned		 index;
	uv_thread_t		 thread;
	uv_loop_t		 loop;
	uv_async_t		 wakeup;	/* new sockets, reload, stop */
	ssh_bind		 bind;
	struct config		*cfg;		/* this loop's current snapshot */
	TAILQ_HEAD(, session)	 sessions;
	unsigned		 nsessions;	/* atomic reads from acceptor */
	char			*scratch;	/* TUNNEL_WINDOW_FAR_BYTES */
	char			*gather;	/* TUNNEL_GATHER_ARENA_BYTES */
	size_t			 gather_used;
	bool			 stopping;
};

/* Loads host keys, binds listeners into loop, starts the workers. */
int	server_start(struct config *cfg, uv_loop_t *loop);
/* Every worker takes cfg for new sessions and re-checks live tunnels. */
void	server_reload(struct config *cfg);
/* Closes the listening sockets (main loop). */
void	server_stop_listening(void);
/* Sessions are closed; returns once the workers are done. */
void	server_stop(void);
/* Sessions and tunnels now open, summed over the workers. */
void	server_counts(unsigned *sessions, unsigned *tunnels);

/* A connection counted at accept stopped being unauthenticated. */
void	server_startup_done(const struct ip_addr *peer);
/* Live tunnels, for the status line. */
void	server_tunnel_count(int delta);

#endif
