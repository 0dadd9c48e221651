#include "response.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

void civic_response_init(struct civic_response *r)
{
	r->status = 200;
	civic_buf_init(&r->headers, CIVIC_HEADERS_MAX);
	civic_buf_init(&r->body, CIVIC_RESPONSE_MAX);
}

void civic_response_reset(struct civic_response *r)
{
	r->status = 200;
	r->content_type = NULL;
	civic_buf_reset(&r->headers);
	civic_buf_reset(&r->body);
}

void civic_response_free(struct civic_response *r)
{
	civic_buf_free(&r->headers);
	civic_buf_free(&r->body);
}

static bool clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

bool civic_response_header(struct civic_response *r, const char *name, const char *fmt, ...)
{
	char value[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(value) || !clean(name) || !clean(value) ||
	    strchr(name, ':') != NULL)
		return false;
	return civic_buf_printf(&r->headers, "%s: %s\r\n", name, value);
}

static bool put_json(struct civic_response *r, json_object *root)
{
	const char *s = json_object_to_json_string_ext(root, JSON_FLAGS);

	civic_buf_reset(&r->body);
	return s != NULL && civic_buf_adds(&r->body, s) && civic_buf_adds(&r->body, "\n");
}

bool civic_response_success(struct civic_response *r, int status, json_object *data,
                            json_object *meta, int64_t total, const char *next)
{
	json_object *root = json_object_new_object();
	bool ok;

	json_object_object_add(root, "erc", json_object_new_int(1));
	json_object_object_add(root, "msg", json_object_new_string("success"));
	if (total >= 0) {
		json_object_object_add(root, "total", json_object_new_int64(total));
		json_object_object_add(root, "next", next ? json_object_new_string(next) : NULL);
	}
	json_object_object_add(root, "data", data ? json_object_get(data) : NULL);
	if (meta)
		json_object_object_add(root, "meta", json_object_get(meta));
	r->status = status;
	ok = put_json(r, root);
	json_object_put(root);
	return ok;
}

bool civic_response_error(struct civic_response *r, enum civic_err e, const char *msg,
                          json_object *fields, const char *request_id)
{
	json_object *root = json_object_new_object();
	char internal[128];
	bool ok;

	if (e == CIVIC_OK || (unsigned)e >= CIVIC_E__COUNT)
		e = CIVIC_E_INTERNAL;
	if (e == CIVIC_E_INTERNAL) {
		/* Never leak details of a server fault: the id finds the log line. */
		snprintf(internal, sizeof(internal), "Internal error (request id %s)",
		         request_id ? request_id : "-");
		msg = internal;
		fields = NULL;
	}
	json_object_object_add(root, "erc", json_object_new_int(0));
	if (fields)
		json_object_object_add(root, "msg", json_object_get(fields));
	else
		json_object_object_add(root, "msg",
		                       json_object_new_string(msg ? msg : civic_err_message(e)));
	json_object_object_add(root, "code", json_object_new_string(civic_err_code(e)));
	r->status = civic_err_status(e);
	ok = put_json(r, root);
	json_object_put(root);
	return ok;
}

bool civic_response_body(struct civic_response *r, int status, const char *content_type,
                         const char *data, size_t len)
{
	r->status = status;
	r->content_type = content_type;
	civic_buf_reset(&r->body);
	return civic_buf_add(&r->body, data, len);
}

void civic_response_empty(struct civic_response *r, int status)
{
	r->status = status;
	civic_buf_reset(&r->body);
}

const char *civic_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

bool civic_response_write(const struct civic_response *r, civic_write_fn write, void *io)
{
	char head[256];
	int n;

	if (r->status == 204)
		n = snprintf(head, sizeof(head), "Status: 204 No Content\r\n");
	else
		n = snprintf(head, sizeof(head),
		             "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n",
		             r->status, civic_status_text(r->status),
		             r->content_type ? r->content_type : "application/json; charset=utf-8",
		             r->body.len);
	if (n < 0 || (size_t)n >= sizeof(head) || write(io, head, n) != n)
		return false;
	if (r->headers.len && write(io, r->headers.data, (int)r->headers.len) != (int)r->headers.len)
		return false;
	if (write(io, "\r\n", 2) != 2)
		return false;
	if (r->status != 204 && r->body.len &&
	    write(io, r->body.data, (int)r->body.len) != (int)r->body.len)
		return false;
	return true;
}
