/* GET /v1/pricing-plans/: the public plans, anonymous allowed. */
#include "paging.h"
#include "endpoints.h"
#include "server.h"

static const char SQL_COUNT_PLANS[] = "SELECT COUNT(*) FROM plans WHERE is_public = 1";
static const char SQL_PLANS[] =
	"SELECT slug, name, price_coins, max_apps, max_api_requests_per_app_per_day,"
	" max_requests_per_key_per_minute, max_alerts_per_day, max_whatsapp_destinations,"
	" scopes + 0 FROM plans WHERE is_public = 1 ORDER BY sort_order, id LIMIT ? OFFSET ?";

static const char *const int_cols[] = {
	"price_coins", "max_apps", "max_api_requests_per_app_per_day",
	"max_requests_per_key_per_minute", "max_alerts_per_day", "max_whatsapp_destinations",
};

static json_object *plan_json(const struct civic_rows *r, size_t i)
{
	json_object *o = json_object_new_object();
	int64_t v, bits = 0;

	json_object_object_add(o, "slug", json_object_new_string(civic_rows_get(r, i, 0)));
	json_object_object_add(o, "name", json_object_new_string(civic_rows_get(r, i, 1)));
	for (size_t c = 0; c < sizeof(int_cols) / sizeof(int_cols[0]); c++)
		if (civic_rows_int(r, i, 2 + c, &v))
			json_object_object_add(o, int_cols[c], json_object_new_int64(v));
	civic_rows_int(r, i, 8, &bits);
	json_object_object_add(o, "scopes", civic_scopes_json((civic_scopes)bits));
	return o;
}

static enum civic_err list_plans(struct civic_ctx *ctx)
{
	return civic_paging_list(ctx, SQL_COUNT_PLANS, SQL_PLANS, NULL, 0, plan_json);
}

static const struct civic_route routes[] = {
	{.method = "GET", .pattern = "/v1/pricing-plans/", .auth = CIVIC_AUTH_PUBLIC,
	 .handler = list_plans, .paged = true},
};

const struct civic_api civic_pricing_plans_api = {"civic-pricing-plans", routes, CIVIC_NELEM(routes)};

#ifndef CIVIC_ROUTES_ONLY
int main(void)
{
	return civic_serve(civic_pricing_plans_api.program, civic_pricing_plans_api.routes, civic_pricing_plans_api.nroutes);
}
#endif
