/* The account pages: profile, usage, plan and billing. Each reads and
 * writes through the API's own handlers (console_call), so the form and
 * PATCH /v1/profile/{id}/ judge a phone number or a country alike, and
 * the usage page shows what GET /v1/usage/ says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "countries.h"
#include "endpoints.h"

static const char SQL_BALANCE[] =
	"SELECT a.coins, p.slug, p.name, p.price_coins FROM accounts a"
	" JOIN plans p ON p.id = a.plan_id WHERE a.id = ?";

static const char *const profile_names[] = {"first_name", "phone_number", "country"};

/* Elements of a JSON array; 0 for anything else (json-c asserts). */
static size_t array_len(json_object *a)
{
	return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* An error of a sub-call becomes this request's, with its message. */
static enum civic_err fail_with(struct console *c, const struct civic_ctx *sub,
                                enum civic_err err)
{
	if (sub->errmsg[0])
		return civic_fail(c->ctx, err, "%s", sub->errmsg);
	return err;
}

/* ------------------------------------------------------------ profile */

static int by_name(const void *a, const void *b)
{
	return strcmp((*(const struct civic_country *const *)a)->name,
	              (*(const struct civic_country *const *)b)->name);
}

/* The supported countries by name, the one whose code is selected (may
 * be NULL) marked. */
static json_object *country_options(const char *selected)
{
	size_t n;
	const struct civic_country *all = civic_countries_all(&n);
	const struct civic_country **sorted = calloc(n ? n : 1, sizeof(*sorted));
	json_object *list = json_object_new_array();

	if (sorted == NULL)
		return list;
	for (size_t i = 0; i < n; i++)
		sorted[i] = &all[i];
	qsort(sorted, n, sizeof(*sorted), by_name);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "code", json_object_new_string(sorted[i]->code));
		json_object_object_add(o, "name", json_object_new_string(sorted[i]->name));
		json_object_object_add(o, "selected", json_object_new_boolean(
		                                          selected && strcmp(selected, sorted[i]->code) == 0));
		json_object_array_add(list, o);
	}
	free(sorted);
	return list;
}

/* The profile page for form ({first_name, phone_number, country};
 * ownership taken). */
static json_object *profile_view(struct console *c, json_object *form)
{
	json_object *view = json_object_new_object(), *country;
	const char *code = NULL;

	if (json_object_object_get_ex(form, "country", &country))
		code = json_object_get_string(country);
	json_object_object_add(view, "email", json_object_new_string(c->sess.email));
	json_object_object_add(view, "countries", country_options(code));
	json_object_object_add(view, "form", form);
	return view;
}

enum civic_err console_profile_form(struct console *c)
{
	struct civic_ctx sub;
	json_object *form, *v;
	enum civic_err err;

	if ((err = console_call(c, &civic_profile_api, "GET", "/v1/profile/", NULL, &sub)) !=
	    CIVIC_OK) {
		err = fail_with(c, &sub, err);
		console_call_free(&sub);
		return err;
	}
	form = json_object_new_object();
	for (size_t i = 0; i < CIVIC_NELEM(profile_names); i++)
		if (json_object_object_get_ex(sub.data, profile_names[i], &v) && v != NULL)
			json_object_object_add(form, profile_names[i], json_object_get(v));
	console_call_free(&sub);
	return console_render(c, 200, "profile", "Profile", "profile", profile_view(c, form));
}

enum civic_err console_profile(struct console *c)
{
	char path[64];
	struct civic_ctx sub;
	json_object *body, *view;
	enum civic_err err;

	snprintf(path, sizeof(path), "/v1/profile/%lld/", (long long)c->sess.account_id);
	body = console_form_json(c, &civic_profile_api, "PATCH", path);
	err = console_call(c, &civic_profile_api, "PATCH", path, body, &sub);
	json_object_put(body);
	if (err == CIVIC_OK) {
		console_call_free(&sub);
		return console_redirect(c, "/console/profile", "profile_saved");
	}
	if (err != CIVIC_E_VALIDATION && err != CIVIC_E_INVALID_REQUEST) {
		err = fail_with(c, &sub, err);
		console_call_free(&sub);
		return err;
	}
	view = profile_view(c, console_form_echo(c, profile_names, CIVIC_NELEM(profile_names)));
	console_view_errors(view, sub.errfields);
	if (err == CIVIC_E_INVALID_REQUEST && sub.errmsg[0])
		console_view_error(view, sub.errmsg);
	console_call_free(&sub);
	return console_render(c, 400, "profile", "Profile", "profile", view);
}

