#include "billing.h"

#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "timeutil.h"

#define CURRENT "status IN ('active','cancelled','past_due')"

/* Locked first by every operation here (see billing.h). */
static const char SQL_LOCK_ACCOUNT[] = "SELECT coins FROM accounts WHERE id = ? FOR UPDATE";
static const char SQL_PLAN_BY_SLUG[] = "SELECT id, price_coins, slug FROM plans WHERE slug = ?";
static const char SQL_PLAN_BY_ID[] = "SELECT id, price_coins, slug FROM plans WHERE id = ?";
static const char SQL_CURRENT[] =
	"SELECT id, status, plan_id, current_period_end FROM billing_subscriptions"
	" WHERE account_id = ? AND " CURRENT " ORDER BY id DESC FOR UPDATE";
static const char SQL_END_CURRENT[] =
	"UPDATE billing_subscriptions SET status = 'ended' WHERE account_id = ? AND " CURRENT;
static const char SQL_MOVE_ACCOUNT[] =
	"UPDATE accounts SET plan_id = ?, coins = coins - ?, updated_at = UTC_TIMESTAMP()"
	" WHERE id = ?";
/* One statement, so the start, the end and created_at (the anchor of
 * later periods) are the same instant. */
static const char SQL_START[] =
	"INSERT INTO billing_subscriptions (account_id, plan_id, status, current_period_start,"
	" current_period_end, cancel_at_period_end, created_at)"
	" VALUES (?, ?, 'active', UTC_TIMESTAMP(), UTC_TIMESTAMP() + INTERVAL 1 MONTH, 0,"
	" UTC_TIMESTAMP())";
static const char SQL_PERIOD_END[] =
	"SELECT current_period_end FROM billing_subscriptions WHERE id = ?";
/* created_at NULL: the database's clock. */
static const char SQL_EVENT[] =
	"INSERT INTO payment_events (subscription_id, account_id, kind, coins, balance_after, note,"
	" created_at) VALUES (?, ?, ?, ?, ?, ?, COALESCE(?, UTC_TIMESTAMP()))";
static const char SQL_ADD_COINS[] = "UPDATE accounts SET coins = coins + ? WHERE id = ?";
static const char SQL_CANCEL[] =
	"UPDATE billing_subscriptions SET status = 'cancelled', cancel_at_period_end = 1"
	" WHERE id = ?";
static const char SQL_DUE[] =
	"SELECT id, account_id FROM billing_subscriptions WHERE " CURRENT
	" AND current_period_end <= ? AND (? = 0 OR account_id = ?) AND id > ? ORDER BY id LIMIT 200";
static const char SQL_LOCK_SUBSCRIPTION[] =
	"SELECT status, plan_id, current_period_end, current_period_end <= ?,"
	" ? >= current_period_end + INTERVAL ? DAY"
	" FROM billing_subscriptions WHERE id = ? AND account_id = ? FOR UPDATE";
/* The n-th period ends n calendar months after the start (created_at),
 * not one month after the previous end: 31 January, 28 February, 31
 * March. MariaDB assigns left to right, so the end is computed from the
 * old end before the start takes the old end's value (the parameter). */
static const char SQL_ADVANCE[] =
	"UPDATE billing_subscriptions SET status = 'active',"
	" current_period_end = DATE_ADD(created_at, INTERVAL PERIOD_DIFF("
	"EXTRACT(YEAR_MONTH FROM current_period_end), EXTRACT(YEAR_MONTH FROM created_at)) + 1"
	" MONTH), current_period_start = ? WHERE id = ?";
static const char SQL_SET_STATUS[] = "UPDATE billing_subscriptions SET status = ? WHERE id = ?";
static const char SQL_DEMOTE[] =
	"UPDATE accounts SET plan_id = (SELECT id FROM plans WHERE slug = '" CIVIC_FREE_PLAN "'),"
	" updated_at = UTC_TIMESTAMP() WHERE id = ? AND plan_id = ?";

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* A DATETIME cell as RFC 3339 for notes (26 bytes). */
static const char *rfc3339(const char *datetime, char out[26])
{
	time_t t;

	if (!civic_time_parse(datetime, &t))
		return "?";
	civic_time_rfc3339(t, out, 26);
	return out;
}

