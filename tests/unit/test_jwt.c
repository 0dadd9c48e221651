/* Access tokens (SPEC §2): issue/verify round trips, and a verifier
 * that refuses every token it should: alg none, other HMAC algorithms,
 * tampering, wrong key, time claims outside the 30 s leeway, wrong
 * aud/iss/typ/env, missing claims, unknown kid, key rotation, size and
 * garbage. Most bad tokens are signed here by hand (libsodium HMAC),
 * so each one differs from a good token in exactly one respect. */
#include <json-c/json.h>
#include <jwt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "tap.h"
#include "tokens.h"

/* Header typ of every token: libjwt 1.10 (Debian 12) accepts no other,
 * so audiences are told apart by aud (docs/DECISIONS.md). */
#define TYP_API     "JWT"
#define TYP_CONSOLE "JWT"
#define TYP_OTHER   "at+jwt"
#define NOW         ((time_t)1750000000) /* 2025-06-15T15:06:40Z */

static struct civic_config cfg;      /* current key only */
static struct civic_config cfg_prev; /* current + previous key */
static struct civic_secret old_key, other_key;
static char kid_cur[17], kid_old[17], kid_other[17];
static int claims_written; /* failures that still wrote *c */

static const char *typ_for(const char *aud)
{
	return strcmp(aud, CIVIC_AUD_API) == 0 ? TYP_API : TYP_CONSOLE;
}

static void fill_key(struct civic_secret *k, unsigned char seed, size_t len)
{
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < len; i++)
		k->bytes[i] = (unsigned char)(seed + i * 7);
	k->len = len;
}

static void setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.base_url = "https://api.civicsentinel.test";
	cfg.environment = "test";
	cfg.token_lifetime = 900;
	cfg.console_session_hours = 2;
	fill_key(&cfg.jwt_key, 1, 40);
	fill_key(&old_key, 101, 32);
	fill_key(&other_key, 201, 32);
	cfg_prev = cfg;
	cfg_prev.jwt_prev_key = old_key;
	civic_token_kid(&cfg.jwt_key, kid_cur);
	civic_token_kid(&old_key, kid_old);
	civic_token_kid(&other_key, kid_other);
}

static char *b64url(const void *p, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = malloc(cap);

	sodium_bin2base64(out, cap, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

/* header.payload.signature with HS256 under key (NULL: empty signature).
 * Returns a malloc'd string. */
static char *sign_raw(const char *header, const char *payload, const struct civic_secret *key)
{
	char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload));
	size_t n = strlen(h) + strlen(p) + 2 + 64;
	char *tok = malloc(n);

	snprintf(tok, n, "%s.%s.", h, p);
	if (key) {
		unsigned char mac[crypto_auth_hmacsha256_BYTES];
		crypto_auth_hmacsha256_state st;
		char *s;
		crypto_auth_hmacsha256_init(&st, key->bytes, key->len);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)tok, strlen(tok) - 1);
		crypto_auth_hmacsha256_final(&st, mac);
		s = b64url(mac, sizeof(mac));
		strcat(tok, s);
		free(s);
	}
	free(h);
	free(p);
	return tok;
}

/* The header JSON {"alg":alg,"typ":typ,"kid":kid}; NULL members omitted. */
static char *header_json(const char *alg, const char *typ, const char *kid)
{
	json_object *h = json_object_new_object();
	char *s;

	if (alg)
		json_object_object_add(h, "alg", json_object_new_string(alg));
	if (typ)
		json_object_object_add(h, "typ", json_object_new_string(typ));
	if (kid)
		json_object_object_add(h, "kid", json_object_new_string(kid));
	s = strdup(json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN));
	json_object_put(h);
	return s;
}

