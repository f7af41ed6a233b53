/*
 * server: listening sockets and admission in the main loop; the workers,
 * one thread each with its own libuv loop, ssh_bind and sessions.  New
 * connections are handed to the least busy worker.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <systemd/sd-daemon.h>

#include "audit.h"
#include "config.h"
#include "log.h"
#include "proxy.h"
#include "server.h"
#include "session.h"
#include "tunnel.h"
#include "libssh_compat.h"

#define SERVER_ACCEPTS_PER_EVENT 64
#define SERVER_LISTEN_BACKLOG	 511
#define SERVER_WORKERS_MAX	 256
#define SERVER_LISTENERS_MAX	 256	/* sockets systemd may pass */
#define SERVER_RSA_MIN_BITS	 2048
/* A balancer sends its PROXY header at once: a slow one is an attack. */
#define SERVER_PROXY_TIMEOUT_MS	 5000

/* Only what a current ssh-audit passes without warnings. */
#define SERVER_KEX	"curve25519-sha256,curve25519-sha256@libssh.org"
/* CTR ciphers (with etm MACs only) for clients without AEAD: paramiko. */
#define SERVER_CIPHERS	"chacha20-poly1305@openssh.com," \
			"aes256-gcm@openssh.com,aes128-gcm@openssh.com," \
			"aes256-ctr,aes128-ctr"
#define SERVER_MACS	"hmac-sha2-256-etm@openssh.com," \
			"hmac-sha2-512-etm@openssh.com"
#define SERVER_USER_KEY_TYPES "ssh-ed25519,ecdsa-sha2-nistp256," \
			"ecdsa-sha2-nistp384,ecdsa-sha2-nistp521," \
			"rsa-sha2-512,rsa-sha2-256"

/* One thread: its own loop, ssh_bind and sessions. */
struct worker {
	unsigned		 index;
	uv_thread_t		 thread;
	uv_loop_t		 loop;
	uv_async_t		 wakeup;	/* new sockets, reload, stop */
	ssh_bind		 bind;
	struct session_home	 home;		/* its sessions, its config */
	bool			 stopping;
};

struct listener {
	uv_poll_t		 poll;
	int			 fd;
	const struct listen_addr *addr;
};

struct handoff {
	struct handoff	*next;
	int		 fd;
	struct ip_addr	 peer;
	uint16_t	 port;
	char		 via[ADDR_TEXT_MAX];	/* the balancer, or "" */
};

/*
 * A connection on a PROXY protocol listener, from a proxy_from address,
 * whose header is being read (main loop; at most max_startups_full).
 */
struct proxy_wait {
	TAILQ_ENTRY(proxy_wait)	 entry;
	const struct listener	*l;
	int			 fd;		/* -1 once handed over */
	uv_poll_t		 poll;
	uv_timer_t		 timer;
	unsigned		 handles;
	struct ip_addr		 peer;		/* the balancer */
	uint16_t		 port;
	uint8_t			 buf[PROXY_MAX_BYTES];
	size_t			 have;		/* header bytes consumed */
};
TAILQ_HEAD(proxy_waits, proxy_wait);

/* Per worker, guarded by server.lock: what the main thread sends it. */
struct worker_inbox {
	struct handoff	*conns;
	struct config	*reload;	/* new snapshot to take */
	bool		 stop;
};

struct startup_source {
	struct ip_addr	net;		/* /32 for IPv4, /64 for IPv6 */
	unsigned	count;
};

static struct {
	pthread_mutex_t		 lock;
	uv_loop_t		*loop;
	struct config		*cfg;
	struct listener		*listeners;
	size_t			 nlisteners;
	struct worker		*workers;
	struct worker_inbox	*inboxes;
	unsigned		 nworkers;
	unsigned		 startups;	/* not yet authenticated */
	struct proxy_waits	 proxy_waits;
	unsigned		 nproxy_waits;
	struct startup_source	*sources;
	size_t			 nsources, cap_sources;
} server = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
server_source_net(const struct ip_addr *peer, struct ip_addr *net)
{
	*net = *peer;
	if (net->family == AF_INET6)
		memset(net->bytes + 8, 0, 8);
}

static struct startup_source *
server_source_find(const struct ip_addr *net)
{
	size_t	i;

	for (i = 0; i < server.nsources; i++)
		if (addr_equal(&server.sources[i].net, net))
			return &server.sources[i];
	return NULL;
}

