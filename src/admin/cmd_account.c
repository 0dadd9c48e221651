/* civic-admin account create | limits */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "admin.h"
#include "billing.h"
#include "input.h"
#include "num.h"

static const char SQL_LIMITS[] =
	"SELECT a.requests_per_day_override, a.requests_per_minute_override, p.slug,"
	" p.max_api_requests_per_app_per_day, p.max_requests_per_key_per_minute"
	" FROM accounts a JOIN plans p ON p.id = a.plan_id WHERE a.id = ?";

/* "--password -" reads one line from stdin, so the password need not
 * show in the process list. */
static bool read_password(struct admin *a, char *buf, size_t len)
{
	size_t n;

	if (fgets(buf, (int)len, stdin) == NULL) {
		admin_error(a, "--password -: no line on standard input");
		return false;
	}
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (n == len - 1) {
		admin_error(a, "--password: at most %d bytes", CIVIC_PASSWORD_MAX);
		return false;
	}
	return true;
}

int admin_account_create(struct admin *a, int argc, char **argv)
{
	enum { EMAIL, PASSWORD, PLAN, N };
	static const struct admin_opt opts[N] = {
		[EMAIL] = {"email", ADMIN_O_STR, true, 0, 0, NULL},
		[PASSWORD] = {"password", ADMIN_O_STR, true, 0, 0, NULL},
		[PLAN] = {"plan", ADMIN_O_STR, false, 0, 0, NULL},
	};
	struct admin_val v[N];
	char stdin_pw[CIVIC_PASSWORD_MAX + 2];
	const char *password, *plan;
	struct civic_billing_result bill;
	char email[255], slug[33];
	int64_t id;
	size_t pwlen;
	enum civic_err err;
	int rc;

	if (!admin_parse_opts(a, argc, argv, opts, N, v, &rc))
		return rc;
	rc = ADMIN_EXIT_USAGE;
	password = v[PASSWORD].str;
	if (strcmp(password, "-") == 0) {
		if (!read_password(a, stdin_pw, sizeof(stdin_pw)))
			goto out;
		password = stdin_pw;
	}
	if (!civic_valid_email(v[EMAIL].str) || strlen(v[EMAIL].str) >= sizeof(email)) {
		admin_error(a, "--email: '%s' is not a valid email address", v[EMAIL].str);
		goto out;
	}
	pwlen = strlen(password);
	if (pwlen < CIVIC_PASSWORD_MIN || pwlen > CIVIC_PASSWORD_MAX) {
		admin_error(a, "--password: must be %d to %d bytes, got %zu", CIVIC_PASSWORD_MIN,
		            CIVIC_PASSWORD_MAX, pwlen);
		goto out;
	}
	plan = v[PLAN].present ? v[PLAN].str : "free";
	if ((rc = admin_open(a)) != ADMIN_EXIT_OK)
		goto out;
	err = civic_account_create(a->db, v[EMAIL].str, password, plan, true, &id);
	rc = ADMIN_EXIT_FAIL;
	if (err == CIVIC_E_NOT_FOUND) {
		admin_error(a, "unknown plan '%s'; see civic-admin plan list", plan);
		goto out;
	}
	if (err == CIVIC_E_CONFLICT) {
		admin_error(a, "an account with email %s already exists", v[EMAIL].str);
		goto out;
	}
	if (err != CIVIC_OK) {
		rc = admin_fail(a, err, "creating the account");
		goto out;
	}
	/* A paid plan is a subscription (first period granted, as with plan
	 * set), so that billing renew renews or demotes it. */
	if (v[PLAN].present &&
	    (err = civic_billing_set_plan(a->db, id, plan, false, &bill)) != CIVIC_OK) {
		rc = admin_fail(a, err, "starting the plan's subscription");
		goto out;
	}
	/* Show the address and the plan slug as stored. */
	if (civic_account_app_usage(a->db, id, slug, NULL, NULL) == CIVIC_OK)
		plan = slug;
	for (size_t i = 0; i <= strlen(v[EMAIL].str); i++) {
		char c = v[EMAIL].str[i];
		email[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	if (a->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64(id));
		json_object_object_add(o, "email", json_object_new_string(email));
		json_object_object_add(o, "plan", json_object_new_string(plan));
		json_object_object_add(o, "email_verified", json_object_new_boolean(1));
		rc = admin_print_json(o);
	} else {
		printf("account %lld created: %s (plan %s)\n", (long long)id, email, plan);
		rc = ADMIN_EXIT_OK;
	}
out:
	sodium_memzero(stdin_pw, sizeof(stdin_pw));
	return rc;
}

/* "--requests-per-day N|default": 1..CIVIC_LIMIT_MAX, or 0 for
 * "default" (clear the override), or -1 when the option is absent. */
static bool parse_limit(struct admin *a, const char *opt, const struct admin_val *v, int64_t *out)
{
	*out = -1;
	if (!v->present)
		return true;
	if (strcmp(v->str, "default") == 0) {
		*out = 0;
		return true;
	}
	if (civic_num_parse_str(v->str, 1, CIVIC_LIMIT_MAX, out))
		return true;
	admin_error(a, "--%s: expected a number 1..%lld or 'default', got '%s'", opt,
	            (long long)CIVIC_LIMIT_MAX, v->str);
	return false;
}

/* Prints the account's effective limits after the change. */
static int show_limits(struct admin *a, int64_t account)
{
	struct civic_param p[] = {CIVIC_PINT(account)};
	struct civic_rows *r;
	int64_t day, minute, over_day = 0, over_minute = 0;
	bool has_day, has_minute;
	enum civic_err err;
	int rc = ADMIN_EXIT_FAIL;

	if ((err = civic_db_exec(a->db, SQL_LIMITS, p, 1, &r)) != CIVIC_OK)
		return admin_fail(a, err, "reading the limits back");
	has_day = civic_rows_int(r, 0, 0, &over_day);
	has_minute = civic_rows_int(r, 0, 1, &over_minute);
	if (r->nrows == 0 || !civic_rows_int(r, 0, 3, &day) || !civic_rows_int(r, 0, 4, &minute)) {
		admin_error(a, "account %lld vanished while being changed", (long long)account);
		goto out;
	}
	if (a->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "account_id", json_object_new_int64(account));
		json_object_object_add(o, "plan", json_object_new_string(civic_rows_get(r, 0, 2)));
		json_object_object_add(o, "requests_per_day",
		                       json_object_new_int64(has_day ? over_day : day));
		json_object_object_add(o, "requests_per_minute",
		                       json_object_new_int64(has_minute ? over_minute : minute));
		json_object_object_add(o, "requests_per_day_override",
		                       has_day ? json_object_new_int64(over_day) : NULL);
		json_object_object_add(o, "requests_per_minute_override",
		                       has_minute ? json_object_new_int64(over_minute) : NULL);
		rc = admin_print_json(o);
	} else {
		printf("account %lld (plan %s): %lld requests per application per day (%s), "
		       "%lld requests per key per minute (%s)\n",
		       (long long)account, civic_rows_get(r, 0, 2),
		       (long long)(has_day ? over_day : day), has_day ? "override" : "plan",
		       (long long)(has_minute ? over_minute : minute), has_minute ? "override" : "plan");
		rc = ADMIN_EXIT_OK;
	}
out:
	civic_rows_free(r);
	return rc;
}

