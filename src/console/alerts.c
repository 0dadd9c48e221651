/* Alert pages: destinations (email, webhook, WhatsApp), subscriptions
 * and the delivery history. Every read and write runs the API's own
 * handler (console_call), so a form obeys the API's rules: its field
 * messages, its caps, its 404 for another account's id. The pages only
 * arrange what the API answers. */
#include <stdio.h>
#include <string.h>

#include "console.h"
#include "endpoints.h"

#define DESTINATIONS "/v1/alert-destinations/"
#define JOIN_WHATSAPP "/v1/alert-destinations/join-whatsapp-group/"
#define SUBSCRIPTIONS "/v1/alert-subscriptions/"
#define DISPATCHES "/v1/alert-dispatches/"
/* Every live destination of an account fits in one page of the API
 * (its cap is 100): the option lists of the selects. */
#define ALL_DESTINATIONS "page_size=100"
#define PAGE_URL_MAX (CIVIC_PATH_MAX + CIVIC_QUERY_MAX)

static const char *const level_names[] = {"low", "guarded", "elevated", "high", "severe"};

/* ------------------------------------------------------------ helpers */

static void add_str(json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

static void add_bool(json_object *o, const char *k)
{
	json_object_object_add(o, k, json_object_new_boolean(1));
}

/* The lists of a page: the request's own query for a GET, none when a
 * POST re-renders the page. */
static const char *page_query(const struct console *c)
{
	return strcmp(c->ctx->req->method, "GET") == 0 ? NULL : "";
}

/* o[label_key] = the name of the level in o[key] (1..5). */
static void add_level_name(json_object *o, const char *key, const char *label_key)
{
	json_object *v;
	int64_t level;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return;
	level = json_object_get_int64(v);
	if (level >= 1 && level <= (int64_t)CIVIC_NELEM(level_names))
		add_str(o, label_key, level_names[level - 1]);
}

/* Appends "name=value&" to buf (percent-encoded); false when it does
 * not fit. */
static bool add_param(char *buf, size_t cap, size_t *len, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	int n = snprintf(buf + *len, cap - *len, "%s=", name);

	if (n < 0 || (size_t)n >= cap - *len)
		return false;
	*len += (size_t)n;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		             (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL;
		if (*len + (plain ? 1 : 3) >= cap)
			return false;
		if (plain)
			buf[(*len)++] = (char)*p;
		else {
			buf[(*len)++] = '%';
			buf[(*len)++] = hex[*p >> 4];
			buf[(*len)++] = hex[*p & 15];
		}
	}
	if (*len + 1 >= cap)
		return false;
	buf[(*len)++] = '&';
	buf[*len] = '\0';
	return true;
}

/* The console's own URL of page n of a list: base, the filters of keep
 * the request carries (and its page_size), then page=n. */
static bool page_url(const struct console *c, const char *base, const char *const *keep,
                     size_t nkeep, int64_t n, char *buf, size_t cap)
{
	char v[256];
	size_t len;
	int w = snprintf(buf, cap, "%s?", base);

	if (w < 0 || (size_t)w >= cap)
		return false;
	len = (size_t)w;
	for (size_t i = 0; i <= nkeep; i++) {
		const char *name = i < nkeep ? keep[i] : "page_size";
		if (civic_request_query(c->ctx->req, name, v, sizeof(v)) == 1 && v[0] &&
		    !add_param(buf, cap, &len, name, v))
			return false;
	}
	w = snprintf(buf + len, cap - len, "page=%lld", (long long)n);
	return w > 0 && (size_t)w < cap - len;
}

/* view.pager: Previous / Next links of the list sub answered, built from
 * the console's path (sub->next is the API's URL), and "page N of M". */
static void add_pager(const struct console *c, json_object *view, const struct civic_ctx *sub,
                      const char *base, const char *const *keep, size_t nkeep)
{
	int64_t page = sub->paging.page, size = sub->paging.size, total = sub->total;
	int64_t pages = total > 0 && size > 0 ? (total + size - 1) / size : 1;
	char url[PAGE_URL_MAX];
	json_object *pager;

	if (total < 0 || (page <= 1 && pages <= 1))
		return;
	pager = json_object_new_object();
	/* Past the end, Previous leads back to the last page. */
	if (page > 1 && page_url(c, base, keep, nkeep, page - 1 > pages ? pages : page - 1, url,
	                         sizeof(url)))
		add_str(pager, "prev", url);
	if (page < pages && page_url(c, base, keep, nkeep, page + 1, url, sizeof(url)))
		add_str(pager, "next", url);
	json_object_object_add(pager, "page", json_object_new_int64(page));
	json_object_object_add(pager, "pages", json_object_new_int64(pages));
	json_object_object_add(view, "pager", pager);
}

/* A list's query the API refused (a bad page, a hand-made filter) that
 * the page has no field for: one form-wide sentence. */
static void query_error(json_object *view, json_object *errfields)
{
	char msg[512] = "This address asks for a list that cannot be shown:";
	size_t len = strlen(msg);

	json_object_object_foreach(errfields, field, why)
	{
		int n = snprintf(msg + len, sizeof(msg) - len, " %s %s;", field,
		                 json_object_get_string(why));
		if (n < 0 || (size_t)n >= sizeof(msg) - len)
			break;
		len += (size_t)n;
	}
	if (msg[len - 1] == ';')
		msg[len - 1] = '.';
	console_view_error(view, msg);
}

/* Field errors beside the filters named in filters; the rest (paging,
 * which has no field) form-wide. */
static void filter_errors(json_object *view, json_object *errfields, const char *const *filters,
                          size_t nfilters)
{
	json_object *fields = json_object_new_object(), *rest = json_object_new_object();

	json_object_object_foreach(errfields, field, why)
	{
		bool shown = false;
		for (size_t i = 0; i < nfilters; i++)
			shown = shown || strcmp(field, filters[i]) == 0;
		json_object_object_add(shown ? fields : rest, field, json_object_get(why));
	}
	json_object_object_add(view, "errors", fields);
	if (json_object_object_length(rest) > 0)
		query_error(view, rest);
	json_object_put(rest);
}

/* One list of a page: the API route, where its pager links point and
 * which filters they keep, the view key of its rows. */
struct listing {
	const struct civic_api *api;
	const char *path, *page, *key;
	const char *const *filters;
	size_t nfilters;
	bool filters_on_page;               /* their errors go beside the fields */
	void (*decorate)(json_object *rows); /* may be NULL */
};

/* Adds l's rows (with total, "listed" and the pager) to view, with query
 * as the list's query string (NULL: the request's own). A query the API
 * refuses shows its reasons and sets *status to 400. */
static enum civic_err add_listing(struct console *c, json_object *view, const struct listing *l,
                                  const char *query, int *status)
{
	struct civic_ctx sub;
	enum civic_err err = console_list(c, l->api, l->path, query, &sub);

	if (err == CIVIC_OK) {
		if (l->decorate)
			l->decorate(sub.data);
		json_object_object_add(view, l->key, json_object_get(sub.data));
		json_object_object_add(view, "total", json_object_new_int64(sub.total));
		add_bool(view, "listed");
		add_pager(c, view, &sub, l->page, l->filters, l->nfilters);
	} else if (err == CIVIC_E_VALIDATION) {
		if (l->filters_on_page)
			filter_errors(view, sub.errfields, l->filters, l->nfilters);
		else
			query_error(view, sub.errfields);
		*status = 400;
		err = CIVIC_OK;
	}
	console_call_free(&sub);
	return err;
}

/* How a refused write shows on its form: field errors (into
 * view[errors_key]), or a form-wide message. Returns the status to
 * render the form with, or 0 when err is for the error page. */
static int form_failure(const struct console *c, enum civic_err err, const struct civic_ctx *sub,
                        json_object *view, const char *errors_key)
{
	char msg[384];
	const char *scope;

	switch (err) {
	case CIVIC_E_VALIDATION:
		if (sub->errfields)
			json_object_object_add(view, errors_key, json_object_get(sub->errfields));
		else
			console_view_error(view, sub->errmsg[0] ? sub->errmsg : "Check the form.");
		return 400;
	case CIVIC_E_PLAN_REQUIRED:
		scope = sub->route ? civic_scope_name(sub->route->scope) : NULL;
		snprintf(msg, sizeof(msg), "Your plan, %s, does not include %s.", c->sess.plan_name,
		         scope ? scope : "this feature");
		console_view_error(view, msg);
		add_bool(view, "error_billing");
		return 403;
	case CIVIC_E_PLAN_LIMIT:
		console_view_error(view, sub->errmsg[0] ? sub->errmsg : "Your plan's limit is reached.");
		add_bool(view, "error_billing");
		return 403;
	case CIVIC_E_CONFLICT:
		console_view_error(view, sub->errmsg[0] ? sub->errmsg : "This exists already.");
		return 409;
	case CIVIC_E_BAD_GATEWAY:
		console_view_error(view, sub->errmsg[0] ? sub->errmsg
		                                        : "The gateway did not answer; try again later.");
		return 502;
	default:
		return 0;
	}
}

/* A create form posted to the API route POST api/path. Success: *data
 * is the new object (a reference; put it). A refusal the form can show:
 * *view holds the form's values echoed under form_key and the reasons
 * (form_failure) under errors_key, *status the page's status. Both
 * answer CIVIC_OK; other errors are for the error page. */
static enum civic_err submit(struct console *c, const struct civic_api *api, const char *path,
                             const char *const *names, size_t n, const char *form_key,
                             const char *errors_key, json_object **data, json_object **view,
                             int *status)
{
	json_object *body = console_form_json(c, api, "POST", path);
	struct civic_ctx sub;
	enum civic_err err = console_call(c, api, "POST", path, body, &sub);

	json_object_put(body);
	*data = *view = NULL;
	if (err == CIVIC_OK) {
		*data = json_object_get(sub.data);
	} else {
		*view = json_object_new_object();
		json_object_object_add(*view, form_key, console_form_echo(c, names, n));
		if ((*status = form_failure(c, err, &sub, *view, errors_key)) != 0)
			err = CIVIC_OK;
		else {
			json_object_put(*view);
			*view = NULL;
		}
	}
	console_call_free(&sub);
	return err;
}

/* Appends the option value/text to out, selected when it is chosen;
 * returns whether it was. */
static bool add_option(json_object *out, const char *value, const char *text,
                       const char *chosen)
{
	json_object *o = json_object_new_object();
	bool selected = chosen && strcmp(chosen, value) == 0;

	add_str(o, "value", value);
	add_str(o, "text", text);
	if (selected)
		add_bool(o, "selected");
	json_object_array_add(out, o);
	return selected;
}

/* A chosen value no option had stays as its own, so the form shows
 * what was sent. */
static void keep_unknown(json_object *out, const char *chosen, bool found)
{
	if (chosen && chosen[0] && !found)
		add_option(out, chosen, chosen, chosen);
}

/* Options of a destination select from the API's rows: value, text,
 * selected. Disabled destinations are left out when skip_disabled. A
 * chosen value none of them has stays as an option of its own, so the
 * form shows what was sent. */
static json_object *destination_options(json_object *rows, const char *chosen,
                                        bool skip_disabled)
{
	json_object *out = json_object_new_array(), *row;
	bool found = false;
	char id[24], text[160];

	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		row = json_object_array_get_idx(rows, i);
		const char *status = json_object_get_string(json_object_object_get(row, "status"));
		const char *label = json_object_get_string(json_object_object_get(row, "label"));
		const char *channel = json_object_get_string(json_object_object_get(row, "channel"));
		if (skip_disabled && status && strcmp(status, "disabled") == 0)
			continue;
		snprintf(id, sizeof(id), "%lld",
		         (long long)json_object_get_int64(json_object_object_get(row, "id")));
		snprintf(text, sizeof(text), "%.100s (%.16s, %.16s)", label ? label : "?",
		         channel ? channel : "?", status ? status : "?");
		found |= add_option(out, id, text, chosen);
	}
	keep_unknown(out, chosen, found);
	return out;
}

