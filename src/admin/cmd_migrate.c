/* civic-admin migrate: applies sql_dir/NNN_name.sql in version order,
 * each file once, recorded in schema_migrations. The files are trusted
 * (installed with the program) and sent whole as multi-statement
 * scripts: the one place SQL runs without prepared statements. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "num.h"

#define MAX_MIGRATIONS 1000
#define MAX_SCRIPT (4 * 1024 * 1024) /* bytes: far above any schema file */
#define LOCK_WAIT 60                 /* seconds to wait for another migrate */

static const char SQL_CREATE_TABLE[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version INT PRIMARY KEY, name VARCHAR(200) NOT NULL, applied_at DATETIME NOT NULL"
	") ENGINE=InnoDB";
/* Two migrates at once (two deploy scripts) would both apply a file. */
static const char SQL_LOCK[] = "SELECT GET_LOCK('civic_migrate', ?)";
static const char SQL_UNLOCK[] = "SELECT RELEASE_LOCK('civic_migrate')";
static const char SQL_APPLIED[] = "SELECT version FROM schema_migrations ORDER BY version";
static const char SQL_RECORD[] =
	"INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, UTC_TIMESTAMP())";

struct migration {
	int64_t version;
	char name[201];
};

struct plan {
	struct migration *files;
	size_t nfiles;
	int64_t *applied;
	size_t napplied;
};

/* The version of a migration file name "NNN_name.sql", or 0 when the
 * name is not of that form. */
static int64_t file_version(const char *name)
{
	size_t digits = strspn(name, "0123456789"), len = strlen(name), zeros = 0;
	int64_t v;

	if (digits == 0 || digits > 9 || name[digits] != '_' || len < digits + 6 ||
	    strcmp(name + len - 4, ".sql") != 0 || len > 200)
		return 0;
	for (size_t i = digits + 1; i < len - 4; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", name[i]))
			return 0;
	/* "001" is a version; the checked parser refuses leading zeros. */
	while (zeros + 1 < digits && name[zeros] == '0')
		zeros++;
	if (!civic_num_parse(name + zeros, digits - zeros, 1, INT32_MAX, &v))
		return 0;
	return v;
}

static int by_version(const void *x, const void *y)
{
	const struct migration *a = x, *b = y;

	return (a->version > b->version) - (a->version < b->version);
}

/* Lists the migration files of dir, sorted; refuses ill-named .sql
 * files and duplicate versions rather than skipping a migration. */
static int scan_dir(struct admin *a, const char *dir, struct plan *p)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = ADMIN_EXIT_FAIL;

	if (d == NULL) {
		admin_error(a, "cannot read sql_dir %s: %s", dir, strerror(errno));
		return ADMIN_EXIT_UNAVAILABLE;
	}
	if ((p->files = calloc(MAX_MIGRATIONS, sizeof(*p->files))) == NULL)
		goto out;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		int64_t v;

		if (len < 4 || strcmp(e->d_name + len - 4, ".sql") != 0)
			continue;
		if ((v = file_version(e->d_name)) == 0) {
			admin_error(a, "%s/%s: migration files must be named NNN_name.sql", dir,
			            e->d_name);
			goto out;
		}
		if (p->nfiles == MAX_MIGRATIONS) {
			admin_error(a, "%s: more than %d migration files", dir, MAX_MIGRATIONS);
			goto out;
		}
		p->files[p->nfiles].version = v;
		memcpy(p->files[p->nfiles].name, e->d_name, len + 1);
		p->nfiles++;
	}
	if (p->nfiles == 0) {
		admin_error(a, "no migration files (NNN_name.sql) in sql_dir %s", dir);
		goto out;
	}
	qsort(p->files, p->nfiles, sizeof(*p->files), by_version);
	for (size_t i = 1; i < p->nfiles; i++)
		if (p->files[i].version == p->files[i - 1].version) {
			admin_error(a, "%s: %s and %s have the same version", dir, p->files[i - 1].name,
			            p->files[i].name);
			goto out;
		}
	rc = ADMIN_EXIT_OK;
out:
	closedir(d);
	return rc;
}

static bool was_applied(const struct plan *p, int64_t version)
{
	for (size_t i = 0; i < p->napplied; i++)
		if (p->applied[i] == version)
			return true;
	return false;
}

/* Reads the versions in schema_migrations, creating the table first. */
static int read_applied(struct admin *a, struct plan *p)
{
	struct civic_rows *r = NULL;
	enum civic_err err;
	int rc = ADMIN_EXIT_FAIL;

	if ((err = civic_db_exec(a->db, SQL_CREATE_TABLE, NULL, 0, NULL)) != CIVIC_OK ||
	    (err = civic_db_exec(a->db, SQL_APPLIED, NULL, 0, &r)) != CIVIC_OK)
		return admin_fail(a, err, "reading schema_migrations");
	if (r->nrows && (p->applied = calloc(r->nrows, sizeof(*p->applied))) == NULL)
		goto out;
	for (size_t i = 0; i < r->nrows; i++)
		if (!civic_rows_int(r, i, 0, &p->applied[p->napplied++])) {
			admin_error(a, "schema_migrations holds a version that is not a number");
			goto out;
		}
	rc = ADMIN_EXIT_OK;
out:
	civic_rows_free(r);
	return rc;
}

