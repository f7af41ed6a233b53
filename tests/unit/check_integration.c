/*
 * Runs each integration script named in $HOPD_TESTS as one Check test, so
 * that `make check` ends in one Check summary for everything.  A script
 * passes when it exits 0 and skips when it exits 77 (after printing "SKIP
 * NAME: reason"); its output goes to $HOPD_TEST_LOGS/NAME.log and the tail
 * of it is printed when it fails.
 *
 * Check has no skip state: a skipped script passes in Check's count.  The
 * true count is integration_summary()'s line, printed before Check's, and
 * as root a skip fails the run (root can run every script).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define INTEGRATION_TESTS_MAX	128
#define INTEGRATION_TIMEOUT_S	300
#define INTEGRATION_EXIT_SKIP	77	/* automake's convention */
#define INTEGRATION_REASON_MAX	512

Suite	*integration_suite(void);
int	 integration_summary(void);

static char	*scripts[INTEGRATION_TESTS_MAX];
static int	 nscripts;
static int	 ndropped;	/* named beyond INTEGRATION_TESTS_MAX */
/*
 * Each test runs in a child of Check's: it appends "pass NAME" or "skip
 * NAME" here (one write(2), O_APPEND) and the parent counts the lines.  A
 * script with no line failed, whatever way (status, timeout, crash).
 */
static int	 results_fd = -1;

static void
integration_list(void)
{
	const char	*env = getenv("HOPD_TESTS");
	char		*copy, *tok, *save;

	if (env == NULL || nscripts > 0)
		return;
	copy = strdup(env);
	for (tok = strtok_r(copy, " \t\n", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\n", &save)) {
		if (nscripts < INTEGRATION_TESTS_MAX)
			scripts[nscripts++] = strdup(tok);
		else
			ndropped++;
	}
	free(copy);
}

/* An unlinked file shared with the forked tests; -1 if none can be made. */
static int
integration_results_open(void)
{
	const char	*dir = getenv("TMPDIR");
	char		 path[4096];
	int		 fd;

	snprintf(path, sizeof(path), "%s/hopd-check-results.XXXXXX",
	    dir != NULL && *dir != '\0' ? dir : "/tmp");
	if ((fd = mkostemp(path, O_APPEND | O_CLOEXEC)) == -1) {
		fprintf(stderr, "integration: cannot create %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	unlink(path);
	return fd;
}

static void
integration_record(const char *what, const char *name)
{
	char	line[1100];
	int	n;

	n = snprintf(line, sizeof(line), "%s %s\n", what, name);
	if (results_fd == -1 || n < 0 || (size_t)n >= sizeof(line) ||
	    write(results_fd, line, (size_t)n) != n)
		fprintf(stderr, "integration: cannot record %s %s\n", what,
		    name);
}

/* The reason of the script's last "SKIP NAME: reason" line in log. */
static void
integration_skip_reason(const char *log, char *reason, size_t len)
{
	FILE	*f;
	char	 line[INTEGRATION_REASON_MAX], *p;

	snprintf(reason, len, "it gave no reason");
	if ((f = fopen(log, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "SKIP ", 5) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		p = strstr(line, ": ");
		snprintf(reason, len, "%s", p != NULL ? p + 2 : line + 5);
	}
	fclose(f);
}

START_TEST(integration_script_passes)
{
	const char	*logs = getenv("HOPD_TEST_LOGS");
	char		 path[4096], name[1024], log[4096], cmd[12288];
	char		 reason[INTEGRATION_REASON_MAX];
	int		 status, code;

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
	code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (code == INTEGRATION_EXIT_SKIP) {
		integration_skip_reason(log, reason, sizeof(reason));
		fprintf(stderr, "integration: %s SKIPPED (%s)\n", name,
		    reason);
		integration_record("skip", name);
		return;
	}
	if (code != 0) {
		snprintf(cmd, sizeof(cmd), "tail -n 40 %s >&2", log);
		if (system(cmd) == -1)
			fprintf(stderr, "cannot show %s\n", log);
	}
	ck_assert_msg(code == 0, "%s failed (exit %d); log: %s", name, code,
	    log);
	integration_record("pass", name);
	fprintf(stderr, "integration: %s ok\n", name);
}
END_TEST

Suite *
integration_suite(void)
{
	Suite	*s = suite_create("integration");
	TCase	*tc = tcase_create("scripts");

	integration_list();
	if (nscripts > 0 && results_fd == -1)
		results_fd = integration_results_open();
	tcase_set_timeout(tc, INTEGRATION_TIMEOUT_S + 30);
	if (nscripts > 0)
		tcase_add_loop_test(tc, integration_script_passes, 0,
		    nscripts);
	suite_add_tcase(s, tc);
	return s;
}

/* Whether Check ran the integration scripts (CK_RUN_SUITE, CK_RUN_CASE). */
static int
integration_selected(void)
{
	const char	*suite = getenv("CK_RUN_SUITE");
	const char	*tcase = getenv("CK_RUN_CASE");

	return (suite == NULL || *suite == '\0' ||
	    strcmp(suite, "integration") == 0) &&
	    (tcase == NULL || *tcase == '\0' || strcmp(tcase, "scripts") == 0);
}

/*
 * After the run: prints "integration: N passed, M skipped, K failed" and
 * returns how many problems Check's own count does not show: scripts that
 * were named but not run, and, as root, every skip.
 */
int
integration_summary(void)
{
	FILE	*f;
	char	 what[16], name[1024];
	int	 passed = 0, skipped = 0, failed, problems = 0;

	if (nscripts == 0 || !integration_selected())
		return 0;
	if (results_fd != -1 && lseek(results_fd, 0, SEEK_SET) == 0 &&
	    (f = fdopen(dup(results_fd), "r")) != NULL) {
		while (fscanf(f, "%15s %1023s", what, name) == 2) {
			if (strcmp(what, "pass") == 0)
				passed++;
			else if (strcmp(what, "skip") == 0)
				skipped++;
		}
		fclose(f);
	}
	failed = nscripts - passed - skipped;
	fprintf(stderr, "integration: %d passed, %d skipped, %d failed\n",
	    passed, skipped, failed);
	if (failed > 0 && results_fd == -1)
		problems++;	/* nothing could be counted */
	if (ndropped > 0) {
		fprintf(stderr, "integration: %d more scripts named than the "
		    "%d this runner takes (INTEGRATION_TESTS_MAX): not run\n",
		    ndropped, INTEGRATION_TESTS_MAX);
		problems++;
	}
	if (skipped > 0 && geteuid() == 0) {
		fprintf(stderr, "integration: %d skipped as root, where every "
		    "script can run: the run fails\n", skipped);
		problems++;
	}
	return problems;
}
