#include "accounts.h"

#include <sodium.h>
#include <string.h>

#include "input.h"

static const char SQL_INSERT_ACCOUNT[] =
	"INSERT INTO accounts (email, password_hash, email_verified_at, plan_id, created_at,"
	" updated_at)"
	" SELECT ?, ?, IF(? = 1, UTC_TIMESTAMP(), NULL), id, UTC_TIMESTAMP(), UTC_TIMESTAMP()"
	" FROM plans WHERE slug = ?";
/* Only the account row is locked: locking the plan row too would make
 * every account on the same plan wait for each other. */
static const char SQL_LOCK_ACCOUNT[] = "SELECT plan_id FROM accounts WHERE id = ? FOR UPDATE";
static const char SQL_PLAN_MAX_APPS[] = "SELECT max_apps FROM plans WHERE id = ?";
/* A locking read sees the latest committed rows, not the snapshot. */
static const char SQL_COUNT_APPS[] =
	"SELECT COUNT(*) FROM applications WHERE account_id = ? FOR UPDATE";
static const char SQL_INSERT_APP[] =
	"INSERT INTO applications (account_id, name, created_at) VALUES (?, ?, UTC_TIMESTAMP())";
static const char SQL_APP_USAGE[] =
	"SELECT p.slug, p.max_apps, (SELECT COUNT(*) FROM applications WHERE account_id = a.id)"
	" FROM accounts a JOIN plans p ON p.id = a.plan_id WHERE a.id = ?";
static const char SQL_SET_LIMITS[] =
	"UPDATE accounts SET"
	" requests_per_day_override = IF(? < 0, requests_per_day_override, NULLIF(?, 0)),"
	" requests_per_minute_override = IF(? < 0, requests_per_minute_override, NULLIF(?, 0)),"
	" updated_at = UTC_TIMESTAMP() WHERE id = ?";
static const char SQL_ACCOUNT_EXISTS[] = "SELECT 1 FROM accounts WHERE id = ?";

