/* The risk-assessment import parser (src/lib/risk.c): JSON and CSV
 * (RFC 4180 quoting, CR LF, newlines inside quotes), every validation
 * rule with its row or line number, the limits, strict UTF-8, NUL and
 * control characters, duplicates inside a file; the level labels and
 * the RFC 3339 parser with offsets (timeutil.c). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "countries.h"
#include "risk.h"
#include "tap.h"
#include "timeutil.h"

#define ISO_FILE "/usr/share/iso-codes/json/iso_3166-1.json"

static time_t NOW; /* 2026-05-17T12:00:00Z */
static struct civic_risk_batch B;

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
	                .tm_hour = h, .tm_min = mi, .tm_sec = s};
	return timegm(&tm);
}

static enum civic_err parse_n(const char *s, size_t n, enum civic_risk_format f)
{
	civic_risk_batch_free(&B);
	return civic_risk_parse(s, n, f, NOW, &B);
}

static enum civic_err parse(const char *s, enum civic_risk_format f)
{
	return parse_n(s, strlen(s), f);
}

/* The only error, or "" (none) / "(n errors)" (several). */
static const char *only_error(void)
{
	static char several[32];

	if (B.nerrors == 0)
		return "";
	if (B.nerrors > 1) {
		for (size_t i = 0; i < B.nerrors; i++)
			diag("error: %s", B.errors[i]);
		snprintf(several, sizeof(several), "(%zu errors)", B.nerrors);
		return several;
	}
	return B.errors[0];
}

static bool has_error(const char *want)
{
	for (size_t i = 0; i < B.nerrors; i++)
		if (strcmp(B.errors[i], want) == 0)
			return true;
	for (size_t i = 0; i < B.nerrors; i++)
		diag("error: %s", B.errors[i]);
	return false;
}

/* A JSON file of one row: the valid row with one member replaced (or,
 * with value NULL, removed; with a name not in the row, added). */
static const char *json_row(const char *name, const char *value)
{
	static const char *const names[] = {"country", "level", "score", "summary",
	                                    "factors", "source", "assessed_at"};
	static const char *const values[] = {"\"FR\"", "3", "55", "\"Protests in Paris\"",
	                                     "[\"strikes\",\"fuel prices\"]", "\"analyst desk\"",
	                                     "\"2026-05-17T10:00:00+02:00\""};
	static char buf[70000];
	size_t at = 0;
	bool replaced = false;

	at += (size_t)snprintf(buf + at, sizeof(buf) - at, "[{");
	for (size_t i = 0; i < 7; i++) {
		const char *v = values[i];
		if (name && strcmp(name, names[i]) == 0) {
			replaced = true;
			if ((v = value) == NULL)
				continue;
		}
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s\"%s\":%s", at > 2 ? "," : "",
		                       names[i], v);
	}
	if (name && !replaced)
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, ",\"%s\":%s", name, value);
	snprintf(buf + at, sizeof(buf) - at, "}]");
	return buf;
}

/* Parses json_row(name, value) and returns its only error. */
static const char *row_error(const char *name, const char *value)
{
	parse(json_row(name, value), CIVIC_RISK_JSON);
	return only_error();
}

/* "\"xxx…\"" of n copies of the UTF-8 character ch. */
static const char *repeat(const char *ch, size_t n)
{
	static char buf[65536];
	size_t k = strlen(ch), at = 0;

	buf[at++] = '"';
	for (size_t i = 0; i < n && at + k + 2 < sizeof(buf); i++, at += k)
		memcpy(buf + at, ch, k);
	buf[at++] = '"';
	buf[at] = '\0';
	return buf;
}

