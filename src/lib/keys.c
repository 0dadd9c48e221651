#include "keys.h"

#include <sodium.h>
#include <string.h>
#include <zlib.h>

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static size_t body_len(enum civic_key_kind kind)
{
	return kind == CIVIC_KEY_PUBLIC ? 22 : 32;
}

static const char *prefix(enum civic_key_kind kind)
{
	return kind == CIVIC_KEY_PUBLIC ? "csk_" : "css_";
}

static bool is_b62(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

void civic_key_checksum(const char *s, size_t len, char out[7])
{
	uLong crc = crc32(0L, (const Bytef *)s, (uInt)len);

	for (int i = 5; i >= 0; i--) {
		out[i] = b62[crc % 62];
		crc /= 62;
	}
	out[6] = '\0';
}

enum civic_key_check civic_key_parse(const char *s, enum civic_key_kind kind, char env[5])
{
	size_t n = body_len(kind), total = 4 + 4 + 1 + n + 1 + 6;
	char sum[7];

	if (s == NULL || strnlen(s, total + 1) != total || memcmp(s, prefix(kind), 4) != 0)
		return CIVIC_KEY_MALFORMED;
	if ((memcmp(s + 4, "live", 4) != 0 && memcmp(s + 4, "test", 4) != 0) || s[8] != '_' ||
	    s[9 + n] != '_')
		return CIVIC_KEY_MALFORMED;
	for (size_t i = 9; i < total; i++)
		if (i != 9 + n && !is_b62(s[i]))
			return CIVIC_KEY_MALFORMED;
	civic_key_checksum(s, 9 + n, sum);
	if (memcmp(sum, s + 10 + n, 6) != 0)
		return CIVIC_KEY_BAD_CHECKSUM;
	memcpy(env, s + 4, 4);
	env[4] = '\0';
	return CIVIC_KEY_OK;
}

void civic_key_generate(enum civic_key_kind kind, const char *env, char out[CIVIC_KEY_MAX])
{
	size_t n = body_len(kind), p = 0;

	memcpy(out, prefix(kind), 4);
	memcpy(out + 4, env, 4);
	out[8] = '_';
	p = 9;
	for (size_t i = 0; i < n; i++)
		out[p++] = b62[randombytes_uniform(62)]; /* unbiased */
	civic_key_checksum(out, p, out + p + 1);
	out[p] = '_';
}

void civic_key_hash(const struct civic_secret *pepper, const char *secret,
                    unsigned char out[CIVIC_KEY_HASH_LEN])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, pepper->bytes, pepper->len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

bool civic_key_hash_equal(const unsigned char *a, const unsigned char *b)
{
	return sodium_memcmp(a, b, CIVIC_KEY_HASH_LEN) == 0;
}
