/* Key format (SPEC §2): generation, parsing, the CRC32/base62 checksum
 * checked against an independent implementation and golden vectors,
 * peppered HMAC storage, and the scope list that travels with a key. */
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "keys.h"
#include "scopes.h"
#include "tap.h"

/* An independent checksum: zlib crc32, then base62 digits (0-9A-Za-z)
 * most significant first, left-padded with '0' to 6. */
static void ref_checksum(const char *s, size_t len, char out[7])
{
	static const char alpha[] = "0123456789"
	                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                            "abcdefghijklmnopqrstuvwxyz";
	unsigned long v = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)s, (uInt)len);
	char tmp[7];
	int n = 0;

	do {
		tmp[n++] = alpha[v % 62];
		v /= 62;
	} while (v > 0);
	memset(out, '0', 6);
	for (int i = 0; i < n; i++)
		out[5 - i] = tmp[i];
	out[6] = '\0';
}

/* prefix + env + '_' + body + '_' + correct checksum: a key that fails
 * only through its format, never through its checksum. */
static void build(char *out, size_t outlen, const char *prefix, const char *env, const char *body)
{
	char sum[7];

	snprintf(out, outlen, "%s%s_%s", prefix, env, body);
	ref_checksum(out, strlen(out), sum);
	strncat(out, "_", outlen - strlen(out) - 1);
	strncat(out, sum, outlen - strlen(out) - 1);
}

static const char *check_name(enum civic_key_check c)
{
	switch (c) {
	case CIVIC_KEY_OK: return "OK";
	case CIVIC_KEY_MALFORMED: return "MALFORMED";
	case CIVIC_KEY_BAD_CHECKSUM: return "BAD_CHECKSUM";
	}
	return "?";
}

static const char *B22 = "ABCDEFGHIJKLMNOPQRSTUV";
static const char *B32 = "0123456789abcdefghijABCDEFGHIJKL";

static void test_checksum(void)
{
	static const char *samples[] = {
	    "",
	    "a",
	    "123456789",
	    "csk_test_ABCDEFGHIJKLMNOPQRSTUV",
	    "css_live_0123456789abcdefghijABCDEFGHIJKL",
	    "csk_live_zzzzzzzzzzzzzzzzzzzzzz",
	};
	char got[7], want[7];
	int bad = 0;

	/* Golden vectors computed once with python3 zlib.crc32 + base62. */
	civic_key_checksum("123456789", 9, got);
	is_str(got, "3jZRME", "checksum of \"123456789\" (crc32 0xCBF43926) is 3jZRME");
	civic_key_checksum("csk_test_ABCDEFGHIJKLMNOPQRSTUV", 31, got);
	is_str(got, "3UOChU", "golden checksum of a public key body");
	civic_key_checksum("css_live_0123456789abcdefghijABCDEFGHIJKL", 41, got);
	is_str(got, "3wTJV3", "golden checksum of a secret key body");
	civic_key_checksum("csk_live_zzzzzzzzzzzzzzzzzzzzzz", 31, got);
	is_str(got, "0aoseS", "golden checksum is left-padded with '0' to 6 characters");
	civic_key_checksum("", 0, got);
	is_str(got, "000000", "checksum of the empty string (crc32 0) is 000000");
	civic_key_checksum("csk_test_ABCDEFGHIJKLMNOPQRSTUV_trailing", 31, got);
	is_str(got, "3UOChU", "checksum covers exactly len bytes, not the whole string");

	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		civic_key_checksum(samples[i], strlen(samples[i]), got);
		ref_checksum(samples[i], strlen(samples[i]), want);
		if (strcmp(got, want) != 0) {
			diag("checksum(\"%s\") = %s, reference %s", samples[i], got, want);
			bad++;
		}
	}
	is_int(bad, 0, "civic_key_checksum agrees with the reference on fixed strings");

	bad = 0;
	for (int i = 0; i < 2000; i++) {
		char s[64];
		size_t len = randombytes_uniform(sizeof(s));
		randombytes_buf(s, len);
		civic_key_checksum(s, len, got);
		ref_checksum(s, len, want);
		if (strcmp(got, want) != 0)
			bad++;
	}
	is_int(bad, 0, "civic_key_checksum agrees with the reference on 2000 random inputs");
}

