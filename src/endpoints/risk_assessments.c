/* GET /v1/risk-assessments/: the latest assessment per country (kept in
 * risk_latest by civic-admin risk import), filtered by country,
 * min_level and since, most severe first. */
#include <string.h>

#include "countries.h"
#include "num.h"
#include "paging.h"
#include "risk.h"
#include "server.h"
#include "timeutil.h"

/* An absent filter is NULL and matches every row. */
#define FILTERS                                                                                    \
	" WHERE l.country = COALESCE(?, l.country) AND l.level >= COALESCE(?, l.level)"           \
	" AND l.assessed_at >= COALESCE(?, l.assessed_at)"
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM risk_latest l" FILTERS;
static const char SQL_LIST[] =
	"SELECT l.country, a.level, a.score, a.summary, a.factors, a.source, a.assessed_at"
	" FROM risk_latest l JOIN risk_assessments a ON a.id = l.assessment_id" FILTERS
	" ORDER BY l.level DESC, l.country LIMIT ? OFFSET ?";

struct filters {
	char country[3];
	int64_t min_level;
	char since[20]; /* DATETIME text, UTC */
	struct civic_param p[3];
};

/* A filter's parser: true when value is valid (and stored into f). */
typedef bool filter_parse(const char *value, struct filters *f);

static bool parse_country(const char *v, struct filters *f)
{
	if (strlen(v) != 2)
		return false;
	for (int i = 0; i < 2; i++)
		f->country[i] = (char)(v[i] >= 'a' && v[i] <= 'z' ? v[i] - 'a' + 'A' : v[i]);
	f->country[2] = '\0';
	if (civic_countries_find(f->country) == NULL)
		return false;
	f->p[0] = CIVIC_PSTR(f->country);
	return true;
}

static bool parse_min_level(const char *v, struct filters *f)
{
	if (!civic_num_parse_str(v, CIVIC_RISK_LEVEL_MIN, CIVIC_RISK_LEVEL_MAX, &f->min_level))
		return false;
	f->p[1] = CIVIC_PINT(f->min_level);
	return true;
}

static bool parse_since(const char *v, struct filters *f)
{
	time_t t;

	if (!civic_time_parse_rfc3339(v, &t))
		return false;
	civic_time_datetime(t, f->since, sizeof(f->since));
	f->p[2] = CIVIC_PSTR(f->since);
	return true;
}

static const struct filter {
	const char *name;
	filter_parse *parse;
	const char *why;
} filter_table[] = {
	{"country", parse_country, "must be a supported ISO 3166-1 alpha-2 code"},
	{"min_level", parse_min_level, "must be an integer from 1 to 5"},
	{"since", parse_since, "must be an RFC 3339 time, e.g. 2026-05-17T00:00:00Z"},
};

static enum civic_err read_filters(struct civic_ctx *ctx, struct filters *f)
{
	json_object *errs = json_object_new_object();
	char v[64];

	for (size_t i = 0; i < CIVIC_NELEM(f->p); i++)
		f->p[i] = CIVIC_PNULL;
	for (size_t i = 0; i < CIVIC_NELEM(filter_table); i++) {
		int rc = civic_request_query(ctx->req, filter_table[i].name, v, sizeof(v));
		if (rc < 0 || (rc > 0 && !filter_table[i].parse(v, f)))
			json_object_object_add(errs, filter_table[i].name,
			                       json_object_new_string(filter_table[i].why));
	}
	if (json_object_object_length(errs) > 0) {
		ctx->errfields = errs;
		return CIVIC_E_VALIDATION;
	}
	json_object_put(errs);
	return CIVIC_OK;
}

static json_object *assessment_json(const struct civic_rows *r, size_t i)
{
	const struct civic_country *c = civic_countries_find(civic_rows_get(r, i, 0));
	json_object *o = json_object_new_object(), *factors;
	int64_t level = 0, score = 0;
	const char *label;
	char at[26] = "";
	time_t t;

	civic_rows_int(r, i, 1, &level);
	label = civic_risk_level_label((int)level);
	civic_rows_int(r, i, 2, &score);
	if (civic_time_parse(civic_rows_get(r, i, 6), &t))
		civic_time_rfc3339(t, at, sizeof(at));
	factors = json_tokener_parse(civic_rows_get(r, i, 4));
	if (!json_object_is_type(factors, json_type_array)) {
		json_object_put(factors);
		factors = json_object_new_array();
	}
	json_object_object_add(o, "country", json_object_new_string(civic_rows_get(r, i, 0)));
	json_object_object_add(o, "country_name", c ? json_object_new_string(c->name) : NULL);
	json_object_object_add(o, "level", json_object_new_int64(level));
	/* The table's CHECK keeps level in 1..5, so there is always a label. */
	json_object_object_add(o, "level_label",
	                       label ? json_object_new_string(label) : NULL);
	json_object_object_add(o, "score", json_object_new_int64(score));
	json_object_object_add(o, "summary", json_object_new_string_len(civic_rows_get(r, i, 3),
	                                                                (int)civic_rows_len(r, i, 3)));
	json_object_object_add(o, "factors", factors);
	json_object_object_add(o, "source", json_object_new_string_len(civic_rows_get(r, i, 5),
	                                                               (int)civic_rows_len(r, i, 5)));
	json_object_object_add(o, "assessed_at", json_object_new_string(at));
	return o;
}

static enum civic_err list_assessments(struct civic_ctx *ctx)
{
	struct filters f;
	enum civic_err err;

	if ((err = read_filters(ctx, &f)) != CIVIC_OK)
		return err;
	return civic_paging_list(ctx, SQL_COUNT, SQL_LIST, f.p, 3, assessment_json);
}

static const struct civic_route routes[] = {
	{.method = "GET", .pattern = "/v1/risk-assessments/", .auth = CIVIC_AUTH_TOKEN,
	 .scope = CIVIC_SCOPE_RISK_ASSESSMENTS_READ, .handler = list_assessments, .paged = true},
};

int main(void)
{
	return civic_serve("civic-risk-assessments", routes, CIVIC_NELEM(routes));
}
