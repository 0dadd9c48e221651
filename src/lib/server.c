#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcgiapp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "countries.h"
#include "paging.h"
#include "log.h"
#include "num.h"

extern char **environ;

#define EXPOSED "X-Request-Id, X-Plan, X-RateLimit-Limit, X-RateLimit-Used, " \
	"X-RateLimit-Remaining, X-RateLimit-Reset, X-Content-Type-Options, RateLimit-Policy, " \
	"RateLimit, Retry-After"

enum civic_err civic_fail(struct civic_ctx *ctx, enum civic_err e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
	va_end(ap);
	return e;
}

/* Compares path segments; {id} takes a positive integer. A final '/'
 * is optional on both sides, so /v1/profile and /v1/profile/ are one. */
bool civic_route_match(const char *pattern, const char *path, int64_t *id)
{
	*id = 0;
	while (*pattern && *path) {
		if (strncmp(pattern, "{id}", 4) == 0) {
			size_t n = strcspn(path, "/");
			if (!civic_num_parse(path, n, 1, INT64_MAX, id))
				return false;
			pattern += 4;
			path += n;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	/* Only one final '/' may be missing or extra, never a doubled one. */
	if (strcmp(pattern, "/") == 0)
		pattern++;
	else if (*pattern == '\0' && strcmp(path, "/") == 0 && path[-1] != '/')
		path++;
	return *pattern == '\0' && *path == '\0';
}

static void common_headers(struct civic_ctx *ctx)
{
	struct civic_response *r = ctx->resp;

	civic_response_header(r, "X-Request-Id", "%s", ctx->req->request_id);
	civic_response_header(r, "Access-Control-Allow-Origin", "*");
	civic_response_header(r, "Access-Control-Expose-Headers", EXPOSED);
	civic_response_header(r, "Cache-Control", "no-store");
	civic_response_header(r, "X-Content-Type-Options", "nosniff");
}

/* The methods served at the matched path, for Allow and preflight. */
static void allowed_methods(const struct civic_route *routes, size_t n, const char *path,
                            char *out, size_t outlen)
{
	int64_t id;
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!civic_route_match(routes[i].pattern, path, &id) || strstr(out, routes[i].method))
			continue;
		used += (size_t)snprintf(out + used, outlen - used, "%s%s", used ? ", " : "",
		                         routes[i].method);
		if (used >= outlen)
			break;
	}
	if (used < outlen)
		snprintf(out + used, outlen - used, "%sOPTIONS", used ? ", " : "");
}

/* Finds the route; sets *err to 404/405 when there is none. */
static const struct civic_route *find_route(struct civic_ctx *ctx, const struct civic_route *routes,
                                            size_t n, enum civic_err *err)
{
	bool path_known = false;
	int64_t id;

	for (size_t i = 0; i < n; i++) {
		if (!civic_route_match(routes[i].pattern, ctx->req->path, &id))
			continue;
		path_known = true;
		if (strcmp(routes[i].method, ctx->req->method) == 0) {
			ctx->id = id;
			return &routes[i];
		}
	}
	*err = path_known ? CIVIC_E_METHOD_NOT_ALLOWED : CIVIC_E_NOT_FOUND;
	return NULL;
}

static enum civic_err bearer(struct civic_ctx *ctx, bool required)
{
	const char *h = civic_request_header(ctx->req, "Authorization");
	enum civic_err err;

	if (h == NULL) {
		if (!required)
			return CIVIC_OK;
		civic_response_header(ctx->resp, "WWW-Authenticate", "Bearer realm=\"civicsentinel\"");
		return civic_fail(ctx, CIVIC_E_INVALID_TOKEN,
		                  "Missing bearer token: send Authorization: Bearer <token>.");
	}
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		civic_response_header(ctx->resp, "WWW-Authenticate", "Bearer realm=\"civicsentinel\"");
		return civic_fail(ctx, CIVIC_E_INVALID_TOKEN,
		                  "Use Authorization: Bearer <token> from /v1/developer-token/.");
	}
	err = civic_token_verify(ctx->cfg, CIVIC_AUD_API, h + 7, ctx->now, &ctx->claims);
	if (err != CIVIC_OK) {
		civic_response_header(ctx->resp, "WWW-Authenticate",
		                      "Bearer realm=\"civicsentinel\", error=\"invalid_token\"");
		return err;
	}
	ctx->authed = true;
	return CIVIC_OK;
}