static void test_golden_keys(void)
{
	char env[5] = "XXXX";

	is_int(civic_key_parse("csk_test_ABCDEFGHIJKLMNOPQRSTUV_3UOChU", CIVIC_KEY_PUBLIC, env),
	       CIVIC_KEY_OK, "golden public key parses");
	is_str(env, "test", "golden public key environment is test");
	is_int(civic_key_parse("css_live_0123456789abcdefghijABCDEFGHIJKL_3wTJV3", CIVIC_KEY_SECRET,
	                       env),
	       CIVIC_KEY_OK, "golden secret key parses");
	is_str(env, "live", "golden secret key environment is live");
	is_int(civic_key_parse("csk_live_zzzzzzzzzzzzzzzzzzzzzz_0aoseS", CIVIC_KEY_PUBLIC, env),
	       CIVIC_KEY_OK, "golden live public key parses");
	is_int(civic_key_parse("csk_test_ABCDEFGHIJKLMNOPQRSTUV_3UOChV", CIVIC_KEY_PUBLIC, env),
	       CIVIC_KEY_BAD_CHECKSUM, "golden key with its last checksum digit changed");
	is_int(civic_key_parse("csk_test_ABCDEFGHIJKLMNOPQRSTUV_3uOChU", CIVIC_KEY_PUBLIC, env),
	       CIVIC_KEY_BAD_CHECKSUM, "checksum comparison is case-sensitive");
}

static void test_generate(enum civic_key_kind kind, const char *env_in)
{
	const char *pfx = kind == CIVIC_KEY_PUBLIC ? "csk_" : "css_";
	size_t want_len = kind == CIVIC_KEY_PUBLIC ? CIVIC_KEY_PUBLIC_LEN : CIVIC_KEY_SECRET_LEN;
	size_t body = want_len - 4 - 4 - 1 - 1 - 6;
	const char *kname = kind == CIVIC_KEY_PUBLIC ? "public" : "secret";
	char k[CIVIC_KEY_MAX], k2[CIVIC_KEY_MAX], env[5], want[7], pre[16];
	int bad_parse = 0, bad_shape = 0, bad_sum = 0;

	snprintf(pre, sizeof(pre), "%s%s_", pfx, env_in);
	for (int i = 0; i < 200; i++) {
		memset(k, 'Z', sizeof(k));
		civic_key_generate(kind, env_in, k);
		memset(env, 0, sizeof(env));
		if (civic_key_parse(k, kind, env) != CIVIC_KEY_OK || strcmp(env, env_in) != 0)
			bad_parse++;
		if (strnlen(k, sizeof(k)) != want_len || strncmp(k, pre, 9) != 0 ||
		    k[9 + body] != '_')
			bad_shape++;
		ref_checksum(k, 9 + body, want);
		if (strnlen(k, sizeof(k)) == want_len && strcmp(k + 10 + body, want) != 0)
			bad_sum++;
	}
	is_int(bad_parse, 0, "200 generated %s %s keys parse OK with env %s", kname, env_in,
	       env_in);
	is_int(bad_shape, 0, "generated %s %s keys are %zu chars, start %s, '_' before checksum",
	       kname, env_in, want_len, pre);
	is_int(bad_sum, 0, "generated %s %s keys carry the reference checksum", kname, env_in);

	civic_key_generate(kind, env_in, k);
	civic_key_generate(kind, env_in, k2);
	ok(strcmp(k, k2) != 0, "two generated %s keys differ", kname);
	is_int(
	    civic_key_parse(k, kind == CIVIC_KEY_PUBLIC ? CIVIC_KEY_SECRET : CIVIC_KEY_PUBLIC, env),
	    CIVIC_KEY_MALFORMED, "a %s key is not accepted as the other kind", kname);
}

/* Every single-byte substitution at every position must be rejected as
 * MALFORMED or BAD_CHECKSUM (CRC32 catches every one-byte error, and
 * 62^6 > 2^32 keeps the base62 form injective). */
