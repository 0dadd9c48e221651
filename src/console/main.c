/* civic-console: the page table and what every page shares: security
 * headers, static files, the session, the CSRF check on every POST, the
 * login requirement. A handler only does its page's work. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "console.h"
#include "log.h"
#include "template.h"

static enum civic_err home(struct console *c)
{
	return console_redirect(c, c->sess.valid ? "/console/apps" : "/console/login", NULL);
}

static const struct console_route routes[] = {
	{"GET", "/console/", false, home},
	{"GET", "/console/signup", false, console_signup_form},
	{"POST", "/console/signup", false, console_signup},
	{"GET", "/console/verify", false, console_verify_form},
	{"POST", "/console/verify", false, console_verify},
	{"GET", "/console/verify/resend", false, console_resend_form},
	{"POST", "/console/verify/resend", false, console_resend},
	{"GET", "/console/login", false, console_login_form},
	{"POST", "/console/login", false, console_login},
	{"POST", "/console/logout", true, console_logout},
	{"GET", "/console/forgot", false, console_forgot_form},
	{"POST", "/console/forgot", false, console_forgot},
	{"GET", "/console/reset", false, console_reset_form},
	{"POST", "/console/reset", false, console_reset},
	{"GET", "/console/profile", true, console_profile_form},
	{"POST", "/console/profile", true, console_profile},
	{"GET", "/console/apps", true, console_apps},
	{"POST", "/console/apps", true, console_app_create},
	{"GET", "/console/apps/{id}", true, console_app},
	{"POST", "/console/apps/{id}/keys", true, console_key_issue},
	{"POST", "/console/keys/{id}/rotate", true, console_key_rotate},
	{"GET", "/console/keys/{id}/revoke", true, console_key_revoke_form},
	{"POST", "/console/keys/{id}/revoke", true, console_key_revoke},
	{"GET", "/console/usage", true, console_usage},
	{"GET", "/console/destinations", true, console_destinations},
	{"POST", "/console/destinations", true, console_destination_create},
	{"POST", "/console/destinations/whatsapp", true, console_destination_join},
	{"GET", "/console/destinations/{id}/delete", true, console_destination_delete_form},
	{"POST", "/console/destinations/{id}/delete", true, console_destination_delete},
	{"GET", "/console/subscriptions", true, console_subscriptions},
	{"POST", "/console/subscriptions", true, console_subscription_create},
	{"POST", "/console/subscriptions/{id}/cancel", true, console_subscription_cancel},
	{"GET", "/console/dispatches", true, console_dispatches},
	{"GET", "/console/billing", true, console_billing},
};

/* Every page: no caching (pages show secrets once), no framing, no
 * inline script or style, no referrer (links carry tokens). */
static void security_headers(struct console *c)
{
	struct civic_response *r = c->ctx->resp;

	civic_response_header(r, "X-Request-Id", "%s", c->ctx->req->request_id);
	civic_response_header(r, "Cache-Control", "no-store");
	civic_response_header(r, "X-Content-Type-Options", "nosniff");
	civic_response_header(r, "X-Frame-Options", "DENY");
	civic_response_header(r, "Referrer-Policy", "no-referrer");
	civic_response_header(r, "Content-Security-Policy",
	                      "default-src 'none'; script-src 'self'; style-src 'self'; "
	                      "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
	                      "base-uri 'none'");
	if (c->https)
		civic_response_header(r, "Strict-Transport-Security", "max-age=31536000");
}

/* /console/static/<file>: the stylesheet and the copy-button script, from
 * templates/console/static/. Only names of the template layer's strict
 * form are looked up, so no path can leave that folder. */
static bool static_file(struct console *c)
{
	static const struct {
		const char *name, *type;
	} files[] = {
		{"console.css", "text/css; charset=utf-8"},
		{"console.js", "text/javascript; charset=utf-8"},
	};
	const char *path = c->ctx->req->path, *prefix = "/console/static/";
	char file[4096], chunk[4096];
	FILE *f;
	size_t n;
	int len;

	if (strncmp(path, prefix, strlen(prefix)) != 0)
		return false;
	for (size_t i = 0; i < CIVIC_NELEM(files); i++) {
		if (strcmp(path + strlen(prefix), files[i].name) != 0)
			continue;
		len = snprintf(file, sizeof(file), "%s/console/static/%s", c->ctx->cfg->templates_dir,
		               files[i].name);
		if (len < 0 || (size_t)len >= sizeof(file) || (f = fopen(file, "rb")) == NULL)
			break;
		civic_buf_reset(&c->ctx->resp->body);
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			if (!civic_buf_add(&c->ctx->resp->body, chunk, n))
				break;
		fclose(f);
		c->ctx->resp->status = 200;
		c->ctx->resp->content_type = files[i].type;
		civic_response_header(c->ctx->resp, "Cache-Control", "public, max-age=3600");
		c->answered = true;
		return true;
	}
	console_error_page(c, CIVIC_E_NOT_FOUND, NULL);
	return true;
}