/* Every claim a good token for aud at NOW carries. Caller puts it. */
static json_object *good_claims(const char *aud)
{
	json_object *c = json_object_new_object();

	json_object_object_add(c, "iss", json_object_new_string(cfg.base_url));
	json_object_object_add(c, "aud", json_object_new_string(aud));
	json_object_object_add(c, "sub", json_object_new_string("42"));
	json_object_object_add(c, "app", json_object_new_int64(7));
	json_object_object_add(c, "key", json_object_new_int64(9));
	json_object_object_add(c, "scope", json_object_new_string("profile:read countries:read"));
	json_object_object_add(c, "plan", json_object_new_string("signal"));
	json_object_object_add(c, "env", json_object_new_string("test"));
	json_object_object_add(c, "iat", json_object_new_int64(NOW));
	json_object_object_add(c, "nbf", json_object_new_int64(NOW));
	json_object_object_add(c, "exp", json_object_new_int64(NOW + 900));
	json_object_object_add(c, "jti",
	                       json_object_new_string("0123456789abcdef0123456789abcdef"));
	return c;
}

/* Signs claims (consumed) with HS256 under key, header naming kid/typ. */
static char *sign_claims(json_object *claims, const char *typ, const char *kid,
                         const struct civic_secret *key)
{
	char *h = header_json("HS256", typ, kid);
	char *t = sign_raw(h, json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN), key);

	free(h);
	json_object_put(claims);
	return t;
}

static char *good_token(const char *aud)
{
	return sign_claims(good_claims(aud), typ_for(aud), kid_cur, &cfg.jwt_key);
}

/* Verifies and checks that *c is untouched on failure. */
static enum civic_err verify(const struct civic_config *cf, const char *aud, const char *tok,
                             time_t now)
{
	struct civic_claims c, sentinel;
	enum civic_err e;

	memset(&c, 0xA5, sizeof(c));
	memcpy(&sentinel, &c, sizeof(c));
	e = civic_token_verify(cf, aud, tok, now, &c);
	if (e != CIVIC_OK && memcmp(&c, &sentinel, sizeof(c)) != 0)
		claims_written++;
	return e;
}

/* The decoded JSON of part idx (0 header, 1 payload) of a token. */
static json_object *part(const char *tok, int idx)
{
	const char *p = tok, *end;
	unsigned char buf[4096];
	size_t len;

	for (int i = 0; i < idx; i++)
		p = strchr(p, '.') + 1;
	end = strchr(p, '.');
	if (sodium_base642bin(buf, sizeof(buf) - 1, p, (size_t)(end - p), NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return NULL;
	buf[len] = '\0';
	return json_tokener_parse((const char *)buf);
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
	           ? json_object_get_string(v)
	           : NULL;
}

static int64_t jint(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_int)
	           ? json_object_get_int64(v)
	           : -999;
}

static void test_kid(void)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char want[17];

	crypto_hash_sha256(h, cfg.jwt_key.bytes, cfg.jwt_key.len);
	sodium_bin2hex(want, sizeof(want), h, 8);
	is_str(kid_cur, want, "kid is hex of the first 8 bytes of SHA-256(key)");
	ok(strcmp(kid_cur, kid_old) != 0, "different keys, different kids");
}

