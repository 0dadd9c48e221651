#include "tokens.h"

#include <errno.h>
#include <json-c/json.h>
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "num.h"

/* SPEC §2 asks for "at+jwt", but libjwt 1.10 (Debian 12) writes "typ"
 * as "JWT" on encode and refuses any other value on decode; API and
 * console tokens are told apart by "aud" instead (docs/DECISIONS.md). */
#define TYP "JWT"

void civic_token_kid(const struct civic_secret *key, char out[17])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, key->bytes, key->len);
	sodium_bin2hex(out, 17, h, 8);
}

enum civic_err civic_token_issue(const struct civic_config *cfg, const char *aud,
                                 struct civic_claims *c, time_t now, char **out)
{
	struct civic_buf scope;
	unsigned char rnd[16];
	char kid[17], sub[24];
	jwt_t *jwt = NULL;
	enum civic_err err = CIVIC_E_INTERNAL;

	*out = NULL;
	civic_buf_init(&scope, 1024);
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(c->jti, sizeof(c->jti), rnd, sizeof(rnd));
	c->iat = now;
	c->exp = now + (strcmp(aud, CIVIC_AUD_CONSOLE) == 0 ? cfg->console_session_hours * 3600
	                                                   : cfg->token_lifetime);
	civic_token_kid(&cfg->jwt_key, kid);
	snprintf(sub, sizeof(sub), "%lld", (long long)c->account_id);
	if (!civic_scopes_format(c->scopes, " ", &scope))
		goto done;
	if (jwt_new(&jwt) != 0 ||
	    jwt_set_alg(jwt, JWT_ALG_HS256, cfg->jwt_key.bytes, (int)cfg->jwt_key.len) != 0 ||
	    jwt_add_header(jwt, "kid", kid) != 0 ||
	    jwt_add_grant(jwt, "iss", cfg->base_url) != 0 || jwt_add_grant(jwt, "aud", aud) != 0 ||
	    jwt_add_grant(jwt, "sub", sub) != 0 || jwt_add_grant_int(jwt, "app", c->app_id) != 0 ||
	    jwt_add_grant_int(jwt, "key", c->key_id) != 0 ||
	    jwt_add_grant(jwt, "scope", civic_buf_str(&scope)) != 0 ||
	    jwt_add_grant(jwt, "plan", c->plan) != 0 ||
	    jwt_add_grant(jwt, "env", cfg->environment) != 0 ||
	    jwt_add_grant_int(jwt, "iat", now) != 0 || jwt_add_grant_int(jwt, "nbf", now) != 0 ||
	    jwt_add_grant_int(jwt, "exp", c->exp) != 0 || jwt_add_grant(jwt, "jti", c->jti) != 0)
		goto done;
	if ((*out = jwt_encode_str(jwt)) != NULL)
		err = CIVIC_OK;
done:
	jwt_free(jwt);
	civic_buf_free(&scope);
	return err;
}

/* The signing key named by the token's "kid" header, read before any
 * signature check so that a rotated-out key can still verify. NULL when
 * the header is unreadable or names no key we hold. */
