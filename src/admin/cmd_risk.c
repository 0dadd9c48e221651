/* civic-admin risk import FILE [--format json|csv] [--dry-run]: the file
 * is validated whole (src/lib/risk.c), then written in one transaction
 * with the alerts it causes, the outbox civic-dispatch reads. */
#include <errno.h>
#include <fcntl.h>
#include <mysqld_error.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "buf.h"
#include "countries.h"
#include "risk.h"
#include "timeutil.h"

/* The country's row is locked first, so two imports touching the same
 * country run one after the other (countries in sorted order: no lock
 * cycles between existing rows). */
static const char SQL_LATEST[] =
	"SELECT assessment_id, level, assessed_at FROM risk_latest WHERE country = ? FOR UPDATE";
/* A locking read sees what a concurrent import committed meanwhile,
 * where a plain read would still see the transaction's snapshot. */
static const char SQL_STORED[] =
	"SELECT id, level, score, summary, factors, source FROM risk_assessments"
	" WHERE country = ? AND assessed_at = ? FOR UPDATE";
static const char SQL_INSERT[] =
	"INSERT INTO risk_assessments"
	" (country, level, score, summary, factors, source, assessed_at, imported_at)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP())";
static const char SQL_ALERT[] =
	"INSERT INTO alerts (stream, assessment_id, level, previous_level, created_at)"
	" VALUES (?, ?, ?, ?, UTC_TIMESTAMP())";
static const char SQL_SET_LATEST[] =
	"INSERT INTO risk_latest (country, assessment_id, level, assessed_at) VALUES (?, ?, ?, ?)"
	" ON DUPLICATE KEY UPDATE assessment_id = VALUES(assessment_id), level = VALUES(level),"
	" assessed_at = VALUES(assessed_at)";

#define ATTEMPTS 5 /* a deadlock between two concurrent imports is retried */

/* The latest assessment of the country being imported, as it evolves. */
struct latest {
	bool known;
	int64_t id;
	int level;
	time_t at;
	bool changed;
};

struct import {
	struct civic_db *db;
	const struct civic_risk_batch *batch;
	bool dry_run;
	int64_t imported, unchanged;
	json_object *alerts;    /* [{country, level, previous_level, assessment_id, alert_id}] */
	json_object *conflicts; /* messages, at most CIVIC_RISK_ERRORS_MAX */
	size_t more_conflicts;
};

/* DATETIME text of t (UTC) into out, for a statement's parameter. */
static const char *datetime(time_t t, char out[20])
{
	civic_time_datetime(t, out, 20);
	return out;
}

static json_object *factors_json(const struct civic_risk_row *r)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < r->nfactors; i++)
		json_object_array_add(arr, json_object_new_string(r->factors[i]));
	return arr;
}

static bool same_text(const struct civic_rows *s, size_t col, const char *text)
{
	const char *cell = civic_rows_get(s, 0, col);

	return cell && civic_rows_len(s, 0, col) == strlen(text) && strcmp(cell, text) == 0;
}

static bool same_factors(const char *stored, const struct civic_risk_row *r)
{
	json_object *arr = stored ? json_tokener_parse(stored) : NULL;
	bool same = json_object_is_type(arr, json_type_array) &&
	            json_object_array_length(arr) == r->nfactors;

	for (size_t i = 0; same && i < r->nfactors; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		same = json_object_is_type(v, json_type_string) &&
		       (size_t)json_object_get_string_len(v) == strlen(r->factors[i]) &&
		       memcmp(json_object_get_string(v), r->factors[i], strlen(r->factors[i])) == 0;
	}
	json_object_put(arr);
	return same;
}

/* Row 0 of s (SQL_STORED) holds exactly what r says: byte for byte. */
static bool same_as_stored(const struct civic_rows *s, const struct civic_risk_row *r)
{
	int64_t level, score;

	return civic_rows_int(s, 0, 1, &level) && level == r->level &&
	       civic_rows_int(s, 0, 2, &score) && score == r->score && same_text(s, 3, r->summary) &&
	       same_factors(civic_rows_get(s, 0, 4), r) && same_text(s, 5, r->source);
}

