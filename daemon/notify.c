/*
 * notify: the sd_notify(3) messages of a Type=notify service.  READY=1 once
 * the listeners are up, RELOADING=1 and READY=1 around a reload, STOPPING=1
 * on shutdown, and a STATUS= line with the live sessions and tunnels.
 */
#include <time.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"

#define USEC_PER_SEC	1000000ULL
#define NSEC_PER_USEC	1000ULL

/*
 * An error is logged once at debug level and otherwise ignored: a lost
 * status message must never take the daemon down.
 */
static void
notify_send(const char *msg)
{
	int	rc;

	if ((rc = sd_notify(0, msg)) < 0)
		log_debug("sd_notify(%s): error %d", msg, -rc);
}

void
notify_ready(void)
{
	notify_send("READY=1\nSTATUS=accepting connections");
}

/*
 * systemd >= 253 (Type=notify-reload) wants MONOTONIC_USEC beside
 * RELOADING=1 to match the reload with the READY=1 that ends it; older ones
 * ignore the extra field.
 */
void
notify_reloading(void)
{
	struct timespec	ts;
	unsigned long long usec = 0;
	int		rc;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
		usec = (unsigned long long)ts.tv_sec * USEC_PER_SEC +
		    (unsigned long long)ts.tv_nsec / NSEC_PER_USEC;
	rc = sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\n"
	    "STATUS=reloading the configuration", usec);
	if (rc < 0)
		log_debug("sd_notify(RELOADING=1): error %d", -rc);
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1\nSTATUS=shutting down");
}

void
notify_status(unsigned sessions, unsigned tunnels)
{
	int	rc;

	rc = sd_notifyf(0, "STATUS=%u sessions, %u tunnels", sessions,
	    tunnels);
	if (rc < 0)
		log_debug("sd_notify(STATUS): error %d", -rc);
}
