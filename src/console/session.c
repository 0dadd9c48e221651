/* Sessions and CSRF. A session is a JWT for the audience
 * civicsentinel-console (the API refuses it; this file refuses API
 * tokens) in an HttpOnly, SameSite=Lax cookie, Path=/, with Secure and
 * the __Host- prefix when the base URL is https. Its jti names a
 * console_sessions row, so logging out ends it at once.
 *
 * CSRF: every visitor gets a random cookie; every form carries
 * HMAC-SHA256(pepper, "csrf|" cookie "|" session jti), checked on every
 * POST in constant time. An attacker's page can neither read the cookie
 * nor compute the token, and a token stops working when the session
 * changes. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "log.h"

static const char SQL_LOAD[] =
	"SELECT a.email, p.slug, p.name, p.scopes + 0 FROM console_sessions s"
	" JOIN accounts a ON a.id = s.account_id JOIN plans p ON p.id = a.plan_id"
	" WHERE s.jti = ? AND s.account_id = ? AND s.revoked_at IS NULL"
	" AND s.expires_at > UTC_TIMESTAMP() AND a.email_verified_at IS NOT NULL";
static const char SQL_INSERT[] =
	"INSERT INTO console_sessions (jti, account_id, created_at, expires_at)"
	" VALUES (?, ?, UTC_TIMESTAMP(), FROM_UNIXTIME(?))";
static const char SQL_DROP_EXPIRED[] =
	"DELETE FROM console_sessions WHERE account_id = ? AND expires_at < UTC_TIMESTAMP()";
static const char SQL_REVOKE[] =
	"UPDATE console_sessions SET revoked_at = UTC_TIMESTAMP() WHERE jti = ? AND revoked_at IS NULL";
static const char SQL_REVOKE_ALL[] =
	"UPDATE console_sessions SET revoked_at = UTC_TIMESTAMP()"
	" WHERE account_id = ? AND revoked_at IS NULL";

static const char *session_cookie(const struct console *c)
{
	return c->https ? "__Host-civic_session" : "civic_session";
}

static const char *csrf_cookie(const struct console *c)
{
	return c->https ? "__Host-civic_csrf" : "civic_csrf";
}

bool console_cookie(const struct console *c, const char *name, char *out, size_t outlen)
{
	const char *h = civic_request_header(c->ctx->req, "Cookie");
	size_t nlen = strlen(name);

	while (h && *h) {
		const char *end = strchr(h, ';');
		size_t len = end ? (size_t)(end - h) : strlen(h);

		while (*h == ' ' && len) {
			h++;
			len--;
		}
		if (len > nlen && strncmp(h, name, nlen) == 0 && h[nlen] == '=') {
			if (len - nlen - 1 >= outlen)
				return false;
			memcpy(out, h + nlen + 1, len - nlen - 1);
			out[len - nlen - 1] = '\0';
			return true;
		}
		h = end ? end + 1 : NULL;
	}
	return false;
}

/* max_age < 0: a browser-session cookie; 0: delete it. */
static void set_cookie(struct console *c, const char *name, const char *value, long max_age)
{
	char age[48] = "";

	if (max_age >= 0)
		snprintf(age, sizeof(age), "; Max-Age=%ld", max_age);
	civic_response_header(c->ctx->resp, "Set-Cookie", "%s=%s; Path=/; HttpOnly; SameSite=Lax%s%s",
	                      name, value, c->https ? "; Secure" : "", age);
}

enum civic_err console_session_load(struct console *c)
{
	char token[CIVIC_TOKEN_MAX + 1];
	struct civic_claims cl;
	struct civic_rows *r = NULL;
	struct civic_param p[2];
	int64_t scopes;
	enum civic_err err;

