/* Input validation (STYLE.md 1 and 7): the strict JSON body parser, the
 * field-table checker and its validators (text, int, email, E.164,
 * country, token), the supported-countries table, the one checked
 * number parser, and the UTC time helpers. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "countries.h"
#include "input.h"
#include "num.h"
#include "tap.h"
#include "timeutil.h"

#define ISO_FILE "/usr/share/iso-codes/json/iso_3166-1.json"

static enum civic_err pj(const char *s, size_t len, json_object **out)
{
	return civic_input_parse_json(s, len, out);
}

static char *nested(int depth)
{
	char *s = malloc((size_t)depth * 2 + 1);

	for (int i = 0; i < depth; i++) {
		s[i] = '[';
		s[depth * 2 - 1 - i] = ']';
	}
	s[depth * 2] = '\0';
	return s;
}

static void test_parse_json(void)
{
	static const char *bad[] = {
	    "{\"a\":1} x",
	    "{\"a\":1}{\"b\":2}",
	    "{\"a\":1},",
	    "{\"a\":1",
	    "{\"a\":1,}",
	    "{'a':1}",
	    "{a:1}",
	    "{\"a\":1 /* c */}",
	    "{\"a\":NaN}",
	    "{\"a\":\"\xff\"}",
	    "{\"a\":\"\xc0\xaf\"}",
	    "{\"a\":\"\xed\xa0\x80\"}",
	    "{\"a\":\"\xe6\x97\"}",
	    "{\"a\":\"\xf4\x90\x80\x80\"}",
	    "{\"a\":\"\xf8\x88\x80\x80\x80\"}",
	    "{\"a\":Infinity}",
	    "{\"a\":\"\\ud800\"}",
	    "{\"a\":\"\\udc00\"}",
	    "{\"a\":\"\\uD83D\\u0041\"}",
	    "{\"a\":\"\\ud83d\\n\"}",
	    "{\"a\":\"\\ud83d\"}",
	    "{\"a\":\"\\u12\"}",
	    "{\"a\":1,\"a\":2}",
	    "{\"a\":1,\"b\":{\"c\":1,\"c\":1}}",
	    "[{\"a\":1},{\"b\":1,\"b\":2}]",
	    "   ",
	    "\n",
	    "}",
	};
	json_object *o = (json_object *)1;
	char *s;

	ok(pj("{\"a\":1,\"b\":\"x\"}", 15, &o) == CIVIC_OK && o &&
	       json_object_is_type(o, json_type_object) && json_object_object_length(o) == 2,
	   "a valid object parses");
	json_object_put(o);
	ok(pj("{\"a\":1} \t\r\n", 11, &o) == CIVIC_OK && o != NULL, "trailing whitespace is fine");
	json_object_put(o);
	ok(pj(" \n{\"a\":1}", 9, &o) == CIVIC_OK && o != NULL, "leading whitespace is fine");
	json_object_put(o);
	ok(pj("{\"s\":\"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\"}", 17, &o) == CIVIC_OK && o,
	   "valid multibyte UTF-8 parses");
	json_object_put(o);
	ok(pj("{\"a\":1}garbage", 7, &o) == CIVIC_OK && o, "only len bytes are parsed");
	json_object_put(o);
	s = "{\"a\":\"\\ud83d\\ude00\\u00e9\\\\u\",\"b\":[\"x\",\"y:\",{\"a\":{\"b\":1}}],\"c\":\"d\\\":\"}";
	ok(pj(s, strlen(s), &o) == CIVIC_OK && o && json_object_object_length(o) == 3,
	   "surrogate pairs, escaped backslashes and quotes, the same key in other objects parse");
	json_object_put(o);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum civic_err e;
		o = (json_object *)1;
		e = pj(bad[i], strlen(bad[i]), &o);
		ok(e == CIVIC_E_INVALID_REQUEST && o == NULL, "invalid body %s rejected, *out NULL",
		   bad[i]);
		if (e == CIVIC_OK)
			json_object_put(o);
	}
	o = (json_object *)1;
	is_int(pj("", 0, &o), CIVIC_E_INVALID_REQUEST, "empty body rejected");
	ok(o == NULL, "*out NULL for the empty body");
	is_int(pj("{\"a\":1}\0", 8, &o), CIVIC_E_INVALID_REQUEST, "NUL after the object rejected");
	is_int(pj("{\"a\":\"x\0y\"}", 11, &o), CIVIC_E_INVALID_REQUEST,
	       "embedded NUL inside a string rejected");
	is_int(pj("\0{\"a\":1}", 8, &o), CIVIC_E_INVALID_REQUEST, "leading NUL rejected");

	s = nested(CIVIC_JSON_DEPTH);
	ok(pj(s, strlen(s), &o) == CIVIC_OK && o != NULL, "nesting depth %d accepted",
	   CIVIC_JSON_DEPTH);
	json_object_put(o);
	free(s);
	s = nested(CIVIC_JSON_DEPTH + 1);
	is_int(pj(s, strlen(s), &o), CIVIC_E_INVALID_REQUEST, "nesting depth %d rejected",
	       CIVIC_JSON_DEPTH + 1);
	free(s);
	s = nested(10000);
	is_int(pj(s, strlen(s), &o), CIVIC_E_INVALID_REQUEST, "nesting depth 10000 rejected");
	free(s);
	{
		/* 17 levels of objects */
		char buf[512] = "";
		for (int i = 0; i < 17; i++)
			strcat(buf, "{\"a\":");
		strcat(buf, "1");
		for (int i = 0; i < 17; i++)
			strcat(buf, "}");
		is_int(pj(buf, strlen(buf), &o), CIVIC_E_INVALID_REQUEST,
		       "17 nested objects rejected");
	}
}