static void test_labels_and_times(void)
{
	time_t t = 0;

	is_str(civic_risk_level_label(1), "low", "level 1 is low");
	is_str(civic_risk_level_label(2), "guarded", "level 2 is guarded");
	is_str(civic_risk_level_label(3), "elevated", "level 3 is elevated");
	is_str(civic_risk_level_label(4), "high", "level 4 is high");
	is_str(civic_risk_level_label(5), "severe", "level 5 is severe");
	ok(civic_risk_level_label(0) == NULL && civic_risk_level_label(6) == NULL,
	   "no label outside 1..5");

	ok(civic_time_parse_rfc3339("2026-05-17T10:00:00+02:00", &t) &&
	       t == utc(2026, 5, 17, 8, 0, 0),
	   "+02:00 is two hours ahead of UTC");
	ok(civic_time_parse_rfc3339("2026-05-17T22:30:00-05:30", &t) &&
	       t == utc(2026, 5, 18, 4, 0, 0),
	   "-05:30 crosses midnight into the next UTC day");
	ok(civic_time_parse_rfc3339("2026-05-17t08:00:00.999z", &t) &&
	       t == utc(2026, 5, 17, 8, 0, 0),
	   "lower-case t and z, fraction dropped");
	ok(civic_time_parse_rfc3339("2024-02-29T00:00:00-00:00", &t) && t == utc(2024, 2, 29, 0, 0, 0),
	   "leap day and -00:00");
	ok(!civic_time_parse_rfc3339("2026-05-17T10:00:00", &t), "no offset refused");
	ok(!civic_time_parse_rfc3339("2026-05-17 10:00:00Z", &t), "space separator refused");
	ok(!civic_time_parse_rfc3339("2026-05-17", &t), "date alone refused");
	ok(!civic_time_parse_rfc3339("2025-02-29T00:00:00Z", &t), "29 February 2025 refused");
	ok(!civic_time_parse_rfc3339("2026-05-17T10:00:00+24:00", &t), "offset hour 24 refused");
	ok(!civic_time_parse_rfc3339("2026-05-17T10:00:00+0200", &t), "offset without colon refused");
	ok(!civic_time_parse_rfc3339("2026-05-17T10:00:00.Z", &t), "empty fraction refused");
	ok(!civic_time_parse_rfc3339("2026-05-17T10:00:60Z", &t), "second 60 refused");
	ok(!civic_time_parse_rfc3339("1970-01-01T00:30:00+01:00", &t), "before 1970 in UTC refused");
	ok(!civic_time_parse_rfc3339("2026-05-17T10:00:00Z ", &t), "trailing space refused");
	ok(!civic_time_parse_rfc3339(NULL, &t), "NULL refused");
	{
		char dt[20];
		civic_time_datetime(utc(2026, 5, 17, 8, 4, 9), dt, sizeof(dt));
		is_str(dt, "2026-05-17 08:04:09", "DATETIME text of a time");
	}
}

