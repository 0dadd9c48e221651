/* One error type for libcivic (STYLE.md 4): functions that can fail
 * return an enum civic_err; the request layer maps it to an HTTP status
 * and a machine-readable code exactly once, in err.c. */
#ifndef CIVIC_ERR_H
#define CIVIC_ERR_H

enum civic_err {
	CIVIC_OK = 0,
	CIVIC_E_INVALID_REQUEST,    /* 400 */
	CIVIC_E_VALIDATION,         /* 400, msg is a {field: reason} map */
	CIVIC_E_INVALID_API_KEY,    /* 401 */
	CIVIC_E_INVALID_CREDENTIALS,/* 401 */
	CIVIC_E_INVALID_TOKEN,      /* 401 */
	CIVIC_E_TOKEN_EXPIRED,      /* 401 */
	CIVIC_E_PERMISSION_DENIED,  /* 403 */
	CIVIC_E_PLAN_REQUIRED,      /* 403 */
	CIVIC_E_PLAN_LIMIT,         /* 403 */
	CIVIC_E_ORG_ACCESS_DENIED,  /* 403 */
	CIVIC_E_NOT_FOUND,          /* 404 */
	CIVIC_E_METHOD_NOT_ALLOWED, /* 405 */
	CIVIC_E_CONFLICT,           /* 409 */
	CIVIC_E_PAYLOAD_TOO_LARGE,  /* 413 */
	CIVIC_E_UNSUPPORTED_MEDIA,  /* 415 */
	CIVIC_E_QUOTA_EXCEEDED,     /* 429, daily */
	CIVIC_E_RATE_LIMITED,       /* 429, per minute / per hour */
	CIVIC_E_INTERNAL,           /* 500 */
	CIVIC_E_BAD_GATEWAY,        /* 502, an upstream (WhatsApp gateway) failed */
	CIVIC_E_UNAVAILABLE,        /* 503, database down */
	CIVIC_E__COUNT
};

/* HTTP status for e (200 for CIVIC_OK). */
int civic_err_status(enum civic_err e);
/* Machine-readable code ("INVALID_TOKEN"); static string, never NULL. */
const char *civic_err_code(enum civic_err e);
/* Default human message; static string, never NULL. */
const char *civic_err_message(enum civic_err e);

#endif
