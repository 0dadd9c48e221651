/* List paging (SPEC §5): page >= 1, page_size 1..100 (default 20);
 * invalid values are a 400 VALIDATION_ERROR, never a silent clamp.
 * Lists answer with top-level total and next (absolute URL or null). */
#ifndef CIVIC_PAGING_H
#define CIVIC_PAGING_H

#include <stdint.h>

#include "server.h"

#define CIVIC_PAGE_SIZE_DEFAULT 20
#define CIVIC_PAGE_SIZE_MAX 100

/* Reads page/page_size from the query; CIVIC_E_VALIDATION with
 * ctx->errfields set when either is invalid. The loop calls it for
 * routes marked paged; handlers read ctx->paging. */
enum civic_err civic_paging_parse(struct civic_ctx *ctx, struct civic_paging *pg);

/* Makes rows (an array, ownership taken) the list answer: ctx->data,
 * ctx->total and ctx->next (the same URL with page + 1, when there is
 * a next page). */
enum civic_err civic_paging_reply(struct civic_ctx *ctx, const struct civic_paging *pg,
                                  json_object *rows, int64_t total);

/* Cell (row, col) as JSON: a string, or an integer (checked parse);
 * NULL, which json-c writes as null, for SQL NULL. */
json_object *civic_cell_str(const struct civic_rows *r, size_t row, size_t col);
json_object *civic_cell_int(const struct civic_rows *r, size_t row, size_t col);

/* One list item from row i of a page; NULL when the row is unusable
 * (the list then answers 500). */
typedef json_object *civic_row_json(const struct civic_rows *r, size_t i);

/* The usual list handler body: count_sql with filters[0..nfilters) gives
 * total; list_sql with the same parameters followed by LIMIT ? OFFSET ?
 * (appended here from ctx->paging) gives the page, each row turned into
 * an item by row; then civic_paging_reply. nfilters <= 14. */
enum civic_err civic_paging_list(struct civic_ctx *ctx, const char *count_sql,
                                 const char *list_sql, const struct civic_param *filters,
                                 size_t nfilters, civic_row_json *row);

#endif
