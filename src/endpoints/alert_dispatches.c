/* GET /v1/alert-dispatches/: the caller's delivery history, newest
 * first, each row with its destination, its alert and its last attempts. */
#include <string.h>

#include "num.h"
#include "paging.h"
#include "endpoints.h"
#include "server.h"
#include "timeutil.h"

#define RFC3339(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s+00:00')"

/* A NULL filter matches everything. */
#define FILTERED                                                                             \
	" WHERE x.account_id = ? AND (? IS NULL OR x.status = ?)"                               \
	" AND (? IS NULL OR x.destination_id = ?) AND (? IS NULL OR x.created_at >= ?)"
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM alert_dispatches x" FILTERED;
/* One query for the page: each row's history (its last 10 attempts,
 * newest first) is aggregated by a correlated subquery; MariaDB's
 * JSON_ARRAYAGG takes ORDER BY and LIMIT. */
static const char SQL_PAGE[] =
	"SELECT x.id, x.status, x.attempts, " RFC3339("x.created_at") ", "
	RFC3339("x.next_attempt_at") ", " RFC3339("x.delivered_at") ","
	" d.id, d.label, d.channel,"
	" a.id, a.stream, r.country, a.level, a.previous_level, " RFC3339("a.created_at") ","
	" (SELECT JSON_ARRAYAGG(JSON_OBJECT('attempted_at', " RFC3339("t.attempted_at") ","
	"   'outcome', t.outcome, 'response_code', t.response_code,"
	"   'duration_ms', t.duration_ms, 'error', t.error)"
	"   ORDER BY t.attempted_at DESC, t.id DESC LIMIT 10)"
	"  FROM dispatch_attempts t WHERE t.dispatch_id = x.id)"
	" FROM alert_dispatches x"
	" JOIN alert_destinations d ON d.id = x.destination_id"
	" JOIN alerts a ON a.id = x.alert_id"
	" JOIN risk_assessments r ON r.id = a.assessment_id" FILTERED
	" ORDER BY x.created_at DESC, x.id DESC LIMIT ? OFFSET ?";

/* SQL_PAGE's columns in order: the object each goes to, its name and
 * whether it is an integer; the history comes last. */
enum part { ROW, DESTINATION, ALERT, NPARTS };
static const struct column {
	enum part part;
	const char *name;
	bool integer;
} columns[] = {
	{ROW, "id", true},            {ROW, "status", false},
	{ROW, "attempts", true},      {ROW, "created_at", false},
	{ROW, "next_attempt_at", false}, {ROW, "delivered_at", false},
	{DESTINATION, "id", true},    {DESTINATION, "label", false},
	{DESTINATION, "channel", false},
	{ALERT, "id", true},          {ALERT, "stream", false},
	{ALERT, "country", false},    {ALERT, "level", true},
	{ALERT, "previous_level", true}, {ALERT, "created_at", false},
};
#define C_HISTORY CIVIC_NELEM(columns)

static const char *const statuses[] = {"pending", "retrying", "delivered", "failed",
                                       "skipped_quota"};

struct filter {
	struct civic_param status, destination_id, since; /* NULL when absent */
	char status_buf[16];
	char since_buf[20]; /* "YYYY-MM-DD HH:MM:SS", as DATETIME compares */
};

static bool known_status(const char *s)
{
	for (size_t i = 0; i < CIVIC_NELEM(statuses); i++)
		if (strcmp(s, statuses[i]) == 0)
			return true;
	return false;
}

static void add_error(json_object *errs, const char *field, const char *why)
{
	json_object_object_add(errs, field, json_object_new_string(why));
}

/* Reads the three filters; every bad one goes into the error map. */
static enum civic_err read_filter(struct civic_ctx *ctx, struct filter *f)
{
	json_object *errs = json_object_new_object();
	char v[64];
	int64_t id;
	time_t since;
	int rc;

