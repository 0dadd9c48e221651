/* The template renderer (src/lib/template.c): values and their forms,
 * HTML escaping against none, dotted names, the context stack, sections
 * over arrays, objects and scalars, inverted sections, comments,
 * standalone lines, every template error with its byte offset, the
 * output cap, the step bound, and render_file's name rules and reads. */
#define _GNU_SOURCE /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "template.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static char ERR[256];

/* tpl rendered with the JSON ctx (NULL: no context) and esc, or
 * "ERROR <message>". Owned by a static buffer. */
static const char *render_esc(const char *tpl, const char *ctx, enum civic_escape esc)
{
	static struct civic_buf out;
	json_object *o = ctx ? json_tokener_parse(ctx) : NULL;
	bool ok;

	if (ctx && o == NULL) {
		diag("bad test JSON %s", ctx);
		return "BAD TEST JSON";
	}
	civic_buf_free(&out);
	civic_buf_init(&out, 1 << 20);
	ok = civic_template_render(tpl, strlen(tpl), o, esc, &out, ERR, sizeof(ERR));
	json_object_put(o);
	if (ok)
		return civic_buf_str(&out);
	civic_buf_reset(&out);
	civic_buf_printf(&out, "ERROR %s", ERR);
	return civic_buf_str(&out);
}

static const char *html(const char *tpl, const char *ctx)
{
	return render_esc(tpl, ctx, CIVIC_ESCAPE_HTML);
}

/* ------------------------------------------------------------- cases */