/*
 * Admission of a connection not yet authenticated, as sshd's MaxStartups
 * start:rate:full, with two differences: a source holding
 * per_source_max_startups is refused, and the random early drop only hits
 * sources that already hold an unauthenticated connection, so a flood from
 * some addresses cannot lock out a client that connects once.
 */
static bool
server_admit(const struct config *cfg, const struct ip_addr *peer)
{
	struct startup_source	*src, *grown;
	struct ip_addr		 net;
	unsigned		 held, p;
	uint32_t		 r;
	bool			 ok = false;

	server_source_net(peer, &net);
	pthread_mutex_lock(&server.lock);
	src = server_source_find(&net);
	held = src != NULL ? src->count : 0;
	if (server.startups >= cfg->max_startups_full ||
	    held >= cfg->per_source_max_startups)
		goto out;
	if (held > 0 && server.startups >= cfg->max_startups_begin) {
		p = cfg->max_startups_rate;
		if (cfg->max_startups_full > cfg->max_startups_begin)
			p += (100 - p) *
			    (server.startups - cfg->max_startups_begin) /
			    (cfg->max_startups_full - cfg->max_startups_begin);
		if (getrandom(&r, sizeof(r), 0) != sizeof(r) || r % 100 < p)
			goto out;
	}
	if (src == NULL) {
		if (server.nsources == server.cap_sources) {
			grown = reallocarray(server.sources,
			    server.cap_sources * 2 + 16, sizeof(*grown));
			if (grown == NULL)
				goto out;
			server.sources = grown;
			server.cap_sources = server.cap_sources * 2 + 16;
		}
		src = &server.sources[server.nsources++];
		src->net = net;
		src->count = 0;
	}
	src->count++;
	server.startups++;
	ok = true;
out:
	pthread_mutex_unlock(&server.lock);
	return ok;
}

static void
server_startup_done(const struct ip_addr *peer)
{
	struct startup_source	*src;
	struct ip_addr		 net;

	server_source_net(peer, &net);
	pthread_mutex_lock(&server.lock);
	if ((src = server_source_find(&net)) != NULL && src->count > 0) {
		server.startups--;
		if (--src->count == 0)
			*src = server.sources[--server.nsources];
	}
	pthread_mutex_unlock(&server.lock);
}

void
server_counts(unsigned *sessions, unsigned *tunnels)
{
	unsigned	i, n = 0;

	for (i = 0; i < server.nworkers; i++)
		n += __atomic_load_n(&server.workers[i].home.nsessions,
		    __ATOMIC_RELAXED);
	*sessions = n;
	*tunnels = tunnel_live_count();
}

static struct worker *
server_pick_worker(void)
{
	struct worker	*best = &server.workers[0];
	unsigned	 i;

	for (i = 1; i < server.nworkers; i++)
		if (__atomic_load_n(&server.workers[i].home.nsessions,
		    __ATOMIC_RELAXED) <
		    __atomic_load_n(&best->home.nsessions, __ATOMIC_RELAXED))
			best = &server.workers[i];
	return best;
}

static void
server_hand_over(int fd, const struct ip_addr *peer, uint16_t port,
    const char *via)
{
	struct worker	*w = server_pick_worker();
	struct handoff	*h;

	if ((h = malloc(sizeof(*h))) == NULL) {
		close(fd);
		server_startup_done(peer);
		return;
	}
	h->fd = fd;
	h->peer = *peer;
	h->port = port;
	snprintf(h->via, sizeof(h->via), "%s", via != NULL ? via : "");
	pthread_mutex_lock(&server.lock);
	h->next = server.inboxes[w->index].conns;
	server.inboxes[w->index].conns = h;
	pthread_mutex_unlock(&server.lock);
	uv_async_send(&w->wakeup);
}

/* ---------------------------------------------------------------- PROXY */

/* A connection whose PROXY header is refused: closed, and audited. */
static void
server_proxy_audit(const struct listener *l, const struct ip_addr *peer,
    uint16_t port, const char *reason)
{
	struct audit_rec	r;
	char			text[ADDR_TEXT_MAX];

	addr_format_port(peer, port, text, sizeof(text));
	log_verbose("%s: PROXY header from %s refused: %s", l->addr->text,
	    text, reason);
	audit_rec_begin(&r, audit_now_ms(), "proxy_refused", NULL);
	audit_rec_str(&r, "peer", text);
	audit_rec_str(&r, "local", l->addr->text);
	audit_rec_str(&r, "reason", reason);
	audit_emit(&r);
}

