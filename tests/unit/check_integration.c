/*
 * Runs each integration script named in $HOPD_TESTS as one Check test, so
 * that `make check` ends in one Check summary for everything.  A script
 * passes when it exits 0; its output goes to $HOPD_TEST_LOGS/NAME.log and
 * the tail of it is printed when it fails.
 */
#include <check.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define INTEGRATION_TESTS_MAX	128
#define INTEGRATION_TIMEOUT_S	300

Suite	*integration_suite(void);

static char	*scripts[INTEGRATION_TESTS_MAX];
static int	 nscripts;

static void
integration_list(void)
{
	const char	*env = getenv("HOPD_TESTS");
	char		*copy, *tok, *save;

	if (env == NULL || nscripts > 0)
		return;
	copy = strdup(env);
	for (tok = strtok_r(copy, " \t\n", &save);
	    tok != NULL && nscripts < INTEGRATION_TESTS_MAX;
	    tok = strtok_r(NULL, " \t\n", &save))
		scripts[nscripts++] = strdup(tok);
	free(copy);
}

START_TEST(integration_script_passes)
{
	const char	*logs = getenv("HOPD_TEST_LOGS");
	char		 path[4096], name[1024], log[4096], cmd[12288];
	int		 status;

	ck_assert_int_lt(_i, nscripts);
	snprintf(path, sizeof(path), "%s", scripts[_i]);
	snprintf(name, sizeof(name), "%s", basename(path));
	if (logs == NULL)
		logs = "/tmp";
	mkdir(logs, 0755);
	snprintf(log, sizeof(log), "%s/%s.log", logs, name);
	snprintf(cmd, sizeof(cmd), "timeout -k 10 %d bash %s > %s 2>&1",
	    INTEGRATION_TIMEOUT_S, scripts[_i], log);
	fprintf(stderr, "integration: %s ...\n", name);
	status = system(cmd);
	if (status != 0) {
		snprintf(cmd, sizeof(cmd), "tail -n 40 %s >&2", log);
		if (system(cmd) == -1)
			fprintf(stderr, "cannot show %s\n", log);
	}
	ck_assert_msg(status == 0, "%s failed (exit %d); log: %s", name,
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1, log);
	fprintf(stderr, "integration: %s ok\n", name);
}
END_TEST

Suite *
integration_suite(void)
{
	Suite	*s = suite_create("integration");
	TCase	*tc = tcase_create("scripts");

	integration_list();
	tcase_set_timeout(tc, INTEGRATION_TIMEOUT_S + 30);
	if (nscripts > 0)
		tcase_add_loop_test(tc, integration_script_passes, 0,
		    nscripts);
	suite_add_tcase(s, tc);
	return s;
}
