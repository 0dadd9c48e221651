/* Sign-up, email verification, log in and out, forgotten password.
 *
 * Mails (verification, reset) are queued in mail_queue in the same
 * request; civic-dispatch mints the link token, stores only its hash and
 * sends the mail. A link opens a page with a button: following a link
 * (a mail scanner prefetching it) changes nothing, the POST does.
 *
 * Nothing here tells whether an address has an account, except sign-up
 * itself ("already registered"), which is throttled per client address.
 * A failed login takes as long for an unknown address as for a wrong
 * password (civic_password_verify). */
#include <pwquality.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "console.h"
#include "email_tokens.h"
#include "log.h"

static const char SQL_QUEUE_MAIL[] =
	"INSERT INTO mail_queue (purpose, account_id, to_address, next_attempt_at, created_at)"
	" VALUES (?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP())";
static const char SQL_BY_EMAIL[] =
	"SELECT id, password_hash, email_verified_at IS NOT NULL FROM accounts WHERE email = ?";
static const char SQL_ACCOUNT_EMAIL[] = "SELECT email FROM accounts WHERE id = ?";
static const char SQL_VERIFY[] =
	"UPDATE accounts SET email_verified_at = COALESCE(email_verified_at, UTC_TIMESTAMP()),"
	" updated_at = UTC_TIMESTAMP() WHERE id = ?";
static const char SQL_SET_PASSWORD[] =
	"UPDATE accounts SET password_hash = ?,"
	" email_verified_at = COALESCE(email_verified_at, UTC_TIMESTAMP()),"
	" updated_at = UTC_TIMESTAMP() WHERE id = ?";
/* One reset link works once, and using it retires the others. */
static const char SQL_RETIRE_RESETS[] =
	"UPDATE email_tokens SET used_at = UTC_TIMESTAMP()"
	" WHERE account_id = ? AND purpose = 'reset_password' AND used_at IS NULL";

/* ------------------------------------------------------------ helpers */

/* Why password is too weak for the account of email, or NULL. The rules
 * are libpwquality's (length, dictionary words via cracklib, the user
 * name in it, repeats), with our length bounds; not /etc's settings. */
static const char *password_problem(const char *password, const char *email, char *buf,
                                    size_t buflen)
{
	static pwquality_settings_t *pwq;
	char user[255];
	void *aux = NULL;
	size_t len = password ? strlen(password) : 0;
	int rc;

	if (len < CIVIC_PASSWORD_MIN)
		return "Use at least 10 characters.";
	if (len > CIVIC_PASSWORD_MAX)
		return "Use at most 128 characters.";
	if (pwq == NULL) {
		if ((pwq = pwquality_default_settings()) == NULL)
			return NULL;
		pwquality_set_int_value(pwq, PWQ_SETTING_MIN_LENGTH, CIVIC_PASSWORD_MIN);
	}
	snprintf(user, sizeof(user), "%s", email ? email : "");
	user[strcspn(user, "@")] = '\0';
	rc = pwquality_check(pwq, password, NULL, user[0] ? user : NULL, &aux);
	if (rc >= 0)
		return NULL;
	if (rc == PWQ_ERROR_CRACKLIB_CHECK && aux == NULL) {
		/* No dictionary installed: the other rules still held. */
		civic_log_warn("password check: cracklib dictionary missing (install cracklib-runtime)");
		return NULL;
	}
	return pwquality_strerror(buf, buflen, rc, aux);
}

static enum civic_err queue_mail(struct console *c, const char *purpose, int64_t account_id,
                                 const char *to)
{
	struct civic_param p[] = {CIVIC_PSTR(purpose), CIVIC_PINT(account_id), CIVIC_PSTR(to)};

	return civic_db_exec(c->ctx->db, SQL_QUEUE_MAIL, p, CIVIC_NELEM(p), NULL);
}

static json_object *view_with_form(const struct console *c, const char *const *names, size_t n)
{
	json_object *view = json_object_new_object();

	json_object_object_add(view, "form", console_form_echo(c, names, n));
	return view;
}

