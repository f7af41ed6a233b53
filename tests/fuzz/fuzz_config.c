/*
 * libFuzzer target for config.c: the input is written as a hopd.ini in a
 * private directory and loaded (errors formatted to /dev/null), and is also
 * tried as a duration and as an authorized_keys template.  Inputs that
 * could include files outside that directory are skipped, so a run reads
 * nothing of the system.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define FUZZ_INPUT_MAX	65536

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PROMISE(cond)	do { if (!(cond)) __builtin_trap(); } while (0)

static char	 fuzz_path[4096];
static FILE	*fuzz_errs;

static int
fuzz_setup(void)
{
	const char	*base = getenv("FUZZ_TMPDIR");
	char		 dir[4096];

	if (fuzz_errs != NULL)
		return 0;
	snprintf(dir, sizeof(dir), "%s/fuzz_config.XXXXXX",
	    base != NULL ? base : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(fuzz_path, sizeof(fuzz_path), "%s/hopd.ini", dir);
	if ((fuzz_errs = fopen("/dev/null", "w")) == NULL)
		return -1;
	return 0;
}

/* The other entry points of config.h, on the input as a string. */
static void
fuzz_strings(const uint8_t *data, size_t size)
{
	char		*s, out[256];
	unsigned	 ms;

	if ((s = strndup((const char *)data, size)) == NULL)
		return;
	if (config_parse_duration(s, &ms) == 0)
		PROMISE(s[0] >= '0' && s[0] <= '9');
	if (config_expand_path(s, "alice", "/home/alice", out,
	    sizeof(out)) == 0)
		PROMISE(strlen(out) < sizeof(out));
	/* A user name never walks out of its directory. */
	if (config_expand_path("/k/%u", s, "/h", out, sizeof(out)) == 0)
		PROMISE(config_valid_name(s) && strchr(out + 3, '/') == NULL &&
		    strcmp(out + 3, ".") != 0 && strcmp(out + 3, "..") != 0);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*c;
	FILE		*fp;

	if (size > FUZZ_INPUT_MAX || fuzz_setup() == -1)
		return 0;
	fuzz_strings(data, size);
	if (memmem(data, size, "include", 7) != NULL &&
	    (memchr(data, '/', size) != NULL || memmem(data, size, "..",
	    2) != NULL))
		return 0;
	if ((fp = fopen(fuzz_path, "w")) == NULL)
		return 0;
	if (fwrite(data, 1, size, fp) != size) {
		fclose(fp);
		return 0;
	}
	if (fclose(fp) != 0)
		return 0;
	if ((c = config_load(fuzz_path, fuzz_errs)) != NULL) {
		PROMISE(c->nlisten > 0 && c->nhost_keys > 0);
		PROMISE(c->connect_timeout_ms >= 1000);
		PROMISE(c->max_startups_begin <= c->max_startups_full);
		PROMISE(c->authorized_keys != NULL);
		PROMISE(config_ref(c) == c && c->refs == 2);
		config_unref(c);
		config_unref(c);
	}
	return 0;
}