static const struct civic_secret *key_for(const struct civic_config *cfg, const char *token)
{
	const char *dot = strchr(token, '.');
	unsigned char head[512];
	size_t len;
	json_object *obj = NULL, *kidv;
	const struct civic_secret *key = NULL;
	char kid[17];

	if (dot == NULL ||
	    sodium_base642bin(head, sizeof(head) - 1, token, (size_t)(dot - token), NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return NULL;
	head[len] = '\0';
	if ((obj = json_tokener_parse((const char *)head)) == NULL)
		return NULL;
	if (json_object_object_get_ex(obj, "kid", &kidv) &&
	    json_object_is_type(kidv, json_type_string)) {
		civic_token_kid(&cfg->jwt_key, kid);
		if (strcmp(kid, json_object_get_string(kidv)) == 0)
			key = &cfg->jwt_key;
		else if (cfg->jwt_prev_key.len > 0) {
			civic_token_kid(&cfg->jwt_prev_key, kid);
			if (strcmp(kid, json_object_get_string(kidv)) == 0)
				key = &cfg->jwt_prev_key;
		}
	}
	json_object_put(obj);
	return key;
}

/* Claims are read from libjwt's JSON with json-c so that every type is
 * checked: jwt_get_grant_int() answers 0 for a string or a null. */
static bool int_claim(json_object *g, const char *name, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(g, name, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

static const char *str_claim(json_object *g, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(g, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool str_is(const char *got, const char *want)
{
	return got != NULL && strcmp(got, want) == 0;
}

static enum civic_err check_claims(const struct civic_config *cfg, const char *aud,
                                   json_object *g, time_t now, struct civic_claims *c)
{
	const char *sub, *scope, *plan, *jti;
	int64_t iat, nbf, exp, app, key, acct;

	if (!str_is(str_claim(g, "iss"), cfg->base_url) || !str_is(str_claim(g, "aud"), aud) ||
	    !str_is(str_claim(g, "env"), cfg->environment))
		return CIVIC_E_INVALID_TOKEN;
	if (!int_claim(g, "iat", &iat) || !int_claim(g, "nbf", &nbf) || !int_claim(g, "exp", &exp) ||
	    !int_claim(g, "app", &app) || !int_claim(g, "key", &key))
		return CIVIC_E_INVALID_TOKEN;
	sub = str_claim(g, "sub");
	scope = str_claim(g, "scope");
	plan = str_claim(g, "plan");
	jti = str_claim(g, "jti");
	if (!civic_num_parse_str(sub, 1, INT64_MAX, &acct) || scope == NULL || plan == NULL ||
	    jti == NULL || strlen(plan) >= sizeof(c->plan) || strlen(jti) >= sizeof(c->jti) ||
	    app < 0 || key < 0)
		return CIVIC_E_INVALID_TOKEN;
	if (nbf > now + CIVIC_TOKEN_LEEWAY || iat > now + CIVIC_TOKEN_LEEWAY)
		return CIVIC_E_INVALID_TOKEN;
	if (exp + CIVIC_TOKEN_LEEWAY < now)
		return CIVIC_E_TOKEN_EXPIRED;
	if (!civic_scopes_parse(scope, &c->scopes, NULL))
		return CIVIC_E_INVALID_TOKEN;
	c->account_id = acct;
	c->app_id = app;
	c->key_id = key;
	c->iat = (time_t)iat;
	c->exp = (time_t)exp;
	snprintf(c->plan, sizeof(c->plan), "%s", plan);
	snprintf(c->jti, sizeof(c->jti), "%s", jti);
	return CIVIC_OK;
}

enum civic_err civic_token_verify(const struct civic_config *cfg, const char *aud,
                                  const char *token, time_t now, struct civic_claims *c)
{
	const struct civic_secret *key;
	struct civic_claims tmp;
	jwt_t *jwt = NULL;
	json_object *g;
	char *grants;
	enum civic_err err;

	if (token == NULL || strnlen(token, CIVIC_TOKEN_MAX + 1) > CIVIC_TOKEN_MAX)
		return CIVIC_E_INVALID_TOKEN;
	if ((key = key_for(cfg, token)) == NULL)
		return CIVIC_E_INVALID_TOKEN;
	if (jwt_decode(&jwt, token, key->bytes, (int)key->len) != 0 || jwt == NULL)
		return CIVIC_E_INVALID_TOKEN;
	/* The pin: whatever the header claimed, only HS256 is accepted. */
	if (jwt_get_alg(jwt) != JWT_ALG_HS256 || !str_is(jwt_get_header(jwt, "typ"), TYP)) {
		jwt_free(jwt);
		return CIVIC_E_INVALID_TOKEN;
	}
	grants = jwt_get_grants_json(jwt, NULL);
	jwt_free(jwt);
	if (grants == NULL || (g = json_tokener_parse(grants)) == NULL) {
		free(grants);
		return CIVIC_E_INVALID_TOKEN;
	}
	free(grants);
	memset(&tmp, 0, sizeof(tmp));
	err = check_claims(cfg, aud, g, now, &tmp);
	json_object_put(g);
	if (err == CIVIC_OK)
		*c = tmp;
	return err;
}
