/* The per-application daily quota (SPEC §4) and the per-request key
 * check, in one database round trip: CALL civic_authorize() checks that
 * the key behind a token is neither revoked nor expired, that the
 * account's current plan allows the scope, and, when charging, counts
 * the request with a conditional increment under the row lock, so the
 * count is exact under concurrency and a refused request costs nothing. */
#ifndef CIVIC_QUOTA_H
#define CIVIC_QUOTA_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "db.h"
#include "err.h"
#include "response.h"
#include "scopes.h"
#include "tokens.h"

struct civic_usage {
	bool known;             /* the fields below are filled */
	char plan[33];
	char plan_name[65];
	int64_t app_id;
	char app_name[129];
	int64_t limit;          /* requests per application per UTC day */
	int64_t used;           /* including this request when charged */
	time_t reset;           /* next 00:00 UTC */
	civic_scopes plan_scopes;
};

/* Authorizes (and, if charge, counts) one request of the token c for
 * scope. Errors: CIVIC_E_INVALID_TOKEN (key revoked, expired or gone;
 * *why says which), CIVIC_E_PLAN_REQUIRED, CIVIC_E_QUOTA_EXCEEDED, and
 * database errors. u is filled whenever the key was found. */
enum civic_err civic_quota_authorize(struct civic_db *db, const struct civic_claims *c,
                                     civic_scopes scope, bool charge, time_t now,
                                     struct civic_usage *u, const char **why);

/* X-Plan, X-RateLimit-*, RateLimit-Policy and RateLimit headers; on a
 * refused request also Retry-After. */
bool civic_quota_headers(const struct civic_usage *u, time_t now, bool refused,
                         struct civic_response *r);

/* {"usage":{plan, plan_name, application_id, ...}}; caller owns it. */
json_object *civic_quota_meta(const struct civic_usage *u);

#endif