static const struct civic_field F[] = {
    {"label", CIVIC_F_TEXT, CIVIC_F_REQUIRED, 1, 10},
    {"count", CIVIC_F_INT, 0, 1, 100},
    {"email", CIVIC_F_EMAIL, 0, 0, 0},
    {"phone", CIVIC_F_PHONE, CIVIC_F_NULLABLE, 0, 0},
    {"country", CIVIC_F_COUNTRY, CIVIC_F_NULLABLE, 0, 0},
    {"token", CIVIC_F_TOKEN, 0, 8, 16},
    {"note", CIVIC_F_TEXT, CIVIC_F_NULLABLE, 0, 5},
};
#define NF (sizeof(F) / sizeof(F[0]))
enum { LABEL, COUNT, EMAIL, PHONE, COUNTRY, TOKEN, NOTE };

static struct civic_value V[NF];
static json_object *ERRS, *OBJ;

/* Checks body (JSON text) against F; ERRS holds the error map. */
static enum civic_err check(const char *body)
{
	enum civic_err e;

	json_object_put(OBJ);
	json_object_put(ERRS);
	ERRS = NULL;
	OBJ = json_tokener_parse(body);
	if (OBJ == NULL) {
		diag("test bug: cannot parse %s", body);
		return CIVIC_E__COUNT;
	}
	e = civic_input_check(F, NF, OBJ, V, &ERRS);
	return e;
}

static const char *reason(const char *field)
{
	json_object *v;
	return ERRS && json_object_object_get_ex(ERRS, field, &v) ? json_object_get_string(v)
	                                                          : NULL;
}

/* Only field is in error (with any reason). */
static bool only_error(const char *field)
{
	return ERRS && json_object_object_length(ERRS) == 1 && reason(field) != NULL;
}