/* ctx->body against the route's field table, into ctx->vals. */
static enum civic_err check_fields(struct civic_ctx *ctx)
{
	const struct civic_route *rt = ctx->route;
	enum civic_err err;

	if (rt->nfields > CIVIC_NELEM(ctx->vals))
		return CIVIC_E_INTERNAL;
	err = civic_input_check(rt->fields, rt->nfields, ctx->body, ctx->vals, &ctx->errfields);
	if (err == CIVIC_E_INVALID_REQUEST)
		return civic_fail(ctx, err, "The request body must be a JSON object.");
	return err;
}

/* The JSON body against the route's field table. */
static enum civic_err check_body(struct civic_ctx *ctx)
{
	const struct civic_route *rt = ctx->route;
	struct civic_request *req = ctx->req;

	if (req->body.len == 0)
		return CIVIC_OK;
	if (rt->fields == NULL)
		return civic_fail(ctx, CIVIC_E_INVALID_REQUEST, "This endpoint takes no request body.");
	if (!civic_request_is_json(req))
		return CIVIC_E_UNSUPPORTED_MEDIA;
	if (civic_input_parse_json(req->body.data, req->body.len, &ctx->body) != CIVIC_OK)
		return civic_fail(ctx, CIVIC_E_INVALID_REQUEST, "The request body is not valid JSON.");
	return check_fields(ctx);
}

/* A public route called without a token: counted per client address
 * and hour (SPEC §4). */
static enum civic_err admit_anonymous(struct civic_ctx *ctx)
{
	char client[CIVIC_CLIENT_KEY_MAX];
	enum civic_err err;

	civic_client_key(ctx->req->client_ip, client);
	err = civic_quota_anonymous(ctx->db, client, ctx->cfg->anonymous_per_hour, &ctx->anon);
	if (err == CIVIC_E_RATE_LIMITED)
		return civic_fail(ctx, err,
		                  "Anonymous requests are limited to %ld per hour per client address; "
		                  "retry after the time in Retry-After, or authenticate with a key.",
		                  ctx->cfg->anonymous_per_hour);
	return err;
}

/* Everything between routing and the handler, in the order a client
 * expects: keys in the URL, token, scope, body, paging, then quota
 * (last, so that a request refused for any other reason is never
 * counted). */
static enum civic_err admit(struct civic_ctx *ctx)
{
	const struct civic_route *rt = ctx->route;
	char tmp[8];
	const char *why;
	enum civic_err err;

	if (civic_request_query(ctx->req, "api_key", tmp, sizeof(tmp)) != 0 ||
	    civic_request_query(ctx->req, "api_secret", tmp, sizeof(tmp)) != 0)
		return civic_fail(ctx, CIVIC_E_INVALID_REQUEST,
		                  "Never put keys in a URL: send them in the JSON body or the "
		                  "X-API-Key and X-API-Secret headers.");
	if (rt->auth != CIVIC_AUTH_KEYPAIR &&
	    (err = bearer(ctx, rt->auth != CIVIC_AUTH_PUBLIC)) != CIVIC_OK)
		return err;
	if (ctx->authed && (ctx->claims.scopes & rt->scope) != rt->scope)
		return civic_fail(ctx, CIVIC_E_PERMISSION_DENIED,
		                  "This key lacks the scope %s required here.",
		                  civic_scope_name(rt->scope) ? civic_scope_name(rt->scope) : "?");
	if ((err = check_body(ctx)) != CIVIC_OK)
		return err;
	if (rt->paged && (err = civic_paging_parse(ctx, &ctx->paging)) != CIVIC_OK)
		return err;
	if (!ctx->authed)
		return rt->auth == CIVIC_AUTH_PUBLIC ? admit_anonymous(ctx) : CIVIC_OK;
	err = civic_quota_authorize(ctx->db, &ctx->claims, rt->scope, rt->auth == CIVIC_AUTH_TOKEN,
	                            ctx->now, &ctx->usage, &why);
	if (err == CIVIC_E_INVALID_TOKEN && why)
		return civic_fail(ctx, err, "%s", why);
	if (err == CIVIC_E_QUOTA_EXCEEDED)
		return civic_fail(ctx, err,
		                  "Daily API quota for application %s has been reached. Upgrade your "
		                  "plan or wait until tomorrow (UTC).",
		                  ctx->usage.app_name);
	if (err == CIVIC_E_RATE_LIMITED)
		return civic_fail(ctx, err,
		                  "This key made %lld requests this minute, the most its plan (%s) "
		                  "allows; retry after the time in Retry-After.",
		                  (long long)ctx->usage.minute_limit, ctx->usage.plan);
	if (err == CIVIC_E_PLAN_REQUIRED)
		return civic_fail(ctx, err, "Your plan (%s) does not include the scope %s.",
		                  ctx->usage.plan, civic_scope_name(rt->scope));
	return err;
}

