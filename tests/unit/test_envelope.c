/* The response layer (SPEC §1): the success and error envelopes parsed
 * back with json-c, the 500 body that never leaks, header injection
 * refusal, the CGI response bytes, and every civic_err's status/code. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "response.h"
#include "tap.h"

static struct civic_response R;

/* Parses the body; NULL (and a diag) when it is not one JSON object. */
static json_object *body_json(void)
{
	json_object *o;

	if (R.body.len == 0 || R.body.data[R.body.len - 1] != '\n') {
		diag("body does not end with a newline");
		return NULL;
	}
	o = json_tokener_parse(civic_buf_str(&R.body));
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		diag("body is not a JSON object: %s", civic_buf_str(&R.body));
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* True when o's members are exactly the comma-separated names. */
static bool keys_are(json_object *o, const char *names)
{
	char buf[256], *save = NULL;
	int n = 0;

	if (o == NULL)
		return false;
	snprintf(buf, sizeof(buf), "%s", names);
	for (char *k = strtok_r(buf, ",", &save); k; k = strtok_r(NULL, ",", &save), n++)
		if (!json_object_object_get_ex(o, k, NULL))
			return false;
	if (json_object_object_length(o) != n)
		diag("members: %s", json_object_to_json_string(o));
	return json_object_object_length(o) == n;
}

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return v;
}

static const char *sget(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t iget(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -999;
}

static void test_success(void)
{
	json_object *data = json_tokener_parse("{\"id\":1,\"name\":\"x\"}");
	json_object *meta = json_tokener_parse("{\"usage\":{\"plan\":\"free\",\"used_today\":3}}");
	json_object *rows = json_tokener_parse("[{\"id\":1},{\"id\":2}]");
	json_object *o;

	ok(civic_response_success(&R, 200, data, meta, -1, NULL), "success envelope built");
	is_int(R.status, 200, "status 200");
	o = body_json();
	ok(keys_are(o, "erc,msg,data,meta"), "success has exactly erc, msg, data, meta");
	ok(json_object_is_type(get(o, "erc"), json_type_int) && iget(o, "erc") == 1, "erc is 1");
	is_str(sget(o, "msg"), "success", "msg is \"success\"");
	ok(iget(get(o, "data"), "id") == 1 && strcmp(sget(get(o, "data"), "name"), "x") == 0,
	   "data is the handler's object");
	is_str(sget(get(get(o, "meta"), "usage"), "plan"), "free", "meta.usage passed through");
	json_object_put(o);

	ok(civic_response_success(&R, 201, data, NULL, -1, NULL), "success without meta");
	is_int(R.status, 201, "status 201 kept");
	o = body_json();
	ok(keys_are(o, "erc,msg,data"), "meta omitted when NULL; no total/next when not a list");
	json_object_put(o);

	ok(civic_response_success(&R, 200, NULL, meta, -1, NULL), "success with NULL data");
	o = body_json();
	ok(keys_are(o, "erc,msg,data,meta") && get(o, "data") == NULL &&
	       json_object_object_get_ex(o, "data", NULL),
	   "data: null is present");
	json_object_put(o);

	ok(civic_response_success(&R, 200, rows, meta, 42, "https://api.example/v1/x/?page=2"),
	   "list envelope built");
	o = body_json();
	ok(keys_are(o, "erc,msg,total,next,data,meta"), "list has top-level total and next");
	is_int(iget(o, "total"), 42, "total");
	is_str(sget(o, "next"), "https://api.example/v1/x/?page=2", "next is the absolute URL");
	ok(json_object_is_type(get(o, "data"), json_type_array) &&
	       json_object_array_length(get(o, "data")) == 2,
	   "data is the array");
	ok(strstr(civic_buf_str(&R.body), "\\/") == NULL, "slashes are not escaped in the body");
	json_object_put(o);

	ok(civic_response_success(&R, 200, rows, meta, 0, NULL), "last page");
	o = body_json();
	ok(keys_are(o, "erc,msg,total,next,data,meta") && get(o, "next") == NULL &&
	       iget(o, "total") == 0,
	   "next: null and total 0 are present");
	json_object_put(o);

	/* borrowed: still ours to free, and unchanged */
	is_str(json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN),
	       "{\"id\":1,\"name\":\"x\"}", "data is borrowed, not modified");
	json_object_put(data);
	json_object_put(meta);
	json_object_put(rows);
}

