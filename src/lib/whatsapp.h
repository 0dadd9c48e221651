/* The WhatsApp gateway client (docs/whatsapp-gateway.md). The gateway
 * is a separate service that holds the WhatsApp session; we speak a
 * small JSON-over-HTTP contract with it, bearer token from
 * [whatsapp] token_file:
 *
 *   POST {gateway_url}/v1/groups/join  {"invite_link"}
 *        200 {"group_id","group_name"} | 401 | 422 {"error"}
 *   POST {gateway_url}/v1/messages     {"group_id","text"}
 *        200 {"message_id"} | 401 | 422 {"error"} (unknown group)
 *
 * A call is an easy handle set up here (no signals, http/https only, no
 * redirects, connect and total timeouts from the config, response body
 * capped at 64 KiB) so the dispatcher can drive it with the multi
 * interface; civic_whatsapp_join() and civic_whatsapp_send() run one
 * call to completion. The gateway URL is the operator's, so the
 * outbound address policy (outbound.h) does not apply to it. The token
 * is never logged. */
#ifndef CIVIC_WHATSAPP_H
#define CIVIC_WHATSAPP_H

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "err.h"

#define CIVIC_WA_BODY_MAX (64 * 1024)  /* response bytes */
#define CIVIC_WA_ID_MAX 128            /* group and message ids */
#define CIVIC_WA_INVITE_PREFIX "https://chat.whatsapp.com/"

/* One request to the gateway. */
struct civic_whatsapp_call {
	CURL *easy;                 /* add it to a multi handle, or perform it */
	struct curl_slist *headers;
	struct civic_buf body;      /* the response, capped at CIVIC_WA_BODY_MAX */
	bool too_big;
	char error[CURL_ERROR_SIZE];
};

/* True when link is https://chat.whatsapp.com/ followed by 16 to 32
 * letters and digits, nothing else. Pure. */
bool civic_whatsapp_invite_valid(const char *link);

/* Prepares a POST of payload (borrowed; serialised now) to
 * cfg->whatsapp_gateway_url + path. CIVIC_E_BAD_GATEWAY with a message
 * in why when the gateway is not configured or the handle cannot be
 * made. On success free the call with civic_whatsapp_call_free; on
 * failure there is nothing to free. */
enum civic_err civic_whatsapp_call_init(struct civic_whatsapp_call *c,
                                        const struct civic_config *cfg, const char *path,
                                        json_object *payload, char *why, size_t whylen);

/* Reads the outcome of a finished call whose transfer ended with rc.
 * CIVIC_OK: *reply (caller puts) is the 200 answer's JSON object.
 * CIVIC_E_VALIDATION: the gateway refused the input (422: invite link
 * invalid or expired, unknown group); why holds its reason.
 * CIVIC_E_BAD_GATEWAY: down, timeout, 401, 5xx, oversized or invalid
 * answer; why says which, for the API client. Details are logged. */
enum civic_err civic_whatsapp_call_result(struct civic_whatsapp_call *c, CURLcode rc,
                                          json_object **reply, char *why, size_t whylen);

void civic_whatsapp_call_free(struct civic_whatsapp_call *c);

/* The group the gateway joined. */
struct civic_whatsapp_group {
	char id[CIVIC_WA_ID_MAX + 1];
};

/* Asks the gateway to join the group of invite_link (checked with
 * civic_whatsapp_invite_valid by the caller). Errors as for
 * civic_whatsapp_call_result; a 200 without a sane group_id is
 * CIVIC_E_BAD_GATEWAY. */
enum civic_err civic_whatsapp_join(const struct civic_config *cfg, const char *invite_link,
                                   struct civic_whatsapp_group *out, char *why, size_t whylen);

/* Sends text to group_id; message_id receives the gateway's id. */
enum civic_err civic_whatsapp_send(const struct civic_config *cfg, const char *group_id,
                                   const char *text, char message_id[CIVIC_WA_ID_MAX + 1],
                                   char *why, size_t whylen);

#endif
