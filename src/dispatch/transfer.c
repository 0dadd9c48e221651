/* Sending: one libcurl easy handle per job, driven by the run's multi
 * handle, and reading its outcome.
 *
 * Every handle: no signals (SIGPIPE is ignored by main), no proxy from
 * the environment, no redirects, a total timeout. Webhooks also: http
 * and https only, the URL re-checked against the outbound policy, and
 * every address curl connects to (after DNS) judged by the policy in
 * CURLOPT_OPENSOCKETFUNCTION; the response is read up to 64 KiB and
 * then cut off. Mail goes to the operator's SMTP server and WhatsApp
 * messages to the operator's gateway, which the policy does not cover. */
#include "dispatch.h"

#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mail.h"

#define CONNECT_TIMEOUT 10L /* seconds, at most the total timeout */
#define USER_AGENT "CivicSentinel-Webhooks/1"
#define SNIPPET 120 /* bytes of a failed answer's body kept in the error */

bool job_header(struct job *job, const char *fmt, ...)
{
	char line[2048];
	struct curl_slist *l;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) || (l = curl_slist_append(job->headers, line)) == NULL)
		return false;
	job->headers = l;
	return true;
}

static size_t on_reply(char *p, size_t size, size_t n, void *userdata)
{
	struct job *job = userdata;

	if (!civic_buf_add(&job->reply, p, size * n)) {
		job->reply_cut = true;
		return 0; /* ends the transfer: we have read enough */
	}
	return size * n;
}

static void common_options(struct job *job, CURL *h, long timeout)
{
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout < CONNECT_TIMEOUT ? timeout
	                                                                      : CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, job->curl_error);
	curl_easy_setopt(h, CURLOPT_PRIVATE, job);
}

static bool start_webhook(struct dispatcher *d, struct job *job)
{
	char url[CIVIC_URL_MAX + 1];
	const char *why;
	CURL *h;

	why = civic_outbound_check_url(&d->policy, d->cfg->allow_http_webhooks, job->target, url,
	                               sizeof(url));
	if (why) {
		job_error(job, true, "refused by the outbound policy: %s", why);
		return false;
	}
	if ((h = job->easy = curl_easy_init()) == NULL || !message_sign(job) ||
	    !job_header(job, "Content-Type: application/json") || !job_header(job, "Expect:")) {
		job_error(job, false, "out of memory");
		return false;
	}
	common_options(job, h, d->cfg->webhook_timeout);
	job->guard.policy = &d->policy;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, civic_outbound_opensocket);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &job->guard);
	curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, job->headers);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, civic_buf_str(&job->body));
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)job->body.len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, job);
	return true;
}

/* The mail headers: From, To, Subject, Date, Message-ID (curl adds the
 * MIME ones). Every value was checked for CR/LF (mail.h). */
static bool mail_headers(struct dispatcher *d, struct job *job)
{
	struct civic_buf b;
	char date[64], rnd[17];
	unsigned char raw[8];
	const char *domain = strchr(d->cfg->smtp_from, '@');
	struct tm tm;
	time_t now = time(NULL);
	bool ok;

	civic_buf_init(&b, 8192);
	ok = civic_buf_adds(&b, "From: ") &&
	     civic_mail_mailbox(d->cfg->smtp_from_name, d->cfg->smtp_from, &b) &&
	     job_header(job, "%s", civic_buf_str(&b));
	civic_buf_reset(&b);
	ok = ok && civic_buf_adds(&b, "To: ") && civic_mail_mailbox(NULL, job->target, &b) &&
	     job_header(job, "%s", civic_buf_str(&b));
	civic_buf_reset(&b);
	ok = ok && civic_buf_adds(&b, "Subject: ") &&
	     civic_mail_encode_header(civic_buf_str(&job->subject), &b) &&
	     job_header(job, "%s", civic_buf_str(&b));
	civic_buf_free(&b);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(rnd, sizeof(rnd), raw, sizeof(raw));
	return ok && job_header(job, "Date: %s", date) &&
	       job_header(job, "Message-ID: <%lld.%s@%s>", (long long)now, rnd,
	                  domain ? domain + 1 : "localhost");
}

