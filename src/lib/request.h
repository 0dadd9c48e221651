/* The request layer: a view over the CGI/FastCGI parameters (libfcgi's
 * FCGX_ParamArray, or environ in plain CGI) plus a body read under a
 * 64 KiB cap. Parsing is pure, so unit tests and fuzzers drive it
 * without a web server. */
#ifndef CIVIC_REQUEST_H
#define CIVIC_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define CIVIC_BODY_MAX (64 * 1024)
#define CIVIC_PATH_MAX 1024
#define CIVIC_QUERY_MAX 4096
#define CIVIC_REQUEST_ID_MAX 64

/* Reads up to n bytes into buf; returns bytes read, 0 at end, <0 on error. */
typedef int (*civic_read_fn)(void *io, char *buf, int n);

struct civic_request {
	char **envp;           /* NULL-terminated "NAME=value" array; not owned */
	const char *method;    /* REQUEST_METHOD, "" if unset */
	char path[CIVIC_PATH_MAX + 1];   /* percent-decoded path, no query */
	const char *query;     /* raw QUERY_STRING, "" if unset */
	const char *content_type; /* may be NULL */
	const char *client_ip; /* REMOTE_ADDR, "" if unset */
	int64_t content_length; /* -1 when absent */
	char request_id[CIVIC_REQUEST_ID_MAX + 1];
	struct civic_buf body; /* capped at CIVIC_BODY_MAX */
};

/* Looks up a parameter by its CGI name ("REQUEST_METHOD"); NULL if absent. */
const char *civic_request_param(const struct civic_request *r, const char *name);

/* Looks up an HTTP header by its wire name ("X-API-Key"); NULL if absent. */
const char *civic_request_header(const struct civic_request *r, const char *name);

/* Fills r from envp (not copied: envp must outlive r). r must be zeroed
 * or parsed before (its body buffer is reused). Errors:
 * CIVIC_E_INVALID_REQUEST for a malformed path, query or Content-Length,
 * CIVIC_E_PAYLOAD_TOO_LARGE for a declared body over the cap. The
 * request id is set in every case (echoed if sane, else random). */
enum civic_err civic_request_parse(struct civic_request *r, char **envp);

/* Reads the body (Content-Length bytes) through read. More than
 * CIVIC_BODY_MAX bytes is CIVIC_E_PAYLOAD_TOO_LARGE. */
enum civic_err civic_request_read_body(struct civic_request *r, civic_read_fn read, void *io);

/* Frees what r owns (the body); r may be parsed again afterwards. */
void civic_request_free(struct civic_request *r);

/* The value of query parameter name, percent-decoded, into out. Returns
 * 1 if present, 0 if absent, -1 if malformed, repeated or too long. */
int civic_request_query(const struct civic_request *r, const char *name, char *out,
                        size_t outlen);

/* True when the Content-Type is application/json (parameters allowed). */
bool civic_request_is_json(const struct civic_request *r);

/* Percent-decodes s[0..len) into out (outlen bytes incl. NUL). '+' is a
 * space only when plus_is_space. False on a bad escape, a NUL byte or
 * overflow. */
bool civic_percent_decode(const char *s, size_t len, bool plus_is_space, char *out,
                          size_t outlen);

#endif
