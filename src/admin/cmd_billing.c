/* civic-admin coins credit | billing renew | billing cancel: the CLI of
 * billing.h (the rules and the locking live there). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "admin.h"
#include "billing.h"
#include "timeutil.h"

/* How far ahead of the real clock --now may be: a typo in the year
 * would otherwise charge years of renewals in one run. */
#define NOW_AHEAD_MAX (366 * 86400)

int admin_coins_credit(struct admin *a, int argc, char **argv)
{
	enum { ACCOUNT, COINS, NOTE, N };
	static const struct admin_opt opts[N] = {
		[ACCOUNT] = {"account", ADMIN_O_INT, true, 1, INT64_MAX, "an account id"},
		[COINS] = {"coins", ADMIN_O_INT, true, 1, CIVIC_COINS_CREDIT_MAX, "a number of coins"},
		[NOTE] = {"note", ADMIN_O_STR, false, 0, 0, NULL},
	};
	struct admin_val v[N];
	int64_t balance;
	enum civic_err err;
	int rc;

	if (!admin_parse_opts(a, argc, argv, opts, N, v, &rc))
		return rc;
	if (v[NOTE].present && !civic_valid_text(v[NOTE].str, CIVIC_BILLING_NOTE_MAX)) {
		admin_error(a, "--note: expected 1 to %d characters of UTF-8 text without control "
		               "characters",
		            CIVIC_BILLING_NOTE_MAX);
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = admin_open(a)) != ADMIN_EXIT_OK)
		return rc;
	err = civic_coins_credit(a->db, v[ACCOUNT].num, v[COINS].num, v[NOTE].str, &balance);
	if (err == CIVIC_E_NOT_FOUND) {
		admin_error(a, "account %lld not found", (long long)v[ACCOUNT].num);
		return ADMIN_EXIT_FAIL;
	}
	if (err == CIVIC_E_VALIDATION) { /* the arguments were checked: only an overflow is left */
		admin_error(a, "the balance of account %lld would overflow", (long long)v[ACCOUNT].num);
		return ADMIN_EXIT_FAIL;
	}
	if (err != CIVIC_OK)
		return admin_fail(a, err, "crediting the coins");
	if (a->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "account_id", json_object_new_int64(v[ACCOUNT].num));
		json_object_object_add(o, "credited", json_object_new_int64(v[COINS].num));
		json_object_object_add(o, "coins", json_object_new_int64(balance));
		return admin_print_json(o);
	}
	printf("account %lld: %lld coins credited; balance %lld coins\n", (long long)v[ACCOUNT].num,
	       (long long)v[COINS].num, (long long)balance);
	return ADMIN_EXIT_OK;
}

/* A two-digit field of a time ("05"): the number parser refuses the
 * leading zero on purpose. */
static bool two_digits(const char *p, int max, int *out)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return false;
	*out = (p[0] - '0') * 10 + (p[1] - '0');
	return *out <= max;
}

/* RFC 3339 with any offset ("...+02:00"), besides the UTC forms that
 * civic_time_parse reads. */
static bool parse_now(const char *s, time_t *out)
{
	char utc[21];
	int h, m;

	if (civic_time_parse(s, out))
		return true;
	if (strlen(s) != 25 || s[10] != 'T' || (s[19] != '+' && s[19] != '-') || s[22] != ':' ||
	    !two_digits(s + 20, 23, &h) || !two_digits(s + 23, 59, &m))
		return false;
	memcpy(utc, s, 19);
	memcpy(utc + 19, "Z", 2);
	if (!civic_time_parse(utc, out))
		return false;
	*out -= (s[19] == '+' ? 1 : -1) * (time_t)(h * 3600 + m * 60);
	return *out >= 0;
}

static int renew_report(struct admin *a, time_t now, const struct civic_renew_summary *s)
{
	const struct {
		const char *name;
		int64_t n;
	} counts[] = {
		{"checked", s->checked}, {"renewed", s->renewed}, {"past_due", s->past_due},
		{"ended", s->ended},     {"demoted", s->demoted},
	};
	char at[26];

	civic_time_rfc3339(now, at, sizeof(at));
	if (a->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "now", json_object_new_string(at));
		for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
			json_object_object_add(o, counts[i].name, json_object_new_int64(counts[i].n));
		return admin_print_json(o);
	}
	printf("billing renew at %s: %lld due, %lld renewed, %lld past due, %lld ended, "
	       "%lld account(s) moved to " CIVIC_FREE_PLAN "\n",
	       at, (long long)s->checked, (long long)s->renewed, (long long)s->past_due,
	       (long long)s->ended, (long long)s->demoted);
	return ADMIN_EXIT_OK;
}

