/*
 * config: hopd.ini(5) read with inih into an immutable, reference-counted
 * snapshot shared by every thread and swapped on reload.
 */
#ifndef HOPD_CONFIG_H
#define HOPD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "policy.h"

#define CONFIG_LINE_MAX		1024	/* longer lines are an error */
#define CONFIG_INCLUDE_DEPTH	8
#define CONFIG_NAME_MAX		POLICY_USER_NAME_MAX	/* user, group */
/*
 * max_lookups stays below the resolver's thread pool (32 threads,
 * LOOKUP_POOL_THREADS): a few threads are always left to other users.
 */
#define CONFIG_LOOKUPS_MAX	28

struct ca_set;
struct revoked;

#define LISTEN_PROXY_FROM_MAX	16	/* proxy_from entries of one listen */

struct listen_addr {
	struct ip_addr	ip;
	uint16_t	port;
	char		text[ADDR_TEXT_MAX];	/* "127.0.0.1:22", "[::1]:22" */
	/*
	 * PROXY protocol: 0 (off), 1 or 2.  Only connections from these
	 * networks may send the header; any other is closed.
	 */
	int		proxy_version;
	struct {
		struct ip_addr	net;
		unsigned	prefix;
	}		proxy_from[LISTEN_PROXY_FROM_MAX];
	size_t		nproxy_from;
};

struct config {
	char			*path;
	/* [server] */
	struct listen_addr	*listen;
	size_t			nlisten;
	char			**host_keys;
	size_t			nhost_keys;
	char			*authorized_keys;	/* template: %u %h %% */
	char			*authorized_principals;	/* same; NULL: none */
	char			*trusted_user_ca_keys;	/* NULL: none */
	struct ca_set		*trusted_cas;		/* read from it */
	char			*revoked_keys;		/* NULL: none */
	struct revoked		*revoked;		/* reads it */
	bool			cert_expiry_end;	/* cert_expiry = end */
	char			*audit_log;		/* the file; NULL: none */
	bool			audit_journal;		/* audit_log journal */
	char			*policy_cases;		/* NULL: none */
	unsigned		connect_timeout_ms;
	unsigned		login_grace_time_ms;	/* 0: no limit */
	unsigned		max_auth_tries;
	unsigned		max_startups_begin;	/* sshd's start:rate:full */
	unsigned		max_startups_rate;	/* percent */
	unsigned		max_startups_full;
	unsigned		per_source_max_startups;
	unsigned		max_channels_per_session;
	unsigned		max_listeners_per_session;
	unsigned		max_pending_opens_per_session;
	unsigned		max_refused_per_session;
	unsigned		max_lookups_per_user;	/* all its sessions */
	unsigned		max_lookups;		/* the whole process */
	unsigned		workers;		/* 0: one per CPU */
	int			log_level;		/* enum log_level */
	bool			log_syslog;		/* log_syslog = yes */
	/* [user] and [group] sections */
	struct policy		*policy;

	int			refs;			/* atomic */
};

/*
 * Reads path (and its includes).  Every error goes to errs as one line
 * "FILE:LINE: key: message" (LINE omitted for file-level errors); returns
 * NULL if there was any.  errs may be NULL (errors are then only counted).
 */
struct config *config_load(const char *path, FILE *errs);
struct config *config_ref(struct config *c);	/* thread-safe */
void	config_unref(struct config *c);		/* frees at zero */

/* "30", "30s", "2m", "1h" -> milliseconds.  0 or -1. */
int	config_parse_duration(const char *s, unsigned *ms);

/* The %u/%h/%% template expanded into buf.  0 or -1 (too long, bad %). */
int	config_expand_path(const char *tmpl, const char *user,
	    const char *home, char *buf, size_t len);

/*
 * A user or group name as hopd.ini(5) accepts it: policy_valid_user_name(),
 * the one rule (kept under this name for its callers).  Names that fail can
 * never match a section.
 */
bool	config_valid_name(const char *name);

#endif