static void reply(struct civic_ctx *ctx, enum civic_err err)
{
	struct civic_response *r = ctx->resp;
	json_object *meta = NULL;

	if (ctx->usage.known)
		civic_quota_headers(&ctx->usage, ctx->now, err, r);
	if (ctx->anon.known)
		civic_quota_anon_headers(&ctx->anon, ctx->now, err == CIVIC_E_RATE_LIMITED, r);
	if (err == CIVIC_E_UNAVAILABLE)
		civic_response_header(r, "Retry-After", "5");
	if (err != CIVIC_OK) {
		if (civic_err_status(err) >= 500)
			civic_log_error("%s %s: %s", ctx->req->method, ctx->req->path, civic_err_code(err));
		civic_response_error(r, err, ctx->errmsg[0] ? ctx->errmsg : NULL,
		                     err == CIVIC_E_VALIDATION ? ctx->errfields : NULL,
		                     ctx->req->request_id);
		return;
	}
	if (ctx->usage.known)
		meta = civic_quota_meta(&ctx->usage);
	if (!civic_response_success(r, ctx->status, ctx->data, meta, ctx->total,
	                            ctx->next[0] ? ctx->next : NULL)) {
		civic_response_reset(r);
		common_headers(ctx);
		civic_response_error(r, CIVIC_E_INTERNAL, NULL, NULL, ctx->req->request_id);
	}
	json_object_put(meta);
}

static void preflight(struct civic_ctx *ctx, const char *allow)
{
	struct civic_response *r = ctx->resp;

	civic_response_header(r, "Access-Control-Allow-Methods", "%s", allow);
	civic_response_header(r, "Access-Control-Allow-Headers",
	                      "Authorization, Content-Type, X-API-Key, X-API-Secret, X-Request-Id");
	civic_response_header(r, "Access-Control-Max-Age", "600");
	civic_response_header(r, "Allow", "%s", allow);
	civic_response_empty(r, 204);
}

void civic_handle(struct civic_ctx *ctx, const struct civic_route *routes, size_t nroutes)
{
	enum civic_err err = CIVIC_OK;
	char allow[128];

	common_headers(ctx);
	ctx->status = 200;
	ctx->total = -1;
	allowed_methods(routes, nroutes, ctx->req->path, allow, sizeof(allow));
	if (strcmp(ctx->req->method, "OPTIONS") == 0 && strcmp(allow, "OPTIONS") != 0) {
		preflight(ctx, allow);
		return;
	}
	if ((ctx->route = find_route(ctx, routes, nroutes, &err)) == NULL) {
		if (err == CIVIC_E_METHOD_NOT_ALLOWED)
			civic_response_header(ctx->resp, "Allow", "%s", allow);
		reply(ctx, err);
		return;
	}
	if ((err = admit(ctx)) == CIVIC_OK)
		err = ctx->route->handler(ctx);
	reply(ctx, err);
}