static void test_json_valid(void)
{
	const char *file = "\xEF\xBB\xBF[\n"
	                   " {\"country\":\"fr\",\"level\":4,\"score\":80,\"summary\":\"Strikes\","
	                   "\"factors\":[\"fuel\",\"unions\"],\"source\":\"desk\","
	                   "\"assessed_at\":\"2026-05-17T10:00:00+02:00\"},\n"
	                   " {\"assessed_at\":\"2026-05-16T09:00:00.5Z\",\"source\":\"desk\","
	                   "\"factors\":[],\"summary\":\"Calm\",\"score\":0,\"level\":1,"
	                   "\"country\":\"DE\"}\n]\n";
	const struct civic_risk_row *r;

	is_int(parse(file, CIVIC_RISK_AUTO), CIVIC_OK, "a valid JSON file (with a BOM) is accepted");
	is_str(B.unit, "row", "JSON rows are numbered as rows");
	is_int(B.nrows, 2, "both rows kept");
	r = &B.rows[0];
	ok(strcmp(r->country, "DE") == 0 && r->where == 2 && r->level == 1 && r->score == 0 &&
	       r->nfactors == 0 && strcmp(r->summary, "Calm") == 0 &&
	       r->assessed_at == utc(2026, 5, 16, 9, 0, 0),
	   "sorted by country: DE (row 2) first, members in any order, no factors");
	r = &B.rows[1];
	ok(strcmp(r->country, "FR") == 0 && r->where == 1 && r->level == 4 && r->score == 80 &&
	       r->nfactors == 2 && strcmp(r->factors[0], "fuel") == 0 &&
	       strcmp(r->factors[1], "unions") == 0 && strcmp(r->source, "desk") == 0,
	   "lower-case fr normalised to FR, factors in order");
	ok(r->assessed_at == utc(2026, 5, 17, 8, 0, 0), "assessed_at stored as UTC");

	is_int(parse("[]", CIVIC_RISK_JSON), CIVIC_OK, "an empty array is a valid, empty import");
	is_int(B.nrows, 0, "no rows");
	is_int(parse(json_row(NULL, NULL), CIVIC_RISK_JSON), CIVIC_OK, "the template row is valid");
	is_int(parse(json_row("summary", "\"'; DROP TABLE risk_assessments; -- \\\"x\\\" \\\\ %s\""),
	             CIVIC_RISK_JSON),
	       CIVIC_OK, "SQL metacharacters are just text");
	is_str(B.rows[0].summary, "'; DROP TABLE risk_assessments; -- \"x\" \\ %s",
	       "  and come out byte for byte");
	is_int(parse(json_row("factors", "[\"\xF0\x9F\x94\xA5 fire\",\"\xD7\xA9\xD7\x9C\xD7\x95"
	                                 "\xD7\x9D\",\"e\xCC\x81\",\"\\u00e9\\ud83d\\ude00\"]"),
	             CIVIC_RISK_JSON),
	       CIVIC_OK, "emoji, right-to-left, combining marks and escapes accepted");
	ok(B.nrows == 1 && strcmp(B.rows[0].factors[0], "\xF0\x9F\x94\xA5 fire") == 0 &&
	       strcmp(B.rows[0].factors[2], "e\xCC\x81") == 0 &&
	       strcmp(B.rows[0].factors[3], "\xC3\xA9\xF0\x9F\x98\x80") == 0,
	   "  and kept byte for byte (escapes decoded)");
	is_int(parse(json_row("summary", repeat("\xC3\xA9", 4000)), CIVIC_RISK_JSON), CIVIC_OK,
	       "4000 two-byte characters fit the summary (characters, not bytes)");
	is_int(parse(json_row("assessed_at", "\"2026-05-17T12:05:00Z\""), CIVIC_RISK_JSON), CIVIC_OK,
	       "exactly 5 minutes ahead is accepted (clock skew)");
}

