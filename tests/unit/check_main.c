/*
 * The one Check runner of `make check`: every unit suite found in
 * tests/unit/ (see gen-suites.sh), then the integration suite.
 */
#include <check.h>
#include <stdlib.h>

#define SUITE(name) Suite *name(void);
#include "suites.inc"
#undef SUITE

int	integration_summary(void);

/*
 * Silent while running, so that the integration scripts' own count (Check
 * has no skip state) comes right before Check's summary.
 */
int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(NULL);
#define SUITE(name) srunner_add_suite(sr, name());
#include "suites.inc"
#undef SUITE
	srunner_run_all(sr, CK_SILENT);
	failed = integration_summary();
	srunner_print(sr, CK_ENV);
	failed += srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
