/* GET /v1/usage/: plan, limits and today's usage per application. Never
 * counted against the quota, and answers while the quota is exhausted. */
#include "paging.h"
#include "endpoints.h"
#include "server.h"
#include "timeutil.h"

/* One row per application (one with a NULL application when there is
 * none), each starting with the account's plan, limits and alerts. */
#define APP_COL 9
static const char SQL_USAGE[] =
	"SELECT p.slug, p.name, p.price_coins, p.max_apps,"
	" COALESCE(ac.requests_per_day_override, p.max_api_requests_per_app_per_day),"
	" COALESCE(ac.requests_per_minute_override, p.max_requests_per_key_per_minute),"
	" p.max_alerts_per_day, p.max_whatsapp_destinations,"
	" (SELECT COALESCE(MAX(d.alerts), 0) FROM account_alerts_daily d"
	"   WHERE d.account_id = ac.id AND d.day = UTC_DATE()),"
	" a.id, a.name, COALESCE(u.requests, 0)"
	" FROM accounts ac JOIN plans p ON p.id = ac.plan_id"
	" LEFT JOIN applications a ON a.account_id = ac.id"
	" LEFT JOIN app_usage_daily u ON u.application_id = a.id AND u.day = UTC_DATE()"
	" WHERE ac.id = ? ORDER BY a.id";

static const char *const limit_names[] = {
	"max_apps", "max_api_requests_per_app_per_day", "max_requests_per_key_per_minute",
	"max_alerts_per_day", "max_whatsapp_destinations",
};

static json_object *usage_json(struct civic_ctx *ctx, const struct civic_rows *acct)
{
	json_object *d = json_object_new_object(), *plan = json_object_new_object(),
	            *limits = json_object_new_object(), *today = json_object_new_object(),
	            *list = json_object_new_array();
	int64_t limit = 0, used;
	char resets[32];

	json_object_object_add(plan, "slug", json_object_new_string(civic_rows_get(acct, 0, 0)));
	json_object_object_add(plan, "name", json_object_new_string(civic_rows_get(acct, 0, 1)));
	json_object_object_add(plan, "price_coins", civic_cell_int(acct, 0, 2));
	for (size_t i = 0; i < 5; i++)
		json_object_object_add(limits, limit_names[i], civic_cell_int(acct, 0, 3 + i));
	civic_rows_int(acct, 0, 4, &limit);
	civic_time_rfc3339(civic_time_next_midnight(ctx->now), resets, sizeof(resets));
	json_object_object_add(today, "alerts_used", civic_cell_int(acct, 0, 8));
	json_object_object_add(today, "resets_at", json_object_new_string(resets));
	for (size_t i = 0; i < acct->nrows; i++) {
		json_object *a;
		if (civic_rows_get(acct, i, APP_COL) == NULL)
			continue;
		a = json_object_new_object();
		used = 0;
		civic_rows_int(acct, i, APP_COL + 2, &used);
		json_object_object_add(a, "id", civic_cell_int(acct, i, APP_COL));
		json_object_object_add(a, "name",
		                       json_object_new_string(civic_rows_get(acct, i, APP_COL + 1)));
		json_object_object_add(a, "used_today", json_object_new_int64(used));
		json_object_object_add(a, "remaining_today",
		                       json_object_new_int64(limit > used ? limit - used : 0));
		json_object_array_add(list, a);
	}
	json_object_object_add(d, "plan", plan);
	json_object_object_add(d, "limits", limits);
	json_object_object_add(d, "today", today);
	json_object_object_add(d, "applications", list);
	return d;
}

static enum civic_err get_usage(struct civic_ctx *ctx)
{
	struct civic_param p[] = {CIVIC_PINT(ctx->claims.account_id)};
	struct civic_rows *acct;
	enum civic_err err;

	if ((err = civic_db_exec(ctx->db, SQL_USAGE, p, 1, &acct)) != CIVIC_OK)
		return err;
	if (acct->nrows == 0)
		err = CIVIC_E_NOT_FOUND;
	else
		ctx->data = usage_json(ctx, acct);
	civic_rows_free(acct);
	return err;
}

static const struct civic_route routes[] = {
	{.method = "GET", .pattern = "/v1/usage/", .auth = CIVIC_AUTH_UNMETERED,
	 .handler = get_usage},
};

const struct civic_api civic_usage_api = {"civic-usage", routes, CIVIC_NELEM(routes)};

#ifndef CIVIC_ROUTES_ONLY
int main(void)
{
	return civic_serve(civic_usage_api.program, civic_usage_api.routes, civic_usage_api.nroutes);
}
#endif
