/* The Developer tab: applications and their key pairs (SPEC §2, §7).
 *
 * Applications and keys are the library's (accounts.h, apikeys.h), the
 * same calls civic-admin makes, so plan caps and scope rules hold here
 * as there. Every id in a path is looked up together with the session's
 * account: another account's application or key is "not found", never
 * "not yours". A new or rotated pair is rendered once, straight from the
 * POST, and its secret is wiped from memory once the page is built. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "apikeys.h"
#include "console.h"
#include "num.h"
#include "scopes.h"
#include "timeutil.h"

#define RFC3339(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%s+00:00')"
#define KEYS_SHOWN 100       /* keys listed on an application's page, newest first */
#define SCOPES_POSTED_MAX 32 /* checkbox values read from one form */

/* Keys count: those that still work (live or retiring). */
static const char SQL_APPS[] =
	"SELECT a.id, a.name, " RFC3339("a.created_at") ","
	" (SELECT COUNT(*) FROM api_keys k WHERE k.application_id = a.id"
	"   AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > UTC_TIMESTAMP())),"
	" COALESCE(u.requests, 0)"
	" FROM applications a"
	" LEFT JOIN app_usage_daily u ON u.application_id = a.id AND u.day = UTC_DATE()"
	" WHERE a.account_id = ? ORDER BY a.id";
static const char SQL_APP[] =
	"SELECT a.name, " RFC3339("a.created_at") ", COALESCE(u.requests, 0),"
	" (SELECT COUNT(*) FROM api_keys k WHERE k.application_id = a.id)"
	" FROM applications a"
	" LEFT JOIN app_usage_daily u ON u.application_id = a.id AND u.day = UTC_DATE()"
	" WHERE a.id = ? AND a.account_id = ?";
static const char SQL_KEYS[] =
	"SELECT k.id, k.name, k.public_key, k.scopes + 0, " RFC3339("k.created_at") ", "
	RFC3339("k.expires_at") ", " RFC3339("k.last_used_at") ", COALESCE(u.requests, 0),"
	" k.revoked_at IS NOT NULL, k.expires_at IS NOT NULL AND k.expires_at <= UTC_TIMESTAMP(),"
	" k.rotated_at IS NOT NULL"
	" FROM api_keys k JOIN applications a ON a.id = k.application_id"
	" LEFT JOIN key_usage_daily u ON u.key_id = k.id AND u.day = UTC_DATE()"
	" WHERE k.application_id = ? AND a.account_id = ? ORDER BY k.id DESC LIMIT ?";
static const char SQL_KEY[] =
	"SELECT k.public_key, k.name, k.application_id, a.name, k.revoked_at IS NOT NULL,"
	" k.expires_at IS NOT NULL AND k.expires_at <= UTC_TIMESTAMP()"
	" FROM api_keys k JOIN applications a ON a.id = k.application_id"
	" WHERE k.id = ? AND a.account_id = ?";

enum { K_ID, K_NAME, K_PUBLIC, K_SCOPES, K_CREATED, K_EXPIRES, K_USED, K_TODAY, K_REVOKED,
       K_EXPIRED, K_ROTATED };

/* A key of the session's account (SQL_KEY). */
struct owned_key {
	int64_t id, app_id;
	char public_key[CIVIC_KEY_MAX];
	char name[4 * CIVIC_NAME_MAX + 1];
	char app_name[4 * CIVIC_NAME_MAX + 1];
	bool revoked, expired;
};

/* ------------------------------------------------------------ helpers */

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static int64_t cell_int(const struct civic_rows *r, size_t row, size_t col)
{
	int64_t v = 0;

	civic_rows_int(r, row, col, &v);
	return v;
}

static void field_error(json_object *errs, const char *field, const char *why)
{
	json_object_object_add(errs, field, json_object_new_string(why));
}

/* "/console/apps/42" */
static const char *app_path(int64_t app_id, char *buf, size_t len)
{
	snprintf(buf, len, "/console/apps/%lld", (long long)app_id);
	return buf;
}

/* The key id of the session's account into *k; CIVIC_E_NOT_FOUND for
 * an unknown id or another account's. */
static enum civic_err own_key(struct console *c, int64_t id, struct owned_key *k)
{
	struct civic_param p[] = {CIVIC_PINT(id), CIVIC_PINT(c->sess.account_id)};
	struct civic_rows *r;
	enum civic_err err;