/* -------------------------------------------------------------- usage */

enum civic_err console_usage(struct console *c)
{
	struct civic_ctx sub;
	json_object *view;
	enum civic_err err;

	if ((err = console_call(c, &civic_usage_api, "GET", "/v1/usage/", NULL, &sub)) != CIVIC_OK) {
		err = fail_with(c, &sub, err);
		console_call_free(&sub);
		return err;
	}
	/* The API's answer is the view: plan, limits, today, applications. */
	view = json_object_get(sub.data);
	console_call_free(&sub);
	json_object_object_add(view, "has_applications", json_object_new_boolean(array_len(
	                                                     json_object_object_get(view, "applications")) > 0));
	return console_render(c, 200, "usage", "Usage", "usage", view);
}

/* ------------------------------------------------------------ billing */

/* The account's coins and plan into view. */
static enum civic_err add_balance(struct console *c, json_object *view)
{
	struct civic_param p[] = {CIVIC_PINT(c->sess.account_id)};
	struct civic_rows *r;
	json_object *plan;
	int64_t coins = 0, price = 0;
	enum civic_err err;

	if ((err = civic_db_exec(c->ctx->db, SQL_BALANCE, p, 1, &r)) != CIVIC_OK)
		return err;
	if (r->nrows != 1) {
		civic_rows_free(r);
		return CIVIC_E_NOT_FOUND;
	}
	civic_rows_int(r, 0, 0, &coins);
	civic_rows_int(r, 0, 3, &price);
	plan = json_object_new_object();
	json_object_object_add(plan, "slug", json_object_new_string(civic_rows_get(r, 0, 1)));
	json_object_object_add(plan, "name", json_object_new_string(civic_rows_get(r, 0, 2)));
	json_object_object_add(plan, "price_coins", json_object_new_int64(price));
	json_object_object_add(view, "plan", plan);
	json_object_object_add(view, "coins", json_object_new_int64(coins));
	civic_rows_free(r);
	return CIVIC_OK;
}

/* GET of a list route of api into view[key] (and view["has_<key>"]). */
static enum civic_err add_list(struct console *c, const struct civic_api *api, const char *path,
                               json_object *view, const char *key)
{
	struct civic_ctx sub;
	char has[48];
	enum civic_err err;

	if ((err = console_list(c, api, path, "page_size=100", &sub)) != CIVIC_OK) {
		err = fail_with(c, &sub, err);
		console_call_free(&sub);
		return err;
	}
	snprintf(has, sizeof(has), "has_%s", key);
	json_object_object_add(view, has,
	                       json_object_new_boolean(array_len(sub.data) > 0));
	json_object_object_add(view, key, json_object_get(sub.data));
	console_call_free(&sub);
	return CIVIC_OK;
}

/* Marks the account's plan in the plans list. */
static void mark_current(json_object *view)
{
	json_object *plans = json_object_object_get(view, "plans"), *plan, *slug;
	const char *mine;

	if (!json_object_object_get_ex(view, "plan", &plan) ||
	    !json_object_object_get_ex(plan, "slug", &slug))
		return;
	mine = json_object_get_string(slug);
	for (size_t i = 0; i < array_len(plans); i++) {
		json_object *p = json_object_array_get_idx(plans, i), *s;
		if (json_object_object_get_ex(p, "slug", &s) &&
		    strcmp(json_object_get_string(s), mine) == 0)
			json_object_object_add(p, "current", json_object_new_boolean(1));
	}
}

enum civic_err console_billing(struct console *c)
{
	json_object *view = json_object_new_object();
	enum civic_err err;

	if ((err = add_balance(c, view)) != CIVIC_OK ||
	    (err = add_list(c, &civic_subscriptions_api, "/v1/subscriptions/", view,
	                    "subscriptions")) != CIVIC_OK ||
	    (err = add_list(c, &civic_pricing_plans_api, "/v1/pricing-plans/", view, "plans")) !=
	        CIVIC_OK) {
		json_object_put(view);
		return err;
	}
	mark_current(view);
	return console_render(c, 200, "billing", "Plan & billing", "billing", view);
}