static void conflict(struct import *im, const struct civic_risk_row *r, int64_t stored_id)
{
	char msg[256], when[26];

	if (json_object_array_length(im->conflicts) == CIVIC_RISK_ERRORS_MAX) {
		im->more_conflicts++;
		return;
	}
	civic_time_rfc3339(r->assessed_at, when, sizeof(when));
	snprintf(msg, sizeof(msg),
	         "%s %zu: %s at %s is already stored with other values (assessment %lld); "
	         "history is never rewritten",
	         im->batch->unit, r->where, r->country, when, (long long)stored_id);
	json_object_array_add(im->conflicts, json_object_new_string(msg));
}

static enum civic_err load_latest(struct import *im, const char *country, struct latest *l)
{
	struct civic_param p[] = {CIVIC_PSTR(country)};
	struct civic_rows *r;
	int64_t level;
	enum civic_err err;

	*l = (struct latest){0};
	if ((err = civic_db_exec(im->db, SQL_LATEST, p, 1, &r)) != CIVIC_OK)
		return err;
	if (r->nrows > 0) {
		l->known = civic_rows_int(r, 0, 0, &l->id) && civic_rows_int(r, 0, 1, &level) &&
		           civic_time_parse(civic_rows_get(r, 0, 2), &l->at);
		l->level = (int)level;
		if (!l->known)
			err = CIVIC_E_INTERNAL;
	}
	civic_rows_free(r);
	return err;
}

static enum civic_err insert_row(struct import *im, const struct civic_risk_row *r, int64_t *id)
{
	json_object *factors = factors_json(r);
	char at[20];
	struct civic_param p[] = {
		CIVIC_PSTR(r->country),
		CIVIC_PINT(r->level),
		CIVIC_PINT(r->score),
		CIVIC_PSTR(r->summary),
		CIVIC_PSTR(json_object_to_json_string_ext(
			factors, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)),
		CIVIC_PSTR(r->source),
		CIVIC_PSTR(datetime(r->assessed_at, at)),
	};
	struct civic_rows *res;
	enum civic_err err;

	*id = 0;
	if (im->dry_run)
		err = CIVIC_OK;
	else if ((err = civic_db_exec(im->db, SQL_INSERT, p, 7, &res)) == CIVIC_OK) {
		*id = (int64_t)res->insert_id;
		civic_rows_free(res);
	}
	json_object_put(factors);
	return err;
}

/* A new latest level that differs from the previous one: the outbox row. */
static enum civic_err add_alert(struct import *im, const struct civic_risk_row *r, int64_t id,
                                int previous)
{
	char stream[16];
	struct civic_rows *res;
	json_object *o = json_object_new_object();
	int64_t alert_id = 0;
	enum civic_err err;

	snprintf(stream, sizeof(stream), "risk:%s", r->country);
	/* After the snprintf: CIVIC_PSTR takes the string's length. */
	struct civic_param p[] = {CIVIC_PSTR(stream), CIVIC_PINT(id), CIVIC_PINT(r->level),
	                          CIVIC_PINT(previous)};
	if (!im->dry_run) {
		if ((err = civic_db_exec(im->db, SQL_ALERT, p, 4, &res)) != CIVIC_OK) {
			json_object_put(o);
			return err;
		}
		alert_id = (int64_t)res->insert_id;
		civic_rows_free(res);
	}
	json_object_object_add(o, "country", json_object_new_string(r->country));
	json_object_object_add(o, "level", json_object_new_int(r->level));
	json_object_object_add(o, "previous_level", json_object_new_int(previous));
	json_object_object_add(o, "assessment_id", im->dry_run ? NULL : json_object_new_int64(id));
	json_object_object_add(o, "alert_id", im->dry_run ? NULL : json_object_new_int64(alert_id));
	json_object_array_add(im->alerts, o);
	return CIVIC_OK;
}

static enum civic_err import_row(struct import *im, const struct civic_risk_row *r,
                                 struct latest *l)
{
	char at[20];
	struct civic_param p[] = {CIVIC_PSTR(r->country), CIVIC_PSTR(datetime(r->assessed_at, at))};
	struct civic_rows *s;
	int64_t id;
	enum civic_err err;

