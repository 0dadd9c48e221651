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

#endif