static void
server_proxy_closed(uv_handle_t *h)
{
	struct proxy_wait	*pw = h->data;

	if (--pw->handles > 0)
		return;
	/* After the poll handle: libuv must not watch a closed fd. */
	if (pw->fd != -1)
		close(pw->fd);
	free(pw);
}

/* Ends the wait; the fd is closed unless it was handed over. */
static void
server_proxy_end(struct proxy_wait *pw)
{
	TAILQ_REMOVE(&server.proxy_waits, pw, entry);
	server.nproxy_waits--;
	uv_close((uv_handle_t *)&pw->poll, server_proxy_closed);
	uv_close((uv_handle_t *)&pw->timer, server_proxy_closed);
}

static void
server_proxy_refuse(struct proxy_wait *pw, const char *reason)
{
	server_proxy_audit(pw->l, &pw->peer, pw->port, reason);
	server_proxy_end(pw);
}

static void
server_proxy_on_timer(uv_timer_t *timer)
{
	server_proxy_refuse(timer->data, "no complete header in time");
}

/* The header read: the client it names is the peer from now on. */
static void
server_proxy_done(struct proxy_wait *pw, const struct proxy_header *hd)
{
	struct ip_addr	client = hd->src;
	char		via[ADDR_TEXT_MAX], text[ADDR_TEXT_MAX];
	int		one = 1;

	if (hd->local) {
		/* A health check of the balancer: nothing to audit. */
		log_debug("%s: PROXY LOCAL (health check) closed",
		    pw->l->addr->text);
		server_proxy_end(pw);
		return;
	}
	addr_normalize(&client);
	addr_format_port(&pw->peer, pw->port, via, sizeof(via));
	if (!server_admit(server.cfg, &client)) {
		addr_format_port(&client, hd->src_port, text, sizeof(text));
		log_verbose("refused connection from %s via %s: too many "
		    "unauthenticated connections", text, via);
		server_proxy_end(pw);
		return;
	}
	setsockopt(pw->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(pw->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	/* The worker polls it now: this wait's poll handle lets go first. */
	uv_poll_stop(&pw->poll);
	server_hand_over(pw->fd, &client, hd->src_port, via);
	pw->fd = -1;
	server_proxy_end(pw);
}

/*
 * Peeks at what came, and consumes only header bytes: all of a valid
 * prefix, or exactly the rest of a complete header, so that the SSH
 * bytes after it stay in the socket for libssh.
 */
static void
server_proxy_on_readable(uv_poll_t *poll, int status, int events)
{
	struct proxy_wait	*pw = poll->data;
	struct proxy_header	 hd;
	enum proxy_status	 st;
	const char		*why = NULL;
	ssize_t			 n, want;

	/*
	 * An error or hangup (HAProxy ends its health checks with a reset)
	 * may come with a whole header still to read: read it first.
	 */
	n = recv(pw->fd, pw->buf + pw->have, sizeof(pw->buf) - pw->have,
	    MSG_PEEK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR) && status >= 0)
		return;
	if (n <= 0) {
		server_proxy_refuse(pw, n == 0 ? "closed before a complete "
		    "header" : "socket error");
		return;
	}
	st = proxy_parse(pw->buf, pw->have + (size_t)n,
	    pw->l->addr->proxy_version, &hd, &why);
	if (st == PROXY_BAD) {
		server_proxy_refuse(pw, why != NULL ? why : "malformed header");
		return;
	}
	want = st == PROXY_OK ? (ssize_t)(hd.len - pw->have) : n;
	if (recv(pw->fd, pw->buf + pw->have, (size_t)want, 0) != want) {
		server_proxy_refuse(pw, "socket error");
		return;
	}
	pw->have += (size_t)want;
	if (st == PROXY_OK)
		server_proxy_done(pw, &hd);
}

static void
server_proxy_start(const struct listener *l, int fd,
    const struct ip_addr *peer, uint16_t port)
{
	const struct listen_addr	*la = l->addr;
	struct proxy_wait		*pw;
	size_t				 i;

	for (i = 0; i < la->nproxy_from; i++)
		if (addr_cidr_contains(&la->proxy_from[i].net,
		    la->proxy_from[i].prefix, peer))
			break;
	if (i == la->nproxy_from) {
		server_proxy_audit(l, peer, port, "not a proxy_from address");
		close(fd);
		return;
	}
	if (server.nproxy_waits >= server.cfg->max_startups_full ||
	    (pw = calloc(1, sizeof(*pw))) == NULL) {
		log_verbose("%s: too many PROXY headers pending", la->text);
		close(fd);
		return;
	}
	pw->l = l;
	pw->fd = fd;
	pw->peer = *peer;
	pw->port = port;
	uv_poll_init_socket(server.loop, &pw->poll, fd);
	uv_timer_init(server.loop, &pw->timer);
	pw->poll.data = pw->timer.data = pw;
	pw->handles = 2;
	TAILQ_INSERT_TAIL(&server.proxy_waits, pw, entry);
	server.nproxy_waits++;
	uv_poll_start(&pw->poll, UV_READABLE, server_proxy_on_readable);
	uv_timer_start(&pw->timer, server_proxy_on_timer,
	    SERVER_PROXY_TIMEOUT_MS, 0);
}

/* ---------------------------------------------------------------- accept */

static void
server_on_listener(uv_poll_t *poll, int status, int events)
{
	struct listener		*l = poll->data;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct ip_addr		 peer;
	uint16_t		 port;
	char			 text[ADDR_TEXT_MAX];
	int			 fd, i, one = 1;

	for (i = 0; i < SERVER_ACCEPTS_PER_EVENT; i++) {
		len = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept on %s", l->addr->text);
			return;
		}
		if (addr_from_sockaddr((struct sockaddr *)&ss, &peer,
		    &port) == -1) {
			close(fd);
			continue;
		}
		addr_normalize(&peer);
		if (l->addr->proxy_version != 0) {
			/* Admitted once the header names the client. */
			server_proxy_start(l, fd, &peer, port);
			continue;
		}
		if (!server_admit(server.cfg, &peer)) {
			addr_format_port(&peer, port, text, sizeof(text));
			log_verbose("refused connection from %s: too many "
			    "unauthenticated connections", text);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		server_hand_over(fd, &peer, port, NULL);
	}
}

/* Watches a listening socket (made here, or passed by systemd). */
static void
server_watch_listener(struct listener *l, const struct listen_addr *la,
    int fd, const char *how)
{
	l->fd = fd;
	l->addr = la;
	uv_poll_init_socket(server.loop, &l->poll, fd);
	l->poll.data = l;
	uv_poll_start(&l->poll, UV_READABLE, server_on_listener);
	log_info("listening on %s%s%s", la->text, how,
	    la->proxy_version == 0 ? "" : la->proxy_version == 1 ?
	    " (PROXY protocol v1)" : " (PROXY protocol v2)");
}

/*
 * Socket activation (systemd's hopd.socket, sd_listen_fds): the sockets
 * passed must be exactly the listen lines, one each, so that hopd.ini
 * stays the one description of what hopd serves (and of which addresses
 * speak the PROXY protocol).  -1 with the mismatch logged.
 */
static int
server_adopt_sockets(const struct config *cfg, int n)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct ip_addr		 ip;
	uint16_t		 port;
	bool			 used[SERVER_LISTENERS_MAX];
	char			 text[ADDR_TEXT_MAX];
	size_t			 i;
	int			 fd, k;

	if ((size_t)n != cfg->nlisten || cfg->nlisten > SERVER_LISTENERS_MAX) {
		log_warnx("systemd passed %d socket%s, the configuration has "
		    "%zu listen line%s: they must match one for one", n,
		    n == 1 ? "" : "s", cfg->nlisten,
		    cfg->nlisten == 1 ? "" : "s");
		return -1;
	}
	memset(used, 0, sizeof(used));
	for (k = 0; k < n; k++) {
		fd = SD_LISTEN_FDS_START + k;
		len = sizeof(ss);
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0 ||
		    getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
		    addr_from_sockaddr((struct sockaddr *)&ss, &ip,
		    &port) == -1) {
			log_warnx("systemd's socket %d is not a listening TCP "
			    "socket", fd);
			return -1;
		}
		for (i = 0; i < cfg->nlisten; i++)
			if (!used[i] && cfg->listen[i].port == port &&
			    addr_equal(&cfg->listen[i].ip, &ip))
				break;
		if (i == cfg->nlisten) {
			addr_format_port(&ip, port, text, sizeof(text));
			log_warnx("systemd passed a socket on %s, which no "
			    "listen line names", text);
			return -1;
		}
		used[i] = true;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		server_watch_listener(&server.listeners[i], &cfg->listen[i],
		    fd, " (from systemd)");
	}
	return 0;
}