	if ((err = civic_db_exec(c->ctx->db, SQL_KEY, p, 2, &r)) != CIVIC_OK)
		return err;
	memset(k, 0, sizeof(*k));
	if (r->nrows != 1 || !civic_rows_int(r, 0, 2, &k->app_id)) {
		civic_rows_free(r);
		return CIVIC_E_NOT_FOUND;
	}
	k->id = id;
	snprintf(k->public_key, sizeof(k->public_key), "%s", civic_rows_get(r, 0, 0));
	snprintf(k->name, sizeof(k->name), "%s", civic_rows_get(r, 0, 1));
	snprintf(k->app_name, sizeof(k->app_name), "%s", civic_rows_get(r, 0, 3));
	k->revoked = cell_int(r, 0, 4) != 0;
	k->expired = cell_int(r, 0, 5) != 0;
	civic_rows_free(r);
	return CIVIC_OK;
}

/* The bit of one scope name, 0 when it names no scope. A checkbox sends
 * exactly one name: lists and "all" are not accepted here. */
static civic_scopes scope_bit(const char *name)
{
	for (civic_scopes bit = 1; bit <= CIVIC_SCOPE_ALL; bit <<= 1)
		if (strcmp(civic_scope_name(bit), name) == 0)
			return bit;
	return 0;
}

/* "Your plan (Free) does not include destinations:whatsapp:join. ..." */
static void plan_scopes_error(struct console *c, civic_scopes outside, json_object *view)
{
	struct civic_buf names;
	char msg[768];

	civic_buf_init(&names, 512);
	civic_scopes_format(outside, ", ", &names);
	snprintf(msg, sizeof(msg),
	         "Your plan (%s) does not include %s. Compare the plans on the Plan & billing "
	         "page to use more scopes.",
	         c->sess.plan_name, civic_buf_str(&names));
	civic_buf_free(&names);
	console_view_error(view, msg);
	json_object_object_add(view, "upgrade", json_object_new_boolean(1));
}

/* ------------------------------------------------------- applications */

static json_object *app_row(const struct civic_rows *r, size_t i)
{
	json_object *o = json_object_new_object();

	add_int(o, "id", cell_int(r, i, 0));
	add_str(o, "name", civic_rows_get(r, i, 1));
	add_str(o, "created_at", civic_rows_get(r, i, 2));
	add_int(o, "keys", cell_int(r, i, 3));
	add_int(o, "requests_today", cell_int(r, i, 4));
	return o;
}

/* The applications page: the list, the plan's cap, the create form
 * (refilled from the form posted, if any). */
static enum civic_err apps_view(struct console *c, json_object **out)
{
	static const char *const names[] = {"name"};
	struct civic_param p[] = {CIVIC_PINT(c->sess.account_id)};
	struct civic_rows *r;
	json_object *view, *apps, *plan;
	int64_t max_apps = 0, napps = 0;
	enum civic_err err;

	if ((err = civic_account_app_usage(c->ctx->db, c->sess.account_id, NULL, &max_apps,
	                                   &napps)) != CIVIC_OK ||
	    (err = civic_db_exec(c->ctx->db, SQL_APPS, p, 1, &r)) != CIVIC_OK)
		return err;
	view = json_object_new_object();
	apps = json_object_new_array();
	for (size_t i = 0; i < r->nrows; i++)
		json_object_array_add(apps, app_row(r, i));
	json_object_object_add(view, "apps", apps);
	json_object_object_add(view, "has_apps", json_object_new_boolean(r->nrows > 0));
	civic_rows_free(r);
	plan = json_object_new_object();
	add_str(plan, "name", c->sess.plan_name);
	add_int(plan, "max_apps", max_apps);
	add_int(plan, "apps", napps);
	json_object_object_add(plan, "full", json_object_new_boolean(napps >= max_apps));
	json_object_object_add(view, "plan", plan);
	json_object_object_add(view, "form", console_form_echo(c, names, CIVIC_NELEM(names)));
	*out = view;
	return CIVIC_OK;
}

enum civic_err console_apps(struct console *c)
{
	json_object *view;
	enum civic_err err;

	if ((err = apps_view(c, &view)) != CIVIC_OK)
		return err;
	/* At the plan's cap the form would only be refused: say so instead
	 * (after a refused POST the form stays, with its error and input). */
	if (json_object_get_boolean(json_object_object_get(json_object_object_get(view, "plan"),
	                                                   "full")))
		json_object_object_add(view, "at_cap", json_object_new_boolean(1));
	return console_render(c, 200, "apps", "Applications", "apps", view);
}