static void field_error(json_object *view, const char *field, const char *why)
{
	json_object *errs = json_object_object_get(view, "errors");

	if (errs == NULL) {
		errs = json_object_new_object();
		json_object_object_add(view, "errors", errs);
	}
	json_object_object_add(errs, field, json_object_new_string(why));
}

static void retry_after(struct console *c, long seconds)
{
	civic_response_header(c->ctx->resp, "Retry-After", "%ld", seconds);
}

static const char *minutes(long seconds, char *buf, size_t len)
{
	long m = (seconds + 59) / 60;

	snprintf(buf, len, "%ld minute%s", m, m == 1 ? "" : "s");
	return buf;
}

/* A redirect target after login: a console path, nothing that could
 * leave the site ("//host", "/\host", a scheme). */
static bool local_path(const char *s)
{
	if (s == NULL || strncmp(s, "/console/", 9) != 0 || strlen(s) > 200)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '/' ||
		      *p == '-' || *p == '_') ||
		    (p[0] == '/' && p[1] == '/'))
			return false;
	return true;
}

/* ------------------------------------------------------------ sign up */

static const char *const signup_names[] = {"email"};

enum civic_err console_signup_form(struct console *c)
{
	if (c->sess.valid)
		return console_redirect(c, "/console/apps", NULL);
	return console_render(c, 200, "signup", "Sign up", "signup", NULL);
}

enum civic_err console_signup(struct console *c)
{
	const char *email = console_form_get(c, "email");
	const char *password = console_form_get(c, "password");
	const char *confirm = console_form_get(c, "confirm");
	json_object *view = view_with_form(c, signup_names, CIVIC_NELEM(signup_names));
	char lower[255], buf[256], m[32];
	const char *why;
	int64_t id;
	long wait;
	bool over;
	enum civic_err err;

	if ((err = console_throttle_check(c, CONSOLE_SIGNUP_IP, c->ctx->req->client_ip, &over,
	                                  &wait)) != CIVIC_OK)
		goto fail;
	if (over) {
		retry_after(c, wait);
		snprintf(buf, sizeof(buf), "Too many sign-ups from your network. Try again in %s.",
		         minutes(wait, m, sizeof(m)));
		console_view_error(view, buf);
		return console_render(c, 429, "signup", "Sign up", "signup", view);
	}
	if (!civic_email_lower(email, lower))
		field_error(view, "email", "Enter an email address such as name@example.org.");
	if ((why = password_problem(password, email, buf, sizeof(buf))) != NULL)
		field_error(view, "password", why);
	else if (confirm == NULL || strcmp(password, confirm) != 0)
		field_error(view, "confirm", "The two passwords differ.");
	if (json_object_object_get(view, "errors"))
		return console_render(c, 400, "signup", "Sign up", "signup", view);
	err = civic_account_create(c->ctx->db, lower, password, NULL, false, &id);
	if (err == CIVIC_E_CONFLICT) {
		field_error(view, "email", "An account with this address exists. Log in, or reset "
		                           "its password if you forgot it.");
		return console_render(c, 400, "signup", "Sign up", "signup", view);
	}
	if (err != CIVIC_OK || (err = console_throttle_hit(c, CONSOLE_SIGNUP_IP,
	                                                   c->ctx->req->client_ip)) != CIVIC_OK ||
	    (err = queue_mail(c, "verify_email", id, lower)) != CIVIC_OK ||
	    (err = console_throttle_hit(c, CONSOLE_MAIL_ACCOUNT, lower)) != CIVIC_OK)
		goto fail;
	json_object_object_add(view, "email", json_object_new_string(lower));
	return console_render(c, 200, "signup_done", "Check your email", "signup", view);
fail:
	json_object_put(view);
	return err;
}

/* ------------------------------------------------------ verification */

static json_object *token_view(const struct console *c)
{
	char token[CIVIC_LINK_TOKEN_LEN + 8];
	json_object *view = json_object_new_object();

	if (civic_request_query(c->ctx->req, "token", token, sizeof(token)) == 1 &&
	    civic_email_token_valid(token))
		json_object_object_add(view, "token", json_object_new_string(token));
	return view;
}

/* The page an emailed link opens: its form with the token, or why the
 * link cannot work. */