enum civic_err civic_invoke(struct civic_ctx *ctx, const struct civic_api *api,
                            const char *method, const char *path, json_object *body)
{
	const struct civic_route *rt = NULL;
	enum civic_err err;

	for (size_t i = 0; i < api->nroutes && rt == NULL; i++)
		if (strcmp(api->routes[i].method, method) == 0 &&
		    civic_route_match(api->routes[i].pattern, path, &ctx->id))
			rt = &api->routes[i];
	if (rt == NULL)
		return CIVIC_E_NOT_FOUND;
	ctx->route = rt;
	ctx->authed = true;
	ctx->status = 200;
	ctx->total = -1;
	if ((ctx->claims.scopes & rt->scope) != rt->scope)
		return civic_fail(ctx, CIVIC_E_PLAN_REQUIRED, "Your plan (%s) does not include %s.",
		                  ctx->claims.plan,
		                  civic_scope_name(rt->scope) ? civic_scope_name(rt->scope) : "?");
	if (body != NULL && rt->fields != NULL) {
		ctx->body = json_object_get(body);
		if ((err = check_fields(ctx)) != CIVIC_OK)
			return err;
	}
	if (rt->paged && (err = civic_paging_parse(ctx, &ctx->paging)) != CIVIC_OK)
		return err;
	return rt->handler(ctx);
}

/* ---- the loop: FastCGI, or one request as plain CGI ---- */

struct io_cgi {
	FILE *in, *out;
};

static int cgi_read(void *io, char *buf, int n)
{
	size_t got = fread(buf, 1, (size_t)n, ((struct io_cgi *)io)->in);
	return ferror(((struct io_cgi *)io)->in) ? -1 : (int)got;
}

static int cgi_write(void *io, const char *buf, int n)
{
	return fwrite(buf, 1, (size_t)n, ((struct io_cgi *)io)->out) == (size_t)n ? n : -1;
}

static int fcgi_read(void *io, char *buf, int n)
{
	return FCGX_GetStr(buf, n, ((FCGX_Request *)io)->in);
}

static int fcgi_write(void *io, const char *buf, int n)
{
	return FCGX_PutStr(buf, n, ((FCGX_Request *)io)->out);
}

struct loop {
	struct civic_config cfg;
	bool ready;               /* config, secrets and data loaded */
	struct civic_db *db;
	struct civic_request req;
	struct civic_response resp;
	const struct civic_route *routes;
	size_t nroutes;
	civic_page_handler handle; /* NULL: the JSON API (routes) */
};

static void one(struct loop *l, char **envp, civic_read_fn rd, civic_write_fn wr, void *io)
{
	struct civic_ctx ctx;
	enum civic_err err;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = &l->cfg;
	ctx.db = l->db;
	ctx.req = &l->req;
	ctx.resp = &l->resp;
	ctx.now = time(NULL);
	civic_response_reset(&l->resp);
	err = civic_request_parse(&l->req, envp);
	civic_log_set_request_id(l->req.request_id);
	if (err == CIVIC_OK)
		err = civic_request_read_body(&l->req, rd, io);
	if (err == CIVIC_OK && !l->ready)
		err = CIVIC_E_INTERNAL;
	if (l->handle != NULL)
		l->handle(&ctx, err);
	else if (err != CIVIC_OK) {
		ctx.total = -1;
		common_headers(&ctx);
		reply(&ctx, err);
	} else
		civic_handle(&ctx, l->routes, l->nroutes);
	civic_response_write(&l->resp, wr, io);
	json_object_put(ctx.data);
	json_object_put(ctx.errfields);
	json_object_put(ctx.body);
	civic_request_free(&l->req);
	civic_log_set_request_id(NULL);
}

static bool setup(struct loop *l)
{
	char err[512];

	if (sodium_init() < 0) {
		civic_log_error("libsodium failed to initialise");
		return false;
	}
	if (!civic_config_load(civic_config_path(), true, &l->cfg, err, sizeof(err))) {
		civic_log_error("%s", err);
		return false;
	}
	civic_log_setup(getenv("CIVIC_PROGRAM") ? getenv("CIVIC_PROGRAM") : "civic",
	                (enum civic_log_level)l->cfg.log_level);
	if (!civic_countries_load(&l->cfg, err, sizeof(err))) {
		civic_log_error("%s", err);
		return false;
	}
	if ((l->db = civic_db_new(&l->cfg)) == NULL)
		return false;
	return true;
}

