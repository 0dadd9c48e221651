/* API key pairs (SPEC §2, seed 003):
 *   public  csk_<env>_<22 base62>_<6 checksum>   (38 chars)
 *   secret  css_<env>_<32 base62>_<6 checksum>   (48 chars)
 * <env> is "live" or "test". The checksum is CRC32 (zlib) of everything
 * before the last '_', in base62 (0-9A-Za-z), left-padded with '0' to 6:
 * public, so SDKs and secret scanners can check a key offline. */
#ifndef CIVIC_KEYS_H
#define CIVIC_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define CIVIC_KEY_PUBLIC_LEN 38
#define CIVIC_KEY_SECRET_LEN 48
#define CIVIC_KEY_MAX (CIVIC_KEY_SECRET_LEN + 1)
#define CIVIC_KEY_HASH_LEN 32

enum civic_key_kind { CIVIC_KEY_PUBLIC, CIVIC_KEY_SECRET };

enum civic_key_check {
	CIVIC_KEY_OK,
	CIVIC_KEY_MALFORMED,    /* wrong prefix, length or alphabet */
	CIVIC_KEY_BAD_CHECKSUM,
};

/* Checks s (may be NULL) as a key of the given kind; on CIVIC_KEY_OK
 * copies its environment ("live"/"test") into env (5 bytes). Pure
 * computation: no database, no secrets. */
enum civic_key_check civic_key_parse(const char *s, enum civic_key_kind kind, char env[5]);

/* The 6-character checksum of s[0..len) into out (7 bytes, NUL-ended). */
void civic_key_checksum(const char *s, size_t len, char out[7]);

/* A new random key of the given kind and environment ("live"/"test")
 * into out (CIVIC_KEY_MAX bytes), from libsodium's CSPRNG. */
void civic_key_generate(enum civic_key_kind kind, const char *env, char out[CIVIC_KEY_MAX]);

/* HMAC-SHA256 of the secret under the server pepper. */
void civic_key_hash(const struct civic_secret *pepper, const char *secret,
                    unsigned char out[CIVIC_KEY_HASH_LEN]);

/* Constant-time comparison of two hashes. */
bool civic_key_hash_equal(const unsigned char *a, const unsigned char *b);

#endif
