/* civic-admin destination link: a fresh confirmation link for a pending
 * email destination (support: the mail did not arrive, or a test needs
 * the link the dispatcher would send). */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "email_tokens.h"
#include "timeutil.h"

static const char SQL_DESTINATION[] =
	"SELECT account_id, channel, status, deleted_at IS NOT NULL FROM alert_destinations"
	" WHERE id = ?";

/* Why destination id cannot get a link, or NULL when it can. */
static const char *not_linkable(const struct civic_rows *r, int64_t *account)
{
	int64_t deleted = 0;

	if (r->nrows == 0)
		return "not found";
	civic_rows_int(r, 0, 3, &deleted);
	if (deleted)
		return "was deleted";
	if (strcmp(civic_rows_get(r, 0, 1), "email") != 0)
		return "is not an email destination (only email destinations are confirmed by link)";
	if (strcmp(civic_rows_get(r, 0, 2), "pending") != 0)
		return "is not pending (already confirmed, or disabled)";
	if (!civic_rows_int(r, 0, 0, account))
		return "has no account";
	return NULL;
}

static int print_link(struct admin *a, int64_t destination, int64_t account, const char *url,
                      time_t expires)
{
	char when[32];

	civic_time_rfc3339(expires, when, sizeof(when));
	if (a->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "destination_id", json_object_new_int64(destination));
		json_object_object_add(o, "account_id", json_object_new_int64(account));
		json_object_object_add(o, "url", json_object_new_string(url));
		json_object_object_add(o, "expires_at", json_object_new_string(when));
		return admin_print_json(o);
	}
	printf("%s\n", url);
	fprintf(stderr, "civic-admin: destination link: valid until %s\n", when);
	return ADMIN_EXIT_OK;
}

int admin_destination_link(struct admin *a, int argc, char **argv)
{
	enum { DESTINATION, N };
	static const struct admin_opt opts[N] = {
		[DESTINATION] = {"destination", ADMIN_O_INT, true, 1, INT64_MAX, "a destination id"},
	};
	struct admin_val v[N];
	struct civic_rows *r;
	char token[CIVIC_LINK_TOKEN_LEN + 1], url[2048];
	const char *why;
	int64_t account = 0;
	time_t expires;
	enum civic_err err;
	int rc;

	if (!admin_parse_opts(a, argc, argv, opts, N, v, &rc) ||
	    (rc = admin_open(a)) != ADMIN_EXIT_OK)
		return rc;
	struct civic_param p[] = {CIVIC_PINT(v[DESTINATION].num)};
	if ((err = civic_db_exec(a->db, SQL_DESTINATION, p, 1, &r)) != CIVIC_OK)
		return admin_fail(a, err, "looking up the destination");
	why = not_linkable(r, &account);
	civic_rows_free(r);
	if (why) {
		admin_error(a, "destination %lld %s", (long long)v[DESTINATION].num, why);
		return ADMIN_EXIT_FAIL;
	}
	err = civic_email_token_mint(a->db, &a->cfg, CIVIC_EMAIL_CONFIRM_DESTINATION, account,
	                             v[DESTINATION].num, token, &expires);
	if (err != CIVIC_OK)
		return admin_fail(a, err, "minting the link");
	snprintf(url, sizeof(url), "%s/v1/alert-destinations/confirm/?token=%s", a->cfg.base_url,
	         token);
	return print_link(a, v[DESTINATION].num, account, url, expires);
}
