/* Risk assessments: the levels' labels, and the parser and validator of
 * an import file (SPEC §5). A file is a JSON array of objects or a CSV
 * file with a header row, with the columns country, level, score,
 * summary, factors, source and assessed_at. Parsing is pure (no
 * database, no clock: the caller passes now), so fuzzers can drive it;
 * the admin CLI writes the rows (src/admin/cmd_risk.c). */
#ifndef CIVIC_RISK_H
#define CIVIC_RISK_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "err.h"

#define CIVIC_RISK_FILE_MAX (32u * 1024 * 1024) /* bytes */
#define CIVIC_RISK_ROWS_MAX 100000
#define CIVIC_RISK_ERRORS_MAX 50                /* listed; more are only counted */
#define CIVIC_RISK_SUMMARY_MAX 4000             /* characters */
#define CIVIC_RISK_FACTOR_MAX 200               /* characters, each */
#define CIVIC_RISK_FACTORS_MAX 32
#define CIVIC_RISK_SOURCE_MAX 200               /* characters */
#define CIVIC_RISK_FUTURE_MAX 300               /* seconds assessed_at may lie ahead */
#define CIVIC_RISK_LEVEL_MIN 1
#define CIVIC_RISK_LEVEL_MAX 5

enum civic_risk_format {
	CIVIC_RISK_AUTO, /* '[' or '{' as the first non-blank byte means JSON, else CSV */
	CIVIC_RISK_JSON,
	CIVIC_RISK_CSV,
};

/* One valid assessment. Strings are NUL-terminated strict UTF-8 without
 * control characters, owned by the batch. */
struct civic_risk_row {
	size_t where;       /* 1-based JSON row, or CSV line where the record starts */
	char country[3];    /* upper-case, supported by the deployment */
	int level, score;
	char *summary, *source;
	char **factors;
	size_t nfactors;
	time_t assessed_at; /* UTC, whole seconds */
};

struct civic_risk_batch {
	const char *unit;             /* "row" (JSON) or "line" (CSV), for messages */
	struct civic_risk_row *rows;  /* sorted by (country, assessed_at) */
	size_t nrows;
	char **errors;                /* "line 7: assessed_at: not an RFC 3339 time" */
	size_t nerrors;               /* at most CIVIC_RISK_ERRORS_MAX */
	size_t more_errors;           /* found beyond the cap */
};

/* Parses and validates data[0..len) as fmt; now is the clock for the
 * "not in the future" rule. Needs civic_countries_load() first. *out is
 * filled in every case and freed by the caller with
 * civic_risk_batch_free (also after an error). Returns CIVIC_OK when
 * every row is valid (out->rows then holds them all), CIVIC_E_VALIDATION
 * when the file is refused (out->errors says why; out->rows holds the
 * rows that were valid on their own), CIVIC_E_INTERNAL when out of
 * memory. */
enum civic_err civic_risk_parse(const char *data, size_t len, enum civic_risk_format fmt,
                                time_t now, struct civic_risk_batch *out);

/* Frees what b owns and zeroes it; b may be NULL. */
void civic_risk_batch_free(struct civic_risk_batch *b);

/* "low", "guarded", "elevated", "high", "severe" for levels 1..5;
 * NULL for any other level. Static strings. */
const char *civic_risk_level_label(int level);

#endif
