/* The per-application daily quota and per-key per-minute limit (SPEC
 * §4) and the per-request key check, in one database round trip: CALL
 * civic_authorize() checks that the key behind a token is neither
 * revoked nor expired, that the account's current plan allows the
 * scope, and, when charging, counts the request with conditional
 * increments under the counters' row locks, so the counts are exact
 * under concurrency and a refused request costs nothing. Anonymous
 * requests to public endpoints are limited per client address and hour
 * the same way (CALL civic_anon_authorize()). A request that is not
 * counted (GET /v1/usage/) checks the key with one plain SELECT. */
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
	int64_t minute_limit;   /* requests per key per UTC minute */
	int64_t minute_used;    /* in this minute, including this request */
	civic_scopes plan_scopes;
};

/* An anonymous client's hourly window. */
struct civic_anon {
	bool known;
	int64_t limit, used;    /* per client address per UTC hour */
};

#define CIVIC_CLIENT_KEY_MAX 64

/* Authorizes (and, if charge, counts) one request of the token c for
 * scope. Errors: CIVIC_E_INVALID_TOKEN (key revoked, expired or gone;
 * *why says which), CIVIC_E_PLAN_REQUIRED, CIVIC_E_RATE_LIMITED (this
 * minute), CIVIC_E_QUOTA_EXCEEDED (today), and database errors. u is
 * filled whenever the key was found. */
enum civic_err civic_quota_authorize(struct civic_db *db, const struct civic_claims *c,
                                     civic_scopes scope, bool charge, time_t now,
                                     struct civic_usage *u, const char **why);

/* X-Plan, X-RateLimit-* (the daily quota), RateLimit-Policy and
 * RateLimit (the daily and minute policies); when err refused the
 * request for one of them, also Retry-After. */
bool civic_quota_headers(const struct civic_usage *u, time_t now, enum civic_err err,
                         struct civic_response *r);

/* The bucket an anonymous client is counted in: an IPv4 address (also
 * when written IPv4-mapped), or the /64 an IPv6 address belongs to (one
 * host usually owns a whole /64). "unknown" when ip is not an address. */
void civic_client_key(const char *ip, char out[CIVIC_CLIENT_KEY_MAX]);

/* Counts one anonymous request of client (a civic_client_key) against
 * limit per UTC hour: CIVIC_OK, CIVIC_E_RATE_LIMITED or a database
 * error; a is filled when the database answered. */
enum civic_err civic_quota_anonymous(struct civic_db *db, const char *client, int64_t limit,
                                     struct civic_anon *a);

/* RateLimit-Policy and RateLimit of the anonymous policy; Retry-After
 * when refused. */
bool civic_quota_anon_headers(const struct civic_anon *a, time_t now, bool refused,
                              struct civic_response *r);

/* {"usage":{plan, plan_name, application_id, ...}}; caller owns it. */
json_object *civic_quota_meta(const struct civic_usage *u);

#endif