static int
server_listen_one(struct listener *l, const struct listen_addr *la)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd, one = 1;

	len = addr_to_sockaddr(&la->ip, la->port, &ss);
	fd = socket(la->ip.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		log_warn("socket for %s", la->text);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (la->ip.family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		log_warn("cannot listen on %s", la->text);
		goto fail;
	}
	if (listen(fd, SERVER_LISTEN_BACKLOG) == -1) {
		log_warn("listen on %s", la->text);
		goto fail;
	}
	server_watch_listener(l, la, fd, "");
	return 0;
fail:
	close(fd);
	return -1;
}

/*
 * A bind that takes host keys as hopd offers them: no ~/.ssh or /etc/ssh
 * configuration read, RSA keys of SERVER_RSA_MIN_BITS bits at least.
 */
static ssh_bind
server_bind_new(void)
{
	ssh_bind	bind;
	bool		no = false;
	int		rsa_min = SERVER_RSA_MIN_BITS;

	if ((bind = ssh_bind_new()) == NULL)
		return NULL;
	if (ssh_bind_options_set(bind, SSH_BIND_OPTIONS_PROCESS_CONFIG,
	    &no) != SSH_OK ||
	    ssh_bind_options_set(bind, SSH_BIND_OPTIONS_RSA_MIN_SIZE,
	    &rsa_min) != SSH_OK) {
		ssh_bind_free(bind);
		return NULL;
	}
	return bind;
}

