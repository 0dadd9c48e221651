/* civic-admin app create */
#include <stdio.h>

#include "accounts.h"
#include "admin.h"

/* Explains CIVIC_E_PLAN_LIMIT with the figures a user can act on. */
static int plan_limit(struct admin *a, int64_t account)
{
	char plan[33];
	int64_t max_apps, apps;
	enum civic_err err;

	if ((err = civic_account_app_usage(a->db, account, plan, &max_apps, &apps)) != CIVIC_OK) {
		admin_error(a, "account %lld has reached its plan's application limit",
		            (long long)account);
		return ADMIN_EXIT_FAIL;
	}
	admin_error(a, "plan %s allows %lld application(s); account %lld has %lld", plan,
	            (long long)max_apps, (long long)account, (long long)apps);
	return ADMIN_EXIT_FAIL;
}

int admin_app_create(struct admin *a, int argc, char **argv)
{
	enum { ACCOUNT, NAME, N };
	static const struct admin_opt opts[N] = {
		[ACCOUNT] = {"account", ADMIN_O_INT, true, 1, INT64_MAX, "an account id"},
		[NAME] = {"name", ADMIN_O_STR, true, 0, 0, NULL},
	};
	struct admin_val v[N];
	int64_t id;
	enum civic_err err;
	int rc;

	if (!admin_parse_opts(a, argc, argv, opts, N, v, &rc))
		return rc;
	if (!civic_app_valid_name(v[NAME].str)) {
		admin_error(a, "--name: must be 1 to %d characters of UTF-8 text without control "
		               "characters", CIVIC_NAME_MAX);
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = admin_open(a)) != ADMIN_EXIT_OK)
		return rc;
	switch ((err = civic_app_create(a->db, v[ACCOUNT].num, v[NAME].str, &id))) {
	case CIVIC_OK:
		break;
	case CIVIC_E_NOT_FOUND:
		admin_error(a, "account %lld not found", (long long)v[ACCOUNT].num);
		return ADMIN_EXIT_FAIL;
	case CIVIC_E_PLAN_LIMIT:
		return plan_limit(a, v[ACCOUNT].num);
	case CIVIC_E_CONFLICT:
		admin_error(a, "account %lld already has an application named '%s'",
		            (long long)v[ACCOUNT].num, v[NAME].str);
		return ADMIN_EXIT_FAIL;
	default:
		return admin_fail(a, err, "creating the application");
	}
	if (a->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64(id));
		json_object_object_add(o, "name", json_object_new_string(v[NAME].str));
		json_object_object_add(o, "account_id", json_object_new_int64(v[ACCOUNT].num));
		return admin_print_json(o);
	}
	printf("application %lld created: '%s' in account %lld\n", (long long)id, v[NAME].str,
	       (long long)v[ACCOUNT].num);
	return ADMIN_EXIT_OK;
}
