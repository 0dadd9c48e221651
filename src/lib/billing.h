/* Billing (SPEC §3, seed 003 "Plan + key tier interaction"): a coins
 * balance per account, at most one current subscription per account
 * (status active, cancelled or past_due) on a paid plan, periods of one
 * calendar month, and the daily renewal. civic-admin uses these now and
 * the console will reuse them for subscribe and cancel.
 *
 * Every operation runs in one transaction that locks the account row
 * first (SELECT ... FOR UPDATE) and the subscription row second, one
 * order for everybody: concurrent commands and overlapping renewal runs
 * serialise per account, so nothing is charged twice and a rerun finds
 * nothing left to do.
 *
 * payment_events.coins is the signed change of the balance (a credit is
 * positive, a charge negative, a failed charge 0), so each event's
 * balance_after is the previous one plus its coins. */
#ifndef CIVIC_BILLING_H
#define CIVIC_BILLING_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "db.h"
#include "err.h"

#define CIVIC_COINS_CREDIT_MAX 1000000000LL /* coins per credit */
#define CIVIC_BILLING_NOTE_MAX 200          /* characters, payment_events.note */
#define CIVIC_FREE_PLAN "free"              /* where cancelled and unpaid accounts go */

/* Why an operation did not happen (CIVIC_BILLING_DONE when it did). */
enum civic_billing_why {
	CIVIC_BILLING_DONE,
	CIVIC_BILLING_NO_ACCOUNT,       /* CIVIC_E_NOT_FOUND */
	CIVIC_BILLING_NO_PLAN,          /* CIVIC_E_NOT_FOUND */
	CIVIC_BILLING_SHORT,            /* CIVIC_E_CONFLICT: balance below the price */
	CIVIC_BILLING_NO_SUBSCRIPTION,  /* CIVIC_E_NOT_FOUND: nothing current to cancel */
	CIVIC_BILLING_ALREADY_CANCELLED,/* CIVIC_E_CONFLICT */
};

/* What civic_billing_set_plan and civic_billing_cancel did. */
struct civic_billing_result {
	enum civic_billing_why why;
	int64_t subscription_id; /* set_plan: the new one; cancel: the cancelled one; 0 if none */
	int64_t ended_id;        /* set_plan: the subscription it ended, 0 if none */
	int64_t price;           /* the plan's price_coins */
	int64_t charged;         /* coins deducted (0 when granted) */
	int64_t balance;         /* the balance afterwards (before, when refused SHORT) */
	char plan[33];           /* the plan's slug as stored */
	char period_end[20];     /* DATETIME (UTC) of the current period's end, "" if none */
};

/* Moves account_id to plan slug, at once for every key of the account
 * (the per-request check reads accounts.plan_id). A plan with a price
 * ends the current subscription and starts a new one now for one month:
 * with charge, price_coins are deducted (refused with
 * CIVIC_BILLING_SHORT, nothing changed, when the balance is short);
 * without, the first period is granted by an administrator. Either way a
 * 'charge' event is recorded. A plan without a price (free) only ends
 * the current subscription. No proration. out must not be NULL. Errors:
 * CIVIC_E_NOT_FOUND and CIVIC_E_CONFLICT with out->why set, database
 * errors. */
enum civic_err civic_billing_set_plan(struct civic_db *db, int64_t account_id, const char *slug,
                                      bool charge, struct civic_billing_result *out);

/* Adds coins (1..CIVIC_COINS_CREDIT_MAX) to account_id's balance and
 * records a 'credit' event; note may be NULL, else it must pass
 * civic_valid_text(note, CIVIC_BILLING_NOTE_MAX). *balance (may be NULL)
 * receives the new balance. Errors: CIVIC_E_VALIDATION (coins or note),
 * CIVIC_E_NOT_FOUND (no such account), database errors. */
enum civic_err civic_coins_credit(struct civic_db *db, int64_t account_id, int64_t coins,
                                  const char *note, int64_t *balance);

/* Cancels account_id's current subscription at the end of its period:
 * status cancelled, cancel_at_period_end 1; the plan stays until the
 * renewal after the period end moves the account to free. out must not
 * be NULL. Errors: CIVIC_E_NOT_FOUND (why NO_ACCOUNT or
 * NO_SUBSCRIPTION), CIVIC_E_CONFLICT (ALREADY_CANCELLED), database
 * errors. */
enum civic_err civic_billing_cancel(struct civic_db *db, int64_t account_id,
                                    struct civic_billing_result *out);

/* What one renewal run did; counts of subscriptions unless noted. */
struct civic_renew_summary {
	int64_t checked;  /* due (period end <= now) when locked */
	int64_t renewed;  /* at least one period charged; active again */
	int64_t past_due; /* left past_due, within the grace period */
	int64_t ended;    /* cancelled at period end, or unpaid after the grace period */
	int64_t demoted;  /* accounts moved to free */
};

/* Renews every subscription whose period ended at or before now, each in
 * its own transaction: a cancelled one ends and its account goes to
 * free; an active or past_due one is charged price_coins per period
 * (periods counted from the subscription's start, so a missed month is
 * caught up and the 31st stays the 31st where the month has one) while
 * the balance allows, else it goes past_due (one 'failed_charge' event
 * per period) and, once now >= period end + grace_days, ends with its
 * account on free. Events carry now as their time. account_id limits the
 * run to one account (0: every account). A rerun with the same now
 * changes nothing. *s is filled even on error (what was done).
 * Errors: database errors (the subscriptions already done stay done). */
enum civic_err civic_billing_renew(struct civic_db *db, time_t now, long grace_days,
                                   int64_t account_id, struct civic_renew_summary *s);

#endif