static void test_one_char_changes(enum civic_key_kind kind)
{
	char k[CIVIC_KEY_MAX], m[CIVIC_KEY_MAX], env[5];
	size_t len;
	int accepted = 0, other = 0, b62_to_b62_not_sum = 0, tried = 0;
	const char *kname = kind == CIVIC_KEY_PUBLIC ? "public" : "secret";

	civic_key_generate(kind, "test", k);
	len = strlen(k);
	for (size_t i = 0; i < len; i++) {
		for (int c = 1; c < 256; c++) {
			enum civic_key_check r;
			if (c == (unsigned char)k[i])
				continue;
			memcpy(m, k, len + 1);
			m[i] = (char)c;
			r = civic_key_parse(m, kind, env);
			tried++;
			if (r == CIVIC_KEY_OK) {
				if (accepted++ == 0)
					diag("accepted: %s", m);
			} else if (r != CIVIC_KEY_MALFORMED && r != CIVIC_KEY_BAD_CHECKSUM)
				other++;
			/* inside body or checksum, base62 for base62 keeps the shape */
			if (i >= 9 && i != len - 7 && isalnum(c) && isalnum((unsigned char)k[i]) &&
			    r != CIVIC_KEY_BAD_CHECKSUM)
				b62_to_b62_not_sum++;
		}
	}
	is_int(accepted, 0, "all %d one-byte substitutions of a %s key are rejected", tried, kname);
	is_int(other, 0, "each rejection is MALFORMED or BAD_CHECKSUM (%s)", kname);
	is_int(b62_to_b62_not_sum, 0,
	       "a base62 char replaced by another in body/checksum is BAD_CHECKSUM (%s)", kname);

	/* Deletions and insertions change the length. */
	accepted = 0;
	for (size_t i = 0; i < len; i++) {
		memcpy(m, k, i);
		memcpy(m + i, k + i + 1, len - i);
		if (civic_key_parse(m, kind, env) != CIVIC_KEY_MALFORMED)
			accepted++;
	}
	is_int(accepted, 0, "every one-character deletion of a %s key is MALFORMED", kname);
}

