/* GET /v1/subscriptions/: the caller's billing subscriptions, newest
 * first, each with its payment events (newest first). */
#include "paging.h"
#include "endpoints.h"
#include "server.h"

#define RFC3339(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s+00:00')"

static const char SQL_COUNT[] = "SELECT COUNT(*) FROM billing_subscriptions WHERE account_id = ?";
/* The events of the whole page in the same query: one correlated
 * JSON_ARRAYAGG per row instead of one query per subscription. */
static const char SQL_PAGE[] =
	"SELECT s.id, p.slug, p.name, p.price_coins, s.status, " RFC3339("s.current_period_start")
	", " RFC3339("s.current_period_end") ", s.cancel_at_period_end, " RFC3339("s.created_at")
	", (SELECT JSON_ARRAYAGG(JSON_OBJECT('id', e.id, 'kind', e.kind, 'coins', e.coins,"
	"   'balance_after', e.balance_after, 'note', e.note,"
	"   'created_at', " RFC3339("e.created_at") ") ORDER BY e.created_at DESC, e.id DESC)"
	"   FROM payment_events e WHERE e.subscription_id = s.id AND e.account_id = s.account_id)"
	" FROM billing_subscriptions s JOIN plans p ON p.id = s.plan_id"
	" WHERE s.account_id = ? ORDER BY s.created_at DESC, s.id DESC LIMIT ? OFFSET ?";

enum { C_ID, C_SLUG, C_NAME, C_PRICE, C_STATUS, C_START, C_END, C_CANCEL, C_CREATED, C_EVENTS };

/* The events column: a JSON array from the database (NULL when none). */
static enum civic_err events_at(const struct civic_rows *r, size_t row, json_object **out)
{
	const char *s = civic_rows_get(r, row, C_EVENTS);

	if (s == NULL) {
		*out = json_object_new_array();
		return CIVIC_OK;
	}
	if (civic_input_parse_json(s, civic_rows_len(r, row, C_EVENTS), out) != CIVIC_OK ||
	    !json_object_is_type(*out, json_type_array)) {
		json_object_put(*out);
		*out = NULL;
		return CIVIC_E_INTERNAL;
	}
	return CIVIC_OK;
}

static json_object *subscription_json(const struct civic_rows *r, size_t i)
{
	json_object *o, *plan, *events;
	int64_t cancel = 0;

	if (events_at(r, i, &events) != CIVIC_OK)
		return NULL;
	plan = json_object_new_object();
	json_object_object_add(plan, "slug", civic_cell_str(r, i, C_SLUG));
	json_object_object_add(plan, "name", civic_cell_str(r, i, C_NAME));
	json_object_object_add(plan, "price_coins", civic_cell_int(r, i, C_PRICE));
	civic_rows_int(r, i, C_CANCEL, &cancel);
	o = json_object_new_object();
	json_object_object_add(o, "id", civic_cell_int(r, i, C_ID));
	json_object_object_add(o, "plan", plan);
	json_object_object_add(o, "status", civic_cell_str(r, i, C_STATUS));
	json_object_object_add(o, "current_period_start", civic_cell_str(r, i, C_START));
	json_object_object_add(o, "current_period_end", civic_cell_str(r, i, C_END));
	json_object_object_add(o, "cancel_at_period_end", json_object_new_boolean(cancel != 0));
	json_object_object_add(o, "created_at", civic_cell_str(r, i, C_CREATED));
	json_object_object_add(o, "payment_events", events);
	return o;
}

static enum civic_err list_subscriptions(struct civic_ctx *ctx)
{
	struct civic_param p[] = {CIVIC_PINT(ctx->claims.account_id)};

	return civic_paging_list(ctx, SQL_COUNT, SQL_PAGE, p, 1, subscription_json);
}

static const struct civic_route routes[] = {
	{.method = "GET", .pattern = "/v1/subscriptions/", .auth = CIVIC_AUTH_TOKEN,
	 .scope = CIVIC_SCOPE_BILLING_READ, .handler = list_subscriptions, .paged = true},
};

const struct civic_api civic_subscriptions_api = {"civic-subscriptions", routes, CIVIC_NELEM(routes)};

#ifndef CIVIC_ROUTES_ONLY
int main(void)
{
	return civic_serve(civic_subscriptions_api.program, civic_subscriptions_api.routes, civic_subscriptions_api.nroutes);
}
#endif