/* Locks the account row and reads its balance. CIVIC_E_NOT_FOUND when
 * there is no such account. */
static enum civic_err lock_account(struct civic_db *db, int64_t account_id, int64_t *coins)
{
	struct civic_param p[] = {CIVIC_PINT(account_id)};
	struct civic_rows *r;
	enum civic_err err;

	if ((err = civic_db_exec(db, SQL_LOCK_ACCOUNT, p, 1, &r)) != CIVIC_OK)
		return err;
	if (r->nrows == 0)
		err = CIVIC_E_NOT_FOUND;
	else if (!civic_rows_int(r, 0, 0, coins))
		err = CIVIC_E_INTERNAL;
	civic_rows_free(r);
	return err;
}

struct plan {
	int64_t id, price;
	char slug[33];
};

/* A plan by SQL_PLAN_BY_SLUG or SQL_PLAN_BY_ID; CIVIC_E_NOT_FOUND if none. */
static enum civic_err load_plan(struct civic_db *db, const char *sql, struct civic_param key,
                                struct plan *out)
{
	struct civic_rows *r;
	enum civic_err err;

	if ((err = civic_db_exec(db, sql, &key, 1, &r)) != CIVIC_OK)
		return err;
	if (r->nrows == 0)
		err = CIVIC_E_NOT_FOUND;
	else if (!civic_rows_int(r, 0, 0, &out->id) || !civic_rows_int(r, 0, 1, &out->price))
		err = CIVIC_E_INTERNAL;
	else
		copy(out->slug, sizeof(out->slug), civic_rows_get(r, 0, 2));
	civic_rows_free(r);
	return err;
}

/* kind is 'credit', 'charge', 'failed_charge' or 'refund'; subscription
 * 0 for none; at NULL for the database's clock. */
static enum civic_err record_event(struct civic_db *db, int64_t subscription, int64_t account,
                                   const char *kind, int64_t coins, int64_t balance_after,
                                   const char *note, const char *at)
{
	struct civic_param p[] = {
		subscription ? CIVIC_PINT(subscription) : CIVIC_PNULL,
		CIVIC_PINT(account),
		CIVIC_PSTR(kind),
		CIVIC_PINT(coins),
		CIVIC_PINT(balance_after),
		CIVIC_PSTR(note),
		CIVIC_PSTR(at),
	};
	return civic_db_exec(db, SQL_EVENT, p, sizeof(p) / sizeof(p[0]), NULL);
}

struct current {
	int64_t id, plan_id; /* id 0: none */
	char status[10];
	char end[20];        /* current_period_end */
};

/* The account's current subscription, locked. */
static enum civic_err lock_current(struct civic_db *db, int64_t account_id, struct current *c)
{
	struct civic_param p[] = {CIVIC_PINT(account_id)};
	struct civic_rows *r;
	enum civic_err err;

	*c = (struct current){0};
	if ((err = civic_db_exec(db, SQL_CURRENT, p, 1, &r)) != CIVIC_OK)
		return err;
	if (r->nrows > 0) {
		if (!civic_rows_int(r, 0, 0, &c->id) || !civic_rows_int(r, 0, 2, &c->plan_id))
			err = CIVIC_E_INTERNAL;
		copy(c->status, sizeof(c->status), civic_rows_get(r, 0, 1));
		copy(c->end, sizeof(c->end), civic_rows_get(r, 0, 3));
	}
	civic_rows_free(r);
	return err;
}

/* ---------------------------------------------------------------- plan set */

