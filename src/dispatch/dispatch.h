/* civic-dispatch: fans alerts out to subscriptions and delivers them,
 * with the mails and webhook verifications the API queues (SPEC §6).
 *
 * A run: fanout.c turns new alerts into dispatch rows; queue.c claims
 * due rows of the three queues (alert_dispatches, mail_queue,
 * webhook_checks) under a lease and turns each into a job; message.c
 * renders what a job sends; transfer.c sends it with the libcurl multi
 * interface and reads the outcome; queue.c records outcomes and
 * schedules retries. main.c holds the loop. */
#ifndef CIVIC_DISPATCH_H
#define CIVIC_DISPATCH_H

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "outbound.h"
#include "whatsapp.h"

#define DISPATCH_CLAIM_MAX 64       /* rows per claim statement */
#define DISPATCH_REPLY_MAX (64 * 1024) /* response bytes read */
#define DISPATCH_ERROR_MAX 300      /* bytes of an attempt's error text */
#define DISPATCH_DISABLE_AFTER "5 DAY" /* failing this long disables */

struct dispatch_counts {
	long alerts, dispatches, over_quota; /* fan-out */
	long delivered, retrying, failed;    /* alert deliveries */
	long mails, checks;                  /* mails sent, webhooks verified */
};

struct dispatcher {
	const struct civic_config *cfg;
	struct civic_db *db;
	struct civic_outbound policy;
	CURLM *multi;
	long inflight;
	bool verbose;
	bool loop;                /* --loop: idle runs are not logged */
	struct dispatch_counts n;
};

enum job_kind { JOB_DISPATCH, JOB_MAIL, JOB_CHECK };
enum job_channel { CH_EMAIL, CH_WEBHOOK, CH_WHATSAPP };

/* One delivery attempt of one queued row. */
struct job {
	enum job_kind kind;
	enum job_channel channel;
	uint64_t claim;           /* the batch token the row was claimed with */
	int64_t id;               /* dispatch or mail id; destination id for a check */
	int64_t account_id, destination_id;
	long attempts;            /* attempts before this one */

	/* What to send (message.c). */
	char *target;             /* webhook URL, mail address or WhatsApp group */
	char *label;              /* the destination's label ("" if none) */
	char *template;           /* mail/WhatsApp template name ("alert", …) */
	char *event_type;         /* webhook "type" */
	char *event_time;         /* webhook "timestamp": stable across retries */
	char msg_id[48];          /* webhook-id: the same on every retry */
	unsigned char key[32];    /* webhook signing key */
	json_object *data;        /* the event / template data */
	struct civic_buf body;    /* webhook JSON, WhatsApp text, mail text part */
	struct civic_buf html;    /* mail HTML part */
	struct civic_buf subject; /* mail subject (checked, not yet encoded) */

	/* The transfer (transfer.c). */
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *rcpt;  /* SMTP recipients */
	curl_mime *mime;
	struct civic_buf reply;   /* response, at most DISPATCH_REPLY_MAX */
	bool reply_cut;
	struct civic_outbound_guard guard;
	struct civic_whatsapp_call wa;
	bool wa_used;
	char curl_error[CURL_ERROR_SIZE];
	struct timespec started;
	time_t attempted_at;

	/* The outcome. */
	bool ok;
	bool permanent;           /* no retry (a refused mail address, …) */
	bool skipped;             /* not attempted at all: no attempt row */
	long code;                /* HTTP, SMTP or gateway status; 0 if none */
	long retry_after;         /* seconds the receiver asked for; 0 if none */
	long duration_ms;
	char error[DISPATCH_ERROR_MAX];

	struct job *next;
};

/* fanout.c: fans out every alert not yet fanned out; false when the
 * database failed (the alerts stay for the next run). */
bool dispatch_fanout(struct dispatcher *d);

/* queue.c */
/* Claims up to max due rows (max <= DISPATCH_CLAIM_MAX) of one queue,
 * prepends their jobs to *list; the number claimed, -1 on a database
 * error. */
long queue_claim(struct dispatcher *d, enum job_kind kind, long max, struct job **list);
/* Seconds until the next row of any queue is due (0: due now), -1 when
 * nothing is waiting or on error. */
long queue_next_due(struct dispatcher *d);
/* Records the outcomes of finished jobs in one transaction (retried on
 * a deadlock) and handles what follows (disabling a destination). */
bool queue_record(struct dispatcher *d, struct job *done);
/* The delay before the attempt after attempt n (1-based), or -1 when
 * attempt n was the last. */
long queue_retry_delay(long n);

/* message.c: renders the job's request (body, headers or MIME parts);
 * false with job->error set when it cannot be sent (then it is
 * recorded as a permanent failure). */
bool message_prepare(struct dispatcher *d, struct job *job);
/* Adds the Standard Webhooks headers of this attempt to job->headers. */
bool message_sign(struct job *job);

/* transfer.c */
bool transfer_start(struct dispatcher *d, struct job *job);
/* Reads the outcome of a transfer the multi handle reports as done. */
void transfer_finish(struct dispatcher *d, struct job *job, CURLcode rc);

/* Sets the attempt's error text; permanent: no retry either. */
void job_error(struct job *job, bool permanent, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Appends one header line to job->headers; false when out of memory. */
bool job_header(struct job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void job_free(struct job *job);

#endif
