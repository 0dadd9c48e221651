/* /v1/alert-destinations/: where alerts go (SPEC §5). Email addresses
 * and webhooks are created here (both pending until verified); WhatsApp
 * groups are joined through the gateway; the public confirm link
 * activates an email destination. */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "email_tokens.h"
#include "log.h"
#include "outbound.h"
#include "paging.h"
#include "endpoints.h"
#include "server.h"
#include "webhook_secret.h"
#include "whatsapp.h"

/* Live destinations an account may have on any plan: a sanity cap that
 * keeps a fan-out bounded; WhatsApp has its own cap from the plan. */
#define DESTINATIONS_MAX 100
/* A WhatsApp reservation older than this outlived any gateway call
 * (timeout <= 60 s): its responder died, so it no longer counts. */
#define RESERVATION_STALE "10 MINUTE"

#define DEST_COLS                                                                            \
	"id, label, channel, identifier, status,"                                               \
	" DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s+00:00'),"                                 \
	" DATE_FORMAT(verified_at, '%Y-%m-%dT%H:%i:%s+00:00')"
/* Live: not deleted, and not a WhatsApp join still waiting for the
 * gateway (a reservation, see join_whatsapp). */
#define LIVE " deleted_at IS NULL AND NOT (channel = 'whatsapp' AND status = 'pending')"
/* Optional filters: (? IS NULL OR column = ?). */
#define FILTERS " AND (? IS NULL OR channel = ?) AND (? IS NULL OR status = ?)"

static const char SQL_COUNT[] =
	"SELECT COUNT(*) FROM alert_destinations WHERE account_id = ? AND" LIVE FILTERS;
static const char SQL_LIST[] = "SELECT " DEST_COLS " FROM alert_destinations"
                               " WHERE account_id = ? AND" LIVE FILTERS
                               " ORDER BY id DESC LIMIT ? OFFSET ?";
static const char SQL_GET_LIVE[] =
	"SELECT " DEST_COLS " FROM alert_destinations WHERE id = ? AND account_id = ? AND" LIVE;
static const char SQL_GET_ANY[] =
	"SELECT " DEST_COLS " FROM alert_destinations WHERE id = ? AND account_id = ?";
static const char SQL_LOCK_LIVE[] =
	"SELECT id FROM alert_destinations WHERE id = ? AND account_id = ? AND" LIVE " FOR UPDATE";
static const char SQL_LOCK_ACCOUNT[] = "SELECT plan_id FROM accounts WHERE id = ? FOR UPDATE";
static const char SQL_PLAN_WHATSAPP[] =
	"SELECT slug, max_whatsapp_destinations FROM plans WHERE id = ?";
static const char SQL_DROP_STALE[] =
	"DELETE FROM alert_destinations WHERE account_id = ? AND channel = 'whatsapp'"
	" AND status = 'pending' AND deleted_at IS NULL"
	" AND created_at < UTC_TIMESTAMP() - INTERVAL " RESERVATION_STALE;
/* Reservations count: they are destinations in the making. */
static const char SQL_COUNT_LIVE[] =
	"SELECT COUNT(*), COALESCE(SUM(channel = 'whatsapp'), 0) FROM alert_destinations"
	" WHERE account_id = ? AND deleted_at IS NULL FOR UPDATE";
static const char SQL_INSERT[] =
	"INSERT INTO alert_destinations (account_id, label, channel, identifier, status,"
	" signing_secret_enc, created_at) VALUES (?, ?, ?, ?, 'pending', ?, UTC_TIMESTAMP())";
static const char SQL_QUEUE_CONFIRMATION[] =
	"INSERT INTO mail_queue (purpose, account_id, destination_id, to_address,"
	" next_attempt_at, created_at)"
	" VALUES ('confirm_destination', ?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP())";
/* A webhook becomes active after its first verification delivery: the
 * dispatcher sends it (webhook_checks). */
static const char SQL_QUEUE_CHECK[] =
	"INSERT INTO webhook_checks (destination_id, account_id, next_attempt_at, created_at)"
	" VALUES (?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP())";
