/*
 * sockread: libssh's socket reads, 64 KiB at a time instead of 4 KiB.
 * See sockread.c.
 */
#ifndef HOPD_SOCKREAD_H
#define HOPD_SOCKREAD_H

#include <stdbool.h>

#define SOCKREAD_BYTES	(64 * 1024)	/* one real recv() */

/* Sizes the fd table; before any other call, before the threads. */
int	sockread_init(void);
void	sockread_shutdown(void);

/*
 * Marks fd, an open socket that libssh reads, for read-ahead; close(fd)
 * forgets it.  Returns -1 (and the fd is read as before) if it cannot.
 */
int	sockread_register(int fd);

/*
 * Between sockread_fill(fd) and sockread_fill(-1) this thread's recv() on
 * fd may read ahead.  Outside, recv() only hands out what is already held,
 * so the caller must drain fd before it lets go (sockread_held).
 */
void	sockread_fill(int fd);

/* Bytes read ahead on fd that libssh has not taken yet. */
unsigned	sockread_held(int fd);

#endif