static const struct console_route *find(struct console *c, enum civic_err *err)
{
	const char *method = c->ctx->req->method;
	bool known = false;
	int64_t id;

	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	for (size_t i = 0; i < CIVIC_NELEM(routes); i++) {
		if (!civic_route_match(routes[i].pattern, c->ctx->req->path, &id))
			continue;
		known = true;
		if (strcmp(routes[i].method, method) == 0) {
			c->ctx->id = id;
			return &routes[i];
		}
	}
	*err = known ? CIVIC_E_METHOD_NOT_ALLOWED : CIVIC_E_NOT_FOUND;
	return NULL;
}

/* Allow: the methods served at a known path that was asked another. */
static void allow_header(struct console *c)
{
	char allow[32] = "";
	int64_t id;

	for (size_t i = 0; i < CIVIC_NELEM(routes); i++)
		if (civic_route_match(routes[i].pattern, c->ctx->req->path, &id) &&
		    strstr(allow, routes[i].method) == NULL)
			snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
			         allow[0] ? ", " : "", routes[i].method);
	civic_response_header(c->ctx->resp, "Allow", "%s", allow);
}

static bool is_form(const char *type)
{
	size_t n = strlen("application/x-www-form-urlencoded");

	return type && strncasecmp(type, "application/x-www-form-urlencoded", n) == 0 &&
	       (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

/* A POST: a form body with the right CSRF token, or an error page. */
static enum civic_err admit_post(struct console *c)
{
	struct civic_request *req = c->ctx->req;

	if (!is_form(req->content_type))
		return CIVIC_E_UNSUPPORTED_MEDIA;
	if (!console_form_parse(&c->form, req->body.data ? req->body.data : "", req->body.len))
		return civic_fail(c->ctx, CIVIC_E_INVALID_REQUEST, "The form could not be read.");
	if (!console_csrf_ok(c))
		return civic_fail(c->ctx, CIVIC_E_PERMISSION_DENIED,
		                  "This form has expired or did not come from this site. Go back, "
		                  "reload the page and submit it again.");
	return CIVIC_OK;
}

/* Pages behind the login send a visitor to it, and back afterwards. */
static enum civic_err to_login(struct console *c)
{
	char next[CIVIC_PATH_MAX + 64];

	if (strcmp(c->ctx->req->method, "POST") == 0)
		return console_redirect(c, "/console/login", NULL);
	snprintf(next, sizeof(next), "/console/login?next=%s", c->ctx->req->path);
	return console_redirect(c, next, NULL);
}

static void handle(struct civic_ctx *ctx, enum civic_err early)
{
	struct console c = {.ctx = ctx};
	const struct console_route *rt = NULL;
	enum civic_err err = early;

	c.https = ctx->cfg->base_url && strncmp(ctx->cfg->base_url, "https://", 8) == 0;
	security_headers(&c);
	if (err == CIVIC_OK && static_file(&c))
		return;
	if (err == CIVIC_OK && (rt = find(&c, &err)) == NULL && err == CIVIC_E_METHOD_NOT_ALLOWED)
		allow_header(&c);
	if (err == CIVIC_OK && (err = console_session_load(&c)) == CIVIC_OK) {
		console_csrf_prepare(&c);
		if (strcmp(ctx->req->method, "POST") == 0)
			err = admit_post(&c);
		if (err == CIVIC_OK)
			err = rt->login && !c.sess.valid ? to_login(&c) : rt->handler(&c);
	}
	if (err != CIVIC_OK && !c.answered)
		console_error_page(&c, err, ctx->errmsg[0] ? ctx->errmsg : NULL);
	console_form_free(&c.form);
}

int main(void)
{
	return civic_serve_pages("civic-console", handle);
}
