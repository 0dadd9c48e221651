/* Forms: application/x-www-form-urlencoded bodies, and the bridge that
 * hands a form to an API route as its JSON body (console_call), so the
 * console's forms are judged by the API's own field tables and
 * handlers. */
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "num.h"

#define NAME_MAX_BYTES 64

void console_form_free(struct console_form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->names[i]);
		free(f->values[i]);
	}
	f->n = 0;
}

static char *decode(const char *s, size_t len, size_t max)
{
	char *out;

	if (len > 3 * max || (out = malloc(max + 1)) == NULL)
		return NULL;
	if (!civic_percent_decode(s, len, true, out, max + 1)) {
		free(out);
		return NULL;
	}
	return out;
}

bool console_form_parse(struct console_form *f, const char *body, size_t len)
{
	const char *p = body, *end = body + len;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;
		const char *stop = amp ? amp : end;

		if (stop == p) { /* "a=1&&b=2": an empty pair is skipped, as browsers do */
			p = stop + 1;
			continue;
		}
		if (f->n == CONSOLE_FORM_FIELDS_MAX)
			goto bad;
		eq = memchr(p, '=', (size_t)(stop - p));
		f->names[f->n] = decode(p, (size_t)((eq ? eq : stop) - p), NAME_MAX_BYTES);
		f->values[f->n] = eq ? decode(eq + 1, (size_t)(stop - eq - 1), CONSOLE_FORM_VALUE_MAX)
		                     : strdup("");
		if (f->names[f->n] == NULL || f->values[f->n] == NULL) {
			free(f->names[f->n]);
			free(f->values[f->n]);
			goto bad;
		}
		f->n++;
		p = amp ? amp + 1 : end;
	}
	return true;
bad:
	console_form_free(f);
	return false;
}

const char *console_form_get(const struct console *c, const char *name)
{
	for (size_t i = 0; i < c->form.n; i++)
		if (strcmp(c->form.names[i], name) == 0)
			return c->form.values[i];
	return NULL;
}

size_t console_form_all(const struct console *c, const char *name, const char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < c->form.n; i++)
		if (strcmp(c->form.names[i], name) == 0) {
			if (n < max)
				out[n] = c->form.values[i];
			n++;
		}
	return n;
}

static const struct civic_route *route_of(const struct civic_api *api, const char *method,
                                          const char *path)
{
	int64_t id;

	for (size_t i = 0; i < api->nroutes; i++)
		if (strcmp(api->routes[i].method, method) == 0 &&
		    civic_route_match(api->routes[i].pattern, path, &id))
			return &api->routes[i];
	return NULL;
}

json_object *console_form_json(const struct console *c, const struct civic_api *api,
                               const char *method, const char *path)
{
	const struct civic_route *rt = route_of(api, method, path);
	json_object *o = json_object_new_object();
	int64_t n;

	for (size_t i = 0; rt && o && i < rt->nfields; i++) {
		const struct civic_field *f = &rt->fields[i];
		const char *v = console_form_get(c, f->name);
		json_object *j;

		if (v == NULL)
			continue;
		if (v[0] == '\0' && (f->flags & CIVIC_F_NULLABLE))
			j = NULL; /* json-c's null */
		else if (v[0] == '\0' && !(f->flags & CIVIC_F_REQUIRED))
			continue;
		else if (f->type == CIVIC_F_INT && civic_num_parse_str(v, INT64_MIN, INT64_MAX, &n))
			j = json_object_new_int64(n);
		else
			j = json_object_new_string(v);
		json_object_object_add(o, f->name, j);
	}
	return o;
}

enum civic_err console_call(struct console *c, const struct civic_api *api, const char *method,
                            const char *path, json_object *body, struct civic_ctx *sub)
{
	struct civic_ctx *ctx = c->ctx;

	memset(sub, 0, sizeof(*sub));
	sub->cfg = ctx->cfg;
	sub->db = ctx->db;
	sub->req = ctx->req;
	sub->resp = ctx->resp;
	sub->now = ctx->now;
	sub->claims.account_id = c->sess.account_id;
	sub->claims.scopes = c->sess.scopes;
	memcpy(sub->claims.plan, c->sess.plan, sizeof(sub->claims.plan));
	return civic_invoke(sub, api, method, path, body);
}

void console_call_free(struct civic_ctx *sub)
{
	json_object_put(sub->data);
	json_object_put(sub->errfields);
	json_object_put(sub->body);
	sub->data = sub->errfields = sub->body = NULL;
}

enum civic_err console_list(struct console *c, const struct civic_api *api, const char *path,
                            const char *query, struct civic_ctx *sub)
{
	struct civic_request *req = c->ctx->req;
	const char *own = req->query;
	enum civic_err err;

	if (query)
		req->query = query;
	err = console_call(c, api, "GET", path, NULL, sub);
	req->query = own;
	return err;
}