static void test_malformed(void)
{
	static const struct {
		const char *prefix, *env, *body;
		enum civic_key_kind kind;
		const char *why;
	} cases[] = {
	    {"xsk_", "test", "ABCDEFGHIJKLMNOPQRSTUV", CIVIC_KEY_PUBLIC, "wrong prefix xsk_"},
	    {"CSK_", "test", "ABCDEFGHIJKLMNOPQRSTUV", CIVIC_KEY_PUBLIC, "upper-case prefix"},
	    {"css_", "test", "ABCDEFGHIJKLMNOPQRSTUV", CIVIC_KEY_PUBLIC,
	     "css_ with a public length"},
	    {"csk_", "test", "0123456789abcdefghijABCDEFGHIJKL", CIVIC_KEY_SECRET,
	     "csk_ with a secret length"},
	    {"csk-", "test", "ABCDEFGHIJKLMNOPQRSTUV", CIVIC_KEY_PUBLIC, "'-' instead of '_'"},
	    {"csk_", "prod", "ABCDEFGHIJKLMNOPQRSTUV", CIVIC_KEY_PUBLIC, "env word prod"},
	    {"csk_", "LIVE", "ABCDEFGHIJKLMNOPQRSTUV", CIVIC_KEY_PUBLIC, "env word LIVE"},
	    {"csk_", "Test", "ABCDEFGHIJKLMNOPQRSTUV", CIVIC_KEY_PUBLIC, "env word Test"},
	    {"csk_", "tes", "ABCDEFGHIJKLMNOPQRSTUVW", CIVIC_KEY_PUBLIC,
	     "3-letter env, same length"},
	    {"csk_", "tests", "ABCDEFGHIJKLMNOPQRSTU", CIVIC_KEY_PUBLIC,
	     "5-letter env, same length"},
	    {"csk_", "test", "ABCDEFGHIJKLMNOPQRSTU", CIVIC_KEY_PUBLIC, "body of 21"},
	    {"csk_", "test", "ABCDEFGHIJKLMNOPQRSTUVW", CIVIC_KEY_PUBLIC, "body of 23"},
	    {"csk_", "test", "", CIVIC_KEY_PUBLIC, "empty body"},
	    {"css_", "live", "0123456789abcdefghijABCDEFGHIJK", CIVIC_KEY_SECRET, "secret body 31"},
	    {"css_", "live", "0123456789abcdefghijABCDEFGHIJKLM", CIVIC_KEY_SECRET,
	     "secret body 33"},
	    {"csk_", "test", "ABCDEFGHIJ-LMNOPQRSTUV", CIVIC_KEY_PUBLIC, "'-' in body"},
	    {"csk_", "test", "ABCDEFGHIJ_LMNOPQRSTUV", CIVIC_KEY_PUBLIC, "'_' in body"},
	    {"csk_", "test", "ABCDEFGHIJ+LMNOPQRST/=", CIVIC_KEY_PUBLIC, "base64 chars in body"},
	    {"csk_", "test", "ABCDEFGHIJ LMNOPQRSTUV", CIVIC_KEY_PUBLIC, "space in body"},
	    {"csk_", "test", "ABCDEFGHIJ\xc3\xa9MNOPQRSTUV", CIVIC_KEY_PUBLIC, "UTF-8 in body"},
	    {"css_", "live", "0123456789abcdefghij.BCDEFGHIJKL", CIVIC_KEY_SECRET, "'.' in secret"},
	};
	char k[128], env[5];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum civic_key_check r;
		build(k, sizeof(k), cases[i].prefix, cases[i].env, cases[i].body);
		strcpy(env, "XXXX");
		r = civic_key_parse(k, cases[i].kind, env);
		ok(r == CIVIC_KEY_MALFORMED && strcmp(env, "XXXX") == 0,
		   "MALFORMED despite a valid checksum: %s (got %s)", cases[i].why, check_name(r));
	}

	/* Hand-made shapes: checksum field itself wrong. */
	build(k, sizeof(k), "csk_", "test", B22);
	k[strlen(k) - 1] = '!';
	is_int(civic_key_parse(k, CIVIC_KEY_PUBLIC, env), CIVIC_KEY_MALFORMED,
	       "non-base62 character in the checksum is MALFORMED");
	build(k, sizeof(k), "csk_", "test", B22);
	k[31] = '-';
	is_int(civic_key_parse(k, CIVIC_KEY_PUBLIC, env), CIVIC_KEY_MALFORMED,
	       "checksum separator not '_' is MALFORMED");
	build(k, sizeof(k), "csk_", "test", B22);
	strcat(k, "0");
	is_int(civic_key_parse(k, CIVIC_KEY_PUBLIC, env), CIVIC_KEY_MALFORMED,
	       "a trailing extra character is MALFORMED");
	build(k, sizeof(k), "csk_", "test", B22);
	k[strlen(k) - 1] = '\0';
	is_int(civic_key_parse(k, CIVIC_KEY_PUBLIC, env), CIVIC_KEY_MALFORMED,
	       "a key one character short is MALFORMED");
	build(k, sizeof(k), "csk_", "test", B22);
	strcat(k, "\n");
	is_int(civic_key_parse(k, CIVIC_KEY_PUBLIC, env), CIVIC_KEY_MALFORMED,
	       "a trailing newline is MALFORMED");
	is_int(civic_key_parse("", CIVIC_KEY_PUBLIC, env), CIVIC_KEY_MALFORMED, "empty string");
	is_int(civic_key_parse("csk_test_", CIVIC_KEY_PUBLIC, env), CIVIC_KEY_MALFORMED,
	       "prefix only");
	is_int(civic_key_parse(NULL, CIVIC_KEY_PUBLIC, env), CIVIC_KEY_MALFORMED, "NULL public");
	is_int(civic_key_parse(NULL, CIVIC_KEY_SECRET, env), CIVIC_KEY_MALFORMED, "NULL secret");

	/* A good key with a valid shape but another checksum. */
	snprintf(k, sizeof(k), "csk_test_%s_000000", B22);
	is_int(civic_key_parse(k, CIVIC_KEY_PUBLIC, env), CIVIC_KEY_BAD_CHECKSUM,
	       "well-formed key with checksum 000000 is BAD_CHECKSUM");
	build(k, sizeof(k), "css_", "live", B32);
	memcpy(k + 4, "test", 4); /* env swapped after the checksum was computed */
	is_int(civic_key_parse(k, CIVIC_KEY_SECRET, env), CIVIC_KEY_BAD_CHECKSUM,
	       "changing the env word after issue breaks the checksum");
}