/* view[key] = the destination options, from a list of every destination. */
static enum civic_err add_destination_options(struct console *c, json_object *view,
                                              const char *key, const char *chosen,
                                              bool skip_disabled)
{
	struct civic_ctx sub;
	enum civic_err err;

	err = console_list(c, &civic_alert_destinations_api, DESTINATIONS, ALL_DESTINATIONS, &sub);
	if (err == CIVIC_OK)
		json_object_object_add(view, key, destination_options(sub.data, chosen, skip_disabled));
	console_call_free(&sub);
	return err;
}

/* Options of a fixed select: values[i] with texts[i] (texts may be
 * NULL: the value); an unknown chosen value stays as its own option. */
static json_object *fixed_options(const char *const *values, const char *const *texts, size_t n,
                                  const char *chosen)
{
	json_object *out = json_object_new_array();
	bool found = false;

	for (size_t i = 0; i < n; i++)
		found |= add_option(out, values[i], texts ? texts[i] : values[i], chosen);
	keep_unknown(out, chosen, found);
	return out;
}

/* The API path of the console route's {id}: prefix, the id, "/". */
static void id_path(const struct console *c, const char *prefix, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%lld/", prefix, (long long)c->ctx->id);
}

/* ------------------------------------------------------- destinations */

static const char *const destination_names[] = {"label", "channel", "identifier"};
static const char *const join_names[] = {"invite_link", "label"};
static const char *const destination_filters[] = {"channel", "status"};