/* The applications page again with the create form's problem: a field
 * error on name, or a form-wide message. */
static enum civic_err apps_error(struct console *c, int status, const char *name_error,
                                 const char *message, bool upgrade)
{
	json_object *view, *errs;
	enum civic_err err;

	if ((err = apps_view(c, &view)) != CIVIC_OK)
		return err;
	if (name_error) {
		errs = json_object_new_object();
		field_error(errs, "name", name_error);
		console_view_errors(view, errs);
		json_object_put(errs);
	}
	if (message)
		console_view_error(view, message);
	if (upgrade)
		json_object_object_add(view, "upgrade", json_object_new_boolean(1));
	return console_render(c, status, "apps", "Applications", "apps", view);
}

static enum civic_err app_limit(struct console *c)
{
	char msg[512];
	int64_t max_apps = 0, napps = 0;
	enum civic_err err;

	if ((err = civic_account_app_usage(c->ctx->db, c->sess.account_id, NULL, &max_apps,
	                                   &napps)) != CIVIC_OK)
		return err;
	snprintf(msg, sizeof(msg),
	         "Your plan (%s) allows %lld application%s and you have %lld. Upgrade on the "
	         "Plan & billing page to create more, or issue more keys for an application you "
	         "have.",
	         c->sess.plan_name, (long long)max_apps, max_apps == 1 ? "" : "s", (long long)napps);
	return apps_error(c, 403, NULL, msg, true);
}

enum civic_err console_app_create(struct console *c)
{
	static const char bad_name[] =
		"Enter a name of 1 to 100 characters (not only spaces, no control characters).";
	const char *name = console_form_get(c, "name");
	char path[64];
	int64_t id;
	enum civic_err err;

	if (!civic_app_valid_name(name))
		return apps_error(c, 400, bad_name, NULL, false);
	switch ((err = civic_app_create(c->ctx->db, c->sess.account_id, name, &id))) {
	case CIVIC_OK:
		return console_redirect(c, app_path(id, path, sizeof(path)), "app_created");
	case CIVIC_E_VALIDATION:
		return apps_error(c, 400, bad_name, NULL, false);
	case CIVIC_E_CONFLICT:
		return apps_error(c, 400, "You already have an application with this name.", NULL,
		                  false);
	case CIVIC_E_PLAN_LIMIT:
		return app_limit(c);
	default:
		return err;
	}
}

/* -------------------------------------------------- one application */

/* live | retiring | revoked | expired, the text shown, and what can be
 * done: only a live key can be rotated; a retiring one still works, so
 * it can still be revoked at once. */
static void key_status(const struct civic_rows *r, size_t i, json_object *o)
{
	const char *until = civic_rows_get(r, i, K_EXPIRES);
	bool revoked = cell_int(r, i, K_REVOKED), expired = cell_int(r, i, K_EXPIRED);
	bool retiring = !revoked && !expired && cell_int(r, i, K_ROTATED);
	bool live = !revoked && !expired && !retiring;
	const char *status = revoked ? "revoked" : expired ? "expired" : retiring ? "retiring" : "live";
	char text[64];

	if (retiring && until)
		snprintf(text, sizeof(text), "retiring until %s", until);
	else
		snprintf(text, sizeof(text), "%s", status);
	add_str(o, "status", status);
	add_str(o, "status_text", text);
	json_object_object_add(o, "can_rotate", json_object_new_boolean(live));
	json_object_object_add(o, "can_revoke", json_object_new_boolean(live || retiring));
}

static json_object *key_row(const struct civic_rows *r, size_t i)
{
	json_object *o = json_object_new_object();
	const char *expires = civic_rows_get(r, i, K_EXPIRES);
	const char *used = civic_rows_get(r, i, K_USED);

	add_int(o, "id", cell_int(r, i, K_ID));
	add_str(o, "name", civic_rows_get(r, i, K_NAME));
	add_str(o, "public_key", civic_rows_get(r, i, K_PUBLIC));
	json_object_object_add(o, "scopes", civic_scopes_json((civic_scopes)cell_int(r, i, K_SCOPES)));
	add_str(o, "created_at", civic_rows_get(r, i, K_CREATED));
	add_str(o, "expires_at", expires ? expires : "never");
	add_str(o, "last_used_at", used ? used : "never");
	add_int(o, "requests_today", cell_int(r, i, K_TODAY));
	key_status(r, i, o);
	return o;
}