static void test_hash(void)
{
	/* RFC 4231 test case 2: key "Jefe". */
	static const unsigned char rfc4231_2[32] = {
	    0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
	    0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
	    0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
	};
	struct civic_secret p1, p2, jefe;
	unsigned char h1[CIVIC_KEY_HASH_LEN], h2[CIVIC_KEY_HASH_LEN], h3[CIVIC_KEY_HASH_LEN];
	unsigned char ref[crypto_auth_hmacsha256_BYTES];
	char secret[CIVIC_KEY_MAX], other[CIVIC_KEY_MAX];

	memset(&p1, 0, sizeof(p1));
	memset(&p2, 0, sizeof(p2));
	memset(&jefe, 0, sizeof(jefe));
	p1.len = p2.len = 32;
	for (int i = 0; i < 32; i++) {
		p1.bytes[i] = (unsigned char)i;
		p2.bytes[i] = (unsigned char)i;
	}
	p2.bytes[31] ^= 1;
	memcpy(jefe.bytes, "Jefe", 4);
	jefe.len = 4;

	civic_key_hash(&jefe, "what do ya want for nothing?", h1);
	ok(memcmp(h1, rfc4231_2, 32) == 0, "civic_key_hash matches RFC 4231 test case 2");

	civic_key_generate(CIVIC_KEY_SECRET, "live", secret);
	civic_key_generate(CIVIC_KEY_SECRET, "live", other);
	civic_key_hash(&p1, secret, h1);
	civic_key_hash(&p1, secret, h2);
	ok(civic_key_hash_equal(h1, h2), "same secret + same pepper: equal hashes");
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, p1.bytes, p1.len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_final(&st, ref);
	ok(memcmp(h1, ref, 32) == 0, "hash is HMAC-SHA256(pepper, secret)");
	civic_key_hash(&p2, secret, h3);
	ok(!civic_key_hash_equal(h1, h3), "different pepper (one bit): different hash");
	civic_key_hash(&p1, other, h3);
	ok(!civic_key_hash_equal(h1, h3), "different secret: different hash");
	ok(memcmp(h1, secret, 32) != 0, "the hash is not the secret itself");

	memcpy(h3, h1, 32);
	h3[0] ^= 0x80;
	ok(!civic_key_hash_equal(h1, h3), "hash_equal sees a difference in the first byte");
	memcpy(h3, h1, 32);
	h3[31] ^= 0x01;
	ok(!civic_key_hash_equal(h1, h3), "hash_equal sees a difference in the last byte");
	memcpy(h3, h1, 32);
	ok(civic_key_hash_equal(h1, h3), "hash_equal on identical copies");
}

