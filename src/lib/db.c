#include "db.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "num.h"

#define STMT_CACHE 64
#define PING_AFTER_IDLE 10 /* seconds: check a connection idle this long */

struct cached {
	const char *sql; /* identity: the address of a static string */
	MYSQL_STMT *stmt;
};

struct civic_db {
	const struct civic_config *cfg;
	MYSQL *conn;
	struct cached cache[STMT_CACHE];
	size_t ncached;
	bool in_tx;
	bool read_committed;
	time_t last_used;
	unsigned last_errno;
};

struct civic_param civic_param_str(const char *s)
{
	if (s == NULL)
		return CIVIC_PNULL;
	return (struct civic_param){.type = CIVIC_P_STR, .p = s, .len = strlen(s)};
}

struct civic_db *civic_db_new(const struct civic_config *cfg)
{
	struct civic_db *db = calloc(1, sizeof(*db));

	if (db)
		db->cfg = cfg;
	return db;
}

void civic_db_read_committed(struct civic_db *db)
{
	db->read_committed = true;
}

static void disconnect(struct civic_db *db)
{
	for (size_t i = 0; i < db->ncached; i++)
		mysql_stmt_close(db->cache[i].stmt);
	db->ncached = 0;
	if (db->conn)
		mysql_close(db->conn);
	db->conn = NULL;
	db->in_tx = false;
}

void civic_db_free(struct civic_db *db)
{
	if (db == NULL)
		return;
	disconnect(db);
	free(db);
}

static bool connection_error(unsigned e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == CR_CONNECTION_ERROR ||
	       e == CR_CONN_HOST_ERROR || e == CR_SERVER_LOST_EXTENDED || e == ER_CONNECTION_KILLED ||
	       e == ER_SERVER_SHUTDOWN || e == CR_UNKNOWN_HOST || e == 4031 /* idle timeout */;
}

/* The server cannot write now, though it answers: read-only (SET GLOBAL
 * read_only, --innodb-read-only), a full disk, table or tablespace, or
 * out of resources. The request is refused whole (nothing was written:
 * the statement failed, and its transaction is rolled back) with a 503
 * the client may retry. EE_WRITE (3) is mysys's "Error writing file",
 * which a full disk under a temporary table or binlog gives. */
static bool storage_error(unsigned e)
{
	return e == 3 /* EE_WRITE */ || e == ER_DISK_FULL || e == ER_ERROR_ON_WRITE ||
	       e == ER_GET_ERRNO || e == ER_OUTOFMEMORY || e == ER_OUT_OF_RESOURCES ||
	       e == ER_RECORD_FILE_FULL || e == ER_ERROR_DURING_COMMIT ||
	       e == ER_LOCK_TABLE_FULL || e == ER_READ_ONLY_TRANSACTION ||
	       e == ER_OPTION_PREVENTS_STATEMENT || e == ER_TOO_MANY_CONCURRENT_TRXS ||
	       e == ER_READ_ONLY_MODE || e == ER_INNODB_READ_ONLY;
}

static enum civic_err connect_db(struct civic_db *db)
{
	const struct civic_config *c = db->cfg;
	unsigned int timeout = 3, rw_timeout = 10;
	const char *init = "SET time_zone = '+00:00'";