static enum civic_err link_page(struct console *c, const char *page, const char *title)
{
	json_object *view = token_view(c);

	if (json_object_object_get(view, "token") == NULL)
		console_view_error(view, "This link is incomplete. Copy the whole link from the "
		                         "mail, or ask for a new one.");
	return console_render(c, 200, page, title, NULL, view);
}

enum civic_err console_verify_form(struct console *c)
{
	return link_page(c, "verify", "Verify your email address");
}

/* Redeems token for purpose inside the caller's transaction, fails a
 * link used before, and gives the account's address. */
static enum civic_err redeem(struct console *c, enum civic_email_purpose purpose,
                             const char *token, struct civic_email_link *link, char email[255])
{
	struct civic_param p;
	struct civic_rows *r;
	enum civic_err err;

	if ((err = civic_email_token_redeem(c->ctx->db, c->ctx->cfg, purpose, token, link)) !=
	    CIVIC_OK)
		return err;
	if (purpose == CIVIC_EMAIL_RESET_PASSWORD && !link->first_use)
		return CIVIC_E_NOT_FOUND;
	p = CIVIC_PINT(link->account_id);
	if ((err = civic_db_exec(c->ctx->db, SQL_ACCOUNT_EMAIL, &p, 1, &r)) != CIVIC_OK)
		return err;
	if (r->nrows == 1)
		snprintf(email, 255, "%s", civic_rows_get(r, 0, 0));
	else
		err = CIVIC_E_NOT_FOUND;
	civic_rows_free(r);
	return err;
}

enum civic_err console_verify(struct console *c)
{
	const char *token = console_form_get(c, "token");
	struct civic_email_link link = {0};
	struct civic_param p;
	char email[255];
	json_object *view;
	enum civic_err err;

	if ((err = civic_db_begin(c->ctx->db)) != CIVIC_OK)
		return err;
	err = redeem(c, CIVIC_EMAIL_VERIFY, token, &link, email);
	p = CIVIC_PINT(link.account_id);
	if (err == CIVIC_OK && (err = civic_db_exec(c->ctx->db, SQL_VERIFY, &p, 1, NULL)) == CIVIC_OK)
		err = civic_db_commit(c->ctx->db);
	if (err != CIVIC_OK)
		civic_db_rollback(c->ctx->db);
	if (err == CIVIC_E_NOT_FOUND) {
		view = json_object_new_object();
		console_view_error(view, "This link has expired or is not valid. Ask for a new one "
		                         "below; links work for a limited time.");
		return console_render(c, 400, "verify", "Verify your email address", NULL, view);
	}
	if (err != CIVIC_OK)
		return err;
	return console_redirect(c, "/console/login",
	                        link.first_use ? "verified" : "already_verified");
}

/* Sends the verification mail again, within the per-address limit; the
 * answer is the same whether or not the address has an unverified
 * account. */
enum civic_err console_resend_form(struct console *c)
{
	return console_render(c, 200, "resend", "Send the verification link again", NULL, NULL);
}

/* Queues mail purpose to the account of address email when it exists
 * (and, for verification, is still unverified) and the address is under
 * its mail limit. */
static enum civic_err mail_if_account(struct console *c, const char *email, const char *purpose,
                                      bool only_unverified)
{
	struct civic_param p = CIVIC_PSTR(email);
	struct civic_rows *r;
	int64_t id, verified = 0;
	long wait;
	bool over;
	enum civic_err err;

	if ((err = console_throttle_check(c, CONSOLE_MAIL_ACCOUNT, email, &over, &wait)) != CIVIC_OK)
		return err;
	if (over)
		return CIVIC_OK;
	if ((err = civic_db_exec(c->ctx->db, SQL_BY_EMAIL, &p, 1, &r)) != CIVIC_OK)
		return err;
	if (r->nrows == 1 && civic_rows_int(r, 0, 0, &id) && civic_rows_int(r, 0, 2, &verified) &&
	    !(only_unverified && verified)) {
		if ((err = queue_mail(c, purpose, id, email)) == CIVIC_OK)
			err = console_throttle_hit(c, CONSOLE_MAIL_ACCOUNT, email);
	}
	civic_rows_free(r);
	return err;
}

