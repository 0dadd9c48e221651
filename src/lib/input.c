#include "input.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "countries.h"

size_t civic_utf8_next(const unsigned char *p, size_t left, unsigned *cp)
{
	size_t n;
	unsigned c;

	if (left == 0)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, c &= 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, c &= 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, c &= 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10FFFF)))
		return 0;
	*cp = c;
	return n;
}

/* json-c's VALIDATE_UTF8 lets overlong forms, surrogates and code points
 * past U+10FFFF through; the request body must have none. */
static bool strict_utf8(const unsigned char *s, size_t n)
{
	unsigned cp;

	for (size_t i = 0, k; i < n; i += k)
		if ((k = civic_utf8_next(s + i, n - i, &cp)) == 0)
			return false;
	return true;
}

/* The value of the four hex digits at s[i..i+3], or -1. */
static long hex4(const char *s, size_t n, size_t i)
{
	long v = 0;

	if (i + 4 > n)
		return -1;
	for (size_t k = i; k < i + 4; k++) {
		char c = s[k];
		int d = c >= '0' && c <= '9'   ? c - '0'
		        : c >= 'a' && c <= 'f' ? c - 'a' + 10
		        : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                               : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* A \u escape at s[i] (the 'u'): a surrogate must be a high one followed
 * by "\u" and a low one; json-c would store a lone one as U+FFFD and so
 * silently change what the client sent. *skip gets the characters after
 * the 'u' that the escape (or pair) uses. */
static bool unicode_escape(const char *s, size_t n, size_t i, size_t *skip)
{
	long hi = hex4(s, n, i + 1), lo;

	*skip = 4;
	if (hi < 0)
		return false;
	if (hi < 0xD800 || hi > 0xDFFF)
		return true;
	if (hi > 0xDBFF || i + 6 >= n || s[i + 5] != '\\' || s[i + 6] != 'u')
		return false;
	lo = hex4(s, n, i + 7);
	*skip = 10;
	return lo >= 0xDC00 && lo <= 0xDFFF;
}

/* Outside strings, JSON has only structure, numbers and the letters of
 * true, false and null: this refuses the single quotes, NaN and
 * Infinity that json-c accepts even in strict mode. Inside strings,
 * control characters must be escaped, and \u escapes must not be lone
 * surrogates. *keys gets the number of object members written (a string
 * followed by ':'), which the tree must hold too: json-c keeps the last
 * of duplicate keys without a word. */
static bool json_lexemes(const char *s, size_t n, size_t *keys)
{
	bool in_str = false, esc = false, after_str = false;

	*keys = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (in_str) {
			if (c < 0x20)
				return false;
			if (esc) {
				size_t skip;
				esc = false;
				if (c == 'u') {
					if (!unicode_escape(s, n, i, &skip))
						return false;
					i += skip;
				}
			} else if (c == '\\')
				esc = true;
			else if (c == '"') {
				in_str = false;
				after_str = true;
			}
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (!strchr(" \t\r\n{}[]:,-+.0123456789eEtruefalsn", c) || c == '\0')
			return false;
		if (after_str && c == ':')
			(*keys)++;
		if (!strchr(" \t\r\n", c))
			after_str = c == '"';
	}
	return !in_str;
}

/* Object members in the whole tree. */
static size_t tree_keys(json_object *o)
{
	size_t n = 0;

	switch (json_object_get_type(o)) {
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			n += tree_keys(json_object_array_get_idx(o, i));
		return n;
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			n += 1 + tree_keys(v);
		}
		return n;
	}
	default:
		return 0;
	}
}

/* No NaN or infinity anywhere in the tree (json-c parses "nan"). */
static bool finite_tree(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_double:
		return isfinite(json_object_get_double(o));
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!finite_tree(json_object_array_get_idx(o, i)))
				return false;
		return true;
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			if (!finite_tree(v))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}

enum civic_err civic_input_parse_json(const char *body, size_t len, json_object **out)
{
	json_tokener *tok;
	json_object *obj;
	size_t end, keys;

	*out = NULL;
	if (len == 0 || len > INT32_MAX || memchr(body, '\0', len) != NULL ||
	    !strict_utf8((const unsigned char *)body, len) || !json_lexemes(body, len, &keys))
		return CIVIC_E_INVALID_REQUEST;
	if ((tok = json_tokener_new_ex(CIVIC_JSON_DEPTH)) == NULL)
		return CIVIC_E_INTERNAL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, body, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success)
		goto bad;
	/* Only white space may follow the value. */
	for (; end < len; end++)
		if (!strchr(" \t\r\n", body[end]))
			goto bad;
	if (!finite_tree(obj) || tree_keys(obj) != keys)
		goto bad;
	json_tokener_free(tok);
	*out = obj;
	return CIVIC_OK;
