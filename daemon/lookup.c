/*
 * lookup: name lookups off the loop.  A lookup is a uv_queue_work job that
 * calls getaddrinfo() with the resolver's search list switched off for its
 * thread, so "x.allowed.test" is looked up as that name and never as
 * "x.allowed.test.corp.example" (names in a policy and in a request are
 * absolute; /etc/hosts still applies).  Counts per user and per process
 * are kept under one lock: a lookup counts until its thread returns, even
 * when the tunnel that asked has given up, since that thread is still busy.
 */
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/socket.h>

#include "lookup.h"

#define LOOKUP_USER_MAX		64	/* bytes of a user name kept */

struct lookup_user {
	struct lookup_user	*next;
	unsigned		 count;
	char			 name[LOOKUP_USER_MAX + 1];
};

struct lookup {
	uv_work_t		 work;
	struct lookup_user	*user;
	lookup_cb		 cb;	/* NULL once abandoned */
	void			*arg;
	struct ip_addr		 addrs[LOOKUP_ADDRS_MAX];
	size_t			 naddrs;
	int			 rc;	/* lookup_resolve's */
	size_t			 max_addrs;
	char			 name[ADDR_NAME_MAX + 1];
};

static pthread_mutex_t		 lookup_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lookup_user	*lookup_users;
static unsigned			 lookup_total;

unsigned
lookup_in_flight(void)
{
	unsigned	n;

	pthread_mutex_lock(&lookup_lock);
	n = lookup_total;
	pthread_mutex_unlock(&lookup_lock);
	return n;
}

/* Takes one slot for user, or says which cap is full.  Under the lock. */
static enum lookup_refusal
lookup_take(const char *user, unsigned user_cap, unsigned process_cap,
    struct lookup_user **out)
{
	struct lookup_user	*u;

	for (u = lookup_users; u != NULL; u = u->next)
		if (strcmp(u->name, user) == 0)
			break;
	if (u != NULL && u->count >= user_cap)
		return LOOKUP_USER_CAP;
	if (lookup_total >= process_cap)
		return LOOKUP_PROCESS_CAP;
	if (u == NULL) {
		if (strlen(user) > LOOKUP_USER_MAX ||
		    (u = calloc(1, sizeof(*u))) == NULL)
			return LOOKUP_FAILED;
		strcpy(u->name, user);
		u->next = lookup_users;
		lookup_users = u;
	}
	u->count++;
	lookup_total++;
	*out = u;
	return LOOKUP_OK;
}

static void
lookup_give_back(struct lookup_user *u)
{
	struct lookup_user	**p;

	pthread_mutex_lock(&lookup_lock);
	lookup_total--;
	if (--u->count == 0) {
		for (p = &lookup_users; *p != u; p = &(*p)->next)
			;
		*p = u->next;
		free(u);
	}
	pthread_mutex_unlock(&lookup_lock);
}

static int
lookup_status(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case EAI_NONAME:
	case EAI_NODATA:
		return UV_EAI_NONAME;
	case EAI_AGAIN:
		return UV_EAI_AGAIN;
	case EAI_MEMORY:
		return UV_ENOMEM;
	default:
		return UV_EAI_FAIL;
	}
}

int
lookup_resolve(const char *name, struct ip_addr *addrs, size_t max,
    size_t *n)
{
	struct addrinfo	 hints, *res = NULL;
	int		 rc;

	/*
	 * glibc keeps the resolver's state per thread; a changed resolv.conf
	 * is read again by res_init() here, then the search list
	 * (RES_DNSRCH) and the default domain (RES_DEFNAMES) are switched
	 * off for this thread's lookups.
	 */
	if (res_init() == 0)
		_res.options &= ~(RES_DNSRCH | RES_DEFNAMES);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	*n = 0;
	if ((rc = getaddrinfo(name, NULL, &hints, &res)) != 0)
		return lookup_status(rc);
	*n = addr_from_addrinfo(res, addrs, max);
	freeaddrinfo(res);
	return *n > 0 ? 0 : UV_EAI_NONAME;
}

/* In a pool thread. */
static void
lookup_work(uv_work_t *work)
{
	struct lookup	*l = work->data;

	l->rc = lookup_resolve(l->name, l->addrs, l->max_addrs, &l->naddrs);
}

static void
lookup_after(uv_work_t *work, int status)
{
	struct lookup	*l = work->data;

	lookup_give_back(l->user);
	if (l->cb != NULL)
		l->cb(l->arg, status < 0 ? status : l->rc, l->addrs,
		    status < 0 ? 0 : l->naddrs);
	free(l);
}

enum lookup_refusal
lookup_start(uv_loop_t *loop, const char *user, const char *name,
    unsigned user_cap, unsigned process_cap, size_t max_addrs, lookup_cb cb,
    void *arg, struct lookup **out)
{
	struct lookup		*l;
	enum lookup_refusal	 r;

	if (strlen(name) > ADDR_NAME_MAX || max_addrs > LOOKUP_ADDRS_MAX)
		return LOOKUP_FAILED;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return LOOKUP_FAILED;
	pthread_mutex_lock(&lookup_lock);
	r = lookup_take(user, user_cap, process_cap, &l->user);
	pthread_mutex_unlock(&lookup_lock);
	if (r != LOOKUP_OK) {
		free(l);
		return r;
	}
	strcpy(l->name, name);
	l->cb = cb;
	l->arg = arg;
	l->max_addrs = max_addrs;
	l->work.data = l;
	if (uv_queue_work(loop, &l->work, lookup_work, lookup_after) != 0) {
		lookup_give_back(l->user);
		free(l);
		return LOOKUP_FAILED;
	}
	*out = l;
	return LOOKUP_OK;
}

void
lookup_abandon(struct lookup *l)
{
	l->cb = NULL;
	l->arg = NULL;
	uv_cancel((uv_req_t *)&l->work);	/* only if still queued */
}