	if ((db->conn = mysql_init(NULL)) == NULL)
		return CIVIC_E_INTERNAL;
	mysql_optionsv(db->conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_optionsv(db->conn, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
	mysql_optionsv(db->conn, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
	mysql_optionsv(db->conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_optionsv(db->conn, MYSQL_INIT_COMMAND, init);
	if (db->read_committed)
		mysql_optionsv(db->conn, MYSQL_INIT_COMMAND,
		               "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	if (!mysql_real_connect(db->conn, c->db_socket ? NULL : c->db_host, c->db_user,
	                        c->db_password, c->db_name, c->db_port, c->db_socket,
	                        CLIENT_MULTI_RESULTS)) {
		db->last_errno = mysql_errno(db->conn);
		civic_log_error("database connect failed: %s", mysql_error(db->conn));
		mysql_close(db->conn);
		db->conn = NULL;
		return CIVIC_E_UNAVAILABLE;
	}
	db->last_used = time(NULL);
	return CIVIC_OK;
}

/* A live connection: connects if needed and pings one that sat idle,
 * since the server may have restarted meanwhile. */
static enum civic_err ensure(struct civic_db *db)
{
	time_t now = time(NULL);

	if (db->conn && !db->in_tx && now - db->last_used > PING_AFTER_IDLE &&
	    mysql_ping(db->conn) != 0)
		disconnect(db);
	if (db->conn == NULL)
		return connect_db(db);
	return CIVIC_OK;
}

static enum civic_err fail(struct civic_db *db, unsigned e, const char *what, const char *msg)
{
	db->last_errno = e;
	if (connection_error(e)) {
		civic_log_error("database connection lost (%s): %s", what, msg);
		disconnect(db);
		return CIVIC_E_UNAVAILABLE;
	}
	if (e == ER_DUP_ENTRY || e == ER_DUP_KEY)
		return CIVIC_E_CONFLICT;
	if (e == ER_LOCK_WAIT_TIMEOUT || e == ER_LOCK_DEADLOCK) {
		civic_log_warn("database %s: %s", what, msg);
		return CIVIC_E_UNAVAILABLE;
	}
	if (storage_error(e)) {
		civic_log_error("database cannot write (%s, %u): %s", what, e, msg);
		return CIVIC_E_UNAVAILABLE;
	}
	civic_log_error("database %s failed (%u): %s", what, e, msg);
	return CIVIC_E_INTERNAL;
}

static enum civic_err prepared(struct civic_db *db, const char *sql, MYSQL_STMT **out)
{
	MYSQL_STMT *st;

	for (size_t i = 0; i < db->ncached; i++)
		if (db->cache[i].sql == sql) {
			*out = db->cache[i].stmt;
			return CIVIC_OK;
		}
	if ((st = mysql_stmt_init(db->conn)) == NULL)
		return CIVIC_E_INTERNAL;
	if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		enum civic_err e = fail(db, mysql_stmt_errno(st), "prepare", mysql_stmt_error(st));
		mysql_stmt_close(st);
		return e;
	}
	if (db->ncached == STMT_CACHE) { /* evict the oldest */
		mysql_stmt_close(db->cache[0].stmt);
		memmove(db->cache, db->cache + 1, sizeof(db->cache[0]) * (STMT_CACHE - 1));
		db->ncached--;
	}
	db->cache[db->ncached++] = (struct cached){sql, st};
	*out = st;
	return CIVIC_OK;
}

static void bind_params(MYSQL_BIND *b, const struct civic_param *p, size_t np)
{
	memset(b, 0, sizeof(*b) * np);
	for (size_t i = 0; i < np; i++) {
		switch (p[i].type) {
		case CIVIC_P_NULL:
			b[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		case CIVIC_P_INT:
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = (void *)&p[i].i;
			break;
		case CIVIC_P_STR:
		case CIVIC_P_BLOB:
			b[i].buffer_type = p[i].type == CIVIC_P_STR ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
			b[i].buffer = (void *)p[i].p;
			b[i].buffer_length = p[i].len;
			break;
		}
	}
}

void civic_rows_free(struct civic_rows *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nrows * r->ncols; i++)
		free(r->cells[i]);
	free(r->cells);
	free(r->lens);
	free(r);
}

/* Fetches every row of the current result set as text. */
static enum civic_err fetch_rows(struct civic_db *db, MYSQL_STMT *st, struct civic_rows *r)
{
	size_t nc = mysql_stmt_field_count(st), cap = 0;
	MYSQL_BIND *b = NULL;
	unsigned long *len = NULL;
	my_bool *isnull = NULL, *trunc = NULL;
	char small[64][64];
	enum civic_err err = CIVIC_E_INTERNAL;
	int rc;

	if (nc == 0 || nc > 64)
		return nc == 0 ? CIVIC_OK : CIVIC_E_INTERNAL;
	if (mysql_stmt_store_result(st) != 0)
		return fail(db, mysql_stmt_errno(st), "store", mysql_stmt_error(st));
	b = calloc(nc, sizeof(*b));
	len = calloc(nc, sizeof(*len));
	isnull = calloc(nc, sizeof(*isnull));
	trunc = calloc(nc, sizeof(*trunc));
	if (!b || !len || !isnull || !trunc)
		goto out;
	for (size_t c = 0; c < nc; c++) {
		b[c].buffer_type = MYSQL_TYPE_STRING;
		b[c].buffer = small[c];
		b[c].buffer_length = sizeof(small[c]);
		b[c].length = &len[c];
		b[c].is_null = &isnull[c];
		b[c].error = &trunc[c];
	}
	if (mysql_stmt_bind_result(st, b) != 0)
		goto out;
	r->ncols = nc;
	while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
		if (r->nrows == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			char **cells = realloc(r->cells, ncap * nc * sizeof(*cells));
			size_t *lens;
			if (cells == NULL)
				goto out;
			r->cells = cells;
			if ((lens = realloc(r->lens, ncap * nc * sizeof(*lens))) == NULL)
				goto out;
			r->lens = lens;
			cap = ncap;
		}
		for (size_t c = 0; c < nc; c++) {
			size_t at = r->nrows * nc + c;
			r->cells[at] = NULL;
			r->lens[at] = 0;
		}
		r->nrows++;
		for (size_t c = 0; c < nc; c++) {
			size_t at = (r->nrows - 1) * nc + c;
			char *cell;
			if (isnull[c])
				continue;
			if ((cell = malloc(len[c] + 1)) == NULL)
				goto out;
			r->cells[at] = cell;
			r->lens[at] = len[c];
			if (len[c] <= sizeof(small[c])) {
				memcpy(cell, small[c], len[c]);
			} else {
				/* Too long for the first buffer: fetch this column whole. */
				MYSQL_BIND one = b[c];
				one.buffer = cell;
				one.buffer_length = len[c];
				if (mysql_stmt_fetch_column(st, &one, (unsigned)c, 0) != 0)
					goto out;
			}
			cell[len[c]] = '\0';
		}
	}
	if (rc != MYSQL_NO_DATA) {
		err = fail(db, mysql_stmt_errno(st), "fetch", mysql_stmt_error(st));
		goto out;
	}
	err = CIVIC_OK;
out:
	mysql_stmt_free_result(st);
	free(b);
	free(len);
	free(isnull);
	free(trunc);
	return err;
}

/* Drains the extra result sets a CALL leaves (its status packet). */
static enum civic_err drain(struct civic_db *db, MYSQL_STMT *st)
{
	int rc;