/*
 * The one place a host key is loaded: path into bind (from
 * server_bind_new), if it is ed25519, or RSA of SERVER_RSA_MIN_BITS bits or
 * more.  Its SSH_KEYTYPE_*, or -1 with the reason in why.
 */
static int
server_host_key_load(ssh_bind bind, const char *path, char *why,
    size_t len)
{
	ssh_key		key = NULL;
	struct stat	st;
	int		fd, type;

	/* libssh only says that it failed: ask the system why first. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(why, len, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, len, "not a regular file");
		close(fd);
		return -1;
	}
	close(fd);
	if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL,
	    &key) != SSH_OK) {
		snprintf(why, len, "not a private key (or one with a "
		    "passphrase)");
		return -1;
	}
	type = ssh_key_type(key);
	if (type != SSH_KEYTYPE_ED25519 && type != SSH_KEYTYPE_RSA) {
		snprintf(why, len, "a %s key: only ed25519 and RSA (>= %d "
		    "bits) host keys are offered", ssh_key_type_to_char(type),
		    SERVER_RSA_MIN_BITS);
		goto fail;
	}
	/* The bind takes the key; it refuses RSA below RSA_MIN_SIZE. */
	if (ssh_bind_options_set(bind, SSH_BIND_OPTIONS_IMPORT_KEY,
	    key) != SSH_OK) {
		snprintf(why, len, "%s", ssh_get_error(bind));
		goto fail;
	}
	return type;
fail:
	ssh_key_free(key);
	return -1;
}

int
server_check_host_keys(const struct config *cfg, FILE *errs)
{
	ssh_bind	bind;
	char		why[256];
	size_t		i;
	int		bad = 0;

	if ((bind = server_bind_new()) == NULL) {
		fprintf(errs, "hopd: cannot initialise libssh\n");
		return 1;
	}
	for (i = 0; i < cfg->nhost_keys; i++) {
		if (server_host_key_load(bind, cfg->host_keys[i], why,
		    sizeof(why)) == -1) {
			fprintf(errs, "%s: host_key: %s\n", cfg->host_keys[i],
			    why);
			bad++;
		}
	}
	if (cfg->nhost_keys == 0) {
		fprintf(errs, "%s: no host_key\n", cfg->path);
		bad++;
	}
	ssh_bind_free(bind);
	return bad;
}

