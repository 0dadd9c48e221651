#include "request.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "num.h"

const char *civic_request_param(const struct civic_request *r, const char *name)
{
	size_t n = strlen(name);

	for (char **e = r->envp; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

const char *civic_request_header(const struct civic_request *r, const char *name)
{
	char cgi[128] = "HTTP_";
	size_t i, n = strlen(name);

	if (n + 6 > sizeof(cgi))
		return NULL;
	for (i = 0; i < n; i++)
		cgi[5 + i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	cgi[5 + i] = '\0';
	/* CGI passes these two without the HTTP_ prefix. */
	if (strcmp(cgi, "HTTP_CONTENT_TYPE") == 0 || strcmp(cgi, "HTTP_CONTENT_LENGTH") == 0)
		return civic_request_param(r, cgi + 5);
	return civic_request_param(r, cgi);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool civic_percent_decode(const char *s, size_t len, bool plus_is_space, char *out,
                          size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return false;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_is_space)
			c = ' ';
		if (c == '\0' || o + 1 >= outlen)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

static bool sane_request_id(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n]; n++)
		if (n >= CIVIC_REQUEST_ID_MAX ||
		    !(isalnum((unsigned char)s[n]) || strchr("._:-", s[n]) != NULL))
			return false;
	return n > 0;
}

static void set_request_id(struct civic_request *r)
{
	const char *in = civic_request_header(r, "X-Request-Id");
	unsigned char rnd[16];

	if (sane_request_id(in)) {
		snprintf(r->request_id, sizeof(r->request_id), "%s", in);
		return;
	}
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(r->request_id, sizeof(r->request_id), rnd, sizeof(rnd));
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* A request target is printable ASCII (RFC 3986): a raw space, control
 * character or byte past 0x7e is refused, so nothing echoed from it (the
 * paging links carry the query) can put invalid UTF-8 into a JSON answer.
 * lighttpd refuses such targets itself; Apache passes them on. */
static bool printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static enum civic_err parse_path(struct civic_request *r)
{
	const char *uri = civic_request_param(r, "REQUEST_URI");
	size_t n;

	if (uri == NULL) {
		/* Plain CGI without REQUEST_URI: rebuild it from the parts. */
		char tmp[CIVIC_PATH_MAX + 1];
		int w = snprintf(tmp, sizeof(tmp), "%s%s", or_empty(civic_request_param(r, "SCRIPT_NAME")),
		                 or_empty(civic_request_param(r, "PATH_INFO")));
		if (w < 0 || (size_t)w >= sizeof(tmp))
			return CIVIC_E_INVALID_REQUEST;
		memcpy(r->path, tmp, (size_t)w + 1);
		return r->path[0] == '/' ? CIVIC_OK : CIVIC_E_INVALID_REQUEST;
	}
	n = strcspn(uri, "?#");
	if (n == 0 || uri[0] != '/' || n > CIVIC_PATH_MAX || !printable_ascii(uri))
		return CIVIC_E_INVALID_REQUEST;
	if (!civic_percent_decode(uri, n, false, r->path, sizeof(r->path)))
		return CIVIC_E_INVALID_REQUEST;
	return CIVIC_OK;
}

enum civic_err civic_request_parse(struct civic_request *r, char **envp)
{
	const char *cl;
	enum civic_err err;

	civic_buf_free(&r->body);
	memset(r, 0, sizeof(*r));
	civic_buf_init(&r->body, CIVIC_BODY_MAX);
	r->envp = envp;
	r->content_length = -1;
	set_request_id(r);
	r->method = or_empty(civic_request_param(r, "REQUEST_METHOD"));
	r->query = or_empty(civic_request_param(r, "QUERY_STRING"));
	r->client_ip = or_empty(civic_request_param(r, "REMOTE_ADDR"));
	r->content_type = civic_request_param(r, "CONTENT_TYPE");
	if ((err = parse_path(r)) != CIVIC_OK)
		return err;
	if (strlen(r->query) > CIVIC_QUERY_MAX || !printable_ascii(r->query))
		return CIVIC_E_INVALID_REQUEST;
	cl = civic_request_param(r, "CONTENT_LENGTH");
	if (cl && *cl) {
		if (!civic_num_parse_str(cl, 0, INT64_MAX, &r->content_length))
			return CIVIC_E_INVALID_REQUEST;
		if (r->content_length > CIVIC_BODY_MAX)
			return CIVIC_E_PAYLOAD_TOO_LARGE;
	}
	return CIVIC_OK;
}

enum civic_err civic_request_read_body(struct civic_request *r, civic_read_fn read, void *io)
{
	char chunk[8192];
	int64_t left = r->content_length;

	while (left > 0) {
		int want = left < (int64_t)sizeof(chunk) ? (int)left : (int)sizeof(chunk);
		int got = read(io, chunk, want);
		if (got < 0)
			return CIVIC_E_INVALID_REQUEST;
		if (got == 0)
			return CIVIC_E_INVALID_REQUEST; /* shorter than Content-Length */
		if (!civic_buf_add(&r->body, chunk, (size_t)got))
			return CIVIC_E_PAYLOAD_TOO_LARGE;
		left -= got;
	}
	return CIVIC_OK;
}

void civic_request_free(struct civic_request *r)
{
	civic_buf_free(&r->body);
}

int civic_request_query(const struct civic_request *r, const char *name, char *out,
                        size_t outlen)
{
	const char *q = r->query;
	size_t nlen = strlen(name);
	int found = 0;

	while (*q) {
		size_t seg = strcspn(q, "&");
		const char *eq = memchr(q, '=', seg);
		size_t klen = eq ? (size_t)(eq - q) : seg;
		char key[64];

		/* A key that is too long or badly escaped cannot be the one
		 * asked for: skip it rather than fail every lookup. */
		if (klen > 0 && civic_percent_decode(q, klen, true, key, sizeof(key))) {
			if (strlen(key) == nlen && memcmp(key, name, nlen) == 0) {
				const char *v = eq ? eq + 1 : q + seg;
				size_t vlen = (size_t)(q + seg - v);
				if (found || !civic_percent_decode(v, vlen, true, out, outlen))
					return -1;
				found = 1;
			}
		}
		q += seg;
		if (*q == '&')
			q++;
	}
	return found;
}

bool civic_request_is_json(const struct civic_request *r)
{
	const char *ct = r->content_type;
	size_t n = strlen("application/json");

	if (ct == NULL)
		return false;
	while (*ct == ' ')
		ct++;
	return strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}
