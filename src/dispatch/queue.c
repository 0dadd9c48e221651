/* The three queues: claiming due rows under a lease, turning them into
 * jobs, and recording what happened.
 *
 * Claim: in one short transaction, SELECT … FOR UPDATE SKIP LOCKED picks
 * due rows nobody holds (a row whose lease has not expired is not due),
 * and an UPDATE stamps them with a random batch token (claim) and a
 * lease. After the commit the rows are ours until the lease expires; a
 * run killed meanwhile leaves them to whichever run comes after the
 * expiry. Outcomes are written only while the row still carries our
 * token (AND claim = ?), so a run that overran its lease cannot undo
 * the newer run's result; its attempt is still recorded, because it
 * happened.
 *
 * Record: all outcomes that finished together go in one transaction,
 * taking destination rows in id order, so two runs cannot deadlock on
 * them; a deadlock or lock timeout anyway is retried. */
#include "dispatch.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "countries.h"
#include "email_tokens.h"
#include "log.h"
#include "risk.h"
#include "timeutil.h"
#include "webhook_secret.h"

#define RFC3339(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"
#define Q8 "?,?,?,?,?,?,?,?"
#define Q64 Q8 "," Q8 "," Q8 "," Q8 "," Q8 "," Q8 "," Q8 "," Q8
#define DUE                                                                                  \
	" next_attempt_at <= UTC_TIMESTAMP()"                                                   \
	" AND (lease_until IS NULL OR lease_until <= UTC_TIMESTAMP())"

/* Per queue: the due rows, the stamp, and the rows as jobs. */
struct queue_sql {
	const char *due, *stamp, *load;
};

static const struct queue_sql sql[] = {
	[JOB_DISPATCH] = {
		"SELECT id FROM alert_dispatches WHERE status IN ('pending', 'retrying') AND" DUE
		" LIMIT ? FOR UPDATE SKIP LOCKED",
		"UPDATE alert_dispatches SET claim = ?, lease_until = UTC_TIMESTAMP()"
		" + INTERVAL ? SECOND WHERE id IN (" Q64 ")",
		"SELECT x.id, x.account_id, x.attempts, d.id, d.channel, d.identifier, d.label,"
		" d.deleted_at IS NOT NULL OR d.status = 'disabled', d.signing_secret_enc,"
		" a.id, a.stream, a.level, a.previous_level, " RFC3339("a.created_at") ","
		" r.country, r.score, r.summary, " RFC3339("r.assessed_at")
		" FROM alert_dispatches x JOIN alert_destinations d ON d.id = x.destination_id"
		" JOIN alerts a ON a.id = x.alert_id JOIN risk_assessments r ON r.id = a.assessment_id"
		" WHERE x.claim = ?",
	},
	[JOB_MAIL] = {
		"SELECT id FROM mail_queue WHERE status = 'pending' AND" DUE
		" LIMIT ? FOR UPDATE SKIP LOCKED",
		"UPDATE mail_queue SET claim = ?, lease_until = UTC_TIMESTAMP()"
		" + INTERVAL ? SECOND WHERE id IN (" Q64 ")",
		"SELECT m.id, m.account_id, m.attempts, COALESCE(m.destination_id, 0), m.purpose,"
		" m.to_address, d.label, d.deleted_at IS NOT NULL, c.first_name, c.email"
		" FROM mail_queue m JOIN accounts c ON c.id = m.account_id"
		" LEFT JOIN alert_destinations d ON d.id = m.destination_id WHERE m.claim = ?",
	},
	[JOB_CHECK] = {
		"SELECT destination_id FROM webhook_checks WHERE status = 'pending' AND" DUE
		" LIMIT ? FOR UPDATE SKIP LOCKED",
		"UPDATE webhook_checks SET claim = ?, lease_until = UTC_TIMESTAMP()"
		" + INTERVAL ? SECOND WHERE destination_id IN (" Q64 ")",
		"SELECT c.destination_id, c.account_id, c.attempts, d.id, d.channel, d.identifier,"
		" d.label, d.deleted_at IS NOT NULL OR d.status <> 'pending', d.signing_secret_enc, "
		RFC3339("c.created_at")
		" FROM webhook_checks c JOIN alert_destinations d ON d.id = c.destination_id"
		" WHERE c.claim = ?",
	},
};