static void test_errors(void)
{
	json_object *fields = json_tokener_parse(
	    "{\"email\":\"must be a valid email address\",\"country\":\"is required\"}");
	json_object *o;

	ok(civic_response_error(&R, CIVIC_E_INVALID_TOKEN, NULL, NULL, "rid"), "error built");
	is_int(R.status, 401, "INVALID_TOKEN is 401");
	o = body_json();
	ok(keys_are(o, "erc,msg,code"), "error has exactly erc, msg, code");
	ok(json_object_is_type(get(o, "erc"), json_type_int) && iget(o, "erc") == 0, "erc is 0");
	is_str(sget(o, "code"), "INVALID_TOKEN", "code");
	is_str(sget(o, "msg"), civic_err_message(CIVIC_E_INVALID_TOKEN), "default message");
	json_object_put(o);

	civic_response_error(&R, CIVIC_E_NOT_FOUND, "No such destination.", NULL, "rid");
	o = body_json();
	ok(R.status == 404 && strcmp(sget(o, "msg"), "No such destination.") == 0 &&
	       strcmp(sget(o, "code"), "NOT_FOUND") == 0,
	   "custom message on a 404");
	json_object_put(o);

	civic_response_error(&R, CIVIC_E_INVALID_API_KEY, "This is a live key; this is test.", NULL,
	                     "rid");
	o = body_json();
	is_str(sget(o, "msg"), "This is a live key; this is test.", "custom 401 message kept");
	json_object_put(o);

	civic_response_error(&R, CIVIC_E_VALIDATION, "ignored", fields, "rid");
	is_int(R.status, 400, "VALIDATION_ERROR is 400");
	o = body_json();
	ok(keys_are(o, "erc,msg,code"), "validation error has erc, msg, code");
	ok(json_object_is_type(get(o, "msg"), json_type_object), "validation msg is an object");
	is_str(sget(get(o, "msg"), "email"), "must be a valid email address", "field reason");
	ok(json_object_object_length(get(o, "msg")) == 2, "every field is in the map");
	is_str(sget(o, "code"), "VALIDATION_ERROR", "code VALIDATION_ERROR");
	json_object_put(o);

	/* 500 never leaks */
	civic_response_error(&R, CIVIC_E_INTERNAL,
	                     "mysql: Access denied for user civic (pw hunter2)", fields, "abc123");
	is_int(R.status, 500, "INTERNAL is 500");
	o = body_json();
	ok(keys_are(o, "erc,msg,code"), "500 has erc, msg, code");
	is_str(sget(o, "msg"), "Internal error (request id abc123)",
	       "500 says only \"Internal error (request id X)\"");
	is_str(sget(o, "code"), "INTERNAL", "code INTERNAL");
	ok(strstr(civic_buf_str(&R.body), "hunter2") == NULL &&
	       strstr(civic_buf_str(&R.body), "mysql") == NULL &&
	       strstr(civic_buf_str(&R.body), "email") == NULL,
	   "neither the custom message nor the fields reach a 500 body");
	json_object_put(o);

	civic_response_error(&R, CIVIC_E_INTERNAL, NULL, NULL, NULL);
	o = body_json();
	is_str(sget(o, "msg"), "Internal error (request id -)", "500 without a request id");
	json_object_put(o);

	civic_response_error(&R, CIVIC_OK, "not an error", NULL, "r1");
	o = body_json();
	ok(R.status == 500 && strcmp(sget(o, "msg"), "Internal error (request id r1)") == 0,
	   "CIVIC_OK passed as an error becomes a plain 500");
	json_object_put(o);

	civic_response_error(&R, (enum civic_err)999, "secret detail", NULL, "r2");
	o = body_json();
	ok(R.status == 500 && strcmp(sget(o, "code"), "INTERNAL") == 0 &&
	       strcmp(sget(o, "msg"), "Internal error (request id r2)") == 0,
	   "an out-of-range error is a 500 that says only Internal error (got %s)",
	   o ? sget(o, "msg") : "?");
	json_object_put(o);

	/* The fields object is borrowed. */
	ok(json_object_object_length(fields) == 2, "fields are borrowed, unchanged");
	json_object_put(fields);
}

