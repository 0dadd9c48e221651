#include "apikeys.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "accounts.h"

static const char SQL_APP_PLAN_SCOPES[] =
	"SELECT p.scopes + 0 FROM applications a JOIN accounts ac ON ac.id = a.account_id"
	" JOIN plans p ON p.id = ac.plan_id WHERE a.id = ? AND (? = 0 OR a.account_id = ?)";
static const char SQL_INSERT_KEY[] =
	"INSERT INTO api_keys (application_id, name, public_key, secret_hash, environment,"
	" scopes, expires_at, rotated_from_id, created_at)"
	" VALUES (?, ?, ?, ?, ?, ?, FROM_UNIXTIME(?), ?, UTC_TIMESTAMP())";
static const char SQL_KEY_FOR_ROTATE[] =
	"SELECT k.id, k.application_id, k.name, k.scopes + 0, UNIX_TIMESTAMP(k.expires_at),"
	" k.revoked_at IS NOT NULL OR (k.expires_at IS NOT NULL AND k.expires_at <= UTC_TIMESTAMP()),"
	" k.rotated_at IS NOT NULL"
	" FROM api_keys k JOIN applications a ON a.id = k.application_id"
	" WHERE k.public_key = ? AND (? = 0 OR a.account_id = ?) FOR UPDATE";
static const char SQL_MARK_ROTATED[] =
	"UPDATE api_keys SET rotated_at = UTC_TIMESTAMP(), expires_at = FROM_UNIXTIME(?)"
	" WHERE id = ?";
static const char SQL_REVOKE[] =
	"UPDATE api_keys k JOIN applications a ON a.id = k.application_id"
	" SET k.revoked_at = UTC_TIMESTAMP()"
	" WHERE k.public_key = ? AND (? = 0 OR a.account_id = ?) AND k.revoked_at IS NULL";
static const char SQL_KEY_EXISTS[] =
	"SELECT 1 FROM api_keys k JOIN applications a ON a.id = k.application_id"
	" WHERE k.public_key = ? AND (? = 0 OR a.account_id = ?)";
static const char SQL_KEY_FOR_EXCHANGE[] =
	"SELECT k.id, k.application_id, a.account_id, k.secret_hash, k.scopes + 0,"
	" k.revoked_at IS NOT NULL, k.expires_at IS NOT NULL AND k.expires_at <= UTC_TIMESTAMP(),"
	" p.slug,"
	" k.last_used_at IS NULL OR k.last_used_at < UTC_TIMESTAMP() - INTERVAL 60 SECOND"
	" FROM api_keys k JOIN applications a ON a.id = k.application_id"
	" JOIN accounts ac ON ac.id = a.account_id JOIN plans p ON p.id = ac.plan_id"
	" WHERE k.public_key = ?";
/* last_used_at to the minute, as civic_authorize keeps it: a write (a
 * commit) per exchange would be most of its cost. */
static const char SQL_TOUCH_KEY[] =
	"UPDATE api_keys SET last_used_at = UTC_TIMESTAMP() WHERE id = ?";

/* Generates a pair and inserts it; the caller holds any transaction. */
static enum civic_err insert_pair(struct civic_db *db, const struct civic_config *cfg,
                                  int64_t app_id, const char *name, civic_scopes scopes,
                                  time_t expires_at, int64_t rotated_from,
                                  struct civic_issued *out)
{
	unsigned char hash[CIVIC_KEY_HASH_LEN];
	struct civic_rows *r;
	enum civic_err err;

	civic_key_generate(CIVIC_KEY_PUBLIC, cfg->environment, out->api_key);
	civic_key_generate(CIVIC_KEY_SECRET, cfg->environment, out->api_secret);
	civic_key_hash(&cfg->pepper, out->api_secret, hash);
	struct civic_param p[] = {
		CIVIC_PINT(app_id),
		CIVIC_PSTR(name),
		CIVIC_PSTR(out->api_key),
		CIVIC_PBLOB(hash, sizeof(hash)),
		CIVIC_PSTR(cfg->environment),
		CIVIC_PINT(scopes),
		expires_at ? CIVIC_PINT(expires_at) : CIVIC_PNULL,
		rotated_from ? CIVIC_PINT(rotated_from) : CIVIC_PNULL,
	};
	if ((err = civic_db_exec(db, SQL_INSERT_KEY, p, 8, &r)) != CIVIC_OK)
		return err;
	out->id = (int64_t)r->insert_id;
	out->scopes = scopes;
	out->expires_at = expires_at;
	civic_rows_free(r);
	return CIVIC_OK;
}