bad:
	json_object_put(obj);
	json_tokener_free(tok);
	return CIVIC_E_INVALID_REQUEST;
}

/* Characters in a valid UTF-8 string, or -1 if it holds a control char. */
static int64_t text_chars(const char *s)
{
	int64_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return -1;
		if ((*p & 0xC0) != 0x80)
			n++;
	}
	return n;
}

bool civic_valid_email(const char *s)
{
	const char *at = strchr(s, '@'), *dot;
	size_t n = strlen(s);

	if (at == NULL || at == s || strchr(at + 1, '@') || n > 254 || at - s > 64)
		return false;
	for (const char *p = s; p < at; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"(),:;<>[\\]", *p))
			return false;
	dot = strrchr(at + 1, '.');
	if (dot == NULL || dot == at + 1 || dot[1] == '\0')
		return false;
	for (const char *p = at + 1; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '.') ||
		    (*p == '.' && (p[1] == '.' || p[-1] == '@' || p[1] == '\0')))
			return false;
	return true;
}

bool civic_valid_phone(const char *s)
{
	size_t n;

	if (s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	n = strlen(s + 1);
	return n >= 7 && n <= 15 && strspn(s + 1, "0123456789") == n;
}

const char *civic_input_check_value(const struct civic_field *f, json_object *v,
                                    struct civic_value *out)
{
	const char *s;
	int64_t chars;

	out->present = true;
	if (v == NULL) {
		out->null = true;
		return (f->flags & CIVIC_F_NULLABLE) ? NULL : "must not be null";
	}
	if (f->type == CIVIC_F_INT) {
		if (!json_object_is_type(v, json_type_int))
			return "must be an integer";
		out->num = json_object_get_int64(v);
		return (out->num < f->min || out->num > f->max) ? "is out of range" : NULL;
	}
	if (!json_object_is_type(v, json_type_string))
		return "must be a string";
	s = out->str = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return "must not contain NUL bytes";
	switch (f->type) {
	case CIVIC_F_TEXT:
		if ((chars = text_chars(s)) < 0)
			return "must not contain control characters";
		if (chars < f->min || chars > f->max)
			return f->min > 0 && chars == 0 ? "must not be empty" : "has an invalid length";
		return NULL;
	case CIVIC_F_EMAIL:
		return civic_valid_email(s) ? NULL : "must be a valid email address";
	case CIVIC_F_PHONE:
		return civic_valid_phone(s) ? NULL
		                            : "must be an E.164 number: + and 7 to 15 digits";
	case CIVIC_F_COUNTRY:
		return civic_countries_find(s) ? NULL : "must be a supported ISO 3166-1 alpha-2 code";
	case CIVIC_F_TOKEN:
		for (const char *p = s; *p; p++)
			if (*p <= ' ' || *p >= 0x7f)
				return "must be printable ASCII without spaces";
		return ((int64_t)strlen(s) < f->min || (int64_t)strlen(s) > f->max)
		           ? "has an invalid length"
		           : NULL;
	case CIVIC_F_INT:
		break;
	}
	return "has an unknown type";
}

enum civic_err civic_input_check(const struct civic_field *fields, size_t n, json_object *obj,
                                 struct civic_value *vals, json_object **errors)
{
	json_object *errs;

	*errors = NULL;
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return CIVIC_E_INVALID_REQUEST;
	errs = json_object_new_object();
	memset(vals, 0, sizeof(*vals) * n);
	json_object_object_foreach(obj, key, val) {
		size_t i;
		const char *why;
		for (i = 0; i < n && strcmp(fields[i].name, key) != 0; i++)
			;
		if (i == n)
			why = "is not a known field";
		else
			why = civic_input_check_value(&fields[i], val, &vals[i]);
		if (why)
			json_object_object_add(errs, key, json_object_new_string(why));
	}
	for (size_t i = 0; i < n; i++)
		if ((fields[i].flags & CIVIC_F_REQUIRED) && !vals[i].present)
			json_object_object_add(errs, fields[i].name, json_object_new_string("is required"));
	if (json_object_object_length(errs) == 0) {
		json_object_put(errs);
		return CIVIC_OK;
	}
	*errors = errs;
	return CIVIC_E_VALIDATION;
}