bool civic_valid_text(const char *s, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0, left;
	bool blank = true;

	if (s == NULL)
		return false;
	/* Strict UTF-8 too: the utf8mb4 columns would refuse the rest later
	 * with a less helpful error. */
	for (left = strlen(s); left > 0;) {
		unsigned cp;
		size_t n = civic_utf8_next(p, left, &cp);

		/* C0 and C1 controls, DEL: nothing a name needs, and they garble
		 * terminals and logs. */
		if (n == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
			return false;
		if (cp != ' ')
			blank = false;
		if (++chars > max_chars)
			return false;
		p += n;
		left -= n;
	}
	return chars > 0 && !blank;
}

bool civic_app_valid_name(const char *name)
{
	return civic_valid_text(name, CIVIC_NAME_MAX);
}

bool civic_email_lower(const char *email, char out[255])
{
	size_t n;

	/* civic_valid_email admits ASCII only and at most 254 bytes. */
	if (email == NULL || !civic_valid_email(email) || (n = strlen(email)) >= 255)
		return false;
	for (size_t i = 0; i <= n; i++)
		out[i] = (email[i] >= 'A' && email[i] <= 'Z') ? (char)(email[i] - 'A' + 'a') : email[i];
	return true;
}

_Static_assert(crypto_pwhash_STRBYTES == 128, "accounts.h says 128");

enum civic_err civic_password_hash(const char *password, char out[128])
{
	size_t pwlen = password ? strlen(password) : 0;

	if (pwlen < CIVIC_PASSWORD_MIN || pwlen > CIVIC_PASSWORD_MAX)
		return CIVIC_E_VALIDATION;
	/* sodium_init is idempotent; the hash needs the library set up. */
	if (sodium_init() < 0 ||
	    crypto_pwhash_str(out, password, pwlen, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return CIVIC_E_INTERNAL;
	return CIVIC_OK;
}

bool civic_password_verify(const char *hash, const char *password)
{
	static char dummy[crypto_pwhash_STRBYTES];
	size_t pwlen = password ? strlen(password) : 0;

	if (password == NULL || pwlen > CIVIC_PASSWORD_MAX)
		return false;
	/* No hash (no such account): spend the same time on a hash of
	 * nothing, so the answer's timing does not tell. */
	if (hash == NULL) {
		if (dummy[0] == '\0' && civic_password_hash("not a password at all", dummy) != CIVIC_OK)
			return false;
		int spent = crypto_pwhash_str_verify(dummy, password, pwlen);
		(void)spent;
		return false;
	}
	return crypto_pwhash_str_verify(hash, password, pwlen) == 0;
}

enum civic_err civic_account_create(struct civic_db *db, const char *email, const char *password,
                                    const char *plan_slug, bool verified, int64_t *id)
{
	char lower[255], hash[crypto_pwhash_STRBYTES];
	struct civic_rows *r = NULL;
	enum civic_err err;

	if (!civic_email_lower(email, lower))
		return CIVIC_E_VALIDATION;
	if ((err = civic_password_hash(password, hash)) != CIVIC_OK)
		return err;
	struct civic_param p[] = {
		CIVIC_PSTR(lower),
		CIVIC_PSTR(hash),
		CIVIC_PINT(verified ? 1 : 0),
		CIVIC_PSTR(plan_slug ? plan_slug : "free"),
	};
	if ((err = civic_db_exec(db, SQL_INSERT_ACCOUNT, p, 4, &r)) != CIVIC_OK)
		goto out;
	if (r->affected == 0) { /* the SELECT found no such plan */
		err = CIVIC_E_NOT_FOUND;
		goto out;
	}
	*id = (int64_t)r->insert_id;
out:
	civic_rows_free(r);
	sodium_memzero(hash, sizeof(hash));
	return err;
}

enum civic_err civic_app_create(struct civic_db *db, int64_t account_id, const char *name,
                                int64_t *id)
{
	struct civic_param acct[] = {CIVIC_PINT(account_id)};
	struct civic_rows *r = NULL;
	int64_t plan_id, max_apps, apps;
	enum civic_err err;

	if (!civic_app_valid_name(name))
		return CIVIC_E_VALIDATION;
	if ((err = civic_db_begin(db)) != CIVIC_OK)
		return err;
	if ((err = civic_db_exec(db, SQL_LOCK_ACCOUNT, acct, 1, &r)) != CIVIC_OK)
		goto fail;
	if (!civic_rows_int(r, 0, 0, &plan_id)) {
		err = CIVIC_E_NOT_FOUND;
		goto fail;
	}
	civic_rows_free(r);
	r = NULL;
	{
		struct civic_param plan[] = {CIVIC_PINT(plan_id)};
		if ((err = civic_db_exec(db, SQL_PLAN_MAX_APPS, plan, 1, &r)) != CIVIC_OK)
			goto fail;
	}
	if (!civic_rows_int(r, 0, 0, &max_apps)) {
		err = CIVIC_E_INTERNAL;
		goto fail;
	}
	civic_rows_free(r);
	r = NULL;
	if ((err = civic_db_exec(db, SQL_COUNT_APPS, acct, 1, &r)) != CIVIC_OK)
		goto fail;
	if (!civic_rows_int(r, 0, 0, &apps)) {
		err = CIVIC_E_INTERNAL;
		goto fail;
	}
	civic_rows_free(r);
	r = NULL;
	if (apps >= max_apps) {
		err = CIVIC_E_PLAN_LIMIT;
		goto fail;
	}
	{
		struct civic_param ins[] = {CIVIC_PINT(account_id), CIVIC_PSTR(name)};
		if ((err = civic_db_exec(db, SQL_INSERT_APP, ins, 2, &r)) != CIVIC_OK)
			goto fail;
	}
	if ((err = civic_db_commit(db)) != CIVIC_OK)
		goto fail;
	*id = (int64_t)r->insert_id;
	civic_rows_free(r);
	return CIVIC_OK;
fail:
	civic_db_rollback(db);
	civic_rows_free(r);
	return err;
}

enum civic_err civic_account_app_usage(struct civic_db *db, int64_t account_id, char plan[33],
                                       int64_t *max_apps, int64_t *apps)
{
	struct civic_param p[] = {CIVIC_PINT(account_id)};
	struct civic_rows *r = NULL;
	int64_t cap, count;
	const char *slug;
	enum civic_err err;

	if ((err = civic_db_exec(db, SQL_APP_USAGE, p, 1, &r)) != CIVIC_OK)
		return err;
	err = CIVIC_E_NOT_FOUND;
	if (r->nrows == 0)
		goto out;
	err = CIVIC_E_INTERNAL;
	slug = civic_rows_get(r, 0, 0);
	if (slug == NULL || strlen(slug) > 32 || !civic_rows_int(r, 0, 1, &cap) ||
	    !civic_rows_int(r, 0, 2, &count))
		goto out;
	if (plan)
		memcpy(plan, slug, strlen(slug) + 1);
	if (max_apps)
		*max_apps = cap;
	if (apps)
		*apps = count;
	err = CIVIC_OK;
out:
	civic_rows_free(r);
	return err;
}

/* CIVIC_OK if account_id exists, CIVIC_E_NOT_FOUND if not. */
static enum civic_err account_exists(struct civic_db *db, int64_t account_id)
{
	struct civic_param p[] = {CIVIC_PINT(account_id)};
	struct civic_rows *r;
	enum civic_err err;

	if ((err = civic_db_exec(db, SQL_ACCOUNT_EXISTS, p, 1, &r)) != CIVIC_OK)
		return err;
	err = r->nrows > 0 ? CIVIC_OK : CIVIC_E_NOT_FOUND;
	civic_rows_free(r);
	return err;
}

enum civic_err civic_account_set_limits(struct civic_db *db, int64_t account_id,
                                        int64_t per_day, int64_t per_minute)
{
	struct civic_rows *r;
	enum civic_err err;

	if (per_day < -1 || per_day > CIVIC_LIMIT_MAX || per_minute < -1 ||
	    per_minute > CIVIC_LIMIT_MAX)
		return CIVIC_E_VALIDATION;
	struct civic_param p[] = {
		CIVIC_PINT(per_day),    CIVIC_PINT(per_day),
		CIVIC_PINT(per_minute), CIVIC_PINT(per_minute),
		CIVIC_PINT(account_id),
	};
	if ((err = civic_db_exec(db, SQL_SET_LIMITS, p, 5, &r)) != CIVIC_OK)
		return err;
	err = r->affected > 0 ? CIVIC_OK : account_exists(db, account_id);
	civic_rows_free(r);
	return err;
}