	f->status = f->destination_id = f->since = CIVIC_PNULL;
	rc = civic_request_query(ctx->req, "status", f->status_buf, sizeof(f->status_buf));
	if (rc < 0 || (rc > 0 && !known_status(f->status_buf)))
		add_error(errs, "status",
		          "must be one of pending, retrying, delivered, failed, skipped_quota");
	else if (rc > 0)
		f->status = CIVIC_PSTR(f->status_buf);
	rc = civic_request_query(ctx->req, "destination_id", v, sizeof(v));
	if (rc < 0 || (rc > 0 && !civic_num_parse_str(v, 1, INT64_MAX, &id)))
		add_error(errs, "destination_id", "must be a positive integer");
	else if (rc > 0)
		f->destination_id = CIVIC_PINT(id);
	rc = civic_request_query(ctx->req, "since", v, sizeof(v));
	if (rc < 0 || (rc > 0 && !civic_time_parse(v, &since)))
		add_error(errs, "since", "must be an RFC 3339 UTC time such as 2026-05-17T00:00:00Z");
	else if (rc > 0) {
		civic_time_datetime(since, f->since_buf, sizeof(f->since_buf));
		f->since = CIVIC_PSTR(f->since_buf);
	}
	if (json_object_object_length(errs) == 0) {
		json_object_put(errs);
		return CIVIC_OK;
	}
	ctx->errfields = errs;
	return CIVIC_E_VALIDATION;
}

/* The attempts array the database built; [] when there were none. */
static bool add_history(json_object *o, const struct civic_rows *r, size_t i)
{
	const char *s = civic_rows_get(r, i, C_HISTORY);
	json_object *h = s ? json_tokener_parse(s) : json_object_new_array();

	if (h == NULL || !json_object_is_type(h, json_type_array)) {
		json_object_put(h);
		return false;
	}
	json_object_object_add(o, "history", h);
	return true;
}

/* One row as JSON, or NULL when the database's history is not JSON. */
static json_object *dispatch_json(const struct civic_rows *r, size_t i)
{
	json_object *part[NPARTS];

	for (size_t p = 0; p < NPARTS; p++)
		part[p] = json_object_new_object();
	for (size_t c = 0; c < CIVIC_NELEM(columns); c++)
		json_object_object_add(part[columns[c].part], columns[c].name,
		                       (columns[c].integer ? civic_cell_int : civic_cell_str)(r, i, c));
	json_object_object_add(part[ROW], "destination", part[DESTINATION]);
	json_object_object_add(part[ROW], "alert", part[ALERT]);
	if (!add_history(part[ROW], r, i)) {
		json_object_put(part[ROW]);
		return NULL;
	}
	return part[ROW];
}

static enum civic_err list_dispatches(struct civic_ctx *ctx)
{
	struct filter f;
	enum civic_err err;

	if ((err = read_filter(ctx, &f)) != CIVIC_OK)
		return err;
	struct civic_param p[] = {
		CIVIC_PINT(ctx->claims.account_id), f.status, f.status, f.destination_id,
		f.destination_id, f.since, f.since,
	};
	return civic_paging_list(ctx, SQL_COUNT, SQL_PAGE, p, CIVIC_NELEM(p), dispatch_json);
}

static const struct civic_route routes[] = {
	{.method = "GET", .pattern = "/v1/alert-dispatches/", .auth = CIVIC_AUTH_TOKEN,
	 .scope = CIVIC_SCOPE_DISPATCHES_READ, .handler = list_dispatches, .paged = true},
};

const struct civic_api civic_alert_dispatches_api = {"civic-alert-dispatches", routes, CIVIC_NELEM(routes)};

#ifndef CIVIC_ROUTES_ONLY
int main(void)
{
	return civic_serve(civic_alert_dispatches_api.program, civic_alert_dispatches_api.routes, civic_alert_dispatches_api.nroutes);
}
#endif