static const struct {
	const char *tpl, *ctx, *want, *what;
} cases[] = {
	/* text and values */
	{"", NULL, "", "empty template"},
	{"plain text\n", NULL, "plain text\n", "text without tags"},
	{"a { b } c {x} }}", NULL, "a { b } c {x} }}", "single braces and a stray }} are text"},
	{"Hi {{name}}!", "{\"name\":\"Ana\"}", "Hi Ana!", "a string"},
	{"Hi {{ name }}!", "{\"name\":\"Ana\"}", "Hi Ana!", "blanks inside a tag"},
	{"Hi {{\tname\n}}!", "{\"name\":\"Ana\"}", "Hi Ana!", "tabs and newlines inside a tag"},
	{"[{{name}}]", NULL, "[]", "no context: missing"},
	{"[{{name}}]", "{}", "[]", "a missing name renders nothing"},
	{"[{{n}}]", "{\"n\":null}", "[]", "null renders nothing"},
	{"{{i}} {{neg}} {{big}}", "{\"i\":42,\"neg\":-7,\"big\":9007199254740993}",
	 "42 -7 9007199254740993", "integers"},
	{"{{d}} {{e}}", "{\"d\":1.5,\"e\":-0.25}", "1.5 -0.25", "doubles"},
	{"{{t}} {{f}}", "{\"t\":true,\"f\":false}", "true false", "booleans"},
	{"[{{o}}][{{a}}]", "{\"o\":{\"x\":1},\"a\":[1,2]}", "[][]",
	 "objects and arrays render nothing"},
	{"{{u}}", "{\"u\":\"caf\\u00e9 \\u2603\"}", "caf\xc3\xa9 \xe2\x98\x83",
	 "UTF-8 passes through"},
	{"[{{.}}]", "{}", "[]", "{{.}} on an object renders nothing"},
	{"{{_a-b_}}", "{\"_a-b_\":\"x\"}", "x", "_ and - in names"},

	/* escaping */
	{"{{s}}", "{\"s\":\"<a href=\\\"x\\\">Tom & Jerry's</a>\"}",
	 "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;", "HTML escaping"},
	{"{{{s}}}", "{\"s\":\"<b>&'\\\"\"}", "<b>&'\"", "{{{ }}} does not escape"},
	{"{{{ s }}}", "{\"s\":\"<b>\"}", "<b>", "{{{ }}} with blanks"},
	{"{{&s}}", "{\"s\":\"<b>&'\\\"\"}", "<b>&'\"", "{{& }} does not escape"},
	{"{{& s }}", "{\"s\":\"<b>\"}", "<b>", "{{& }} with blanks"},
	{"{{s}}", "{\"s\":\"`=/\"}", "`=/", "backtick, = and / are left"},
	{"<{{s}}>", "{\"s\":\"&&&\"}", "<&amp;&amp;&amp;>", "only values are escaped"},

	/* dotted names */
	{"{{a.b.c}}", "{\"a\":{\"b\":{\"c\":\"deep\"}}}", "deep", "a dotted name"},
	{"[{{a.x}}]", "{\"a\":{\"b\":1}}", "[]", "a dotted name with a missing member"},
	{"[{{a.b.c}}]", "{\"a\":{\"b\":\"str\"}}", "[]", "a dotted name through a string"},
	{"[{{a.b}}]", "{\"a\":null}", "[]", "a dotted name through null"},
	{"{{#a}}[{{b.c.name}}]{{/a}}", "{\"a\":{\"b\":{}},\"c\":{\"name\":\"Jim\"}}", "[]",
	 "a broken chain is not looked up further out"},
	{"{{#x}}{{a.b}}{{/x}}", "{\"a\":{\"b\":\"outer\"},\"x\":{\"y\":1}}", "outer",
	 "a dotted name's first segment through the stack"},
	{"{{#a.b}}{{c}}{{/a.b}}", "{\"a\":{\"b\":{\"c\":\"in\"}}}", "in", "a dotted section"},

	/* context stack */
	{"{{#p}}{{name}} of {{org}}{{/p}}", "{\"org\":\"ACME\",\"p\":{\"name\":\"Ana\"}}",
	 "Ana of ACME", "inner and outer names"},
	{"{{#p}}{{name}}{{/p}} {{name}}", "{\"name\":\"outer\",\"p\":{\"name\":\"inner\"}}",
	 "inner outer", "the innermost context shadows, and is popped"},
	{"{{#p}}[{{name}}]{{/p}}", "{\"name\":\"outer\",\"p\":{\"name\":null}}", "[]",
	 "a null in an inner context shadows too"},
	{"{{#a}}{{#b}}{{#c}}{{x}}{{y}}{{z}}{{/c}}{{/b}}{{/a}}",
	 "{\"a\":{\"x\":1,\"b\":{\"y\":2,\"c\":{\"z\":3}}}}", "123", "three levels"},

	/* sections */
	{"[{{#t}}yes{{/t}}]", "{\"t\":true}", "[yes]", "true: once"},
	{"[{{#f}}yes{{/f}}]", "{\"f\":false}", "[]", "false: skipped"},
	{"[{{#n}}yes{{/n}}]", "{\"n\":null}", "[]", "null: skipped"},
	{"[{{#m}}yes{{/m}}]", "{}", "[]", "missing: skipped"},
	{"[{{#m}}yes{{/m}}]", NULL, "[]", "no context: skipped"},
	{"[{{#a}}yes{{/a}}]", "{\"a\":[]}", "[]", "empty array: skipped"},
	{"[{{#s}}yes{{/s}}]", "{\"s\":\"\"}", "[]", "empty string: skipped"},
	{"[{{#z}}yes{{/z}}]", "{\"z\":0}", "[]", "0: skipped"},
	{"[{{#z}}yes{{/z}}]", "{\"z\":0.0}", "[]", "0.0: skipped"},
	{"[{{#s}}<{{.}}>{{/s}}]", "{\"s\":\"str\"}", "[<str>]", "a string: once, pushed"},
	{"[{{#n}}<{{.}}>{{/n}}]", "{\"n\":-3}", "[<-3>]", "a number: once, pushed"},
	{"[{{#o}}{{k}}{{/o}}]", "{\"o\":{\"k\":\"v\"}}", "[v]", "an object: once, pushed"},
	{"[{{#o}}x{{/o}}]", "{\"o\":{}}", "[x]", "an empty object: once"},
	{"{{#a}}<{{.}}>{{/a}}", "{\"a\":[\"x\",\"<y>\",3,true]}", "<x><&lt;y&gt;><3><true>",
	 "an array: once per element, {{.}} the element"},
	{"{{#a}}[{{.}}]{{/a}}", "{\"a\":[null,1]}", "[][1]", "null elements"},
	{"{{#a}}{{#.}}({{.}}){{/.}};{{/a}}", "{\"a\":[[1,2],[],[3]]}", "(1)(2);;(3);",
	 "arrays of arrays"},
	{"{{#a}}{{#a}}x{{/a}}{{/a}}", "{\"a\":[1,2,3]}", "xxxxxxxxx", "the same array nested"},
	{"{{#a}}{{x}},{{/a}}", "{\"x\":\"out\",\"a\":[{\"x\":1},{},{\"x\":null}]}", "1,out,,",
	 "array elements without the name fall back outward"},
	{"{{#countries}}{{name}}:{{#alerts}} {{level}}/{{name}}{{/alerts}}"
	 "{{^alerts}} none{{/alerts}};{{/countries}}",
	 "{\"countries\":[{\"name\":\"FR\","
	 "\"alerts\":[{\"level\":3},{\"level\":4,\"name\":\"x\"}]},"
	 "{\"name\":\"DE\",\"alerts\":[]}]}",
	 "FR: 3/FR 4/x;DE: none;", "nested sections over arrays of objects"},

	/* inverted sections */
	{"[{{^m}}none{{/m}}]", "{}", "[none]", "inverted: missing"},
	{"[{{^m}}none{{/m}}]", NULL, "[none]", "inverted: no context"},
	{"[{{^a}}none{{/a}}]", "{\"a\":[]}", "[none]", "inverted: empty array"},
	{"[{{^f}}none{{/f}}]", "{\"f\":false}", "[none]", "inverted: false"},
	{"[{{^s}}none{{/s}}]", "{\"s\":\"\"}", "[none]", "inverted: empty string"},
	{"[{{^z}}none{{/z}}]", "{\"z\":0}", "[none]", "inverted: 0"},
	{"[{{^t}}none{{/t}}]", "{\"t\":true}", "[]", "inverted: true"},
	{"[{{^a}}none{{/a}}]", "{\"a\":[1]}", "[]", "inverted: non-empty array"},
	{"[{{^o}}none{{/o}}]", "{\"o\":{}}", "[]", "inverted: object"},
	{"{{^m}}{{x}}{{/m}}", "{\"x\":\"ctx\"}", "ctx", "inverted sections push nothing"},
	{"{{#t}}a{{/t}}{{^t}}b{{/t}}", "{\"t\":true}", "a", "section and inverted of a name"},

	/* comments */
	{"a{{! a comment }}b", NULL, "ab", "a comment"},
	{"a{{!}}b", NULL, "ab", "an empty comment"},
	{"a{{! {{x { } }}b", NULL, "ab", "braces in a comment"},
	{"a{{! x}} y }}b", NULL, "a y }}b", "a comment ends at the first }}"},
	{"a{{!\nmulti\nline\n}}b", NULL, "ab", "a multi-line comment"},
	{"a{{ ! blanks first }}b", NULL, "ab", "a comment after blanks"},

	/* standalone lines */
	{"a\n{{#t}}\nb\n{{/t}}\nc\n", "{\"t\":true}", "a\nb\nc\n", "standalone section lines"},
	{"a\n  {{#t}}  \nb\n\t{{/t}}\nc", "{\"t\":true}", "a\nb\nc", "indented standalone lines"},
	{"a\r\n{{#t}}\r\nb\r\n{{/t}}\r\nc", "{\"t\":true}", "a\r\nb\r\nc", "CRLF standalone lines"},
	{"{{#t}}\nb\n{{/t}}", "{\"t\":true}", "b\n", "standalone at the start and end"},
	{"a\n{{^t}}\nb\n{{/t}}\nc\n", "{\"t\":true}", "a\nc\n", "standalone inverted, skipped"},
	{"a\n{{! note }}\nb\n", NULL, "a\nb\n", "a standalone comment"},
	{"a\n  {{! multi\nline }}  \nb\n", NULL, "a\nb\n", "a standalone multi-line comment"},
	{"<ul>\n{{#a}}\n  <li>{{.}}</li>\n{{/a}}\n</ul>\n", "{\"a\":[1,2]}",
	 "<ul>\n  <li>1</li>\n  <li>2</li>\n</ul>\n", "a standalone list"},
	{"x {{#t}}\ny{{/t}} z", "{\"t\":true}", "x \ny z", "text on the line: not standalone"},
	{"{{#t}}{{/t}}\n", "{\"t\":true}", "\n", "two tags on a line: not standalone"},
	{"  {{v}}\n", "{\"v\":1}", "  1\n", "a variable is never standalone"},
	{"a\n {{#t}} x\n{{/t}}", "{\"t\":true}", "a\n  x\n", "text after the tag: not standalone"},
};