static void test_check(void)
{
	enum civic_err e;

	e = check("{\"label\":\"Home\",\"count\":5,\"email\":\"a@example.com\",\"phone\":\"+"
	          "14155552671\","
	          "\"token\":\"abcdefgh\",\"note\":null}");
	ok(e == CIVIC_OK && ERRS == NULL, "a valid object passes with no error map");
	ok(V[LABEL].present && strcmp(V[LABEL].str, "Home") == 0, "text value is exposed");
	ok(V[COUNT].present && V[COUNT].num == 5, "int value is exposed");
	ok(V[NOTE].present && V[NOTE].null, "null on a nullable field is present + null");
	ok(!V[COUNTRY].present, "an absent optional field is not present");

	e = check("{\"count\":5}");
	ok(e == CIVIC_E_VALIDATION && only_error("label"), "required field missing");
	is_str(reason("label"), "is required", "reason: is required");

	e = check("{\"label\":\"x\",\"bogus\":1}");
	ok(e == CIVIC_E_VALIDATION && only_error("bogus"), "unknown field rejected");
	is_str(reason("bogus"), "is not a known field", "reason for an unknown field");

	e = check("{\"label\":5}");
	ok(e == CIVIC_E_VALIDATION && only_error("label"), "number for a text field");
	is_str(reason("label"), "must be a string", "reason: must be a string");
	ok(check("{\"label\":[\"x\"]}") == CIVIC_E_VALIDATION && only_error("label"),
	   "array for a text field");
	ok(check("{\"label\":{}}") == CIVIC_E_VALIDATION && only_error("label"),
	   "object for a text field");
	ok(check("{\"label\":true}") == CIVIC_E_VALIDATION && only_error("label"),
	   "boolean for a text field");
	e = check("{\"label\":\"x\",\"count\":\"5\"}");
	ok(e == CIVIC_E_VALIDATION && only_error("count"), "string for an int field");
	is_str(reason("count"), "must be an integer", "reason: must be an integer");
	ok(check("{\"label\":\"x\",\"count\":5.0}") == CIVIC_E_VALIDATION && only_error("count"),
	   "5.0 is not an integer");
	ok(check("{\"label\":\"x\",\"count\":true}") == CIVIC_E_VALIDATION && only_error("count"),
	   "true is not an integer");
	ok(check("{\"label\":\"x\",\"count\":0}") == CIVIC_E_VALIDATION && only_error("count"),
	   "int below min");
	ok(check("{\"label\":\"x\",\"count\":101}") == CIVIC_E_VALIDATION && only_error("count"),
	   "int above max");
	ok(check("{\"label\":\"x\",\"count\":1}") == CIVIC_OK, "int at min");
	ok(check("{\"label\":\"x\",\"count\":100}") == CIVIC_OK, "int at max");
	ok(check("{\"label\":\"x\",\"count\":-9223372036854775808}") == CIVIC_E_VALIDATION,
	   "INT64_MIN out of range");

	ok(check("{\"label\":\"x\",\"phone\":null}") == CIVIC_OK && V[PHONE].null,
	   "null on a nullable field is OK");
	e = check("{\"label\":\"x\",\"email\":null}");
	ok(e == CIVIC_E_VALIDATION && only_error("email"), "null on a non-nullable field");
	is_str(reason("email"), "must not be null", "reason: must not be null");
	ok(check("{\"label\":null}") == CIVIC_E_VALIDATION && only_error("label"),
	   "null on a required field is an error");

	e = check("{\"label\":5,\"count\":\"x\",\"extra\":1,\"email\":\"nope\"}");
	ok(e == CIVIC_E_VALIDATION && ERRS && json_object_object_length(ERRS) == 4,
	   "every bad field is reported at once");

	e = check("[1,2]");
	ok(e == CIVIC_E_INVALID_REQUEST && ERRS == NULL, "a JSON array is INVALID_REQUEST");
	e = check("\"text\"");
	ok(e == CIVIC_E_INVALID_REQUEST && ERRS == NULL, "a JSON string is INVALID_REQUEST");
	ERRS = (json_object *)1;
	ok(civic_input_check(F, NF, NULL, V, &ERRS) == CIVIC_E_INVALID_REQUEST && ERRS == NULL,
	   "NULL object is INVALID_REQUEST, *errors NULL");
}