/* The columns the three load queries share. */
enum { C_ID, C_ACCOUNT, C_ATTEMPTS, C_DESTINATION };
/* Dispatch and check rows, after C_DESTINATION. */
enum { C_CHANNEL = 4, C_IDENTIFIER, C_LABEL, C_GONE, C_SECRET };
enum { C_ALERT = 9, C_STREAM, C_LEVEL, C_PREVIOUS, C_CREATED, C_COUNTRY, C_SCORE,
       C_SUMMARY, C_ASSESSED };
enum { C_CHECK_CREATED = 9 };
/* Mail rows, after C_DESTINATION. */
enum { C_PURPOSE = 4, C_TO, C_MAIL_LABEL, C_DEST_GONE, C_FIRST_NAME, C_ACCOUNT_EMAIL };

static const char SQL_NEXT_DUE[] =
	"SELECT GREATEST(0, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), MIN(t))) FROM ("
	" SELECT MIN(GREATEST(next_attempt_at, COALESCE(lease_until, next_attempt_at))) t"
	"  FROM alert_dispatches WHERE status IN ('pending', 'retrying')"
	" UNION ALL SELECT MIN(GREATEST(next_attempt_at, COALESCE(lease_until, next_attempt_at)))"
	"  FROM mail_queue WHERE status = 'pending'"
	" UNION ALL SELECT MIN(GREATEST(next_attempt_at, COALESCE(lease_until, next_attempt_at)))"
	"  FROM webhook_checks WHERE status = 'pending') due";

/* ------------------------------------------------------------- retries */

/* After attempt n fails, the next comes this many seconds later:
 * immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; attempt 9 is
 * the last. */
static const long schedule[] = {0, 5, 300, 1800, 7200, 18000, 36000, 36000};
#define RETRY_AFTER_MAX 86400

long queue_retry_delay(long n)
{
	if (n < 1 || n > (long)(sizeof(schedule) / sizeof(schedule[0])))
		return -1;
	return schedule[n - 1];
}

/* ---------------------------------------------------------------- jobs */

void job_free(struct job *job)
{
	if (job == NULL)
		return;
	free(job->target);
	free(job->label);
	free(job->template);
	free(job->event_type);
	free(job->event_time);
	json_object_put(job->data);
	civic_buf_free(&job->body);
	civic_buf_free(&job->html);
	civic_buf_free(&job->subject);
	civic_buf_free(&job->reply);
	if (job->easy)
		curl_easy_cleanup(job->easy);
	curl_slist_free_all(job->headers);
	curl_slist_free_all(job->rcpt);
	curl_mime_free(job->mime);
	if (job->wa_used)
		civic_whatsapp_call_free(&job->wa);
	sodium_memzero(job->key, sizeof(job->key));
	free(job);
}

static struct job *job_new(enum job_kind kind, uint64_t claim, const struct civic_rows *r,
                           size_t i)
{
	struct job *job = calloc(1, sizeof(*job));
	int64_t v = 0;

	if (job == NULL)
		return NULL;
	job->kind = kind;
	job->claim = claim;
	civic_rows_int(r, i, C_ID, &job->id);
	civic_rows_int(r, i, C_ACCOUNT, &job->account_id);
	civic_rows_int(r, i, C_ATTEMPTS, &v);
	job->attempts = (long)v;
	civic_rows_int(r, i, C_DESTINATION, &job->destination_id);
	civic_buf_init(&job->body, 1024 * 1024);
	civic_buf_init(&job->html, 1024 * 1024);
	civic_buf_init(&job->subject, 4096);
	civic_buf_init(&job->reply, DISPATCH_REPLY_MAX);
	job->data = json_object_new_object();
	return job;
}