/* Host key algorithms for the keys a worker holds. */
static int
server_load_keys(struct worker *w, const struct config *cfg, char *algs,
    size_t len)
{
	char	why[256];
	size_t	i;
	bool	ed25519 = false, rsa = false;
	int	type;

	for (i = 0; i < cfg->nhost_keys; i++) {
		type = server_host_key_load(w->bind, cfg->host_keys[i], why,
		    sizeof(why));
		if (type == -1) {
			log_warnx("host key %s: %s", cfg->host_keys[i], why);
			return -1;
		}
		if (type == SSH_KEYTYPE_ED25519)
			ed25519 = true;
		else
			rsa = true;
	}
	if (!ed25519 && !rsa) {
		log_warnx("no host key configured");
		return -1;
	}
	snprintf(algs, len, "%s%s%s", ed25519 ? "ssh-ed25519" : "",
	    ed25519 && rsa ? "," : "", rsa ? "rsa-sha2-512,rsa-sha2-256" : "");
	return 0;
}

static int
server_worker_init(struct worker *w, unsigned index, struct config *cfg)
{
	char	algs[128];

	w->index = index;
	w->home.cfg = config_ref(cfg);
	TAILQ_INIT(&w->home.sessions);
	w->home.loop = &w->loop;
	w->home.startup_done = server_startup_done;
	if (uv_loop_init(&w->loop) != 0 ||
	    (w->bind = server_bind_new()) == NULL ||
	    server_load_keys(w, cfg, algs, sizeof(algs)) == -1)
		return -1;
	w->home.bind = w->bind;
	if (ssh_bind_options_set(w->bind, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS,
	    algs) != SSH_OK ||
	    ssh_bind_options_set(w->bind, SSH_BIND_OPTIONS_KEY_EXCHANGE,
	    SERVER_KEX) != SSH_OK ||
	    ssh_bind_options_set(w->bind, SSH_BIND_OPTIONS_CIPHERS_C_S,
	    SERVER_CIPHERS) != SSH_OK ||
	    ssh_bind_options_set(w->bind, SSH_BIND_OPTIONS_CIPHERS_S_C,
	    SERVER_CIPHERS) != SSH_OK ||
	    ssh_bind_options_set(w->bind, SSH_BIND_OPTIONS_HMAC_C_S,
	    SERVER_MACS) != SSH_OK ||
	    ssh_bind_options_set(w->bind, SSH_BIND_OPTIONS_HMAC_S_C,
	    SERVER_MACS) != SSH_OK ||
	    ssh_bind_options_set(w->bind, SSH_BIND_OPTIONS_BANNER,
	    "hopd") != SSH_OK ||
	    ssh_bind_options_set(w->bind,
	    SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES,
	    SERVER_USER_KEY_TYPES) != SSH_OK) {
		log_warnx("cannot set algorithms: %s", ssh_get_error(w->bind));
		return -1;
	}
	return 0;
}

static void
server_worker_stop_sessions(struct worker *w)
{
	session_home_end(&w->home, "server shutdown");
}

static void
server_on_wakeup(uv_async_t *async)
{
	struct worker		*w = async->data;
	struct worker_inbox	*in = &server.inboxes[w->index];
	struct handoff		*h, *next;
	struct config		*reload;
	bool			 stop;

	pthread_mutex_lock(&server.lock);
	h = in->conns;
	in->conns = NULL;
	reload = in->reload;
	in->reload = NULL;
	stop = in->stop;
	pthread_mutex_unlock(&server.lock);

	for (; h != NULL; h = next) {
		next = h->next;
		if (stop || w->stopping) {
			close(h->fd);
			server_startup_done(&h->peer);
		} else
			session_start(&w->home, h->fd, &h->peer, h->port,
			    h->via[0] != '\0' ? h->via : NULL);
		free(h);
	}
	if (reload != NULL) {
		session_home_reload(&w->home, reload);
	}
	if (stop && !w->stopping) {
		w->stopping = true;
		server_worker_stop_sessions(w);
		uv_close((uv_handle_t *)&w->wakeup, NULL);
	}
}

static void
server_on_flush(uv_prepare_t *flush)
{
	audit_flush();
}

/*
 * The worker's audit records queue up and are written once per loop
 * iteration, just before the loop may block (prepare, after the timers,
 * the I/O, the check and close callbacks of the last round), then at the
 * end.  The handle is unreferenced: it does not keep the loop alive.
 */
static void
server_worker_main(void *arg)
{
	struct worker	*w = arg;
	uv_prepare_t	 flush;

	log_route_libssh();
	audit_thread_buffered(true);
	uv_prepare_init(&w->loop, &flush);
	uv_prepare_start(&flush, server_on_flush);
	uv_unref((uv_handle_t *)&flush);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&flush, NULL);
	uv_run(&w->loop, UV_RUN_DEFAULT);	/* completes the close */
	audit_thread_buffered(false);
	compat_readahead_release();
	tunnel_thread_release();
}

