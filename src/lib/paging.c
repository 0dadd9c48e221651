#include "paging.h"

#include <stdio.h>
#include <string.h>

#include "num.h"

/* False when the parameter is present but not an integer in [min, max];
 * *out keeps its default when the parameter is absent. */
static bool one_param(struct civic_ctx *ctx, const char *name, int64_t min, int64_t max,
                      int64_t *out)
{
	char v[24];
	int rc = civic_request_query(ctx->req, name, v, sizeof(v));

	return rc == 0 || (rc > 0 && civic_num_parse_str(v, min, max, out));
}

enum civic_err civic_paging_parse(struct civic_ctx *ctx, struct civic_paging *pg)
{
	json_object *errs = json_object_new_object();

	pg->page = 1;
	pg->size = CIVIC_PAGE_SIZE_DEFAULT;
	if (!one_param(ctx, "page", 1, 1000000, &pg->page))
		json_object_object_add(errs, "page",
		                       json_object_new_string("must be an integer from 1 to 1000000"));
	if (!one_param(ctx, "page_size", 1, CIVIC_PAGE_SIZE_MAX, &pg->size))
		json_object_object_add(errs, "page_size",
		                       json_object_new_string("must be an integer from 1 to 100"));
	if (json_object_object_length(errs) > 0) {
		ctx->errfields = errs;
		return CIVIC_E_VALIDATION;
	}
	json_object_put(errs);
	pg->offset = (pg->page - 1) * pg->size;
	return CIVIC_OK;
}

/* The current URL with page replaced by page + 1 (other params kept). */
static bool next_url(struct civic_ctx *ctx, const struct civic_paging *pg)
{
	const char *q = ctx->req->query;
	size_t cap = sizeof(ctx->next);
	int n = snprintf(ctx->next, cap, "%s%s?", ctx->cfg->base_url, ctx->req->path);

	while (n > 0 && (size_t)n < cap && *q) {
		size_t seg = strcspn(q, "&");
		if (seg > 0 && !(strncmp(q, "page=", 5) == 0 || (seg == 4 && strncmp(q, "page", 4) == 0)))
			n += snprintf(ctx->next + n, cap - (size_t)n, "%.*s&", (int)seg, q);
		q += seg;
		if (*q == '&')
			q++;
	}
	if (n > 0 && (size_t)n < cap)
		n += snprintf(ctx->next + n, cap - (size_t)n, "page=%lld", (long long)pg->page + 1);
	if (n < 0 || (size_t)n >= cap) {
		ctx->next[0] = '\0';
		return false;
	}
	return true;
}

enum civic_err civic_paging_reply(struct civic_ctx *ctx, const struct civic_paging *pg,
                                  json_object *rows, int64_t total)
{
	ctx->data = rows;
	ctx->total = total;
	ctx->next[0] = '\0';
	if (pg->offset + pg->size < total && !next_url(ctx, pg))
		return CIVIC_E_INTERNAL;
	return CIVIC_OK;
}

json_object *civic_cell_str(const struct civic_rows *r, size_t row, size_t col)
{
	const char *s = civic_rows_get(r, row, col);
	return s ? json_object_new_string(s) : NULL;
}

json_object *civic_cell_int(const struct civic_rows *r, size_t row, size_t col)
{
	int64_t v;
	return civic_rows_int(r, row, col, &v) ? json_object_new_int64(v) : NULL;
}

enum civic_err civic_paging_list(struct civic_ctx *ctx, const char *count_sql,
                                 const char *list_sql, const struct civic_param *filters,
                                 size_t nfilters, civic_row_json *row)
{
	struct civic_param p[16];
	struct civic_rows *n = NULL, *r = NULL;
	json_object *rows = NULL, *item;
	int64_t total;
	enum civic_err err;

	if (nfilters > CIVIC_NELEM(p) - 2)
		return CIVIC_E_INTERNAL;
	for (size_t i = 0; i < nfilters; i++)
		p[i] = filters[i];
	p[nfilters] = CIVIC_PINT(ctx->paging.size);
	p[nfilters + 1] = CIVIC_PINT(ctx->paging.offset);
	if ((err = civic_db_exec(ctx->db, count_sql, p, nfilters, &n)) != CIVIC_OK ||
	    (err = civic_db_exec(ctx->db, list_sql, p, nfilters + 2, &r)) != CIVIC_OK)
		goto out;
	err = CIVIC_E_INTERNAL;
	if (!civic_rows_int(n, 0, 0, &total))
		goto out;
	rows = json_object_new_array();
	for (size_t i = 0; i < r->nrows; i++) {
		if ((item = row(r, i)) == NULL)
			goto out;
		json_object_array_add(rows, item);
	}
	err = civic_paging_reply(ctx, &ctx->paging, rows, total);
	rows = NULL;
out:
	json_object_put(rows);
	civic_rows_free(n);
	civic_rows_free(r);
	return err;
}