static const char SQL_SOFT_DELETE[] =
	"UPDATE alert_destinations SET deleted_at = UTC_TIMESTAMP(), status = 'disabled'"
	" WHERE id = ?";
static const char SQL_CANCEL_SUBSCRIPTIONS[] =
	"UPDATE alert_subscriptions SET cancelled_at = UTC_TIMESTAMP()"
	" WHERE destination_id = ? AND cancelled_at IS NULL";
static const char SQL_CANCEL_MAIL[] =
	"UPDATE mail_queue SET status = 'failed', last_error = 'destination deleted'"
	" WHERE destination_id = ? AND status = 'pending'";
static const char SQL_CANCEL_CHECK[] =
	"UPDATE webhook_checks SET status = 'failed', last_error = 'destination deleted'"
	" WHERE destination_id = ? AND status = 'pending'";
static const char SQL_ACTIVATE_WHATSAPP[] =
	"UPDATE alert_destinations SET identifier = ?, status = 'active',"
	" verified_at = UTC_TIMESTAMP() WHERE id = ? AND status = 'pending' AND deleted_at IS NULL";
static const char SQL_DROP_RESERVATION[] =
	"DELETE FROM alert_destinations WHERE id = ? AND status = 'pending'";
static const char SQL_CONFIRMABLE[] =
	"SELECT id FROM alert_destinations WHERE id = ? AND account_id = ? AND channel = 'email'"
	" AND deleted_at IS NULL FOR UPDATE";
static const char SQL_CONFIRM[] =
	"UPDATE alert_destinations SET status = 'active', verified_at = UTC_TIMESTAMP()"
	" WHERE id = ? AND status = 'pending'";

static const char LINK_INVALID[] = "This confirmation link is invalid or has expired.";

/* ------------------------------------------------------------ output */

/* One row of DEST_COLS as the API object. */
static json_object *dest_json(const struct civic_rows *r, size_t i)
{
	static const char *const names[] = {"label", "channel", "identifier", "status",
	                                    "created_at", "verified_at"};
	json_object *o = json_object_new_object();
	int64_t id = 0;

	civic_rows_int(r, i, 0, &id);
	json_object_object_add(o, "id", json_object_new_int64(id));
	for (size_t c = 0; c < CIVIC_NELEM(names); c++)
		json_object_object_add(o, names[c], civic_cell_str(r, i, c + 1));
	return o;
}

/* ctx->data = destination id of account; sql is SQL_GET_LIVE or
 * SQL_GET_ANY. CIVIC_E_NOT_FOUND when there is none. */
static enum civic_err load_of(struct civic_ctx *ctx, const char *sql, int64_t id,
                              int64_t account)
{
	struct civic_param p[] = {CIVIC_PINT(id), CIVIC_PINT(account)};
	struct civic_rows *r;
	enum civic_err err;

	if ((err = civic_db_exec(ctx->db, sql, p, 2, &r)) != CIVIC_OK)
		return err;
	if (r->nrows == 1) {
		json_object_put(ctx->data);
		ctx->data = dest_json(r, 0);
	} else
		err = CIVIC_E_NOT_FOUND;
	civic_rows_free(r);
	return err;
}

/* The same for the caller's account. */
static enum civic_err load(struct civic_ctx *ctx, const char *sql, int64_t id)
{
	return load_of(ctx, sql, id, ctx->claims.account_id);
}

/* A VALIDATION_ERROR naming one field. */
static enum civic_err invalid(struct civic_ctx *ctx, const char *field, const char *why)
{
	json_object_put(ctx->errfields);
	ctx->errfields = json_object_new_object();
	json_object_object_add(ctx->errfields, field, json_object_new_string(why));
	return CIVIC_E_VALIDATION;
}

/* The loop admits an empty body; the fields are still required. */
static enum civic_err require_body(struct civic_ctx *ctx)
{
	json_object *empty;
	enum civic_err err;

	if (ctx->body)
		return CIVIC_OK;
	empty = json_object_new_object();
	err = civic_input_check(ctx->route->fields, ctx->route->nfields, empty, ctx->vals,
	                        &ctx->errfields);
	json_object_put(empty);
	return err;
}

