#include "whatsapp.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "input.h"
#include "log.h"

#define URL_MAX 4096
#define CONNECT_TIMEOUT_MAX 5L /* seconds; the total timeout may be longer */

bool civic_whatsapp_invite_valid(const char *link)
{
	static const char alnum[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t plen = strlen(CIVIC_WA_INVITE_PREFIX), n;

	if (link == NULL || strncmp(link, CIVIC_WA_INVITE_PREFIX, plen) != 0)
		return false;
	n = strlen(link + plen);
	return n >= 16 && n <= 32 && strspn(link + plen, alnum) == n;
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	struct civic_whatsapp_call *c = user;

	if (!civic_buf_add(&c->body, data, size * n)) {
		c->too_big = true;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	return size * n;
}

/* The token goes into an Authorization header: visible ASCII only. */
static bool token_usable(const struct civic_secret *t)
{
	if (t->len == 0)
		return false;
	for (size_t i = 0; i < t->len; i++)
		if (t->bytes[i] <= 0x20 || t->bytes[i] >= 0x7f)
			return false;
	return true;
}

static bool set_bearer(CURL *h, const struct civic_secret *t)
{
	char token[CIVIC_SECRET_MAX + 1];
	bool ok;

	memcpy(token, t->bytes, t->len);
	token[t->len] = '\0';
	/* curl keeps its own copy of the string. */
	ok = curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER) == CURLE_OK &&
	     curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, token) == CURLE_OK;
	sodium_memzero(token, sizeof(token));
	return ok;
}

static bool set_options(struct civic_whatsapp_call *c, const struct civic_config *cfg,
                        const char *url, const char *json)
{
	CURL *h = c->easy;
	long timeout = cfg->whatsapp_timeout;

	c->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (c->headers)
		c->headers = curl_slist_append(c->headers, "Accept: application/json");
	return c->headers && curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_PROXY, "") == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
	                        timeout < CONNECT_TIMEOUT_MAX ? timeout : CONNECT_TIMEOUT_MAX) ==
	               CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CIVIC_WA_BODY_MAX) ==
	               CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, json) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_WRITEDATA, c) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->error) == CURLE_OK &&
	       curl_easy_setopt(h, CURLOPT_USERAGENT, "civicsentinel") == CURLE_OK &&
	       set_bearer(h, &cfg->whatsapp_token);
}

enum civic_err civic_whatsapp_call_init(struct civic_whatsapp_call *c,
                                        const struct civic_config *cfg, const char *path,
                                        json_object *payload, char *why, size_t whylen)
{
	const char *base = cfg->whatsapp_gateway_url;
	struct civic_buf url;
	size_t n;
	bool ok;

	memset(c, 0, sizeof(*c));
	if (base == NULL || *base == '\0') {
		snprintf(why, whylen, "The WhatsApp gateway is not configured on this server.");
		return CIVIC_E_BAD_GATEWAY;
	}
	if (!token_usable(&cfg->whatsapp_token)) {
		civic_log_error("[whatsapp] token_file must hold visible ASCII characters only");
		snprintf(why, whylen, "The WhatsApp gateway is not configured correctly on this server.");
		return CIVIC_E_BAD_GATEWAY;
	}
	for (n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
		;
	civic_buf_init(&url, URL_MAX);
	civic_buf_init(&c->body, CIVIC_WA_BODY_MAX);
	ok = civic_buf_add(&url, base, n) && civic_buf_adds(&url, path) &&
	     (c->easy = curl_easy_init()) != NULL &&
	     set_options(c, cfg, civic_buf_str(&url),
	                 json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN));
	civic_buf_free(&url);
	if (!ok) {
		civic_whatsapp_call_free(c);
		civic_log_error("cannot set up a request to the WhatsApp gateway");
		snprintf(why, whylen, "The WhatsApp gateway could not be called.");
		return CIVIC_E_BAD_GATEWAY;
	}
	return CIVIC_OK;
}

void civic_whatsapp_call_free(struct civic_whatsapp_call *c)
{
	if (c->easy)
		curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->headers);
	civic_buf_free(&c->body);
	memset(c, 0, sizeof(*c));
}