static void test_json_fields(void)
{
	is_str(row_error("level", "0"), "row 1: level: must be an integer from 1 to 5", "level 0");
	is_str(row_error("level", "6"), "row 1: level: must be an integer from 1 to 5", "level 6");
	is_str(row_error("level", "\"3\""), "row 1: level: must be an integer from 1 to 5",
	       "level as a string");
	is_str(row_error("level", "3.0"), "row 1: level: must be an integer from 1 to 5",
	       "level 3.0");
	is_str(row_error("level", "null"), "row 1: level: must be an integer from 1 to 5",
	       "level null");
	is_str(row_error("level", "99999999999999999999"),
	       "row 1: level: must be an integer from 1 to 5", "a level beyond int64");
	is_str(row_error("score", "-1"), "row 1: score: must be an integer from 0 to 100", "score -1");
	is_str(row_error("score", "101"), "row 1: score: must be an integer from 0 to 100",
	       "score 101");
	is_str(row_error("country", "\"XX\""),
	       "row 1: country: must be a supported ISO 3166-1 alpha-2 code", "country XX");
	is_str(row_error("country", "\"FRA\""),
	       "row 1: country: must be a supported ISO 3166-1 alpha-2 code", "alpha-3 FRA");
	is_str(row_error("country", "\"F\\u0000\""),
	       "row 1: country: must be a supported ISO 3166-1 alpha-2 code", "country with a NUL");
	is_str(row_error("summary", "\"\""), "row 1: summary: must not be empty", "empty summary");
	is_str(row_error("summary", repeat("a", 4001)),
	       "row 1: summary: must be at most 4000 characters", "4001-character summary");
	is_str(row_error("summary", "\"bell \\u0007\""),
	       "row 1: summary: must not contain control characters", "escaped control character");
	is_str(row_error("summary", "\"two\\nlines\""),
	       "row 1: summary: must not contain control characters", "escaped newline");
	is_str(row_error("summary", "\"a\\u007f\""),
	       "row 1: summary: must not contain control characters", "DEL");
	is_str(row_error("summary", "\"a\\u0000b\""), "row 1: summary: must not contain NUL bytes",
	       "escaped NUL byte");
	is_str(row_error("summary", "42"), "row 1: summary: must be a string", "summary a number");
	is_str(row_error("source", "\"\""), "row 1: source: must not be empty", "empty source");
	is_str(row_error("source", repeat("\xE2\x82\xAC", 201)),
	       "row 1: source: must be at most 200 characters", "201-character source");
	is_int(parse(json_row("source", repeat("\xE2\x82\xAC", 200)), CIVIC_RISK_JSON), CIVIC_OK,
	       "200-character source fits");
	is_str(row_error("factors", "\"strikes\""), "row 1: factors: must be an array of strings",
	       "factors a string");
	is_str(row_error("factors", "[\"a\",\"\"]"), "row 1: factors: item 2: must not be empty",
	       "an empty factor");
	is_str(row_error("factors", "[7]"), "row 1: factors: item 1: must be a string",
	       "a number as a factor");
	is_str(row_error("factors", "[\"ok\",\"tab\\there\"]"),
	       "row 1: factors: item 2: must not contain control characters", "a tab in a factor");
	{
		char list[400] = "[";
		for (int i = 0; i < 33; i++)
			strcat(list, i ? ",\"f\"" : "\"f\"");
		strcat(list, "]");
		is_str(row_error("factors", list), "row 1: factors: must have at most 32 items",
		       "33 factors");
		list[strlen(list) - 5] = ']';
		list[strlen(list) - 4] = '\0';
		is_int(parse(json_row("factors", list), CIVIC_RISK_JSON), CIVIC_OK, "32 factors fit");
	}
	{
		char f[300];
		snprintf(f, sizeof(f), "[%s]", repeat("x", 201));
		is_str(row_error("factors", f), "row 1: factors: item 1: must be at most 200 characters",
		       "a 201-character factor");
	}
	is_str(row_error("assessed_at", "\"2026-05-17\""),
	       "row 1: assessed_at: must be an RFC 3339 time with an offset, e.g. "
	       "2026-05-17T09:30:00+02:00",
	       "a date alone");
	is_str(row_error("assessed_at", "\"2026-05-17T10:00:00\""),
	       "row 1: assessed_at: must be an RFC 3339 time with an offset, e.g. "
	       "2026-05-17T09:30:00+02:00",
	       "a time without offset");
	is_str(row_error("assessed_at", "\"2026-05-17T10:00:00Z\\u0000x\""),
	       "row 1: assessed_at: must be an RFC 3339 time with an offset, e.g. "
	       "2026-05-17T09:30:00+02:00",
	       "a time with a NUL and more after it");
	is_str(row_error("assessed_at", "1779012000"),
	       "row 1: assessed_at: must be an RFC 3339 time with an offset, e.g. "
	       "2026-05-17T09:30:00+02:00",
	       "epoch seconds");
	is_str(row_error("assessed_at", "\"2026-05-17T12:05:01Z\""),
	       "row 1: assessed_at: is more than 5 minutes in the future", "301 s ahead");
	is_str(row_error("colour", "\"red\""), "row 1: colour: is not a known field",
	       "an unknown field");
	is_str(row_error("bad\\u001bname", "1"), "row 1: bad?name: is not a known field",
	       "an unknown field's name is printed safely");
	is_str(row_error("score", NULL), "row 1: score: is required", "a missing field");
	is_int(parse("[{}]", CIVIC_RISK_JSON), CIVIC_E_VALIDATION, "an empty object is refused");
	is_int(B.nerrors, 7, "  with each of the seven fields required");
	is_int(parse("[1]", CIVIC_RISK_JSON), CIVIC_E_VALIDATION, "a number as a row");
	is_str(only_error(), "row 1: must be an object", "  named by its row");
}