bool civic_listener_allowed(const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;

	if (len < (socklen_t)sizeof(sa->sa_family))
		return false;
	switch (sa->sa_family) {
	case AF_UNIX:
		return true;
	case AF_INET:
		if (len < (socklen_t)sizeof(in))
			return false;
		memcpy(&in, sa, sizeof(in));
		return ntohl(in.sin_addr.s_addr) >> 24 == 127;
	case AF_INET6:
		if (len < (socklen_t)sizeof(in6))
			return false;
		memcpy(&in6, sa, sizeof(in6));
		/* An IPv6 socket bound to ::ffff:127.x takes IPv4 loopback only. */
		return IN6_IS_ADDR_LOOPBACK(&in6.sin6_addr) ||
		       (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr) && in6.sin6_addr.s6_addr[12] == 127);
	default:
		return false;
	}
}

/* "0.0.0.0:9000", "[::]:9000" or "address family N", for the log. */
static void listener_name(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, outlen, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, outlen, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else
		snprintf(out, outlen, "address family %d", ss->ss_family);
}

bool civic_listener_check(int fd, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss), optlen;
	int listening = 0;
	char name[INET6_ADDRSTRLEN + 32];

	if (whylen > 0)
		why[0] = '\0';
	optlen = sizeof(listening);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) != 0) {
		/* Not a socket, or no fd 0 at all: plain CGI, as FCGX_IsCGI says. */
		if (errno == ENOTSOCK || errno == EBADF)
			return true;
		snprintf(why, whylen, "cannot inspect the FastCGI socket (fd %d): %s", fd,
		         strerror(errno));
		return false;
	}
	if (!listening)
		return true;
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		snprintf(why, whylen, "cannot read the address of the FastCGI socket (fd %d): %s", fd,
		         strerror(errno));
		return false;
	}
	if (civic_listener_allowed((const struct sockaddr *)&ss, len))
		return true;
	listener_name(&ss, name, sizeof(name));
	snprintf(why, whylen,
	         "refusing to serve FastCGI on %s: the listening socket must be a unix socket or "
	         "bound to a loopback address (127.0.0.1, ::1), because whoever reaches it can "
	         "send requests with any client address and headers",
	         name);
	return false;
}

static int serve(struct loop *l, const char *program)
{
	char why[512];

	signal(SIGPIPE, SIG_IGN);
	civic_log_setup(program, CIVIC_LOG_INFO);
	/* Before the configuration, the secrets and the database: a
	 * responder reachable from the network serves nothing at all. */
	if (!civic_listener_check(STDIN_FILENO, why, sizeof(why))) {
		civic_log_error("%s", why);
		return 1;
	}
	civic_response_init(&l->resp);
	civic_buf_init(&l->req.body, CIVIC_BODY_MAX);
	/* A broken setup still answers, with a 500 envelope and a log line,
	 * rather than a crash loop the web server would keep respawning. */
	l->ready = setup(l);
	civic_log_setup(program, l->ready ? (enum civic_log_level)l->cfg.log_level : CIVIC_LOG_INFO);
	if (FCGX_IsCGI()) {
		struct io_cgi io = {stdin, stdout};
		one(l, environ, cgi_read, cgi_write, &io);
		fflush(stdout);
	} else {
		FCGX_Request rq;
		FCGX_Init();
		FCGX_InitRequest(&rq, 0, 0);
		while (FCGX_Accept_r(&rq) >= 0) {
			one(l, rq.envp, fcgi_read, fcgi_write, &rq);
			FCGX_Finish_r(&rq);
		}
		FCGX_Free(&rq, 1);
	}
	civic_db_free(l->db);
	civic_countries_free();
	civic_response_free(&l->resp);
	civic_request_free(&l->req);
	if (l->ready)
		civic_config_free(&l->cfg);
	return 0;
}

int civic_serve(const char *program, const struct civic_route *routes, size_t nroutes)
{
	static struct loop l; /* one per process, reused across requests */

	l.routes = routes;
	l.nroutes = nroutes;
	return serve(&l, program);
}

int civic_serve_pages(const char *program, civic_page_handler handle)
{
	static struct loop l;

	l.handle = handle;
	return serve(&l, program);
}