	if ((err = civic_db_exec(im->db, SQL_STORED, p, 2, &s)) != CIVIC_OK)
		return err;
	if (s->nrows > 0) {
		if (same_as_stored(s, r))
			im->unchanged++;
		else if (civic_rows_int(s, 0, 0, &id))
			conflict(im, r, id);
		civic_rows_free(s);
		return CIVIC_OK;
	}
	civic_rows_free(s);
	if ((err = insert_row(im, r, &id)) != CIVIC_OK)
		return err;
	im->imported++;
	/* An older row only adds history; the first row ever is the baseline. */
	if (l->known && r->assessed_at <= l->at)
		return CIVIC_OK;
	if (l->known && r->level != l->level && (err = add_alert(im, r, id, l->level)) != CIVIC_OK)
		return err;
	*l = (struct latest){.known = true, .id = id, .level = r->level, .at = r->assessed_at,
	                     .changed = true};
	return CIVIC_OK;
}

/* rows[0..n) are one country's, oldest first. */
static enum civic_err import_country(struct import *im, const struct civic_risk_row *rows,
                                     size_t n)
{
	struct latest l;
	char at[20];
	enum civic_err err;

	if ((err = load_latest(im, rows[0].country, &l)) != CIVIC_OK)
		return err;
	for (size_t i = 0; i < n; i++)
		if ((err = import_row(im, &rows[i], &l)) != CIVIC_OK)
			return err;
	if (!l.changed || im->dry_run)
		return CIVIC_OK;
	struct civic_param p[] = {CIVIC_PSTR(rows[0].country), CIVIC_PINT(l.id), CIVIC_PINT(l.level),
	                          CIVIC_PSTR(datetime(l.at, at))};
	return civic_db_exec(im->db, SQL_SET_LATEST, p, 4, NULL);
}

/* One attempt: everything or nothing. CIVIC_E_VALIDATION when a row
 * contradicts a stored one (im->conflicts says which); CIVIC_E_CONFLICT
 * is the database's duplicate key, from a concurrent import. */
static enum civic_err import_once(struct import *im)
{
	const struct civic_risk_batch *b = im->batch;
	enum civic_err err = CIVIC_OK;

	im->imported = im->unchanged = 0;
	im->more_conflicts = 0;
	json_object_put(im->alerts);
	json_object_put(im->conflicts);
	im->alerts = json_object_new_array();
	im->conflicts = json_object_new_array();
	if (!im->dry_run && (err = civic_db_begin(im->db)) != CIVIC_OK)
		return err;
	for (size_t i = 0, j; i < b->nrows && err == CIVIC_OK; i = j) {
		for (j = i + 1; j < b->nrows && strcmp(b->rows[i].country, b->rows[j].country) == 0; j++)
			;
		err = import_country(im, &b->rows[i], j - i);
	}
	if (err == CIVIC_OK && json_object_array_length(im->conflicts) > 0)
		err = CIVIC_E_VALIDATION;
	if (im->dry_run)
		return err;
	if (err != CIVIC_OK) {
		civic_db_rollback(im->db);
		return err;
	}
	return civic_db_commit(im->db);
}

/* Two imports of new rows for one country can deadlock (gap locks) or
 * meet on the unique key; InnoDB rolls one back and it runs again after
 * a short random pause, so the two do not collide in step again. */
static bool retryable(const struct civic_db *db)
{
	unsigned e = civic_db_errno(db);

	return e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT || e == ER_DUP_ENTRY;
}

static enum civic_err import_batch(struct import *im)
{
	enum civic_err err;

	for (int attempt = 1;; attempt++) {
		err = import_once(im);
		if (err == CIVIC_OK || err == CIVIC_E_VALIDATION || attempt == ATTEMPTS ||
		    !retryable(im->db))
			return err;
		nanosleep(&(struct timespec){.tv_nsec = 20000000L * (1 + randombytes_uniform(10))}, NULL);
	}
}

/* ------------------------------------------------------------ output */

static void print_errors(const struct admin *a, const char *path, json_object *list, size_t more)
{
	for (size_t i = 0; i < json_object_array_length(list); i++)
		admin_error(a, "%s: %s", path, json_object_get_string(json_object_array_get_idx(list, i)));
	if (more > 0)
		admin_error(a, "%s: and %zu more error%s", path, more, more == 1 ? "" : "s");
}

