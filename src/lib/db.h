/* MariaDB access (Connector/C): prepared statements only (STYLE.md 9).
 * One connection per process, opened lazily and re-opened after the
 * server went away; statements are prepared once per connection and
 * cached by the address of their SQL text, so pass static strings.
 * A database that is down yields CIVIC_E_UNAVAILABLE quickly (connect
 * timeout 3 s), never a hang. */
#ifndef CIVIC_DB_H
#define CIVIC_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

struct civic_db;

/* Parameters of one statement (the dispatcher's claims bind 66). */
#define CIVIC_DB_PARAMS_MAX 72

/* Elements of an array (parameter lists and other tables). */
#define CIVIC_NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum civic_ptype { CIVIC_P_NULL, CIVIC_P_INT, CIVIC_P_STR, CIVIC_P_BLOB };

struct civic_param {
	enum civic_ptype type;
	int64_t i;
	const void *p; /* string or blob; not copied */
	size_t len;
};

#define CIVIC_PINT(v) ((struct civic_param){.type = CIVIC_P_INT, .i = (int64_t)(v)})
/* A string parameter; NULL becomes SQL NULL. */
#define CIVIC_PSTR(v) civic_param_str(v)
#define CIVIC_PBLOB(v, n) ((struct civic_param){.type = CIVIC_P_BLOB, .p = (v), .len = (n)})
#define CIVIC_PNULL ((struct civic_param){.type = CIVIC_P_NULL})

struct civic_param civic_param_str(const char *s);

/* A fully fetched result. Cells are NUL-terminated (binary columns may
 * hold NULs: use the length); a NULL cell is SQL NULL. */
struct civic_rows {
	size_t nrows, ncols;
	char **cells;   /* nrows * ncols */
	size_t *lens;
	uint64_t affected;
	uint64_t insert_id;
};

/* Creates a handle for cfg (borrowed: must outlive the handle). Does not
 * connect yet. NULL when out of memory. */
struct civic_db *civic_db_new(const struct civic_config *cfg);
void civic_db_free(struct civic_db *db);

/* Every connection of db, from the next one on, runs its transactions
 * at READ COMMITTED instead of REPEATABLE READ: locking reads then lock
 * only the rows they return, without gap locks. For the dispatcher,
 * whose claims (SELECT … FOR UPDATE SKIP LOCKED) run beside other runs'
 * claims and updates. Call it before the first statement. */
void civic_db_read_committed(struct civic_db *db);

/* Runs one prepared statement. out may be NULL when no rows are wanted;
 * otherwise *out is set (also for zero rows) and freed by the caller
 * with civic_rows_free. Errors: CIVIC_E_UNAVAILABLE (server down or
 * connection lost), CIVIC_E_CONFLICT (duplicate key), CIVIC_E_INTERNAL.
 * A CALL whose procedure returns one result set is supported. */
enum civic_err civic_db_exec(struct civic_db *db, const char *sql, const struct civic_param *p,
                             size_t np, struct civic_rows **out);

/* Transactions; a lost connection inside one is never retried. */
enum civic_err civic_db_begin(struct civic_db *db);
enum civic_err civic_db_commit(struct civic_db *db);
void civic_db_rollback(struct civic_db *db);

/* Runs a trusted multi-statement SQL script (migrations from sql/,
 * never values from a request). */
enum civic_err civic_db_script(struct civic_db *db, const char *sql, size_t len, char *err,
                               size_t errlen);

/* The server's last error number (0 if none), e.g. for messages. */
unsigned civic_db_errno(const struct civic_db *db);
/* The last statement failed because the server is gone or cannot write
 * (a connection, read-only or disk-full error), not a deadlock or a
 * conflict: worth waiting for, not worth retrying at once. */
bool civic_db_down(const struct civic_db *db);

void civic_rows_free(struct civic_rows *r);
/* Cell text; NULL for SQL NULL or out of range. */
const char *civic_rows_get(const struct civic_rows *r, size_t row, size_t col);
size_t civic_rows_len(const struct civic_rows *r, size_t row, size_t col);
/* Cell as an integer (checked parse); false on NULL or non-integer. */
bool civic_rows_int(const struct civic_rows *r, size_t row, size_t col, int64_t *out);

#endif
