#include "quota.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "timeutil.h"

/* The check and charge of a metered request, in one round trip.
 * (A fast path of one multi-table UPDATE and one SELECT in front of its
 * nine statements saved 4 % of the database's CPU per request:
 * docs/performance.md.) */
static const char SQL_AUTHORIZE[] = "CALL civic_authorize(?, ?, ?, ?, ?)";
static const char SQL_ANON[] = "CALL civic_anon_authorize(?, ?)";

/* The key's state and the counters, without counting: the row of
 * civic_authorize(…, 0) in one plain statement (no row: revoked). */
static const char SQL_STATUS[] =
	"SELECT CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked'"
	" WHEN k.expires_at <= UTC_TIMESTAMP() THEN 'expired'"
	" WHEN (p.scopes & ?) <> ? THEN 'plan' ELSE 'ok' END,"
	" p.slug, p.name, p.scopes + 0, a.name,"
	" COALESCE(ac.requests_per_day_override, p.max_api_requests_per_app_per_day),"
	" COALESCE(d.requests, 0),"
	" COALESCE(ac.requests_per_minute_override, p.max_requests_per_key_per_minute),"
	" IF(m.window_start = UTC_TIMESTAMP() - INTERVAL SECOND(UTC_TIMESTAMP()) SECOND,"
	"    m.requests, 0)"
	" FROM api_keys k"
	" JOIN applications a ON a.id = k.application_id"
	" JOIN accounts ac ON ac.id = a.account_id"
	" JOIN plans p ON p.id = ac.plan_id"
	" LEFT JOIN app_usage_daily d ON d.application_id = a.id AND d.day = UTC_DATE()"
	" LEFT JOIN key_rate_minute m ON m.key_id = k.id"
	" WHERE k.id = ? AND a.id = ? AND ac.id = ?";

/* Seconds until the next UTC minute and hour: 1..60, 1..3600. */
static long long to_next(time_t now, long long window)
{
	return window - (long long)now % window;
}

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* One request's row, from SQL_STATUS or the procedure (same columns). */
static enum civic_err read_status(struct civic_rows *r, const struct civic_claims *c,
                                  time_t now, struct civic_usage *u, const char **why)
{
	const char *status = civic_rows_get(r, 0, 0);
	int64_t scopes;

	if (r->nrows == 0)
		status = "revoked";
	if (status == NULL)
		return CIVIC_E_INTERNAL;
	if (strcmp(status, "revoked") != 0) {
		u->known = true;
		copy(u->plan, sizeof(u->plan), civic_rows_get(r, 0, 1));
		copy(u->plan_name, sizeof(u->plan_name), civic_rows_get(r, 0, 2));
		u->app_id = c->app_id;
		copy(u->app_name, sizeof(u->app_name), civic_rows_get(r, 0, 4));
		if (!civic_rows_int(r, 0, 3, &scopes) || !civic_rows_int(r, 0, 5, &u->limit) ||
		    !civic_rows_int(r, 0, 6, &u->used) || !civic_rows_int(r, 0, 7, &u->minute_limit) ||
		    !civic_rows_int(r, 0, 8, &u->minute_used))
			return CIVIC_E_INTERNAL;
		u->plan_scopes = (civic_scopes)scopes;
		u->reset = civic_time_next_midnight(now);
	}
	if (strcmp(status, "ok") == 0)
		return CIVIC_OK;
	if (strcmp(status, "revoked") == 0) {
		*why = "The API key behind this token has been revoked.";
		return CIVIC_E_INVALID_TOKEN;
	}
	if (strcmp(status, "expired") == 0) {
		*why = "The API key behind this token has expired.";
		return CIVIC_E_INVALID_TOKEN;
	}
	if (strcmp(status, "plan") == 0)
		return CIVIC_E_PLAN_REQUIRED;
	if (strcmp(status, "rate") == 0)
		return CIVIC_E_RATE_LIMITED;
	if (strcmp(status, "quota") == 0)
		return CIVIC_E_QUOTA_EXCEEDED;
	return CIVIC_E_INTERNAL;
}

enum civic_err civic_quota_authorize(struct civic_db *db, const struct civic_claims *c,
                                     civic_scopes scope, bool charge, time_t now,
                                     struct civic_usage *u, const char **why)
{
	struct civic_param status_p[] = {CIVIC_PINT(scope), CIVIC_PINT(scope),
	                                 CIVIC_PINT(c->key_id), CIVIC_PINT(c->app_id),
	                                 CIVIC_PINT(c->account_id)};
	struct civic_param charge_p[] = {CIVIC_PINT(c->key_id), CIVIC_PINT(c->app_id),
	                                 CIVIC_PINT(c->account_id), CIVIC_PINT(scope),
	                                 CIVIC_PINT(1)};
	struct civic_rows *r;
	enum civic_err err;

	memset(u, 0, sizeof(*u));
	*why = NULL;
	if (charge)
		err = civic_db_exec(db, SQL_AUTHORIZE, charge_p, CIVIC_NELEM(charge_p), &r);
	else
		err = civic_db_exec(db, SQL_STATUS, status_p, CIVIC_NELEM(status_p), &r);
	if (err != CIVIC_OK)
		return err;
	err = read_status(r, c, now, u, why);
	civic_rows_free(r);
	return err;
}