int admin_billing_renew(struct admin *a, int argc, char **argv)
{
	enum { NOW, ACCOUNT, N };
	static const struct admin_opt opts[N] = {
		[NOW] = {"now", ADMIN_O_STR, false, 0, 0, NULL},
		[ACCOUNT] = {"account", ADMIN_O_INT, false, 1, INT64_MAX, "an account id"},
	};
	struct civic_renew_summary s;
	struct admin_val v[N];
	time_t now = time(NULL), at = now;
	enum civic_err err;
	int rc;

	if (!admin_parse_opts(a, argc, argv, opts, N, v, &rc))
		return rc;
	if (v[NOW].present && !parse_now(v[NOW].str, &at)) {
		admin_error(a, "--now: expected an RFC 3339 time such as 2026-07-01T00:00:00Z, got '%s'",
		            v[NOW].str);
		return ADMIN_EXIT_USAGE;
	}
	if (at > now + NOW_AHEAD_MAX) {
		admin_error(a, "--now: %s is more than 366 days ahead of the clock", v[NOW].str);
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = admin_open(a)) != ADMIN_EXIT_OK)
		return rc;
	err = civic_billing_renew(a->db, at, a->cfg.billing_grace_days,
	                          v[ACCOUNT].present ? v[ACCOUNT].num : 0, &s);
	if (err != CIVIC_OK) {
		/* What was done is committed; a rerun carries on from there. */
		rc = admin_fail(a, err, "renewing the subscriptions (a rerun continues)");
		if (!a->json)
			renew_report(a, at, &s);
		return rc;
	}
	return renew_report(a, at, &s);
}

static int cancel_refused(struct admin *a, enum civic_err err, int64_t account,
                          const struct civic_billing_result *r)
{
	char end[26];

	switch (r->why) {
	case CIVIC_BILLING_NO_ACCOUNT:
		admin_error(a, "account %lld not found", (long long)account);
		return ADMIN_EXIT_FAIL;
	case CIVIC_BILLING_NO_SUBSCRIPTION:
		admin_error(a, "account %lld has no current subscription to cancel "
		               "(civic-admin plan set --plan " CIVIC_FREE_PLAN " changes the plan at once)",
		            (long long)account);
		return ADMIN_EXIT_FAIL;
	case CIVIC_BILLING_ALREADY_CANCELLED:
		admin_error(a, "subscription %lld of account %lld is already cancelled; it ends at %s",
		            (long long)r->subscription_id, (long long)account,
		            admin_time_text(r->period_end, end));
		return ADMIN_EXIT_FAIL;
	default:
		return admin_fail(a, err, "cancelling the subscription");
	}
}

int admin_billing_cancel(struct admin *a, int argc, char **argv)
{
	enum { ACCOUNT, N };
	static const struct admin_opt opts[N] = {
		[ACCOUNT] = {"account", ADMIN_O_INT, true, 1, INT64_MAX, "an account id"},
	};
	struct civic_billing_result r;
	struct admin_val v[N];
	char end[26];
	enum civic_err err;
	int rc;

	if (!admin_parse_opts(a, argc, argv, opts, N, v, &rc) ||
	    (rc = admin_open(a)) != ADMIN_EXIT_OK)
		return rc;
	if ((err = civic_billing_cancel(a->db, v[ACCOUNT].num, &r)) != CIVIC_OK)
		return cancel_refused(a, err, v[ACCOUNT].num, &r);
	if (a->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "account_id", json_object_new_int64(v[ACCOUNT].num));
		json_object_object_add(o, "subscription_id", json_object_new_int64(r.subscription_id));
		json_object_object_add(o, "plan", json_object_new_string(r.plan));
		json_object_object_add(o, "status", json_object_new_string("cancelled"));
		admin_json_time(o, "current_period_end", r.period_end);
		return admin_print_json(o);
	}
	printf("subscription %lld of account %lld cancelled: plan %s stays until %s, then the "
	       "account moves to " CIVIC_FREE_PLAN "\n",
	       (long long)r.subscription_id, (long long)v[ACCOUNT].num, r.plan,
	       admin_time_text(r.period_end, end));
	return ADMIN_EXIT_OK;
}