void job_error(struct job *job, bool permanent, const char *fmt, ...)
{
	va_list ap;

	job->permanent |= permanent;
	va_start(ap, fmt);
	vsnprintf(job->error, sizeof(job->error), fmt, ap);
	va_end(ap);
}

/* Marks job as not attempted: it fails at once, without retries. */
static void skip(struct job *job, const char *why)
{
	job->skipped = true;
	job_error(job, true, "%s", why);
}

static void put_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void put_int(json_object *o, const char *k, const struct civic_rows *r, size_t i,
                    size_t col)
{
	int64_t v;
	json_object_object_add(o, k, civic_rows_int(r, i, col, &v) ? json_object_new_int64(v)
	                                                           : NULL);
}

/* The word for a level ("high"), null when there is none. */
static void put_label(json_object *o, const char *k, const struct civic_rows *r, size_t i,
                      size_t col)
{
	int64_t v = 0;
	put_str(o, k, civic_rows_int(r, i, col, &v) ? civic_risk_level_label((int)v) : NULL);
}

static enum job_channel channel_of(const char *s)
{
	if (s && strcmp(s, "webhook") == 0)
		return CH_WEBHOOK;
	if (s && strcmp(s, "whatsapp") == 0)
		return CH_WHATSAPP;
	return CH_EMAIL;
}

/* The destination's part of a dispatch or check row. */
static void load_destination(struct dispatcher *d, struct job *job, const struct civic_rows *r,
                             size_t i)
{
	const char *gone = civic_rows_get(r, i, C_GONE);

	job->channel = channel_of(civic_rows_get(r, i, C_CHANNEL));
	job->target = strdup(civic_rows_get(r, i, C_IDENTIFIER) ?: "");
	job->label = strdup(civic_rows_get(r, i, C_LABEL) ?: "");
	if (gone && strcmp(gone, "1") == 0)
		skip(job, "destination deleted or disabled");
	else if (job->channel == CH_WEBHOOK &&
	         !civic_webhook_secret_open(&d->cfg->pepper, job->account_id,
	                                    (const unsigned char *)civic_rows_get(r, i, C_SECRET),
	                                    civic_rows_len(r, i, C_SECRET), job->key))
		skip(job, "the signing secret cannot be opened (pepper changed?)");
}

static void load_dispatch(struct dispatcher *d, struct job *job, const struct civic_rows *r,
                          size_t i)
{
	const char *country = civic_rows_get(r, i, C_COUNTRY);
	const struct civic_country *c = country ? civic_countries_find(country) : NULL;
	json_object *o = job->data;

	load_destination(d, job, r, i);
	snprintf(job->msg_id, sizeof(job->msg_id), "msg_%lld", (long long)job->id);
	job->event_type = strdup("risk.level_changed");
	job->event_time = strdup(civic_rows_get(r, i, C_CREATED) ?: "");
	job->template = strdup("alert");
	json_object_object_add(o, "dispatch_id", json_object_new_int64(job->id));
	put_int(o, "alert_id", r, i, C_ALERT);
	put_str(o, "stream", civic_rows_get(r, i, C_STREAM));
	put_str(o, "country", country);
	put_str(o, "country_name", c ? c->name : country);
	put_int(o, "level", r, i, C_LEVEL);
	put_int(o, "previous_level", r, i, C_PREVIOUS);
	put_label(o, "level_label", r, i, C_LEVEL);
	put_label(o, "previous_level_label", r, i, C_PREVIOUS);
	put_int(o, "score", r, i, C_SCORE);
	put_str(o, "summary", civic_rows_get(r, i, C_SUMMARY));
	put_str(o, "assessed_at", civic_rows_get(r, i, C_ASSESSED));
}

