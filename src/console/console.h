/* civic-console: the web console under /console/ (SPEC §7). Server-
 * rendered HTML from templates/console/, forms that work without
 * JavaScript, a session JWT (audience civicsentinel-console) in a cookie,
 * a CSRF token on every form. Pages that read or change API resources
 * (profile, destinations, subscriptions, dispatches, usage, billing) run
 * the API responders' own handlers in-process (civic_invoke), so a form
 * and an API call obey one set of rules.
 *
 * A page handler gets a struct console: the request, the form, the
 * session; it answers by console_render() or console_redirect(), or
 * returns an error that main.c turns into an error page. */
#ifndef CIVIC_CONSOLE_H
#define CIVIC_CONSOLE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "server.h"

#define CONSOLE_FORM_FIELDS_MAX 64   /* name=value pairs in one form */
#define CONSOLE_FORM_VALUE_MAX 8192  /* bytes of one decoded value */
#define CONSOLE_CSRF_LEN 43          /* base64url of 32 bytes */

struct console_form {
	size_t n;
	char *names[CONSOLE_FORM_FIELDS_MAX]; /* owned */
	char *values[CONSOLE_FORM_FIELDS_MAX];
};

/* The logged-in account (session.c). */
struct console_session {
	bool valid;
	int64_t account_id;
	char jti[33];
	char email[255];
	char plan[33];      /* slug */
	char plan_name[65];
	civic_scopes scopes; /* the plan's scopes: what the console may do */
};

struct console {
	struct civic_ctx *ctx; /* cfg, db, req, resp, now */
	struct console_form form;  /* POST bodies (urlencoded) */
	struct console_session sess;
	char csrf_cookie[CONSOLE_CSRF_LEN + 1]; /* the visitor's CSRF cookie value */
	char csrf[CONSOLE_CSRF_LEN + 1];        /* the token forms carry */
	bool https;            /* base_url is https: Secure + __Host- cookies */
	bool answered;         /* a page or redirect is in ctx->resp */
};

typedef enum civic_err (*console_handler)(struct console *c);

struct console_route {
	const char *method;  /* "GET" or "POST" */
	const char *pattern; /* "/console/apps/{id}" (civic_route_match) */
	bool login;          /* needs a session; else redirect to the login page */
	console_handler handler;
};

/* ---- form.c ---- */

/* Parses an application/x-www-form-urlencoded body into f. False for a
 * malformed body (bad escape, NUL, too many fields, a value too long). */
bool console_form_parse(struct console_form *f, const char *body, size_t len);
void console_form_free(struct console_form *f);
/* The first value of name, NULL when absent. */
const char *console_form_get(const struct console *c, const char *name);
/* Up to max values of name into out; returns how many there are. */
size_t console_form_all(const struct console *c, const char *name, const char **out,
                        size_t max);

/* The form as the JSON body of an API route (the fields of the route
 * api/method/path, taken from the form under the same names): integers
 * for integer fields when the value parses, null for an empty value of a
 * nullable field, nothing for an empty optional one, else the string, so
 * the API's validators judge it. Caller frees (json_object_put). */
json_object *console_form_json(const struct console *c, const struct civic_api *api,
                               const char *method, const char *path);

/* Runs an API route for the session's account (civic_invoke) into *sub,
 * a fresh context sharing c's request; body may be NULL. Free *sub with
 * console_call_free. The error is returned; sub->errmsg / errfields say
 * why. */
enum civic_err console_call(struct console *c, const struct civic_api *api, const char *method,
                            const char *path, json_object *body, struct civic_ctx *sub);
void console_call_free(struct civic_ctx *sub);

/* console_call of the list route GET path, with query (e.g.
 * "page_size=100") in place of the console request's own query string
 * when not NULL: the API handlers read paging and filters from the
 * request, and a page showing several lists (or a select's options)
 * must not apply one list's parameters to another. */
enum civic_err console_list(struct console *c, const struct civic_api *api, const char *path,
                            const char *query, struct civic_ctx *sub);

/* ---- session.c ---- */

/* Reads the session cookie: verifies the JWT (audience console only)
 * and that its session row is live; fills c->sess. A missing or bad
 * cookie leaves c->sess.valid false. CIVIC_E_UNAVAILABLE and other
 * database errors are returned. */
enum civic_err console_session_load(struct console *c);
/* Starts a session for account_id: a new session row and JWT, set as
 * the session cookie; the CSRF cookie is replaced too (no fixation). */
