#include "risk.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "countries.h"
#include "input.h"
#include "num.h"
#include "timeutil.h"

static const char *const labels[] = {NULL, "low", "guarded", "elevated", "high", "severe"};

const char *civic_risk_level_label(int level)
{
	return level >= CIVIC_RISK_LEVEL_MIN && level <= CIVIC_RISK_LEVEL_MAX ? labels[level] : NULL;
}

/* ------------------------------------------------------------ the batch */

struct parse {
	struct civic_risk_batch *b;
	time_t now;
	size_t rows_alloc;
	bool oom;
};

static __attribute__((format(printf, 2, 3))) void add_error(struct parse *ps, const char *fmt, ...)
{
	struct civic_risk_batch *b = ps->b;
	char msg[512];
	va_list ap;

	if (b->nerrors == CIVIC_RISK_ERRORS_MAX) {
		b->more_errors++;
		return;
	}
	if (b->errors == NULL && (b->errors = calloc(CIVIC_RISK_ERRORS_MAX, sizeof(char *))) == NULL) {
		ps->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((b->errors[b->nerrors] = strdup(msg)) == NULL)
		ps->oom = true;
	else
		b->nerrors++;
}

/* "row 3: level: must be …", or without a field for the whole row. */
static void row_error(struct parse *ps, size_t where, const char *field, const char *why)
{
	if (field)
		add_error(ps, "%s %zu: %s: %s", ps->b->unit, where, field, why);
	else
		add_error(ps, "%s %zu: %s", ps->b->unit, where, why);
}

/* A name from the file, safe to print on a terminal: printable ASCII,
 * anything else as '?', at most 40 bytes. */
static const char *printable(const char *s, size_t len, char out[48])
{
	size_t n = len < 40 ? len : 40;

	for (size_t i = 0; i < n; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	snprintf(out + n, 48 - n, "%s", len > n ? "..." : "");
	return out;
}

static void free_row(struct civic_risk_row *r)
{
	free(r->summary);
	free(r->source);
	for (size_t i = 0; i < r->nfactors; i++)
		free(r->factors[i]);
	free(r->factors);
}

static void add_row(struct parse *ps, struct civic_risk_row *row)
{
	struct civic_risk_batch *b = ps->b;

	if (b->nrows == ps->rows_alloc) {
		size_t n = ps->rows_alloc ? ps->rows_alloc * 2 : 64;
		struct civic_risk_row *r = realloc(b->rows, n * sizeof(*r));
		if (r == NULL) {
			ps->oom = true;
			free_row(row);
			return;
		}
		b->rows = r;
		ps->rows_alloc = n;
	}
	b->rows[b->nrows++] = *row;
}

void civic_risk_batch_free(struct civic_risk_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->nrows; i++)
		free_row(&b->rows[i]);
	free(b->rows);
	for (size_t i = 0; i < b->nerrors; i++)
		free(b->errors[i]);
	free(b->errors);
	memset(b, 0, sizeof(*b));
}

/* ------------------------------------------------------------ the columns */

/* A column's check: NULL when v is valid (and stored into row), else the
 * reason, possibly written into why. v is NULL for a JSON null. */
typedef const char *column_check(struct parse *ps, json_object *v, struct civic_risk_row *row,
                                 char *why, size_t whylen);

/* How a CSV cell becomes the JSON value a column checks. */
enum cell { CELL_TEXT, CELL_INT, CELL_LIST };

static const char COUNTRY_WHY[] = "must be a supported ISO 3166-1 alpha-2 code";

static const char *check_country(struct parse *ps, json_object *v, struct civic_risk_row *row,
                                 char *why, size_t whylen)
{
	const char *s;
	char code[3];

	(void)ps, (void)why, (void)whylen;
	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) != 2)
		return COUNTRY_WHY;
	s = json_object_get_string(v);
	for (int i = 0; i < 2; i++)
		code[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
	code[2] = '\0';
	if (civic_countries_find(code) == NULL)
		return COUNTRY_WHY;
	memcpy(row->country, code, sizeof(code));
	return NULL;
}

static bool integer(json_object *v, int min, int max, int *out)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return false;
	n = json_object_get_int64(v);
	if (n < min || n > max)
		return false;
	*out = (int)n;
	return true;
}

static const char *check_level(struct parse *ps, json_object *v, struct civic_risk_row *row,
                               char *why, size_t whylen)
{
	(void)ps, (void)why, (void)whylen;
	return integer(v, CIVIC_RISK_LEVEL_MIN, CIVIC_RISK_LEVEL_MAX, &row->level)
	           ? NULL
	           : "must be an integer from 1 to 5";
}