static void load_check(struct dispatcher *d, struct job *job, const struct civic_rows *r,
                       size_t i)
{
	load_destination(d, job, r, i);
	if (job->skipped)
		job_error(job, false, "destination no longer pending");
	snprintf(job->msg_id, sizeof(job->msg_id), "msg_check_%lld", (long long)job->id);
	job->event_type = strdup("destination.verification");
	job->event_time = strdup(civic_rows_get(r, i, C_CHECK_CREATED) ?: "");
	json_object_object_add(job->data, "destination_id", json_object_new_int64(job->id));
	put_str(job->data, "label", job->label);
}

/* A mail row: its template and, for the kinds that carry a link, a
 * freshly minted token (only its hash is stored). */
static void load_mail(struct dispatcher *d, struct job *job, const struct civic_rows *r,
                      size_t i)
{
	static const struct {
		const char *purpose, *path;
		enum civic_email_purpose token;
	} kinds[] = {
		{"confirm_destination", "/v1/alert-destinations/confirm/",
		 CIVIC_EMAIL_CONFIRM_DESTINATION},
		{"verify_email", "/console/verify", CIVIC_EMAIL_VERIFY},
		{"reset_password", "/console/reset", CIVIC_EMAIL_RESET_PASSWORD},
		{"destination_disabled", NULL, 0},
	};
	const char *purpose = civic_rows_get(r, i, C_PURPOSE), *gone;
	char token[CIVIC_LINK_TOKEN_LEN + 1], link[1024];
	time_t expires;
	size_t k;

	job->channel = CH_EMAIL;
	job->target = strdup(civic_rows_get(r, i, C_TO) ?: "");
	job->label = strdup(civic_rows_get(r, i, C_MAIL_LABEL) ?: "");
	put_str(job->data, "first_name", civic_rows_get(r, i, C_FIRST_NAME));
	put_str(job->data, "account_email", civic_rows_get(r, i, C_ACCOUNT_EMAIL));
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (purpose && strcmp(purpose, kinds[k].purpose) == 0)
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0])) {
		skip(job, "unknown mail purpose");
		return;
	}
	job->template = strdup(kinds[k].purpose);
	gone = civic_rows_get(r, i, C_DEST_GONE);
	if (kinds[k].token == CIVIC_EMAIL_CONFIRM_DESTINATION && gone && strcmp(gone, "1") == 0) {
		skip(job, "destination deleted");
		return;
	}
	if (kinds[k].path == NULL)
		return;
	if (civic_email_token_mint(d->db, d->cfg, kinds[k].token, job->account_id,
	                           job->destination_id, token, &expires) != CIVIC_OK) {
		/* Not the recipient's fault: try again later. */
		job_error(job, false, "could not mint the link token");
		job->skipped = true;
		return;
	}
	snprintf(link, sizeof(link), "%s%s?token=%s", d->cfg->base_url, kinds[k].path, token);
	put_str(job->data, "link", link);
	civic_time_rfc3339(expires, link, sizeof(link));
	put_str(job->data, "expires_at", link);
	json_object_object_add(job->data, "link_hours",
	                       json_object_new_int64(civic_email_token_hours(d->cfg, kinds[k].token)));
	sodium_memzero(token, sizeof(token));
}

/* ---------------------------------------------------------------- claim */

static enum civic_err stamp(struct dispatcher *d, enum job_kind kind, long max, uint64_t claim,
                            long *n)
{
	struct civic_param lim = CIVIC_PINT(max), p[2 + DISPATCH_CLAIM_MAX];
	struct civic_rows *r = NULL;
	enum civic_err err;

	if ((err = civic_db_exec(d->db, sql[kind].due, &lim, 1, &r)) != CIVIC_OK)
		return err;
	*n = (long)r->nrows;
	p[0] = CIVIC_PINT(claim);
	p[1] = CIVIC_PINT(d->cfg->dispatch_lease);
	for (size_t i = 0; i < DISPATCH_CLAIM_MAX; i++) {
		int64_t id = 0; /* 0 matches no row */
		if (i < r->nrows)
			civic_rows_int(r, i, 0, &id);
		p[2 + i] = CIVIC_PINT(id);
	}
	civic_rows_free(r);
	if (*n == 0)
		return CIVIC_OK;
	return civic_db_exec(d->db, sql[kind].stamp, p, 2 + DISPATCH_CLAIM_MAX, NULL);
}