enum civic_err console_session_start(struct console *c, int64_t account_id);
/* Ends the current session (row revoked, cookie cleared). */
enum civic_err console_session_end(struct console *c);
/* Revokes every session of account_id (password reset). */
enum civic_err console_sessions_revoke_all(struct console *c, int64_t account_id);

/* Sets up the CSRF cookie (a new one when absent or malformed) and the
 * token forms carry: HMAC of the cookie and the session jti. */
void console_csrf_prepare(struct console *c);
/* True when the form's "csrf" field matches (constant time). */
bool console_csrf_ok(const struct console *c);

/* The value of cookie name from the Cookie header into out; false when
 * absent or longer than outlen - 1. */
bool console_cookie(const struct console *c, const char *name, char *out, size_t outlen);

/* ---- throttle.c ---- */

enum console_throttle_kind {
	CONSOLE_LOGIN_ACCOUNT, /* failed logins per email address, 15 min */
	CONSOLE_LOGIN_IP,      /* failed logins per client address, 15 min */
	CONSOLE_SIGNUP_IP,     /* sign-ups per client address, 1 h */
	CONSOLE_MAIL_ACCOUNT,  /* verify/reset mails per email address, 1 h */
};

/* True (with *retry_after seconds) when subject is at or over its limit
 * of kind in the current window: check before doing the work. */
enum civic_err console_throttle_check(struct console *c, enum console_throttle_kind kind,
                                      const char *subject, bool *over, long *retry_after);
/* Counts one event of kind for subject. */
enum civic_err console_throttle_hit(struct console *c, enum console_throttle_kind kind,
                                    const char *subject);
/* Forgets subject's events of kind (a successful login). */
enum civic_err console_throttle_clear(struct console *c, enum console_throttle_kind kind,
                                      const char *subject);

/* ---- page.c ---- */

/* Renders templates/console/<name>.html with view (ownership taken; may
 * be NULL) inside layout.html, with status. The view gains "csrf",
 * "account" (email, plan), "nav_<nav>" = true for the current tab, and
 * "notice" from the query's ?notice= code. title is the page title. */
enum civic_err console_render(struct console *c, int status, const char *name,
                              const char *title, const char *nav, json_object *view);
/* 303 See Other to path (a local path, "/console/..."), with an optional
 * notice code appended as ?notice=code (a fixed word; see page.c). */
enum civic_err console_redirect(struct console *c, const char *path, const char *notice);
/* The error page for e (404, 403, 429, 503, 500 ...), message may be NULL. */
void console_error_page(struct console *c, enum civic_err e, const char *message);

/* view helpers: a JSON object of the form's values under the names
 * given (passwords are never echoed: leave them out), to refill a form;
 * and field errors as {"errors": {field: reason}} merged into view. */
json_object *console_form_echo(const struct console *c, const char *const *names, size_t n);
void console_view_errors(json_object *view, json_object *errfields);
/* view["error"] = message: a form-wide error shown above the form. */
void console_view_error(json_object *view, const char *message);

/* ---- the pages ---- */

/* auth.c */
enum civic_err console_signup_form(struct console *c);
enum civic_err console_signup(struct console *c);
enum civic_err console_verify_form(struct console *c);
enum civic_err console_verify(struct console *c);
enum civic_err console_resend_form(struct console *c);
enum civic_err console_resend(struct console *c);
enum civic_err console_login_form(struct console *c);
enum civic_err console_login(struct console *c);
enum civic_err console_logout(struct console *c);
enum civic_err console_forgot_form(struct console *c);
enum civic_err console_forgot(struct console *c);
enum civic_err console_reset_form(struct console *c);
enum civic_err console_reset(struct console *c);

/* account.c */
enum civic_err console_profile_form(struct console *c);
enum civic_err console_profile(struct console *c);
enum civic_err console_usage(struct console *c);
enum civic_err console_billing(struct console *c);

/* developer.c */
enum civic_err console_apps(struct console *c);
enum civic_err console_app_create(struct console *c);
enum civic_err console_app(struct console *c);
enum civic_err console_key_issue(struct console *c);
enum civic_err console_key_rotate(struct console *c);
enum civic_err console_key_revoke_form(struct console *c);
enum civic_err console_key_revoke(struct console *c);

/* alerts.c */
enum civic_err console_destinations(struct console *c);
enum civic_err console_destination_create(struct console *c);
enum civic_err console_destination_join(struct console *c);
enum civic_err console_destination_delete_form(struct console *c);
enum civic_err console_destination_delete(struct console *c);
enum civic_err console_subscriptions(struct console *c);
enum civic_err console_subscription_create(struct console *c);
enum civic_err console_subscription_cancel(struct console *c);
enum civic_err console_dispatches(struct console *c);

#endif
