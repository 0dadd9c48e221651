/* Accounts and applications: the operations civic-admin runs now and
 * the console will reuse (SPEC §3, §8). Plan caps are enforced here,
 * under a lock on the account row, so they hold under concurrency
 * whichever program creates the rows. */
#ifndef CIVIC_ACCOUNTS_H
#define CIVIC_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

#define CIVIC_PASSWORD_MIN 10   /* bytes */
#define CIVIC_PASSWORD_MAX 128  /* bytes */
#define CIVIC_NAME_MAX 100      /* characters, application and key names */
#define CIVIC_LIMIT_MAX 4294967295LL /* the override columns are INT UNSIGNED */

/* True if s (may be NULL: false) is strict UTF-8 of 1..max_chars
 * characters, not only spaces, without control characters: the rule for
 * names and notes. Pure computation. */
bool civic_valid_text(const char *s, size_t max_chars);

/* civic_valid_text(name, CIVIC_NAME_MAX): the rule for application and
 * key names. */
bool civic_app_valid_name(const char *name);

/* email, checked with civic_valid_email, lower-cased into out (how
 * accounts store it). False when it is not a valid address. */
bool civic_email_lower(const char *email, char out[255]);

/* The argon2id hash (libsodium crypto_pwhash_str, interactive limits)
 * of password into out (crypto_pwhash_STRBYTES = 128 bytes).
 * CIVIC_E_VALIDATION when password is not CIVIC_PASSWORD_MIN..MAX bytes,
 * CIVIC_E_INTERNAL when memory is short. */
enum civic_err civic_password_hash(const char *password, char out[128]);

/* True when password matches hash (constant time inside libsodium).
 * hash NULL (no such account, or no password set) spends as long on a
 * dummy hash and answers false, so timing tells nothing. */
bool civic_password_verify(const char *hash, const char *password);

/* Creates an account. email must pass civic_valid_email and is stored
 * lower-cased; password is CIVIC_PASSWORD_MIN..MAX bytes and stored as
 * an argon2id hash (crypto_pwhash_str, interactive limits). plan_slug
 * may be NULL ("free"). verified marks the address as confirmed now
 * (accounts made by an admin). Nothing is retained from the arguments.
 * *id is set on success. Errors: CIVIC_E_VALIDATION (email or password),
 * CIVIC_E_NOT_FOUND (no such plan), CIVIC_E_CONFLICT (email taken),
 * CIVIC_E_INTERNAL (out of memory for the hash), database errors. */
enum civic_err civic_account_create(struct civic_db *db, const char *email, const char *password,
                                    const char *plan_slug, bool verified, int64_t *id);

/* Creates application name (see civic_app_valid_name) in account_id
 * within its plan's max_apps, counted exactly under concurrency: the
 * account row is locked for the count and the insert. *id is set on
 * success. Errors: CIVIC_E_VALIDATION (name), CIVIC_E_NOT_FOUND (no
 * such account), CIVIC_E_PLAN_LIMIT (cap reached), CIVIC_E_CONFLICT
 * (the account already has an application of that name), database
 * errors. */
enum civic_err civic_app_create(struct civic_db *db, int64_t account_id, const char *name,
                                int64_t *id);

/* The account's plan slug (into plan, 33 bytes), its max_apps and the
 * applications the account has now, e.g. to explain CIVIC_E_PLAN_LIMIT.
 * Any out-pointer may be NULL. CIVIC_E_NOT_FOUND for no such account. */
enum civic_err civic_account_app_usage(struct civic_db *db, int64_t account_id, char plan[33],
                                       int64_t *max_apps, int64_t *apps);

/* Plan changes are civic_billing_set_plan (billing.h): they keep the
 * account's subscription in step. */

/* Per-account overrides of the plan's request limits. For each of
 * per_day and per_minute: -1 leaves the value as it is, 0 clears the
 * override (the plan's limit applies again), 1..CIVIC_LIMIT_MAX sets it.
 * Errors: CIVIC_E_VALIDATION (out of range), CIVIC_E_NOT_FOUND (no such
 * account), database errors. */
enum civic_err civic_account_set_limits(struct civic_db *db, int64_t account_id,
                                        int64_t per_day, int64_t per_minute);

#endif
