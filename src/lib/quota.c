#include "quota.h"

#include <stdio.h>
#include <string.h>

#include "timeutil.h"

static const char SQL_AUTHORIZE[] = "CALL civic_authorize(?, ?, ?, ?, ?)";

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

enum civic_err civic_quota_authorize(struct civic_db *db, const struct civic_claims *c,
                                     civic_scopes scope, bool charge, time_t now,
                                     struct civic_usage *u, const char **why)
{
	struct civic_param p[] = {CIVIC_PINT(c->key_id), CIVIC_PINT(c->app_id),
	                          CIVIC_PINT(c->account_id), CIVIC_PINT(scope),
	                          CIVIC_PINT(charge ? 1 : 0)};
	struct civic_rows *r;
	enum civic_err err;
	const char *status;
	int64_t scopes;

	memset(u, 0, sizeof(*u));
	*why = NULL;
	if ((err = civic_db_exec(db, SQL_AUTHORIZE, p, 5, &r)) != CIVIC_OK)
		return err;
	status = civic_rows_get(r, 0, 0);
	if (status == NULL) {
		civic_rows_free(r);
		return CIVIC_E_INTERNAL;
	}
	if (strcmp(status, "revoked") != 0) {
		u->known = true;
		copy(u->plan, sizeof(u->plan), civic_rows_get(r, 0, 1));
		copy(u->plan_name, sizeof(u->plan_name), civic_rows_get(r, 0, 2));
		u->app_id = c->app_id;
		copy(u->app_name, sizeof(u->app_name), civic_rows_get(r, 0, 4));
		if (!civic_rows_int(r, 0, 3, &scopes) || !civic_rows_int(r, 0, 5, &u->limit) ||
		    !civic_rows_int(r, 0, 6, &u->used)) {
			civic_rows_free(r);
			return CIVIC_E_INTERNAL;
		}
		u->plan_scopes = (civic_scopes)scopes;
		u->reset = civic_time_next_midnight(now);
	}
	if (strcmp(status, "ok") == 0)
		err = CIVIC_OK;
	else if (strcmp(status, "revoked") == 0) {
		*why = "The API key behind this token has been revoked.";
		err = CIVIC_E_INVALID_TOKEN;
	} else if (strcmp(status, "expired") == 0) {
		*why = "The API key behind this token has expired.";
		err = CIVIC_E_INVALID_TOKEN;
	} else if (strcmp(status, "plan") == 0)
		err = CIVIC_E_PLAN_REQUIRED;
	else if (strcmp(status, "quota") == 0)
		err = CIVIC_E_QUOTA_EXCEEDED;
	else
		err = CIVIC_E_INTERNAL;
	civic_rows_free(r);
	return err;
}

bool civic_quota_headers(const struct civic_usage *u, time_t now, bool refused,
                         struct civic_response *r)
{
	int64_t remaining = u->limit > u->used ? u->limit - u->used : 0;
	long long reset_in = (long long)(u->reset - now);

	if (!u->known)
		return true;
	return civic_response_header(r, "X-Plan", "%s", u->plan) &&
	       civic_response_header(r, "X-RateLimit-Limit", "%lld", (long long)u->limit) &&
	       civic_response_header(r, "X-RateLimit-Used", "%lld", (long long)u->used) &&
	       civic_response_header(r, "X-RateLimit-Remaining", "%lld", (long long)remaining) &&
	       civic_response_header(r, "X-RateLimit-Reset", "%lld", (long long)u->reset) &&
	       civic_response_header(r, "RateLimit-Policy", "\"daily\";q=%lld;w=86400",
	                             (long long)u->limit) &&
	       civic_response_header(r, "RateLimit", "\"daily\";r=%lld;t=%lld", (long long)remaining,
	                             reset_in) &&
	       (!refused || civic_response_header(r, "Retry-After", "%lld", reset_in));
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
