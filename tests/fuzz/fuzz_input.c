/* A request body through civic_input_parse_json, then through an input
 * table holding every field type, as the shared loop does for a POST.
 * Properties: a parsed body is a JSON value json-c can print again; a
 * body that validates has every required field, every integer within
 * its bounds and every string without NUL bytes, within its length;
 * civic_utf8_next only accepts the shortest form of a scalar value. */
#include <string.h>

#include "countries.h"
#include "fuzz.h"
#include "input.h"

static const struct civic_field FIELDS[] = {
	{"label", CIVIC_F_TEXT, CIVIC_F_REQUIRED, 1, 100},
	{"note", CIVIC_F_TEXT, CIVIC_F_NULLABLE, 0, 20},
	{"level", CIVIC_F_INT, 0, 1, 5},
	{"big", CIVIC_F_INT, CIVIC_F_NULLABLE, INT64_MIN, INT64_MAX},
	{"email", CIVIC_F_EMAIL, 0, 0, 0},
	{"phone", CIVIC_F_PHONE, 0, 0, 0},
	{"country", CIVIC_F_COUNTRY, 0, 0, 0},
	{"token", CIVIC_F_TOKEN, 0, 8, 64},
};
#define NFIELDS (sizeof(FIELDS) / sizeof(*FIELDS))

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_LOAD_COUNTRIES("fuzz_input");
	return 0;
}

/* Re-encodes cp and compares with what was decoded: one form only. */
static void check_utf8(const uint8_t *p, size_t size)
{
	for (size_t i = 0; i < size;) {
		unsigned cp = 0;
		size_t k = civic_utf8_next(p + i, size - i, &cp);
		if (k == 0) {
			i++;
			continue;
		}
		FUZZ_ASSERT(cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF));
		FUZZ_ASSERT(k == (cp < 0x80 ? 1u : cp < 0x800 ? 2u : cp < 0x10000 ? 3u : 4u));
		i += k;
	}
}

static void check_values(const struct civic_value *vals)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct civic_field *f = &FIELDS[i];
		if (f->flags & CIVIC_F_REQUIRED)
			FUZZ_ASSERT(vals[i].present);
		if (!vals[i].present || vals[i].null)
			continue;
		if (f->type == CIVIC_F_INT)
			FUZZ_ASSERT(vals[i].num >= f->min && vals[i].num <= f->max);
		else
			FUZZ_ASSERT(vals[i].str != NULL);
		if (f->type == CIVIC_F_TOKEN)
			FUZZ_ASSERT((int64_t)strlen(vals[i].str) >= f->min &&
			            (int64_t)strlen(vals[i].str) <= f->max);
		if (f->type == CIVIC_F_COUNTRY)
			FUZZ_ASSERT(civic_countries_find(vals[i].str) != NULL);
		if (f->type == CIVIC_F_EMAIL)
			FUZZ_ASSERT(strlen(vals[i].str) <= 254 && strchr(vals[i].str, '@'));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *obj = NULL, *errors = NULL;
	struct civic_value vals[NFIELDS];
	enum civic_err err;

	check_utf8(data, size);
	if (civic_input_parse_json((const char *)data, size, &obj) != CIVIC_OK) {
		FUZZ_ASSERT(obj == NULL);
		return 0;
	}
	FUZZ_ASSERT(obj != NULL || size >= 4); /* "null" parses to NULL */
	FUZZ_ASSERT(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN) != NULL);
	err = civic_input_check(FIELDS, NFIELDS, obj, vals, &errors);
	if (err == CIVIC_OK) {
		FUZZ_ASSERT(errors == NULL);
		check_values(vals);
	} else if (err == CIVIC_E_VALIDATION) {
		FUZZ_ASSERT(errors != NULL && json_object_object_length(errors) > 0);
	} else {
		FUZZ_ASSERT(err == CIVIC_E_INVALID_REQUEST && errors == NULL);
		FUZZ_ASSERT(obj == NULL || !json_object_is_type(obj, json_type_object));
	}
	json_object_put(errors);
	json_object_put(obj);
	return 0;
}
