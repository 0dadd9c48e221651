/* GET /v1/supported-countries/: ISO 3166-1 codes and names from
 * iso-codes, limited to the deployment's list; served from memory. */
#include "countries.h"
#include "paging.h"
#include "server.h"

static enum civic_err list_countries(struct civic_ctx *ctx)
{
	struct civic_paging pg;
	const struct civic_country *all;
	json_object *rows;
	size_t n;
	enum civic_err err;

	if ((err = civic_paging_parse(ctx, &pg)) != CIVIC_OK)
		return err;
	all = civic_countries_all(&n);
	rows = json_object_new_array();
	for (int64_t i = pg.offset; i < (int64_t)n && i < pg.offset + pg.size; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "code", json_object_new_string(all[i].code));
		json_object_object_add(o, "name", json_object_new_string(all[i].name));
		json_object_array_add(rows, o);
	}
	return civic_paging_reply(ctx, &pg, rows, (int64_t)n);
}

static const struct civic_route routes[] = {
	{"GET", "/v1/supported-countries/", CIVIC_AUTH_TOKEN, CIVIC_SCOPE_COUNTRIES_READ, NULL, 0,
	 list_countries},
};

int main(void)
{
	return civic_serve("civic-countries", routes, sizeof(routes) / sizeof(routes[0]));
}