/* The destinations page with view (taken): the list, the forms. */
static enum civic_err destinations_page(struct console *c, int status, json_object *view)
{
	json_object *form = json_object_object_get(view, "form");
	const char *channel = json_object_get_string(json_object_object_get(form, "channel"));
	static const struct listing list = {
		&civic_alert_destinations_api, DESTINATIONS, "/console/destinations", "destinations",
		destination_filters, CIVIC_NELEM(destination_filters), false, NULL};
	enum civic_err err = add_listing(c, view, &list, page_query(c), &status);

	if (err != CIVIC_OK) {
		json_object_put(view);
		return err;
	}
	if (channel && strcmp(channel, "webhook") == 0)
		add_bool(view, "channel_webhook");
	if (c->sess.scopes & CIVIC_SCOPE_DESTINATIONS_WHATSAPP_JOIN)
		add_bool(view, "whatsapp");
	return console_render(c, status, "destinations", "Alert destinations", "destinations", view);
}

enum civic_err console_destinations(struct console *c)
{
	return destinations_page(c, 200, json_object_new_object());
}

/* A new webhook: its signing secret, this once. */
static enum civic_err webhook_created(struct console *c, json_object *data)
{
	json_object *view = json_object_new_object(), *secret;

	if (json_object_object_get_ex(data, "signing_secret", &secret)) {
		json_object_object_add(view, "signing_secret", json_object_get(secret));
		json_object_object_del(data, "signing_secret");
	}
	json_object_object_add(view, "destination", json_object_get(data));
	return console_render(c, 200, "destination_created", "Webhook created", "destinations",
	                      view);
}

