/* The shared request loop (STYLE.md 2, after kcgi's page table). A
 * responder declares {method, path pattern, auth, scope, body fields,
 * handler} rows and calls civic_serve(); the loop does 404/405, CORS,
 * body limits and parsing, authentication, scope, quota, the envelope
 * and the headers. A handler only does its resource's work: it fills
 * ctx->data (and ctx->total/next for lists) and returns CIVIC_OK, or
 * returns an error, optionally with civic_fail() for a custom message. */
#ifndef CIVIC_SERVER_H
#define CIVIC_SERVER_H

#include <json-c/json.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "db.h"
#include "err.h"
#include "input.h"
#include "quota.h"
#include "request.h"
#include "response.h"
#include "scopes.h"
#include "tokens.h"

enum civic_auth {
	CIVIC_AUTH_PUBLIC,    /* anonymous allowed; a bearer token, if sent, must be valid */
	CIVIC_AUTH_TOKEN,     /* bearer token, charged against the daily quota */
	CIVIC_AUTH_UNMETERED, /* bearer token, never charged (/v1/usage/) */
	CIVIC_AUTH_KEYPAIR,   /* the handler authenticates a key pair itself */
};

struct civic_ctx;
typedef enum civic_err (*civic_handler)(struct civic_ctx *ctx);

/* page >= 1, page_size 1..100 (SPEC §5), read by the loop for paged
 * routes before the request is charged. */
struct civic_paging {
	int64_t page, size, offset;
};

struct civic_route {
	const char *method;   /* "GET", "POST", "PATCH", "DELETE" */
	const char *pattern;  /* "/v1/profile/{id}/": {id} is a positive integer */
	enum civic_auth auth;
	civic_scopes scope;   /* required scope, CIVIC_SCOPE_NONE for none */
	const struct civic_field *fields; /* JSON body table, or NULL (no body) */
	size_t nfields;
	civic_handler handler;
	bool paged;           /* a list: the loop validates page/page_size first */
};

struct civic_ctx {
	const struct civic_config *cfg;
	struct civic_db *db;
	struct civic_request *req;
	const struct civic_route *route;
	time_t now;
	int64_t id;                 /* the {id} of the pattern, 0 if none */
	struct civic_paging paging; /* paged routes: validated paging */
	/* authentication, when the route has a token */
	bool authed;
	struct civic_claims claims;
	struct civic_usage usage;
	struct civic_anon anon;     /* anonymous requests to public routes */
	/* the validated body, one value per route field */
	struct civic_value vals[16];
	json_object *body;
	/* output */
	int status;                 /* 200 unless the handler sets 201 */
	json_object *data;          /* owned by ctx */
	int64_t total;              /* >= 0 for lists */
	char next[CIVIC_PATH_MAX + CIVIC_QUERY_MAX + 256];
	char errmsg[256];
	json_object *errfields;     /* owned by ctx */
	struct civic_response *resp;
};

/* A responder's route table under its program name. The API responders
 * export theirs (src/endpoints/endpoints.h) so the console can run the
 * same handlers with civic_invoke. */
struct civic_api {
	const char *program;
	const struct civic_route *routes;
	size_t nroutes;
};

/* Sets a custom message for the error e and returns e. */
enum civic_err civic_fail(struct civic_ctx *ctx, enum civic_err e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Whether a FastCGI listening socket bound to sa (len bytes) may serve:
 * a unix socket or a loopback address (127.0.0.0/8, ::1, ::ffff:127.x)
 * may; any other address (0.0.0.0 and :: included) or family may not.
 * The responders trust what the web server sends (client address,
 * headers), so only the web server on this host may reach them. */
bool civic_listener_allowed(const struct sockaddr *sa, socklen_t len);

/* Checks fd (0 when a web server starts a responder): true when it is
 * not a listening socket (plain CGI: a pipe, a file, a connected
 * socket, a closed fd) or one civic_listener_allowed accepts. False,
 * with the reason in why (whylen bytes, may be 0), for a listening
 * socket that must not serve or cannot be inspected. */
bool civic_listener_check(int fd, char *why, size_t whylen);

/* Serves requests as FastCGI (or once as plain CGI) until shutdown,
 * after civic_listener_check(0): a refused socket is logged and serves
 * nothing. program names the responder in logs. Returns the process
 * exit code. */
int civic_serve(const char *program, const struct civic_route *routes, size_t nroutes);

/* Serves requests like civic_serve, but each one goes to handle, which
 * writes the whole answer into ctx->resp (the console's HTML pages).
 * early is CIVIC_OK, or the error the loop met before routing (a
 * malformed request, an oversized body, a broken setup), which handle
 * must answer. */
typedef void (*civic_page_handler)(struct civic_ctx *ctx, enum civic_err early);
int civic_serve_pages(const char *program, civic_page_handler handle);

/* Runs the route of api for (method, path) on behalf of an account the
 * caller has already authenticated: ctx->claims.account_id, with
 * ctx->claims.scopes the scopes it may use (the console passes its
 * plan's). No bearer token is read and no quota is charged. body (a JSON
 * object, borrowed; may be NULL) is checked against the route's field
 * table as the API checks a request body; paging and filters come from
 * ctx->req's query. Fills ctx->data, ctx->status, ctx->total, and on
 * errors ctx->errmsg / ctx->errfields, exactly as for an API request.
 * CIVIC_E_NOT_FOUND when api has no such route. */
enum civic_err civic_invoke(struct civic_ctx *ctx, const struct civic_api *api,
                            const char *method, const char *path, json_object *body);

/* Handles one parsed request: exposed for tests and fuzzers. */
void civic_handle(struct civic_ctx *ctx, const struct civic_route *routes, size_t nroutes);

/* Matches path against pattern; on success *id receives {id} (or 0). */
bool civic_route_match(const char *pattern, const char *path, int64_t *id);

#endif
