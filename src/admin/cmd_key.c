/* civic-admin key issue | revoke | rotate | list. Secrets are printed
 * only by issue and rotate, once, and never written to a message. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "admin.h"
#include "apikeys.h"
#include "buf.h"
#include "keys.h"
#include "scopes.h"
#include "timeutil.h"

static const char SQL_APP_PLAN[] =
	"SELECT p.slug, p.scopes + 0 FROM applications a JOIN accounts ac ON ac.id = a.account_id"
	" JOIN plans p ON p.id = ac.plan_id WHERE a.id = ?";
static const char SQL_KEY_STATE[] =
	"SELECT k.id, k.revoked_at, k.rotated_at IS NOT NULL,"
	" k.expires_at IS NOT NULL AND k.expires_at <= UTC_TIMESTAMP(),"
	" (SELECT n.public_key FROM api_keys n WHERE n.rotated_from_id = k.id"
	"  ORDER BY n.id DESC LIMIT 1)"
	" FROM api_keys k WHERE k.public_key = ?";
static const char SQL_APP_EXISTS[] = "SELECT 1 FROM applications WHERE id = ?";
static const char SQL_LIST_KEYS[] =
	"SELECT k.id, k.name, k.public_key, k.scopes + 0, k.created_at, k.expires_at,"
	" k.last_used_at, k.revoked_at, k.rotated_from_id, COALESCE(u.requests, 0),"
	" k.rotated_at IS NOT NULL, k.expires_at IS NOT NULL AND k.expires_at <= UTC_TIMESTAMP()"
	" FROM api_keys k LEFT JOIN key_usage_daily u ON u.key_id = k.id AND u.day = UTC_DATE()"
	" WHERE k.application_id = ? ORDER BY k.id";

#define DEFAULT_KEY_NAME "default"

/* Parses --scopes: names separated by commas or spaces; the word "all"
 * stands for every scope the plan allows (resolved later, *all). */
static bool parse_scopes(struct admin *a, const char *s, civic_scopes *explicit_scopes, bool *all)
{
	*explicit_scopes = 0;
	*all = false;
	while (*s) {
		size_t n = strcspn(s, " ,");
		char item[64];
		civic_scopes bits;

		if (n == 3 && memcmp(s, "all", 3) == 0) {
			*all = true;
		} else if (n > 0) {
			if (n >= sizeof(item)) {
				admin_error(a, "--scopes: unknown scope '%.*s'", 40, s);
				return false;
			}
			memcpy(item, s, n);
			item[n] = '\0';
			if (!civic_scopes_parse(item, &bits, NULL)) {
				admin_error(a, "--scopes: unknown scope '%s'; see civic-admin plan list", item);
				return false;
			}
			*explicit_scopes |= bits;
		}
		s += n;
		s += strspn(s, " ,");
	}
	if (*explicit_scopes == 0 && !*all) {
		admin_error(a, "--scopes: name at least one scope, or 'all'");
		return false;
	}
	return true;
}

/* The plan slug (33 bytes) and scopes of the application's account. */
static int app_plan(struct admin *a, int64_t app, char slug[33], civic_scopes *scopes)
{
	struct civic_param p[] = {CIVIC_PINT(app)};
	struct civic_rows *r;
	const char *s;
	int64_t bits;
	enum civic_err err;
	int rc = ADMIN_EXIT_FAIL;

	if ((err = civic_db_exec(a->db, SQL_APP_PLAN, p, 1, &r)) != CIVIC_OK)
		return admin_fail(a, err, "looking up the application");
	if (r->nrows == 0) {
		admin_error(a, "application %lld not found", (long long)app);
		goto out;
	}
	if ((s = civic_rows_get(r, 0, 0)) == NULL || strlen(s) > 32 ||
	    !civic_rows_int(r, 0, 1, &bits)) {
		admin_error(a, "application %lld: unreadable plan", (long long)app);
		goto out;
	}
	memcpy(slug, s, strlen(s) + 1);
	*scopes = (civic_scopes)bits;
	rc = ADMIN_EXIT_OK;
out:
	civic_rows_free(r);
	return rc;
}

/* "plan free does not allow scope destinations:whatsapp:join" */
static int outside_plan(struct admin *a, const char *plan, civic_scopes outside)
{
	struct civic_buf names;
	int n = 0;

	for (civic_scopes bit = 1; bit <= CIVIC_SCOPE_ALL; bit <<= 1)
		n += (outside & bit) != 0;
	civic_buf_init(&names, 1024);
	civic_scopes_format(outside, ", ", &names);
	admin_error(a, "plan %s does not allow scope%s %s", plan, n > 1 ? "s" : "",
	            civic_buf_str(&names));
	civic_buf_free(&names);
	return ADMIN_EXIT_FAIL;
}