static int refuse_batch(const struct admin *a, const char *path, const struct civic_risk_batch *b)
{
	json_object *list = json_object_new_array();

	for (size_t i = 0; i < b->nerrors; i++)
		json_object_array_add(list, json_object_new_string(b->errors[i]));
	print_errors(a, path, list, b->more_errors);
	json_object_put(list);
	admin_error(a, "%s refused: %zu error%s; nothing was imported", path,
	            b->nerrors + b->more_errors, b->nerrors + b->more_errors == 1 ? "" : "s");
	return ADMIN_EXIT_FAIL;
}

static const char *plural(int64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static int print_result(const struct admin *a, struct import *im)
{
	size_t n = json_object_array_length(im->alerts);

	if (a->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "dry_run", json_object_new_boolean(im->dry_run));
		json_object_object_add(o, "imported", json_object_new_int64(im->imported));
		json_object_object_add(o, "unchanged", json_object_new_int64(im->unchanged));
		json_object_object_add(o, "alerts", json_object_get(im->alerts));
		return admin_print_json(o);
	}
	printf("%s%s %lld %s (%lld unchanged), ", im->dry_run ? "dry run: " : "",
	       im->dry_run ? "would import" : "imported", (long long)im->imported,
	       plural(im->imported, "assessment", "assessments"), (long long)im->unchanged);
	if (n == 0)
		printf("no alerts");
	else
		printf("%zu %s:", n, plural((int64_t)n, "alert", "alerts"));
	for (size_t i = 0; i < n; i++) {
		json_object *al = json_object_array_get_idx(im->alerts, i), *c, *lv, *pv;
		json_object_object_get_ex(al, "country", &c);
		json_object_object_get_ex(al, "level", &lv);
		json_object_object_get_ex(al, "previous_level", &pv);
		printf("%s %s %d\xE2\x86\x92%d", i ? "," : "", json_object_get_string(c),
		       json_object_get_int(pv), json_object_get_int(lv));
	}
	printf("%s\n", im->dry_run ? "; nothing written" : "");
	return ADMIN_EXIT_OK;
}

/* ------------------------------------------------------------ input */

/* admin_parse_opts reads options only: this takes out the FILE operand,
 * the one word that is neither an option nor an option's value, so it
 * may stand anywhere. A second operand stays for admin_parse_opts to
 * refuse. rest has room for argc + 1 pointers. */
static bool takes_value(const char *word, const struct admin_opt *opts, size_t n)
{
	const char *name = word + 2;
	size_t len = strlen(name);

	if (len == 0 || strchr(name, '=') != NULL)
		return false;
	if (strncmp("config", name, len) == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (opts[i].type != ADMIN_O_FLAG && strncmp(opts[i].name, name, len) == 0)
			return true;
	return false;
}

static int take_operand(int argc, char **argv, const struct admin_opt *opts, size_t n,
                        char **rest, const char **file)
{
	bool options = true;
	int k = 0;

	*file = NULL;
	rest[k++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		if (options && strcmp(w, "--") == 0) {
			options = false;
		} else if (options && w[0] == '-' && w[1] != '\0') {
			rest[k++] = argv[i];
			if (w[1] == '-' && takes_value(w, opts, n) && i + 1 < argc)
				rest[k++] = argv[++i];
		} else if (*file == NULL) {
			*file = w;
		} else {
			rest[k++] = argv[i];
		}
	}
	rest[k] = NULL;
	return k;
}

/* Reads path ("-" for stdin) into b, at most CIVIC_RISK_FILE_MAX bytes. */
static int read_input(const struct admin *a, const char *path, struct civic_buf *b)
{
	bool is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	int rc = ADMIN_EXIT_OK;
	char chunk[65536];
	ssize_t n;

	civic_buf_init(b, CIVIC_RISK_FILE_MAX);
	if (fd < 0) {
		admin_error(a, "cannot open %s: %s", path, strerror(errno));
		return ADMIN_EXIT_FAIL;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			admin_error(a, "cannot read %s: %s", path, strerror(errno));
			rc = ADMIN_EXIT_FAIL;
		} else if (b->len + (size_t)n > CIVIC_RISK_FILE_MAX) {
			admin_error(a, "%s is larger than %u MiB; split it", path, CIVIC_RISK_FILE_MAX >> 20);
			rc = ADMIN_EXIT_FAIL;
		} else if (!civic_buf_add(b, chunk, (size_t)n)) {
			admin_error(a, "out of memory reading %s", path);
			rc = ADMIN_EXIT_FAIL;
		} else
			continue;
		break;
	}
	if (!is_stdin)
		close(fd);
	return rc;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && strcasecmp(s + n - k, suffix) == 0;
}

