/* The response layer (STYLE.md 8): every byte a client sees is built
 * here: status, headers and the JSON envelope of SPEC §1
 *   success {"erc":1,"msg":"success",["total","next",]"data","meta"}
 *   error   {"erc":0,"msg":"..." or {field: reason},"code":"..."}
 * and written to the stream in one piece. */
#ifndef CIVIC_RESPONSE_H
#define CIVIC_RESPONSE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define CIVIC_HEADERS_MAX (16 * 1024)
#define CIVIC_RESPONSE_MAX (8 * 1024 * 1024)

/* Writes n bytes; returns n on success, <0 on error. */
typedef int (*civic_write_fn)(void *io, const char *buf, int n);

struct civic_response {
	int status;
	const char *content_type; /* static; NULL: application/json; charset=utf-8 */
	struct civic_buf headers; /* "Name: value\r\n" lines */
	struct civic_buf body;
};

void civic_response_init(struct civic_response *r);
/* Clears status, headers and body for the next request (keeps memory). */
void civic_response_reset(struct civic_response *r);
void civic_response_free(struct civic_response *r);

/* Adds a header. False if the name or the formatted value holds CR, LF
 * or another control character, or the header block is full. */
bool civic_response_header(struct civic_response *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The success envelope. data and meta are borrowed (may be NULL: data
 * becomes null, meta is omitted). total < 0: not a list; next may be
 * NULL (null). */
bool civic_response_success(struct civic_response *r, int status, json_object *data,
                            json_object *meta, int64_t total, const char *next);

/* The error envelope for e. msg NULL: the default message of e. fields
 * (borrowed, may be NULL) replaces msg with a {field: reason} map. A 500
 * says only "Internal error (request id ...)". */
bool civic_response_error(struct civic_response *r, enum civic_err e, const char *msg,
                          json_object *fields, const char *request_id);

/* A body of another type (the console's pages: "text/html;
 * charset=utf-8"; content_type must be a static string). False when
 * data exceeds the body cap. */
bool civic_response_body(struct civic_response *r, int status, const char *content_type,
                         const char *data, size_t len);

/* A body without envelope (e.g. 204 for OPTIONS). */
void civic_response_empty(struct civic_response *r, int status);

/* Writes "Status:", the headers, Content-Type/Length and the body. */
bool civic_response_write(const struct civic_response *r, civic_write_fn write, void *io);

/* The reason phrase of an HTTP status ("Not Found"). */
const char *civic_status_text(int status);

#endif