int
server_start(struct config *cfg, uv_loop_t *loop)
{
	unsigned	i, n;
	long		cpus;
	int		passed;

	server.loop = loop;
	TAILQ_INIT(&server.proxy_waits);
	server.cfg = config_ref(cfg);
	n = cfg->workers;
	if (n == 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus < 1 ? 1 : cpus > SERVER_WORKERS_MAX ?
		    SERVER_WORKERS_MAX : (unsigned)cpus;
	}
	server.workers = calloc(n, sizeof(*server.workers));
	server.inboxes = calloc(n, sizeof(*server.inboxes));
	server.listeners = calloc(cfg->nlisten, sizeof(*server.listeners));
	if (server.workers == NULL || server.inboxes == NULL ||
	    server.listeners == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		server.nworkers = i + 1;
		if (server_worker_init(&server.workers[i], i, cfg) == -1)
			return -1;
	}
	if ((passed = sd_listen_fds(1)) < 0) {
		log_warnx("systemd's sockets: %s", strerror(-passed));
		return -1;
	}
	if (passed > 0) {
		if (server_adopt_sockets(cfg, passed) == -1)
			return -1;
		server.nlisteners = cfg->nlisten;
	} else
		for (i = 0; i < cfg->nlisten; i++) {
			if (server_listen_one(&server.listeners[i],
			    &cfg->listen[i]) == -1)
				return -1;
			server.nlisteners++;
		}
	for (i = 0; i < n; i++) {
		uv_async_init(&server.workers[i].loop,
		    &server.workers[i].wakeup, server_on_wakeup);
		server.workers[i].wakeup.data = &server.workers[i];
		if (uv_thread_create(&server.workers[i].thread,
		    server_worker_main, &server.workers[i]) != 0)
			fatalx("cannot start worker thread");
	}
	log_info("%u worker%s ready", n, n == 1 ? "" : "s");
	return 0;
}

void
server_reload(struct config *cfg)
{
	unsigned	i;

	config_unref(server.cfg);
	server.cfg = config_ref(cfg);
	for (i = 0; i < server.nworkers; i++) {
		pthread_mutex_lock(&server.lock);
		if (server.inboxes[i].reload != NULL)
			config_unref(server.inboxes[i].reload);
		server.inboxes[i].reload = config_ref(cfg);
		pthread_mutex_unlock(&server.lock);
		uv_async_send(&server.workers[i].wakeup);
	}
}

void
server_wake_workers(void)
{
	unsigned	i;

	for (i = 0; i < server.nworkers; i++)
		uv_async_send(&server.workers[i].wakeup);
}

static void
server_on_listener_closed(uv_handle_t *h)
{
	struct listener	*l = h->data;

	close(l->fd);
}

/* Stops listening; called in the main loop before server_stop(). */
void
server_stop_listening(void)
{
	size_t	i;

	struct proxy_wait	*pw;

	for (i = 0; i < server.nlisteners; i++)
		uv_close((uv_handle_t *)&server.listeners[i].poll,
		    server_on_listener_closed);
	server.nlisteners = 0;
	while ((pw = TAILQ_FIRST(&server.proxy_waits)) != NULL)
		server_proxy_end(pw);
}

void
server_stop(void)
{
	struct worker	*w;
	struct handoff	*h;
	unsigned	 i;

	for (i = 0; i < server.nworkers; i++) {
		pthread_mutex_lock(&server.lock);
		server.inboxes[i].stop = true;
		pthread_mutex_unlock(&server.lock);
		uv_async_send(&server.workers[i].wakeup);
	}
	for (i = 0; i < server.nworkers; i++) {
		w = &server.workers[i];
		uv_thread_join(&w->thread);
		while ((h = server.inboxes[i].conns) != NULL) {
			server.inboxes[i].conns = h->next;
			close(h->fd);
			free(h);
		}
		if (server.inboxes[i].reload != NULL)
			config_unref(server.inboxes[i].reload);
		uv_loop_close(&w->loop);
		ssh_bind_free(w->bind);
		config_unref(w->home.cfg);
	}
	free(server.workers);
	free(server.inboxes);
	free(server.listeners);
	free(server.sources);
	config_unref(server.cfg);
	memset(&server.workers, 0, sizeof(server.workers));
	server.nworkers = 0;
}
