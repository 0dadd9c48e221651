#include "err.h"

static const struct {
	int status;
	const char *code;
	const char *message;
} errs[CIVIC_E__COUNT] = {
	[CIVIC_OK] = {200, "OK", "success"},
	[CIVIC_E_INVALID_REQUEST] = {400, "INVALID_REQUEST", "The request is malformed."},
	[CIVIC_E_VALIDATION] = {400, "VALIDATION_ERROR", "Some fields are invalid."},
	[CIVIC_E_INVALID_API_KEY] = {401, "INVALID_API_KEY", "Invalid API key."},
	[CIVIC_E_INVALID_CREDENTIALS] = {401, "INVALID_CREDENTIALS", "Invalid API credentials."},
	[CIVIC_E_INVALID_TOKEN] = {401, "INVALID_TOKEN", "Missing or invalid bearer token."},
	[CIVIC_E_TOKEN_EXPIRED] = {401, "TOKEN_EXPIRED", "The bearer token has expired; exchange your key pair again."},
	[CIVIC_E_PERMISSION_DENIED] = {403, "PERMISSION_DENIED", "This key lacks the scope this endpoint requires."},
	[CIVIC_E_PLAN_REQUIRED] = {403, "PLAN_REQUIRED", "Your plan does not include this feature."},
	[CIVIC_E_PLAN_LIMIT] = {403, "PLAN_LIMIT", "Your plan's capacity is reached; upgrade to add more."},
	[CIVIC_E_ORG_ACCESS_DENIED] = {403, "ORG_ACCESS_DENIED", "That organization is outside your hierarchy."},
	[CIVIC_E_NOT_FOUND] = {404, "NOT_FOUND", "Not found."},
	[CIVIC_E_METHOD_NOT_ALLOWED] = {405, "METHOD_NOT_ALLOWED", "Method not allowed on this resource."},
	[CIVIC_E_CONFLICT] = {409, "CONFLICT", "The resource already exists."},
	[CIVIC_E_PAYLOAD_TOO_LARGE] = {413, "PAYLOAD_TOO_LARGE", "The request body exceeds 64 KiB."},
	[CIVIC_E_UNSUPPORTED_MEDIA] = {415, "UNSUPPORTED_MEDIA_TYPE", "Send the body as Content-Type: application/json."},
	[CIVIC_E_QUOTA_EXCEEDED] = {429, "QUOTA_EXCEEDED", "Daily API quota reached."},
	[CIVIC_E_RATE_LIMITED] = {429, "RATE_LIMITED", "Too many requests; slow down."},
	[CIVIC_E_INTERNAL] = {500, "INTERNAL", "Internal error."},
	[CIVIC_E_BAD_GATEWAY] = {502, "GATEWAY_ERROR", "An upstream service failed; nothing was changed."},
	[CIVIC_E_UNAVAILABLE] = {503, "UNAVAILABLE", "The service is temporarily unavailable; retry shortly."},
};

static enum civic_err clamp(enum civic_err e)
{
	return ((unsigned)e < CIVIC_E__COUNT) ? e : CIVIC_E_INTERNAL;
}

int civic_err_status(enum civic_err e) { return errs[clamp(e)].status; }
const char *civic_err_code(enum civic_err e) { return errs[clamp(e)].code; }
const char *civic_err_message(enum civic_err e) { return errs[clamp(e)].message; }
