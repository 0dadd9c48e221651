/* civic-admin plan list | set */
#include <stdio.h>

#include "accounts.h"
#include "admin.h"
#include "billing.h"
#include "buf.h"
#include "scopes.h"

/* Every plan, hidden ones too: the admin sees what accounts can be on. */
static const char SQL_PLANS[] =
	"SELECT id, slug, name, price_coins, max_apps, max_api_requests_per_app_per_day,"
	" max_requests_per_key_per_minute, max_alerts_per_day, max_whatsapp_destinations,"
	" scopes + 0, is_public FROM plans ORDER BY sort_order, id";

/* Integer columns 3..8 of SQL_PLANS, in order. */
static const char *const int_cols[] = {
	"price_coins",        "max_apps",           "max_api_requests_per_app_per_day",
	"max_requests_per_key_per_minute", "max_alerts_per_day", "max_whatsapp_destinations",
};
#define NINT (sizeof(int_cols) / sizeof(int_cols[0]))

static json_object *plan_json(const struct civic_rows *r, size_t i)
{
	json_object *o = json_object_new_object();
	int64_t v, bits = 0, pub = 0;

	if (civic_rows_int(r, i, 0, &v))
		json_object_object_add(o, "id", json_object_new_int64(v));
	json_object_object_add(o, "slug", json_object_new_string(civic_rows_get(r, i, 1)));
	json_object_object_add(o, "name", json_object_new_string(civic_rows_get(r, i, 2)));
	for (size_t c = 0; c < NINT; c++)
		if (civic_rows_int(r, i, 3 + c, &v))
			json_object_object_add(o, int_cols[c], json_object_new_int64(v));
	civic_rows_int(r, i, 9, &bits);
	admin_json_scopes(o, "scopes", (uint32_t)bits);
	civic_rows_int(r, i, 10, &pub);
	json_object_object_add(o, "is_public", json_object_new_boolean(pub != 0));
	return o;
}

static void plan_line(const struct civic_rows *r, size_t i)
{
	struct civic_buf scopes;
	int64_t n[NINT] = {0}, bits = 0, pub = 0;

	for (size_t c = 0; c < NINT; c++)
		civic_rows_int(r, i, 3 + c, &n[c]);
	civic_rows_int(r, i, 9, &bits);
	civic_rows_int(r, i, 10, &pub);
	civic_buf_init(&scopes, 1024);
	if ((civic_scopes)bits == CIVIC_SCOPE_ALL)
		civic_buf_adds(&scopes, "all");
	else
		civic_scopes_format((civic_scopes)bits, ",", &scopes);
	printf("%-10s %-12s %6lld %5lld %9lld %8lld %11lld %9lld  %s%s\n", civic_rows_get(r, i, 1),
	       civic_rows_get(r, i, 2), (long long)n[0], (long long)n[1], (long long)n[2],
	       (long long)n[3], (long long)n[4], (long long)n[5], civic_buf_str(&scopes),
	       pub ? "" : " (hidden)");
	civic_buf_free(&scopes);
}

int admin_plan_list(struct admin *a, int argc, char **argv)
{
	struct civic_rows *r;
	enum civic_err err;
	int rc;

	if (!admin_parse_opts(a, argc, argv, NULL, 0, NULL, &rc) ||
	    (rc = admin_open(a)) != ADMIN_EXIT_OK)
		return rc;
	if ((err = civic_db_exec(a->db, SQL_PLANS, NULL, 0, &r)) != CIVIC_OK)
		return admin_fail(a, err, "listing the plans");
	if (a->json) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();
		for (size_t i = 0; i < r->nrows; i++)
			json_object_array_add(arr, plan_json(r, i));
		json_object_object_add(o, "plans", arr);
		rc = admin_print_json(o);
	} else {
		printf("%-10s %-12s %6s %5s %9s %8s %11s %9s  %s\n", "slug", "name", "coins", "apps",
		       "req/day", "req/min", "alerts/day", "whatsapp", "scopes");
		for (size_t i = 0; i < r->nrows; i++)
			plan_line(r, i);
		rc = ADMIN_EXIT_OK;
	}
	civic_rows_free(r);
	return rc;
}