enum civic_err console_destination_create(struct console *c)
{
	json_object *data, *view;
	int status;
	enum civic_err err = submit(c, &civic_alert_destinations_api, DESTINATIONS, destination_names,
	                            CIVIC_NELEM(destination_names), "form", "errors", &data, &view,
	                            &status);

	if (err != CIVIC_OK)
		return err;
	if (view)
		return destinations_page(c, status, view);
	err = json_object_object_get(data, "signing_secret")
	          ? webhook_created(c, data)
	          : console_redirect(c, "/console/destinations", "destination_created");
	json_object_put(data);
	return err;
}

enum civic_err console_destination_join(struct console *c)
{
	json_object *data, *view;
	int status;
	/* The WhatsApp form has its own field names in the view: its label
	 * is not the other form's. */
	enum civic_err err = submit(c, &civic_alert_destinations_api, JOIN_WHATSAPP, join_names,
	                            CIVIC_NELEM(join_names), "wa_form", "wa_errors", &data, &view,
	                            &status);

	if (err != CIVIC_OK)
		return err;
	if (view)
		return destinations_page(c, status, view);
	json_object_put(data);
	return console_redirect(c, "/console/destinations", "destination_created");
}

enum civic_err console_destination_delete_form(struct console *c)
{
	char path[64];
	json_object *view;
	struct civic_ctx sub;
	enum civic_err err;