static void test_issue(const char *aud)
{
	/* API tokens live token_lifetime, console sessions session_hours. */
	const long life = strcmp(aud, CIVIC_AUD_CONSOLE) == 0 ? 2 * 3600 : 900;
	struct civic_claims in, out;
	char *tok = NULL, *tok2 = NULL;
	json_object *h, *p;
	enum civic_err e;

	memset(&in, 0, sizeof(in));
	in.account_id = 42;
	in.app_id = strcmp(aud, CIVIC_AUD_API) == 0 ? 7 : 0;
	in.key_id = strcmp(aud, CIVIC_AUD_API) == 0 ? 9 : 0;
	in.scopes = CIVIC_SCOPE_PROFILE_READ | CIVIC_SCOPE_DESTINATIONS_WHATSAPP_JOIN |
	            CIVIC_SCOPE_COUNTRIES_READ;
	strcpy(in.plan, "signal");
	e = civic_token_issue(&cfg, aud, &in, NOW, &tok);
	is_int(e, CIVIC_OK, "[%s] issue succeeds", aud);
	if (tok == NULL) {
		ok(0, "[%s] no token to inspect", aud);
		return;
	}
	is_int(in.iat, NOW, "[%s] issue fills iat = now", aud);
	is_int(in.exp, NOW + life, "[%s] issue fills exp = now + the audience's lifetime", aud);
	ok(strlen(in.jti) == 32 && strspn(in.jti, "0123456789abcdef") == 32,
	   "[%s] jti is 32 hex chars", aud);

	h = part(tok, 0);
	p = part(tok, 1);
	is_str(jstr(h, "alg"), "HS256", "[%s] header alg HS256", aud);
	is_str(jstr(h, "kid"), kid_cur, "[%s] header kid names the current key", aud);
	is_str(jstr(h, "typ"), typ_for(aud), "[%s] header typ is %s", aud, typ_for(aud));
	ok(jstr(p, "iss") && strcmp(jstr(p, "iss"), cfg.base_url) == 0 && jstr(p, "aud") &&
	       strcmp(jstr(p, "aud"), aud) == 0 && jstr(p, "sub") &&
	       strcmp(jstr(p, "sub"), "42") == 0 && jstr(p, "env") &&
	       strcmp(jstr(p, "env"), "test") == 0 && jstr(p, "plan") &&
	       strcmp(jstr(p, "plan"), "signal") == 0 && jstr(p, "jti") &&
	       strcmp(jstr(p, "jti"), in.jti) == 0,
	   "[%s] payload iss/aud/sub(string)/env/plan/jti", aud);
	is_str(jstr(p, "scope"), "profile:read destinations:whatsapp:join countries:read",
	       "[%s] payload scope is space-separated", aud);
	ok(jint(p, "app") == in.app_id && jint(p, "key") == in.key_id && jint(p, "iat") == NOW &&
	       jint(p, "nbf") == NOW && jint(p, "exp") == NOW + life,
	   "[%s] payload app/key/iat/nbf/exp are integers with the right values", aud);
	json_object_put(h);
	json_object_put(p);

	memset(&out, 0, sizeof(out));
	e = civic_token_verify(&cfg, aud, tok, NOW + 10, &out);
	is_int(e, CIVIC_OK, "[%s] an issued token verifies", aud);
	ok(e == CIVIC_OK && out.account_id == 42 && out.app_id == in.app_id &&
	       out.key_id == in.key_id && out.scopes == in.scopes &&
	       strcmp(out.plan, "signal") == 0 && strcmp(out.jti, in.jti) == 0 && out.iat == NOW &&
	       out.exp == NOW + life,
	   "[%s] verify returns the issued claims", aud);

	civic_token_issue(&cfg, aud, &in, NOW, &tok2);
	ok(tok2 && strcmp(tok, tok2) != 0, "[%s] two issues differ (fresh jti)", aud);
	free(tok);
	free(tok2);
}

