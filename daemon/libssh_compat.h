/*
 * libssh_compat: every use of libssh beyond its documented API, checked
 * against one libssh version (see libssh_compat.c for each trick).
 */
#ifndef HOPD_LIBSSH_COMPAT_H
#define HOPD_LIBSSH_COMPAT_H

#include <stdbool.h>
#include <stdint.h>

#include <libssh/libssh.h>

#define COMPAT_READAHEAD_BYTES	(256 * 1024)	/* one real recv() */
/*
 * libssh's own numbers (0.10.6, messages.c and channels.c; the same in
 * 0.11.5 and 0.12.2): a channel it accepts starts with a window of 32000
 * bytes and a maximum packet of 35000, and its window grows only when the
 * application reads.  hopd's window checks are built on them.
 */
#define COMPAT_ACCEPT_WINDOW_BYTES	32000
#define COMPAT_LOCAL_MAX_PACKET_BYTES	35000

/* Once, before any session: the read-pause table.  0 or -1. */
int	compat_init(void);
void	compat_finish(void);

/*
 * Between compat_readahead_fill(fd) and compat_readahead_fill(-1) this
 * thread's recv() on fd may read ahead.  Outside, recv() only hands out
 * what is already held: the caller takes it all
 * (compat_readahead_pending() == 0) before it lets go, or throws it away
 * with compat_readahead_discard() and the connection with it.
 */
void		compat_readahead_fill(int fd);
unsigned	compat_readahead_held(int fd);		/* bytes held for fd */
unsigned	compat_readahead_pending(void);		/* ...for any fd */
void		compat_readahead_discard(void);
/* Frees this thread's buffer (a thread that filled, before it ends). */
void		compat_readahead_release(void);
/* Reads that went ahead, process-wide (0 when HOPD_READAHEAD=0). */
uint64_t	compat_readahead_reads(void);

/* libssh reads fd no more while paused (-1: fd out of the table). */
int	compat_read_pause(int fd, bool paused);

/* The peer's maximum packet size of a channel open, or 0 if unsure. */
uint32_t compat_open_max_packet(ssh_session ssh, ssh_message m);
/*
 * Turns a service request message (answered) into one whose default reply
 * is USERAUTH_FAILURE, kept to answer requests libssh drops.  0 or -1.
 */
int	compat_message_as_auth(ssh_session ssh, ssh_message m);
void	compat_message_free_as_auth(ssh_message m);
/* The key and signature state of a publickey auth message. */
ssh_key	compat_auth_pubkey(ssh_message m, int *state);
/*
 * Gives back the memory of ch's receive buffer, which must be empty
 * (outside ch's callbacks).  0 or -1 (not empty, or unsure of libssh).
 */
int	compat_channel_shrink(ssh_channel ch);
/*
 * Grants the peer window bytes of window on ch (outside its callbacks):
 * returns what a read of up to window bytes into scratch (window bytes
 * long) brought, as ssh_channel_read_timeout.
 */
int	compat_channel_grant_window(ssh_channel ch, char *scratch,
	    uint32_t window);

#endif