/* ------------------------------------------------------------- list */

static const char *const channels[] = {"email", "webhook", "whatsapp"};
static const char *const statuses[] = {"pending", "active", "disabled"};

static bool one_of(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

/* Query filter name into out ("" when absent); a bad value is a
 * validation error naming the filter. */
static enum civic_err filter(struct civic_ctx *ctx, const char *name, const char *const *set,
                             size_t n, const char *why, char out[16])
{
	int rc = civic_request_query(ctx->req, name, out, 16);

	if (rc == 0)
		out[0] = '\0';
	else if (rc < 0 || !one_of(out, set, n))
		return invalid(ctx, name, why);
	return CIVIC_OK;
}

static struct civic_param opt(const char *s)
{
	return *s ? CIVIC_PSTR(s) : CIVIC_PNULL;
}

static enum civic_err list_destinations(struct civic_ctx *ctx)
{
	char channel[16], status[16];
	enum civic_err err;

	if ((err = filter(ctx, "channel", channels, CIVIC_NELEM(channels),
	                  "must be email, webhook or whatsapp", channel)) != CIVIC_OK ||
	    (err = filter(ctx, "status", statuses, CIVIC_NELEM(statuses),
	                  "must be pending, active or disabled", status)) != CIVIC_OK)
		return err;
	struct civic_param p[] = {
		CIVIC_PINT(ctx->claims.account_id), opt(channel), opt(channel), opt(status), opt(status),
	};
	return civic_paging_list(ctx, SQL_COUNT, SQL_LIST, p, CIVIC_NELEM(p), dest_json);
}

static enum civic_err get_destination(struct civic_ctx *ctx)
{
	return load(ctx, SQL_GET_LIVE, ctx->id);
}

/* ---------------------------------------------------- account caps */

struct caps {
	int64_t live, whatsapp, max_whatsapp;
	char plan[33];
};

/* Inside a transaction: locks the caller's account row. Every change to
 * the keys of an account's destinations (a row added or dropped, its
 * identifier or deleted_at changed) takes this lock first, so those
 * changes queue behind each other instead of deadlocking on the unique
 * index, and the counts of lock_account() are exact. *plan_id (may be
 * NULL) receives the account's plan. */
static enum civic_err lock_account_row(struct civic_ctx *ctx, int64_t *plan_id)
{
	struct civic_param acct[] = {CIVIC_PINT(ctx->claims.account_id)};
	struct civic_rows *r;
	int64_t plan;
	enum civic_err err;

	if ((err = civic_db_exec(ctx->db, SQL_LOCK_ACCOUNT, acct, 1, &r)) != CIVIC_OK)
		return err;
	if (!civic_rows_int(r, 0, 0, &plan))
		err = CIVIC_E_NOT_FOUND;
	else if (plan_id)
		*plan_id = plan;
	civic_rows_free(r);
	return err;
}

/* Inside a transaction: locks the account, drops dead WhatsApp
 * reservations and counts the live destinations. */
static enum civic_err lock_account(struct civic_ctx *ctx, struct caps *c)
{
	struct civic_param acct[] = {CIVIC_PINT(ctx->claims.account_id)};
	struct civic_rows *r = NULL;
	int64_t plan_id = 0;
	enum civic_err err;

	if ((err = lock_account_row(ctx, &plan_id)) != CIVIC_OK)
		return err;
	struct civic_param plan[] = {CIVIC_PINT(plan_id)};
	if ((err = civic_db_exec(ctx->db, SQL_PLAN_WHATSAPP, plan, 1, &r)) != CIVIC_OK ||
	    (err = civic_db_exec(ctx->db, SQL_DROP_STALE, acct, 1, NULL)) != CIVIC_OK)
		goto out;
	snprintf(c->plan, sizeof(c->plan), "%s", r->nrows ? civic_rows_get(r, 0, 0) : "?");
	if (!civic_rows_int(r, 0, 1, &c->max_whatsapp))
		err = CIVIC_E_INTERNAL;
	civic_rows_free(r);
	r = NULL;
	if (err != CIVIC_OK || (err = civic_db_exec(ctx->db, SQL_COUNT_LIVE, acct, 1, &r)) != CIVIC_OK)
		goto out;
	if (!civic_rows_int(r, 0, 0, &c->live) || !civic_rows_int(r, 0, 1, &c->whatsapp))
		err = CIVIC_E_INTERNAL;
out:
	civic_rows_free(r);
	return err;
}

/* One statement in its own transaction under the account lock;
 * *affected (may be NULL) receives the rows it changed. */
static enum civic_err locked_exec(struct civic_ctx *ctx, const char *sql,
                                  const struct civic_param *p, size_t n, uint64_t *affected)
{
	struct civic_rows *r = NULL;
	enum civic_err err;

	if ((err = civic_db_begin(ctx->db)) != CIVIC_OK)
		return err;
	if ((err = lock_account_row(ctx, NULL)) != CIVIC_OK ||
	    (err = civic_db_exec(ctx->db, sql, p, n, &r)) != CIVIC_OK ||
	    (err = civic_db_commit(ctx->db)) != CIVIC_OK) {
		civic_db_rollback(ctx->db);
		civic_rows_free(r);
		return err;
	}
	if (affected)
		*affected = r->affected;
	civic_rows_free(r);
	return CIVIC_OK;
}

static enum civic_err over_total_cap(struct civic_ctx *ctx)
{
	return civic_fail(ctx, CIVIC_E_PLAN_LIMIT,
	                  "An account can have at most %d alert destinations; delete one first.",
	                  DESTINATIONS_MAX);
}

/* Inserts a pending destination; *id receives its id. */
static enum civic_err insert(struct civic_ctx *ctx, const char *label, const char *channel,
                             const char *identifier, const unsigned char *sealed,
                             size_t sealed_len, int64_t *id)
{
	struct civic_param p[] = {
		CIVIC_PINT(ctx->claims.account_id),
		CIVIC_PSTR(label),
		CIVIC_PSTR(channel),
		CIVIC_PSTR(identifier),
		sealed ? CIVIC_PBLOB(sealed, sealed_len) : CIVIC_PNULL,
	};
	struct civic_rows *r;
	enum civic_err err;

	if ((err = civic_db_exec(ctx->db, SQL_INSERT, p, CIVIC_NELEM(p), &r)) != CIVIC_OK)
		return err;
	*id = (int64_t)r->insert_id;
	civic_rows_free(r);
	return CIVIC_OK;
}

/* ----------------------------------------------------------- create */

enum { F_LABEL, F_CHANNEL, F_IDENTIFIER };

static const struct civic_field create_fields[] = {
	[F_LABEL] = {"label", CIVIC_F_TEXT, CIVIC_F_REQUIRED, 1, 100},
	[F_CHANNEL] = {"channel", CIVIC_F_TEXT, CIVIC_F_REQUIRED, 1, 16},
	[F_IDENTIFIER] = {"identifier", CIVIC_F_TEXT, CIVIC_F_REQUIRED, 1, CIVIC_URL_MAX},
};

/* The outbound policy of this process, from [alerts] outbound_allow. */
static const struct civic_outbound *policy(const struct civic_config *cfg)
{
	static struct civic_outbound p;
	static int state; /* 0 not parsed, 1 good, -1 bad */
	char err[256];

	if (state == 0) {
		state = civic_outbound_parse(cfg->outbound_allow, &p, err, sizeof(err)) ? 1 : -1;
		if (state < 0)
			civic_log_error("config [alerts] %s", err);
	}
	return state > 0 ? &p : NULL;
}

/* What a new destination stores: its normalised identifier and, for a
 * webhook, the signing secret (raw, for the one-time answer) sealed. */
struct new_dest {
	char identifier[CIVIC_URL_MAX + 1];
	bool webhook;
	unsigned char secret[CIVIC_WHSEC_KEY_LEN];
	unsigned char sealed[CIVIC_WHSEC_SEALED_LEN];
};

/* Checks channel and identifier into d; a validation error otherwise. */
static enum civic_err prepare(struct civic_ctx *ctx, struct new_dest *d)
{
	const char *channel = ctx->vals[F_CHANNEL].str, *id = ctx->vals[F_IDENTIFIER].str, *why;
	const struct civic_outbound *pol;

	if (strcmp(channel, "whatsapp") == 0)
		return invalid(ctx, "channel",
		               "WhatsApp groups are added with POST "
		               "/v1/alert-destinations/join-whatsapp-group/");
	if (strcmp(channel, "email") == 0) {
		if (!civic_valid_email(id))
			return invalid(ctx, "identifier", "must be a valid email address");
		/* Stored lower-cased, like account addresses: one mailbox, one row. */
		for (size_t i = 0; (d->identifier[i] = (char)tolower((unsigned char)id[i])); i++)
			;
		return CIVIC_OK;
	}
	if (strcmp(channel, "webhook") != 0)
		return invalid(ctx, "channel", "must be email or webhook");
	if ((pol = policy(ctx->cfg)) == NULL)
		return CIVIC_E_INTERNAL;
	why = civic_outbound_check_url(pol, ctx->cfg->allow_http_webhooks, id, d->identifier,
	                               sizeof(d->identifier));
	if (why)
		return invalid(ctx, "identifier", why);
	d->webhook = true;
	civic_webhook_secret_generate(d->secret);
	civic_webhook_secret_seal(&ctx->cfg->pepper, ctx->claims.account_id, d->secret, d->sealed);
	return CIVIC_OK;
}

/* The insert and its first message (the confirmation mail, or the
 * webhook's verification delivery) in one transaction. */
static enum civic_err store(struct civic_ctx *ctx, const struct new_dest *d, int64_t *id)
{
	const char *channel = d->webhook ? "webhook" : "email";
	struct caps caps;
	enum civic_err err;

	if ((err = civic_db_begin(ctx->db)) != CIVIC_OK)
		return err;
	if ((err = lock_account(ctx, &caps)) != CIVIC_OK)
		goto fail;
	if (caps.live >= DESTINATIONS_MAX) {
		err = over_total_cap(ctx);
		goto fail;
	}
	err = insert(ctx, ctx->vals[F_LABEL].str, channel, d->identifier,
	             d->webhook ? d->sealed : NULL, sizeof(d->sealed), id);
	if (err == CIVIC_E_CONFLICT) {
		err = civic_fail(ctx, err, "This account already has a%s destination %s.",
		                 d->webhook ? " webhook" : "n email",
		                 d->webhook ? "with this URL" : "for this address");
		goto fail;
	}
	if (err == CIVIC_OK && d->webhook) {
		struct civic_param check[] = {CIVIC_PINT(*id), CIVIC_PINT(ctx->claims.account_id)};
		err = civic_db_exec(ctx->db, SQL_QUEUE_CHECK, check, 2, NULL);
	} else if (err == CIVIC_OK) {
		struct civic_param mail[] = {CIVIC_PINT(ctx->claims.account_id), CIVIC_PINT(*id),
		                             CIVIC_PSTR(d->identifier)};
		err = civic_db_exec(ctx->db, SQL_QUEUE_CONFIRMATION, mail, 3, NULL);
	}
	if (err != CIVIC_OK || (err = civic_db_commit(ctx->db)) != CIVIC_OK)
		goto fail;
	return CIVIC_OK;
fail:
	civic_db_rollback(ctx->db);
	return err;
}

static enum civic_err create_destination(struct civic_ctx *ctx)
{
	struct new_dest d;
	char text[CIVIC_WHSEC_TEXT_LEN + 1];
	int64_t id;
	enum civic_err err;

	memset(&d, 0, sizeof(d));
	if ((err = require_body(ctx)) != CIVIC_OK || (err = prepare(ctx, &d)) != CIVIC_OK ||
	    (err = store(ctx, &d, &id)) != CIVIC_OK || (err = load(ctx, SQL_GET_ANY, id)) != CIVIC_OK)
		goto out;
	ctx->status = 201;
	if (d.webhook) {
		/* Shown this once; only the sealed copy is kept. */
		civic_webhook_secret_format(d.secret, text);
		json_object_object_add(ctx->data, "signing_secret", json_object_new_string(text));
		sodium_memzero(text, sizeof(text));
	}
out:
	sodium_memzero(&d, sizeof(d));
	return err;
}

/* ----------------------------------------------------------- delete */

static enum civic_err delete_destination(struct civic_ctx *ctx)
{
	struct civic_param p[] = {CIVIC_PINT(ctx->id), CIVIC_PINT(ctx->claims.account_id)};
	struct civic_param id[] = {CIVIC_PINT(ctx->id)};
	struct civic_rows *r = NULL;
	enum civic_err err;

	if ((err = civic_db_begin(ctx->db)) != CIVIC_OK)
		return err;
	if ((err = lock_account_row(ctx, NULL)) != CIVIC_OK ||
	    (err = civic_db_exec(ctx->db, SQL_LOCK_LIVE, p, 2, &r)) != CIVIC_OK)
		goto fail;
	if (r->nrows == 0) {
		err = CIVIC_E_NOT_FOUND;
		goto fail;
	}
	if ((err = civic_db_exec(ctx->db, SQL_SOFT_DELETE, id, 1, NULL)) != CIVIC_OK ||
	    (err = civic_db_exec(ctx->db, SQL_CANCEL_SUBSCRIPTIONS, id, 1, NULL)) != CIVIC_OK ||
	    (err = civic_db_exec(ctx->db, SQL_CANCEL_MAIL, id, 1, NULL)) != CIVIC_OK ||
	    (err = civic_db_exec(ctx->db, SQL_CANCEL_CHECK, id, 1, NULL)) != CIVIC_OK ||
	    (err = civic_db_commit(ctx->db)) != CIVIC_OK)
		goto fail;
	civic_rows_free(r);
	return load(ctx, SQL_GET_ANY, ctx->id);
fail:
	civic_db_rollback(ctx->db);
	civic_rows_free(r);
	return err;
}

/* ------------------------------------------------- WhatsApp groups */

enum { J_INVITE, J_LABEL };

static const struct civic_field join_fields[] = {
	[J_INVITE] = {"invite_link", CIVIC_F_TEXT, CIVIC_F_REQUIRED, 1, 256},
	[J_LABEL] = {"label", CIVIC_F_TEXT, CIVIC_F_REQUIRED, 1, 100},
};

static enum civic_err over_whatsapp_cap(struct civic_ctx *ctx, const struct caps *c)
{
	if (c->max_whatsapp == 0)
		return civic_fail(ctx, CIVIC_E_PLAN_LIMIT,
		                  "Your plan (%s) allows 0 WhatsApp destinations; upgrade to add one.",
		                  c->plan);
	return civic_fail(ctx, CIVIC_E_PLAN_LIMIT,
	                  "Your plan (%s) allows %lld WhatsApp destination(s) and this account has "
	                  "%lld; delete one or upgrade the plan.",
	                  c->plan, (long long)c->max_whatsapp, (long long)c->whatsapp);
}

/* Takes a place under the caps: a pending whatsapp row, committed at
 * once so that no lock is held while the gateway works. Concurrent
 * joins each see the others' reservations, so the cap is exact. */
static enum civic_err reserve(struct civic_ctx *ctx, int64_t *id)
{
	unsigned char rnd[16];
	char placeholder[9 + 2 * sizeof(rnd) + 1] = "pending:";
	struct caps caps;
	enum civic_err err;

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(placeholder + 8, sizeof(placeholder) - 8, rnd, sizeof(rnd));
	if ((err = civic_db_begin(ctx->db)) != CIVIC_OK)
		return err;
	if ((err = lock_account(ctx, &caps)) != CIVIC_OK)
		goto fail;
	if (caps.whatsapp >= caps.max_whatsapp) {
		err = over_whatsapp_cap(ctx, &caps);
		goto fail;
	}
	if (caps.live >= DESTINATIONS_MAX) {
		err = over_total_cap(ctx);
		goto fail;
	}
	if ((err = insert(ctx, ctx->vals[J_LABEL].str, "whatsapp", placeholder, NULL, 0, id)) !=
	        CIVIC_OK ||
	    (err = civic_db_commit(ctx->db)) != CIVIC_OK)
		goto fail;
	return CIVIC_OK;
fail:
	civic_db_rollback(ctx->db);
	return err;
}

static void drop_reservation(struct civic_ctx *ctx, int64_t id)
{
	struct civic_param p[] = {CIVIC_PINT(id)};

	/* If this fails the reservation turns stale and stops counting. */
	if (locked_exec(ctx, SQL_DROP_RESERVATION, p, 1, NULL) != CIVIC_OK)
		civic_log_warn("could not drop WhatsApp reservation %lld", (long long)id);
}

/* The gateway joined: the reservation becomes the destination. */
static enum civic_err activate(struct civic_ctx *ctx, int64_t id, const char *group_id)
{
	struct civic_param p[] = {CIVIC_PSTR(group_id), CIVIC_PINT(id)};
	uint64_t changed = 0;
	enum civic_err err;

	err = locked_exec(ctx, SQL_ACTIVATE_WHATSAPP, p, 2, &changed);
	if (err == CIVIC_OK && changed != 1)
		err = CIVIC_E_INTERNAL;
	if (err == CIVIC_E_CONFLICT)
		return civic_fail(ctx, err, "This WhatsApp group is already a destination of this "
		                            "account.");
	return err;
}

static enum civic_err join_whatsapp(struct civic_ctx *ctx)
{
	struct civic_whatsapp_group group;
	char why[256];
	int64_t id;
	enum civic_err err;

	if ((err = require_body(ctx)) != CIVIC_OK)
		return err;
	if (!civic_whatsapp_invite_valid(ctx->vals[J_INVITE].str))
		return invalid(ctx, "invite_link",
		               "must be a WhatsApp invite link: https://chat.whatsapp.com/ and 16 to "
		               "32 letters or digits");
	if (ctx->cfg->whatsapp_gateway_url == NULL || *ctx->cfg->whatsapp_gateway_url == '\0')
		return civic_fail(ctx, CIVIC_E_BAD_GATEWAY,
		                  "The WhatsApp gateway is not configured on this server; nothing was "
		                  "registered.");
	if ((err = reserve(ctx, &id)) != CIVIC_OK)
		return err;
	err = civic_whatsapp_join(ctx->cfg, ctx->vals[J_INVITE].str, &group, why, sizeof(why));
	if (err == CIVIC_OK)
		err = activate(ctx, id, group.id);
	if (err != CIVIC_OK) {
		drop_reservation(ctx, id);
		if (err == CIVIC_E_VALIDATION)
			return invalid(ctx, "invite_link", why);
		if (err == CIVIC_E_BAD_GATEWAY)
			return civic_fail(ctx, err, "%s Nothing was registered; try again later.", why);
		return err;
	}
	ctx->status = 201;
	return load(ctx, SQL_GET_ANY, id);
}

/* ---------------------------------------------------- confirm link */

/* The public answer: enough to tell the person what they confirmed. */
static void confirm_reply(struct civic_ctx *ctx)
{
	static const char *const keep[] = {"id", "label", "channel", "status"};
	json_object *o = json_object_new_object(), *v;

	for (size_t i = 0; i < CIVIC_NELEM(keep); i++)
		if (json_object_object_get_ex(ctx->data, keep[i], &v))
			json_object_object_add(o, keep[i], json_object_get(v));
	json_object_put(ctx->data);
	ctx->data = o;
}

/* Redeems the link and activates its destination, in one transaction:
 * a link to a deleted destination changes nothing. */
static enum civic_err redeem(struct civic_ctx *ctx, const char *token,
                             struct civic_email_link *link)
{
	struct civic_rows *r = NULL;
	enum civic_err err;

	if ((err = civic_db_begin(ctx->db)) != CIVIC_OK)
		return err;
	err = civic_email_token_redeem(ctx->db, ctx->cfg, CIVIC_EMAIL_CONFIRM_DESTINATION, token,
	                               link);
	if (err != CIVIC_OK)
		goto fail;
	struct civic_param p[] = {CIVIC_PINT(link->destination_id), CIVIC_PINT(link->account_id)};
	struct civic_param dest[] = {CIVIC_PINT(link->destination_id)};
	if ((err = civic_db_exec(ctx->db, SQL_CONFIRMABLE, p, 2, &r)) != CIVIC_OK)
		goto fail;
	if (r->nrows == 0) {
		err = CIVIC_E_NOT_FOUND;
		goto fail;
	}
	if ((err = civic_db_exec(ctx->db, SQL_CONFIRM, dest, 1, NULL)) != CIVIC_OK ||
	    (err = civic_db_commit(ctx->db)) != CIVIC_OK)
		goto fail;
	civic_rows_free(r);
	return CIVIC_OK;
fail:
	civic_db_rollback(ctx->db);
	civic_rows_free(r);
	return err;
}

static enum civic_err confirm_destination(struct civic_ctx *ctx)
{
	char token[CIVIC_LINK_TOKEN_LEN + 2];
	struct civic_email_link link;
	enum civic_err err;

	if (civic_request_query(ctx->req, "token", token, sizeof(token)) != 1 ||
	    !civic_email_token_valid(token))
		return civic_fail(ctx, CIVIC_E_NOT_FOUND, "%s", LINK_INVALID);
	err = redeem(ctx, token, &link);
	sodium_memzero(token, sizeof(token));
	/* The link names its account; the caller is anonymous. */
	if (err == CIVIC_OK)
		err = load_of(ctx, SQL_GET_ANY, link.destination_id, link.account_id);
	if (err == CIVIC_E_NOT_FOUND)
		return civic_fail(ctx, err, "%s", LINK_INVALID);
	if (err == CIVIC_OK)
		confirm_reply(ctx);
	return err;
}

/* ------------------------------------------------------------ routes */

static const struct civic_route routes[] = {
	{.method = "GET", .pattern = "/v1/alert-destinations/", .auth = CIVIC_AUTH_TOKEN,
	 .scope = CIVIC_SCOPE_DESTINATIONS_READ, .handler = list_destinations, .paged = true},
	{.method = "POST", .pattern = "/v1/alert-destinations/", .auth = CIVIC_AUTH_TOKEN,
	 .scope = CIVIC_SCOPE_DESTINATIONS_WRITE, .fields = create_fields,
	 .nfields = CIVIC_NELEM(create_fields), .handler = create_destination},
	{.method = "GET", .pattern = "/v1/alert-destinations/{id}/", .auth = CIVIC_AUTH_TOKEN,
	 .scope = CIVIC_SCOPE_DESTINATIONS_READ, .handler = get_destination},
	{.method = "DELETE", .pattern = "/v1/alert-destinations/{id}/", .auth = CIVIC_AUTH_TOKEN,
	 .scope = CIVIC_SCOPE_DESTINATIONS_WRITE, .handler = delete_destination},
	{.method = "POST", .pattern = "/v1/alert-destinations/join-whatsapp-group/",
	 .auth = CIVIC_AUTH_TOKEN, .scope = CIVIC_SCOPE_DESTINATIONS_WHATSAPP_JOIN,
	 .fields = join_fields, .nfields = CIVIC_NELEM(join_fields), .handler = join_whatsapp},
	{.method = "GET", .pattern = "/v1/alert-destinations/confirm/", .auth = CIVIC_AUTH_PUBLIC,
	 .handler = confirm_destination},
};

const struct civic_api civic_alert_destinations_api = {"civic-alert-destinations", routes, CIVIC_NELEM(routes)};

#ifndef CIVIC_ROUTES_ONLY
int main(void)
{
	return civic_serve(civic_alert_destinations_api.program, civic_alert_destinations_api.routes, civic_alert_destinations_api.nroutes);
}
#endif