static void test_json_file(void)
{
	char *big;
	size_t n;

	is_int(parse("{\"country\":\"FR\"}", CIVIC_RISK_AUTO), CIVIC_E_VALIDATION,
	       "an object at the top is JSON (sniffed) but refused");
	is_str(only_error(), "the JSON must be an array of assessment objects", "  with a reason");
	parse("[\n{\"country\":\"FR\",\n\"level\":}\n]", CIVIC_RISK_JSON);
	ok(strncmp(only_error(), "line 3: not valid JSON: ", 24) == 0, "syntax error on line 3 (%s)",
	   only_error());
	parse("[\n{\"country\":\"FR\"", CIVIC_RISK_JSON);
	is_str(only_error(), "line 2: the JSON ends before its array does", "a truncated file");
	parse("[]\n\n[]", CIVIC_RISK_JSON);
	is_str(only_error(), "line 3: not valid JSON: unexpected character",
	       "a second value after the array");
	parse("[{'country':'FR'}]", CIVIC_RISK_JSON);
	is_str(only_error(), "line 1: not valid JSON: unexpected character", "single quotes");
	parse("[NaN]", CIVIC_RISK_JSON);
	ok(strncmp(only_error(), "not valid JSON (strict", 22) == 0 ||
	       strncmp(only_error(), "line 1: not valid JSON", 22) == 0,
	   "NaN refused (%s)", only_error());
	parse("[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]", CIVIC_RISK_JSON);
	ok(strstr(only_error(), "not valid JSON") != NULL, "nesting beyond 16 refused");
	parse("[\n\"caf\xC3\"]", CIVIC_RISK_JSON);
	is_str(only_error(), "line 2: not valid UTF-8", "truncated UTF-8 sequence");
	parse("[\n\n\"\xC0\xAF\"]", CIVIC_RISK_JSON);
	is_str(only_error(), "line 3: not valid UTF-8", "overlong encoding");
	parse("[\"\xED\xA0\x80\"]", CIVIC_RISK_JSON);
	is_str(only_error(), "line 1: not valid UTF-8", "UTF-16 surrogate");
	parse("[\"\xF4\x90\x80\x80\"]", CIVIC_RISK_JSON);
	is_str(only_error(), "line 1: not valid UTF-8", "beyond U+10FFFF");
	is_int(parse_n("[\n\"a\0b\"]", 8, CIVIC_RISK_JSON), CIVIC_E_VALIDATION, "a raw NUL byte");
	is_str(only_error(), "line 2: a NUL byte", "  named by its line");
	parse("  \n\t\r\n", CIVIC_RISK_AUTO);
	is_str(only_error(), "the file is empty", "a blank file");
	parse_n("", 0, CIVIC_RISK_AUTO);
	is_str(only_error(), "the file is empty", "a zero-byte file");

	/* 100001 empty objects: the row cap comes before any row check. */
	n = 1 + 3 * 100001;
	big = malloc(n + 1);
	big[0] = '[';
	for (size_t i = 0; i < 100001; i++)
		memcpy(big + 1 + 3 * i, "{},", 3);
	big[n - 1] = ']';
	big[n] = '\0';
	parse_n(big, n, CIVIC_RISK_JSON);
	is_str(only_error(), "the file holds 100001 assessments; at most 100000 are taken at once",
	       "more than 100000 rows refused");
	free(big);

	n = CIVIC_RISK_FILE_MAX + 1;
	big = malloc(n);
	memset(big, ' ', n);
	big[0] = '[';
	big[n - 1] = ']';
	parse_n(big, n, CIVIC_RISK_JSON);
	is_str(only_error(), "the file is larger than 32 MiB", "a file over 32 MiB refused");
	free(big);
}