/* Every civic_err against SPEC §1 (and err.h for CONFLICT). */
static void test_err_table(void)
{
	static const struct {
		enum civic_err e;
		int status;
		const char *code;
	} t[] = {
	    {CIVIC_OK, 200, "OK"},
	    {CIVIC_E_INVALID_REQUEST, 400, "INVALID_REQUEST"},
	    {CIVIC_E_VALIDATION, 400, "VALIDATION_ERROR"},
	    {CIVIC_E_INVALID_API_KEY, 401, "INVALID_API_KEY"},
	    {CIVIC_E_INVALID_CREDENTIALS, 401, "INVALID_CREDENTIALS"},
	    {CIVIC_E_INVALID_TOKEN, 401, "INVALID_TOKEN"},
	    {CIVIC_E_TOKEN_EXPIRED, 401, "TOKEN_EXPIRED"},
	    {CIVIC_E_PERMISSION_DENIED, 403, "PERMISSION_DENIED"},
	    {CIVIC_E_PLAN_REQUIRED, 403, "PLAN_REQUIRED"},
	    {CIVIC_E_PLAN_LIMIT, 403, "PLAN_LIMIT"},
	    {CIVIC_E_ORG_ACCESS_DENIED, 403, "ORG_ACCESS_DENIED"},
	    {CIVIC_E_NOT_FOUND, 404, "NOT_FOUND"},
	    {CIVIC_E_METHOD_NOT_ALLOWED, 405, "METHOD_NOT_ALLOWED"},
	    {CIVIC_E_CONFLICT, 409, "CONFLICT"},
	    {CIVIC_E_PAYLOAD_TOO_LARGE, 413, "PAYLOAD_TOO_LARGE"},
	    {CIVIC_E_UNSUPPORTED_MEDIA, 415, "UNSUPPORTED_MEDIA_TYPE"},
	    {CIVIC_E_QUOTA_EXCEEDED, 429, "QUOTA_EXCEEDED"},
	    {CIVIC_E_RATE_LIMITED, 429, "RATE_LIMITED"},
	    {CIVIC_E_INTERNAL, 500, "INTERNAL"},
	    {CIVIC_E_BAD_GATEWAY, 502, "GATEWAY_ERROR"},
	    {CIVIC_E_UNAVAILABLE, 503, "UNAVAILABLE"},
	};
	size_t n = sizeof(t) / sizeof(t[0]);

	is_int(n, CIVIC_E__COUNT, "the table covers every civic_err");
	for (size_t i = 0; i < n; i++) {
		json_object *o;
		ok(civic_err_status(t[i].e) == t[i].status &&
		       strcmp(civic_err_code(t[i].e), t[i].code) == 0 &&
		       civic_err_message(t[i].e)[0] != '\0',
		   "%s -> %d %s", t[i].code, t[i].status, t[i].code);
		if (t[i].e == CIVIC_OK)
			continue;
		civic_response_error(&R, t[i].e, NULL, NULL, "r");
		o = body_json();
		ok(R.status == t[i].status && o && sget(o, "code") &&
		       strcmp(sget(o, "code"), t[i].code) == 0 &&
		       strcmp(civic_status_text(t[i].status), "Unknown") != 0,
		   "error envelope for %s carries status %d, code and a reason phrase", t[i].code,
		   t[i].status);
		json_object_put(o);
	}
	ok(civic_err_status((enum civic_err) - 1) == 500 &&
	       strcmp(civic_err_code((enum civic_err)CIVIC_E__COUNT), "INTERNAL") == 0,
	   "out-of-range errors map to 500 INTERNAL");
}