static void test_alg(const char *aud)
{
	const char *typ = typ_for(aud);
	char *h, *t, *good;
	static const char *none_names[] = {"none", "None", "NONE"};
	jwt_alg_t algs[] = {JWT_ALG_HS384, JWT_ALG_HS512};

	good = good_token(aud);
	is_int(verify(&cfg, aud, good, NOW), CIVIC_OK, "[%s] hand-signed good token verifies", aud);

	for (size_t i = 0; i < 3; i++) {
		json_object *c = good_claims(aud);
		h = header_json(none_names[i], typ, kid_cur);
		t = sign_raw(h, json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN), NULL);
		is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN,
		       "[%s] alg \"%s\" with empty signature rejected", aud, none_names[i]);
		free(t);
		t = sign_raw(h, json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN),
		             &cfg.jwt_key);
		is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN,
		       "[%s] alg \"%s\" with a valid HS256 MAC rejected", aud, none_names[i]);
		free(t);
		free(h);
		json_object_put(c);
	}
	{
		/* no alg at all */
		json_object *c = good_claims(aud);
		h = header_json(NULL, typ, kid_cur);
		t = sign_raw(h, json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN),
		             &cfg.jwt_key);
		is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN, "[%s] header without alg",
		       aud);
		free(t);
		free(h);
		json_object_put(c);
	}

	/* Same key, other HMAC algorithms, signed by libjwt itself. */
	for (size_t i = 0; i < 2; i++) {
		jwt_t *j = NULL;
		json_object *c = good_claims(aud);
		char *s = NULL;
		if (jwt_new(&j) == 0 &&
		    jwt_set_alg(j, algs[i], cfg.jwt_key.bytes, (int)cfg.jwt_key.len) == 0 &&
		    jwt_add_header(j, "kid", kid_cur) == 0 && jwt_add_header(j, "typ", typ) == 0 &&
		    jwt_add_grants_json(j, json_object_to_json_string(c)) == 0)
			s = jwt_encode_str(j);
		ok(s != NULL, "[%s] libjwt signs an %s token", aud, jwt_alg_str(algs[i]));
		is_int(verify(&cfg, aud, s, NOW), CIVIC_E_INVALID_TOKEN,
		       "[%s] %s token under the same key rejected (alg pinned)", aud,
		       jwt_alg_str(algs[i]));
		free(s);
		jwt_free(j);
		json_object_put(c);
	}
	free(good);
}

static void test_tamper(const char *aud)
{
	char *good = good_token(aud), *t, *dot1, *dot2;
	char *forged_payload;
	json_object *c;
	size_t n;

	/* Payload replaced (account 1 instead of 42), signature kept. */
	c = good_claims(aud);
	json_object_object_add(c, "sub", json_object_new_string("1"));
	forged_payload = b64url(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN),
	                        strlen(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN)));
	json_object_put(c);
	dot1 = strchr(good, '.');
	dot2 = strchr(dot1 + 1, '.');
	n = (size_t)(dot1 - good) + 1 + strlen(forged_payload) + strlen(dot2) + 1;
	t = malloc(n);
	snprintf(t, n, "%.*s.%s%s", (int)(dot1 - good), good, forged_payload, dot2);
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN,
	       "[%s] tampered payload (sub changed) rejected", aud);
	free(t);
	free(forged_payload);

	/* One character of the signature changed. */
	t = strdup(good);
	n = strlen(t);
	t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN,
	       "[%s] one signature character changed", aud);
	/* Signature dropped. */
	strcpy(t, good);
	strrchr(t, '.')[1] = '\0';
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN, "[%s] signature removed", aud);
	free(t);

	/* Signed with another key, header naming the real kid. */
	t = sign_claims(good_claims(aud), typ_for(aud), kid_cur, &other_key);
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN,
	       "[%s] signed with the wrong key under the right kid", aud);
	free(t);
	/* Short keys are a common forgery: the empty key. */
	{
		struct civic_secret empty;
		memset(&empty, 0, sizeof(empty));
		t = sign_claims(good_claims(aud), typ_for(aud), kid_cur, &empty);
		is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN,
		       "[%s] signed with an empty key", aud);
		free(t);
	}
	free(good);
}

/* A good token with one claim set to an int (now-relative) value. */
static char *with_time(const char *aud, const char *claim, int64_t v)
{
	json_object *c = good_claims(aud);

	json_object_object_add(c, claim, json_object_new_int64(v));
	return sign_claims(c, typ_for(aud), kid_cur, &cfg.jwt_key);
}

