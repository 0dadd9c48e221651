/* GET /v1/profile/ and PATCH /v1/profile/{id}/: the caller's account. */
#include <string.h>

#include "paging.h"
#include "endpoints.h"
#include "server.h"

static const char SQL_PROFILE[] =
	"SELECT a.id, a.email, a.first_name, a.phone_number, a.country, p.slug,"
	" DATE_FORMAT(a.created_at, '%Y-%m-%dT%H:%i:%s+00:00'), a.coins"
	" FROM accounts a JOIN plans p ON p.id = a.plan_id WHERE a.id = ?";
/* Each column changes only when its field was sent (flag, value). */
static const char SQL_UPDATE_PROFILE[] =
	"UPDATE accounts SET first_name = IF(?, ?, first_name),"
	" phone_number = IF(?, ?, phone_number), country = IF(?, ?, country),"
	" updated_at = UTC_TIMESTAMP() WHERE id = ?";

enum { F_FIRST_NAME, F_PHONE, F_COUNTRY };

static const struct civic_field profile_fields[] = {
	[F_FIRST_NAME] = {"first_name", CIVIC_F_TEXT, CIVIC_F_NULLABLE, 1, 100},
	[F_PHONE] = {"phone_number", CIVIC_F_PHONE, CIVIC_F_NULLABLE, 0, 0},
	[F_COUNTRY] = {"country", CIVIC_F_COUNTRY, CIVIC_F_NULLABLE, 0, 0},
};

static enum civic_err load_profile(struct civic_ctx *ctx)
{
	struct civic_param p[] = {CIVIC_PINT(ctx->claims.account_id)};
	static const char *const names[] = {"email", "first_name", "phone_number", "country",
	                                    "plan", "created_at"};
	struct civic_rows *r;
	json_object *o;
	int64_t coins = 0;
	enum civic_err err;

	if ((err = civic_db_exec(ctx->db, SQL_PROFILE, p, 1, &r)) != CIVIC_OK)
		return err;
	if (r->nrows == 0) {
		civic_rows_free(r);
		return CIVIC_E_NOT_FOUND;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(ctx->claims.account_id));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		json_object_object_add(o, names[i], civic_cell_str(r, 0, i + 1));
	/* The balance billing renewals draw on (billing.h). */
	civic_rows_int(r, 0, 7, &coins);
	json_object_object_add(o, "coins", json_object_new_int64(coins));
	civic_rows_free(r);
	ctx->data = o;
	return CIVIC_OK;
}

static struct civic_param flag(const struct civic_value *v)
{
	return CIVIC_PINT(v->present ? 1 : 0);
}

static struct civic_param value(const struct civic_value *v)
{
	return v->present && !v->null ? CIVIC_PSTR(v->str) : CIVIC_PNULL;
}

static enum civic_err update_profile(struct civic_ctx *ctx)
{
	const struct civic_value *v = ctx->vals;
	enum civic_err err;

	/* Another account's id is indistinguishable from a missing one. */
	if (ctx->id != ctx->claims.account_id)
		return CIVIC_E_NOT_FOUND;
	if (!v[F_FIRST_NAME].present && !v[F_PHONE].present && !v[F_COUNTRY].present)
		return civic_fail(ctx, CIVIC_E_INVALID_REQUEST,
		                  "Send a JSON object with first_name, phone_number or country.");
	struct civic_param p[] = {
		flag(&v[F_FIRST_NAME]), value(&v[F_FIRST_NAME]), flag(&v[F_PHONE]),
		value(&v[F_PHONE]),     flag(&v[F_COUNTRY]),     value(&v[F_COUNTRY]),
		CIVIC_PINT(ctx->claims.account_id),
	};
	if ((err = civic_db_exec(ctx->db, SQL_UPDATE_PROFILE, p, 7, NULL)) != CIVIC_OK)
		return err;
	return load_profile(ctx);
}

static const struct civic_route routes[] = {
	{.method = "GET", .pattern = "/v1/profile/", .auth = CIVIC_AUTH_TOKEN,
	 .scope = CIVIC_SCOPE_PROFILE_READ, .handler = load_profile},
	{.method = "PATCH", .pattern = "/v1/profile/{id}/", .auth = CIVIC_AUTH_TOKEN,
	 .scope = CIVIC_SCOPE_PROFILE_WRITE, .fields = profile_fields,
	 .nfields = CIVIC_NELEM(profile_fields),
	 .handler = update_profile},
};

const struct civic_api civic_profile_api = {"civic-profile", routes, CIVIC_NELEM(routes)};

#ifndef CIVIC_ROUTES_ONLY
int main(void)
{
	return civic_serve(civic_profile_api.program, civic_profile_api.routes, civic_profile_api.nroutes);
}
#endif
