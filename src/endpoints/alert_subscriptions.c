/* GET/POST /v1/alert-subscriptions/ and DELETE /v1/alert-subscriptions/{id}/:
 * which alert streams reach which of the caller's destinations. */
#include <string.h>

#include "countries.h"
#include "num.h"
#include "paging.h"
#include "endpoints.h"
#include "server.h"

/* Far more than any integrator needs (every country on two
 * destinations), small enough that one account cannot make the
 * dispatcher's fan-out expensive. */
#define MAX_LIVE_SUBSCRIPTIONS 500

#define STREAM_PREFIX "risk:"
#define STREAM_MAX 16 /* the column's width */
#define STREAM_FORM "must be risk:* or risk:<ISO 3166-1 alpha-2 code>"

#define RFC3339(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s+00:00')"
#define SUB_COLUMNS                                                                          \
	"SELECT s.id, s.destination_id, s.stream, s.min_level, " RFC3339("s.created_at") ", "    \
	RFC3339("s.cancelled_at") ", d.label, d.channel, d.status"                               \
	" FROM alert_subscriptions s JOIN alert_destinations d ON d.id = s.destination_id"
/* SUB_COLUMNS in order: the object each goes to, its name and whether
 * it is an integer. */
enum part { SUBSCRIPTION, DESTINATION, NPARTS };
static const struct column {
	enum part part;
	const char *name;
	bool integer;
} columns[] = {
	{SUBSCRIPTION, "id", true},          {SUBSCRIPTION, "destination_id", true},
	{SUBSCRIPTION, "stream", false},     {SUBSCRIPTION, "min_level", true},
	{SUBSCRIPTION, "created_at", false}, {SUBSCRIPTION, "cancelled_at", false},
	{DESTINATION, "label", false},       {DESTINATION, "channel", false},
	{DESTINATION, "status", false},
};
#define C_CANCELLED 5

static const char SQL_SUBSCRIPTION[] = SUB_COLUMNS " WHERE s.id = ? AND s.account_id = ?";
/* A NULL filter matches everything. */
#define LIVE_FILTERED                                                                        \
	" WHERE s.account_id = ? AND s.cancelled_at IS NULL"                                     \
	" AND (? IS NULL OR s.destination_id = ?) AND (? IS NULL OR s.stream = ?)"
static const char SQL_COUNT_LIVE[] =
	"SELECT COUNT(*) FROM alert_subscriptions s" LIVE_FILTERED;
static const char SQL_LIST_LIVE[] =
	SUB_COLUMNS LIVE_FILTERED " ORDER BY s.created_at DESC, s.id DESC LIMIT ? OFFSET ?";

/* Creations of one account queue on its row, so the cap is exact under
 * concurrency (the unique key alone already makes duplicates exact). */
static const char SQL_LOCK_ACCOUNT[] = "SELECT id FROM accounts WHERE id = ? FOR UPDATE";
/* The shared lock keeps the destination from being deleted before the
 * subscription is committed. */
static const char SQL_LIVE_DESTINATION[] =
	"SELECT status FROM alert_destinations"
	" WHERE id = ? AND account_id = ? AND deleted_at IS NULL LOCK IN SHARE MODE";
static const char SQL_COUNT_ACCOUNT[] =
	"SELECT COUNT(*) FROM alert_subscriptions WHERE account_id = ? AND cancelled_at IS NULL";
static const char SQL_INSERT[] =
	"INSERT INTO alert_subscriptions (account_id, destination_id, stream, min_level, created_at)"
	" VALUES (?, ?, ?, ?, UTC_TIMESTAMP())";
static const char SQL_CANCEL[] =
	"UPDATE alert_subscriptions SET cancelled_at = UTC_TIMESTAMP()"
	" WHERE id = ? AND account_id = ? AND cancelled_at IS NULL";

enum { F_DESTINATION_ID, F_STREAM, F_MIN_LEVEL };

