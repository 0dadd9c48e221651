/* The request layer as libfcgi hands it a request: an array of
 * "NAME=value" C strings (FCGX_ParamArray, or environ in plain CGI) and
 * a body stream. The input is the parameters, one a line, then an empty
 * line, then the body. Properties: parsing never overruns, the decoded
 * path is a NUL-ended string without NUL bytes inside its cap, the body
 * never exceeds CIVIC_BODY_MAX, the request id is always set and sane. */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "request.h"
#include "server.h"

#define MAXPARAMS 64

struct body_src {
	const uint8_t *p;
	size_t left;
	int calls;
};

/* Hands out the body in uneven pieces, as a network stream does. */
static int body_read(void *io, char *buf, int n)
{
	struct body_src *s = io;
	size_t k = (size_t)n;

	if (s->left == 0)
		return 0;
	if (++s->calls % 3 == 0 && k > 7)
		k = 7;
	if (k > s->left)
		k = s->left;
	memcpy(buf, s->p, k);
	s->p += k;
	s->left -= k;
	return (int)k;
}

static const char *const PATTERNS[] = {
	"/v1/profile/", "/v1/profile/{id}/", "/v1/alert-destinations/{id}/join-whatsapp-group/",
	"/v1/alert-destinations/{id}/confirm/", "/console/apps/{id}/",
};

static const char *const QUERY_NAMES[] = {"page", "page_size", "token", "min_level", "country",
                                          "stream", ""};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct civic_request r; /* reused, as the server loop does */
	char *copy, *line, *next, *envp[MAXPARAMS + 1], out[256];
	size_t n = 0, headlen;
	const uint8_t *sep = NULL;
	struct body_src src;
	enum civic_err err;
	int64_t id;

	for (size_t i = 0; i + 1 < size; i++)
		if (data[i] == '\n' && data[i + 1] == '\n') {
			sep = data + i;
			break;
		}
	headlen = sep ? (size_t)(sep - data) : size;
	if ((copy = malloc(headlen + 1)) == NULL)
		return 0;
	memcpy(copy, data, headlen);
	copy[headlen] = '\0';
	for (line = copy; line != NULL && n < MAXPARAMS; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strchr(line, '=') != NULL) /* libfcgi always gives NAME=value */
			envp[n++] = line;
	}
	envp[n] = NULL;

	err = civic_request_parse(&r, envp);
	FUZZ_ASSERT(strlen(r.request_id) > 0 && strlen(r.request_id) <= CIVIC_REQUEST_ID_MAX);
	FUZZ_ASSERT(r.method != NULL && r.query != NULL && r.client_ip != NULL);
	if (err == CIVIC_OK) {
		FUZZ_ASSERT(strlen(r.path) <= CIVIC_PATH_MAX);
		FUZZ_ASSERT(r.content_length >= -1 && r.content_length <= CIVIC_BODY_MAX);
		src.p = sep ? sep + 2 : data + size;
		src.left = sep ? size - headlen - 2 : 0;
		src.calls = 0;
		err = civic_request_read_body(&r, body_read, &src);
		FUZZ_ASSERT(r.body.len <= CIVIC_BODY_MAX);
		if (err == CIVIC_OK && r.content_length >= 0)
			FUZZ_ASSERT(r.body.len == (size_t)r.content_length);
		for (size_t i = 0; i < sizeof(QUERY_NAMES) / sizeof(*QUERY_NAMES); i++) {
			int q = civic_request_query(&r, QUERY_NAMES[i], out, sizeof(out));
			FUZZ_ASSERT(q >= -1 && q <= 1);
			if (q == 1)
				FUZZ_ASSERT(strlen(out) < sizeof(out));
		}
		for (size_t i = 0; i < sizeof(PATTERNS) / sizeof(*PATTERNS); i++)
			if (civic_route_match(PATTERNS[i], r.path, &id))
				FUZZ_ASSERT(id >= 0);
		(void)civic_request_is_json(&r);
		(void)civic_request_header(&r, "Authorization");
		(void)civic_request_header(&r, "X-Request-Id");
	}
	civic_request_free(&r);
	free(copy);
	return 0;
}
