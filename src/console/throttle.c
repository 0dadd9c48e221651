/* Throttles for the forms an attacker would script: failed logins per
 * email address and per client address, sign-ups per client address,
 * verification and reset mails per address. Fixed windows in
 * console_throttle; a bucket is the kind plus a keyed hash of the
 * subject, so the table holds no address in clear. */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "quota.h"

static const char SQL_HITS[] =
	"SELECT hits FROM console_throttle WHERE bucket = ? AND window_start = FROM_UNIXTIME(?)";
static const char SQL_HIT[] =
	"INSERT INTO console_throttle (bucket, window_start, hits) VALUES (?, FROM_UNIXTIME(?), 1)"
	" ON DUPLICATE KEY UPDATE hits = hits + 1";
static const char SQL_FORGET_OLD[] =
	"DELETE FROM console_throttle WHERE bucket = ? AND window_start < FROM_UNIXTIME(?)";
static const char SQL_CLEAR[] = "DELETE FROM console_throttle WHERE bucket = ?";

struct rule {
	const char *tag;
	long window;
};

static const struct rule rules[] = {
	[CONSOLE_LOGIN_ACCOUNT] = {"la", 900},
	[CONSOLE_LOGIN_IP] = {"li", 900},
	[CONSOLE_SIGNUP_IP] = {"si", 3600},
	[CONSOLE_MAIL_ACCOUNT] = {"ma", 3600},
};

static long limit_of(const struct console *c, enum console_throttle_kind k)
{
	const struct civic_config *cfg = c->ctx->cfg;

	switch (k) {
	case CONSOLE_LOGIN_ACCOUNT: return cfg->console_login_failures_account;
	case CONSOLE_LOGIN_IP: return cfg->console_login_failures_ip;
	case CONSOLE_SIGNUP_IP: return cfg->console_signups_ip;
	case CONSOLE_MAIL_ACCOUNT: return cfg->console_mails_account;
	}
	return 0;
}

/* "la:" + hex of a 20-byte keyed hash of the subject: client addresses
 * as the API counts them (IPv6 by /64), email addresses lower-cased. */
static void bucket(const struct console *c, enum console_throttle_kind k, const char *subject,
                   char out[48])
{
	const struct civic_secret *key = &c->ctx->cfg->pepper;
	char norm[CIVIC_CLIENT_KEY_MAX > 255 ? CIVIC_CLIENT_KEY_MAX : 255];
	unsigned char h[20];
	size_t i;

	if (k == CONSOLE_LOGIN_IP || k == CONSOLE_SIGNUP_IP)
		civic_client_key(subject, norm);
	else {
		for (i = 0; subject[i] && i < sizeof(norm) - 1; i++)
			norm[i] = (char)tolower((unsigned char)subject[i]);
		norm[i] = '\0';
	}
	crypto_generichash(h, sizeof(h), (const unsigned char *)norm, strlen(norm), key->bytes,
	                   key->len < crypto_generichash_KEYBYTES_MAX ? key->len
	                                                              : crypto_generichash_KEYBYTES_MAX);
	memcpy(out, rules[k].tag, 2);
	out[2] = ':';
	sodium_bin2hex(out + 3, 48 - 3, h, sizeof(h));
}

static time_t window_of(const struct console *c, enum console_throttle_kind k)
{
	return c->ctx->now - c->ctx->now % rules[k].window;
}

enum civic_err console_throttle_check(struct console *c, enum console_throttle_kind kind,
                                      const char *subject, bool *over, long *retry_after)
{
	char b[48];
	struct civic_param p[2];
	struct civic_rows *r;
	int64_t hits = 0;
	enum civic_err err;

	bucket(c, kind, subject, b);
	p[0] = CIVIC_PSTR(b);
	p[1] = CIVIC_PINT(window_of(c, kind));
	if ((err = civic_db_exec(c->ctx->db, SQL_HITS, p, 2, &r)) != CIVIC_OK)
		return err;
	if (r->nrows == 1)
		civic_rows_int(r, 0, 0, &hits);
	civic_rows_free(r);
	*over = hits >= limit_of(c, kind);
	*retry_after = (long)(window_of(c, kind) + rules[kind].window - c->ctx->now);
	return CIVIC_OK;
}

enum civic_err console_throttle_hit(struct console *c, enum console_throttle_kind kind,
                                    const char *subject)
{
	char b[48];
	struct civic_param p[2];
	struct civic_rows *r;
	enum civic_err err;

	bucket(c, kind, subject, b);
	p[0] = CIVIC_PSTR(b);
	p[1] = CIVIC_PINT(window_of(c, kind));
	if ((err = civic_db_exec(c->ctx->db, SQL_HIT, p, 2, &r)) != CIVIC_OK)
		return err;
	/* A new window (one row inserted): the bucket's old ones can go. */
	if (r->affected == 1)
		err = civic_db_exec(c->ctx->db, SQL_FORGET_OLD, p, 2, NULL);
	civic_rows_free(r);
	return err;
}

enum civic_err console_throttle_clear(struct console *c, enum console_throttle_kind kind,
                                      const char *subject)
{
	char b[48];
	struct civic_param p;

	bucket(c, kind, subject, b);
	p = CIVIC_PSTR(b);
	return civic_db_exec(c->ctx->db, SQL_CLEAR, &p, 1, NULL);
}