static enum civic_err mail_form(struct console *c, const char *purpose, bool only_unverified,
                                const char *page, const char *title)
{
	static const char *const names[] = {"email"};
	char lower[255];
	json_object *view;
	enum civic_err err;

	if (!civic_email_lower(console_form_get(c, "email"), lower)) {
		view = view_with_form(c, names, CIVIC_NELEM(names));
		field_error(view, "email", "Enter an email address such as name@example.org.");
		return console_render(c, 400, page, title, NULL, view);
	}
	if ((err = mail_if_account(c, lower, purpose, only_unverified)) != CIVIC_OK)
		return err;
	return console_redirect(c, "/console/login", "mail_sent");
}

enum civic_err console_resend(struct console *c)
{
	return mail_form(c, "verify_email", true, "resend", "Send the verification link again");
}

/* ------------------------------------------------------ log in / out */

static const char *const login_names[] = {"email", "next"};

enum civic_err console_login_form(struct console *c)
{
	char next[256];
	json_object *view, *form;

	if (c->sess.valid)
		return console_redirect(c, "/console/apps", NULL);
	view = json_object_new_object();
	form = json_object_new_object();
	if (civic_request_query(c->ctx->req, "next", next, sizeof(next)) == 1 && local_path(next))
		json_object_object_add(form, "next", json_object_new_string(next));
	json_object_object_add(view, "form", form);
	return console_render(c, 200, "login", "Log in", "login", view);
}

/* Over a login throttle: the 429 form, with when to come back. */
static enum civic_err login_throttled(struct console *c, json_object *view, long wait,
                                      bool account)
{
	char msg[256], m[32];

	retry_after(c, wait);
	snprintf(msg, sizeof(msg),
	         account ? "Too many failed attempts for this account. Try again in %s, or reset "
	                   "your password."
	                 : "Too many failed attempts from your network. Try again in %s.",
	         minutes(wait, m, sizeof(m)));
	console_view_error(view, msg);
	return console_render(c, 429, "login", "Log in", "login", view);
}

enum civic_err console_login(struct console *c)
{
	const char *password = console_form_get(c, "password");
	const char *next = console_form_get(c, "next");
	const char *ip = c->ctx->req->client_ip;
	json_object *view = view_with_form(c, login_names, CIVIC_NELEM(login_names));
	struct civic_rows *r = NULL;
	struct civic_param p;
	char lower[255];
	int64_t id = 0, verified = 0;
	long wait;
	bool over, ok;
	enum civic_err err;

	if (!civic_email_lower(console_form_get(c, "email"), lower))
		lower[0] = '\0';
	if ((err = console_throttle_check(c, CONSOLE_LOGIN_IP, ip, &over, &wait)) != CIVIC_OK)
		goto fail;
	if (over)
		return login_throttled(c, view, wait, false);
	if (lower[0] &&
	    (err = console_throttle_check(c, CONSOLE_LOGIN_ACCOUNT, lower, &over, &wait)) != CIVIC_OK)
		goto fail;
	if (lower[0] && over)
		return login_throttled(c, view, wait, true);
	p = CIVIC_PSTR(lower);
	if (lower[0] && (err = civic_db_exec(c->ctx->db, SQL_BY_EMAIL, &p, 1, &r)) != CIVIC_OK)
		goto fail;
	ok = civic_password_verify(r && r->nrows == 1 ? civic_rows_get(r, 0, 1) : NULL, password) &&
	     civic_rows_int(r, 0, 0, &id) && civic_rows_int(r, 0, 2, &verified);
	civic_rows_free(r);
	if (!ok) {
		if ((err = console_throttle_hit(c, CONSOLE_LOGIN_IP, ip)) != CIVIC_OK ||
		    (lower[0] && (err = console_throttle_hit(c, CONSOLE_LOGIN_ACCOUNT, lower)) != CIVIC_OK))
			goto fail;
		console_view_error(view, "Wrong email address or password.");
		return console_render(c, 401, "login", "Log in", "login", view);
	}
	if (!verified) {
		json_object_object_add(view, "unverified", json_object_new_boolean(1));
		console_view_error(view, "Verify your email address first: open the link in the mail "
		                         "we sent you.");
		return console_render(c, 403, "login", "Log in", "login", view);
	}
	json_object_put(view);
	if ((err = console_throttle_clear(c, CONSOLE_LOGIN_ACCOUNT, lower)) != CIVIC_OK ||
	    (err = console_session_start(c, id)) != CIVIC_OK)
		return err;
	return console_redirect(c, local_path(next) ? next : "/console/apps", NULL);
fail:
	json_object_put(view);
	return err;
}