static int header_count(const char *needle)
{
	int n = 0;
	for (const char *p = civic_buf_str(&R.headers); (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_headers(void)
{
	static const struct {
		const char *name, *value, *why;
	} bad[] = {
	    {"X-Test", "a\r\nSet-Cookie: x=1", "CRLF in value"},
	    {"X-Test", "a\rb", "CR in value"},
	    {"X-Test", "a\nb", "LF in value"},
	    {"X-Test", "a\tb", "tab in value"},
	    {"X-Test",
	     "a\x01"
	     "b",
	     "0x01 in value"},
	    {"X-Test",
	     "a\x1f"
	     "b",
	     "0x1f in value"},
	    {"X-Test",
	     "a\x7f"
	     "b",
	     "DEL in value"},
	    {"X-Te\r\nst", "v", "CRLF in name"},
	    {"X-Te\nst", "v", "LF in name"},
	    {"X-Te\x01st", "v", "control char in name"},
	    {"X-Te\x7fst", "v", "DEL in name"},
	    {"X-Test: injected\r\nX", "v", "colon and CRLF in name"},
	    {"X-Test:", "v", "colon in name"},
	};
	char big[3000];
	size_t before;

	civic_response_reset(&R);
	ok(civic_response_header(&R, "X-Plan", "free"), "plain header accepted");
	ok(civic_response_header(&R, "X-RateLimit-Limit", "%d", 30), "formatted header accepted");
	ok(civic_response_header(&R, "RateLimit-Policy", "\"daily\";q=30;w=86400"),
	   "quotes, '=' and ';' accepted in a value");
	is_str(
	    civic_buf_str(&R.headers),
	    "X-Plan: free\r\nX-RateLimit-Limit: 30\r\nRateLimit-Policy: \"daily\";q=30;w=86400\r\n",
	    "headers are \"Name: value\\r\\n\" lines in order");

	before = R.headers.len;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!civic_response_header(&R, bad[i].name, "%s", bad[i].value), "refused: %s",
		   bad[i].why);
	is_int(R.headers.len, before, "refused headers leave the block unchanged");
	is_int(header_count("Set-Cookie"), 0, "no injected header made it in");

	memset(big, 'v', sizeof(big));
	big[2047] = '\0';
	ok(civic_response_header(&R, "X-Big", "%s", big), "a 2047-byte value fits");
	big[2047] = 'v';
	big[2048] = '\0';
	ok(!civic_response_header(&R, "X-Big", "%s", big), "a 2048-byte value is refused");

	/* the 16 KiB block cap */
	civic_response_reset(&R);
	big[2000] = '\0';
	{
		int added = 0;
		while (civic_response_header(&R, "X-Fill", "%s", big) && added < 100)
			added++;
		ok(added > 0 && added < 100 && R.headers.len <= CIVIC_HEADERS_MAX,
		   "the header block stops at CIVIC_HEADERS_MAX (%d headers, %zu bytes)", added,
		   R.headers.len);
		ok(R.headers.len >= 2 && memcmp(R.headers.data + R.headers.len - 2, "\r\n", 2) == 0,
		   "no partial header line is left after refusal");
	}
	civic_response_reset(&R);
	is_int(R.headers.len, 0, "reset empties the headers");
}

/* Captures written bytes. */
struct sink {
	char buf[1 << 17];
	size_t len;
	int fail_after; /* calls before failing; 0: never */
	int calls;
	bool short_write;
};

static int sink_write(void *io, const char *p, int n)
{
	struct sink *s = io;

	s->calls++;
	if (s->fail_after && s->calls > s->fail_after)
		return -1;
	if (s->short_write && n > 1)
		n--;
	memcpy(s->buf + s->len, p, (size_t)n);
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
	return n;
}

static void test_write(void)
{
	static struct sink s;
	const char *blank, *cl;
	long declared;

	civic_response_reset(&R);
	civic_response_header(&R, "X-Request-Id", "abc");
	civic_response_error(&R, CIVIC_E_NOT_FOUND, NULL, NULL, "abc");
	memset(&s, 0, sizeof(s));
	ok(civic_response_write(&R, sink_write, &s), "write succeeds");
	ok(strncmp(s.buf, "Status: 404 Not Found\r\n", 23) == 0,
	   "output starts with \"Status: 404 Not Found\\r\\n\"");
	blank = strstr(s.buf, "\r\n\r\n");
	ok(blank != NULL, "a blank line ends the headers");
	ok(blank && strstr(s.buf, "Content-Type: application/json; charset=utf-8\r\n") < blank &&
	       strstr(s.buf, "Content-Type: application/json") != NULL,
	   "Content-Type application/json in the header block");
	ok(blank && strstr(s.buf, "\r\nX-Request-Id: abc\r\n") != NULL &&
	       strstr(s.buf, "\r\nX-Request-Id: abc\r\n") < blank,
	   "added headers are in the header block");
	cl = strstr(s.buf, "\r\nContent-Length: ");
	declared = cl ? strtol(cl + 18, NULL, 10) : -1;
	ok(blank && cl && cl < blank && declared == (long)strlen(blank + 4) &&
	       declared == (long)R.body.len,
	   "Content-Length (%ld) equals the bytes after the blank line", declared);
	ok(blank && strcmp(blank + 4, civic_buf_str(&R.body)) == 0,
	   "the body follows the blank line unchanged");
	{
		/* Every header line is CRLF-terminated, none is bare LF. */
		bool bare = false;
		for (const char *p = s.buf; blank && p < blank + 2; p++)
			if (*p == '\n' && (p == s.buf || p[-1] != '\r'))
				bare = true;
		ok(!bare, "no bare LF in the header block");
	}

	civic_response_reset(&R);
	civic_response_success(&R, 200, NULL, NULL, -1, NULL);
	memset(&s, 0, sizeof(s));
	civic_response_write(&R, sink_write, &s);
	ok(strncmp(s.buf, "Status: 200 OK\r\n", 16) == 0, "200 status line");

	/* 204: no body, no content headers */
	civic_response_reset(&R);
	civic_response_success(&R, 200, NULL, NULL, -1, NULL); /* leftover body */
	civic_response_header(&R, "Allow", "GET, OPTIONS");
	civic_response_empty(&R, 204);
	is_int(R.body.len, 0, "civic_response_empty clears the body");
	memset(&s, 0, sizeof(s));
	ok(civic_response_write(&R, sink_write, &s), "204 write succeeds");
	is_str(s.buf, "Status: 204 No Content\r\nAllow: GET, OPTIONS\r\n\r\n",
	       "204 is status, headers, blank line and nothing else");
	ok(strstr(s.buf, "Content-Length") == NULL && strstr(s.buf, "Content-Type") == NULL,
	   "204 has no Content-Length or Content-Type");

	civic_response_reset(&R);
	civic_response_success(&R, 200, NULL, NULL, -1, NULL);
	R.status = 204;
	memset(&s, 0, sizeof(s));
	civic_response_write(&R, sink_write, &s);
	ok(strcmp(s.buf + s.len - 4, "\r\n\r\n") == 0,
	   "a 204 never sends a body, even if one is set");

	/* write errors surface */
	civic_response_reset(&R);
	civic_response_error(&R, CIVIC_E_NOT_FOUND, NULL, NULL, "x");
	memset(&s, 0, sizeof(s));
	s.fail_after = 1;
	ok(!civic_response_write(&R, sink_write, &s), "a failing writer makes write return false");
	memset(&s, 0, sizeof(s));
	s.short_write = true;
	ok(!civic_response_write(&R, sink_write, &s), "a short write makes write return false");

	is_str(civic_status_text(429), "Too Many Requests", "reason phrase 429");
	is_str(civic_status_text(415), "Unsupported Media Type", "reason phrase 415");
	is_str(civic_status_text(999), "Unknown", "unknown status");
}

int main(void)
{
	plan(131);
	civic_response_init(&R);
	is_int(R.status, 200, "a new response is 200");
	test_success();
	test_errors();
	test_err_table();
	test_headers();
	test_write();
	civic_response_free(&R);
	return done_testing();
}