/* Explains a refused plan change; returns the exit code. */
static int set_plan_refused(struct admin *a, enum civic_err err, int64_t account, const char *slug,
                            const struct civic_billing_result *r)
{
	switch (r->why) {
	case CIVIC_BILLING_NO_ACCOUNT:
		admin_error(a, "account %lld not found", (long long)account);
		return ADMIN_EXIT_FAIL;
	case CIVIC_BILLING_NO_PLAN:
		admin_error(a, "unknown plan '%s'; see civic-admin plan list", slug);
		return ADMIN_EXIT_FAIL;
	case CIVIC_BILLING_SHORT:
		admin_error(a, "--charge: plan %s costs %lld coins, account %lld has %lld; nothing "
		               "changed (civic-admin coins credit, or leave out --charge to grant the "
		               "first period)",
		            r->plan, (long long)r->price, (long long)account, (long long)r->balance);
		return ADMIN_EXIT_FAIL;
	default:
		return admin_fail(a, err, "changing the plan");
	}
}

static json_object *id_or_null(int64_t id)
{
	return id ? json_object_new_int64(id) : NULL;
}

static int set_plan_report(struct admin *a, int64_t account, const struct civic_billing_result *r)
{
	char end[26];

	if (a->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "account_id", json_object_new_int64(account));
		json_object_object_add(o, "plan", json_object_new_string(r->plan));
		json_object_object_add(o, "subscription_id", id_or_null(r->subscription_id));
		json_object_object_add(o, "ended_subscription_id", id_or_null(r->ended_id));
		json_object_object_add(o, "charged", json_object_new_int64(r->charged));
		json_object_object_add(o, "coins", json_object_new_int64(r->balance));
		admin_json_time(o, "current_period_end", *r->period_end ? r->period_end : NULL);
		return admin_print_json(o);
	}
	printf("account %lld is now on plan %s\n", (long long)account, r->plan);
	if (r->ended_id)
		printf("subscription %lld ended\n", (long long)r->ended_id);
	if (r->subscription_id)
		printf("subscription %lld until %s: %s; balance %lld coins\n",
		       (long long)r->subscription_id, admin_time_text(r->period_end, end),
		       r->charged ? "first period charged" : "first period granted",
		       (long long)r->balance);
	return ADMIN_EXIT_OK;
}

int admin_plan_set(struct admin *a, int argc, char **argv)
{
	enum { ACCOUNT, PLAN, CHARGE, N };
	static const struct admin_opt opts[N] = {
		[ACCOUNT] = {"account", ADMIN_O_INT, true, 1, INT64_MAX, "an account id"},
		[PLAN] = {"plan", ADMIN_O_STR, true, 0, 0, NULL},
		[CHARGE] = {"charge", ADMIN_O_FLAG, false, 0, 0, NULL},
	};
	struct civic_billing_result r;
	struct admin_val v[N];
	int64_t max_apps, apps;
	enum civic_err err;
	int rc;

	if (!admin_parse_opts(a, argc, argv, opts, N, v, &rc) ||
	    (rc = admin_open(a)) != ADMIN_EXIT_OK)
		return rc;
	err = civic_billing_set_plan(a->db, v[ACCOUNT].num, v[PLAN].str, v[CHARGE].present, &r);
	if (err != CIVIC_OK)
		return set_plan_refused(a, err, v[ACCOUNT].num, v[PLAN].str, &r);
	/* A downgrade keeps the applications beyond the new cap: say so. */
	if (civic_account_app_usage(a->db, v[ACCOUNT].num, NULL, &max_apps, &apps) == CIVIC_OK &&
	    apps > max_apps)
		fprintf(stderr, "civic-admin: plan set: warning: account %lld has %lld application(s), "
		                "plan %s allows %lld; they are kept, new ones are refused\n",
		        (long long)v[ACCOUNT].num, (long long)apps, r.plan, (long long)max_apps);
	return set_plan_report(a, v[ACCOUNT].num, &r);
}