/* Starts a subscription to plan_id now and records its first period. */
static enum civic_err start_subscription(struct civic_db *db, int64_t account_id, int64_t plan_id,
                                         struct civic_billing_result *out)
{
	struct civic_param p[] = {CIVIC_PINT(account_id), CIVIC_PINT(plan_id)};
	struct civic_rows *r;
	enum civic_err err;
	const char *note = out->charged ? "first period"
	                                : "first period granted by an administrator";

	if ((err = civic_db_exec(db, SQL_START, p, 2, &r)) != CIVIC_OK)
		return err;
	out->subscription_id = (int64_t)r->insert_id;
	civic_rows_free(r);
	struct civic_param q[] = {CIVIC_PINT(out->subscription_id)};
	if ((err = civic_db_exec(db, SQL_PERIOD_END, q, 1, &r)) != CIVIC_OK)
		return err;
	copy(out->period_end, sizeof(out->period_end), civic_rows_get(r, 0, 0));
	civic_rows_free(r);
	return record_event(db, out->subscription_id, account_id, "charge", -out->charged,
	                    out->balance, note, NULL);
}

/* The body of civic_billing_set_plan, inside its transaction. */
static enum civic_err set_plan_locked(struct civic_db *db, int64_t account_id, const char *slug,
                                      bool charge, struct civic_billing_result *out)
{
	struct plan plan;
	struct current cur;
	enum civic_err err;

	if ((err = lock_account(db, account_id, &out->balance)) != CIVIC_OK) {
		out->why = CIVIC_BILLING_NO_ACCOUNT;
		return err;
	}
	if ((err = load_plan(db, SQL_PLAN_BY_SLUG, CIVIC_PSTR(slug), &plan)) != CIVIC_OK) {
		out->why = CIVIC_BILLING_NO_PLAN;
		return err;
	}
	copy(out->plan, sizeof(out->plan), plan.slug);
	out->price = plan.price;
	if (charge && plan.price > 0) {
		if (out->balance < plan.price) {
			out->why = CIVIC_BILLING_SHORT;
			return CIVIC_E_CONFLICT;
		}
		out->charged = plan.price;
		out->balance -= plan.price;
	}
	if ((err = lock_current(db, account_id, &cur)) != CIVIC_OK)
		return err;
	out->ended_id = cur.id;
	struct civic_param pa[] = {CIVIC_PINT(account_id)};
	struct civic_param pm[] = {CIVIC_PINT(plan.id), CIVIC_PINT(out->charged),
	                           CIVIC_PINT(account_id)};
	if ((cur.id && (err = civic_db_exec(db, SQL_END_CURRENT, pa, 1, NULL)) != CIVIC_OK) ||
	    (err = civic_db_exec(db, SQL_MOVE_ACCOUNT, pm, 3, NULL)) != CIVIC_OK)
		return err;
	/* A plan without a price has nothing to renew: no subscription. */
	return plan.price > 0 ? start_subscription(db, account_id, plan.id, out) : CIVIC_OK;
}

enum civic_err civic_billing_set_plan(struct civic_db *db, int64_t account_id, const char *slug,
                                      bool charge, struct civic_billing_result *out)
{
	enum civic_err err;

	*out = (struct civic_billing_result){0};
	if (slug == NULL) {
		out->why = CIVIC_BILLING_NO_PLAN;
		return CIVIC_E_NOT_FOUND;
	}
	if ((err = civic_db_begin(db)) != CIVIC_OK)
		return err;
	if ((err = set_plan_locked(db, account_id, slug, charge, out)) != CIVIC_OK ||
	    (err = civic_db_commit(db)) != CIVIC_OK) {
		civic_db_rollback(db);
		return err;
	}
	return CIVIC_OK;
}

/* ------------------------------------------------------------ coins credit */

