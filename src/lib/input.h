/* Input tables (STYLE.md 1, after kcgi's kvalid): each endpoint declares
 * its body fields once, with type, bounds and flags; civic_input_check
 * validates a JSON object against the table and produces the
 * VALIDATION_ERROR map. Validators are pure computation. */
#ifndef CIVIC_INPUT_H
#define CIVIC_INPUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CIVIC_JSON_DEPTH 16

enum civic_ftype {
	CIVIC_F_TEXT,    /* string of min..max characters, no control chars */
	CIVIC_F_INT,     /* integer in min..max */
	CIVIC_F_EMAIL,   /* an address of at most 254 bytes */
	CIVIC_F_PHONE,   /* E.164: '+' then 7 to 15 digits, no leading 0 */
	CIVIC_F_COUNTRY, /* a supported ISO 3166-1 alpha-2 code */
	CIVIC_F_TOKEN,   /* printable ASCII, no spaces, min..max bytes */
};

#define CIVIC_F_REQUIRED 1u
#define CIVIC_F_NULLABLE 2u

struct civic_field {
	const char *name;
	enum civic_ftype type;
	unsigned flags;
	int64_t min, max;
};

struct civic_value {
	bool present;
	bool null;
	const char *str; /* borrowed from the JSON object */
	int64_t num;
};

/* Parses a request body as one JSON value (depth-limited, strict, UTF-8
 * validated, nothing after it). *out is owned by the caller
 * (json_object_put). CIVIC_E_INVALID_REQUEST on any error. */
enum civic_err civic_input_parse_json(const char *body, size_t len, json_object **out);

/* Validates obj against fields[0..n) into vals[0..n). Unknown members
 * are errors too. On CIVIC_E_VALIDATION, *errors (caller frees) maps
 * each bad field to a reason. CIVIC_E_INVALID_REQUEST if obj is not a
 * JSON object. */
enum civic_err civic_input_check(const struct civic_field *fields, size_t n, json_object *obj,
                                 struct civic_value *vals, json_object **errors);

/* One value against one field: NULL if valid, else the reason. */
const char *civic_input_check_value(const struct civic_field *f, json_object *v,
                                    struct civic_value *out);

bool civic_valid_email(const char *s);

/* Decodes the UTF-8 sequence at p (left bytes available) into *cp and
 * returns its length, or 0 when it is not strict UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF) or left is 0. */
size_t civic_utf8_next(const unsigned char *p, size_t left, unsigned *cp);
bool civic_valid_phone(const char *s);

#endif
