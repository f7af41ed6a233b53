/*
 * cases: policy cases, the decisions an operator expects of the policy
 * (hopd.ini(5), POLICY CASES), run through the functions tunnels and
 * remote forwards decide with, so that an edit cannot flip one unseen.
 */
#ifndef HOPD_CASES_H
#define HOPD_CASES_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "policy.h"

#define CASES_ADDRS_MAX		16	/* a tunnel's (LOOKUP_ADDRS_MAX) */
#define CASES_LINE_MAX		1024	/* as hopd.ini's lines */
#define CASES_ERROR_MAX		512	/* an error message, FILE:LINE apart */

enum case_kind {
	CASE_TUNNEL,		/* USER HOST:PORT allow|deny [= ADDR, ...] */
	CASE_LISTEN		/* USER listen BIND:PORT allow|deny */
};

struct policy_case {
	enum case_kind	 kind;
	bool		 expect_allow;
	char		 user[POLICY_USER_NAME_MAX + 1];
	struct host	 host;			/* tunnels */
	char		 bind[ADDR_TEXT_MAX];	/* listen: as sent */
	uint16_t	 port;			/* listen: 0 is any port */
	struct ip_addr	 addrs[CASES_ADDRS_MAX];	/* "= ADDR, ..." */
	size_t		 naddrs;		/* 0: a name is resolved */
	char		*what;			/* "alice db1.internal:5432" */
	const char	*file;			/* owned by struct cases */
	unsigned	 line;
};

struct cases_file {
	char		*path;		/* cases point into it */
	dev_t		 dev;
	ino_t		 ino;
};

struct cases {
	struct policy_case	*v;
	size_t			 n;
	struct cases_file	*files;
	size_t			 nfiles;
};

/* What a case got. */
struct case_result {
	bool		 allow;
	struct verdict	 verdict;	/* the deciding one */
	bool		 has_addr;	/* the verdict is addr's */
	struct ip_addr	 addr;
	bool		 resolved;	/* the name went to the resolver */
	struct ip_addr	 addrs[CASES_ADDRS_MAX];	/* the ones decided */
	size_t		 naddrs;
	const char	*error;		/* not decided: the resolver's error */
};

/*
 * Resolves name as a tunnel would (lookup_resolve()): 0 with *n addresses
 * in addrs, normalized, or -1 with *why set.
 */
typedef int	(*cases_resolver)(const char *name, struct ip_addr *addrs,
		    size_t max, size_t *n, const char **why);

/* Lines for the operator; error lines are about malformed cases files. */
enum cases_line {
	CASES_NOTE,		/* a name resolved; the summary when all pass */
	CASES_FAIL,		/* a failing case; the summary when one fails */
	CASES_ERROR		/* a malformed case, an unreadable file */
};
typedef void	(*cases_emit)(void *arg, enum cases_line kind,
		    const char *line);

/*
 * Parses one line of a cases file (no line ending).  Returns 1 and fills
 * *c (c->what allocated, c->file and c->line left to the caller), 0 for a
 * blank or comment line, or -1 with a message in err that says what would
 * be valid.  Pure.
 */
int	cases_parse_line(const char *line, struct policy_case *c, char *err,
	    size_t errlen);

/*
 * The decision for c under p, by the functions a tunnel (policy_precheck,
 * then policy_decide_target) or a remote forward (policy_decide_listen)
 * decides with.  A name without "= ADDR" is passed to resolve only when
 * the precheck lets it through, as a tunnel resolves it.  Pure but for
 * resolve.  Returns 0, or -1 when it could not be decided (r->error).
 */
int	cases_decide(const struct policy *p, const struct policy_case *c,
	    cases_resolver resolve, struct case_result *r);

/* "expected allow, got deny by FILE:LINE (deny = ...) for ADDR: reason". */
void	cases_describe(const struct policy_case *c,
	    const struct case_result *r, char *buf, size_t len);

void	cases_init(struct cases *set);
void	cases_clear(struct cases *set);
/*
 * Reads path into set, every malformed line emitted as "FILE:LINE: message"
 * (CASES_ERROR); a file already read into set (the same inode) is skipped.
 * Returns 0, or -1 when the file cannot be read or has a malformed line
 * (set then holds its good lines).
 */
int	cases_read(struct cases *set, const char *path, cases_emit emit,
	    void *arg);
/*
 * Decides every case of set under p; emits a line per resolved name, one
 * per failing case, and none for a case that passes.  Returns how many
 * failed; *passed gets how many passed.
 */
size_t	cases_run(const struct cases *set, const struct policy *p,
	    cases_resolver resolve, cases_emit emit, void *arg, size_t *passed);

#endif
