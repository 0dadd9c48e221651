/* Access tokens (SPEC §2): JWTs signed with HS256 under a key read from
 * a file, with a "kid" header so the key can be rotated (the previous
 * key, if configured, still verifies). Verification pins the algorithm
 * (jwt_get_alg() after jwt_decode(), libjwt 1.x), so "none" and every
 * other algorithm are refused, and checks typ, iss, aud, exp, nbf.
 * "typ" is "JWT" for every audience: libjwt 1.10 allows no other. */
#ifndef CIVIC_TOKENS_H
#define CIVIC_TOKENS_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "scopes.h"

#define CIVIC_AUD_API "civicsentinel-api"
#define CIVIC_AUD_CONSOLE "civicsentinel-console"
#define CIVIC_TOKEN_LEEWAY 30 /* seconds of clock skew tolerated */
#define CIVIC_TOKEN_MAX 2048  /* longest token accepted */

struct civic_claims {
	int64_t account_id; /* sub */
	int64_t app_id;     /* app; 0 for console sessions */
	int64_t key_id;     /* key; 0 for console sessions */
	civic_scopes scopes;
	char plan[33];
	char jti[33];
	time_t iat, exp;
};

/* Signs claims (account_id, app_id, key_id, scopes, plan) for audience
 * aud with lifetime cfg->token_lifetime from now (console sessions:
 * cfg->console_session_hours); fills c->iat, c->exp
 * and c->jti. *out is malloc'd; the caller frees it. */
enum civic_err civic_token_issue(const struct civic_config *cfg, const char *aud,
                                 struct civic_claims *c, time_t now, char **out);

/* Verifies token for audience aud at time now. CIVIC_E_INVALID_TOKEN or
 * CIVIC_E_TOKEN_EXPIRED on failure; *c is filled only on success. */
enum civic_err civic_token_verify(const struct civic_config *cfg, const char *aud,
                                  const char *token, time_t now, struct civic_claims *c);

/* The "kid" of a signing key: hex of the first 8 bytes of its SHA-256. */
void civic_token_kid(const struct civic_secret *key, char out[17]);

#endif
