/*
 * server: the listening sockets, the workers (one libuv loop and one
 * ssh_bind per thread), and the admission of new connections: max_startups
 * and per_source_max_startups for connections not yet authenticated.
 */
#ifndef HOPD_SERVER_H
#define HOPD_SERVER_H

#include <stdio.h>

#include <uv.h>

struct config;

/*
 * hopd -t: loads every host key as server_start would and writes one line
 * "FILE: host_key: reason" to errs per key that does not load.  The number
 * of those.
 */
int	server_check_host_keys(const struct config *cfg, FILE *errs);
/* Loads host keys, binds listeners into loop, starts the workers. */
int	server_start(struct config *cfg, uv_loop_t *loop);
/* Every worker takes cfg for new sessions and re-checks live tunnels. */
void	server_reload(struct config *cfg);
/*
 * Each worker runs one round of its loop: its queued audit records go to
 * the audit file now current (after SIGUSR1), and it lets go of the old.
 */
void	server_wake_workers(void);
/* Closes the listening sockets (main loop). */
void	server_stop_listening(void);
/* Sessions are closed; returns once the workers are done. */
void	server_stop(void);
/* Sessions and tunnels now open, summed over the workers. */
void	server_counts(unsigned *sessions, unsigned *tunnels);


#endif