static void test_cases(void)
{
	for (size_t i = 0; i < NELEM(cases); i++)
		is_str(html(cases[i].tpl, cases[i].ctx), cases[i].want, "%s", cases[i].what);
}

/* ------------------------------------------------------- escape modes */

static void test_escape_modes(void)
{
	const char *ctx = "{\"s\":\"<a href='x'>&\\\"</a>\"}";

	is_str(render_esc("{{s}}", ctx, CIVIC_ESCAPE_HTML),
	       "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;", "HTML mode escapes {{s}}");
	is_str(render_esc("{{s}}", ctx, CIVIC_ESCAPE_NONE), "<a href='x'>&\"</a>",
	       "none mode leaves {{s}}");
	is_str(render_esc("{{{s}}}{{&s}}", ctx, CIVIC_ESCAPE_NONE),
	       "<a href='x'>&\"</a><a href='x'>&\"</a>", "none mode leaves {{{s}}} and {{&s}}");
	is_str(render_esc("{{s}}", ctx, (enum civic_escape)42),
	       "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;", "an unknown mode escapes");
}

/* ------------------------------------------------------------ errors */

static const struct {
	const char *tpl, *want, *what;
} errors[] = {
	{"ab{{c", "byte 2: unclosed tag", "an unclosed tag"},
	{"{{", "byte 0: unclosed tag", "{{ at the end"},
	{"x{{c}", "byte 1: unclosed tag", "an unclosed tag with one brace"},
	{"x {{{c}}", "byte 2: unclosed tag", "{{{ closed by }}"},
	{"{{{c", "byte 0: unclosed tag", "an unclosed {{{"},
	{"{{! never closed", "byte 0: unclosed tag", "an unclosed comment"},
	{"abc{{/a}}", "byte 3: {{/a}} closes no section", "a close without a section"},
	{"{{#a}}{{/a}}{{/a}}", "byte 12: {{/a}} closes no section", "one close too many"},
	{"{{#a}}x{{/b}}", "byte 7: {{/b}} closes {{#a}}", "a mismatched close"},
	{"{{#a}}{{^b}}{{/a}}{{/b}}", "byte 12: {{/a}} closes {{^b}}", "crossed sections"},
	{"12{{#a}}x", "byte 2: {{#a}} is never closed", "an unclosed section"},
	{"{{^a}}{{#b}}{{/b}}", "byte 0: {{^a}} is never closed", "an unclosed inverted section"},
	{"{{#m}}{{/x}}{{/m}}", "byte 6: {{/x}} closes {{#m}}", "an error inside a skipped section"},
	{"{{>partial}}", "byte 0: partials", "a partial"},
	{"a{{=<% %>=}}", "byte 1: delimiter changes", "a delimiter change"},
	{"{{}}", "byte 0: a tag without a name", "an empty tag"},
	{"{{  }}", "byte 0: a tag without a name", "a blank tag"},
	{"{{#}}", "byte 0: a tag without a name", "a section without a name"},
	{"{{{}}}", "byte 0: a tag without a name", "an empty {{{ }}}"},
	{"{{a b}}", "byte 0: a tag name not made of", "a blank inside a name"},
	{"{{a..b}}", "byte 0: a tag name not made of", "an empty segment"},
	{"{{.a}}", "byte 0: a tag name not made of", "a leading dot"},
	{"{{a.}}", "byte 0: a tag name not made of", "a trailing dot"},
	{"{{..}}", "byte 0: a tag name not made of", "two dots"},
	{"{{a{{b}}", "byte 0: a tag name not made of", "{{ inside a tag"},
	{"{{ {a} }}", "byte 0: a tag name not made of", "a brace after blanks"},
	{"{{#a}}{{/ a b}}", "byte 6: a tag name not made of", "a bad name in a close"},
	{"{{\xc3\xa9}}", "byte 0: a tag name not made of", "a non-ASCII name"},
};