/* The transfer itself failed: which way, in words for the client. */
static enum civic_err transfer_failed(struct civic_whatsapp_call *c, CURLcode rc, char *why,
                                      size_t whylen)
{
	civic_log_warn("WhatsApp gateway: %s", c->error[0] ? c->error : curl_easy_strerror(rc));
	if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(why, whylen, "The WhatsApp gateway did not answer in time.");
	else if (c->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		snprintf(why, whylen, "The WhatsApp gateway sent an oversized answer.");
	else
		snprintf(why, whylen, "The WhatsApp gateway could not be reached.");
	return CIVIC_E_BAD_GATEWAY;
}

/* The "error" of a 422 answer, as printable ASCII of at most 200 bytes. */
static void refusal_reason(const struct civic_buf *body, char *why, size_t whylen)
{
	json_object *o = NULL, *e;
	const char *s = NULL;
	size_t i = 0;

	if (body->len > 0 && civic_input_parse_json(body->data, body->len, &o) == CIVIC_OK &&
	    json_object_object_get_ex(o, "error", &e) && json_object_is_type(e, json_type_string))
		s = json_object_get_string(e);
	if (s == NULL || *s == '\0')
		s = "was refused by the WhatsApp gateway";
	for (; s[i] && i < 200 && i + 1 < whylen; i++)
		why[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (whylen > 0)
		why[i] = '\0';
	json_object_put(o);
}

enum civic_err civic_whatsapp_call_result(struct civic_whatsapp_call *c, CURLcode rc,
                                          json_object **reply, char *why, size_t whylen)
{
	long status = 0;

	*reply = NULL;
	if (rc != CURLE_OK)
		return transfer_failed(c, rc, why, whylen);
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status == 422) {
		refusal_reason(&c->body, why, whylen);
		return CIVIC_E_VALIDATION;
	}
	if (status < 200 || status > 299) {
		civic_log_warn("WhatsApp gateway answered HTTP %ld", status);
		if (status == 401 || status == 403)
			snprintf(why, whylen, "The WhatsApp gateway refused this server's credentials.");
		else
			snprintf(why, whylen, "The WhatsApp gateway failed (HTTP %ld).", status);
		return CIVIC_E_BAD_GATEWAY;
	}
	if (c->body.len == 0 || civic_input_parse_json(c->body.data, c->body.len, reply) != CIVIC_OK ||
	    !json_object_is_type(*reply, json_type_object)) {
		json_object_put(*reply);
		*reply = NULL;
		civic_log_warn("WhatsApp gateway answered HTTP %ld without a JSON object", status);
		snprintf(why, whylen, "The WhatsApp gateway sent an invalid answer.");
		return CIVIC_E_BAD_GATEWAY;
	}
	return CIVIC_OK;
}

/* Runs one call to completion: payload (taken) to path. */
static enum civic_err perform(const struct civic_config *cfg, const char *path,
                              json_object *payload, json_object **reply, char *why,
                              size_t whylen)
{
	struct civic_whatsapp_call c;
	enum civic_err err;

	err = civic_whatsapp_call_init(&c, cfg, path, payload, why, whylen);
	json_object_put(payload);
	if (err != CIVIC_OK)
		return err;
	err = civic_whatsapp_call_result(&c, curl_easy_perform(c.easy), reply, why, whylen);
	civic_whatsapp_call_free(&c);
	return err;
}

/* reply[name] as an id: 1..CIVIC_WA_ID_MAX visible ASCII characters. */
static bool reply_id(json_object *reply, const char *name, char out[CIVIC_WA_ID_MAX + 1])
{
	json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(reply, name, &v) || !json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	n = strlen(s);
	if (n == 0 || n > CIVIC_WA_ID_MAX || (size_t)json_object_get_string_len(v) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return false;
	memcpy(out, s, n + 1);
	return true;
}

/* A 200 answer without the id it must carry. */
static enum civic_err missing_id(const char *name, char *why, size_t whylen)
{
	civic_log_warn("WhatsApp gateway answered without a valid %s", name);
	snprintf(why, whylen, "The WhatsApp gateway sent an invalid answer.");
	return CIVIC_E_BAD_GATEWAY;
}

enum civic_err civic_whatsapp_join(const struct civic_config *cfg, const char *invite_link,
                                   struct civic_whatsapp_group *out, char *why, size_t whylen)
{
	json_object *payload = json_object_new_object(), *reply = NULL;
	enum civic_err err;

	json_object_object_add(payload, "invite_link", json_object_new_string(invite_link));
	err = perform(cfg, "/v1/groups/join", payload, &reply, why, whylen);
	if (err == CIVIC_OK && !reply_id(reply, "group_id", out->id))
		err = missing_id("group_id", why, whylen);
	json_object_put(reply);
	return err;
}

enum civic_err civic_whatsapp_send(const struct civic_config *cfg, const char *group_id,
                                   const char *text, char message_id[CIVIC_WA_ID_MAX + 1],
                                   char *why, size_t whylen)
{
	json_object *payload = json_object_new_object(), *reply = NULL;
	enum civic_err err;

	json_object_object_add(payload, "group_id", json_object_new_string(group_id));
	json_object_object_add(payload, "text", json_object_new_string(text));
	err = perform(cfg, "/v1/messages", payload, &reply, why, whylen);
	if (err == CIVIC_OK && !reply_id(reply, "message_id", message_id))
		err = missing_id("message_id", why, whylen);
	json_object_put(reply);
	return err;
}