	id_path(c, DESTINATIONS, path, sizeof(path));
	err = console_call(c, &civic_alert_destinations_api, "GET", path, NULL, &sub);
	if (err != CIVIC_OK) {
		console_call_free(&sub);
		return err;
	}
	view = json_object_new_object();
	json_object_object_add(view, "destination", json_object_get(sub.data));
	console_call_free(&sub);
	return console_render(c, 200, "destination_delete", "Delete destination", "destinations",
	                      view);
}

/* DELETE base/{id}/ of api for the page's id, then back to page with
 * notice; another account's id is the API's 404. */
static enum civic_err delete_then(struct console *c, const struct civic_api *api,
                                  const char *base, const char *page, const char *notice)
{
	char path[64];
	struct civic_ctx sub;
	enum civic_err err;

	id_path(c, base, path, sizeof(path));
	err = console_call(c, api, "DELETE", path, NULL, &sub);
	console_call_free(&sub);
	return err != CIVIC_OK ? err : console_redirect(c, page, notice);
}

enum civic_err console_destination_delete(struct console *c)
{
	return delete_then(c, &civic_alert_destinations_api, DESTINATIONS, "/console/destinations",
	                   "destination_deleted");
}

/* ------------------------------------------------------ subscriptions */

static const char *const subscription_names[] = {"destination_id", "stream", "min_level"};
static const char *const subscription_filters[] = {"destination_id", "stream"};
static const char *const level_values[] = {"1", "2", "3", "4", "5"};
static const char *const level_texts[] = {"1 — low", "2 — guarded", "3 — elevated", "4 — high",
                                          "5 — severe"};

static void name_min_levels(json_object *rows)
{
	for (size_t i = 0; rows && i < json_object_array_length(rows); i++)
		add_level_name(json_object_array_get_idx(rows, i), "min_level", "min_level_name");
}

/* The subscriptions page with view (taken): the list, the form. */
static enum civic_err subscriptions_page(struct console *c, int status, json_object *view)
{
	const char *chosen = console_form_get(c, "destination_id");
	const char *level = console_form_get(c, "min_level");
	static const struct listing list = {
		&civic_alert_subscriptions_api, SUBSCRIPTIONS, "/console/subscriptions", "subscriptions",
		subscription_filters, CIVIC_NELEM(subscription_filters), false, name_min_levels};
	enum civic_err err = add_listing(c, view, &list, page_query(c), &status);

	if (err == CIVIC_OK)
		err = add_destination_options(c, view, "destination_options", chosen, true);
	if (err != CIVIC_OK) {
		json_object_put(view);
		return err;
	}
	json_object_object_add(view, "level_options",
	                       fixed_options(level_values, level_texts, CIVIC_NELEM(level_values),
	                                     level ? level : "1"));
	return console_render(c, status, "subscriptions", "Alert subscriptions", "subscriptions",
	                      view);
}

enum civic_err console_subscriptions(struct console *c)
{
	return subscriptions_page(c, 200, json_object_new_object());
}

enum civic_err console_subscription_create(struct console *c)
{
	json_object *data, *view;
	int status;
	enum civic_err err = submit(c, &civic_alert_subscriptions_api, SUBSCRIPTIONS,
	                            subscription_names, CIVIC_NELEM(subscription_names), "form",
	                            "errors", &data, &view, &status);

