/* Pages: a page template rendered into layout.html, both from
 * templates/console/ through the template layer, which escapes every
 * value for HTML unless a template asks otherwise ({{{content}}} in the
 * layout is the page already rendered). Redirects, notices, errors. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "log.h"
#include "template.h"

#define PAGE_MAX (1024 * 1024)

/* Notices shown after a redirect: the query carries a code, never text,
 * so nobody can make the console say what they like. */
static const struct {
	const char *code, *text;
} notices[] = {
	{"verified", "Your email address is verified. You can log in now."},
	{"already_verified", "This address was already verified. Log in below."},
	{"logged_out", "You are logged out."},
	{"mail_sent", "If an account exists for that address, a message is on its way. "
	              "The link in it expires; check your spam folder if it does not arrive."},
	{"password_reset", "Your password was changed and every session was logged out. "
	                   "Log in with the new password."},
	{"profile_saved", "Profile saved."},
	{"app_created", "Application created. Issue its first key below."},
	{"key_revoked", "The key was revoked. Tokens made from it stop working at once."},
	{"destination_created", "Destination created."},
	{"destination_deleted", "Destination deleted; its subscriptions ended."},
	{"subscription_created", "Subscription created."},
	{"subscription_cancelled", "Subscription cancelled."},
};

static const char *notice_text(const struct console *c)
{
	char code[32];

	if (civic_request_query(c->ctx->req, "notice", code, sizeof(code)) != 1)
		return NULL;
	for (size_t i = 0; i < CIVIC_NELEM(notices); i++)
		if (strcmp(code, notices[i].code) == 0)
			return notices[i].text;
	return NULL;
}

static void add_str(json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

static void common(struct console *c, json_object *view, const char *title, const char *nav)
{
	char key[48];

	add_str(view, "csrf", c->csrf);
	add_str(view, "title", title);
	if (json_object_object_get(view, "notice") == NULL)
		add_str(view, "notice", notice_text(c));
	if (nav) {
		snprintf(key, sizeof(key), "nav_%s", nav);
		json_object_object_add(view, key, json_object_new_boolean(1));
	}
	if (c->sess.valid) {
		json_object *a = json_object_new_object();
		add_str(a, "email", c->sess.email);
		add_str(a, "plan", c->sess.plan);
		add_str(a, "plan_name", c->sess.plan_name);
		json_object_object_add(view, "account", a);
	}
}

static bool render(struct console *c, int status, const char *name, json_object *view)
{
	const char *dir = c->ctx->cfg->templates_dir;
	char file[64], dirbuf[4096], err[256];
	struct civic_buf page;
	bool ok;

	civic_buf_init(&page, PAGE_MAX);
	snprintf(dirbuf, sizeof(dirbuf), "%s/console", dir);
	snprintf(file, sizeof(file), "%s.html", name);
	ok = civic_template_render_file(dirbuf, file, view, &page, err, sizeof(err));
	if (ok) {
		json_object_object_add(view, "content", json_object_new_string(civic_buf_str(&page)));
		civic_buf_reset(&page);
		ok = civic_template_render_file(dirbuf, "layout.html", view, &page, err, sizeof(err));
	}
	if (!ok)
		civic_log_error("console page %s: %s", name, err);
	else
		ok = civic_response_body(c->ctx->resp, status, "text/html; charset=utf-8", page.data,
		                         page.len);
	/* Some pages show a secret once: no copy of it outlives the answer. */
	if (page.data)
		sodium_memzero(page.data, page.alloc);
	civic_buf_free(&page);
	return ok;
}

enum civic_err console_render(struct console *c, int status, const char *name,
                              const char *title, const char *nav, json_object *view)
{
	if (view == NULL)
		view = json_object_new_object();
	common(c, view, title, nav);
	if (!render(c, status, name, view)) {
		json_object_put(view);
		return CIVIC_E_INTERNAL;
	}
	json_object_put(view);
	c->answered = true;
	return CIVIC_OK;
}

enum civic_err console_redirect(struct console *c, const char *path, const char *notice)
{
	struct civic_response *r = c->ctx->resp;
	bool ok;

	if (notice)
		ok = civic_response_header(r, "Location", "%s%snotice=%s", path,
		                           strchr(path, '?') ? "&" : "?", notice);
	else
		ok = civic_response_header(r, "Location", "%s", path);
	if (!ok)
		return CIVIC_E_INTERNAL;
	civic_response_body(r, 303, "text/html; charset=utf-8", "", 0);
	c->answered = true;
	return CIVIC_OK;
}

static const char *error_title(int status)
{
	switch (status) {
	case 400: return "That request could not be read";
	case 403: return "Not allowed";
	case 404: return "Page not found";
	case 405: return "Method not allowed";
	case 413: return "That form is too large";
	case 415: return "Unsupported form encoding";
	case 429: return "Too many attempts";
	case 503: return "Temporarily unavailable";
	default: return "Something went wrong";
	}
}

static const char *error_text(enum civic_err e)
{
	switch (civic_err_status(e)) {
	case 404: return "There is nothing here, or it belongs to another account.";
	case 403: return "You may not do this.";
	case 413: return "The form sent more than this site accepts.";
	case 415: return "Forms must be sent as application/x-www-form-urlencoded.";
	case 429: return "Too many attempts. Wait a while and try again.";
	case 503: return "The service is briefly unavailable. Try again in a few seconds.";
	case 400: return "The request was malformed.";
	case 405: return "This page does not accept that method.";
	default: return NULL;
	}
}

void console_error_page(struct console *c, enum civic_err e, const char *message)
{
	int status = civic_err_status(e);
	char text[320];
	json_object *view = json_object_new_object();

	if (status >= 500 && e != CIVIC_E_UNAVAILABLE)
		civic_log_error("%s %s: %s", c->ctx->req->method, c->ctx->req->path, civic_err_code(e));
	if (e == CIVIC_E_UNAVAILABLE)
		civic_response_header(c->ctx->resp, "Retry-After", "5");
	if (message == NULL && (message = error_text(e)) == NULL) {
		snprintf(text, sizeof(text), "Internal error (request id %s).",
		         c->ctx->req->request_id);
		message = text;
	}
	add_str(view, "message", message);
	json_object_object_add(view, "status", json_object_new_int(status));
	/* The error page must not fail: without a usable setup (no config,
	 * no templates), a plain-text answer. */
	if (c->ctx->cfg->templates_dir && c->csrf[0] == '\0')
		console_csrf_prepare(c);
	if (c->ctx->cfg->templates_dir) {
		common(c, view, error_title(status), NULL);
		if (render(c, status, "error", view)) {
			json_object_put(view);
			c->answered = true;
			return;
		}
	}
	json_object_put(view);
	civic_response_body(c->ctx->resp, status, "text/plain; charset=utf-8", message,
	                    strlen(message));
	c->answered = true;
}

json_object *console_form_echo(const struct console *c, const char *const *names, size_t n)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; i < n; i++)
		add_str(o, names[i], console_form_get(c, names[i]));
	return o;
}

void console_view_errors(json_object *view, json_object *errfields)
{
	if (errfields)
		json_object_object_add(view, "errors", json_object_get(errfields));
}

void console_view_error(json_object *view, const char *message)
{
	add_str(view, "error", message);
}
