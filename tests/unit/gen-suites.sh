#!/bin/sh
# Lists the Check suites defined in the given files as SUITE(name) lines for
# check_main.c: each definition `Suite *\nNAME_suite(void)` (style(9): the
# name starts its line) or `Suite *NAME_suite(void)`.
sed -n -e 's/^\([a-z0-9_]*_suite\)(void)$/SUITE(\1)/p' \
    -e 's/^Suite \*\([a-z0-9_]*_suite\)(void)$/SUITE(\1)/p' "$@"