long queue_claim(struct dispatcher *d, enum job_kind kind, long max, struct job **list)
{
	uint64_t claim;
	struct civic_param p;
	struct civic_rows *r;
	enum civic_err err;
	long n = 0;

	if (max > DISPATCH_CLAIM_MAX)
		max = DISPATCH_CLAIM_MAX;
	randombytes_buf(&claim, sizeof(claim));
	claim &= INT64_MAX; /* bound as a signed parameter */
	if ((err = civic_db_begin(d->db)) != CIVIC_OK)
		return -1;
	if ((err = stamp(d, kind, max, claim, &n)) != CIVIC_OK ||
	    (err = civic_db_commit(d->db)) != CIVIC_OK) {
		civic_db_rollback(d->db);
		return -1;
	}
	if (n == 0)
		return 0;
	p = CIVIC_PINT(claim);
	if (civic_db_exec(d->db, sql[kind].load, &p, 1, &r) != CIVIC_OK)
		return -1; /* the rows come back when the lease expires */
	for (size_t i = 0; i < r->nrows; i++) {
		struct job *job = job_new(kind, claim, r, i);

		if (job == NULL)
			break;
		if (kind == JOB_DISPATCH)
			load_dispatch(d, job, r, i);
		else if (kind == JOB_CHECK)
			load_check(d, job, r, i);
		else
			load_mail(d, job, r, i);
		job->next = *list;
		*list = job;
	}
	n = (long)r->nrows;
	civic_rows_free(r);
	return n;
}

long queue_next_due(struct dispatcher *d)
{
	struct civic_rows *r;
	int64_t s = -1;

	if (civic_db_exec(d->db, SQL_NEXT_DUE, NULL, 0, &r) != CIVIC_OK)
		return -1;
	if (!civic_rows_int(r, 0, 0, &s))
		s = -1;
	civic_rows_free(r);
	return (long)s;
}

/* --------------------------------------------------------------- record */

/* Only while the claim is ours: a batch retried after a commit whose
 * answer was lost (the connection dropped) adds no second attempt. */
static const char SQL_ATTEMPT[] =
	"INSERT INTO dispatch_attempts (dispatch_id, attempted_at, outcome, response_code,"
	" duration_ms, error) SELECT id, ?, ?, ?, ?, ? FROM alert_dispatches"
	" WHERE id = ? AND claim = ?";
/* status, attempts added, delay (NULL: none), delivered?, id, claim */
static const char SQL_DISPATCH_DONE[] =
	"UPDATE alert_dispatches SET status = ?, attempts = attempts + ?,"
	" next_attempt_at = UTC_TIMESTAMP() + INTERVAL ? SECOND,"
	" delivered_at = IF(?, UTC_TIMESTAMP(), NULL), lease_until = NULL, claim = NULL"
	" WHERE id = ? AND claim = ?";
static const char SQL_MAIL_DONE[] =
	"UPDATE mail_queue SET status = ?, attempts = attempts + ?,"
	" next_attempt_at = COALESCE(UTC_TIMESTAMP() + INTERVAL ? SECOND, next_attempt_at),"
	" sent_at = IF(?, UTC_TIMESTAMP(), NULL), last_error = ?, lease_until = NULL,"
	" claim = NULL WHERE id = ? AND claim = ?";
static const char SQL_CHECK_DONE[] =
	"UPDATE webhook_checks SET status = ?, attempts = attempts + ?,"
	" next_attempt_at = COALESCE(UTC_TIMESTAMP() + INTERVAL ? SECOND, next_attempt_at),"
	" verified_at = IF(?, UTC_TIMESTAMP(), NULL), last_error = ?, lease_until = NULL,"
	" claim = NULL WHERE destination_id = ? AND claim = ?";
