/* Fan-out: each new alert (an outbox row the risk import wrote) becomes
 * one dispatch row per matching live destination, in one transaction
 * with marking the alert done. The alert row is claimed with SKIP
 * LOCKED, so overlapping runs fan out different alerts, and the unique
 * key (alert_id, destination_id) means nothing is ever created twice.
 *
 * Alerts per day count one per alert and account on the UTC day of the
 * fan-out: an alert reaching two of an account's destinations is one
 * alert. Beyond the plan's max_alerts_per_day the account's rows for
 * the alert are created as skipped_quota, so the history shows them. */
#include "dispatch.h"

#include "log.h"

static const char SQL_NEXT_ALERT[] =
	"SELECT id, stream, level FROM alerts WHERE fanned_out_at IS NULL"
	" ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED";
/* One row per destination, also when two of its subscriptions match
 * (risk:FR and risk:*). */
static const char SQL_CREATE_DISPATCHES[] =
	"INSERT INTO alert_dispatches (alert_id, destination_id, account_id, status,"
	" next_attempt_at, created_at)"
	" SELECT ?, s.destination_id, MIN(s.account_id), 'pending', UTC_TIMESTAMP(),"
	" UTC_TIMESTAMP()"
	" FROM alert_subscriptions s JOIN alert_destinations d ON d.id = s.destination_id"
	" WHERE s.stream IN (?, 'risk:*') AND s.cancelled_at IS NULL AND s.min_level <= ?"
	" AND d.status = 'active' AND d.deleted_at IS NULL"
	" GROUP BY s.destination_id"
	" ON DUPLICATE KEY UPDATE alert_dispatches.id = alert_dispatches.id";
static const char SQL_ACCOUNTS[] =
	"SELECT x.account_id, p.max_alerts_per_day, COUNT(*) FROM alert_dispatches x"
	" JOIN accounts a ON a.id = x.account_id JOIN plans p ON p.id = a.plan_id"
	" WHERE x.alert_id = ? GROUP BY x.account_id, p.max_alerts_per_day";
/* Counts the alert when the account is under its cap: affected rows are
 * 1 (first of the day), 2 (counted) or 0 (at the cap: unchanged). */
static const char SQL_COUNT_ALERT[] =
	"INSERT INTO account_alerts_daily (account_id, day, alerts) VALUES (?, UTC_DATE(), 1)"
	" ON DUPLICATE KEY UPDATE alerts = IF(alerts < ?, alerts + 1, alerts)";
static const char SQL_SKIP[] =
	"UPDATE alert_dispatches SET status = 'skipped_quota', next_attempt_at = NULL"
	" WHERE alert_id = ? AND account_id = ?";
static const char SQL_DONE[] = "UPDATE alerts SET fanned_out_at = UTC_TIMESTAMP() WHERE id = ?";

/* Applies each account's alerts/day cap to the alert's new rows. */
static enum civic_err apply_caps(struct dispatcher *d, int64_t alert)
{
	struct civic_param p = CIVIC_PINT(alert);
	struct civic_rows *r;
	enum civic_err err;

	if ((err = civic_db_exec(d->db, SQL_ACCOUNTS, &p, 1, &r)) != CIVIC_OK)
		return err;
	for (size_t i = 0; i < r->nrows && err == CIVIC_OK; i++) {
		int64_t account = 0, cap = 0, rows = 0;
		struct civic_rows *c = NULL;
		bool over = true;

		civic_rows_int(r, i, 0, &account);
		civic_rows_int(r, i, 1, &cap);
		civic_rows_int(r, i, 2, &rows);
		if (cap > 0) {
			struct civic_param q[] = {CIVIC_PINT(account), CIVIC_PINT(cap)};
			if ((err = civic_db_exec(d->db, SQL_COUNT_ALERT, q, 2, &c)) != CIVIC_OK)
				break;
			over = c->affected == 0;
			civic_rows_free(c);
		}
		if (over) {
			struct civic_param q[] = {CIVIC_PINT(alert), CIVIC_PINT(account)};
			err = civic_db_exec(d->db, SQL_SKIP, q, 2, NULL);
			d->n.over_quota += rows;
		} else {
			d->n.dispatches += rows;
		}
	}
	civic_rows_free(r);
	return err;
}

/* Fans out one alert; *none is set when no alert was waiting. */
static enum civic_err fan_out_one(struct dispatcher *d, bool *none)
{
	struct civic_rows *r = NULL;
	enum civic_err err;
	int64_t alert = 0, level = 0;

	*none = false;
	if ((err = civic_db_begin(d->db)) != CIVIC_OK)
		return err;
	if ((err = civic_db_exec(d->db, SQL_NEXT_ALERT, NULL, 0, &r)) != CIVIC_OK)
		goto fail;
	if (r->nrows == 0) {
		*none = true;
		civic_rows_free(r);
		civic_db_rollback(d->db);
		return CIVIC_OK;
	}
	civic_rows_int(r, 0, 0, &alert);
	civic_rows_int(r, 0, 2, &level);
	{
		struct civic_param p[] = {CIVIC_PINT(alert), CIVIC_PSTR(civic_rows_get(r, 0, 1)),
		                          CIVIC_PINT(level)};
		struct civic_param id = CIVIC_PINT(alert);

		if ((err = civic_db_exec(d->db, SQL_CREATE_DISPATCHES, p, 3, NULL)) != CIVIC_OK ||
		    (err = apply_caps(d, alert)) != CIVIC_OK ||
		    (err = civic_db_exec(d->db, SQL_DONE, &id, 1, NULL)) != CIVIC_OK ||
		    (err = civic_db_commit(d->db)) != CIVIC_OK)
			goto fail;
	}
	civic_rows_free(r);
	d->n.alerts++;
	return CIVIC_OK;
fail:
	civic_db_rollback(d->db);
	civic_rows_free(r);
	return err;
}

bool dispatch_fanout(struct dispatcher *d)
{
	struct dispatch_counts before = d->n;
	bool none = false;
	enum civic_err err = CIVIC_OK;

	while (!none) {
		if ((err = fan_out_one(d, &none)) != CIVIC_OK) {
			d->n = before; /* that alert was rolled back */
			civic_log_error("fan-out stopped: %s", civic_err_code(err));
			return false;
		}
		before = d->n;
	}
	return true;
}