enum civic_err civic_apikey_issue(struct civic_db *db, const struct civic_config *cfg,
                                  int64_t app_id, int64_t account_id, const char *name,
                                  civic_scopes scopes, int64_t expires_days,
                                  struct civic_issued *out)
{
	struct civic_param p[] = {CIVIC_PINT(app_id), CIVIC_PINT(account_id),
	                          CIVIC_PINT(account_id)};
	struct civic_rows *r;
	int64_t allowed;
	enum civic_err err;

	memset(out, 0, sizeof(*out));
	if (!civic_app_valid_name(name) || scopes == 0 || (scopes & ~(civic_scopes)CIVIC_SCOPE_ALL) ||
	    expires_days < 0 || expires_days > 3650)
		return CIVIC_E_VALIDATION;
	if ((err = civic_db_exec(db, SQL_APP_PLAN_SCOPES, p, 3, &r)) != CIVIC_OK)
		return err;
	if (!civic_rows_int(r, 0, 0, &allowed)) {
		civic_rows_free(r);
		return CIVIC_E_NOT_FOUND;
	}
	civic_rows_free(r);
	if ((scopes & (civic_scopes)allowed) != scopes)
		return CIVIC_E_PLAN_REQUIRED;
	return insert_pair(db, cfg, app_id, name, scopes,
	                   expires_days ? time(NULL) + expires_days * 86400 : 0, 0, out);
}

enum civic_err civic_apikey_rotate(struct civic_db *db, const struct civic_config *cfg,
                                   const char *public_key, int64_t account_id,
                                   struct civic_issued *out, time_t *old_until)
{
	struct civic_param p[] = {CIVIC_PSTR(public_key), CIVIC_PINT(account_id),
	                          CIVIC_PINT(account_id)};
	struct civic_rows *r = NULL;
	int64_t old_id, app_id, scopes, expires = 0, dead, rotated;
	time_t until;
	enum civic_err err;

	memset(out, 0, sizeof(*out));
	if ((err = civic_db_begin(db)) != CIVIC_OK)
		return err;
	if ((err = civic_db_exec(db, SQL_KEY_FOR_ROTATE, p, 3, &r)) != CIVIC_OK)
		goto fail;
	if (!civic_rows_int(r, 0, 0, &old_id)) {
		err = CIVIC_E_NOT_FOUND;
		goto fail;
	}
	if (!civic_rows_int(r, 0, 1, &app_id) || !civic_rows_int(r, 0, 3, &scopes) ||
	    !civic_rows_int(r, 0, 5, &dead) || !civic_rows_int(r, 0, 6, &rotated) ||
	    (civic_rows_get(r, 0, 4) && !civic_rows_int(r, 0, 4, &expires))) {
		err = CIVIC_E_INTERNAL;
		goto fail;
	}
	if (dead || rotated) {
		err = CIVIC_E_CONFLICT;
		goto fail;
	}
	if ((err = insert_pair(db, cfg, app_id, civic_rows_get(r, 0, 2), (civic_scopes)scopes,
	                       (time_t)expires, old_id, out)) != CIVIC_OK)
		goto fail;
	until = time(NULL) + CIVIC_KEY_GRACE;
	if (expires && expires < until)
		until = (time_t)expires;
	{
		struct civic_param q[] = {CIVIC_PINT(until), CIVIC_PINT(old_id)};
		if ((err = civic_db_exec(db, SQL_MARK_ROTATED, q, 2, NULL)) != CIVIC_OK)
			goto fail;
	}
	if ((err = civic_db_commit(db)) != CIVIC_OK)
		goto fail;
	civic_rows_free(r);
	*old_until = until;
	return CIVIC_OK;
fail:
	civic_db_rollback(db);
	civic_rows_free(r);
	sodium_memzero(out, sizeof(*out));
	return err;
}