static const char SQL_ACTIVATE[] =
	"UPDATE alert_destinations SET status = 'active', verified_at = UTC_TIMESTAMP()"
	" WHERE id = ? AND status = 'pending' AND deleted_at IS NULL";
static const char SQL_HEALTHY[] =
	"UPDATE alert_destinations SET failing_since = NULL"
	" WHERE id = ? AND failing_since IS NOT NULL";
static const char SQL_FAILING[] =
	"UPDATE alert_destinations SET failing_since = UTC_TIMESTAMP()"
	" WHERE id = ? AND failing_since IS NULL";

/* The outcome's wait before the next attempt; -1: no more attempts. */
static long next_delay(const struct job *job)
{
	long delay;

	if (job->ok || job->permanent)
		return -1;
	if (job->skipped)
		return 60; /* not attempted (a local problem): soon again */
	if ((delay = queue_retry_delay(job->attempts + 1)) < 0)
		return -1;
	if (job->retry_after > delay)
		delay = job->retry_after > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : job->retry_after;
	return delay;
}

static enum civic_err record_dispatch(struct dispatcher *d, const struct job *job, long delay)
{
	const char *status = job->ok ? "delivered" : delay >= 0 ? "retrying" : "failed";
	char when[20];
	enum civic_err err;

	civic_time_datetime(job->attempted_at, when, sizeof(when));
	if (!job->skipped) {
		struct civic_param a[] = {
			CIVIC_PSTR(when),
			CIVIC_PSTR(job->ok ? "success" : "failure"),
			job->code ? CIVIC_PINT(job->code) : CIVIC_PNULL,
			CIVIC_PINT(job->duration_ms),
			job->ok ? CIVIC_PNULL : CIVIC_PSTR(job->error),
			CIVIC_PINT(job->id),
			CIVIC_PINT(job->claim),
		};
		if ((err = civic_db_exec(d->db, SQL_ATTEMPT, a, CIVIC_NELEM(a), NULL)) != CIVIC_OK)
			return err;
	}
	struct civic_param u[] = {
		CIVIC_PSTR(status),
		CIVIC_PINT(job->skipped ? 0 : 1),
		delay >= 0 ? CIVIC_PINT(delay) : CIVIC_PNULL,
		CIVIC_PINT(job->ok),
		CIVIC_PINT(job->id),
		CIVIC_PINT(job->claim),
	};
	return civic_db_exec(d->db, SQL_DISPATCH_DONE, u, CIVIC_NELEM(u), NULL);
}

static enum civic_err record_other(struct dispatcher *d, const struct job *job, long delay)
{
	bool mail = job->kind == JOB_MAIL;
	const char *status = job->ok ? (mail ? "sent" : "verified")
	                             : delay >= 0 ? "pending" : "failed";
	struct civic_param u[] = {
		CIVIC_PSTR(status),
		CIVIC_PINT(job->skipped ? 0 : 1),
		delay >= 0 ? CIVIC_PINT(delay) : CIVIC_PNULL,
		CIVIC_PINT(job->ok),
		job->ok ? CIVIC_PNULL : CIVIC_PSTR(job->error),
		CIVIC_PINT(job->id),
		CIVIC_PINT(job->claim),
	};
	struct civic_param id = CIVIC_PINT(job->id);
	enum civic_err err;

	if ((err = civic_db_exec(d->db, mail ? SQL_MAIL_DONE : SQL_CHECK_DONE, u, CIVIC_NELEM(u),
	                         NULL)) != CIVIC_OK)
		return err;
	if (!mail && job->ok)
		return civic_db_exec(d->db, SQL_ACTIVATE, &id, 1, NULL);
	return CIVIC_OK;
}

