#include "email_tokens.h"

#include <sodium.h>
#include <string.h>

#include "keys.h"

static const char SQL_INSERT_TOKEN[] =
	"INSERT INTO email_tokens (purpose, account_id, destination_id, token_hash, created_at,"
	" expires_at) VALUES (?, ?, ?, ?, UTC_TIMESTAMP(), FROM_UNIXTIME(?))";
/* FROM_UNIXTIME gives the session time zone, which is UTC (db.c). */
static const char SQL_FIND_TOKEN[] =
	"SELECT id, account_id, destination_id, used_at IS NULL FROM email_tokens"
	" WHERE token_hash = ? AND purpose = ? AND expires_at > UTC_TIMESTAMP() FOR UPDATE";
static const char SQL_USE_TOKEN[] =
	"UPDATE email_tokens SET used_at = COALESCE(used_at, UTC_TIMESTAMP()) WHERE id = ?";

static const char *const purposes[] = {
	[CIVIC_EMAIL_VERIFY] = "verify_email",
	[CIVIC_EMAIL_RESET_PASSWORD] = "reset_password",
	[CIVIC_EMAIL_CONFIRM_DESTINATION] = "confirm_destination",
};

bool civic_email_token_valid(const char *s)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	return s != NULL && strlen(s) == CIVIC_LINK_TOKEN_LEN &&
	       strspn(s, alphabet) == CIVIC_LINK_TOKEN_LEN;
}

long civic_email_token_hours(const struct civic_config *cfg, enum civic_email_purpose purpose)
{
	/* A reset link is a password: short-lived whatever the setting. */
	if (purpose == CIVIC_EMAIL_RESET_PASSWORD && cfg->confirm_link_hours > 1)
		return 1;
	return cfg->confirm_link_hours;
}

enum civic_err civic_email_token_mint(struct civic_db *db, const struct civic_config *cfg,
                                      enum civic_email_purpose purpose, int64_t account_id,
                                      int64_t destination_id,
                                      char token[CIVIC_LINK_TOKEN_LEN + 1], time_t *expires_at)
{
	unsigned char raw[32], hash[CIVIC_KEY_HASH_LEN];
	time_t expires = time(NULL) + (time_t)civic_email_token_hours(cfg, purpose) * 3600;
	enum civic_err err;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token, CIVIC_LINK_TOKEN_LEN + 1, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	civic_key_hash(&cfg->pepper, token, hash);
	struct civic_param p[] = {
		CIVIC_PSTR(purposes[purpose]),
		CIVIC_PINT(account_id),
		destination_id > 0 ? CIVIC_PINT(destination_id) : CIVIC_PNULL,
		CIVIC_PBLOB(hash, sizeof(hash)),
		CIVIC_PINT(expires),
	};
	err = civic_db_exec(db, SQL_INSERT_TOKEN, p, sizeof(p) / sizeof(p[0]), NULL);
	if (err != CIVIC_OK)
		sodium_memzero(token, CIVIC_LINK_TOKEN_LEN + 1);
	else if (expires_at)
		*expires_at = expires;
	return err;
}

enum civic_err civic_email_token_redeem(struct civic_db *db, const struct civic_config *cfg,
                                        enum civic_email_purpose purpose, const char *token,
                                        struct civic_email_link *out)
{
	unsigned char hash[CIVIC_KEY_HASH_LEN];
	struct civic_rows *r = NULL;
	int64_t first = 0;
	enum civic_err err;

	memset(out, 0, sizeof(*out));
	if (!civic_email_token_valid(token))
		return CIVIC_E_NOT_FOUND;
	civic_key_hash(&cfg->pepper, token, hash);
	struct civic_param find[] = {CIVIC_PBLOB(hash, sizeof(hash)), CIVIC_PSTR(purposes[purpose])};
	if ((err = civic_db_exec(db, SQL_FIND_TOKEN, find, 2, &r)) != CIVIC_OK)
		return err;
	if (r->nrows == 0 || !civic_rows_int(r, 0, 0, &out->id) ||
	    !civic_rows_int(r, 0, 1, &out->account_id) || !civic_rows_int(r, 0, 3, &first)) {
		civic_rows_free(r);
		return CIVIC_E_NOT_FOUND;
	}
	if (!civic_rows_int(r, 0, 2, &out->destination_id))
		out->destination_id = 0;
	out->first_use = first != 0;
	civic_rows_free(r);
	struct civic_param use[] = {CIVIC_PINT(out->id)};
	return civic_db_exec(db, SQL_USE_TOKEN, use, 1, NULL);
}