/* --format, else the file name's extension, else sniffed by the parser. */
static bool pick_format(const struct admin *a, const char *opt, const char *path,
                        enum civic_risk_format *fmt)
{
	if (opt && strcmp(opt, "json") == 0)
		*fmt = CIVIC_RISK_JSON;
	else if (opt && strcmp(opt, "csv") == 0)
		*fmt = CIVIC_RISK_CSV;
	else if (opt) {
		admin_error(a, "--format must be json or csv, not '%s'", opt);
		return false;
	} else if (has_suffix(path, ".json"))
		*fmt = CIVIC_RISK_JSON;
	else if (has_suffix(path, ".csv"))
		*fmt = CIVIC_RISK_CSV;
	else
		*fmt = CIVIC_RISK_AUTO;
	return true;
}

/* ------------------------------------------------------------ the command */

static int import_file(struct admin *a, const char *path, struct civic_risk_batch *b, bool dry_run)
{
	struct import im = {.db = a->db, .batch = b, .dry_run = dry_run};
	enum civic_err err;
	int rc;

	err = import_batch(&im);
	if (err == CIVIC_OK)
		rc = print_result(a, &im);
	else if (err == CIVIC_E_VALIDATION) {
		print_errors(a, path, im.conflicts, im.more_conflicts);
		admin_error(a, "%s refused: it contradicts stored assessments; nothing was imported",
		            path);
		rc = ADMIN_EXIT_FAIL;
	} else if (retryable(a->db)) {
		admin_error(a, "%s: other imports kept locking the same countries; nothing was "
		               "imported, run it again",
		            path);
		rc = ADMIN_EXIT_FAIL;
	} else
		rc = admin_fail(a, err, "importing the assessments");
	json_object_put(im.alerts);
	json_object_put(im.conflicts);
	return rc;
}

int admin_risk_import(struct admin *a, int argc, char **argv)
{
	enum { FORMAT, DRY_RUN, N };
	static const struct admin_opt opts[N] = {
		[FORMAT] = {"format", ADMIN_O_STR, false, 0, 0, NULL},
		[DRY_RUN] = {"dry-run", ADMIN_O_FLAG, false, 0, 0, NULL},
	};
	struct admin_val v[N];
	struct civic_risk_batch batch = {0};
	struct civic_buf data = {0};
	enum civic_risk_format fmt;
	enum civic_err err;
	const char *path;
	char **rest = calloc((size_t)argc + 1, sizeof(char *)), why[512];
	int rc = ADMIN_EXIT_FAIL;

	if (rest == NULL) {
		admin_error(a, "out of memory");
		return rc;
	}
	if (!admin_parse_opts(a, take_operand(argc, argv, opts, N, rest, &path), rest, opts, N, v,
	                      &rc))
		goto out;
	rc = ADMIN_EXIT_USAGE;
	if (path == NULL) {
		admin_error(a, "FILE is required (- for stdin); see civic-admin %s --help", a->name);
		goto out;
	}
	if (!pick_format(a, v[FORMAT].str, path, &fmt))
		goto out;
	if ((rc = read_input(a, path, &data)) != ADMIN_EXIT_OK ||
	    (rc = admin_open(a)) != ADMIN_EXIT_OK)
		goto out;
	if (!civic_countries_load(&a->cfg, why, sizeof(why))) {
		admin_error(a, "%s", why);
		rc = ADMIN_EXIT_UNAVAILABLE;
		goto out;
	}
	err = civic_risk_parse(civic_buf_str(&data), data.len, fmt, time(NULL), &batch);
	if (err == CIVIC_E_VALIDATION)
		rc = refuse_batch(a, path, &batch);
	else if (err != CIVIC_OK)
		rc = admin_fail(a, err, "reading the assessments");
	else
		rc = import_file(a, path, &batch, v[DRY_RUN].present);
out:
	civic_risk_batch_free(&batch);
	civic_buf_free(&data);
	civic_countries_free();
	free(rest);
	return rc;
}