	while ((rc = mysql_stmt_next_result(st)) == 0) {
		if (mysql_stmt_field_count(st) > 0) {
			mysql_stmt_store_result(st);
			mysql_stmt_free_result(st);
		}
	}
	if (rc > 0)
		return fail(db, mysql_stmt_errno(st), "next result", mysql_stmt_error(st));
	return CIVIC_OK;
}

static enum civic_err exec_once(struct civic_db *db, const char *sql, const struct civic_param *p,
                                size_t np, struct civic_rows *r)
{
	MYSQL_BIND pb[CIVIC_DB_PARAMS_MAX];
	MYSQL_STMT *st = NULL;
	enum civic_err err;

	if (np > CIVIC_DB_PARAMS_MAX) {
		civic_log_error("a statement with %zu parameters: at most %d", np, CIVIC_DB_PARAMS_MAX);
		return CIVIC_E_INTERNAL;
	}
	if ((err = ensure(db)) != CIVIC_OK || (err = prepared(db, sql, &st)) != CIVIC_OK)
		return err;
	bind_params(pb, p, np);
	if ((np && mysql_stmt_bind_param(st, pb) != 0) || mysql_stmt_execute(st) != 0)
		return fail(db, mysql_stmt_errno(st), "execute", mysql_stmt_error(st));
	db->last_used = time(NULL);
	if ((err = fetch_rows(db, st, r)) != CIVIC_OK)
		return err;
	r->affected = mysql_stmt_affected_rows(st);
	r->insert_id = mysql_stmt_insert_id(st);
	return drain(db, st);
}

enum civic_err civic_db_exec(struct civic_db *db, const char *sql, const struct civic_param *p,
                             size_t np, struct civic_rows **out)
{
	struct civic_rows *r = calloc(1, sizeof(*r));
	enum civic_err err;
	bool in_tx = db->in_tx;

	if (out)
		*out = NULL;
	if (r == NULL)
		return CIVIC_E_INTERNAL;
	db->last_errno = 0;
	err = exec_once(db, sql, p, np, r);
	/* A stale connection (server restarted) fails the write before the
	 * server sees anything: CR_SERVER_GONE_ERROR. Then, and outside a
	 * transaction, one retry on a fresh connection is safe. */
	if (err == CIVIC_E_UNAVAILABLE && !in_tx && db->last_errno == CR_SERVER_GONE_ERROR) {
		civic_rows_free(r);
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return CIVIC_E_INTERNAL;
		err = exec_once(db, sql, p, np, r);
	}
	if (err != CIVIC_OK || out == NULL)
		civic_rows_free(r);
	else
		*out = r;
	return err;
}

enum civic_err civic_db_begin(struct civic_db *db)
{
	enum civic_err err;