/* Prints an issued or rotated pair, then wipes it. old_key and
 * old_until only for a rotation. */
static int print_pair(struct admin *a, struct civic_issued *k, const char *name, int64_t app,
                      const char *old_key, time_t old_until)
{
	char expires[26] = "never", until[26];
	struct civic_buf scopes;
	int rc = ADMIN_EXIT_OK;

	if (k->expires_at)
		civic_time_rfc3339(k->expires_at, expires, sizeof(expires));
	if (old_key)
		civic_time_rfc3339(old_until, until, sizeof(until));
	if (a->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64(k->id));
		json_object_object_add(o, "api_key", json_object_new_string(k->api_key));
		json_object_object_add(o, "api_secret", json_object_new_string(k->api_secret));
		admin_json_scopes(o, "scopes", k->scopes);
		json_object_object_add(o, "expires_at",
		                       k->expires_at ? json_object_new_string(expires) : NULL);
		if (name)
			json_object_object_add(o, "name", json_object_new_string(name));
		if (app)
			json_object_object_add(o, "application_id", json_object_new_int64(app));
		if (old_key) {
			json_object_object_add(o, "old_api_key", json_object_new_string(old_key));
			json_object_object_add(o, "old_key_valid_until", json_object_new_string(until));
		}
		rc = admin_print_json(o);
	} else {
		civic_buf_init(&scopes, 1024);
		civic_scopes_format(k->scopes, " ", &scopes);
		printf("key %lld: scopes %s; expires %s\n", (long long)k->id, civic_buf_str(&scopes),
		       expires);
		civic_buf_free(&scopes);
		printf("api_key:    %s\napi_secret: %s\n", k->api_key, k->api_secret);
		printf("The secret is shown only now: store it safely.\n");
		if (old_key)
			printf("The old key %s keeps working until %s.\n", old_key, until);
	}
	sodium_memzero(k, sizeof(*k));
	return rc;
}

int admin_key_issue(struct admin *a, int argc, char **argv)
{
	enum { APP, SCOPES, NAME, EXPIRES, N };
	static const struct admin_opt opts[N] = {
		[APP] = {"app", ADMIN_O_INT, true, 1, INT64_MAX, "an application id"},
		[SCOPES] = {"scopes", ADMIN_O_STR, true, 0, 0, NULL},
		[NAME] = {"name", ADMIN_O_STR, false, 0, 0, NULL},
		[EXPIRES] = {"expires-days", ADMIN_O_INT, false, 1, 3650, "a number of days"},
	};
	struct admin_val v[N];
	struct civic_issued issued;
	civic_scopes wanted, allowed = 0;
	char plan[33];
	const char *name;
	bool all;
	enum civic_err err;
	int rc;

	if (!admin_parse_opts(a, argc, argv, opts, N, v, &rc))
		return rc;
	if (!parse_scopes(a, v[SCOPES].str, &wanted, &all))
		return ADMIN_EXIT_USAGE;
	name = v[NAME].present ? v[NAME].str : DEFAULT_KEY_NAME;
	if (!civic_app_valid_name(name)) {
		admin_error(a, "--name: must be 1 to %d characters of UTF-8 text without control "
		               "characters", CIVIC_NAME_MAX);
		return ADMIN_EXIT_USAGE;
	}
	if ((rc = admin_open(a)) != ADMIN_EXIT_OK ||
	    (rc = app_plan(a, v[APP].num, plan, &allowed)) != ADMIN_EXIT_OK)
		return rc;
	if (wanted & ~allowed)
		return outside_plan(a, plan, wanted & ~allowed);
	if (all)
		wanted |= allowed;
	if (wanted == 0) {
		admin_error(a, "plan %s allows no scope", plan);
		return ADMIN_EXIT_FAIL;
	}
	err = civic_apikey_issue(a->db, &a->cfg, v[APP].num, 0, name, wanted,
	                         v[EXPIRES].present ? v[EXPIRES].num : 0, &issued);
	switch (err) {
	case CIVIC_OK:
		return print_pair(a, &issued, name, v[APP].num, NULL, 0);
	case CIVIC_E_NOT_FOUND:
		admin_error(a, "application %lld not found", (long long)v[APP].num);
		return ADMIN_EXIT_FAIL;
	case CIVIC_E_PLAN_REQUIRED: /* the plan changed since we looked */
		admin_error(a, "the account's plan no longer allows these scopes; run again");
		return ADMIN_EXIT_FAIL;
	default:
		return admin_fail(a, err, "issuing the key");
	}
}

/* Checks --key offline. Never echoes what was given unless it is a
 * well-formed public key: it might be a secret pasted by mistake. */
