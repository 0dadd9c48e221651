#include "webhook_secret.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define SEALED_VERSION 1
#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES

_Static_assert(1 + NONCE + CIVIC_WHSEC_KEY_LEN + TAG == CIVIC_WHSEC_SEALED_LEN,
               "sealed layout");
_Static_assert(CIVIC_WHSEC_SEALED_LEN <= 128, "fits signing_secret_enc VARBINARY(128)");

/* The sealing key: HMAC-SHA256(pepper, label). A label of its own keeps
 * it apart from every other use of the pepper (key hashes, links). */
static void sealing_key(const struct civic_secret *pepper,
                        unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES])
{
	static const char label[] = "civic webhook secret v1";
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, pepper->bytes, pepper->len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, sizeof(label) - 1);
	crypto_auth_hmacsha256_final(&st, key);
	sodium_memzero(&st, sizeof(st));
}

/* Additional data: version and account id, big-endian. */
static void additional_data(int64_t account_id, unsigned char ad[9])
{
	ad[0] = SEALED_VERSION;
	for (int i = 0; i < 8; i++)
		ad[1 + i] = (unsigned char)((uint64_t)account_id >> (56 - 8 * i));
}

void civic_webhook_secret_generate(unsigned char key[CIVIC_WHSEC_KEY_LEN])
{
	randombytes_buf(key, CIVIC_WHSEC_KEY_LEN);
}

void civic_webhook_secret_format(const unsigned char key[CIVIC_WHSEC_KEY_LEN],
                                 char out[CIVIC_WHSEC_TEXT_LEN + 1])
{
	memcpy(out, "whsec_", 6);
	sodium_bin2base64(out + 6, CIVIC_WHSEC_TEXT_LEN + 1 - 6, key, CIVIC_WHSEC_KEY_LEN,
	                  sodium_base64_VARIANT_ORIGINAL);
}

void civic_webhook_secret_seal(const struct civic_secret *pepper, int64_t account_id,
                               const unsigned char key[CIVIC_WHSEC_KEY_LEN],
                               unsigned char out[CIVIC_WHSEC_SEALED_LEN])
{
	unsigned char k[crypto_aead_xchacha20poly1305_ietf_KEYBYTES], ad[9];

	sealing_key(pepper, k);
	additional_data(account_id, ad);
	out[0] = SEALED_VERSION;
	randombytes_buf(out + 1, NONCE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + 1 + NONCE, NULL, key, CIVIC_WHSEC_KEY_LEN,
	                                           ad, sizeof(ad), NULL, out + 1, k);
	sodium_memzero(k, sizeof(k));
}

bool civic_webhook_secret_open(const struct civic_secret *pepper, int64_t account_id,
                               const unsigned char *sealed, size_t len,
                               unsigned char key[CIVIC_WHSEC_KEY_LEN])
{
	unsigned char k[crypto_aead_xchacha20poly1305_ietf_KEYBYTES], ad[9];
	int rc;

	memset(key, 0, CIVIC_WHSEC_KEY_LEN);
	if (sealed == NULL || len != CIVIC_WHSEC_SEALED_LEN || sealed[0] != SEALED_VERSION)
		return false;
	sealing_key(pepper, k);
	additional_data(account_id, ad);
	rc = crypto_aead_xchacha20poly1305_ietf_decrypt(key, NULL, NULL, sealed + 1 + NONCE,
	                                                CIVIC_WHSEC_KEY_LEN + TAG, ad, sizeof(ad),
	                                                sealed + 1, k);
	sodium_memzero(k, sizeof(k));
	if (rc != 0)
		sodium_memzero(key, CIVIC_WHSEC_KEY_LEN);
	return rc == 0;
}

void civic_webhook_sign(const unsigned char *key, size_t keylen, const char *msg_id,
                        long long timestamp, const char *body, size_t bodylen,
                        char out[CIVIC_WEBHOOK_SIGNATURE_LEN + 1])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char ts[24];
	int n = snprintf(ts, sizeof(ts), ".%lld.", timestamp);

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg_id, strlen(msg_id));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (size_t)n);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, bodylen);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "v1,", 3);
	sodium_bin2base64(out + 3, CIVIC_WEBHOOK_SIGNATURE_LEN + 1 - 3, mac, sizeof(mac),
	                  sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(&st, sizeof(st));
}