static void test_text(void)
{
	static const struct {
		const char *json;
		bool good;
		const char *why;
	} cases[] = {
	    {"\"0123456789\"", true, "10 ASCII chars (max)"},
	    {"\"01234567890\"", false, "11 ASCII chars"},
	    {"\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"",
	     true, "10 two-byte chars (20 bytes)"},
	    {"\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	     "\xc3\xa9\"",
	     false, "11 two-byte chars"},
	    {"\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
	     "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"",
	     true, "10 four-byte emoji (40 bytes)"},
	    {"\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"",
	     false, "11 escaped \\u00e9"},
	    {"\"\xe6\x97\xa5\xe6\x9c\xac\"", true, "CJK"},
	    {"\"x\"", true, "1 char (min)"},
	    {"\"\"", false, "empty, min 1"},
	    {"\"a\\u0001b\"", false, "U+0001"},
	    {"\"a\\nb\"", false, "newline"},
	    {"\"a\\rb\"", false, "CR"},
	    {"\"a\\tb\"", false, "tab"},
	    {"\"a\\u007fb\"", false, "DEL"},
	    {"\"a\\u0000b\"", false, "NUL"},
	    {"\"a b\"", true, "space is allowed in text"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char body[256];
		enum civic_err e;
		snprintf(body, sizeof(body), "{\"label\":%s}", cases[i].json);
		e = check(body);
		if (cases[i].good)
			is_int(e, CIVIC_OK, "text label 1..10: %s accepted", cases[i].why);
		else
			ok(e == CIVIC_E_VALIDATION && only_error("label"),
			   "text label 1..10: %s rejected", cases[i].why);
	}
	check("{\"label\":\"\"}");
	is_str(reason("label"), "must not be empty", "empty required text: must not be empty");
	check("{\"label\":\"a\\u0000b\"}");
	is_str(reason("label"), "must not contain NUL bytes", "NUL in text: its own reason");
	check("{\"label\":\"a\\nb\"}");
	is_str(reason("label"), "must not contain control characters", "control chars: reason");
	ok(check("{\"label\":\"x\",\"note\":\"\"}") == CIVIC_OK, "empty text OK when min is 0");
}

static void test_email(void)
{
	static const char *good[] = {
	    "a@example.com",      "first.last+tag@sub.example.co.uk",
	    "x_y-z@ex-ample.org", "o'brien@example.ie",
	    "12345@123.example",
	};
	static const char *bad[] = {
	    "plainaddress",
	    "@example.com",
	    "a@",
	    "a@b",
	    "a@.com",
	    "a@example.",
	    "a@example..com",
	    "a@example.com.",
	    "a b@example.com",
	    "a@@example.com",
	    "a@b@example.com",
	    "a@ex ample.com",
	    "a@exam_ple.com",
	    "a\"b@example.com",
	    "a<b@example.com",
	    "a(b)@example.com",
	    "a@example.com\r\nBcc: x@evil.example",
	    "\xc3\xa9@example.com",
	    "a@\xc3\xa9xample.com",
	    "",
	};
	char local65[128], long255[300];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(civic_valid_email(good[i]), "email \"%s\" is valid", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!civic_valid_email(bad[i]), "email \"%s\" is invalid", bad[i]);

	memset(local65, 'a', 64);
	strcpy(local65 + 64, "@example.com");
	ok(civic_valid_email(local65), "64-char local part is valid");
	memset(local65, 'a', 65);
	strcpy(local65 + 65, "@example.com");
	ok(!civic_valid_email(local65), "65-char local part is invalid");
	/* 254 bytes total OK, 255 not */
	strcpy(long255, "a@");
	while (strlen(long255) < 250)
		strcat(long255, "b");
	strcat(long255, ".com");
	ok(strlen(long255) == 254 && civic_valid_email(long255), "254-byte address is valid");
	long255[strlen(long255) - 4] = '\0';
	strcat(long255, "b.com");
	ok(strlen(long255) == 255 && !civic_valid_email(long255), "255-byte address is invalid");

	ok(check("{\"label\":\"x\",\"email\":\"bad@\"}") == CIVIC_E_VALIDATION &&
	       only_error("email"),
	   "an email field rejects a bad address");
	ok(check("{\"label\":\"x\",\"email\":\"ok@example.com\"}") == CIVIC_OK,
	   "an email field accepts a good address");
}

static void test_phone(void)
{
	static const char *good[] = {
	    "+14155552671", "+442071838750", "+1234567", "+123456789012345", "+918527001234",
	};
	static const char *bad[] = {
	    "14155552671",
	    "+0123456789",
	    "+123456",
	    "+1234567890123456",
	    "+1 415 555 2671",
	    "+1-415-5552",
	    "+",
	    "",
	    "+44abc1234567",
	    "++441234567",
	    "+4420718387\n",
	    "+(44)2071838750",
	    "+\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6\xd9\xa7",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(civic_valid_phone(good[i]), "E.164 \"%s\" is valid", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!civic_valid_phone(bad[i]), "E.164 \"%s\" is invalid", bad[i]);
	ok(check("{\"label\":\"x\",\"phone\":\"4155552671\"}") == CIVIC_E_VALIDATION &&
	       only_error("phone"),
	   "a phone field rejects a national number");
	is_str(reason("phone"), "must be an E.164 number: + and 7 to 15 digits", "phone reason");
}

static void test_token(void)
{
	ok(check("{\"label\":\"x\",\"token\":\"abcdefgh\"}") == CIVIC_OK, "token of 8 (min)");
	ok(check("{\"label\":\"x\",\"token\":\"abcdefgh01234567\"}") == CIVIC_OK,
	   "token of 16 (max)");
	ok(check("{\"label\":\"x\",\"token\":\"abcdefg\"}") == CIVIC_E_VALIDATION &&
	       only_error("token"),
	   "token of 7 rejected");
	ok(check("{\"label\":\"x\",\"token\":\"abcdefgh012345678\"}") == CIVIC_E_VALIDATION &&
	       only_error("token"),
	   "token of 17 rejected");
	ok(check("{\"label\":\"x\",\"token\":\"abcd efgh\"}") == CIVIC_E_VALIDATION &&
	       only_error("token"),
	   "token with a space rejected");
	ok(check("{\"label\":\"x\",\"token\":\"abcdefgh\\u007f\"}") == CIVIC_E_VALIDATION,
	   "token with DEL rejected");
	ok(check("{\"label\":\"x\",\"token\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}") ==
	           CIVIC_E_VALIDATION &&
	       only_error("token"),
	   "token with non-ASCII rejected");
	ok(check("{\"label\":\"x\",\"token\":\"a-b_c.d~e!f\"}") == CIVIC_OK,
	   "printable punctuation allowed in a token");
}

static struct civic_config CFG;

static bool load(const char *file, const char *list, char *err, size_t errlen)
{
	CFG.iso_3166_file = (char *)file;
	CFG.supported_countries = (char *)list;
	err[0] = '\0';
	return civic_countries_load(&CFG, err, errlen);
}

static void test_countries(void)
{
	const struct civic_country *all, *c;
	char err[256];
	size_t n = 0;
	bool sorted = true;

	ok(civic_countries_find("GB") == NULL, "nothing is supported before loading");
	ok(load(ISO_FILE, "*", err, sizeof(err)), "load with \"*\" (%s)", err);
	all = civic_countries_all(&n);
	ok(n == 249, "all 249 ISO 3166-1 countries loaded (got %zu)", n);
	for (size_t i = 1; i < n; i++)
		if (strcmp(all[i - 1].code, all[i].code) >= 0)
			sorted = false;
	ok(sorted, "the table is sorted by code, without duplicates");
	c = civic_countries_find("GB");
	ok(c && strcmp(c->name, "United Kingdom") == 0, "GB is United Kingdom");
	ok(civic_countries_find("FR") && civic_countries_find("DE") && civic_countries_find("ZW") &&
	       civic_countries_find("AD"),
	   "FR, DE, ZW and AD are found");
	ok(!civic_countries_find("ZZ"), "ZZ is not a country");
	ok(!civic_countries_find("gb"), "lower-case gb is not found");
	ok(!civic_countries_find("GBR"), "alpha-3 GBR is not found");
	ok(!civic_countries_find("G"), "one letter is not found");
	ok(!civic_countries_find(""), "empty is not found");
	ok(!civic_countries_find(NULL), "NULL is not found");
	ok(check("{\"label\":\"x\",\"country\":\"DE\"}") == CIVIC_OK, "country field accepts DE");
	ok(check("{\"label\":\"x\",\"country\":\"XX\"}") == CIVIC_E_VALIDATION &&
	       only_error("country"),
	   "country field rejects XX");
	ok(check("{\"label\":\"x\",\"country\":null}") == CIVIC_OK,
	   "nullable country accepts null");

	ok(load(ISO_FILE, "GB,FR", err, sizeof(err)), "load with \"GB,FR\" (%s)", err);
	all = civic_countries_all(&n);
	ok(n == 2 && strcmp(all[0].code, "FR") == 0 && strcmp(all[1].code, "GB") == 0 &&
	       strcmp(all[0].name, "France") == 0,
	   "exactly FR and GB, sorted, with names");
	ok(civic_countries_find("GB") && civic_countries_find("FR") && !civic_countries_find("DE"),
	   "GB and FR supported, DE not");
	ok(check("{\"label\":\"x\",\"country\":\"DE\"}") == CIVIC_E_VALIDATION &&
	       only_error("country"),
	   "country field rejects DE on a GB,FR deployment");
	ok(check("{\"label\":\"x\",\"country\":\"FR\"}") == CIVIC_OK, "and accepts FR");

	ok(load(ISO_FILE, " GB, FR ,DE", err, sizeof(err)), "spaces around codes are fine (%s)",
	   err);
	civic_countries_all(&n);
	is_int(n, 3, "three countries from \" GB, FR ,DE\"");

	ok(!load(ISO_FILE, "GB,XX", err, sizeof(err)),
	   "an unknown code in the list fails the load");
	ok(strstr(err, "XX") != NULL, "the message names the bad code (%s)", err);
	civic_countries_all(&n);
	ok(n == 0 && civic_countries_find("GB") == NULL, "a failed load leaves no table");
	ok(!load(ISO_FILE, "GB,GBR", err, sizeof(err)), "an alpha-3 code in the list fails");
	ok(!load(ISO_FILE, "gb", err, sizeof(err)), "a lower-case code in the list fails");
	ok(!load(ISO_FILE, "G", err, sizeof(err)), "a one-letter code in the list fails");
	ok(!load("/nonexistent/iso_3166-1.json", "*", err, sizeof(err)) && err[0] != '\0',
	   "a missing file fails with a message");
	ok(!load("/etc/hostname", "*", err, sizeof(err)), "a file that is not the JSON fails");
	civic_countries_free();
	civic_countries_all(&n);
	is_int(n, 0, "free empties the table");
}

static void test_num(void)
{
	static const struct {
		const char *s;
		int64_t min, max;
		bool good;
		int64_t v;
	} cases[] = {
	    {"0", 0, 100, true, 0},
	    {"7", 0, 100, true, 7},
	    {"100", 0, 100, true, 100},
	    {"101", 0, 100, false, 0},
	    {"-1", 0, 100, false, 0},
	    {"-1", -5, 5, true, -1},
	    {"-5", -5, 5, true, -5},
	    {"-6", -5, 5, false, 0},
	    {"1", 2, 5, false, 0},
	    {"01", 0, 100, false, 0},
	    {"00", 0, 100, false, 0},
	    {"-01", -100, 100, false, 0},
	    {"-0", -100, 100, false, 0},
	    {"+1", 0, 100, false, 0},
	    {" 1", 0, 100, false, 0},
	    {"1 ", 0, 100, false, 0},
	    {"", 0, 100, false, 0},
	    {"-", -100, 100, false, 0},
	    {"1a", 0, 100, false, 0},
	    {"0x1", 0, 100, false, 0},
	    {"1.0", 0, 100, false, 0},
	    {"1e2", 0, 1000, false, 0},
	    {"9223372036854775807", INT64_MIN, INT64_MAX, true, INT64_MAX},
	    {"9223372036854775808", INT64_MIN, INT64_MAX, false, 0},
	    {"9223372036854775817", INT64_MIN, INT64_MAX, false, 0},
	    {"-9223372036854775808", INT64_MIN, INT64_MAX, true, INT64_MIN},
	    {"-9223372036854775809", INT64_MIN, INT64_MAX, false, 0},
	    {"18446744073709551616", INT64_MIN, INT64_MAX, false, 0},
	    {"99999999999999999999", INT64_MIN, INT64_MAX, false, 0},
	    {"10000000000000000000", INT64_MIN, INT64_MAX, false, 0},
	    {"1000000000000000000", INT64_MIN, INT64_MAX, true, 1000000000000000000LL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 12345;
		bool r = civic_num_parse_str(cases[i].s, cases[i].min, cases[i].max, &v);
		if (cases[i].good)
			ok(r && v == cases[i].v, "num \"%s\" in [%lld, %lld] -> %lld", cases[i].s,
			   (long long)cases[i].min, (long long)cases[i].max, (long long)cases[i].v);
		else
			ok(!r && v == 12345, "num \"%s\" in [%lld, %lld] rejected, *out untouched",
			   cases[i].s, (long long)cases[i].min, (long long)cases[i].max);
	}
	{
		int64_t v = 0;
		ok(civic_num_parse("123abc", 3, 0, 1000, &v) && v == 123,
		   "only len bytes are parsed");
		ok(!civic_num_parse("1\0", 2, 0, 1000, &v),
		   "an embedded NUL within len is rejected");
		ok(!civic_num_parse("123", 0, 0, 1000, &v), "len 0 is rejected");
		ok(!civic_num_parse(NULL, 3, 0, 1000, &v), "NULL is rejected");
		ok(!civic_num_parse_str(NULL, 0, 1000, &v), "NULL string is rejected");
	}
}

static void test_time(void)
{
	static const struct {
		const char *s;
		time_t t;
	} good[] = {
	    {"2025-06-15 15:06:40", 1750000000},
	    {"2025-06-15T15:06:40", 1750000000},
	    {"2025-06-15T15:06:40Z", 1750000000},
	    {"2025-06-15T15:06:40+00:00", 1750000000},
	    {"1970-01-01 00:00:00", 0},
	    {"2024-02-29 23:59:59", 1709251199},
	    {"2038-01-19 03:14:08", 2147483648LL},
	    {"9999-12-31 23:59:59", 253402300799LL},
	};
	static const char *bad[] = {
	    "2025-06-15",
	    "2025-06-15 15:06",
	    "2025-13-01 00:00:00",
	    "2025-00-10 00:00:00",
	    "2025-06-32 00:00:00",
	    "2025-06-00 00:00:00",
	    "2025-06-15 24:00:00",
	    "2025-06-15 23:60:00",
	    "1969-12-31 23:59:59",
	    "2025-06-15T15:06:40+01:00",
	    "2025-06-15T15:06:40-00:00",
	    "2025-06-15T15:06:40.123Z",
	    "2025-06-15T15:06:40ZZ",
	    "2025/06/15 15:06:40",
	    "2025-06-15X15:06:40",
	    "2025-06-15 15:06:4x",
	    "+025-06-15 15:06:40",
	    " 2025-06-15 15:06:40",
	    "",
	    "2023-02-29 00:00:00",
	    "2025-02-30 00:00:00",
	    "2025-04-31 00:00:00",
	};
	char buf[64];
	time_t t;

	is_int(civic_time_next_midnight(0), 86400, "next midnight after the epoch");
	is_int(civic_time_next_midnight(86399), 86400, "next midnight from 23:59:59");
	is_int(civic_time_next_midnight(86400), 172800,
	       "at 00:00:00 the next midnight is a day on");
	is_int(civic_time_next_midnight(1750000000), 1750032000,
	       "2025-06-15T15:06:40Z -> 2025-06-16T00:00:00Z");
	is_int(civic_time_next_midnight(1709251199), 1709251200, "across Feb 29 in a leap year");

	civic_time_day(1750000000, buf, sizeof(buf));
	is_str(buf, "2025-06-15", "civic_time_day");
	civic_time_rfc3339(1750000000, buf, sizeof(buf));
	is_str(buf, "2025-06-15T15:06:40+00:00", "civic_time_rfc3339");
	civic_time_rfc3339(0, buf, sizeof(buf));
	is_str(buf, "1970-01-01T00:00:00+00:00", "rfc3339 of the epoch");
	civic_time_rfc3339(1709251199, buf, sizeof(buf));
	is_str(buf, "2024-02-29T23:59:59+00:00", "rfc3339 of a leap day");
	is_int(strlen(buf), 25, "rfc3339 output is 25 chars (fits 26 bytes)");

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		t = -1;
		ok(civic_time_parse(good[i].s, &t) && t == good[i].t, "parse \"%s\" -> %lld",
		   good[i].s, (long long)good[i].t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!civic_time_parse(bad[i], &t), "parse \"%s\" rejected", bad[i]);
	ok(!civic_time_parse(NULL, &t), "parse NULL rejected");
	{
		int bad_rt = 0;
		for (time_t x = 0; x < 4102444800LL; x += 7777777) {
			time_t back = -1;
			civic_time_rfc3339(x, buf, sizeof(buf));
			if (!civic_time_parse(buf, &back) || back != x)
				bad_rt++;
		}
		is_int(bad_rt, 0, "rfc3339 -> parse round-trips 1970..2100");
	}
}

int main(void)
{
	plan(262);
	test_parse_json();
	test_check();
	test_text();
	test_email();
	test_phone();
	test_token();
	test_countries();
	test_num();
	test_time();
	json_object_put(OBJ);
	json_object_put(ERRS);
	return done_testing();
}