static bool check_public_key(struct admin *a, const char *key)
{
	char env[5];

	switch (civic_key_parse(key, CIVIC_KEY_PUBLIC, env)) {
	case CIVIC_KEY_OK:
		return true;
	case CIVIC_KEY_BAD_CHECKSUM:
		admin_error(a, "--key: the checksum does not match; check for a typo");
		return false;
	case CIVIC_KEY_MALFORMED:
		break;
	}
	if (strncmp(key, "css_", 4) == 0)
		admin_error(a, "--key: that is a secret (css_...); pass the public key (csk_...)");
	else
		admin_error(a, "--key: expected a public key csk_<live|test>_<22 characters>_<6>");
	return false;
}

/* Explains CIVIC_E_CONFLICT from rotate or revoke with the key's state. */
static int key_conflict(struct admin *a, const char *key)
{
	struct civic_param p[] = {CIVIC_PSTR(key)};
	struct civic_rows *r;
	int64_t rotated = 0, expired = 0;
	const char *successor;
	enum civic_err err;

	if ((err = civic_db_exec(a->db, SQL_KEY_STATE, p, 1, &r)) != CIVIC_OK)
		return admin_fail(a, err, "reading the key's state");
	civic_rows_int(r, 0, 2, &rotated);
	civic_rows_int(r, 0, 3, &expired);
	successor = civic_rows_get(r, 0, 4);
	if (civic_rows_get(r, 0, 1))
		admin_error(a, "key %s is revoked", key);
	else if (rotated)
		admin_error(a, "key %s was already rotated; rotate its successor %s", key,
		            successor ? successor : "(gone)");
	else if (expired)
		admin_error(a, "key %s has expired", key);
	else
		admin_error(a, "key %s cannot be changed now; run again", key);
	civic_rows_free(r);
	return ADMIN_EXIT_FAIL;
}

int admin_key_revoke(struct admin *a, int argc, char **argv)
{
	enum { KEY, N };
	static const struct admin_opt opts[N] = {
		[KEY] = {"key", ADMIN_O_STR, true, 0, 0, NULL},
	};
	struct admin_val v[N];
	struct civic_rows *r;
	enum civic_err err;
	int64_t id = 0;
	int rc;

	if (!admin_parse_opts(a, argc, argv, opts, N, v, &rc))
		return rc;
	if (!check_public_key(a, v[KEY].str))
		return ADMIN_EXIT_USAGE;
	if ((rc = admin_open(a)) != ADMIN_EXIT_OK)
		return rc;
	switch ((err = civic_apikey_revoke(a->db, v[KEY].str, 0))) {
	case CIVIC_OK:
		break;
	case CIVIC_E_NOT_FOUND:
		admin_error(a, "key %s not found", v[KEY].str);
		return ADMIN_EXIT_FAIL;
	case CIVIC_E_CONFLICT:
		admin_error(a, "key %s is already revoked", v[KEY].str);
		return ADMIN_EXIT_FAIL;
	default:
		return admin_fail(a, err, "revoking the key");
	}
	struct civic_param p[] = {CIVIC_PSTR(v[KEY].str)};
	if ((err = civic_db_exec(a->db, SQL_KEY_STATE, p, 1, &r)) != CIVIC_OK)
		return admin_fail(a, err, "reading the key back (it is revoked)");
	civic_rows_int(r, 0, 0, &id);
	if (a->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "revoked", json_object_new_boolean(1));
		json_object_object_add(o, "id", json_object_new_int64(id));
		json_object_object_add(o, "api_key", json_object_new_string(v[KEY].str));
		admin_json_time(o, "revoked_at", civic_rows_get(r, 0, 1));
		rc = admin_print_json(o);
	} else {
		printf("key %lld revoked: %s\n", (long long)id, v[KEY].str);
		rc = ADMIN_EXIT_OK;
	}
	civic_rows_free(r);
	return rc;
}

int admin_key_rotate(struct admin *a, int argc, char **argv)
{
	enum { KEY, N };
	static const struct admin_opt opts[N] = {
		[KEY] = {"key", ADMIN_O_STR, true, 0, 0, NULL},
	};
	struct admin_val v[N];
	struct civic_issued issued;
	time_t until;
	enum civic_err err;
	int rc;

	if (!admin_parse_opts(a, argc, argv, opts, N, v, &rc))
		return rc;
	if (!check_public_key(a, v[KEY].str))
		return ADMIN_EXIT_USAGE;
	if ((rc = admin_open(a)) != ADMIN_EXIT_OK)
		return rc;
	switch ((err = civic_apikey_rotate(a->db, &a->cfg, v[KEY].str, 0, &issued, &until))) {
	case CIVIC_OK:
		return print_pair(a, &issued, NULL, 0, v[KEY].str, until);
	case CIVIC_E_NOT_FOUND:
		admin_error(a, "key %s not found", v[KEY].str);
		return ADMIN_EXIT_FAIL;
	case CIVIC_E_CONFLICT:
		return key_conflict(a, v[KEY].str);
	default:
		return admin_fail(a, err, "rotating the key");
	}
}

