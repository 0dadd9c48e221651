/* civic-dispatch: run by cron every minute (or --loop in development).
 *
 *   civic-dispatch [--loop] [--verbose]
 *
 * A run fans out new alerts, then keeps up to [dispatch] concurrency
 * transfers in flight, claiming due rows as slots free up, until no row
 * is due (it waits for rows due within linger_seconds) or run_seconds
 * have passed; then it finishes the transfers in flight and exits.
 * Overlapping runs, on one host or several, share the work through the
 * claims (queue.c). SIGTERM or SIGINT: stop claiming, finish, exit 0.
 *
 * Exit status: 0 done, 1 configuration error, 2 usage error, 3 the
 * database is unavailable. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "countries.h"
#include "dispatch.h"
#include "log.h"

#define LOOP_PAUSE 5 /* seconds between runs with --loop */

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void usage(FILE *f)
{
	fputs("usage: civic-dispatch [--loop] [--verbose]\n"
	      "  Fans out new alerts and delivers due alerts, mails and webhook\n"
	      "  verifications, then exits (cron: every minute).\n"
	      "  --loop     run again every 5 seconds until SIGTERM (development)\n"
	      "  --verbose  log every failed attempt\n"
	      "Configuration: $CIVIC_CONFIG (default /etc/civicsentinel.conf).\n",
	      f);
}

/* Claims jobs for the free slots and starts them; jobs that cannot
 * start are finished at once into *done. The number claimed, -1 on a
 * database error. */
static long fill(struct dispatcher *d, struct job **done)
{
	static const enum job_kind order[] = {JOB_MAIL, JOB_CHECK, JOB_DISPATCH};
	long free_slots = d->cfg->dispatch_concurrency - d->inflight, got = 0;

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]) && got < free_slots; k++) {
		struct job *batch = NULL, *next;
		long n = queue_claim(d, order[k], free_slots - got, &batch);

		if (n < 0)
			return -1;
		got += n;
		for (struct job *j = batch; j; j = next) {
			next = j->next;
			j->next = NULL;
			if (transfer_start(d, j)) {
				d->inflight++;
			} else {
				j->next = *done;
				*done = j;
			}
		}
	}
	return got;
}

/* Collects the transfers that finished into *done. */
static void collect(struct dispatcher *d, struct job **done)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(d->multi, &left)) != NULL) {
		struct job *job = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&job);
		curl_multi_remove_handle(d->multi, m->easy_handle);
		d->inflight--;
		if (job == NULL)
			continue;
		transfer_finish(d, job, m->data.result);
		job->next = *done;
		*done = job;
	}
}

static void record(struct dispatcher *d, struct job *done)
{
	struct job *next;

	if (done && !queue_record(d, done))
		civic_log_error("outcomes not recorded: the rows are sent again after their lease");
	for (; done; done = next) {
		next = done->next;
		job_free(done);
	}
}

/* Outcomes are recorded together: at least a quarter of the slots'
 * worth, or what finished within RECORD_WAIT_MS, in one transaction. */