/* The plan's scopes for the picker, checked as the form posted them. */
static json_object *scope_picker(const struct console *c)
{
	const char *posted[SCOPES_POSTED_MAX];
	size_t n = console_form_all(c, "scopes", posted, SCOPES_POSTED_MAX);
	json_object *list = json_object_new_array();

	if (n > SCOPES_POSTED_MAX)
		n = SCOPES_POSTED_MAX;
	for (civic_scopes bit = 1; bit <= CIVIC_SCOPE_ALL; bit <<= 1) {
		json_object *o;
		bool checked = false;

		if (!(c->sess.scopes & bit))
			continue;
		for (size_t i = 0; i < n; i++)
			checked = checked || strcmp(posted[i], civic_scope_name(bit)) == 0;
		o = json_object_new_object();
		add_str(o, "name", civic_scope_name(bit));
		json_object_object_add(o, "checked", json_object_new_boolean(checked));
		json_object_array_add(list, o);
	}
	return list;
}

static enum civic_err add_keys(struct console *c, int64_t app_id, json_object *view)
{
	struct civic_param p[] = {CIVIC_PINT(app_id), CIVIC_PINT(c->sess.account_id),
	                          CIVIC_PINT(KEYS_SHOWN)};
	struct civic_rows *r;
	json_object *keys;
	enum civic_err err;

	if ((err = civic_db_exec(c->ctx->db, SQL_KEYS, p, 3, &r)) != CIVIC_OK)
		return err;
	keys = json_object_new_array();
	for (size_t i = 0; i < r->nrows; i++)
		json_object_array_add(keys, key_row(r, i));
	json_object_object_add(view, "keys", keys);
	json_object_object_add(view, "has_keys", json_object_new_boolean(r->nrows > 0));
	civic_rows_free(r);
	return CIVIC_OK;
}

/* The application app_id of the session's account: one row of SQL_APP
 * into *out (caller frees). CIVIC_E_NOT_FOUND for an unknown id or
 * another account's. */
static enum civic_err own_app(struct console *c, int64_t app_id, struct civic_rows **out)
{
	struct civic_param p[] = {CIVIC_PINT(app_id), CIVIC_PINT(c->sess.account_id)};
	enum civic_err err;

	if ((err = civic_db_exec(c->ctx->db, SQL_APP, p, 2, out)) != CIVIC_OK)
		return err;
	if ((*out)->nrows != 1) {
		civic_rows_free(*out);
		*out = NULL;
		return CIVIC_E_NOT_FOUND;
	}
	return CIVIC_OK;
}

/* The application's page: its keys, the issue form (refilled from the
 * form posted, if any). title receives the application's name.
 * CIVIC_E_NOT_FOUND when app_id is not the session account's. */
static enum civic_err app_view(struct console *c, int64_t app_id, json_object **out, char *title,
                               size_t tlen)
{
	static const char *const names[] = {"name", "expires_days"};
	struct civic_rows *r;
	json_object *view, *app;
	int64_t nkeys;
	enum civic_err err;

	if ((err = own_app(c, app_id, &r)) != CIVIC_OK)
		return err;
	snprintf(title, tlen, "%s", civic_rows_get(r, 0, 0));
	app = json_object_new_object();
	add_int(app, "id", app_id);
	add_str(app, "name", civic_rows_get(r, 0, 0));
	add_str(app, "created_at", civic_rows_get(r, 0, 1));
	add_int(app, "requests_today", cell_int(r, 0, 2));
	nkeys = cell_int(r, 0, 3);
	civic_rows_free(r);
	view = json_object_new_object();
	json_object_object_add(view, "app", app);
	if (nkeys > KEYS_SHOWN) {
		add_int(view, "keys_total", nkeys);
		add_int(view, "keys_shown", KEYS_SHOWN);
	}
	json_object_object_add(view, "plan_scopes", scope_picker(c));
	json_object_object_add(view, "form", console_form_echo(c, names, CIVIC_NELEM(names)));
	if ((err = add_keys(c, app_id, view)) != CIVIC_OK) {
		json_object_put(view);
		return err;
	}
	*out = view;
	return CIVIC_OK;
}

