/* The template renderer for email bodies (plain text and HTML) and the
 * console's pages: a Mustache subset over a json-c context. No Debian
 * package offers a C Mustache library, hence this small one.
 *
 *   {{name}} {{a.b.c}} {{.}}   a value, HTML-escaped in CIVIC_ESCAPE_HTML
 *   {{{name}}} {{&name}}       a value, never escaped
 *   {{#name}}...{{/name}}      a section: once per element of an array
 *                              (the element pushed on the context stack),
 *                              once for an object (pushed) or any other
 *                              true value (true, "x", 3: pushed too);
 *                              skipped for false, null, missing, [], ""
 *                              and 0
 *   {{^name}}...{{/name}}      an inverted section: once when the section
 *                              would be skipped, else skipped
 *   {{! comment }}             nothing
 *
 * A name is "." (the innermost context) or dot-separated segments of
 * [A-Za-z0-9_-]; its first segment is looked up through the context
 * stack, innermost first, the others in what the previous one found.
 * Blanks around a name are allowed ({{ name }}, {{# name }}). A line
 * holding only blanks and one section, inverted, close or comment tag
 * is left out of the output entirely (Mustache's standalone lines).
 * Values render as: strings as they are; numbers in json-c's form;
 * true/false as "true"/"false"; null, missing, objects and arrays as
 * nothing. HTML escaping replaces & < > " and ' (as &#39;).
 *
 * Not supported, and refused as errors: partials ({{>name}}) and
 * delimiter changes ({{=<% %>=}}). There are no lambdas.
 *
 * The whole template is checked before anything renders, so a template
 * error is found whatever the data (also inside a skipped section).
 * Rendering uses no recursion and a fixed amount of stack; the template
 * is compiled into a heap array of tokens freed before returning.
 * Rendering the same ctx from two threads at once is not safe: json-c
 * caches a number's string form inside the object. */
#ifndef CIVIC_TEMPLATE_H
#define CIVIC_TEMPLATE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define CIVIC_TEMPLATE_DEPTH_MAX    32             /* sections open at once */
#define CIVIC_TEMPLATE_NAME_MAX     128            /* bytes of a tag's name */
#define CIVIC_TEMPLATE_FILE_MAX     (1024u * 1024) /* bytes of a template file */
#define CIVIC_TEMPLATE_FILENAME_MAX 255            /* bytes of its name */
/* Tokens one render may process (each element of an array counts its
 * section's tokens again): nested sections over arrays whose bodies
 * produce no output are not bounded by the output cap, and must not
 * spin for hours on a fuzzer's input. */
#define CIVIC_TEMPLATE_STEPS_MAX (4u * 1024 * 1024)

enum civic_escape {
	CIVIC_ESCAPE_HTML, /* any value other than CIVIC_ESCAPE_NONE escapes too */
	CIVIC_ESCAPE_NONE,
};

/* Checks text[0..len) without rendering it: the same template errors as
 * civic_template_render reports. text may be NULL when len is 0. */
bool civic_template_check(const char *text, size_t len, char *err, size_t errlen);

/* Renders text[0..len) with the context ctx (borrowed, not modified
 * beyond json-c's caches; may be NULL: every name is missing) by
 * appending to out, whose cap bounds the output. text may hold any
 * bytes and may be NULL when len is 0. False, with "byte N: reason" in
 * err (N the offset of the tag in text; err may be NULL when errlen is
 * 0), on a template error (an unclosed tag, a section closed without
 * being opened, by another name or never, sections nested deeper than
 * CIVIC_TEMPLATE_DEPTH_MAX, an empty, malformed or too long name, a
 * partial or a delimiter change), on output beyond out's cap, on
 * memory shortage, or after CIVIC_TEMPLATE_STEPS_MAX steps. On failure
 * out may hold partial output, which the caller discards. */
bool civic_template_render(const char *text, size_t len, json_object *ctx, enum civic_escape esc,
                           struct civic_buf *out, char *err, size_t errlen);

/* Reads the regular file dir/name and renders it as above; names
 * ending in ".html" escape HTML, all others nothing. name must be a
 * plain file name: [A-Za-z0-9_.-]+ without "..", at most
 * CIVIC_TEMPLATE_FILENAME_MAX bytes; the file at most
 * CIVIC_TEMPLATE_FILE_MAX bytes. False with a message in err starting
 * with name on a refused name, a file that cannot be read, or any
 * error of civic_template_render. */
bool civic_template_render_file(const char *dir, const char *name, json_object *ctx,
                                struct civic_buf *out, char *err, size_t errlen);

#endif