static void test_json_many_errors(void)
{
	const char *file =
		"[{\"country\":\"FR\",\"level\":9,\"score\":1,\"summary\":\"s\",\"factors\":[],"
		"\"source\":\"x\",\"assessed_at\":\"2026-05-17T10:00:00Z\"},\n"
		"{\"country\":\"DE\",\"level\":2,\"score\":1,\"summary\":\"s\",\"factors\":[],"
		"\"source\":\"x\",\"assessed_at\":\"2026-05-17T10:00:00Z\"},\n"
		"{\"country\":\"IT\",\"level\":2,\"score\":1,\"summary\":\"s\",\"factors\":[],"
		"\"source\":\"x\",\"assessed_at\":\"yesterday\"},\n"
		"{\"country\":\"de\",\"level\":3,\"score\":2,\"summary\":\"t\",\"factors\":[],"
		"\"source\":\"y\",\"assessed_at\":\"2026-05-17T12:00:00+02:00\"}]";
	char *many;
	size_t at = 0;

	is_int(parse(file, CIVIC_RISK_JSON), CIVIC_E_VALIDATION, "bad rows refuse the whole file");
	is_int(B.nerrors, 3, "every error is listed, not only the first");
	ok(has_error("row 1: level: must be an integer from 1 to 5"), "row 1's level");
	ok(has_error("row 3: assessed_at: must be an RFC 3339 time with an offset, e.g. "
	             "2026-05-17T09:30:00+02:00"),
	   "row 3's time");
	ok(has_error("row 4: assessed_at: same country and time as row 2"),
	   "row 4 repeats row 2 (de = DE, 12:00+02:00 = 10:00Z)");

	many = malloc(70 * 200);
	at += (size_t)sprintf(many, "[");
	for (int i = 0; i < 60; i++)
		at += (size_t)sprintf(many + at, "%s{\"level\":0}", i ? "," : "");
	sprintf(many + at, "]");
	parse(many, CIVIC_RISK_JSON);
	ok(B.nerrors == CIVIC_RISK_ERRORS_MAX && B.more_errors == 60 * 7 - CIVIC_RISK_ERRORS_MAX,
	   "errors are listed up to 50, the rest counted (%zu + %zu)", B.nerrors, B.more_errors);
	free(many);
}

#define HEADER "country,level,score,summary,factors,source,assessed_at"

