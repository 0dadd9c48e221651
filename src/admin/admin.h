/* civic-admin: shared state and helpers of the command handlers. The
 * command table lives in main.c; each cmd_*.c file holds the handlers
 * and the SQL of one resource. Names here are admin_* (program-internal,
 * like curl's Curl_*); everything else in the cmd_*.c files is static. */
#ifndef CIVIC_ADMIN_H
#define CIVIC_ADMIN_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "err.h"

/* Exit codes a shell user can act on. */
enum admin_exit {
	ADMIN_EXIT_OK = 0,
	ADMIN_EXIT_FAIL = 1,        /* the operation was refused or failed */
	ADMIN_EXIT_USAGE = 2,       /* unknown command or option, bad value */
	ADMIN_EXIT_UNAVAILABLE = 3, /* config unreadable, database unavailable */
};

struct admin;
typedef int admin_handler(struct admin *a, int argc, char **argv);

/* One row of the command table. */
struct admin_cmd {
	const char *words[2];   /* "key", "issue"; words[1] NULL for one-word commands */
	admin_handler *run;
	bool need_secrets;      /* load the pepper and JWT key files */
	const char *usage;      /* options after the command words */
	const char *help;       /* one line: what it does */
};

struct admin {
	const char *config_path;
	bool json;
	const struct admin_cmd *cmd;
	const char *name;       /* "key issue", for messages */
	struct civic_config cfg;
	bool cfg_loaded;
	struct civic_db *db;
};

/* Option types of a command's option table (STYLE.md 1): numbers are
 * checked here, once, so handlers read typed values only. */
enum admin_otype {
	ADMIN_O_STR,  /* any string */
	ADMIN_O_INT,  /* integer in min..max (civic_num_parse_str) */
	ADMIN_O_FLAG, /* no value: present or not */
};

struct admin_opt {
	const char *name;       /* long option, without "--" */
	enum admin_otype type;
	bool required;
	int64_t min, max;       /* ADMIN_O_INT only */
	const char *what;       /* for messages: "an account id" */
};

struct admin_val {
	bool present;
	const char *str;        /* borrowed from argv */
	int64_t num;
};

/* Parses argv[1..argc) (argv[0] is the last command word) against
 * opts[0..n) into vals[0..n). True when the handler should go on;
 * otherwise *rc is its exit code: ADMIN_EXIT_OK after --help printed
 * the command's usage, ADMIN_EXIT_USAGE after a one-line message. */
bool admin_parse_opts(struct admin *a, int argc, char **argv, const struct admin_opt *opts,
                      size_t n, struct admin_val *vals, int *rc);

/* Loads the config (with the secrets when the command needs them) and
 * creates the database handle (not connected yet). ADMIN_EXIT_OK or
 * ADMIN_EXIT_UNAVAILABLE after printing why. */
int admin_open(struct admin *a);

/* "civic-admin: <command>: <message>" on stderr. Never pass a secret. */
void admin_error(const struct admin *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reports a library error e met while doing what ("creating the
 * application") and returns the exit code: ADMIN_EXIT_UNAVAILABLE for
 * a database that is down, ADMIN_EXIT_FAIL otherwise. */
int admin_fail(const struct admin *a, enum civic_err e, const char *what);

/* Prints obj as one JSON object and a newline on stdout; takes obj
 * (json_object_put). Returns ADMIN_EXIT_OK, or ADMIN_EXIT_FAIL if
 * stdout could not be written. */
int admin_print_json(json_object *obj);

/* Adds key: RFC 3339 string of a DATETIME cell (UTC), or null. */
void admin_json_time(json_object *o, const char *key, const char *datetime);
/* Adds key: the scope names of bits, as an array. */
void admin_json_scopes(json_object *o, const char *key, uint32_t bits);
/* DATETIME cell as RFC 3339 into out (26 bytes), or "-" when NULL. */
const char *admin_time_text(const char *datetime, char out[26]);

/* Handlers (one per row of the command table). */
int admin_migrate(struct admin *a, int argc, char **argv);
int admin_account_create(struct admin *a, int argc, char **argv);
int admin_account_limits(struct admin *a, int argc, char **argv);
int admin_app_create(struct admin *a, int argc, char **argv);
int admin_key_issue(struct admin *a, int argc, char **argv);
int admin_key_revoke(struct admin *a, int argc, char **argv);
int admin_key_rotate(struct admin *a, int argc, char **argv);
int admin_key_list(struct admin *a, int argc, char **argv);
int admin_plan_list(struct admin *a, int argc, char **argv);
int admin_plan_set(struct admin *a, int argc, char **argv);
int admin_coins_credit(struct admin *a, int argc, char **argv);
int admin_billing_renew(struct admin *a, int argc, char **argv);
int admin_billing_cancel(struct admin *a, int argc, char **argv);
int admin_destination_link(struct admin *a, int argc, char **argv);
int admin_risk_import(struct admin *a, int argc, char **argv);

#endif
