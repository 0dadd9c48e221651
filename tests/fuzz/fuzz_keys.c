/* The key parser and its checksum, on any bytes as a public and as a
 * secret key, and once more with the checksum of what precedes the last
 * '_' written in, so that inputs reach the accepting path. Properties:
 * a key parses only with the exact length, prefix, environment and
 * base62 body, and with its own checksum; a checksum is 6 base62
 * characters; parsing never reads past the terminating NUL. */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "keys.h"

static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void check(const char *s, enum civic_key_kind kind)
{
	size_t total = kind == CIVIC_KEY_PUBLIC ? CIVIC_KEY_PUBLIC_LEN : CIVIC_KEY_SECRET_LEN;
	char env[5] = "????", sum[7];
	enum civic_key_check c = civic_key_parse(s, kind, env);

	FUZZ_ASSERT(c == CIVIC_KEY_OK || c == CIVIC_KEY_MALFORMED || c == CIVIC_KEY_BAD_CHECKSUM);
	if (c != CIVIC_KEY_OK) {
		FUZZ_ASSERT(strcmp(env, "????") == 0); /* untouched on failure */
		return;
	}
	FUZZ_ASSERT(strlen(s) == total);
	FUZZ_ASSERT(strcmp(env, "live") == 0 || strcmp(env, "test") == 0);
	FUZZ_ASSERT(memcmp(s, kind == CIVIC_KEY_PUBLIC ? "csk_" : "css_", 4) == 0);
	civic_key_checksum(s, total - 7, sum);
	FUZZ_ASSERT(memcmp(sum, s + total - 6, 6) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, sum[7], *us;

	if (size > 4096)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	civic_key_checksum(s, size, sum);
	FUZZ_ASSERT(strlen(sum) == 6 && strspn(sum, B62) == 6);
	check(s, CIVIC_KEY_PUBLIC);
	check(s, CIVIC_KEY_SECRET);
	/* The same with a correct checksum after the last '_'. */
	us = strrchr(s, '_');
	if (us != NULL && strlen(us + 1) >= 6) {
		civic_key_checksum(s, (size_t)(us - s), sum);
		memcpy(us + 1, sum, 6);
		check(s, CIVIC_KEY_PUBLIC);
		check(s, CIVIC_KEY_SECRET);
	}
	free(s);
	return 0;
}