enum civic_err civic_coins_credit(struct civic_db *db, int64_t account_id, int64_t coins,
                                  const char *note, int64_t *balance)
{
	int64_t before;
	enum civic_err err;

	if (coins < 1 || coins > CIVIC_COINS_CREDIT_MAX ||
	    (note && !civic_valid_text(note, CIVIC_BILLING_NOTE_MAX)))
		return CIVIC_E_VALIDATION;
	if ((err = civic_db_begin(db)) != CIVIC_OK)
		return err;
	if ((err = lock_account(db, account_id, &before)) != CIVIC_OK)
		goto fail;
	/* BIGINT: refuse rather than overflow (about 9e9 maximal credits). */
	if (before > INT64_MAX - coins) {
		err = CIVIC_E_VALIDATION;
		goto fail;
	}
	struct civic_param p[] = {CIVIC_PINT(coins), CIVIC_PINT(account_id)};
	if ((err = civic_db_exec(db, SQL_ADD_COINS, p, 2, NULL)) != CIVIC_OK ||
	    (err = record_event(db, 0, account_id, "credit", coins, before + coins, note, NULL)) !=
	            CIVIC_OK ||
	    (err = civic_db_commit(db)) != CIVIC_OK)
		goto fail;
	if (balance)
		*balance = before + coins;
	return CIVIC_OK;
fail:
	civic_db_rollback(db);
	return err;
}

/* ------------------------------------------------------------------ cancel */

static enum civic_err cancel_locked(struct civic_db *db, int64_t account_id,
                                    struct civic_billing_result *out)
{
	struct current cur;
	struct plan plan;
	enum civic_err err;

	if ((err = lock_account(db, account_id, &out->balance)) != CIVIC_OK) {
		out->why = CIVIC_BILLING_NO_ACCOUNT;
		return err;
	}
	if ((err = lock_current(db, account_id, &cur)) != CIVIC_OK)
		return err;
	if (cur.id == 0) {
		out->why = CIVIC_BILLING_NO_SUBSCRIPTION;
		return CIVIC_E_NOT_FOUND;
	}
	if ((err = load_plan(db, SQL_PLAN_BY_ID, CIVIC_PINT(cur.plan_id), &plan)) != CIVIC_OK)
		return err == CIVIC_E_NOT_FOUND ? CIVIC_E_INTERNAL : err;
	out->subscription_id = cur.id;
	out->price = plan.price;
	copy(out->plan, sizeof(out->plan), plan.slug);
	copy(out->period_end, sizeof(out->period_end), cur.end);
	if (strcmp(cur.status, "cancelled") == 0) {
		out->why = CIVIC_BILLING_ALREADY_CANCELLED;
		return CIVIC_E_CONFLICT;
	}
	struct civic_param ps[] = {CIVIC_PINT(cur.id)};
	return civic_db_exec(db, SQL_CANCEL, ps, 1, NULL);
}

enum civic_err civic_billing_cancel(struct civic_db *db, int64_t account_id,
                                    struct civic_billing_result *out)
{
	enum civic_err err;

	*out = (struct civic_billing_result){0};
	if ((err = civic_db_begin(db)) != CIVIC_OK)
		return err;
	if ((err = cancel_locked(db, account_id, out)) != CIVIC_OK ||
	    (err = civic_db_commit(db)) != CIVIC_OK) {
		civic_db_rollback(db);
		return err;
	}
	return CIVIC_OK;
}

/* ------------------------------------------------------------------ renew */

/* One due subscription under its locks, as the renewal sees it. */
struct renewal {
	int64_t id, account, plan_id, price, coins;
	char status[10];
	char end[20];       /* current_period_end */
	bool due;           /* end <= now */
	bool grace_over;    /* now >= end + grace_days */
	const char *now;    /* DATETIME of the run's clock */
	long grace_days;
	bool checked, charged, ended, demoted;
};

/* (Re)reads the subscription row, locked. */
static enum civic_err read_subscription(struct civic_db *db, struct renewal *s)
{
	struct civic_param p[] = {CIVIC_PSTR(s->now), CIVIC_PSTR(s->now), CIVIC_PINT(s->grace_days),
	                          CIVIC_PINT(s->id), CIVIC_PINT(s->account)};
	struct civic_rows *r;
	int64_t due = 0, over = 0;
	enum civic_err err;

