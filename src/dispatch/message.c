/* What a job sends: the signed webhook body, the mail's subject and
 * parts, the WhatsApp text. Mail and WhatsApp texts come from
 * templates/ (mail/<kind>.txt starts with a "Subject: …" line and a
 * blank line; mail/<kind>.html is the HTML part, escaped by the
 * template layer; whatsapp/<kind>.txt). */
#include "dispatch.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mail.h"
#include "template.h"
#include "webhook_secret.h"

#define SUBJECT_PREFIX "Subject:"

/* The data the templates see: the event's fields, the destination's
 * label and the deployment's base URL. */
static json_object *template_data(const struct dispatcher *d, const struct job *job)
{
	json_object *ctx = NULL;

	if (json_object_deep_copy(job->data, &ctx, NULL) != 0)
		return NULL;
	json_object_object_add(ctx, "label", json_object_new_string(job->label ? job->label : ""));
	json_object_object_add(ctx, "base_url", json_object_new_string(d->cfg->base_url));
	return ctx;
}

static bool render(const struct dispatcher *d, struct job *job, json_object *ctx,
                   const char *sub, const char *suffix, struct civic_buf *out)
{
	char dir[1024], name[128], err[256];

	snprintf(dir, sizeof(dir), "%s/%s", d->cfg->templates_dir, sub);
	snprintf(name, sizeof(name), "%s.%s", job->template, suffix);
	if (civic_template_render_file(dir, name, ctx, out, err, sizeof(err)))
		return true;
	civic_log_error("template %s/%s: %s", sub, name, err);
	job_error(job, true, "template %s cannot be rendered", name);
	return false;
}

/* Splits the rendered text part into the subject line and the body. */
static bool split_subject(struct job *job)
{
	const char *text = civic_buf_str(&job->body), *eol, *body;
	struct civic_buf rest;
	bool ok;

	if (strncmp(text, SUBJECT_PREFIX, strlen(SUBJECT_PREFIX)) != 0 ||
	    (eol = strchr(text, '\n')) == NULL) {
		job_error(job, true, "template %s.txt does not start with a Subject: line",
		          job->template);
		return false;
	}
	body = eol + 1;
	if (*body == '\n')
		body++;
	const char *s = text + strlen(SUBJECT_PREFIX);
	while (*s == ' ')
		s++;
	civic_buf_reset(&job->subject);
	if (!civic_buf_add(&job->subject, s, (size_t)(eol - s)) ||
	    !civic_mail_header_ok(civic_buf_str(&job->subject))) {
		job_error(job, true, "the subject is not a valid header value (CR/LF or too long)");
		return false;
	}
	civic_buf_init(&rest, job->body.cap);
	ok = civic_buf_adds(&rest, body);
	civic_buf_free(&job->body);
	job->body = rest;
	return ok;
}

/* Mail lines end in CRLF (RFC 5322): then the quoted-printable encoder
 * keeps them as line breaks instead of encoding each LF as =0A. */
static bool crlf(struct job *job, struct civic_buf *b)
{
	struct civic_buf out;
	const char *s = civic_buf_str(b);

	civic_buf_init(&out, b->cap + b->len);
	for (size_t i = 0; i < b->len; i++)
		if ((s[i] == '\n' && (i == 0 || s[i - 1] != '\r') && !civic_buf_add(&out, "\r", 1)) ||
		    !civic_buf_add(&out, s + i, 1)) {
			civic_buf_free(&out);
			job_error(job, true, "the mail is too large");
			return false;
		}
	civic_buf_free(b);
	*b = out;
	return true;
}

static bool prepare_mail(struct dispatcher *d, struct job *job, json_object *ctx)
{
	if (!civic_mail_address_ok(job->target)) {
		job_error(job, true, "not a valid mail address");
		return false;
	}
	return render(d, job, ctx, "mail", "txt", &job->body) && split_subject(job) &&
	       render(d, job, ctx, "mail", "html", &job->html) && crlf(job, &job->body) &&
	       crlf(job, &job->html);
}

/* {"type", "timestamp", "data"}: the same bytes on every retry. */
static bool prepare_webhook(struct job *job)
{
	json_object *o = json_object_new_object();
	const char *s;
	bool ok;

	json_object_object_add(o, "type", json_object_new_string(job->event_type));
	json_object_object_add(o, "timestamp", json_object_new_string(job->event_time));
	json_object_object_add(o, "data", json_object_get(job->data));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	ok = civic_buf_adds(&job->body, s);
	json_object_put(o);
	if (!ok)
		job_error(job, true, "the payload is too large");
	return ok;
}

bool message_prepare(struct dispatcher *d, struct job *job)
{
	json_object *ctx;
	bool ok;

	if (job->channel == CH_WEBHOOK)
		return prepare_webhook(job);
	if ((ctx = template_data(d, job)) == NULL) {
		job_error(job, false, "out of memory");
		return false;
	}
	if (job->channel == CH_EMAIL)
		ok = prepare_mail(d, job, ctx);
	else
		ok = render(d, job, ctx, "whatsapp", "txt", &job->body);
	json_object_put(ctx);
	return ok;
}

/* The signature headers of one webhook attempt: the timestamp is this
 * attempt's, so a receiver can refuse replays of old deliveries. */
bool message_sign(struct job *job)
{
	char sig[CIVIC_WEBHOOK_SIGNATURE_LEN + 1];
	long long ts = (long long)job->attempted_at;

	civic_webhook_sign(job->key, sizeof(job->key), job->msg_id, ts, civic_buf_str(&job->body),
	                   job->body.len, sig);
	return job_header(job, "webhook-id: %s", job->msg_id) &&
	       job_header(job, "webhook-timestamp: %lld", ts) &&
	       job_header(job, "webhook-signature: %s", sig);
}