	memset(&c->sess, 0, sizeof(c->sess));
	if (!console_cookie(c, session_cookie(c), token, sizeof(token)))
		return CIVIC_OK;
	if (civic_token_verify(c->ctx->cfg, CIVIC_AUD_CONSOLE, token, c->ctx->now, &cl) != CIVIC_OK)
		goto stale;
	p[0] = CIVIC_PSTR(cl.jti);
	p[1] = CIVIC_PINT(cl.account_id);
	if ((err = civic_db_exec(c->ctx->db, SQL_LOAD, p, 2, &r)) != CIVIC_OK)
		return err;
	if (r->nrows != 1 || !civic_rows_int(r, 0, 3, &scopes)) {
		civic_rows_free(r);
		goto stale;
	}
	c->sess.valid = true;
	c->sess.account_id = cl.account_id;
	c->sess.scopes = (civic_scopes)scopes;
	snprintf(c->sess.jti, sizeof(c->sess.jti), "%s", cl.jti);
	snprintf(c->sess.email, sizeof(c->sess.email), "%s", civic_rows_get(r, 0, 0));
	snprintf(c->sess.plan, sizeof(c->sess.plan), "%s", civic_rows_get(r, 0, 1));
	snprintf(c->sess.plan_name, sizeof(c->sess.plan_name), "%s", civic_rows_get(r, 0, 2));
	civic_rows_free(r);
	return CIVIC_OK;
stale:
	/* Expired, logged out or forged: forget it. */
	set_cookie(c, session_cookie(c), "", 0);
	return CIVIC_OK;
}

static void new_csrf_cookie(struct console *c)
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(c->csrf_cookie, sizeof(c->csrf_cookie), raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	set_cookie(c, csrf_cookie(c), c->csrf_cookie, -1);
}

static void csrf_token(struct console *c)
{
	const struct civic_secret *key = &c->ctx->cfg->pepper;
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, key->bytes, key->len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"csrf|", 5);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)c->csrf_cookie,
	                              strlen(c->csrf_cookie));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"|", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)c->sess.jti,
	                              strlen(c->sess.jti));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(c->csrf, sizeof(c->csrf), mac, sizeof(mac),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void console_csrf_prepare(struct console *c)
{
	if (!console_cookie(c, csrf_cookie(c), c->csrf_cookie, sizeof(c->csrf_cookie)) ||
	    strlen(c->csrf_cookie) != CONSOLE_CSRF_LEN)
		new_csrf_cookie(c);
	csrf_token(c);
}

bool console_csrf_ok(const struct console *c)
{
	const char *sent = console_form_get(c, "csrf");

	return sent && strlen(sent) == CONSOLE_CSRF_LEN &&
	       sodium_memcmp(sent, c->csrf, CONSOLE_CSRF_LEN) == 0;
}

enum civic_err console_session_start(struct console *c, int64_t account_id)
{
	struct civic_claims cl = {.account_id = account_id};
	struct civic_param p[3];
	char *token = NULL;
	enum civic_err err;

	p[0] = CIVIC_PINT(account_id);
	if ((err = civic_db_exec(c->ctx->db, SQL_DROP_EXPIRED, p, 1, NULL)) != CIVIC_OK)
		return err;
	if ((err = civic_token_issue(c->ctx->cfg, CIVIC_AUD_CONSOLE, &cl, c->ctx->now, &token)) !=
	    CIVIC_OK)
		return err;
	p[0] = CIVIC_PSTR(cl.jti);
	p[1] = CIVIC_PINT(account_id);
	p[2] = CIVIC_PINT(cl.exp);
	if ((err = civic_db_exec(c->ctx->db, SQL_INSERT, p, 3, NULL)) == CIVIC_OK) {
		set_cookie(c, session_cookie(c), token, (long)(cl.exp - c->ctx->now));
		c->sess.valid = true;
		c->sess.account_id = account_id;
		snprintf(c->sess.jti, sizeof(c->sess.jti), "%s", cl.jti);
		new_csrf_cookie(c);
		csrf_token(c);
	}
	free(token);
	return err;
}

enum civic_err console_session_end(struct console *c)
{
	struct civic_param p = CIVIC_PSTR(c->sess.jti);
	enum civic_err err = civic_db_exec(c->ctx->db, SQL_REVOKE, &p, 1, NULL);

	if (err == CIVIC_OK) {
		set_cookie(c, session_cookie(c), "", 0);
		memset(&c->sess, 0, sizeof(c->sess));
		new_csrf_cookie(c);
		csrf_token(c);
	}
	return err;
}

enum civic_err console_sessions_revoke_all(struct console *c, int64_t account_id)
{
	struct civic_param p = CIVIC_PINT(account_id);

	return civic_db_exec(c->ctx->db, SQL_REVOKE_ALL, &p, 1, NULL);
}