static int by_destination(const void *a, const void *b)
{
	const struct job *x = *(const struct job *const *)a, *y = *(const struct job *const *)b;

	if (x->destination_id != y->destination_id)
		return x->destination_id < y->destination_id ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* failing_since of each destination with alert deliveries in the batch:
 * cleared by any success, set by failures alone. */
static enum civic_err record_health(struct dispatcher *d, struct job **v, size_t n)
{
	enum civic_err err = CIVIC_OK;

	for (size_t i = 0; i < n && err == CIVIC_OK;) {
		size_t j = i;
		bool any_ok = false, any_failed = false;

		for (; j < n && v[j]->destination_id == v[i]->destination_id; j++)
			if (v[j]->kind == JOB_DISPATCH && !v[j]->skipped) {
				any_ok |= v[j]->ok;
				any_failed |= !v[j]->ok;
			}
		if (any_ok || any_failed) {
			struct civic_param id = CIVIC_PINT(v[i]->destination_id);
			err = civic_db_exec(d->db, any_ok ? SQL_HEALTHY : SQL_FAILING, &id, 1, NULL);
		}
		i = j;
	}
	return err;
}

static enum civic_err record_batch(struct dispatcher *d, struct job **v, size_t n)
{
	enum civic_err err;

	if ((err = civic_db_begin(d->db)) != CIVIC_OK)
		return err;
	for (size_t i = 0; i < n && err == CIVIC_OK; i++) {
		long delay = next_delay(v[i]);
		err = v[i]->kind == JOB_DISPATCH ? record_dispatch(d, v[i], delay)
		                                 : record_other(d, v[i], delay);
	}
	if (err == CIVIC_OK)
		err = record_health(d, v, n);
	if (err == CIVIC_OK && (err = civic_db_commit(d->db)) == CIVIC_OK)
		return CIVIC_OK;
	civic_db_rollback(d->db);
	return err;
}

/* ------------------------------------------------------------- disabling */

static const char SQL_LONG_FAILING[] =
	"SELECT account_id FROM alert_destinations WHERE id = ? AND status = 'active'"
	" AND deleted_at IS NULL AND failing_since <= UTC_TIMESTAMP() - INTERVAL "
	DISPATCH_DISABLE_AFTER;
static const char SQL_LOCK_ACCOUNT[] = "SELECT email FROM accounts WHERE id = ? FOR UPDATE";
static const char SQL_DISABLE[] =
	"UPDATE alert_destinations SET status = 'disabled' WHERE id = ? AND status = 'active'"
	" AND deleted_at IS NULL AND failing_since <= UTC_TIMESTAMP() - INTERVAL "
	DISPATCH_DISABLE_AFTER;
static const char SQL_FAIL_WAITING[] =
	"UPDATE alert_dispatches SET status = 'failed', next_attempt_at = NULL"
	" WHERE destination_id = ? AND status IN ('pending', 'retrying')";
static const char SQL_QUEUE_DISABLED[] =
	"INSERT INTO mail_queue (purpose, account_id, destination_id, to_address,"
	" next_attempt_at, created_at) VALUES ('destination_disabled', ?, ?, ?,"
	" UTC_TIMESTAMP(), UTC_TIMESTAMP())";

/* Disables destination when it has failed for 5 days and queues a mail
 * to its owner. Takes the account row first, like every change the API
 * makes to an account's destinations. */
static enum civic_err maybe_disable(struct dispatcher *d, int64_t destination)
{
	struct civic_param id = CIVIC_PINT(destination), acc;
	struct civic_rows *r = NULL, *u = NULL;
	int64_t account = 0;
	enum civic_err err;

	if ((err = civic_db_exec(d->db, SQL_LONG_FAILING, &id, 1, &r)) != CIVIC_OK)
		return err;
	if (r->nrows == 0 || !civic_rows_int(r, 0, 0, &account)) {
		civic_rows_free(r);
		return CIVIC_OK;
	}
	civic_rows_free(r);
	r = NULL;
	acc = CIVIC_PINT(account);
	if ((err = civic_db_begin(d->db)) != CIVIC_OK)
		return err;
	if ((err = civic_db_exec(d->db, SQL_LOCK_ACCOUNT, &acc, 1, &r)) != CIVIC_OK ||
	    (err = civic_db_exec(d->db, SQL_DISABLE, &id, 1, &u)) != CIVIC_OK)
		goto fail;
	if (u->affected == 1 && r->nrows == 1) {
		struct civic_param m[] = {acc, id, CIVIC_PSTR(civic_rows_get(r, 0, 0))};
		if ((err = civic_db_exec(d->db, SQL_FAIL_WAITING, &id, 1, NULL)) != CIVIC_OK ||
		    (err = civic_db_exec(d->db, SQL_QUEUE_DISABLED, m, 3, NULL)) != CIVIC_OK)
			goto fail;
		civic_log_warn("destination %lld disabled after failing for %s",
		               (long long)destination, DISPATCH_DISABLE_AFTER);
	}
	if ((err = civic_db_commit(d->db)) != CIVIC_OK)
		goto fail;
	civic_rows_free(r);
	civic_rows_free(u);
	return CIVIC_OK;
fail:
	civic_db_rollback(d->db);
	civic_rows_free(r);
	civic_rows_free(u);
	return err;
}

/* ---------------------------------------------------------------- entry */

static void count(struct dispatcher *d, const struct job *job)
{
	long delay = next_delay(job);

	if (job->kind == JOB_MAIL)
		d->n.mails += job->ok;
	else if (job->kind == JOB_CHECK)
		d->n.checks += job->ok;
	else if (job->ok)
		d->n.delivered++;
	else if (delay >= 0)
		d->n.retrying++;
	else
		d->n.failed++;
}

#define RECORD_TRIES 3
/* While the database is unavailable (restarting, read-only, disk full),
 * recording is tried again every second for up to half the lease, at
 * most RECORD_PATIENCE seconds: outcomes written late are still ours
 * (no other run can claim the rows before the lease ends), while
 * outcomes given up on mean a second delivery after the lease. */
#define RECORD_PATIENCE 60

bool queue_record(struct dispatcher *d, struct job *done)
{
	struct job **v;
	size_t n = 0, i;
	enum civic_err err = CIVIC_E_INTERNAL;
	long patience;
	time_t give_up;

	for (struct job *j = done; j; j = j->next)
		n++;
	if (n == 0)
		return true;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return false;
	for (i = 0; done; done = done->next)
		v[i++] = done;
	qsort(v, n, sizeof(*v), by_destination);
	patience = d->cfg->dispatch_lease / 2 < RECORD_PATIENCE ? d->cfg->dispatch_lease / 2
	                                                         : RECORD_PATIENCE;
	give_up = time(NULL) + patience;
	for (int t = 0;;) {
		if ((err = record_batch(d, v, n)) == CIVIC_OK)
			break;
		if (!civic_db_down(d->db)) {
			civic_log_warn("recording %zu outcomes failed (%s), attempt %d of %d", n,
			               civic_err_code(err), t + 1, RECORD_TRIES);
			if (++t == RECORD_TRIES)
				break;
			continue;
		}
		if (time(NULL) >= give_up)
			break;
		civic_log_warn("recording %zu outcomes: the database is unavailable, trying again"
		               " for %ld s",
		               n, (long)(give_up - time(NULL)));
		sleep(1);
	}
	if (err == CIVIC_OK) {
		for (i = 0; i < n; i++) {
			count(d, v[i]);
			if (v[i]->kind == JOB_DISPATCH && !v[i]->ok && !v[i]->skipped &&
			    (i + 1 == n || v[i + 1]->destination_id != v[i]->destination_id))
				maybe_disable(d, v[i]->destination_id);
		}
	}
	free(v);
	return err == CIVIC_OK;
}
