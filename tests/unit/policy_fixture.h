/*
 * policy_fixture: a policy from INI-like lines ("[user NAME]",
 * "[group NAME]", "key = value", NULL-terminated), for the unit tests;
 * rules point at POLICY_FIXTURE_FILE, line numbers are indexes plus one.
 * Any line it cannot take fails the test.
 */
#ifndef HOPD_POLICY_FIXTURE_H
#define HOPD_POLICY_FIXTURE_H

#include "policy.h"

#define POLICY_FIXTURE_FILE	"test.ini"

struct policy	*policy_fixture(const char *const *conf);

#endif