/* multipart/alternative: the text part, then the HTML part. */
static bool mail_parts(struct job *job, CURL *h)
{
	curl_mime *alt;
	curl_mimepart *part;
	static const char *const types[] = {"text/plain; charset=utf-8", "text/html; charset=utf-8"};
	const struct civic_buf *texts[] = {&job->body, &job->html};

	if ((job->mime = curl_mime_init(h)) == NULL || (alt = curl_mime_init(h)) == NULL)
		return false;
	for (size_t i = 0; i < 2; i++) {
		if ((part = curl_mime_addpart(alt)) == NULL ||
		    curl_mime_data(part, civic_buf_str(texts[i]), texts[i]->len) != CURLE_OK ||
		    curl_mime_type(part, types[i]) != CURLE_OK ||
		    curl_mime_encoder(part, "quoted-printable") != CURLE_OK) {
			curl_mime_free(alt);
			return false;
		}
	}
	if ((part = curl_mime_addpart(job->mime)) == NULL ||
	    curl_mime_subparts(part, alt) != CURLE_OK) {
		curl_mime_free(alt);
		return false;
	}
	return curl_mime_type(part, "multipart/alternative") == CURLE_OK;
}

static bool start_mail(struct dispatcher *d, struct job *job)
{
	const struct civic_config *c = d->cfg;
	char addr[CIVIC_MAIL_ADDRESS_MAX + 3];
	CURL *h;

	if (c->smtp_url == NULL || *c->smtp_url == '\0') {
		job_error(job, false, "no SMTP server configured ([smtp] url)");
		job->skipped = true;
		return false;
	}
	if (!civic_mail_address_ok(c->smtp_from)) {
		job_error(job, false, "[smtp] from is not a valid address");
		job->skipped = true;
		return false;
	}
	snprintf(addr, sizeof(addr), "<%s>", job->target);
	if ((h = job->easy = curl_easy_init()) == NULL ||
	    (job->rcpt = curl_slist_append(NULL, addr)) == NULL || !mail_headers(d, job) ||
	    !mail_parts(job, h)) {
		job_error(job, true, "the mail cannot be built (bad header?)");
		return false;
	}
	common_options(job, h, c->smtp_timeout);
	snprintf(addr, sizeof(addr), "<%s>", c->smtp_from);
	curl_easy_setopt(h, CURLOPT_URL, c->smtp_url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, addr);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, job->rcpt);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, job->headers);
	curl_easy_setopt(h, CURLOPT_MIMEPOST, job->mime);
	if (c->smtp_starttls && strncmp(c->smtp_url, "smtp://", 7) == 0)
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (c->smtp_user) {
		curl_easy_setopt(h, CURLOPT_USERNAME, c->smtp_user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->smtp_password ? c->smtp_password : "");
	}
	return true;
}

static bool start_whatsapp(struct dispatcher *d, struct job *job)
{
	json_object *p = json_object_new_object();
	char why[256];
	enum civic_err err;

	json_object_object_add(p, "group_id", json_object_new_string(job->target));
	json_object_object_add(p, "text", json_object_new_string(civic_buf_str(&job->body)));
	err = civic_whatsapp_call_init(&job->wa, d->cfg, "/v1/messages", p, why, sizeof(why));
	json_object_put(p);
	if (err != CIVIC_OK) {
		job_error(job, false, "gateway: %s", why);
		return false;
	}
	job->wa_used = true;
	curl_easy_setopt(job->wa.easy, CURLOPT_PRIVATE, job);
	return true;
}

bool transfer_start(struct dispatcher *d, struct job *job)
{
	bool ok;

	job->attempted_at = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &job->started);
	if (job->skipped || !message_prepare(d, job))
		return false;
	switch (job->channel) {
	case CH_WEBHOOK:
		ok = start_webhook(d, job);
		break;
	case CH_EMAIL:
		ok = start_mail(d, job);
		break;
	default:
		ok = start_whatsapp(d, job);
		break;
	}
	if (ok && curl_multi_add_handle(d->multi, job->wa_used ? job->wa.easy : job->easy) !=
	              CURLM_OK) {
		job_error(job, false, "cannot start the transfer");
		return false;
	}
	return ok;
}