static void test_times(const char *aud)
{
	static const struct {
		const char *claim;
		int64_t offset; /* from NOW */
		enum civic_err want;
		const char *why;
	} cases[] = {
	    {"exp", -31, CIVIC_E_TOKEN_EXPIRED, "exp 31 s in the past: expired"},
	    {"exp", -3600, CIVIC_E_TOKEN_EXPIRED, "exp an hour in the past: expired"},
	    {"exp", -30, CIVIC_OK, "exp 30 s in the past: within leeway"},
	    {"exp", -1, CIVIC_OK, "exp 1 s in the past: within leeway"},
	    {"nbf", 31, CIVIC_E_INVALID_TOKEN, "nbf 31 s in the future: not yet valid"},
	    {"nbf", 86400, CIVIC_E_INVALID_TOKEN, "nbf a day in the future"},
	    {"nbf", 30, CIVIC_OK, "nbf 30 s in the future: within leeway"},
	    {"iat", 31, CIVIC_E_INVALID_TOKEN, "iat 31 s in the future"},
	    {"iat", 30, CIVIC_OK, "iat 30 s in the future: within leeway"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t;
		if (strcmp(cases[i].claim, "exp") == 0) {
			/* an old token: issued 900 s before its exp */
			json_object *c = good_claims(aud);
			json_object_object_add(c, "exp",
			                       json_object_new_int64(NOW + cases[i].offset));
			json_object_object_add(c, "iat",
			                       json_object_new_int64(NOW + cases[i].offset - 900));
			json_object_object_add(c, "nbf",
			                       json_object_new_int64(NOW + cases[i].offset - 900));
			t = sign_claims(c, typ_for(aud), kid_cur, &cfg.jwt_key);
		} else
			t = with_time(aud, cases[i].claim, NOW + cases[i].offset);
		is_int(verify(&cfg, aud, t, NOW), cases[i].want, "[%s] %s", aud, cases[i].why);
		free(t);
	}
	/* The same good token, verified at different times. */
	{
		char *t = good_token(aud);
		is_int(verify(&cfg, aud, t, NOW + 900 + 30), CIVIC_OK,
		       "[%s] verified 30 s after exp: OK", aud);
		is_int(verify(&cfg, aud, t, NOW + 900 + 31), CIVIC_E_TOKEN_EXPIRED,
		       "[%s] verified 31 s after exp: TOKEN_EXPIRED", aud);
		is_int(verify(&cfg, aud, t, NOW - 31), CIVIC_E_INVALID_TOKEN,
		       "[%s] verified 31 s before nbf/iat: INVALID_TOKEN", aud);
		free(t);
	}
}

static void test_claims(const char *aud)
{
	const char *other_aud = strcmp(aud, CIVIC_AUD_API) == 0 ? CIVIC_AUD_CONSOLE : CIVIC_AUD_API;
	static const char *required[] = {"iss",  "aud", "sub", "app", "key", "scope",
	                                 "plan", "env", "iat", "nbf", "exp", "jti"};
	static const struct {
		const char *claim;
		const char *json; /* the replacement value, as JSON */
		const char *why;
	} bad[] = {
	    {"iss", "\"https://evil.example\"", "wrong iss"},
	    {"iss", "\"https://api.civicsentinel.test/\"", "iss with a trailing slash"},
	    {"aud", "\"civicsentinel-api-x\"", "aud with a suffix"},
	    {"aud", "[\"civicsentinel-api\",\"civicsentinel-console\"]", "aud as an array"},
	    {"env", "\"live\"", "env live on a test deployment"},
	    {"env", "\"TEST\"", "env TEST"},
	    {"sub", "42", "sub as a number"},
	    {"sub", "\"0\"", "sub 0"},
	    {"sub", "\"-5\"", "sub negative"},
	    {"sub", "\"42abc\"", "sub not a number"},
	    {"sub", "\"042\"", "sub with a leading zero"},
	    {"app", "-1", "app negative"},
	    {"key", "-1", "key negative"},
	    {"scope", "\"profile:read bogus:scope\"", "unknown scope"},
	    {"scope", "7", "scope as a number"},
	    {"plan", "\"0123456789012345678901234567890123\"", "plan longer than 32"},
	    {"jti", "\"0123456789abcdef0123456789abcdef0\"", "jti longer than 32"},
	    {"exp", "\"99999999999\"", "exp as a string"},
	    {"nbf", "\"99999999999\"", "nbf as a string"},
	    {"exp", "null", "exp null"},
	};
	char *t;

	/* wrong audience: each token type is refused by the other verifier */
	t = good_token(other_aud);
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN, "[%s] a %s token is rejected", aud,
	       other_aud);
	free(t);
	t = sign_claims(good_claims(other_aud), typ_for(aud), kid_cur, &cfg.jwt_key);
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN,
	       "[%s] aud %s rejected even with this audience's typ", aud, other_aud);
	free(t);

	/* wrong typ */
	t = sign_claims(good_claims(aud), TYP_OTHER, kid_cur, &cfg.jwt_key);
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN, "[%s] typ %s rejected", aud,
	       TYP_OTHER);
	free(t);
	t = sign_claims(good_claims(aud), NULL, kid_cur, &cfg.jwt_key);
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN, "[%s] missing typ rejected", aud);
	free(t);

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		json_object *c = good_claims(aud);
		json_object_object_del(c, required[i]);
		t = sign_claims(c, typ_for(aud), kid_cur, &cfg.jwt_key);
		is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN, "[%s] missing %s rejected",
		       aud, required[i]);
		free(t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object *c = good_claims(aud);
		json_object_object_add(c, bad[i].claim, json_tokener_parse(bad[i].json));
		t = sign_claims(c, typ_for(aud), kid_cur, &cfg.jwt_key);
		is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN, "[%s] %s rejected", aud,
		       bad[i].why);
		free(t);
	}
}

