/*
 * lookup: name lookups for direct-tcpip targets, off the loop in libuv's
 * thread pool, as absolute names (no resolv.conf search list), under a cap
 * per user and one for the whole process.
 */
#ifndef HOPD_LOOKUP_H
#define HOPD_LOOKUP_H

#include <stddef.h>

#include <uv.h>

#include "addr.h"

/*
 * libuv's pool: every lookup, and any other work hopd queues, shares it.
 * max_lookups (hopd.ini(5)) must stay below it so that lookups never take
 * every thread.
 */
#define LOOKUP_POOL_THREADS	32
#define LOOKUP_ADDRS_MAX	16	/* addresses kept of one name */

struct lookup;

/*
 * Called on the loop when the lookup is over: naddrs addresses (0 with
 * status < 0: a uv error code, UV_EAI_NONAME for an unknown name).
 */
typedef void	(*lookup_cb)(void *arg, int status,
		    const struct ip_addr *addrs, size_t naddrs);

enum lookup_refusal {
	LOOKUP_OK = 0,
	LOOKUP_USER_CAP,	/* max_lookups_per_user in flight */
	LOOKUP_PROCESS_CAP,	/* max_lookups in flight */
	LOOKUP_FAILED		/* out of memory, libuv refused */
};

/*
 * Starts resolving name for user.  On LOOKUP_OK, *out is the lookup, and
 * cb(arg, ...) comes once, unless lookup_abandon(*out) is called first.
 * The lookup counts against both caps until its thread returns, also when
 * abandoned.
 */
enum lookup_refusal lookup_start(uv_loop_t *loop, const char *user,
	    const char *name, unsigned user_cap, unsigned process_cap,
	    size_t max_addrs, lookup_cb cb, void *arg, struct lookup **out);
/*
 * Resolves name at once, in the calling thread, as lookups do (absolute,
 * no search list): 0 with *n addresses, or a uv error code.
 */
int	lookup_resolve(const char *name, struct ip_addr *addrs, size_t max,
	    size_t *n);
/* The caller is gone: no callback; the rest frees itself. */
void	lookup_abandon(struct lookup *l);
/* Lookups in flight in the process (for the status line and tests). */
unsigned lookup_in_flight(void);

#endif