static void test_csv_valid(void)
{
	const char *file =
		"assessed_at,source,factors,summary,score,level,country\r\n"
		"2026-05-17T10:00:00+02:00,\"desk, Paris\",\"fuel; unions ;  strikes\","
		"\"He said \"\"calm\"\", then left\",80,4,fr\r\n"
		"\r\n"
		"2026-05-16T09:00:00Z,desk,,Calm,0,1,DE";
	const struct civic_risk_row *r;

	is_int(parse(file, CIVIC_RISK_AUTO), CIVIC_OK, "a CSV file (sniffed) is accepted");
	is_str(B.unit, "line", "CSV records are numbered by line");
	is_int(B.nrows, 2, "two records, a blank line skipped");
	r = &B.rows[0];
	ok(strcmp(r->country, "DE") == 0 && r->where == 4 && r->nfactors == 0 && r->level == 1,
	   "DE from line 4 (after the blank line, no CR LF at the end), empty factors cell");
	r = &B.rows[1];
	ok(strcmp(r->country, "FR") == 0 && r->where == 2 && r->level == 4 && r->score == 80,
	   "FR from line 2, columns in any order");
	is_str(r->summary, "He said \"calm\", then left", "doubled quotes and a comma in quotes");
	is_str(r->source, "desk, Paris", "a quoted comma");
	ok(r->nfactors == 3 && strcmp(r->factors[0], "fuel") == 0 &&
	       strcmp(r->factors[1], "unions") == 0 && strcmp(r->factors[2], "strikes") == 0,
	   "factors split on ';' and trimmed");
	ok(r->assessed_at == utc(2026, 5, 17, 8, 0, 0), "assessed_at converted to UTC");

	is_int(parse(HEADER "\n", CIVIC_RISK_CSV), CIVIC_OK, "a header alone is an empty import");
	is_int(B.nrows, 0, "  with no rows");
	is_int(parse(HEADER "\nGB,2,10,\"caf\xC3\xA9 \xF0\x9F\x98\x80\",,src,2026-05-17T00:00:00Z\n",
	             CIVIC_RISK_CSV),
	       CIVIC_OK, "UTF-8 in a quoted cell");
	is_str(B.rows[0].summary, "caf\xC3\xA9 \xF0\x9F\x98\x80", "  kept byte for byte");
	is_int(parse(HEADER "\nGB,2,10,'; DROP TABLE x; --,a;b,src,2026-05-17T00:00:00Z\n",
	             CIVIC_RISK_CSV),
	       CIVIC_OK, "SQL metacharacters in an unquoted cell");
	is_str(B.rows[0].summary, "'; DROP TABLE x; --", "  kept as they are");
	is_int(parse("[" HEADER "]", CIVIC_RISK_CSV), CIVIC_E_VALIDATION,
	       "--format csv is not overridden by the sniffer");
	is_str(B.unit, "line", "  the unit follows the format given");
}