enum civic_err console_app(struct console *c)
{
	char title[4 * CIVIC_NAME_MAX + 1];
	json_object *view;
	enum civic_err err;

	if ((err = app_view(c, c->ctx->id, &view, title, sizeof(title))) != CIVIC_OK)
		return err;
	return console_render(c, 200, "app", title, "apps", view);
}

/* The application's page again with the issue form's problems: field
 * errors (errs, borrowed, may be NULL), a form-wide message (may be
 * NULL), or the scopes outside the plan (0 for none). */
static enum civic_err app_error(struct console *c, int64_t app_id, int status, json_object *errs,
                                const char *message, civic_scopes outside)
{
	char title[4 * CIVIC_NAME_MAX + 1];
	json_object *view;
	enum civic_err err;

	if ((err = app_view(c, app_id, &view, title, sizeof(title))) != CIVIC_OK)
		return err;
	console_view_errors(view, errs);
	if (message)
		console_view_error(view, message);
	if (outside)
		plan_scopes_error(c, outside, view);
	return console_render(c, status, "app", title, "apps", view);
}

/* ------------------------------------------------------ issue a pair */

struct issue_form {
	const char *name;
	civic_scopes scopes;
	int64_t expires_days; /* 0: never */
};

/* Reads the issue form into *f; what is wrong goes into errs. */
static void read_issue_form(const struct console *c, struct issue_form *f, json_object *errs)
{
	const char *posted[SCOPES_POSTED_MAX];
	size_t n = console_form_all(c, "scopes", posted, SCOPES_POSTED_MAX);
	const char *days = console_form_get(c, "expires_days");
	char why[160];

	memset(f, 0, sizeof(*f));
	f->name = console_form_get(c, "name");
	if (!civic_app_valid_name(f->name))
		field_error(errs, "name", "Name the key: 1 to 100 characters (not only spaces, no "
		                          "control characters).");
	if (n > SCOPES_POSTED_MAX) {
		field_error(errs, "scopes", "Too many scopes were sent.");
	} else {
		for (size_t i = 0; i < n; i++) {
			civic_scopes bit = scope_bit(posted[i]);
			if (bit == 0) {
				snprintf(why, sizeof(why), "There is no scope named \"%.64s\".", posted[i]);
				field_error(errs, "scopes", why);
				break;
			}
			f->scopes |= bit;
		}
		if (n == 0)
			field_error(errs, "scopes", "Choose at least one scope.");
	}
	if (days && days[0] && !civic_num_parse_str(days, 1, 3650, &f->expires_days))
		field_error(errs, "expires_days", "Enter a whole number of days from 1 to 3650, or "
		                                  "leave it empty for a key that never expires.");
}

/* Wipes a JSON string's bytes in place (json-c keeps them in a buffer of
 * its own, which json_object_put frees without clearing). */
static void wipe_string(json_object *s)
{
	if (s && json_object_is_type(s, json_type_string))
		sodium_memzero((char *)json_object_get_string(s), (size_t)json_object_get_string_len(s));
}

/* key_created.html from the POST: the pair once. old_key and old_until
 * for a rotation. The secret is wiped from *k and from the view (also
 * from the page text kept in it) once the page is in the response. */
static enum civic_err show_pair(struct console *c, struct civic_issued *k, int64_t app_id,
                                const char *app_name, const char *key_name, const char *old_key,
                                time_t old_until)
{
	json_object *view = json_object_new_object(), *app = json_object_new_object(),
	            *key = json_object_new_object(), *rot;
	char expires[32], until[32];
	enum civic_err err;

	add_int(app, "id", app_id);
	add_str(app, "name", app_name);
	add_int(key, "id", k->id);
	add_str(key, "name", key_name);
	add_str(key, "api_key", k->api_key);
	add_str(key, "api_secret", k->api_secret);
	json_object_object_add(key, "scopes", civic_scopes_json(k->scopes));
	if (k->expires_at)
		civic_time_rfc3339(k->expires_at, expires, sizeof(expires));
	add_str(key, "expires_at", k->expires_at ? expires : "never");
	sodium_memzero(k, sizeof(*k));
	json_object_object_add(view, "app", app);
	json_object_object_add(view, "key", key);
	if (old_key) {
		rot = json_object_new_object();
		civic_time_rfc3339(old_until, until, sizeof(until));
		add_str(rot, "old_key", old_key);
		add_str(rot, "until", until);
		json_object_object_add(view, "rotated", rot);
	}
	json_object_get(view); /* kept past the render, to wipe it */
	err = console_render(c, 200, "key_created",
	                     old_key ? "Your rotated key pair" : "Your new key pair", "apps", view);
	wipe_string(json_object_object_get(key, "api_secret"));
	wipe_string(json_object_object_get(view, "content"));
	json_object_put(view);
	return err;
}