	if ((err = ensure(db)) != CIVIC_OK)
		return err;
	if (mysql_autocommit(db->conn, 0) != 0)
		return fail(db, mysql_errno(db->conn), "begin", mysql_error(db->conn));
	db->in_tx = true;
	return CIVIC_OK;
}

enum civic_err civic_db_commit(struct civic_db *db)
{
	if (db->conn == NULL)
		return CIVIC_E_UNAVAILABLE;
	if (mysql_commit(db->conn) != 0) {
		enum civic_err e = fail(db, mysql_errno(db->conn), "commit", mysql_error(db->conn));
		civic_db_rollback(db);
		return e;
	}
	db->in_tx = false;
	if (mysql_autocommit(db->conn, 1) != 0)
		return fail(db, mysql_errno(db->conn), "autocommit", mysql_error(db->conn));
	return CIVIC_OK;
}

void civic_db_rollback(struct civic_db *db)
{
	db->in_tx = false;
	if (db->conn == NULL)
		return;
	if (mysql_rollback(db->conn) != 0 || mysql_autocommit(db->conn, 1) != 0)
		disconnect(db);
}

enum civic_err civic_db_script(struct civic_db *db, const char *sql, size_t len, char *err,
                               size_t errlen)
{
	enum civic_err e;
	int rc;

	if ((e = ensure(db)) != CIVIC_OK) {
		snprintf(err, errlen, "cannot connect to the database");
		return e;
	}
	if (mysql_set_server_option(db->conn, MYSQL_OPTION_MULTI_STATEMENTS_ON) != 0)
		return fail(db, mysql_errno(db->conn), "script", mysql_error(db->conn));
	/* Trusted migration text from sql/, never values from a request. */
	rc = mysql_real_query(db->conn, sql, (unsigned long)len); /* checked: migrations */
	while (rc == 0) {
		MYSQL_RES *res = mysql_store_result(db->conn);
		mysql_free_result(res);
		if ((rc = mysql_next_result(db->conn)) == -1) {
			rc = 0;
			break;
		}
	}
	if (rc != 0) {
		/* Read the error before the option call below clears it. */
		unsigned no = mysql_errno(db->conn);
		snprintf(err, errlen, "%s", mysql_error(db->conn));
		e = fail(db, no, "script", err);
		if (db->conn)
			mysql_set_server_option(db->conn, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
		return e;
	}
	if (mysql_set_server_option(db->conn, MYSQL_OPTION_MULTI_STATEMENTS_OFF) != 0)
		return fail(db, mysql_errno(db->conn), "script", mysql_error(db->conn));
	return CIVIC_OK;
}

unsigned civic_db_errno(const struct civic_db *db)
{
	return db->last_errno;
}

bool civic_db_down(const struct civic_db *db)
{
	return connection_error(db->last_errno) || storage_error(db->last_errno);
}

const char *civic_rows_get(const struct civic_rows *r, size_t row, size_t col)
{
	if (r == NULL || row >= r->nrows || col >= r->ncols)
		return NULL;
	return r->cells[row * r->ncols + col];
}

size_t civic_rows_len(const struct civic_rows *r, size_t row, size_t col)
{
	if (r == NULL || row >= r->nrows || col >= r->ncols)
		return 0;
	return r->lens[row * r->ncols + col];
}

bool civic_rows_int(const struct civic_rows *r, size_t row, size_t col, int64_t *out)
{
	return civic_num_parse_str(civic_rows_get(r, row, col), INT64_MIN, INT64_MAX, out);
}