	if (err != CIVIC_OK)
		return err;
	if (view)
		return subscriptions_page(c, status, view);
	json_object_put(data);
	return console_redirect(c, "/console/subscriptions", "subscription_created");
}

enum civic_err console_subscription_cancel(struct console *c)
{
	return delete_then(c, &civic_alert_subscriptions_api, SUBSCRIPTIONS,
	                   "/console/subscriptions", "subscription_cancelled");
}

/* --------------------------------------------------------- dispatches */

static const char *const dispatch_filters[] = {"status", "destination_id", "since"};
static const char *const dispatch_statuses[] = {"", "pending", "retrying", "delivered",
                                                "failed", "skipped_quota"};
static const char *const dispatch_status_texts[] = {"Any", "pending", "retrying", "delivered",
                                                    "failed", "skipped_quota"};

/* The request's query without its empty parameters into out: the
 * filter form sends "status=&since=" for "any", which the API refuses
 * (an empty filter there is a mistake, not "everything"). */
static void drop_empty(const char *query, char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	while (*query) {
		size_t seg = strcspn(query, "&");
		const char *eq = memchr(query, '=', seg);
		if (eq && eq + 1 < query + seg && len + seg + 2 <= cap) {
			memcpy(out + len, query, seg);
			len += seg;
			out[len++] = '&';
			out[len] = '\0';
		}
		query += seg;
		if (*query == '&')
			query++;
	}
	if (len > 0)
		out[len - 1] = '\0';
}

/* The filter form's values from the query, as they were sent. */
static json_object *filter_echo(const struct console *c)
{
	json_object *o = json_object_new_object();
	char v[256];

	for (size_t i = 0; i < CIVIC_NELEM(dispatch_filters); i++)
		if (civic_request_query(c->ctx->req, dispatch_filters[i], v, sizeof(v)) == 1)
			add_str(o, dispatch_filters[i], v);
	return o;
}

/* The history rows as the page shows them: level names, and whether a
 * row still waits for an attempt (its next_attempt_at means something). */
static void decorate_dispatches(json_object *rows)
{
	json_object *row, *alert;
	const char *status;

	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		row = json_object_array_get_idx(rows, i);
		status = json_object_get_string(json_object_object_get(row, "status"));
		if (status && (strcmp(status, "pending") == 0 || strcmp(status, "retrying") == 0))
			add_bool(row, "waiting");
		if (json_object_object_get_ex(row, "alert", &alert)) {
			add_level_name(alert, "level", "level_name");
			add_level_name(alert, "previous_level", "previous_level_name");
		}
	}
}

enum civic_err console_dispatches(struct console *c)
{
	json_object *view = json_object_new_object(), *form = filter_echo(c);
	const char *status_v = json_object_get_string(json_object_object_get(form, "status"));
	const char *dest_v = json_object_get_string(json_object_object_get(form, "destination_id"));
	static const struct listing list = {
		&civic_alert_dispatches_api, DISPATCHES, "/console/dispatches", "dispatches",
		dispatch_filters, CIVIC_NELEM(dispatch_filters), true, decorate_dispatches};
	char query[CIVIC_QUERY_MAX + 1];
	enum civic_err err;
	int status = 200;

	json_object_object_add(view, "form", form);
	drop_empty(c->ctx->req->query, query, sizeof(query));
	err = add_listing(c, view, &list, query, &status);
	if (err == CIVIC_OK)
		err = add_destination_options(c, view, "destination_options", dest_v, false);
	if (err != CIVIC_OK) {
		json_object_put(view);
		return err;
	}
	json_object_object_add(view, "status_options",
	                       fixed_options(dispatch_statuses, dispatch_status_texts,
	                                     CIVIC_NELEM(dispatch_statuses), status_v));
	return console_render(c, status, "dispatches", "Deliveries", "dispatches", view);
}