	if ((err = civic_db_exec(db, SQL_LOCK_SUBSCRIPTION, p, 5, &r)) != CIVIC_OK)
		return err;
	if (r->nrows == 0) {
		civic_rows_free(r);
		return CIVIC_E_NOT_FOUND;
	}
	copy(s->status, sizeof(s->status), civic_rows_get(r, 0, 0));
	copy(s->end, sizeof(s->end), civic_rows_get(r, 0, 2));
	if (!civic_rows_int(r, 0, 1, &s->plan_id) || !civic_rows_int(r, 0, 3, &due) ||
	    !civic_rows_int(r, 0, 4, &over))
		err = CIVIC_E_INTERNAL;
	civic_rows_free(r);
	s->due = due != 0;
	s->grace_over = over != 0;
	return err;
}

static enum civic_err set_status(struct civic_db *db, struct renewal *s, const char *status)
{
	struct civic_param p[] = {CIVIC_PSTR(status), CIVIC_PINT(s->id)};

	copy(s->status, sizeof(s->status), status);
	return civic_db_exec(db, SQL_SET_STATUS, p, 2, NULL);
}

/* Ends the subscription and moves the account to free, unless an admin
 * already put it on another plan. */
static enum civic_err end_and_demote(struct civic_db *db, struct renewal *s)
{
	struct civic_param p[] = {CIVIC_PINT(s->account), CIVIC_PINT(s->plan_id)};
	struct civic_rows *r;
	enum civic_err err;

	if ((err = set_status(db, s, "ended")) != CIVIC_OK ||
	    (err = civic_db_exec(db, SQL_DEMOTE, p, 2, &r)) != CIVIC_OK)
		return err;
	s->ended = true;
	s->demoted = r->affected > 0;
	civic_rows_free(r);
	return CIVIC_OK;
}

/* Charges one period and moves the period on by a month. */
static enum civic_err charge_period(struct civic_db *db, struct renewal *s)
{
	struct civic_param pc[] = {CIVIC_PINT(-s->price), CIVIC_PINT(s->account)};
	struct civic_param pa[] = {CIVIC_PSTR(s->end), CIVIC_PINT(s->id)};
	char from[26], to[26], note[96], old_end[sizeof(s->end)];
	enum civic_err err;

	memcpy(old_end, s->end, sizeof(old_end));
	rfc3339(s->end, from);
	if ((err = civic_db_exec(db, SQL_ADD_COINS, pc, 2, NULL)) != CIVIC_OK ||
	    (err = civic_db_exec(db, SQL_ADVANCE, pa, 2, NULL)) != CIVIC_OK ||
	    (err = read_subscription(db, s)) != CIVIC_OK)
		return err;
	/* DATETIME text sorts as time. A row edited by hand (created_at after
	 * the period end) must not loop forever charging the same period. */
	if (strcmp(s->end, old_end) <= 0)
		return CIVIC_E_INTERNAL;
	s->coins -= s->price;
	s->charged = true;
	snprintf(note, sizeof(note), "renewal for %s to %s", from, rfc3339(s->end, to));
	return record_event(db, s->id, s->account, "charge", -s->price, s->coins, note, s->now);
}

/* The balance is short for the period ending at s->end: past_due once
 * per period (the status says it was already recorded), then the end of
 * the grace period ends the subscription. */
static enum civic_err charge_failed(struct civic_db *db, struct renewal *s)
{
	bool first = strcmp(s->status, "past_due") != 0;
	char note[CIVIC_BILLING_NOTE_MAX + 1];
	enum civic_err err;