static const char *check_score(struct parse *ps, json_object *v, struct civic_risk_row *row,
                               char *why, size_t whylen)
{
	(void)ps, (void)why, (void)whylen;
	return integer(v, 0, 100, &row->score) ? NULL : "must be an integer from 0 to 100";
}

/* A text of 1..max characters, checked by the API's own text rule
 * (strict UTF-8, no NUL or control characters), copied into *out. */
static const char *text(struct parse *ps, json_object *v, int64_t max, char **out, char *why,
                        size_t whylen)
{
	const struct civic_field f = {"", CIVIC_F_TEXT, 0, 1, max};
	const struct civic_field any_length = {"", CIVIC_F_TEXT, 0, 0, INT64_MAX};
	struct civic_value val;
	const char *r;

	if ((r = civic_input_check_value(&f, v, &val)) != NULL) {
		/* Say which bound, rather than input.c's "has an invalid length". */
		if (civic_input_check_value(&any_length, v, &val) != NULL ||
		    json_object_get_string_len(v) == 0)
			return r;
		snprintf(why, whylen, "must be at most %lld characters", (long long)max);
		return why;
	}
	if ((*out = strdup(val.str)) == NULL)
		ps->oom = true;
	return NULL;
}

static const char *check_summary(struct parse *ps, json_object *v, struct civic_risk_row *row,
                                 char *why, size_t whylen)
{
	return text(ps, v, CIVIC_RISK_SUMMARY_MAX, &row->summary, why, whylen);
}

static const char *check_source(struct parse *ps, json_object *v, struct civic_risk_row *row,
                                char *why, size_t whylen)
{
	return text(ps, v, CIVIC_RISK_SOURCE_MAX, &row->source, why, whylen);
}

static const char *check_factors(struct parse *ps, json_object *v, struct civic_risk_row *row,
                                 char *why, size_t whylen)
{
	char inner[96];
	const char *r;
	size_t n;

	if (!json_object_is_type(v, json_type_array))
		return "must be an array of strings";
	if ((n = json_object_array_length(v)) > CIVIC_RISK_FACTORS_MAX) {
		snprintf(why, whylen, "must have at most %d items", CIVIC_RISK_FACTORS_MAX);
		return why;
	}
	if ((row->factors = calloc(n ? n : 1, sizeof(char *))) == NULL) {
		ps->oom = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		r = text(ps, json_object_array_get_idx(v, i), CIVIC_RISK_FACTOR_MAX, &row->factors[i],
		         inner, sizeof(inner));
		if (r) {
			snprintf(why, whylen, "item %zu: %s", i + 1, r);
			return why;
		}
		row->nfactors++;
	}
	return NULL;
}

static const char *check_time(struct parse *ps, json_object *v, struct civic_risk_row *row,
                              char *why, size_t whylen)
{
	const char *s;

	(void)why, (void)whylen;
	if (!json_object_is_type(v, json_type_string))
		return "must be an RFC 3339 time with an offset, e.g. 2026-05-17T09:30:00+02:00";
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s) ||
	    !civic_time_parse_rfc3339(s, &row->assessed_at))
		return "must be an RFC 3339 time with an offset, e.g. 2026-05-17T09:30:00+02:00";
	if (row->assessed_at > ps->now + CIVIC_RISK_FUTURE_MAX)
		return "is more than 5 minutes in the future";
	return NULL;
}