bool civic_quota_headers(const struct civic_usage *u, time_t now, enum civic_err err,
                         struct civic_response *r)
{
	int64_t remaining = u->limit > u->used ? u->limit - u->used : 0;
	int64_t mremaining = u->minute_limit > u->minute_used ? u->minute_limit - u->minute_used : 0;
	long long reset_in = (long long)(u->reset - now), minute_in = to_next(now, 60);

	if (!u->known)
		return true;
	return civic_response_header(r, "X-Plan", "%s", u->plan) &&
	       civic_response_header(r, "X-RateLimit-Limit", "%lld", (long long)u->limit) &&
	       civic_response_header(r, "X-RateLimit-Used", "%lld", (long long)u->used) &&
	       civic_response_header(r, "X-RateLimit-Remaining", "%lld", (long long)remaining) &&
	       civic_response_header(r, "X-RateLimit-Reset", "%lld", (long long)u->reset) &&
	       civic_response_header(r, "RateLimit-Policy",
	                             "\"daily\";q=%lld;w=86400, \"minute\";q=%lld;w=60",
	                             (long long)u->limit, (long long)u->minute_limit) &&
	       civic_response_header(r, "RateLimit", "\"daily\";r=%lld;t=%lld, \"minute\";r=%lld;t=%lld",
	                             (long long)remaining, reset_in, (long long)mremaining,
	                             minute_in) &&
	       (err != CIVIC_E_QUOTA_EXCEEDED ||
	        civic_response_header(r, "Retry-After", "%lld", reset_in)) &&
	       (err != CIVIC_E_RATE_LIMITED ||
	        civic_response_header(r, "Retry-After", "%lld", minute_in));
}

void civic_client_key(const char *ip, char out[CIVIC_CLIENT_KEY_MAX])
{
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN];
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (inet_pton(AF_INET, ip, a) == 1 && inet_ntop(AF_INET, a, text, sizeof(text))) {
		snprintf(out, CIVIC_CLIENT_KEY_MAX, "%s", text);
		return;
	}
	if (inet_pton(AF_INET6, ip, a) != 1) {
		snprintf(out, CIVIC_CLIENT_KEY_MAX, "unknown");
		return;
	}
	if (memcmp(a, mapped, sizeof(mapped)) == 0 && inet_ntop(AF_INET, a + 12, text, sizeof(text))) {
		snprintf(out, CIVIC_CLIENT_KEY_MAX, "%s", text);
		return;
	}
	memset(a + 8, 0, 8);
	if (inet_ntop(AF_INET6, a, text, sizeof(text)) == NULL)
		snprintf(out, CIVIC_CLIENT_KEY_MAX, "unknown");
	else
		snprintf(out, CIVIC_CLIENT_KEY_MAX, "%s/64", text);
}

enum civic_err civic_quota_anonymous(struct civic_db *db, const char *client, int64_t limit,
                                     struct civic_anon *a)
{
	struct civic_param p[] = {CIVIC_PSTR(client), CIVIC_PINT(limit)};
	struct civic_rows *r;
	const char *status;
	enum civic_err err;

	memset(a, 0, sizeof(*a));
	if ((err = civic_db_exec(db, SQL_ANON, p, 2, &r)) != CIVIC_OK)
		return err;
	status = civic_rows_get(r, 0, 0);
	if (status == NULL || !civic_rows_int(r, 0, 1, &a->used)) {
		civic_rows_free(r);
		return CIVIC_E_INTERNAL;
	}
	a->known = true;
	a->limit = limit;
	err = strcmp(status, "ok") == 0 ? CIVIC_OK : CIVIC_E_RATE_LIMITED;
	civic_rows_free(r);
	return err;
}

bool civic_quota_anon_headers(const struct civic_anon *a, time_t now, bool refused,
                              struct civic_response *r)
{
	long long hour_in = to_next(now, 3600);

	if (!a->known)
		return true;
	return civic_response_header(r, "RateLimit-Policy", "\"anonymous\";q=%lld;w=3600",
	                             (long long)a->limit) &&
	       civic_response_header(r, "RateLimit", "\"anonymous\";r=%lld;t=%lld",
	                             (long long)(a->limit > a->used ? a->limit - a->used : 0),
	                             hour_in) &&
	       (!refused || civic_response_header(r, "Retry-After", "%lld", hour_in));
}

json_object *civic_quota_meta(const struct civic_usage *u)
{
	json_object *usage = json_object_new_object(), *meta = json_object_new_object();
	char resets[32];

	civic_time_rfc3339(u->reset, resets, sizeof(resets));
	json_object_object_add(usage, "plan", json_object_new_string(u->plan));
	json_object_object_add(usage, "plan_name", json_object_new_string(u->plan_name));
	json_object_object_add(usage, "application_id", json_object_new_int64(u->app_id));
	json_object_object_add(usage, "application_name", json_object_new_string(u->app_name));
	json_object_object_add(usage, "limit_per_day", json_object_new_int64(u->limit));
	json_object_object_add(usage, "used_today", json_object_new_int64(u->used));
	json_object_object_add(usage, "remaining_today",
	                       json_object_new_int64(u->limit > u->used ? u->limit - u->used : 0));
	json_object_object_add(usage, "resets_at", json_object_new_string(resets));
	json_object_object_add(meta, "usage", usage);
	return meta;
}