int admin_account_limits(struct admin *a, int argc, char **argv)
{
	enum { ACCOUNT, PER_DAY, PER_MINUTE, N };
	static const struct admin_opt opts[N] = {
		[ACCOUNT] = {"account", ADMIN_O_INT, true, 1, INT64_MAX, "an account id"},
		[PER_DAY] = {"requests-per-day", ADMIN_O_STR, false, 0, 0, NULL},
		[PER_MINUTE] = {"requests-per-minute", ADMIN_O_STR, false, 0, 0, NULL},
	};
	struct admin_val v[N];
	int64_t per_day, per_minute;
	enum civic_err err;
	int rc;

	if (!admin_parse_opts(a, argc, argv, opts, N, v, &rc))
		return rc;
	if (!parse_limit(a, opts[PER_DAY].name, &v[PER_DAY], &per_day) ||
	    !parse_limit(a, opts[PER_MINUTE].name, &v[PER_MINUTE], &per_minute))
		return ADMIN_EXIT_USAGE;
	if ((rc = admin_open(a)) != ADMIN_EXIT_OK)
		return rc;
	err = civic_account_set_limits(a->db, v[ACCOUNT].num, per_day, per_minute);
	if (err == CIVIC_E_NOT_FOUND) {
		admin_error(a, "account %lld not found", (long long)v[ACCOUNT].num);
		return ADMIN_EXIT_FAIL;
	}
	if (err != CIVIC_OK)
		return admin_fail(a, err, "setting the limits");
	return show_limits(a, v[ACCOUNT].num);
}