static void test_csv_errors(void)
{
	parse(HEADER "\nFR,3,50,\"two\nlines\",,src,2026-05-17T00:00:00Z\n"
	             "DE,9,50,ok,,src,2026-05-17T00:00:00Z\n",
	      CIVIC_RISK_CSV);
	ok(B.nerrors == 2 && has_error("line 2: summary: must not contain control characters") &&
	       has_error("line 4: level: must be an integer from 1 to 5"),
	   "a newline inside quotes is parsed (lines counted) but refused as a control character");
	parse(HEADER "\r\nFR,3,50,\"a\r\nb\",,src,2026-05-17T00:00:00Z\r\n"
	             "DE,3,50,ok,,src,2026-05-17T99:00:00Z\r\n",
	      CIVIC_RISK_CSV);
	ok(B.nerrors == 2 && has_error("line 4: assessed_at: must be an RFC 3339 time with an "
	                               "offset, e.g. 2026-05-17T09:30:00+02:00"),
	   "CR LF inside quotes counts one line too");
	parse("country,level,score,summary,factors,source,assessed_at,colour\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 1: unknown column 'colour'", "an unknown column");
	parse("country,level,summary,factors,source,assessed_at\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 1: missing column 'score'", "a missing column");
	parse(HEADER ",level\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 1: column 'level' appears twice", "a repeated column");
	parse("Country,level,score,summary,factors,source,assessed_at\n", CIVIC_RISK_CSV);
	ok(B.nerrors == 2 && has_error("line 1: unknown column 'Country'"),
	   "column names are lower case");
	parse(HEADER "\nFR,3,50,s,,src\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 2: 6 fields, the header has 7", "a short record");
	parse(HEADER "\nFR,3,50,s,,src,2026-05-17T00:00:00Z,\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 2: 8 fields, the header has 7", "a trailing comma adds a field");
	parse(HEADER "\nFR,abc,50,s,,src,2026-05-17T00:00:00Z\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 2: level: must be an integer from 1 to 5", "level abc");
	parse(HEADER "\nFR,03,50,s,,src,2026-05-17T00:00:00Z\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 2: level: must be an integer from 1 to 5", "level 03");
	parse(HEADER "\nFR,,50,s,,src,2026-05-17T00:00:00Z\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 2: level: must be an integer from 1 to 5", "empty level");
	parse(HEADER "\nFR,3, 50,s,,src,2026-05-17T00:00:00Z\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 2: score: must be an integer from 0 to 100", "score with a space");
	parse(HEADER "\nFR,3,50,,,src,2026-05-17T00:00:00Z\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 2: summary: must not be empty", "empty summary cell");
	parse(HEADER "\nFR,3,50,s,a;;b,src,2026-05-17T00:00:00Z\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 2: factors: item 2: must not be empty", "an empty factor");
	parse(HEADER "\nZZ,3,50,s,,src,2026-05-17T00:00:00Z\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 2: country: must be a supported ISO 3166-1 alpha-2 code",
	       "unknown country");
	parse(HEADER "\nFR,3,50,\"s,,src,2026-05-17T00:00:00Z\nDE,1,2,s,,src,x\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 2: a quoted field is never closed", "an unterminated quote");
	parse(HEADER "\nFR,3,50,\"s\"x,,src,2026-05-17T00:00:00Z\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 2: text after the closing quote of a field",
	       "text after a closing quote");
	parse(HEADER "\nFR,3,50,s\"x,,src,2026-05-17T00:00:00Z\n", CIVIC_RISK_CSV);
	is_str(only_error(),
	       "line 2: a quote inside an unquoted field (quote the field and double the quote)",
	       "a quote inside an unquoted field");
	parse(HEADER "\nFR,3,50,s\rx,,src,2026-05-17T00:00:00Z\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 2: a carriage return outside quotes that does not end a line",
	       "a bare CR");
	parse(HEADER "\nFR,3,50,s,,src,2026-05-17T00:00:00Z\n"
	             "DE,3,50,s,,src,2026-05-17T00:00:00Z\n"
	             "FR,4,60,t,,src2,2026-05-17T02:00:00+02:00\n",
	      CIVIC_RISK_CSV);
	is_str(only_error(), "line 4: assessed_at: same country and time as line 2",
	       "a duplicate country and time in the file");
	parse(HEADER "\nFR,3,50,s,,src,2026-05-17T00:00:00Z\n\xFF\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 3: not valid UTF-8", "invalid UTF-8 in CSV, by line");
	is_int(parse_n(HEADER "\nFR,3,50,s\0x,,src,2026-05-17T00:00:00Z\n", sizeof(HEADER) + 38,
	               CIVIC_RISK_CSV),
	       CIVIC_E_VALIDATION, "a NUL byte in CSV");
	is_str(only_error(), "line 2: a NUL byte", "  named by its line");
	parse(HEADER "\nFR,3,50,s\x1b[31m,,src,2026-05-17T00:00:00Z\n", CIVIC_RISK_CSV);
	is_str(only_error(), "line 2: summary: must not contain control characters",
	       "an escape sequence in a cell");
	parse("a\x1b[2Jb,level\n", CIVIC_RISK_CSV);
	ok(has_error("line 1: unknown column 'a?[2Jb'"), "a header name is printed safely");
	{
		char wide[400] = HEADER;
		for (int i = 0; i < 60; i++)
			strcat(wide, ",x");
		parse(wide, CIVIC_RISK_CSV);
		is_str(only_error(), "line 1: 67 columns in the header; an import has 7",
		       "a header with more than 64 columns");
	}
}

int main(void)
{
	static struct civic_config cfg;
	char err[256] = "";

	plan(145);
	NOW = utc(2026, 5, 17, 12, 0, 0);
	cfg.iso_3166_file = (char *)ISO_FILE;
	cfg.supported_countries = (char *)"*";
	if (!ok(civic_countries_load(&cfg, err, sizeof(err)), "countries loaded (%s)", err))
		return done_testing();
	test_labels_and_times();
	test_json_valid();
	test_json_fields();
	test_json_file();
	test_json_many_errors();
	test_csv_valid();
	test_csv_errors();
	civic_risk_batch_free(&B);
	civic_countries_free();
	return done_testing();
}