#define RECORD_WAIT_MS 100

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* One run; false when the database was unavailable throughout. */
static bool run(struct dispatcher *d)
{
	time_t deadline = time(NULL) + d->cfg->dispatch_run_seconds, next_claim = 0;
	long quarter = d->cfg->dispatch_concurrency / 4 + 1, ndone = 0;
	long refill_at = d->cfg->dispatch_concurrency - quarter;
	struct job *done = NULL;
	struct timespec first_done = {0};
	bool db_ok = dispatch_fanout(d);

	for (;;) {
		time_t now = time(NULL);
		bool claiming = !stopping && now < deadline;
		int running;

		/* Refill when a quarter of the slots are free: claims come in
		 * batches, not one per finished transfer. */
		if (claiming && now >= next_claim && d->inflight <= refill_at) {
			long got = fill(d, &done);
			db_ok = db_ok || got >= 0;
			/* Nothing due: look again in a second, not at every wake-up. */
			if (got <= 0)
				next_claim = now + 1;
		}
		if (d->inflight > 0) {
			curl_multi_perform(d->multi, &running);
			collect(d, &done);
		}
		if (done && ndone == 0)
			clock_gettime(CLOCK_MONOTONIC, &first_done);
		ndone = 0;
		for (struct job *j = done; j; j = j->next)
			ndone++;
		if (ndone > 0 && (ndone >= quarter || d->inflight == 0 ||
		                  ms_since(&first_done) >= RECORD_WAIT_MS)) {
			record(d, done);
			done = NULL;
			ndone = 0;
		}
		if (d->inflight > 0) {
			/* Free slots are filled before waiting on the network. */
			if (!(claiming && now >= next_claim && d->inflight <= refill_at))
				curl_multi_poll(d->multi, NULL, 0, ndone ? RECORD_WAIT_MS / 2 : 1000, NULL);
			continue;
		}
		if (!claiming)
			break;
		if (now >= next_claim)
			continue; /* the slots freed: claim again at once */
		long due = queue_next_due(d);
		if (due < 0 || due > d->cfg->dispatch_linger || now + due >= deadline)
			break;
		sleep(due > 1 ? (unsigned)due : 1);
		next_claim = 0;
	}
	/* --loop runs every 5 s: an idle run there is not worth a line. */
	if (d->loop && memcmp(&d->n, &(struct dispatch_counts){0}, sizeof(d->n)) == 0)
		return db_ok;
	civic_log_info("run: fanned out %ld alerts (%ld dispatches, %ld over quota); delivered %ld,"
	               " retrying %ld, failed %ld; mails sent %ld; webhooks verified %ld",
	               d->n.alerts, d->n.dispatches, d->n.over_quota, d->n.delivered,
	               d->n.retrying, d->n.failed, d->n.mails, d->n.checks);
	return db_ok;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"loop", no_argument, NULL, 'l'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct civic_config cfg;
	struct dispatcher d = {.cfg = &cfg};
	bool ok = true;
	char err[512];
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l')
			d.loop = true;
		else if (c == 'v')
			d.verbose = true;
		else if (c == 'h')
			return usage(stdout), 0;
		else
			return usage(stderr), 2;
	}
	if (optind != argc)
		return usage(stderr), 2;
	civic_log_setup("civic-dispatch", CIVIC_LOG_INFO);
	if (!civic_config_load(civic_config_path(), true, &cfg, err, sizeof(err))) {
		fprintf(stderr, "civic-dispatch: %s\n", err);
		return 1;
	}
	civic_log_setup("civic-dispatch", (enum civic_log_level)cfg.log_level);
	if (!civic_outbound_parse(cfg.outbound_allow, &d.policy, err, sizeof(err))) {
		fprintf(stderr, "civic-dispatch: [alerts] outbound_allow: %s\n", err);
		civic_config_free(&cfg);
		return 1;
	}
	if (!civic_countries_load(&cfg, err, sizeof(err)))
		civic_log_warn("country names unavailable (%s): alerts name countries by code", err);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (d.multi = curl_multi_init()) == NULL || (d.db = civic_db_new(&cfg)) == NULL) {
		fprintf(stderr, "civic-dispatch: out of memory\n");
		return 1;
	}
	civic_db_read_committed(d.db);
	if (!(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_ASYNCHDNS))
		civic_log_warn("libcurl resolves names synchronously: DNS ignores the timeouts");
	do {
		memset(&d.n, 0, sizeof(d.n));
		ok = run(&d);
		for (int s = 0; d.loop && !stopping && s < LOOP_PAUSE; s++)
			sleep(1);
	} while (d.loop && !stopping);
	curl_multi_cleanup(d.multi);
	civic_db_free(d.db);
	civic_countries_free();
	civic_config_free(&cfg);
	curl_global_cleanup();
	return ok ? 0 : 3;
}
