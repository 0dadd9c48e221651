/* Key pairs in the database: issue, rotate, revoke, and the key-pair
 * check of the token exchange. The secret is shown once, here, and
 * stored only as HMAC-SHA256 under the server pepper. Shared by
 * civic-admin, the token responder and the console. */
#ifndef CIVIC_APIKEYS_H
#define CIVIC_APIKEYS_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "err.h"
#include "keys.h"
#include "scopes.h"

#define CIVIC_KEY_GRACE (24 * 3600) /* an old key works this long after rotation */

struct civic_issued {
	int64_t id;
	char api_key[CIVIC_KEY_MAX];
	char api_secret[CIVIC_KEY_MAX]; /* shown once; zero it after use */
	civic_scopes scopes;
	time_t expires_at;              /* 0: never */
};

/* Issues a pair for application app_id. account_id > 0 also requires
 * the application to belong to that account (else CIVIC_E_NOT_FOUND).
 * Scopes outside the account's plan: CIVIC_E_PLAN_REQUIRED. expires_days
 * 0 means no expiry, else 1..3650. A name that fails civic_app_valid_name,
 * no scopes or an expiry out of range: CIVIC_E_VALIDATION. */
enum civic_err civic_apikey_issue(struct civic_db *db, const struct civic_config *cfg,
                                  int64_t app_id, int64_t account_id, const char *name,
                                  civic_scopes scopes, int64_t expires_days,
                                  struct civic_issued *out);

/* Rotates the key public_key: a new pair inheriting name, scopes and
 * expiry; the old key stops at min(now + 24 h, its own expiry), written
 * to *old_until. Revoked, expired or already rotated keys: CIVIC_E_CONFLICT
 * (unknown ones, or another account's: CIVIC_E_NOT_FOUND). */
enum civic_err civic_apikey_rotate(struct civic_db *db, const struct civic_config *cfg,
                                   const char *public_key, int64_t account_id,
                                   struct civic_issued *out, time_t *old_until);

/* Revokes public_key at once, for good. Unknown: CIVIC_E_NOT_FOUND;
 * already revoked: CIVIC_E_CONFLICT. */
enum civic_err civic_apikey_revoke(struct civic_db *db, const char *public_key,
                                   int64_t account_id);

struct civic_keyauth {
	int64_t key_id, app_id, account_id;
	civic_scopes scopes;
	char plan[33];
};

/* The token exchange check. The key's format, checksum and environment
 * are checked before any database access (CIVIC_E_INVALID_API_KEY with
 * *why); then the key must exist, be live (INVALID_API_KEY) and the
 * secret's hash must match in constant time (INVALID_CREDENTIALS). */
enum civic_err civic_apikey_authenticate(struct civic_db *db, const struct civic_config *cfg,
                                         const char *api_key, const char *api_secret,
                                         struct civic_keyauth *out, const char **why);

#endif