enum civic_err civic_apikey_revoke(struct civic_db *db, const char *public_key,
                                   int64_t account_id)
{
	struct civic_param p[] = {CIVIC_PSTR(public_key), CIVIC_PINT(account_id),
	                          CIVIC_PINT(account_id)};
	struct civic_rows *r;
	enum civic_err err;
	bool exists;

	if ((err = civic_db_exec(db, SQL_REVOKE, p, 3, &r)) != CIVIC_OK)
		return err;
	exists = r->affected > 0;
	civic_rows_free(r);
	if (exists)
		return CIVIC_OK;
	if ((err = civic_db_exec(db, SQL_KEY_EXISTS, p, 3, &r)) != CIVIC_OK)
		return err;
	exists = r->nrows > 0;
	civic_rows_free(r);
	return exists ? CIVIC_E_CONFLICT : CIVIC_E_NOT_FOUND;
}

/* Offline checks: format, checksum, and this deployment's environment. */
static enum civic_err check_offline(const struct civic_config *cfg, const char *api_key,
                                    const char *api_secret, const char **why)
{
	char env[5], senv[5];

	switch (civic_key_parse(api_key, CIVIC_KEY_PUBLIC, env)) {
	case CIVIC_KEY_MALFORMED:
		*why = "The API key is malformed: expected csk_<env>_<22 chars>_<checksum>.";
		return CIVIC_E_INVALID_API_KEY;
	case CIVIC_KEY_BAD_CHECKSUM:
		*why = "The API key's checksum does not match: check for a typo.";
		return CIVIC_E_INVALID_API_KEY;
	case CIVIC_KEY_OK:
		break;
	}
	if (strcmp(env, cfg->environment) != 0) {
		*why = strcmp(cfg->environment, "live") == 0
		           ? "This is a test key; this deployment's environment is live."
		           : "This is a live key; this deployment's environment is test.";
		return CIVIC_E_INVALID_API_KEY;
	}
	if (civic_key_parse(api_secret, CIVIC_KEY_SECRET, senv) != CIVIC_KEY_OK ||
	    strcmp(senv, env) != 0) {
		*why = "Invalid API credentials.";
		return CIVIC_E_INVALID_CREDENTIALS;
	}
	return CIVIC_OK;
}

enum civic_err civic_apikey_authenticate(struct civic_db *db, const struct civic_config *cfg,
                                         const char *api_key, const char *api_secret,
                                         struct civic_keyauth *out, const char **why)
{
	unsigned char want[CIVIC_KEY_HASH_LEN];
	struct civic_param p[1];
	struct civic_rows *r;
	int64_t revoked, expired, scopes, stale;
	enum civic_err err;

	*why = NULL;
	if ((err = check_offline(cfg, api_key, api_secret, why)) != CIVIC_OK)
		return err;
	p[0] = CIVIC_PSTR(api_key);
	if ((err = civic_db_exec(db, SQL_KEY_FOR_EXCHANGE, p, 1, &r)) != CIVIC_OK)
		return err;
	if (r->nrows == 0) {
		civic_rows_free(r);
		*why = "Unknown API key.";
		return CIVIC_E_INVALID_API_KEY;
	}
	civic_key_hash(&cfg->pepper, api_secret, want);
	err = CIVIC_E_INTERNAL;
	if (civic_rows_len(r, 0, 3) != CIVIC_KEY_HASH_LEN ||
	    !civic_rows_int(r, 0, 0, &out->key_id) || !civic_rows_int(r, 0, 1, &out->app_id) ||
	    !civic_rows_int(r, 0, 2, &out->account_id) || !civic_rows_int(r, 0, 4, &scopes) ||
	    !civic_rows_int(r, 0, 5, &revoked) || !civic_rows_int(r, 0, 6, &expired) ||
	    !civic_rows_int(r, 0, 8, &stale))
		goto out;
	/* The secret first: only its holder learns whether a key is revoked. */
	if (!civic_key_hash_equal(want, (const unsigned char *)civic_rows_get(r, 0, 3))) {
		*why = "Invalid API credentials.";
		err = CIVIC_E_INVALID_CREDENTIALS;
		goto out;
	}
	if (revoked || expired) {
		*why = revoked ? "This API key has been revoked." : "This API key has expired.";
		err = CIVIC_E_INVALID_API_KEY;
		goto out;
	}
	out->scopes = (civic_scopes)scopes;
	snprintf(out->plan, sizeof(out->plan), "%s", civic_rows_get(r, 0, 7));
	civic_rows_free(r);
	r = NULL;
	p[0] = CIVIC_PINT(out->key_id);
	err = stale ? civic_db_exec(db, SQL_TOUCH_KEY, p, 1, NULL) : CIVIC_OK;
out:
	civic_rows_free(r);
	sodium_memzero(want, sizeof(want));
	return err;
}
