/* POST /v1/developer-token/: exchanges a key pair (JSON body, or the
 * X-API-Key and X-API-Secret headers) for a short-lived access token. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "apikeys.h"
#include "server.h"
#include "timeutil.h"

enum { F_API_KEY, F_API_SECRET };

static const struct civic_field token_fields[] = {
	[F_API_KEY] = {"api_key", CIVIC_F_TOKEN, 0, 1, 128},
	[F_API_SECRET] = {"api_secret", CIVIC_F_TOKEN, 0, 1, 128},
};

static json_object *token_json(const struct civic_claims *c, const char *access)
{
	json_object *d = json_object_new_object();
	char exp[32];

	civic_time_rfc3339(c->exp, exp, sizeof(exp));
	json_object_object_add(d, "access", json_object_new_string(access));
	json_object_object_add(d, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(d, "expires_in", json_object_new_int64(c->exp - c->iat));
	json_object_object_add(d, "expires_at", json_object_new_string(exp));
	json_object_object_add(d, "scopes", civic_scopes_json(c->scopes));
	json_object_object_add(d, "application_id", json_object_new_int64(c->app_id));
	return d;
}

static enum civic_err exchange(struct civic_ctx *ctx)
{
	const char *key = ctx->vals[F_API_KEY].str, *secret = ctx->vals[F_API_SECRET].str;
	struct civic_keyauth ka;
	struct civic_claims c;
	const char *why;
	char *access = NULL;
	enum civic_err err;

	/* The body wins; the headers are the alternative for clients that
	 * cannot send one. Mixing the two is refused as ambiguous. */
	if (!ctx->vals[F_API_KEY].present && !ctx->vals[F_API_SECRET].present) {
		key = civic_request_header(ctx->req, "X-API-Key");
		secret = civic_request_header(ctx->req, "X-API-Secret");
	}
	if (key == NULL || secret == NULL)
		return civic_fail(ctx, CIVIC_E_INVALID_API_KEY,
		                  "Send api_key and api_secret in a JSON body, or the X-API-Key and "
		                  "X-API-Secret headers.");
	err = civic_apikey_authenticate(ctx->db, ctx->cfg, key, secret, &ka, &why);
	if (err != CIVIC_OK)
		return why ? civic_fail(ctx, err, "%s", why) : err;
	memset(&c, 0, sizeof(c));
	c.account_id = ka.account_id;
	c.app_id = ka.app_id;
	c.key_id = ka.key_id;
	c.scopes = ka.scopes;
	memcpy(c.plan, ka.plan, sizeof(c.plan));
	if ((err = civic_token_issue(ctx->cfg, CIVIC_AUD_API, &c, ctx->now, &access)) != CIVIC_OK)
		return err;
	ctx->data = token_json(&c, access);
	sodium_memzero(access, strlen(access));
	free(access);
	return CIVIC_OK;
}

static const struct civic_route routes[] = {
	{.method = "POST", .pattern = "/v1/developer-token/", .auth = CIVIC_AUTH_KEYPAIR,
	 .fields = token_fields, .nfields = CIVIC_NELEM(token_fields), .handler = exchange},
};

int main(void)
{
	return civic_serve("civic-token", routes, CIVIC_NELEM(routes));
}