/* ---------------------------------------------------------------- outcome */

/* "HTTP 500: <the start of the answer>", printable ASCII only. */
static void http_error(struct job *job)
{
	char snippet[SNIPPET + 1];
	size_t n = 0;

	for (size_t i = 0; i < job->reply.len && n < SNIPPET; i++) {
		unsigned char c = (unsigned char)job->reply.data[i];
		snippet[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
	}
	snippet[n] = '\0';
	job_error(job, false, "HTTP %ld%s%s%s", job->code,
	         job->code >= 300 && job->code < 400 ? " (redirects are not followed)" : "",
	         n ? ": " : "", snippet);
}

static void finish_webhook(struct dispatcher *d, struct job *job, CURLcode rc)
{
	bool answered = rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && job->reply_cut);
	curl_off_t wait = 0;

	curl_easy_getinfo(job->easy, CURLINFO_RESPONSE_CODE, &job->code);
	if (answered && job->code >= 200 && job->code < 300) {
		job->ok = true;
	} else if (job->guard.refused) {
		job->code = 0;
		job_error(job, false, "refused by the outbound policy: %s",
		         job->guard.refused_addr);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		job_error(job, false, "timeout after %ld s",
		         d->cfg->webhook_timeout);
	} else if (job->code > 0) {
		http_error(job);
		if ((job->code == 429 || job->code == 503) &&
		    curl_easy_getinfo(job->easy, CURLINFO_RETRY_AFTER, &wait) == CURLE_OK && wait > 0)
			job->retry_after = (long)(wait > 86400 ? 86400 : wait);
	} else {
		job_error(job, false, "connection failed: %s",
		         job->curl_error[0] ? job->curl_error : curl_easy_strerror(rc));
	}
}

static void finish_mail(struct dispatcher *d, struct job *job, CURLcode rc)
{
	curl_easy_getinfo(job->easy, CURLINFO_RESPONSE_CODE, &job->code);
	if (rc == CURLE_OK) {
		job->ok = true;
		return;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT)
		job_error(job, false, "SMTP timeout after %ld s",
		         d->cfg->smtp_timeout);
	else
		job_error(job, false, "SMTP %ld: %s", job->code,
		         job->curl_error[0] ? job->curl_error : curl_easy_strerror(rc));
	/* The mailbox does not exist or is not accepted (550, 551, 553):
	 * retrying cannot help. Anything else, a 554 or a server's 500 on
	 * its own trouble too, is worth another try. */
	job->permanent = job->code == 550 || job->code == 551 || job->code == 553;
}

static void finish_whatsapp(struct job *job, CURLcode rc)
{
	json_object *reply = NULL;
	char why[256];
	enum civic_err err = civic_whatsapp_call_result(&job->wa, rc, &reply, why, sizeof(why));

	curl_easy_getinfo(job->wa.easy, CURLINFO_RESPONSE_CODE, &job->code);
	json_object_put(reply);
	if (err == CIVIC_OK)
		job->ok = true;
	else
		job_error(job, false, "gateway %s: %s",
		         err == CIVIC_E_VALIDATION ? "refused the message" : "failed", why);
}

void transfer_finish(struct dispatcher *d, struct job *job, CURLcode rc)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	job->duration_ms = (now.tv_sec - job->started.tv_sec) * 1000 +
	                   (now.tv_nsec - job->started.tv_nsec) / 1000000;
	if (job->channel == CH_WEBHOOK)
		finish_webhook(d, job, rc);
	else if (job->channel == CH_EMAIL)
		finish_mail(d, job, rc);
	else
		finish_whatsapp(job, rc);
	if (!job->ok && d->verbose)
		civic_log_info("%s %lld: %s", job->kind == JOB_DISPATCH ? "dispatch"
		                              : job->kind == JOB_MAIL   ? "mail"
		                                                        : "check",
		               (long long)job->id, job->error);
}