static const struct column {
	const char *name;
	column_check *check;
	enum cell cell;
} columns[] = {
	{"country", check_country, CELL_TEXT},   {"level", check_level, CELL_INT},
	{"score", check_score, CELL_INT},        {"summary", check_summary, CELL_TEXT},
	{"factors", check_factors, CELL_LIST},   {"source", check_source, CELL_TEXT},
	{"assessed_at", check_time, CELL_TEXT},
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

static const struct column *find_column(const char *name, size_t len)
{
	for (size_t i = 0; i < NCOLUMNS; i++)
		if (strlen(columns[i].name) == len && memcmp(columns[i].name, name, len) == 0)
			return &columns[i];
	return NULL;
}

/* Checks one record (a JSON object, also for CSV) and keeps it when valid. */
static void check_record(struct parse *ps, json_object *obj, size_t where)
{
	struct civic_risk_row row = {.where = where};
	bool seen[NCOLUMNS] = {false}, bad = false;
	char why[160], name[48];

	if (!json_object_is_type(obj, json_type_object)) {
		row_error(ps, where, NULL, "must be an object");
		return;
	}
	json_object_object_foreach(obj, key, val) {
		const struct column *c = find_column(key, strlen(key));
		const char *r;
		if (c == NULL) {
			row_error(ps, where, printable(key, strlen(key), name), "is not a known field");
			bad = true;
		} else if ((r = c->check(ps, val, &row, why, sizeof(why))) != NULL) {
			row_error(ps, where, c->name, r);
			bad = true;
		}
		if (c)
			seen[c - columns] = true;
	}
	for (size_t i = 0; i < NCOLUMNS; i++)
		if (!seen[i]) {
			row_error(ps, where, columns[i].name, "is required");
			bad = true;
		}
	if (bad || ps->oom)
		free_row(&row);
	else
		add_row(ps, &row);
}

/* ------------------------------------------------------------ whole file */

static size_t line_of(const char *data, size_t off)
{
	size_t line = 1;

	for (size_t i = 0; i < off; i++)
		line += data[i] == '\n';
	return line;
}

/* Strict UTF-8 without NUL bytes, for the whole file at once, so the
 * message can name the line. */
static bool scan_bytes(struct parse *ps, const char *data, size_t len)
{
	size_t line = 1, k;
	unsigned cp;

	for (size_t i = 0; i < len; i += k) {
		if (data[i] == '\0') {
			add_error(ps, "line %zu: a NUL byte", line);
			return false;
		}
		if ((k = civic_utf8_next((const unsigned char *)data + i, len - i, &cp)) == 0) {
			add_error(ps, "line %zu: not valid UTF-8", line);
			return false;
		}
		line += data[i] == '\n';
	}
	return true;
}

/* The first offset at or after i that is not white space. The data
 * need not end with a NUL, so no strspn. */
static size_t skip_blank(const char *data, size_t len, size_t i)
{
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	return i;
}

/* ------------------------------------------------------------ JSON */

/* civic_input_parse_json says only "invalid": find where, for the message. */
static void json_syntax_error(struct parse *ps, const char *data, size_t len)
{
	json_tokener *tok = json_tokener_new_ex(CIVIC_JSON_DEPTH);
	json_object *obj;
	enum json_tokener_error e;
	size_t end;

	if (tok == NULL) {
		ps->oom = true;
		return;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, data, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (e == json_tokener_continue)
		add_error(ps, "line %zu: the JSON ends before its array does", line_of(data, len));
	else if (e != json_tokener_success)
		add_error(ps, "line %zu: not valid JSON: %s", line_of(data, end),
		          json_tokener_error_desc(e));
	else
		add_error(ps, "not valid JSON (strict: no NaN, Infinity, single quotes or comments, "
		              "at most %d levels deep)",
		          CIVIC_JSON_DEPTH);
	json_object_put(obj);
	json_tokener_free(tok);
}

static void parse_json(struct parse *ps, const char *data, size_t len)
{
	json_object *root;
	enum civic_err err;
	size_t n;

	if ((err = civic_input_parse_json(data, len, &root)) != CIVIC_OK) {
		if (err == CIVIC_E_INTERNAL)
			ps->oom = true;
		else
			json_syntax_error(ps, data, len);
		return;
	}
	if (!json_object_is_type(root, json_type_array))
		add_error(ps, "the JSON must be an array of assessment objects");
	else if ((n = json_object_array_length(root)) > CIVIC_RISK_ROWS_MAX)
		add_error(ps, "the file holds %zu assessments; at most %d are taken at once", n,
		          CIVIC_RISK_ROWS_MAX);
	else
		for (size_t i = 0; i < n && !ps->oom; i++)
			check_record(ps, json_object_array_get_idx(root, i), i + 1);
	json_object_put(root);
}

/* ------------------------------------------------------------ CSV (RFC 4180) */

#define CSV_FIELDS_MAX 64

struct csv {
	const char *p, *end;
	size_t line;            /* of p, 1-based */
	struct civic_buf cells; /* the record's fields, unescaped, each NUL-terminated */
	size_t off[CSV_FIELDS_MAX], len[CSV_FIELDS_MAX];
	size_t n;               /* fields in the record (only the first CSV_FIELDS_MAX kept) */
	bool oom;
};

static void csv_add(struct csv *c, const char *p, size_t n)
{
	if (!civic_buf_add(&c->cells, p, n))
		c->oom = true;
}

static bool at_line_end(const struct csv *c, const char *p)
{
	return p < c->end && (*p == '\n' || (*p == '\r' && p + 1 < c->end && p[1] == '\n'));
}

/* A quoted field at c->p: "" is a quote; CR and LF inside are data. */
static const char *csv_quoted(struct csv *c)
{
	const char *p = c->p + 1, *q;

	for (;;) {
		if ((q = memchr(p, '"', (size_t)(c->end - p))) == NULL)
			return "a quoted field is never closed";
		for (const char *s = p; s < q; s++)
			c->line += *s == '\n';
		csv_add(c, p, (size_t)(q - p));
		if (q + 1 < c->end && q[1] == '"') {
			csv_add(c, "\"", 1);
			p = q + 2;
			continue;
		}
		p = q + 1;
		break;
	}
	c->p = p;
	if (p < c->end && *p != ',' && !at_line_end(c, p))
		return "text after the closing quote of a field";
	return NULL;
}

static const char *csv_plain(struct csv *c)
{
	const char *q = c->p;

	for (; q < c->end && *q != ',' && *q != '\n' && *q != '\r'; q++)
		if (*q == '"')
			return "a quote inside an unquoted field (quote the field and double the quote)";
	if (q < c->end && *q == '\r' && !at_line_end(c, q))
		return "a carriage return outside quotes that does not end a line";
	csv_add(c, c->p, (size_t)(q - c->p));
	c->p = q;
	return NULL;
}

/* Reads the next record: 1 for a record (*start = its first line), 0 at
 * the end of the input, -1 after a syntax error (reported) or when out
 * of memory. Blank lines between records are skipped. */
static int csv_record(struct parse *ps, struct csv *c, size_t *start)
{
	while (at_line_end(c, c->p)) {
		c->p += *c->p == '\r' ? 2 : 1;
		c->line++;
	}
	if (c->p == c->end)
		return 0;
	*start = c->line;
	civic_buf_reset(&c->cells);
	for (c->n = 0;; c->n++) {
		size_t at = c->cells.len, line = c->line;
		const char *why = c->p < c->end && *c->p == '"' ? csv_quoted(c) : csv_plain(c);
		csv_add(c, "", 1);
		if (c->oom) {
			ps->oom = true;
			return -1;
		}
		if (why) {
			add_error(ps, "line %zu: %s", line, why);
			return -1;
		}
		if (c->n < CSV_FIELDS_MAX) {
			c->off[c->n] = at;
			c->len[c->n] = c->cells.len - at - 1;
		}
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end) {
			c->p += *c->p == '\r' ? 2 : 1;
			c->line++;
		}
		c->n++;
		return 1;
	}
}

static const char *cell(const struct csv *c, size_t i)
{
	return c->cells.data + c->off[i];
}

/* Maps each header field to its column; false after reporting what is
 * unknown, repeated or missing. */
static bool csv_header(struct parse *ps, const struct csv *c, size_t line,
                       const struct column *field_col[CSV_FIELDS_MAX])
{
	bool seen[NCOLUMNS] = {false}, ok = true;
	char name[48];

	if (c->n > CSV_FIELDS_MAX) {
		add_error(ps, "line %zu: %zu columns in the header; an import has %zu", line, c->n,
		          NCOLUMNS);
		return false;
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct column *col = find_column(cell(c, i), c->len[i]);
		printable(cell(c, i), c->len[i], name);
		if (col == NULL)
			add_error(ps, "line %zu: unknown column '%s'", line, name);
		else if (seen[col - columns])
			add_error(ps, "line %zu: column '%s' appears twice", line, name);
		else {
			seen[col - columns] = true;
			field_col[i] = col;
			continue;
		}
		ok = false;
	}
	for (size_t i = 0; i < NCOLUMNS; i++)
		if (!seen[i]) {
			add_error(ps, "line %zu: missing column '%s'", line, columns[i].name);
			ok = false;
		}
	return ok;
}

/* The factors cell: items separated by ';', spaces around each trimmed;
 * an empty cell is no factors. */
static json_object *factor_list(const char *s, size_t len)
{
	json_object *arr = json_object_new_array();
	const char *end = s + len;

	if (len == 0)
		return arr;
	for (const char *p = s;;) {
		const char *semi = memchr(p, ';', (size_t)(end - p)), *stop = semi ? semi : end;
		while (p < stop && (*p == ' ' || *p == '\t'))
			p++;
		while (stop > p && (stop[-1] == ' ' || stop[-1] == '\t'))
			stop--;
		json_object_array_add(arr, json_object_new_string_len(p, (int)(stop - p)));
		if (semi == NULL)
			return arr;
		p = semi + 1;
	}
}

/* The record as the JSON object a JSON file would have held. */
static json_object *csv_object(const struct csv *c, const struct column *field_col[])
{
	json_object *o = json_object_new_object(), *v;
	int64_t n;

	for (size_t i = 0; i < c->n; i++) {
		const char *s = cell(c, i);
		switch (field_col[i]->cell) {
		case CELL_INT:
			v = civic_num_parse(s, c->len[i], -1000000, 1000000, &n)
			        ? json_object_new_int64(n)
			        : json_object_new_string_len(s, (int)c->len[i]);
			break;
		case CELL_LIST:
			v = factor_list(s, c->len[i]);
			break;
		default:
			v = json_object_new_string_len(s, (int)c->len[i]);
		}
		json_object_object_add(o, field_col[i]->name, v);
	}
	return o;
}

static void parse_csv(struct parse *ps, const char *data, size_t len)
{
	struct csv c = {.p = data, .end = data + len, .line = 1};
	const struct column *field_col[CSV_FIELDS_MAX] = {NULL};
	size_t start, header, rows = 0;
	int rc;

	/* Every field adds a NUL: at most one more byte per input byte. */
	civic_buf_init(&c.cells, 2 * len + 2);
	if (csv_record(ps, &c, &header) != 1 || !csv_header(ps, &c, header, field_col))
		goto out;
	while ((rc = csv_record(ps, &c, &start)) == 1) {
		json_object *o;
		if (++rows > CIVIC_RISK_ROWS_MAX) {
			add_error(ps, "line %zu: more than %d assessments; split the file", start,
			          CIVIC_RISK_ROWS_MAX);
			break;
		}
		if (c.n != NCOLUMNS) {
			add_error(ps, "line %zu: %zu fields, the header has %zu", start, c.n, NCOLUMNS);
			continue;
		}
		o = csv_object(&c, field_col);
		check_record(ps, o, start);
		json_object_put(o);
		if (ps->oom)
			break;
	}
out:
	civic_buf_free(&c.cells);
}

/* ------------------------------------------------------------ the batch again */

static int by_country_time(const void *a, const void *b)
{
	const struct civic_risk_row *x = a, *y = b;
	int c = strcmp(x->country, y->country);

	if (c != 0)
		return c;
	if (x->assessed_at != y->assessed_at)
		return x->assessed_at < y->assessed_at ? -1 : 1;
	return x->where < y->where ? -1 : x->where > y->where;
}

/* Sorts the rows and reports a second assessment of a country at the
 * same time (the database keeps one per country and time). */
static void check_duplicates(struct parse *ps)
{
	struct civic_risk_batch *b = ps->b;
	char why[64];

	if (b->nrows > 1)
		qsort(b->rows, b->nrows, sizeof(*b->rows), by_country_time);
	for (size_t i = 1, first = 0; i < b->nrows; i++) {
		const struct civic_risk_row *f = &b->rows[first], *r = &b->rows[i];
		if (strcmp(f->country, r->country) != 0 || f->assessed_at != r->assessed_at) {
			first = i;
			continue;
		}
		snprintf(why, sizeof(why), "same country and time as %s %zu", b->unit, f->where);
		row_error(ps, r->where, "assessed_at", why);
	}
}

static enum civic_risk_format sniff(const char *data, size_t len)
{
	size_t i = skip_blank(data, len, 0);

	return i < len && (data[i] == '[' || data[i] == '{') ? CIVIC_RISK_JSON : CIVIC_RISK_CSV;
}

enum civic_err civic_risk_parse(const char *data, size_t len, enum civic_risk_format fmt,
                                time_t now, struct civic_risk_batch *out)
{
	struct parse ps = {.b = out, .now = now};

	memset(out, 0, sizeof(*out));
	/* A byte-order mark, as spreadsheets write it, is not data. */
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		data += 3, len -= 3;
	if (fmt == CIVIC_RISK_AUTO)
		fmt = sniff(data, len);
	out->unit = fmt == CIVIC_RISK_JSON ? "row" : "line";
	if (len > CIVIC_RISK_FILE_MAX)
		add_error(&ps, "the file is larger than %u MiB", CIVIC_RISK_FILE_MAX >> 20);
	else if (skip_blank(data, len, 0) == len)
		add_error(&ps, "the file is empty");
	else if (scan_bytes(&ps, data, len)) {
		if (fmt == CIVIC_RISK_JSON)
			parse_json(&ps, data, len);
		else
			parse_csv(&ps, data, len);
	}
	if (!ps.oom)
		check_duplicates(&ps);
	if (ps.oom)
		return CIVIC_E_INTERNAL;
	return out->nerrors > 0 || out->more_errors > 0 ? CIVIC_E_VALIDATION : CIVIC_OK;
}
