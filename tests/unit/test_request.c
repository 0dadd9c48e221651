/* The request layer over hand-built CGI parameter arrays: path and
 * query parsing, Content-Length, the capped body read through a fake
 * reader, X-Request-Id, header/query lookup, JSON media type, and the
 * route matcher of the shared loop. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "paging.h"
#include "request.h"
#include "server.h"
#include "tap.h"

#define MAXENV 16

/* envp built from a NULL-terminated list of "NAME=value" strings. */
struct env {
	char *v[MAXENV + 1];
};

static char **mkenv(struct env *e, ...)
{
	va_list ap;
	int n = 0;
	char *s;

	va_start(ap, e);
	while ((s = va_arg(ap, char *)) != NULL && n < MAXENV)
		e->v[n++] = s;
	va_end(ap);
	e->v[n] = NULL;
	return e->v;
}

/* Parses with r reused across calls, as the server loop does. */
static struct civic_request R;

static enum civic_err parse_uri(const char *uri)
{
	static char buf[8192];
	struct env e;

	snprintf(buf, sizeof(buf), "REQUEST_URI=%s", uri);
	return civic_request_parse(&R, mkenv(&e, "REQUEST_METHOD=GET", buf, NULL));
}

static bool is_hex_id(const char *s)
{
	return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

static void test_basic(void)
{
	struct env e;
	char **env = mkenv(&e, "REQUEST_METHOD=POST", "REQUEST_URI=/v1/profile/?page=2&x=1",
	                   "QUERY_STRING=page=2&x=1", "CONTENT_TYPE=application/json",
	                   "CONTENT_LENGTH=12", "REMOTE_ADDR=192.0.2.7",
	                   "HTTP_X_API_KEY=csk_test_x", "SCRIPT_NAME=/ignored", NULL);

	is_int(civic_request_parse(&R, env), CIVIC_OK, "a plain POST parses");
	is_str(R.method, "POST", "method");
	is_str(R.path, "/v1/profile/", "path comes from REQUEST_URI without the query");
	is_str(R.query, "page=2&x=1", "query is the raw QUERY_STRING");
	is_str(R.content_type, "application/json", "content type");
	is_str(R.client_ip, "192.0.2.7", "client ip from REMOTE_ADDR");
	is_int(R.content_length, 12, "content length");
	ok(R.envp == env, "envp is kept, not copied");
	ok(is_hex_id(R.request_id), "a request id is generated when none is sent (%s)",
	   R.request_id);
	is_int(R.body.len, 0, "body not read yet");

	env = mkenv(&e, "REQUEST_URI=/v1/usage/", NULL);
	is_int(civic_request_parse(&R, env), CIVIC_OK, "minimal request parses");
	ok(strcmp(R.method, "") == 0 && strcmp(R.query, "") == 0 && strcmp(R.client_ip, "") == 0,
	   "absent method, query and address are \"\", not NULL");
	ok(R.content_type == NULL, "absent content type is NULL");
	is_int(R.content_length, -1, "absent Content-Length is -1");
	env = mkenv(&e, "REQUEST_URI=/v1/usage/", "CONTENT_LENGTH=", NULL);
	ok(civic_request_parse(&R, env) == CIVIC_OK && R.content_length == -1,
	   "empty CONTENT_LENGTH is treated as absent");

	/* Plain CGI without REQUEST_URI */
	env = mkenv(&e, "SCRIPT_NAME=/v1", "PATH_INFO=/profile/", "QUERY_STRING=a=b", NULL);
	ok(civic_request_parse(&R, env) == CIVIC_OK && strcmp(R.path, "/v1/profile/") == 0,
	   "without REQUEST_URI the path is SCRIPT_NAME + PATH_INFO");
	env = mkenv(&e, "REQUEST_METHOD=GET", NULL);
	is_int(civic_request_parse(&R, env), CIVIC_E_INVALID_REQUEST,
	       "no REQUEST_URI, SCRIPT_NAME or PATH_INFO: INVALID_REQUEST");
	ok(is_hex_id(R.request_id), "the request id is set even when parsing fails");
	env = mkenv(&e, "SCRIPT_NAME=v1", "PATH_INFO=/x", NULL);
	is_int(civic_request_parse(&R, env), CIVIC_E_INVALID_REQUEST,
	       "CGI path not starting with '/': INVALID_REQUEST");
}

static void test_paths(void)
{
	static const struct {
		const char *uri, *path;
	} good[] = {
	    {"/", "/"},
	    {"/v1/profile/", "/v1/profile/"},
	    {"/v1/profile/?", "/v1/profile/"},
	    {"/v1/profile/#frag", "/v1/profile/"},
	    {"/v1/a%20b/", "/v1/a b/"},
	    {"/v1/%7Bid%7D/", "/v1/{id}/"},
	    {"/v1/%c3%a9t%C3%A9", "/v1/\xc3\xa9t\xc3\xa9"},
	    {"/v1/a+b/", "/v1/a+b/"}, /* '+' is a space only in queries */
	    {"/v1/x?q=%zz", "/v1/x"}, /* the query is not decoded here */
	};
	static const char *bad[] = {
	    "",      "v1/profile/", "*",        "?a=1",     "/v1/%zz/",  "/v1/%4",
	    "/v1/%", "/v1/%00/",    "/v1/a%00", "/v1/%0g/", "/v1/%%41/", "http://x/v1/",
	    "/v1/\xff/", "/v1/a b/", "/v1/x?q=\xfe\xff", "/v1/\x7f",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(parse_uri(good[i].uri) == CIVIC_OK && strcmp(R.path, good[i].path) == 0,
		   "REQUEST_URI \"%s\" -> path \"%s\" (got \"%s\")", good[i].uri, good[i].path,
		   R.path);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(parse_uri(bad[i]), CIVIC_E_INVALID_REQUEST, "REQUEST_URI \"%s\" rejected",
		       bad[i]);

	{
		char uri[CIVIC_PATH_MAX + 8];
		memset(uri, 'a', sizeof(uri));
		uri[0] = '/';
		uri[CIVIC_PATH_MAX] = '\0';
		ok(parse_uri(uri) == CIVIC_OK && strlen(R.path) == CIVIC_PATH_MAX,
		   "a path of exactly CIVIC_PATH_MAX (%d) bytes is accepted", CIVIC_PATH_MAX);
		uri[CIVIC_PATH_MAX] = 'a';
		uri[CIVIC_PATH_MAX + 1] = '\0';
		is_int(parse_uri(uri), CIVIC_E_INVALID_REQUEST,
		       "a path of CIVIC_PATH_MAX + 1 rejected");
		strcpy(uri + CIVIC_PATH_MAX + 1, "?a=1");
		is_int(parse_uri(uri), CIVIC_E_INVALID_REQUEST,
		       "an over-long path is rejected even with a query after it");
	}
}

static void test_query_len(void)
{
	static char q[CIVIC_QUERY_MAX + 32];
	struct env e;

	strcpy(q, "QUERY_STRING=");
	memset(q + 13, 'a', CIVIC_QUERY_MAX);
	q[13 + CIVIC_QUERY_MAX] = '\0';
	is_int(civic_request_parse(&R, mkenv(&e, "REQUEST_URI=/v1/x/", q, NULL)), CIVIC_OK,
	       "a query of exactly CIVIC_QUERY_MAX (%d) bytes is accepted", CIVIC_QUERY_MAX);
	q[13 + CIVIC_QUERY_MAX] = 'a';
	q[14 + CIVIC_QUERY_MAX] = '\0';
	is_int(civic_request_parse(&R, mkenv(&e, "REQUEST_URI=/v1/x/", q, NULL)),
	       CIVIC_E_INVALID_REQUEST, "a query of CIVIC_QUERY_MAX + 1 bytes is rejected");
	is_int(civic_request_parse(&R, mkenv(&e, "REQUEST_URI=/v1/x/", "QUERY_STRING=q=\xff", NULL)),
	       CIVIC_E_INVALID_REQUEST, "a query with a byte that is not printable ASCII is rejected");
}

static void test_content_length(void)
{
	static const struct {
		const char *cl;
		enum civic_err want;
		int64_t len;
	} cases[] = {
	    {"0", CIVIC_OK, 0},
	    {"5", CIVIC_OK, 5},
	    {"65536", CIVIC_OK, 65536},
	    {"65537", CIVIC_E_PAYLOAD_TOO_LARGE, -1},
	    {"1000000", CIVIC_E_PAYLOAD_TOO_LARGE, -1},
	    {"9223372036854775807", CIVIC_E_PAYLOAD_TOO_LARGE, -1},
	    {"9223372036854775808", CIVIC_E_INVALID_REQUEST, -1},
	    {"99999999999999999999", CIVIC_E_INVALID_REQUEST, -1},
	    {"abc", CIVIC_E_INVALID_REQUEST, -1},
	    {"12abc", CIVIC_E_INVALID_REQUEST, -1},
	    {"-1", CIVIC_E_INVALID_REQUEST, -1},
	    {"-0", CIVIC_E_INVALID_REQUEST, -1},
	    {"+5", CIVIC_E_INVALID_REQUEST, -1},
	    {" 5", CIVIC_E_INVALID_REQUEST, -1},
	    {"5 ", CIVIC_E_INVALID_REQUEST, -1},
	    {"05", CIVIC_E_INVALID_REQUEST, -1},
	    {"0x10", CIVIC_E_INVALID_REQUEST, -1},
	    {"1e3", CIVIC_E_INVALID_REQUEST, -1},
	    {"5,5", CIVIC_E_INVALID_REQUEST, -1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char cl[64];
		struct env e;
		enum civic_err got;
		snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%s", cases[i].cl);
		got = civic_request_parse(&R, mkenv(&e, "REQUEST_URI=/v1/x/", cl, NULL));
		if (cases[i].want == CIVIC_OK)
			ok(got == CIVIC_OK && R.content_length == cases[i].len,
			   "Content-Length \"%s\" accepted as %lld", cases[i].cl,
			   (long long)cases[i].len);
		else
			is_int(got, cases[i].want, "Content-Length \"%s\" -> %s", cases[i].cl,
			       civic_err_code(cases[i].want));
	}
}

/* A fake body stream: hands out data in chunks of at most step bytes,
 * optionally failing (-1) once pos reaches fail_at. */
struct reader {
	const char *data;
	size_t len, pos, step, fail_at;
	int calls;
};

static int fake_read(void *io, char *buf, int n)
{
	struct reader *rd = io;
	size_t k;

	rd->calls++;
	if (rd->fail_at && rd->pos >= rd->fail_at)
		return -1;
	k = rd->len - rd->pos;
	if (k > (size_t)n)
		k = (size_t)n;
	if (rd->step && k > rd->step)
		k = rd->step;
	memcpy(buf, rd->data + rd->pos, k);
	rd->pos += k;
	return (int)k;
}

static enum civic_err body_with(const char *cl, struct reader *rd)
{
	char clv[64];
	struct env e;
	enum civic_err err;

	snprintf(clv, sizeof(clv), "CONTENT_LENGTH=%s", cl ? cl : "");
	err = civic_request_parse(
	    &R, mkenv(&e, "REQUEST_METHOD=POST", "REQUEST_URI=/v1/x/", cl ? clv : "X=1", NULL));
	if (err != CIVIC_OK)
		return err;
	return civic_request_read_body(&R, fake_read, rd);
}

static void test_body(void)
{
	static char big[CIVIC_BODY_MAX + 100];
	struct reader rd;

	memset(big, 'b', sizeof(big));

	rd = (struct reader){.data = "{\"a\":1}", .len = 7};
	ok(body_with("7", &rd) == CIVIC_OK && R.body.len == 7 &&
	       strcmp(civic_buf_str(&R.body), "{\"a\":1}") == 0,
	   "a body of exactly Content-Length bytes is read");

	rd = (struct reader){.data = "{\"a\":1}trailing", .len = 15};
	ok(body_with("7", &rd) == CIVIC_OK && R.body.len == 7 && rd.pos == 7,
	   "no more than Content-Length bytes are read");

	rd = (struct reader){.data = "0123456789", .len = 10, .step = 1};
	ok(body_with("10", &rd) == CIVIC_OK && R.body.len == 10 && rd.calls == 10 &&
	       strcmp(civic_buf_str(&R.body), "0123456789") == 0,
	   "a body delivered one byte at a time is assembled");

	rd = (struct reader){.data = "short", .len = 5};
	is_int(body_with("10", &rd), CIVIC_E_INVALID_REQUEST,
	       "a body shorter than Content-Length is an error");

	rd = (struct reader){.data = "0123456789", .len = 10, .fail_at = 4, .step = 4};
	is_int(body_with("10", &rd), CIVIC_E_INVALID_REQUEST, "a read error is an error");

	rd = (struct reader){.data = "ignored", .len = 7};
	ok(body_with(NULL, &rd) == CIVIC_OK && R.body.len == 0 && rd.calls == 0,
	   "no Content-Length: no body, the reader is not called");
	rd = (struct reader){.data = "ignored", .len = 7};
	ok(body_with("0", &rd) == CIVIC_OK && R.body.len == 0 && rd.calls == 0,
	   "Content-Length 0: no body, the reader is not called");

	rd = (struct reader){.data = big, .len = CIVIC_BODY_MAX};
	ok(body_with("65536", &rd) == CIVIC_OK && R.body.len == CIVIC_BODY_MAX,
	   "a body of exactly 64 KiB is read");

	rd = (struct reader){.data = big, .len = sizeof(big)};
	is_int(body_with("65537", &rd), CIVIC_E_PAYLOAD_TOO_LARGE,
	       "a declared 64 KiB + 1 body is refused before reading");
	is_int(rd.calls, 0, "and the reader is never called");

	/* The cap also holds for the reading itself, whatever the length says. */
	rd = (struct reader){.data = big, .len = sizeof(big)};
	body_with("0", &rd);
	R.content_length = CIVIC_BODY_MAX + 1;
	is_int(civic_request_read_body(&R, fake_read, &rd), CIVIC_E_PAYLOAD_TOO_LARGE,
	       "reading past the 64 KiB buffer cap is PAYLOAD_TOO_LARGE");
	ok(R.body.len <= CIVIC_BODY_MAX, "the body never exceeds the cap");

	/* A reparse frees and empties the body. */
	rd = (struct reader){.data = "abc", .len = 3};
	body_with("3", &rd);
	parse_uri("/v1/x/");
	is_int(R.body.len, 0, "parsing the next request empties the body");
}

static void test_request_id(void)
{
	static const struct {
		const char *id;
		bool echo;
		const char *why;
	} cases[] = {
	    {"abc-123", true, "simple id"},
	    {"req_1.2:3-x", true, "letters, digits and ._:-"},
	    {"550e8400-e29b-41d4-a716-446655440000", true, "a UUID"},
	    {"0123456789012345678901234567890123456789012345678901234567890123", true,
	     "64 characters"},
	    {"01234567890123456789012345678901234567890123456789012345678901234", false,
	     "65 characters"},
	    {"abc def", false, "a space"},
	    {"abc\rdef", false, "a CR"},
	    {"abc\r\nX-Evil: 1", false, "CRLF header injection"},
	    {"abc\ndef", false, "an LF"},
	    {"abc\tdef", false, "a tab"},
	    {"", false, "empty"},
	    {"abc/def", false, "a slash"},
	    {"abc\"def", false, "a quote"},
	    {"\xc3\xa9t\xc3\xa9", false, "non-ASCII"},
	    {"<script>", false, "markup"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char h[256];
		struct env e;
		snprintf(h, sizeof(h), "HTTP_X_REQUEST_ID=%s", cases[i].id);
		civic_request_parse(&R, mkenv(&e, "REQUEST_URI=/v1/x/", h, NULL));
		if (cases[i].echo)
			is_str(R.request_id, cases[i].id, "sane X-Request-Id echoed: %s",
			       cases[i].why);
		else
			ok(is_hex_id(R.request_id) && strcmp(R.request_id, cases[i].id) != 0,
			   "insane X-Request-Id replaced by a fresh one: %s", cases[i].why);
	}
	{
		char first[CIVIC_REQUEST_ID_MAX + 1];
		parse_uri("/v1/x/");
		strcpy(first, R.request_id);
		parse_uri("/v1/x/");
		ok(strcmp(first, R.request_id) != 0, "generated ids differ between requests");
	}
}

static void test_headers(void)
{
	struct env e;

	civic_request_parse(&R, mkenv(&e, "REQUEST_URI=/v1/x/", "HTTP_X_API_KEY=pub",
	                              "HTTP_X_API_SECRET=sec", "CONTENT_TYPE=application/json",
	                              "CONTENT_LENGTH=0", "HTTP_AUTHORIZATION=Bearer t",
	                              "HTTP_CONTENT_TYPE=text/evil", "HTTP_X_LONGER_NAME=1", NULL));
	is_str(civic_request_header(&R, "X-API-Key"), "pub", "X-API-Key -> HTTP_X_API_KEY");
	is_str(civic_request_header(&R, "x-api-key"), "pub", "header names are case-insensitive");
	is_str(civic_request_header(&R, "X-Api-Secret"), "sec",
	       "X-Api-Secret -> HTTP_X_API_SECRET");
	is_str(civic_request_header(&R, "Authorization"), "Bearer t", "Authorization");
	is_str(civic_request_header(&R, "Content-Type"), "application/json",
	       "Content-Type maps to CONTENT_TYPE (no HTTP_ prefix)");
	is_str(civic_request_header(&R, "content-length"), "0",
	       "Content-Length maps to CONTENT_LENGTH");
	ok(civic_request_header(&R, "X-Longer") == NULL,
	   "a prefix of a header name does not match");
	ok(civic_request_header(&R, "X-Missing") == NULL, "absent header is NULL");
	ok(civic_request_header(&R, "") == NULL, "empty name is NULL");
	{
		char longname[300];
		memset(longname, 'A', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		ok(civic_request_header(&R, longname) == NULL,
		   "a 299-char name is NULL, no overflow");
	}
	is_str(civic_request_param(&R, "HTTP_X_API_KEY"), "pub", "civic_request_param by CGI name");
	ok(civic_request_param(&R, "HTTP_X_API") == NULL,
	   "civic_request_param needs the full name");
	ok(civic_request_param(&R, "REQUEST_METHOD") == NULL, "civic_request_param absent is NULL");
}

static int q(const char *query, const char *name, char *out, size_t outlen)
{
	static char qs[8192];
	struct env e;

	snprintf(qs, sizeof(qs), "QUERY_STRING=%s", query);
	civic_request_parse(&R, mkenv(&e, "REQUEST_URI=/v1/x/", qs, NULL));
	memset(out, '#', outlen);
	out[outlen - 1] = '\0';
	return civic_request_query(&R, name, out, outlen);
}

static void test_query(void)
{
	static const struct {
		const char *query, *name;
		int want;
		const char *value;
	} cases[] = {
	    {"a=1&b=2", "a", 1, "1"},
	    {"a=1&b=2", "b", 1, "2"},
	    {"a=1&b=2", "c", 0, NULL},
	    {"", "a", 0, NULL},
	    {"ab=1", "a", 0, NULL},
	    {"a=1", "ab", 0, NULL},
	    {"a=1&a=2", "a", -1, NULL},
	    {"a=1&b=2&a=1", "a", -1, NULL},
	    {"s=hello%20world", "s", 1, "hello world"},
	    {"s=x+y", "s", 1, "x y"},
	    {"s=x%2By", "s", 1, "x+y"},
	    {"s=a%26b%3Dc", "s", 1, "a&b=c"},
	    {"s=b=c", "s", 1, "b=c"},
	    {"s=%C3%A9", "s", 1, "\xc3\xa9"},
	    {"p%61ge=3", "page", 1, "3"},
	    {"my+key=v", "my key", 1, "v"},
	    {"d=", "d", 1, ""},
	    {"flag", "flag", 1, ""},
	    {"a=1&&b=2", "b", 1, "2"},
	    {"&a=1&", "a", 1, "1"},
	    {"=5&a=1", "a", 1, "1"},
	    {"s=%zz", "s", -1, NULL},
	    {"s=%4", "s", -1, NULL},
	    {"s=%00", "s", -1, NULL},
	    {"s=a%00b", "s", -1, NULL},
	    {"since=2025-01-01T00:00:00Z", "since", 1, "2025-01-01T00:00:00Z"},
	};
	char out[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = q(cases[i].query, cases[i].name, out, sizeof(out));
		if (cases[i].want == 1)
			ok(got == 1 && strcmp(out, cases[i].value) == 0,
			   "query \"%s\": %s = \"%s\" (got %d \"%s\")", cases[i].query,
			   cases[i].name, cases[i].value, got, got == 1 ? out : "");
		else
			is_int(got, cases[i].want, "query \"%s\": %s -> %d", cases[i].query,
			       cases[i].name, cases[i].want);
	}
	is_int(q("s=0123456789", "s", out, 11), 1, "value of outlen-1 bytes fits");
	is_int(q("s=01234567890", "s", out, 11), -1, "value of outlen bytes is too long (-1)");
	is_int(q("s=%41%41%41%41%41%41%41%41%41%41", "s", out, 11), 1,
	       "length counts decoded bytes (30 raw -> 10 decoded)");
}

static void test_is_json(void)
{
	static const struct {
		const char *ct;
		bool json;
	} cases[] = {
	    {"application/json", true},
	    {"application/json; charset=utf-8", true},
	    {"application/json;charset=UTF-8", true},
	    {"Application/JSON", true},
	    {"application/json ; charset=utf-8", true},
	    {" application/json", true},
	    {"application/jsonp", false},
	    {"application/json-patch+json", false},
	    {"application/jsonx; charset=utf-8", false},
	    {"application/vnd.api+json", false},
	    {"text/json", false},
	    {"text/plain", false},
	    {"application/x-www-form-urlencoded", false},
	    {"multipart/form-data; boundary=application/json", false},
	    {"application/", false},
	    {"", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		R.content_type = cases[i].ct;
		is_int(civic_request_is_json(&R), cases[i].json, "Content-Type \"%s\" is %sJSON",
		       cases[i].ct, cases[i].json ? "" : "not ");
	}
	R.content_type = NULL;
	ok(!civic_request_is_json(&R), "no Content-Type is not JSON");
}

static void test_routes(void)
{
	static const struct {
		const char *pattern, *path;
		bool match;
		int64_t id;
	} cases[] = {
	    {"/v1/profile/", "/v1/profile/", true, 0},
	    {"/v1/profile/", "/v1/profile", true, 0},
	    {"/v1/profile/", "/v1/profile/x", false, 0},
	    {"/v1/profile/", "/v1/profile/x/", false, 0},
	    {"/v1/profile/", "/v1/profiles/", false, 0},
	    {"/v1/profile/", "/v1/profil/", false, 0},
	    {"/v1/profile/", "/v1/profil", false, 0},
	    {"/v1/profile/", "/V1/profile/", false, 0},
	    {"/v1/profile/", "/v1//profile/", false, 0},
	    {"/v1/profile/", "//v1/profile/", false, 0},
	    {"/v1/profile/", "/v1/profile//", false, 0},
	    {"/v1/profile/", "/", false, 0},
	    {"/v1/profile/", "", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile/5/", true, 5},
	    {"/v1/profile/{id}/", "/v1/profile/5", true, 5},
	    {"/v1/profile/{id}/", "/v1/profile/1234567/", true, 1234567},
	    {"/v1/profile/{id}/", "/v1/profile/9223372036854775807/", true, INT64_MAX},
	    {"/v1/profile/{id}/", "/v1/profile/0/", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile/-1/", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile/01/", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile/+5/", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile/ 5/", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile/5a/", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile/abc/", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile/9223372036854775808/", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile/99999999999999999999/", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile//", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile/", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile/5/extra/", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile/5/extra", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile/5/6/", false, 0},
	    {"/v1/profile/{id}/", "/v1/profile/5//", false, 0},
	    {"/v1/alert-destinations/{id}/", "/v1/alert-destinations/join-whatsapp-group/", false,
	     0},
	    {"/v1/alert-destinations/join-whatsapp-group/",
	     "/v1/alert-destinations/join-whatsapp-group", true, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t id = -7;
		bool m = civic_route_match(cases[i].pattern, cases[i].path, &id);
		if (cases[i].match)
			ok(m && id == cases[i].id, "route %s matches \"%s\" with id %lld",
			   cases[i].pattern, cases[i].path, (long long)cases[i].id);
		else
			ok(!m, "route %s does not match \"%s\"", cases[i].pattern, cases[i].path);
	}
}

/* Paging reads the query through the request layer and builds next. */
static enum civic_err paging(const char *query, struct civic_paging *pg, json_object **errs)
{
	static struct civic_config cfg;
	static struct civic_ctx ctx;
	static char qs[512];
	struct env e;
	enum civic_err err;

	cfg.base_url = "https://api.civicsentinel.test";
	snprintf(qs, sizeof(qs), "QUERY_STRING=%s", query);
	civic_request_parse(&R, mkenv(&e, "REQUEST_URI=/v1/risk-assessments/", qs, NULL));
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = &cfg;
	ctx.req = &R;
	err = civic_paging_parse(&ctx, pg);
	*errs = ctx.errfields;
	return err;
}

static const char *next_for(const char *query, int64_t total)
{
	static struct civic_config cfg;
	static struct civic_ctx ctx;
	static char qs[512];
	struct civic_paging pg;
	struct env e;

	cfg.base_url = "https://api.civicsentinel.test";
	snprintf(qs, sizeof(qs), "QUERY_STRING=%s", query);
	civic_request_parse(&R, mkenv(&e, "REQUEST_URI=/v1/risk-assessments/", qs, NULL));
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = &cfg;
	ctx.req = &R;
	if (civic_paging_parse(&ctx, &pg) != CIVIC_OK ||
	    civic_paging_reply(&ctx, &pg, json_object_new_array(), total) != CIVIC_OK) {
		json_object_put(ctx.errfields);
		json_object_put(ctx.data);
		return "(error)";
	}
	json_object_put(ctx.data);
	return ctx.total == total ? ctx.next : "(total not set)";
}

static void test_paging(void)
{
	static const struct {
		const char *query;
		bool good;
		int64_t page, size, offset;
		const char *bad_field;
	} cases[] = {
	    {"", true, 1, 20, 0, NULL},
	    {"page=3&page_size=50", true, 3, 50, 100, NULL},
	    {"page_size=1", true, 1, 1, 0, NULL},
	    {"page_size=100&page=1000000", true, 1000000, 100, 99999900, NULL},
	    {"country=GB", true, 1, 20, 0, NULL},
	    {"page=0", false, 0, 0, 0, "page"},
	    {"page=-1", false, 0, 0, 0, "page"},
	    {"page=01", false, 0, 0, 0, "page"},
	    {"page=abc", false, 0, 0, 0, "page"},
	    {"page=", false, 0, 0, 0, "page"},
	    {"page=1000001", false, 0, 0, 0, "page"},
	    {"page=1&page=2", false, 0, 0, 0, "page"},
	    {"page_size=0", false, 0, 0, 0, "page_size"},
	    {"page_size=101", false, 0, 0, 0, "page_size"},
	    {"page_size=99999999999999999999999", false, 0, 0, 0, "page_size"},
	    {"page_size=%zz", false, 0, 0, 0, "page_size"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct civic_paging pg = {0, 0, 0};
		json_object *errs = NULL, *v;
		enum civic_err err = paging(cases[i].query, &pg, &errs);
		if (cases[i].good)
			ok(err == CIVIC_OK && errs == NULL && pg.page == cases[i].page &&
			       pg.size == cases[i].size && pg.offset == cases[i].offset,
			   "paging \"%s\" -> page %lld size %lld offset %lld", cases[i].query,
			   (long long)cases[i].page, (long long)cases[i].size,
			   (long long)cases[i].offset);
		else
			ok(err == CIVIC_E_VALIDATION && errs &&
			       json_object_object_get_ex(errs, cases[i].bad_field, &v),
			   "paging \"%s\" -> VALIDATION_ERROR on %s (no silent clamp)",
			   cases[i].query, cases[i].bad_field);
		json_object_put(errs);
	}
	is_str(next_for("", 45), "https://api.civicsentinel.test/v1/risk-assessments/?page=2",
	       "next of page 1 of 45 rows");
	is_str(next_for("country=GB&page=2&page_size=10", 45),
	       "https://api.civicsentinel.test/v1/risk-assessments/?country=GB&page_size=10&page=3",
	       "next keeps the other parameters and replaces page");
	is_str(next_for("page=3&page_size=15", 45), "", "no next on the last page");
	is_str(next_for("page=5", 40), "", "no next past the end");
	is_str(next_for("page_size=20", 20), "", "no next when the rows fit exactly");
	is_str(next_for("page_size=20", 21),
	       "https://api.civicsentinel.test/v1/risk-assessments/?page_size=20&page=2",
	       "next when one row is left over");
}

/* The bucket of an anonymous client (SPEC §4 per-address limit). */
static void test_client_key(void)
{
	static const struct {
		const char *ip, *key;
	} t[] = {
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:DB8:1:2::ffff", "2001:db8:1:2::/64"},
		{"::1", "::/64"},
		{"", "unknown"},
		{"not an address", "unknown"},
		{"203.0.113.7 ", "unknown"},
		{"1.2.3.4.5", "unknown"},
	};
	char out[CIVIC_CLIENT_KEY_MAX];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		civic_client_key(t[i].ip, out);
		is_str(out, t[i].key, "client key of '%s'", t[i].ip);
	}
}

int main(void)
{
	plan(224);
	memset(&R, 0, sizeof(R));
	civic_buf_init(&R.body, CIVIC_BODY_MAX);
	test_basic();
	test_paths();
	test_query_len();
	test_content_length();
	test_body();
	test_request_id();
	test_headers();
	test_query();
	test_is_json();
	test_routes();
	test_paging();
	test_client_key();
	civic_request_free(&R);
	return done_testing();
}
