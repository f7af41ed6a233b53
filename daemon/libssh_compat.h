/*
 * sockread: libssh's socket reads, 256 KiB at a time instead of 4 KiB.
 * See sockread.c.
 */
#ifndef HOPD_SOCKREAD_H
#define HOPD_SOCKREAD_H

#define SOCKREAD_BYTES	(256 * 1024)	/* one real recv() */

/*
 * Between sockread_fill(fd) and sockread_fill(-1) this thread's recv() on
 * fd may read ahead.  Outside, recv() only hands out what is already held:
 * the caller takes it all (sockread_pending() == 0) before it lets go, or
 * throws it away with sockread_discard() and the connection with it.
 */
void		sockread_fill(int fd);
unsigned	sockread_held(int fd);		/* bytes held for fd */
unsigned	sockread_pending(void);		/* ...for any fd */
void		sockread_discard(void);
/* Frees this thread's buffer (a thread that filled, before it ends). */
void		sockread_release(void);

#endif
