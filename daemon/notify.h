/*
 * notify: tells the service manager how hopd is doing (sd_notify(3)), for
 * systemd's Type=notify.  Every call is a no-op when NOTIFY_SOCKET is unset,
 * so hopd runs the same from a shell, a test or another supervisor.
 */
#ifndef HOPD_NOTIFY_H
#define HOPD_NOTIFY_H

/* The listeners are up: systemd may start what comes after hopd. */
void	notify_ready(void);
/* A reload begins; notify_ready() again when it is over, failed or not. */
void	notify_reloading(void);
/* Shutdown begins. */
void	notify_stopping(void);
/* The status line of `systemctl status hopd`. */
void	notify_status(unsigned sessions, unsigned tunnels);

#endif