static void test_kids(const char *aud)
{
	const char *typ = typ_for(aud);
	char *t;

	t = sign_claims(good_claims(aud), typ, "0000000000000000", &cfg.jwt_key);
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN,
	       "[%s] unknown kid rejected (valid signature)", aud);
	free(t);
	t = sign_claims(good_claims(aud), typ, NULL, &cfg.jwt_key);
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN, "[%s] missing kid rejected", aud);
	free(t);
	t = sign_claims(good_claims(aud), typ, kid_other, &other_key);
	is_int(verify(&cfg_prev, aud, t, NOW), CIVIC_E_INVALID_TOKEN,
	       "[%s] a key we do not hold, self-consistent kid, rejected", aud);
	free(t);
	{
		json_object *c = good_claims(aud);
		t = sign_raw("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":12}",
		             json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN),
		             &cfg.jwt_key);
		is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN,
		       "[%s] numeric kid rejected", aud);
		free(t);
		json_object_put(c);
	}

	/* Rotation: the previous key still verifies while configured. */
	t = sign_claims(good_claims(aud), typ, kid_old, &old_key);
	is_int(verify(&cfg_prev, aud, t, NOW), CIVIC_OK,
	       "[%s] previous key accepted when jwt_prev_key is configured", aud);
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN,
	       "[%s] previous key rejected when jwt_prev_key is not configured", aud);
	free(t);
	t = sign_claims(good_claims(aud), typ, kid_old, &cfg.jwt_key);
	is_int(verify(&cfg_prev, aud, t, NOW), CIVIC_E_INVALID_TOKEN,
	       "[%s] current key's MAC under the previous key's kid rejected", aud);
	free(t);
	t = sign_claims(good_claims(aud), typ, kid_cur, &old_key);
	is_int(verify(&cfg_prev, aud, t, NOW), CIVIC_E_INVALID_TOKEN,
	       "[%s] previous key's MAC under the current kid rejected", aud);
	free(t);
	t = good_token(aud);
	is_int(verify(&cfg_prev, aud, t, NOW), CIVIC_OK,
	       "[%s] current key still accepted with a previous key configured", aud);
	free(t);
}

/* A good token padded with an extra claim to a total length near len. */
static char *padded(const char *aud, size_t pad)
{
	json_object *c = good_claims(aud);
	char *s = malloc(pad + 1);

	memset(s, 'x', pad);
	s[pad] = '\0';
	json_object_object_add(c, "pad", json_object_new_string(s));
	free(s);
	return sign_claims(c, typ_for(aud), kid_cur, &cfg.jwt_key);
}