/* Reads the whole of path into a NUL-terminated buffer (caller frees). */
static char *read_script(struct admin *a, const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf = NULL;

	if (f == NULL) {
		admin_error(a, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_SCRIPT) {
		admin_error(a, "%s is not a regular file of at most %d bytes", path, MAX_SCRIPT);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL ||
	    fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		admin_error(a, "cannot read %s", path);
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
out:
	fclose(f);
	return buf;
}

/* Runs one file and records it. */
static int apply(struct admin *a, const struct migration *m)
{
	char path[4096], err[512] = "";
	size_t len = 0;
	char *sql;
	enum civic_err e;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", a->cfg.sql_dir, m->name) >= sizeof(path)) {
		admin_error(a, "path of %s too long", m->name);
		return ADMIN_EXIT_FAIL;
	}
	if ((sql = read_script(a, path, &len)) == NULL)
		return ADMIN_EXIT_FAIL;
	e = civic_db_script(a->db, sql, len, err, sizeof(err));
	free(sql);
	if (e != CIVIC_OK) {
		/* DDL commits as it goes: say that part of the file may be in. */
		admin_error(a, "%s failed: %s; statements before the failing one stay applied "
		               "(DDL is not transactional): fix the file or the database and run "
		               "migrate again", m->name, err[0] ? err : civic_err_message(e));
		return e == CIVIC_E_UNAVAILABLE ? ADMIN_EXIT_UNAVAILABLE : ADMIN_EXIT_FAIL;
	}
	struct civic_param p[] = {CIVIC_PINT(m->version), CIVIC_PSTR(m->name)};
	if ((e = civic_db_exec(a->db, SQL_RECORD, p, 2, NULL)) != CIVIC_OK)
		return admin_fail(a, e, "recording the migration");
	return ADMIN_EXIT_OK;
}

/* Takes the advisory lock that serialises concurrent migrates. */
static int lock(struct admin *a)
{
	struct civic_param p[] = {CIVIC_PINT(LOCK_WAIT)};
	struct civic_rows *r;
	enum civic_err err;
	int64_t got = 0;

	if ((err = civic_db_exec(a->db, SQL_LOCK, p, 1, &r)) != CIVIC_OK)
		return admin_fail(a, err, "taking the migration lock");
	civic_rows_int(r, 0, 0, &got);
	civic_rows_free(r);
	if (got != 1) {
		admin_error(a, "another migrate has held the lock for %d s; try again later", LOCK_WAIT);
		return ADMIN_EXIT_FAIL;
	}
	return ADMIN_EXIT_OK;
}

static int run(struct admin *a, struct plan *p, json_object *applied, int64_t *current)
{
	int64_t newest_file = p->files[p->nfiles - 1].version;
	int rc;

	*current = 0;
	if ((rc = read_applied(a, p)) != ADMIN_EXIT_OK)
		return rc;
	for (size_t i = 0; i < p->napplied; i++)
		if (p->applied[i] > *current)
			*current = p->applied[i];
	if (*current > newest_file) {
		admin_error(a, "the database is at migration %lld but %s goes only up to %lld: "
		               "this civic-admin is older than the schema; refusing to downgrade",
		            (long long)*current, a->cfg.sql_dir, (long long)newest_file);
		return ADMIN_EXIT_FAIL;
	}
	for (size_t i = 0; i < p->nfiles; i++) {
		const struct migration *m = &p->files[i];
		json_object *o;

		if (was_applied(p, m->version))
			continue;
		if ((rc = apply(a, m)) != ADMIN_EXIT_OK)
			return rc;
		if (m->version > *current)
			*current = m->version;
		o = json_object_new_object();
		json_object_object_add(o, "version", json_object_new_int64(m->version));
		json_object_object_add(o, "name", json_object_new_string(m->name));
		json_object_array_add(applied, o);
		if (!a->json)
			printf("applied %s\n", m->name);
	}
	return ADMIN_EXIT_OK;
}

int admin_migrate(struct admin *a, int argc, char **argv)
{
	struct plan p = {0};
	json_object *applied = NULL, *out;
	int64_t current = 0;
	int rc;

	if (!admin_parse_opts(a, argc, argv, NULL, 0, NULL, &rc) ||
	    (rc = admin_open(a)) != ADMIN_EXIT_OK ||
	    (rc = scan_dir(a, a->cfg.sql_dir, &p)) != ADMIN_EXIT_OK || (rc = lock(a)) != ADMIN_EXIT_OK)
		goto out;
	applied = json_object_new_array();
	rc = run(a, &p, applied, &current);
	civic_db_exec(a->db, SQL_UNLOCK, NULL, 0, NULL);
	if (rc != ADMIN_EXIT_OK)
		goto out;
	if (a->json) {
		out = json_object_new_object();
		json_object_object_add(out, "applied", applied);
		json_object_object_add(out, "current", json_object_new_int64(current));
		applied = NULL;
		rc = admin_print_json(out);
	} else {
		printf("schema at migration %lld%s\n", (long long)current,
		       json_object_array_length(applied) ? "" : " (nothing to apply)");
	}
out:
	json_object_put(applied);
	free(p.files);
	free(p.applied);
	return rc;
}
