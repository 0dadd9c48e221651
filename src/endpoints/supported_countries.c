/* GET /v1/supported-countries/: ISO 3166-1 codes and names from
 * iso-codes, limited to the deployment's list; served from memory. */
#include "countries.h"
#include "paging.h"
#include "server.h"

static enum civic_err list_countries(struct civic_ctx *ctx)
{
	const struct civic_paging *pg = &ctx->paging;
	const struct civic_country *all;
	json_object *rows;
	size_t n;

	all = civic_countries_all(&n);
	rows = json_object_new_array();
	for (int64_t i = pg->offset; i < (int64_t)n && i < pg->offset + pg->size; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "code", json_object_new_string(all[i].code));
		json_object_object_add(o, "name", json_object_new_string(all[i].name));
		json_object_array_add(rows, o);
	}
	return civic_paging_reply(ctx, pg, rows, (int64_t)n);
}

static const struct civic_route routes[] = {
	{.method = "GET", .pattern = "/v1/supported-countries/", .auth = CIVIC_AUTH_TOKEN,
	 .scope = CIVIC_SCOPE_COUNTRIES_READ, .handler = list_countries, .paged = true},
};

int main(void)
{
	return civic_serve("civic-countries", routes, CIVIC_NELEM(routes));
}