static void test_size_and_garbage(const char *aud)
{
	static const char *garbage[] = {
	    "",
	    ".",
	    "..",
	    "...",
	    "a.b.c",
	    "eyJ",
	    "eyJhbGciOiJIUzI1NiJ9",
	    "!!!!.????.####",
	    "eyJhbGciOiJIUzI1NiJ9..",
	    "bnVsbA.bnVsbA.bnVsbA", /* null.null.null */
	    "W10.W10.W10",          /* [].[].[] */
	    "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x",
	};
	size_t pad, best_ok = 0, first_big = 0;
	char *t, *good;

	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
		is_int(verify(&cfg, aud, garbage[i], NOW), CIVIC_E_INVALID_TOKEN,
		       "[%s] garbage \"%s\" rejected", aud, garbage[i]);
	is_int(verify(&cfg, aud, NULL, NOW), CIVIC_E_INVALID_TOKEN, "[%s] NULL token rejected",
	       aud);

	good = good_token(aud);
	t = malloc(strlen(good) + 8);
	sprintf(t, "%s.", good);
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN, "[%s] a fourth segment", aud);
	sprintf(t, "%sx", good);
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN, "[%s] a character appended", aud);
	sprintf(t, " %s", good);
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN, "[%s] a leading space", aud);
	free(t);
	free(good);

	/* Around CIVIC_TOKEN_MAX: find the longest <= max and shortest > max. */
	for (pad = 1000; pad < 2000; pad++) {
		t = padded(aud, pad);
		if (strlen(t) <= CIVIC_TOKEN_MAX)
			best_ok = pad;
		else if (first_big == 0)
			first_big = pad;
		free(t);
		if (first_big)
			break;
	}
	t = padded(aud, best_ok);
	diag("longest padded token: %zu bytes", strlen(t));
	is_int(verify(&cfg, aud, t, NOW), CIVIC_OK, "[%s] a token of %zu <= %d bytes is accepted",
	       aud, strlen(t), CIVIC_TOKEN_MAX);
	free(t);
	t = padded(aud, first_big);
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN,
	       "[%s] a token of %zu > %d bytes is rejected", aud, strlen(t), CIVIC_TOKEN_MAX);
	free(t);
	t = padded(aud, 100000);
	is_int(verify(&cfg, aud, t, NOW), CIVIC_E_INVALID_TOKEN, "[%s] a 130 kB token is rejected",
	       aud);
	free(t);
}

static void test_env_mismatch(void)
{
	struct civic_config live = cfg;
	struct civic_claims c;
	char *t = NULL;

	memset(&c, 0, sizeof(c));
	c.account_id = 1;
	strcpy(c.plan, "free");
	live.environment = "live";
	civic_token_issue(&live, CIVIC_AUD_CONSOLE, &c, NOW, &t);
	is_int(verify(&cfg, CIVIC_AUD_CONSOLE, t, NOW), CIVIC_E_INVALID_TOKEN,
	       "a token issued by a live deployment is rejected by a test one");
	is_int(verify(&live, CIVIC_AUD_CONSOLE, t, NOW), CIVIC_OK, "and accepted by the live one");
	free(t);
}

int main(void)
{
	const char *auds[] = {CIVIC_AUD_API, CIVIC_AUD_CONSOLE};

	plan(217);
	if (sodium_init() < 0) {
		printf("Bail out! sodium_init failed\n");
		return 1;
	}
	setup();
	test_kid();
	for (size_t i = 0; i < 2; i++) {
		test_issue(auds[i]);
		test_alg(auds[i]);
		test_tamper(auds[i]);
		test_times(auds[i]);
		test_claims(auds[i]);
		test_kids(auds[i]);
		test_size_and_garbage(auds[i]);
	}
	test_env_mismatch();
	is_int(claims_written, 0, "a failed verification never writes the claims");
	return done_testing();
}
