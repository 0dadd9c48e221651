/* Webhook signing secrets (Standard Webhooks): "whsec_" + base64 of 32
 * random bytes, shown to the integrator once, at creation. At rest only
 * a sealed copy is kept (alert_destinations.signing_secret_enc):
 * XChaCha20-Poly1305 (libsodium's crypto_aead_xchacha20poly1305_ietf)
 * under a key derived from the server pepper, with the owning account
 * id as additional data, so a sealed secret copied to another account's
 * row does not open. The dispatcher opens it to sign deliveries.
 *
 * Sealed layout: version (1 byte, 1) || nonce (24) || ciphertext (48). */
#ifndef CIVIC_WEBHOOK_SECRET_H
#define CIVIC_WEBHOOK_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define CIVIC_WHSEC_KEY_LEN 32     /* raw secret: the HMAC key */
#define CIVIC_WHSEC_TEXT_LEN 50    /* "whsec_" + 44 base64 characters */
#define CIVIC_WHSEC_SEALED_LEN 73  /* 1 + 24 + 32 + 16 */

/* 32 bytes from libsodium's CSPRNG into key. */
void civic_webhook_secret_generate(unsigned char key[CIVIC_WHSEC_KEY_LEN]);

/* The text integrators configure: "whsec_<base64>" (NUL-terminated). */
void civic_webhook_secret_format(const unsigned char key[CIVIC_WHSEC_KEY_LEN],
                                 char out[CIVIC_WHSEC_TEXT_LEN + 1]);

/* Seals key for account_id under the pepper into out. */
void civic_webhook_secret_seal(const struct civic_secret *pepper, int64_t account_id,
                               const unsigned char key[CIVIC_WHSEC_KEY_LEN],
                               unsigned char out[CIVIC_WHSEC_SEALED_LEN]);

/* Opens sealed[0..len) for account_id into key. False (key zeroed)
 * when the length or version is wrong, the data was altered, or it
 * belongs to another account or another pepper. */
bool civic_webhook_secret_open(const struct civic_secret *pepper, int64_t account_id,
                               const unsigned char *sealed, size_t len,
                               unsigned char key[CIVIC_WHSEC_KEY_LEN]);

/* "v1," + base64 of a SHA-256 HMAC: 3 + 44 characters. */
#define CIVIC_WEBHOOK_SIGNATURE_LEN 47

/* The Standard Webhooks signature of one delivery, the value of its
 * webhook-signature header: "v1," + base64(HMAC-SHA256(key, msg_id "."
 * timestamp "." body)). key is the raw secret (the base64-decoded part
 * of whsec_…). Pure. */
void civic_webhook_sign(const unsigned char *key, size_t keylen, const char *msg_id,
                        long long timestamp, const char *body, size_t bodylen,
                        char out[CIVIC_WEBHOOK_SIGNATURE_LEN + 1]);

#endif