/* live | revoked | expired | rotated (superseded; works until expires_at). */
static const char *key_status(const struct civic_rows *r, size_t i)
{
	int64_t rotated = 0, expired = 0;

	civic_rows_int(r, i, 10, &rotated);
	civic_rows_int(r, i, 11, &expired);
	if (civic_rows_get(r, i, 7))
		return "revoked";
	if (rotated)
		return "rotated";
	return expired ? "expired" : "live";
}

static json_object *key_json(const struct civic_rows *r, size_t i)
{
	json_object *o = json_object_new_object();
	int64_t v;

	civic_rows_int(r, i, 0, &v);
	json_object_object_add(o, "id", json_object_new_int64(v));
	json_object_object_add(o, "name", json_object_new_string(civic_rows_get(r, i, 1)));
	json_object_object_add(o, "public_key", json_object_new_string(civic_rows_get(r, i, 2)));
	v = 0;
	civic_rows_int(r, i, 3, &v);
	admin_json_scopes(o, "scopes", (uint32_t)v);
	admin_json_time(o, "created_at", civic_rows_get(r, i, 4));
	admin_json_time(o, "expires_at", civic_rows_get(r, i, 5));
	admin_json_time(o, "last_used_at", civic_rows_get(r, i, 6));
	admin_json_time(o, "revoked_at", civic_rows_get(r, i, 7));
	json_object_object_add(o, "rotated_from_id", civic_rows_int(r, i, 8, &v)
	                                                     ? json_object_new_int64(v)
	                                                     : NULL);
	v = 0;
	civic_rows_int(r, i, 9, &v);
	json_object_object_add(o, "requests_today", json_object_new_int64(v));
	json_object_object_add(o, "status", json_object_new_string(key_status(r, i)));
	return o;
}

static void key_line(const struct civic_rows *r, size_t i)
{
	char created[26], expires[26], used[26];
	struct civic_buf scopes;
	int64_t bits = 0, today = 0;

	civic_rows_int(r, i, 3, &bits);
	civic_rows_int(r, i, 9, &today);
	civic_buf_init(&scopes, 1024);
	if ((civic_scopes)bits == CIVIC_SCOPE_ALL)
		civic_buf_adds(&scopes, "all");
	else
		civic_scopes_format((civic_scopes)bits, ",", &scopes);
	printf("%-6s %-8s %s  %-20s created %s  expires %s  last used %s  today %lld  %s\n",
	       civic_rows_get(r, i, 0), key_status(r, i), civic_rows_get(r, i, 2),
	       civic_rows_get(r, i, 1), admin_time_text(civic_rows_get(r, i, 4), created),
	       admin_time_text(civic_rows_get(r, i, 5), expires),
	       admin_time_text(civic_rows_get(r, i, 6), used), (long long)today,
	       civic_buf_str(&scopes));
	civic_buf_free(&scopes);
}

int admin_key_list(struct admin *a, int argc, char **argv)
{
	enum { APP, N };
	static const struct admin_opt opts[N] = {
		[APP] = {"app", ADMIN_O_INT, true, 1, INT64_MAX, "an application id"},
	};
	struct admin_val v[N];
	struct civic_rows *r = NULL;
	enum civic_err err;
	int rc;

	if (!admin_parse_opts(a, argc, argv, opts, N, v, &rc) ||
	    (rc = admin_open(a)) != ADMIN_EXIT_OK)
		return rc;
	struct civic_param p[] = {CIVIC_PINT(v[APP].num)};
	if ((err = civic_db_exec(a->db, SQL_APP_EXISTS, p, 1, &r)) != CIVIC_OK)
		return admin_fail(a, err, "looking up the application");
	if (r->nrows == 0) {
		civic_rows_free(r);
		admin_error(a, "application %lld not found", (long long)v[APP].num);
		return ADMIN_EXIT_FAIL;
	}
	civic_rows_free(r);
	if ((err = civic_db_exec(a->db, SQL_LIST_KEYS, p, 1, &r)) != CIVIC_OK)
		return admin_fail(a, err, "listing the keys");
	if (a->json) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();
		for (size_t i = 0; i < r->nrows; i++)
			json_object_array_add(arr, key_json(r, i));
		json_object_object_add(o, "application_id", json_object_new_int64(v[APP].num));
		json_object_object_add(o, "keys", arr);
		rc = admin_print_json(o);
	} else {
		if (r->nrows == 0)
			printf("application %lld has no keys\n", (long long)v[APP].num);
		for (size_t i = 0; i < r->nrows; i++)
			key_line(r, i);
		rc = ADMIN_EXIT_OK;
	}
	civic_rows_free(r);
	return rc;
}