enum civic_err console_key_issue(struct console *c)
{
	struct issue_form f;
	struct civic_issued issued;
	struct civic_rows *app;
	char app_name[4 * CIVIC_NAME_MAX + 1];
	json_object *errs;
	enum civic_err err;

	/* Whose application first: another account's is not found, whatever
	 * the form says. */
	if ((err = own_app(c, c->ctx->id, &app)) != CIVIC_OK)
		return err;
	snprintf(app_name, sizeof(app_name), "%s", civic_rows_get(app, 0, 0));
	civic_rows_free(app);
	errs = json_object_new_object();
	read_issue_form(c, &f, errs);
	if (json_object_object_length(errs) > 0) {
		err = app_error(c, c->ctx->id, 400, errs, NULL, 0);
		json_object_put(errs);
		return err;
	}
	json_object_put(errs);
	if (f.scopes & ~c->sess.scopes)
		return app_error(c, c->ctx->id, 403, NULL, NULL, f.scopes & ~c->sess.scopes);
	err = civic_apikey_issue(c->ctx->db, c->ctx->cfg, c->ctx->id, c->sess.account_id, f.name,
	                         f.scopes, f.expires_days, &issued);
	switch (err) {
	case CIVIC_OK:
		return show_pair(c, &issued, c->ctx->id, app_name, f.name, NULL, 0);
	case CIVIC_E_PLAN_REQUIRED: /* the plan changed since the session was read */
		return app_error(c, c->ctx->id, 403, NULL, NULL, f.scopes);
	default:
		return err;
	}
}

/* ------------------------------------------------- rotate and revoke */

enum civic_err console_key_rotate(struct console *c)
{
	struct owned_key k;
	struct civic_issued issued;
	time_t until;
	enum civic_err err;

	if ((err = own_key(c, c->ctx->id, &k)) != CIVIC_OK)
		return err;
	err = civic_apikey_rotate(c->ctx->db, c->ctx->cfg, k.public_key, c->sess.account_id,
	                          &issued, &until);
	if (err == CIVIC_E_CONFLICT)
		return app_error(c, k.app_id, 409, NULL,
		                 "This key cannot be rotated: it is revoked, has expired, or was "
		                 "rotated already (rotate its newest successor instead).", 0);
	if (err != CIVIC_OK)
		return err;
	return show_pair(c, &issued, k.app_id, k.app_name, k.name, k.public_key, until);
}

static json_object *revoke_view(const struct owned_key *k)
{
	json_object *view = json_object_new_object(), *key = json_object_new_object(),
	            *app = json_object_new_object();

	add_int(key, "id", k->id);
	add_str(key, "name", k->name);
	add_str(key, "public_key", k->public_key);
	add_int(app, "id", k->app_id);
	add_str(app, "name", k->app_name);
	json_object_object_add(view, "key", key);
	json_object_object_add(view, "app", app);
	json_object_object_add(view, "revoked", json_object_new_boolean(k->revoked));
	json_object_object_add(view, "expired", json_object_new_boolean(k->expired && !k->revoked));
	return view;
}

enum civic_err console_key_revoke_form(struct console *c)
{
	struct owned_key k;
	enum civic_err err;

	if ((err = own_key(c, c->ctx->id, &k)) != CIVIC_OK)
		return err;
	return console_render(c, 200, "key_revoke", "Revoke a key", "apps", revoke_view(&k));
}

enum civic_err console_key_revoke(struct console *c)
{
	struct owned_key k;
	char path[64];
	enum civic_err err;

	if ((err = own_key(c, c->ctx->id, &k)) != CIVIC_OK)
		return err;
	err = civic_apikey_revoke(c->ctx->db, k.public_key, c->sess.account_id);
	/* Revoked already (another tab, another admin): the outcome asked for. */
	if (err != CIVIC_OK && err != CIVIC_E_CONFLICT)
		return err;
	return console_redirect(c, app_path(k.app_id, path, sizeof(path)), "key_revoked");
}
