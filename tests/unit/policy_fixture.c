/*
 * policy_fixture: a policy built from INI-like lines for the unit tests of
 * policy.c and of the modules that decide with it (cases.c).
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "policy_fixture.h"

/*
 * A policy from INI-like lines ("[user NAME]", "[group NAME]",
 * "key = value"); line numbers are array indexes plus one.
 */
struct policy *
policy_fixture(const char *const *conf)
{
	struct policy		*p = policy_new();
	struct policy_section	*sec;
	char			 name[64], value[256], *tok, *save;
	const char		*line, *eq, *why = NULL;
	bool			 is_group = false;
	enum rule_kind		 kind;
	size_t			 i;

	ck_assert_ptr_nonnull(p);
	name[0] = '\0';
	for (i = 0; conf[i] != NULL; i++) {
		line = conf[i];
		if (sscanf(line, "[user %63[^]]]", name) == 1)
			is_group = false;
		else if (sscanf(line, "[group %63[^]]]", name) == 1)
			is_group = true;
		if (line[0] == '[') {
			ck_assert_ptr_nonnull(policy_section(p, is_group,
			    name));
			continue;
		}
		eq = strstr(line, " = ");
		ck_assert_ptr_nonnull(eq);
		snprintf(value, sizeof(value), "%s", eq + 3);
		sec = policy_section(p, is_group, name);
		ck_assert_ptr_nonnull(sec);
		if (strncmp(line, "members", 7) == 0) {
			for (tok = strtok_r(value, ", ", &save); tok != NULL;
			    tok = strtok_r(NULL, ", ", &save))
				ck_assert_int_eq(policy_add_member(sec, tok,
				    &why), 0);
			continue;
		}
		if (strncmp(line, "allow", 5) == 0)
			kind = RULE_ALLOW;
		else if (strncmp(line, "deny", 4) == 0)
			kind = RULE_DENY;
		else
			kind = RULE_LISTEN;
		ck_assert_msg(policy_add_rule(p, sec, kind, value, POLICY_FIXTURE_FILE,
		    (unsigned)i + 1, &why) == 0, "line %zu: %s", i + 1, why);
	}
	return p;
}
