/* Links sent by email (email_tokens): destination confirmation now,
 * the console's address verification and password reset later. A link
 * carries a token of 32 random bytes in base64url (43 characters); the
 * database keeps only its HMAC-SHA256 under the server pepper (as for
 * key secrets, civic_key_hash), so a copy of the database opens no
 * link. Expiry: [alerts] confirm_link_hours after minting, one hour for
 * password resets (civic_email_token_hours). */
#ifndef CIVIC_EMAIL_TOKENS_H
#define CIVIC_EMAIL_TOKENS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "err.h"

#define CIVIC_LINK_TOKEN_LEN 43

/* The email_tokens.purpose values. */
enum civic_email_purpose {
	CIVIC_EMAIL_VERIFY,
	CIVIC_EMAIL_RESET_PASSWORD,
	CIVIC_EMAIL_CONFIRM_DESTINATION,
};

struct civic_email_link {
	int64_t id;
	int64_t account_id;
	int64_t destination_id; /* 0 when the link names none */
	bool first_use;         /* used_at was unset before this redemption */
};

/* True when s (may be NULL) has the shape of a link token. Pure. */
bool civic_email_token_valid(const char *s);

/* How many hours a link of purpose works. Pure. */
long civic_email_token_hours(const struct civic_config *cfg, enum civic_email_purpose purpose);

/* Mints a link for purpose, account_id and destination_id (0: none),
 * valid civic_email_token_hours() from now: stores the hash and writes
 * the token into token. *expires_at (may be NULL) receives the expiry.
 * Database errors only. */
enum civic_err civic_email_token_mint(struct civic_db *db, const struct civic_config *cfg,
                                      enum civic_email_purpose purpose, int64_t account_id,
                                      int64_t destination_id,
                                      char token[CIVIC_LINK_TOKEN_LEN + 1], time_t *expires_at);

/* Redeems token for purpose: an unexpired link of that purpose gets its
 * used_at (the first redemption's time is kept) and *out is filled.
 * CIVIC_E_NOT_FOUND for a malformed, unknown, expired or other-purpose
 * token, alike. Run it inside the caller's transaction when the link's
 * effect must commit with it. */
enum civic_err civic_email_token_redeem(struct civic_db *db, const struct civic_config *cfg,
                                        enum civic_email_purpose purpose, const char *token,
                                        struct civic_email_link *out);

#endif