static const char *err_of(const char *tpl)
{
	return html(tpl, "{}");
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_errors(void)
{
	char tpl[1024], name[CIVIC_TEMPLATE_NAME_MAX + 2];
	const char *got;

	for (size_t i = 0; i < NELEM(errors); i++) {
		char want[256];

		snprintf(want, sizeof(want), "ERROR %s", errors[i].want);
		got = err_of(errors[i].tpl);
		if (!ok(starts(got, want), "error: %s", errors[i].what))
			diag("got '%s', want '%s...'", got, want);
	}

	/* 32 nested sections are fine, 33 are not. */
	tpl[0] = '\0';
	for (int i = 0; i < CIVIC_TEMPLATE_DEPTH_MAX; i++)
		strcat(tpl, "{{#t}}");
	strcat(tpl, "x");
	for (int i = 0; i < CIVIC_TEMPLATE_DEPTH_MAX; i++)
		strcat(tpl, "{{/t}}");
	is_str(html(tpl, "{\"t\":true}"), "x", "32 nested sections render");
	tpl[0] = '\0';
	for (int i = 0; i <= CIVIC_TEMPLATE_DEPTH_MAX; i++)
		strcat(tpl, "{{^t}}");
	for (int i = 0; i <= CIVIC_TEMPLATE_DEPTH_MAX; i++)
		strcat(tpl, "{{/t}}");
	is_str(html(tpl, "{}"), "ERROR byte 192: sections nested deeper than 32",
	       "33 nested sections are refused");

	/* 128-byte names are fine, 129 are not. */
	memset(name, 'n', CIVIC_TEMPLATE_NAME_MAX);
	name[CIVIC_TEMPLATE_NAME_MAX] = '\0';
	snprintf(tpl, sizeof(tpl), "[{{ %s }}]", name);
	is_str(html(tpl, "{}"), "[]", "a 128-byte name");
	strcat(name, "n");
	snprintf(tpl, sizeof(tpl), "[{{ %s }}]", name);
	is_str(html(tpl, "{}"), "ERROR byte 1: a tag name longer than 128 bytes",
	       "a 129-byte name is refused");

	/* The checker finds the same errors without rendering. */
	ok(civic_template_check("{{#a}}{{b.c}}{{/a}}", 19, ERR, sizeof(ERR)) && ERR[0] == '\0',
	   "check: a good template");
	ok(!civic_template_check("{{#a}}", 6, ERR, sizeof(ERR)) &&
	       strcmp(ERR, "byte 0: {{#a}} is never closed") == 0,
	   "check: an unclosed section");
	ok(civic_template_check(NULL, 0, NULL, 0), "check: no text, no err buffer");
	ok(!civic_template_check(NULL, 3, NULL, 0), "check: NULL text with a length");

	/* NUL bytes are text; a render with no err buffer fails quietly. */
	{
		struct civic_buf b;

		civic_buf_init(&b, 100);
		ok(civic_template_render("a\0b{{x}}", 8, NULL, CIVIC_ESCAPE_HTML, &b, NULL, 0) &&
		       b.len == 3 && memcmp(b.data, "a\0b", 3) == 0,
		   "NUL bytes pass through");
		ok(!civic_template_render("{{x", 3, NULL, CIVIC_ESCAPE_HTML, &b, NULL, 0),
		   "an error without an err buffer");
		civic_buf_free(&b);
	}
}

/* ---------------------------------------------- the cap and the steps */

static void test_bounds(void)
{
	json_object *o = json_tokener_parse("{\"s\":\"<<<<<\",\"t\":\"12345\"}");
	json_object *a = json_object_new_array();
	struct civic_buf b;
	bool r;

	civic_buf_init(&b, 10);
	r = civic_template_render("{{t}}{{t}}", 10, o, CIVIC_ESCAPE_HTML, &b, ERR, sizeof(ERR));
	ok(r && b.len == 10, "output exactly at the cap");
	civic_buf_reset(&b);
	r = civic_template_render("{{t}}{{t}}{{t}}", 15, o, CIVIC_ESCAPE_HTML, &b, ERR,
	                          sizeof(ERR));
	ok(!r, "output beyond the cap fails");
	is_str(ERR, "byte 10: output beyond the cap of 10 bytes", "... at the tag that overflowed");
	civic_buf_reset(&b);
	r = civic_template_render("{{s}}", 5, o, CIVIC_ESCAPE_HTML, &b, ERR, sizeof(ERR));
	ok(!r && strstr(ERR, "beyond the cap") != NULL, "escaping beyond the cap fails");
	civic_buf_reset(&b);
	r = civic_template_render("0123456789x", 11, o, CIVIC_ESCAPE_HTML, &b, ERR, sizeof(ERR));
	ok(!r && strcmp(ERR, "byte 0: output beyond the cap of 10 bytes") == 0,
	   "text beyond the cap fails");
	civic_buf_free(&b);

	/* Appends to what out holds. */
	civic_buf_init(&b, 100);
	civic_buf_adds(&b, "head:");
	r = civic_template_render("{{t}}", 5, o, CIVIC_ESCAPE_NONE, &b, ERR, sizeof(ERR));
	ok(r && strcmp(civic_buf_str(&b), "head:12345") == 0, "appends to out");
	civic_buf_free(&b);

	/* Three sections over 200 elements, bodies empty: 8 million
	 * iterations with no output, stopped by the step bound. */
	for (int i = 0; i < 200; i++)
		json_object_array_add(a, json_object_new_int(i));
	json_object_object_add(o, "a", a);
	civic_buf_init(&b, 1 << 20);
	r = civic_template_render("{{#a}}{{#a}}{{#a}}{{/a}}{{/a}}{{/a}}", 36, o, CIVIC_ESCAPE_NONE,
	                          &b, ERR, sizeof(ERR));
	ok(!r && strstr(ERR, "rendering steps") != NULL, "the step bound stops a runaway render");
	civic_buf_reset(&b);
	r = civic_template_render("{{#a}}{{#a}}.{{/a}}{{/a}}", 25, o, CIVIC_ESCAPE_NONE, &b, ERR,
	                          sizeof(ERR));
	ok(r && b.len == 40000, "40000 iterations are fine");
	civic_buf_free(&b);
	json_object_put(o);
}

/* -------------------------------------------------------------- files */

static bool write_file(const char *dir, const char *name, const char *text, size_t n)
{
	char path[512];
	FILE *f;
	bool good;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return false;
	good = fwrite(text, 1, n, f) == n;
	return fclose(f) == 0 && good;
}

static void test_files(void)
{
	static const char *const refused[] = {"../x", "a/b", "/etc/passwd", "..", "a..b", "",
	                                      "a b", "x\n", "caf\xc3\xa9"};
	char dir[] = "/tmp/test_template.XXXXXX", path[512], name[300];
	const char *tpl = "<p>{{name}}</p>\n";
	json_object *o = json_tokener_parse("{\"name\":\"<Ana & Bo>\"}");
	struct civic_buf b;
	char *big;

	civic_buf_init(&b, 1 << 20);
	if (mkdtemp(dir) == NULL) {
		diag("mkdtemp failed");
		return;
	}
	for (size_t i = 0; i < NELEM(refused); i++) {
		ok(!civic_template_render_file(dir, refused[i], o, &b, ERR, sizeof(ERR)) &&
		       strstr(ERR, "refused") != NULL,
		   "file name '%s' is refused", refused[i]);
	}
	ok(!civic_template_render_file(dir, NULL, o, &b, ERR, sizeof(ERR)),
	   "a NULL name is refused");
	memset(name, 'a', CIVIC_TEMPLATE_FILENAME_MAX + 1);
	name[CIVIC_TEMPLATE_FILENAME_MAX + 1] = '\0';
	ok(!civic_template_render_file(dir, name, o, &b, ERR, sizeof(ERR)),
	   "a 256-byte name is refused");

	ok(write_file(dir, "hello.html", tpl, strlen(tpl)) &&
	       write_file(dir, "hello.txt", tpl, strlen(tpl)) &&
	       write_file(dir, "Sub-ject_1.txt", "S: {{name}}", 11) &&
	       write_file(dir, "bad.txt", "x\n{{#a}}", 8),
	   "test files written");
	civic_buf_reset(&b);
	ok(civic_template_render_file(dir, "hello.html", o, &b, ERR, sizeof(ERR)) &&
	       strcmp(civic_buf_str(&b), "<p>&lt;Ana &amp; Bo&gt;</p>\n") == 0,
	   "a .html file escapes HTML");
	civic_buf_reset(&b);
	ok(civic_template_render_file(dir, "hello.txt", o, &b, ERR, sizeof(ERR)) &&
	       strcmp(civic_buf_str(&b), "<p><Ana & Bo></p>\n") == 0,
	   "a .txt file escapes nothing");
	civic_buf_reset(&b);
	ok(civic_template_render_file(dir, "Sub-ject_1.txt", o, &b, ERR, sizeof(ERR)) &&
	       strcmp(civic_buf_str(&b), "S: <Ana & Bo>") == 0,
	   "letters, digits, - and _ in a name");
	civic_buf_reset(&b);
	ok(!civic_template_render_file(dir, "bad.txt", o, &b, ERR, sizeof(ERR)) &&
	       strcmp(ERR, "bad.txt: byte 2: {{#a}} is never closed") == 0,
	   "a template error names the file");
	ok(!civic_template_render_file(dir, "missing.txt", o, &b, ERR, sizeof(ERR)) &&
	       starts(ERR, "missing.txt: cannot open"),
	   "a missing file");
	snprintf(path, sizeof(path), "%s/sub.html", dir);
	ok(mkdir(path, 0700) == 0 &&
	       !civic_template_render_file(dir, "sub.html", o, &b, ERR, sizeof(ERR)) &&
	       strstr(ERR, "not a regular file") != NULL,
	   "a directory is refused");

	/* 1 MiB is fine, one byte more is not. */
	big = malloc(CIVIC_TEMPLATE_FILE_MAX + 1);
	if (big)
		memset(big, 'x', CIVIC_TEMPLATE_FILE_MAX + 1);
	ok(big && write_file(dir, "max.txt", big, CIVIC_TEMPLATE_FILE_MAX) &&
	       write_file(dir, "over.txt", big, CIVIC_TEMPLATE_FILE_MAX + 1),
	   "big files written");
	civic_buf_free(&b);
	civic_buf_init(&b, 2 * CIVIC_TEMPLATE_FILE_MAX);
	ok(civic_template_render_file(dir, "max.txt", o, &b, ERR, sizeof(ERR)) &&
	       b.len == CIVIC_TEMPLATE_FILE_MAX,
	   "a 1 MiB file renders");
	civic_buf_reset(&b);
	ok(!civic_template_render_file(dir, "over.txt", o, &b, ERR, sizeof(ERR)) &&
	       strstr(ERR, "larger than") != NULL,
	   "a file over 1 MiB is refused");
	free(big);

	const char *const made[] = {"hello.html", "hello.txt", "Sub-ject_1.txt", "bad.txt",
	                            "max.txt", "over.txt"};
	for (size_t i = 0; i < NELEM(made); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, made[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/sub.html", dir);
	rmdir(path);
	rmdir(dir);
	civic_buf_free(&b);
	json_object_put(o);
}

int main(void)
{
	plan((int)(NELEM(cases) + 4 + NELEM(errors) + 10 + 8 + 9 + 2 + 10));
	test_cases();
	test_escape_modes();
	test_errors();
	test_bounds();
	test_files();
	return done_testing();
}