static const struct civic_field subscription_fields[] = {
	[F_DESTINATION_ID] = {"destination_id", CIVIC_F_INT, CIVIC_F_REQUIRED, 1, INT64_MAX},
	[F_STREAM] = {"stream", CIVIC_F_TOKEN, CIVIC_F_REQUIRED, 1, STREAM_MAX},
	[F_MIN_LEVEL] = {"min_level", CIVIC_F_INT, 0, 1, 5},
};

/* "risk:*" or "risk:XX" with XX a supported country; lower-case codes
 * are accepted and stored upper-case. out receives the stored form
 * (STREAM_MAX + 1 bytes). NULL if valid, else the reason. */
static const char *parse_stream(const char *in, char *out)
{
	size_t plen = strlen(STREAM_PREFIX);
	char code[3];

	if (strncmp(in, STREAM_PREFIX, plen) != 0 || strlen(in) > STREAM_MAX)
		return STREAM_FORM;
	if (strcmp(in + plen, "*") == 0) {
		memcpy(out, STREAM_PREFIX "*", plen + 2);
		return NULL;
	}
	if (strlen(in + plen) != 2)
		return STREAM_FORM;
	for (size_t i = 0; i < 2; i++) {
		char c = in[plen + i];
		code[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
	}
	code[2] = '\0';
	if (civic_countries_find(code) == NULL)
		return "must name a supported country (see /v1/supported-countries/)";
	memcpy(out, STREAM_PREFIX, plen);
	memcpy(out + plen, code, 3);
	return NULL;
}

static enum civic_err invalid(struct civic_ctx *ctx, const char *field, const char *why)
{
	json_object_put(ctx->errfields);
	ctx->errfields = json_object_new_object();
	json_object_object_add(ctx->errfields, field, json_object_new_string(why));
	return CIVIC_E_VALIDATION;
}

/* cancelled_at only in the answer to a cancel: listed ones are live. */
static json_object *subscription_json(const struct civic_rows *r, size_t i, bool with_cancelled)
{
	json_object *part[NPARTS];

	for (size_t p = 0; p < NPARTS; p++)
		part[p] = json_object_new_object();
	for (size_t c = 0; c < CIVIC_NELEM(columns); c++)
		if (c != C_CANCELLED || with_cancelled)
			json_object_object_add(part[columns[c].part], columns[c].name,
			                       (columns[c].integer ? civic_cell_int : civic_cell_str)(r, i, c));
	json_object_object_add(part[SUBSCRIPTION], "destination", part[DESTINATION]);
	return part[SUBSCRIPTION];
}

/* The caller's subscription id into ctx->data. */
static enum civic_err load_subscription(struct civic_ctx *ctx, int64_t id, bool with_cancelled)
{
	struct civic_param p[] = {CIVIC_PINT(id), CIVIC_PINT(ctx->claims.account_id)};
	struct civic_rows *r;
	enum civic_err err;

	if ((err = civic_db_exec(ctx->db, SQL_SUBSCRIPTION, p, 2, &r)) != CIVIC_OK)
		return err;
	if (r->nrows == 1)
		ctx->data = subscription_json(r, 0, with_cancelled);
	else
		err = CIVIC_E_NOT_FOUND;
	civic_rows_free(r);
	return err;
}

/* ---- GET: the caller's live subscriptions, newest first ---- */

struct list_filter {
	struct civic_param destination_id; /* NULL when absent */
	struct civic_param stream;
	char stream_buf[STREAM_MAX + 1];
};

/* Reads both filters; every bad one goes into the error map. */
static enum civic_err read_filter(struct civic_ctx *ctx, struct list_filter *f)
{
	json_object *errs = json_object_new_object();
	char v[24]; /* an int64 or a stream, and one byte to tell overlong */
	const char *why;
	int64_t id;
	int rc;

	f->destination_id = f->stream = CIVIC_PNULL;
	rc = civic_request_query(ctx->req, "destination_id", v, sizeof(v));
	if (rc < 0 || (rc > 0 && !civic_num_parse_str(v, 1, INT64_MAX, &id)))
		json_object_object_add(errs, "destination_id",
		                       json_object_new_string("must be a positive integer"));
	else if (rc > 0)
		f->destination_id = CIVIC_PINT(id);
	rc = civic_request_query(ctx->req, "stream", v, sizeof(v));
	why = rc < 0 ? STREAM_FORM : rc > 0 ? parse_stream(v, f->stream_buf) : NULL;
	if (why != NULL)
		json_object_object_add(errs, "stream", json_object_new_string(why));
	else if (rc > 0)
		f->stream = CIVIC_PSTR(f->stream_buf);
	if (json_object_object_length(errs) == 0) {
		json_object_put(errs);
		return CIVIC_OK;
	}
	ctx->errfields = errs;
	return CIVIC_E_VALIDATION;
}

/* A list row: live subscriptions carry no cancelled_at. */
static json_object *live_json(const struct civic_rows *r, size_t i)
{
	return subscription_json(r, i, false);
}

static enum civic_err list_subscriptions(struct civic_ctx *ctx)
{
	struct list_filter f;
	enum civic_err err;

	if ((err = read_filter(ctx, &f)) != CIVIC_OK)
		return err;
	struct civic_param p[] = {
		CIVIC_PINT(ctx->claims.account_id), f.destination_id, f.destination_id, f.stream,
		f.stream,
	};
	return civic_paging_list(ctx, SQL_COUNT_LIVE, SQL_LIST_LIVE, p, CIVIC_NELEM(p), live_json);
}

/* ---- POST: subscribe a destination to a stream ---- */

/* The destination must be the caller's and live: a missing one and
 * another account's answer alike. */
static enum civic_err check_destination(struct civic_ctx *ctx, int64_t destination_id)
{
	struct civic_param p[] = {CIVIC_PINT(destination_id), CIVIC_PINT(ctx->claims.account_id)};
	struct civic_rows *r;
	const char *status;
	enum civic_err err;

	if ((err = civic_db_exec(ctx->db, SQL_LIVE_DESTINATION, p, 2, &r)) != CIVIC_OK)
		return err;
	status = civic_rows_get(r, 0, 0);
	if (status == NULL)
		err = invalid(ctx, "destination_id", "no such destination");
	else if (strcmp(status, "disabled") == 0)
		err = invalid(ctx, "destination_id",
		              "is disabled after repeated delivery failures: alerts cannot reach it");
	civic_rows_free(r);
	return err;
}

static enum civic_err check_capacity(struct civic_ctx *ctx)
{
	struct civic_param p[] = {CIVIC_PINT(ctx->claims.account_id)};
	struct civic_rows *r;
	int64_t live;
	enum civic_err err;

	if ((err = civic_db_exec(ctx->db, SQL_LOCK_ACCOUNT, p, 1, NULL)) != CIVIC_OK ||
	    (err = civic_db_exec(ctx->db, SQL_COUNT_ACCOUNT, p, 1, &r)) != CIVIC_OK)
		return err;
	if (!civic_rows_int(r, 0, 0, &live))
		err = CIVIC_E_INTERNAL;
	else if (live >= MAX_LIVE_SUBSCRIPTIONS)
		err = civic_fail(ctx, CIVIC_E_PLAN_LIMIT,
		                 "An account can hold at most %d live alert subscriptions: cancel one "
		                 "first.",
		                 MAX_LIVE_SUBSCRIPTIONS);
	civic_rows_free(r);
	return err;
}

/* Checks and inserts in one transaction; *id receives the new row's id. */
static enum civic_err insert_subscription(struct civic_ctx *ctx, const char *stream,
                                          int64_t *id)
{
	const struct civic_value *v = ctx->vals;
	struct civic_param p[] = {
		CIVIC_PINT(ctx->claims.account_id), CIVIC_PINT(v[F_DESTINATION_ID].num),
		CIVIC_PSTR(stream), CIVIC_PINT(v[F_MIN_LEVEL].present ? v[F_MIN_LEVEL].num : 1),
	};
	struct civic_rows *r = NULL;
	enum civic_err err;

	if ((err = civic_db_begin(ctx->db)) != CIVIC_OK)
		return err;
	if ((err = check_capacity(ctx)) != CIVIC_OK ||
	    (err = check_destination(ctx, v[F_DESTINATION_ID].num)) != CIVIC_OK)
		goto fail;
	err = civic_db_exec(ctx->db, SQL_INSERT, p, CIVIC_NELEM(p), &r);
	if (err == CIVIC_E_CONFLICT)
		err = civic_fail(ctx, err, "Destination %lld is already subscribed to %s.",
		                 (long long)v[F_DESTINATION_ID].num, stream);
	if (err != CIVIC_OK)
		goto fail;
	*id = (int64_t)r->insert_id;
	civic_rows_free(r);
	return civic_db_commit(ctx->db);
fail:
	civic_rows_free(r);
	civic_db_rollback(ctx->db);
	return err;
}

static enum civic_err create_subscription(struct civic_ctx *ctx)
{
	char stream[STREAM_MAX + 1];
	const char *why;
	int64_t id;
	enum civic_err err;

	/* The loop checks the fields of a body; an absent body has none. */
	if (ctx->body == NULL) {
		json_object *empty = json_object_new_object();
		err = civic_input_check(subscription_fields, CIVIC_NELEM(subscription_fields), empty,
		                        ctx->vals, &ctx->errfields);
		json_object_put(empty);
		return err;
	}
	if ((why = parse_stream(ctx->vals[F_STREAM].str, stream)) != NULL)
		return invalid(ctx, "stream", why);
	if ((err = insert_subscription(ctx, stream, &id)) != CIVIC_OK ||
	    (err = load_subscription(ctx, id, false)) != CIVIC_OK)
		return err;
	ctx->status = 201;
	return CIVIC_OK;
}

/* ---- DELETE: cancel ---- */

static enum civic_err cancel_subscription(struct civic_ctx *ctx)
{
	struct civic_param p[] = {CIVIC_PINT(ctx->id), CIVIC_PINT(ctx->claims.account_id)};
	struct civic_rows *r;
	bool cancelled;
	enum civic_err err;

	/* Only a live row of the caller's changes: another account's id, a
	 * missing one and an already cancelled one are all 404. */
	if ((err = civic_db_exec(ctx->db, SQL_CANCEL, p, 2, &r)) != CIVIC_OK)
		return err;
	cancelled = r->affected == 1;
	civic_rows_free(r);
	if (!cancelled)
		return CIVIC_E_NOT_FOUND;
	return load_subscription(ctx, ctx->id, true);
}

static const struct civic_route routes[] = {
	{.method = "GET", .pattern = "/v1/alert-subscriptions/", .auth = CIVIC_AUTH_TOKEN,
	 .scope = CIVIC_SCOPE_SUBSCRIPTIONS_READ, .handler = list_subscriptions, .paged = true},
	{.method = "POST", .pattern = "/v1/alert-subscriptions/", .auth = CIVIC_AUTH_TOKEN,
	 .scope = CIVIC_SCOPE_SUBSCRIPTIONS_WRITE, .fields = subscription_fields,
	 .nfields = CIVIC_NELEM(subscription_fields), .handler = create_subscription},
	{.method = "DELETE", .pattern = "/v1/alert-subscriptions/{id}/", .auth = CIVIC_AUTH_TOKEN,
	 .scope = CIVIC_SCOPE_SUBSCRIPTIONS_WRITE, .handler = cancel_subscription},
};

const struct civic_api civic_alert_subscriptions_api = {"civic-alert-subscriptions", routes, CIVIC_NELEM(routes)};

#ifndef CIVIC_ROUTES_ONLY
int main(void)
{
	return civic_serve(civic_alert_subscriptions_api.program, civic_alert_subscriptions_api.routes, civic_alert_subscriptions_api.nroutes);
}
#endif