enum civic_err console_logout(struct console *c)
{
	enum civic_err err = console_session_end(c);

	return err != CIVIC_OK ? err : console_redirect(c, "/console/login", "logged_out");
}

/* -------------------------------------------------- forgotten password */

enum civic_err console_forgot_form(struct console *c)
{
	return console_render(c, 200, "forgot", "Reset your password", NULL, NULL);
}

enum civic_err console_forgot(struct console *c)
{
	return mail_form(c, "reset_password", false, "forgot", "Reset your password");
}

enum civic_err console_reset_form(struct console *c)
{
	return link_page(c, "reset", "Choose a new password");
}

/* Within the transaction: the new password for the link's account. */
static enum civic_err set_password(struct console *c, const char *token, json_object *view,
                                   int64_t *account_id)
{
	const char *password = console_form_get(c, "password");
	const char *confirm = console_form_get(c, "confirm");
	struct civic_email_link link = {0};
	char email[255], buf[256], hash[128];
	const char *why;
	struct civic_param p[2];
	enum civic_err err;

	if ((err = redeem(c, CIVIC_EMAIL_RESET_PASSWORD, token, &link, email)) != CIVIC_OK)
		return err;
	if ((why = password_problem(password, email, buf, sizeof(buf))) != NULL)
		field_error(view, "password", why);
	else if (confirm == NULL || strcmp(password, confirm) != 0)
		field_error(view, "confirm", "The two passwords differ.");
	if (json_object_object_get(view, "errors"))
		return CIVIC_E_VALIDATION;
	if ((err = civic_password_hash(password, hash)) != CIVIC_OK)
		return err;
	p[0] = CIVIC_PSTR(hash);
	p[1] = CIVIC_PINT(link.account_id);
	err = civic_db_exec(c->ctx->db, SQL_SET_PASSWORD, p, 2, NULL);
	sodium_memzero(hash, sizeof(hash));
	if (err == CIVIC_OK)
		err = civic_db_exec(c->ctx->db, SQL_RETIRE_RESETS, &p[1], 1, NULL);
	if (err == CIVIC_OK)
		err = console_sessions_revoke_all(c, link.account_id);
	if (err == CIVIC_OK)
		err = console_throttle_clear(c, CONSOLE_LOGIN_ACCOUNT, email);
	*account_id = link.account_id;
	return err;
}

enum civic_err console_reset(struct console *c)
{
	const char *token = console_form_get(c, "token");
	json_object *view = json_object_new_object();
	int64_t account_id;
	enum civic_err err;

	if (token && civic_email_token_valid(token))
		json_object_object_add(view, "token", json_object_new_string(token));
	if ((err = civic_db_begin(c->ctx->db)) != CIVIC_OK)
		goto fail;
	err = set_password(c, token, view, &account_id);
	if (err == CIVIC_OK)
		err = civic_db_commit(c->ctx->db);
	if (err != CIVIC_OK)
		civic_db_rollback(c->ctx->db);
	if (err == CIVIC_E_VALIDATION)
		return console_render(c, 400, "reset", "Choose a new password", NULL, view);
	if (err == CIVIC_E_NOT_FOUND) {
		json_object_object_del(view, "token");
		console_view_error(view, "This link has expired, was used already, or is not valid. "
		                         "Ask for a new one.");
		return console_render(c, 400, "reset", "Choose a new password", NULL, view);
	}
	if (err != CIVIC_OK)
		goto fail;
	json_object_put(view);
	/* A session of this browser, if any, was revoked with the others. */
	if (c->sess.valid)
		console_session_end(c);
	return console_redirect(c, "/console/login", "password_reset");
fail:
	json_object_put(view);
	return err;
}
