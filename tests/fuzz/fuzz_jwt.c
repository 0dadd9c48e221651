/* The JWT verifier. The first byte picks the mode:
 *   even: the rest is a token, verified as is (forgeries, broken base64,
 *         huge or odd headers);
 *   odd:  the rest is a header and a payload, split at the first NUL
 *         byte, base64url-encoded and signed with HS256 under the
 *         configured key, so that the claims checks run on any JSON.
 * Properties: a verified token's claims are sane (positive subject,
 * non-negative app and key, NUL-ended plan and jti, not expired);
 * claims are written only on success; nothing else is returned. */
#include <sodium.h>
#include <string.h>

#include "fuzz.h"
#include "tokens.h"

#define NOW ((time_t)1750000000)

static struct civic_config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	cfg.base_url = (char *)"https://api.civicsentinel.test";
	cfg.environment = (char *)"test";
	cfg.token_lifetime = 900;
	cfg.console_session_hours = 2;
	for (size_t i = 0; i < 40; i++)
		cfg.jwt_key.bytes[i] = (unsigned char)(1 + i * 7);
	cfg.jwt_key.len = 40;
	for (size_t i = 0; i < 32; i++)
		cfg.jwt_prev_key.bytes[i] = (unsigned char)(101 + i * 7);
	cfg.jwt_prev_key.len = 32;
	return 0;
}

static void verify(const char *token)
{
	static const char *const AUDS[] = {CIVIC_AUD_API, CIVIC_AUD_CONSOLE};
	struct civic_claims c;

	for (size_t i = 0; i < 2; i++) {
		memset(&c, 0xA5, sizeof(c));
		enum civic_err err = civic_token_verify(&cfg, AUDS[i], token, NOW, &c);
		if (err != CIVIC_OK) {
			FUZZ_ASSERT(err == CIVIC_E_INVALID_TOKEN || err == CIVIC_E_TOKEN_EXPIRED);
			FUZZ_ASSERT(c.account_id == (int64_t)0xA5A5A5A5A5A5A5A5ull);
			continue;
		}
		FUZZ_ASSERT(strlen(token) <= CIVIC_TOKEN_MAX);
		FUZZ_ASSERT(c.account_id > 0 && c.app_id >= 0 && c.key_id >= 0);
		FUZZ_ASSERT(memchr(c.plan, '\0', sizeof(c.plan)) && memchr(c.jti, '\0', sizeof(c.jti)));
		FUZZ_ASSERT(c.exp + CIVIC_TOKEN_LEEWAY >= NOW);
	}
}

/* base64url of p[0..n) into a malloc'd string. */
static char *b64(const void *p, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = malloc(cap);

	if (out != NULL)
		sodium_bin2base64(out, cap, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

static char *sign(const uint8_t *head, size_t hlen, const uint8_t *body, size_t blen,
                  const struct civic_secret *key)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	char *h = b64(head, hlen), *b = b64(body, blen), *m, *tok = NULL;
	size_t n;

	if (h == NULL || b == NULL)
		goto done;
	n = strlen(h) + 1 + strlen(b);
	if ((tok = malloc(n + 1 + 64)) == NULL)
		goto done;
	snprintf(tok, n + 1, "%s.%s", h, b);
	crypto_auth_hmacsha256_init(&st, key->bytes, key->len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)tok, n);
	crypto_auth_hmacsha256_final(&st, mac);
	if ((m = b64(mac, sizeof(mac))) != NULL) {
		snprintf(tok + n, 1 + 64, ".%s", m);
		free(m);
	}
done:
	free(h);
	free(b);
	return tok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul;
	uint8_t mode;
	char *tok;

	if (size < 1 || size > 8192)
		return 0;
	if ((data[0] & 1) == 0) {
		if ((tok = malloc(size)) == NULL)
			return 0;
		memcpy(tok, data + 1, size - 1);
		tok[size - 1] = '\0';
		verify(tok);
		free(tok);
		return 0;
	}
	mode = data[0];
	data++, size--;
	nul = memchr(data, '\0', size);
	if (nul == NULL)
		return 0;
	tok = sign(data, (size_t)(nul - data), nul + 1, size - (size_t)(nul - data) - 1,
	           (mode & 2) ? &cfg.jwt_prev_key : &cfg.jwt_key);
	if (tok != NULL)
		verify(tok);
	free(tok);
	return 0;
}