	if (s->grace_over)
		snprintf(note, sizeof(note),
		         "renewal of %lld coins failed (balance %lld) and the %ld days of grace are over:"
		         " subscription ended, account moved to " CIVIC_FREE_PLAN,
		         (long long)s->price, (long long)s->coins, s->grace_days);
	else
		snprintf(note, sizeof(note),
		         "renewal of %lld coins failed (balance %lld): past due, the plan is kept for"
		         " %ld days of grace",
		         (long long)s->price, (long long)s->coins, s->grace_days);
	if (first || s->grace_over)
		if ((err = record_event(db, s->id, s->account, "failed_charge", 0, s->coins, note,
		                        s->now)) != CIVIC_OK)
			return err;
	if (s->grace_over)
		return end_and_demote(db, s);
	return first ? set_status(db, s, "past_due") : CIVIC_OK;
}

/* The body of one renewal, inside its transaction. */
static enum civic_err renew_locked(struct civic_db *db, struct renewal *s)
{
	struct plan plan;
	enum civic_err err;

	if ((err = lock_account(db, s->account, &s->coins)) != CIVIC_OK ||
	    (err = read_subscription(db, s)) != CIVIC_OK)
		return err;
	/* Another run got here first: nothing is due any more. */
	if (!s->due || strcmp(s->status, "ended") == 0)
		return CIVIC_OK;
	s->checked = true;
	if (strcmp(s->status, "cancelled") == 0)
		return end_and_demote(db, s);
	if ((err = load_plan(db, SQL_PLAN_BY_ID, CIVIC_PINT(s->plan_id), &plan)) != CIVIC_OK)
		return err == CIVIC_E_NOT_FOUND ? CIVIC_E_INTERNAL : err;
	s->price = plan.price;
	while (err == CIVIC_OK && s->due && s->coins >= s->price)
		err = charge_period(db, s);
	if (err == CIVIC_OK && s->due)
		err = charge_failed(db, s);
	return err;
}

static void count(struct civic_renew_summary *sum, const struct renewal *s)
{
	if (!s->checked)
		return;
	sum->checked++;
	sum->renewed += s->charged;
	sum->past_due += !s->ended && strcmp(s->status, "past_due") == 0;
	sum->ended += s->ended;
	sum->demoted += s->demoted;
}

/* One due subscription in its own transaction. */
static enum civic_err renew_one(struct civic_db *db, struct renewal *s,
                                struct civic_renew_summary *sum)
{
	enum civic_err err;

	if ((err = civic_db_begin(db)) != CIVIC_OK)
		return err;
	if ((err = renew_locked(db, s)) != CIVIC_OK || (err = civic_db_commit(db)) != CIVIC_OK) {
		civic_db_rollback(db);
		/* Gone since the list was read (account deleted): skip it. */
		return err == CIVIC_E_NOT_FOUND ? CIVIC_OK : err;
	}
	count(sum, s);
	return CIVIC_OK;
}

enum civic_err civic_billing_renew(struct civic_db *db, time_t now, long grace_days,
                                   int64_t account_id, struct civic_renew_summary *sum)
{
	char at[20];
	int64_t last = 0;
	enum civic_err err;

	*sum = (struct civic_renew_summary){0};
	civic_time_datetime(now, at, sizeof(at));
	for (;;) {
		struct civic_param p[] = {CIVIC_PSTR(at), CIVIC_PINT(account_id), CIVIC_PINT(account_id),
		                          CIVIC_PINT(last)};
		struct civic_rows *due;

		if ((err = civic_db_exec(db, SQL_DUE, p, 4, &due)) != CIVIC_OK)
			return err;
		if (due->nrows == 0) {
			civic_rows_free(due);
			return CIVIC_OK;
		}
		for (size_t i = 0; i < due->nrows && err == CIVIC_OK; i++) {
			struct renewal s = {.now = at, .grace_days = grace_days};
			if (!civic_rows_int(due, i, 0, &s.id) || !civic_rows_int(due, i, 1, &s.account))
				err = CIVIC_E_INTERNAL;
			else
				err = renew_one(db, &s, sum);
			last = s.id;
		}
		civic_rows_free(due);
		if (err != CIVIC_OK)
			return err;
	}
}