static void test_scopes(void)
{
	static const char *all_names[] = {
	    "profile:read",
	    "profile:write",
	    "destinations:read",
	    "destinations:write",
	    "destinations:whatsapp:join",
	    "subscriptions:read",
	    "subscriptions:write",
	    "dispatches:read",
	    "risk_assessments:read",
	    "billing:read",
	    "countries:read",
	};
	struct civic_buf b;
	civic_scopes s = 0xdead;
	const char *bad = NULL;
	int bad_rt = 0;
	const char *in;

	civic_buf_init(&b, 4096);

	for (size_t i = 0; i < 11; i++) {
		civic_scopes one = 0;
		if (!civic_scopes_parse(all_names[i], &one, NULL) || one != (1u << i) ||
		    civic_scope_name(one) == NULL ||
		    strcmp(civic_scope_name(one), all_names[i]) != 0)
			bad_rt++;
	}
	is_int(bad_rt, 0, "each of the 11 SPEC scopes parses to its own bit and names back");

	ok(civic_scopes_parse("countries:read profile:read", &s, NULL) &&
	       s == (CIVIC_SCOPE_COUNTRIES_READ | CIVIC_SCOPE_PROFILE_READ),
	   "parse a space-separated list");
	ok(civic_scopes_format(s, " ", &b), "format succeeds");
	is_str(civic_buf_str(&b), "profile:read countries:read", "format is in canonical order");
	civic_scopes back = 0;
	ok(civic_scopes_parse(civic_buf_str(&b), &back, NULL) && back == s,
	   "format then parse round-trips");

	ok(civic_scopes_parse(" profile:write,,billing:read ,  dispatches:read ", &s, NULL) &&
	       s == (CIVIC_SCOPE_PROFILE_WRITE | CIVIC_SCOPE_BILLING_READ |
	             CIVIC_SCOPE_DISPATCHES_READ),
	   "commas, repeated separators and edge spaces are accepted");
	ok(civic_scopes_parse("profile:read profile:read", &s, NULL) &&
	       s == CIVIC_SCOPE_PROFILE_READ,
	   "a repeated scope is the same bit");
	ok(civic_scopes_parse("", &s, NULL) && s == 0, "empty list is no scopes");

	ok(civic_scopes_parse("all", &s, NULL) && s == CIVIC_SCOPE_ALL, "\"all\" is every scope");
	civic_buf_reset(&b);
	ok(civic_scopes_format(CIVIC_SCOPE_ALL, " ", &b), "format all");
	{
		char want[512] = "";
		for (size_t i = 0; i < 11; i++) {
			if (i)
				strcat(want, " ");
			strcat(want, all_names[i]);
		}
		is_str(civic_buf_str(&b), want, "all formats as the 11 names in order");
	}
	ok(civic_scopes_parse(civic_buf_str(&b), &s, NULL) && s == CIVIC_SCOPE_ALL,
	   "the formatted full list parses back to all");
	civic_buf_reset(&b);
	ok(civic_scopes_format(CIVIC_SCOPE_PROFILE_READ | CIVIC_SCOPE_RISK_ASSESSMENTS_READ, ",",
	                       &b) &&
	       strcmp(civic_buf_str(&b), "profile:read,risk_assessments:read") == 0,
	   "format with a ',' separator");
	civic_buf_reset(&b);
	ok(civic_scopes_format(0, " ", &b) && strcmp(civic_buf_str(&b), "") == 0,
	   "format of no scopes is empty");

	s = 0x1234;
	in = "profile:read profile:delete countries:read";
	ok(!civic_scopes_parse(in, &s, &bad), "unknown scope profile:delete rejected");
	ok(bad == in + 13, "bad points at the unknown name");
	is_int(s, 0x1234, "*out is left alone on failure");
	ok(!civic_scopes_parse("profile:readx", &s, NULL),
	   "profile:readx rejected (no prefix match)");
	ok(!civic_scopes_parse("profile", &s, NULL), "profile rejected (prefix of a scope)");
	ok(!civic_scopes_parse("Profile:Read", &s, NULL), "scope names are case-sensitive");
	ok(!civic_scopes_parse("ALL", &s, NULL), "ALL is not all");
	ok(!civic_scopes_parse("alll", &s, NULL), "alll is not all");
	ok(!civic_scopes_parse("profile:read\tcountries:read", &s, NULL), "tab is not a separator");

	ok(civic_scope_name(0) == NULL, "no name for 0");
	ok(civic_scope_name(3) == NULL, "no name for two bits");
	ok(civic_scope_name(1u << 11) == NULL, "no name for an unknown bit");

	{
		struct civic_buf small;
		civic_buf_init(&small, 10);
		ok(!civic_scopes_format(CIVIC_SCOPE_ALL, " ", &small),
		   "format fails (no truncation) when the buffer cap is too small");
		civic_buf_free(&small);
	}
	civic_buf_free(&b);
}

int main(void)
{
	plan(111);
	if (sodium_init() < 0) {
		printf("Bail out! sodium_init failed\n");
		return 1;
	}
	test_checksum();
	test_golden_keys();
	test_generate(CIVIC_KEY_PUBLIC, "live");
	test_generate(CIVIC_KEY_PUBLIC, "test");
	test_generate(CIVIC_KEY_SECRET, "live");
	test_generate(CIVIC_KEY_SECRET, "test");
	test_one_char_changes(CIVIC_KEY_PUBLIC);
	test_one_char_changes(CIVIC_KEY_SECRET);
	test_malformed();
	test_hash();
	test_scopes();
	return done_testing();
}
