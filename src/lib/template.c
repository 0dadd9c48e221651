#include "template.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A template compiles into a flat array of tokens; a section knows the
 * index of its close and the close that of its section, so rendering is
 * a loop over the array with an explicit, bounded stack: no recursion,
 * and skipping a section costs nothing. */
enum tok_kind {
	T_TEXT,
	T_VAR,      /* {{name}}: escaped as the render asks */
	T_RAW,      /* {{{name}}}, {{&name}} */
	T_SECTION,  /* {{#name}} */
	T_INVERTED, /* {{^name}} */
	T_CLOSE,    /* {{/name}} */
	T_COMMENT,  /* {{! ...}}: parsed, never stored */
};

struct tok {
	enum tok_kind kind;
	size_t off;  /* T_TEXT: its first byte; a tag: its "{{", for messages */
	size_t len;  /* T_TEXT: its length */
	size_t name; /* a tag: its name's first byte in the text */
	size_t nlen;
	size_t match; /* T_SECTION, T_INVERTED: its T_CLOSE; T_CLOSE: its opener */
};

struct tpl {
	const char *text;
	size_t len;
	struct tok *toks; /* malloced */
	size_t ntoks, alloc;
};

/* One tag as parsed: its kind, its name and where the text after it
 * starts. */
struct tag {
	enum tok_kind kind;
	size_t name, nlen, end;
};

static __attribute__((format(printf, 4, 5))) bool fail(char *err, size_t errlen, size_t off,
                                                       const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return false;
	n = snprintf(err, errlen, "byte %zu: ", off);
	if (n < 0 || (size_t)n >= errlen)
		return false;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

/* The offset of the first "cc" at or after from, if any. */
static bool find_pair(const char *s, size_t len, size_t from, char c, size_t *at)
{
	const char *p;

	while (from + 1 < len && (p = memchr(s + from, c, len - from - 1)) != NULL) {
		from = (size_t)(p - s);
		if (s[from + 1] == c) {
			*at = from;
			return true;
		}
		from++;
	}
	return false;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ASCII only: the locale must not decide what a name is. */
static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static bool name_ok(const char *s, size_t n)
{
	bool empty_segment = true;

	if (n == 1 && s[0] == '.')
		return true;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (empty_segment)
				return false;
			empty_segment = true;
		} else if (name_char((unsigned char)s[i]))
			empty_segment = false;
		else
			return false;
	}
	return !empty_segment;
}

/* Parses the tag whose "{{" is at ts. */
static bool parse_tag(const char *s, size_t len, size_t ts, struct tag *g, char *err, size_t errlen)
{
	size_t p = ts + 2, ce;

	if (p < len && s[p] == '{') {
		if (!find_pair(s, len, p + 1, '}', &ce) || ce + 2 >= len || s[ce + 2] != '}')
			return fail(err, errlen, ts, "unclosed tag: {{{ without }}}");
		g->kind = T_RAW;
		g->end = ce + 3;
		p++;
	} else {
		if (!find_pair(s, len, p, '}', &ce))
			return fail(err, errlen, ts, "unclosed tag: {{ without }}");
		g->end = ce + 2;
		while (p < ce && blank(s[p]))
			p++;
		g->kind = T_VAR;
		switch (p < ce ? s[p] : '\0') {
		case '!':
			g->kind = T_COMMENT;
			g->name = g->nlen = 0;
			return true;
		case '#':
			g->kind = T_SECTION;
			break;
		case '^':
			g->kind = T_INVERTED;
			break;
		case '/':
			g->kind = T_CLOSE;
			break;
		case '&':
			g->kind = T_RAW;
			break;
		case '>':
			return fail(err, errlen, ts, "partials ({{>name}}) are not supported");
		case '=':
			return fail(err, errlen, ts,
			            "delimiter changes ({{=...=}}) are not supported");
		}
		if (g->kind != T_VAR)
			p++;
	}
	while (p < ce && blank(s[p]))
		p++;
	while (ce > p && blank(s[ce - 1]))
		ce--;
	g->name = p;
	g->nlen = ce - p;
	if (g->nlen == 0)
		return fail(err, errlen, ts, "a tag without a name");
	if (g->nlen > CIVIC_TEMPLATE_NAME_MAX)
		return fail(err, errlen, ts, "a tag name longer than %d bytes",
		            CIVIC_TEMPLATE_NAME_MAX);
	if (!name_ok(s + p, g->nlen))
		return fail(err, errlen, ts, "a tag name not made of [A-Za-z0-9_-] and dots");
	return true;
}

/* A section, inverted, close or comment tag alone on its line (but for
 * blanks) takes the whole line with it: [*from, *to) is what to drop.
 * cur is where the text after the previous tag starts. */
static bool standalone(const char *s, size_t len, size_t cur, size_t ts, const struct tag *g,
                       size_t *from, size_t *to)
{
	size_t b = ts, e = g->end;

	if (g->kind == T_VAR || g->kind == T_RAW)
		return false;
	while (b > cur && (s[b - 1] == ' ' || s[b - 1] == '\t'))
		b--;
	if (b > 0 && s[b - 1] != '\n')
		return false;
	while (e < len && (s[e] == ' ' || s[e] == '\t'))
		e++;
	if (e < len && s[e] == '\n')
		e++;
	else if (e + 1 < len && s[e] == '\r' && s[e + 1] == '\n')
		e += 2;
	else if (e < len)
		return false;
	*from = b;
	*to = e;
	return true;
}

static bool push_tok(struct tpl *t, const struct tok *k, char *err, size_t errlen)
{
	if (t->ntoks == t->alloc) {
		size_t n = t->alloc ? t->alloc * 2 : 64;
		struct tok *p;

		if (n > SIZE_MAX / sizeof(*p) || (p = realloc(t->toks, n * sizeof(*p))) == NULL)
			return fail(err, errlen, k->off, "out of memory");
		t->toks = p;
		t->alloc = n;
	}
	t->toks[t->ntoks++] = *k;
	return true;
}

static bool push_text(struct tpl *t, size_t from, size_t to, char *err, size_t errlen)
{
	struct tok k = {.kind = T_TEXT, .off = from, .len = to - from};

	return from == to || push_tok(t, &k, err, errlen);
}

/* Pairs a close with the section on top of open[] (the token indices of
 * the sections open at this point). */
static bool close_section(struct tpl *t, struct tok *k, size_t *open, size_t *depth, char *err,
                          size_t errlen)
{
	struct tok *o;

	if (*depth == 0)
		return fail(err, errlen, k->off, "{{/%.*s}} closes no section", (int)k->nlen,
		            t->text + k->name);
	o = &t->toks[open[*depth - 1]];
	if (o->nlen != k->nlen || memcmp(t->text + o->name, t->text + k->name, k->nlen) != 0)
		return fail(err, errlen, k->off, "{{/%.*s}} closes {{%c%.*s}} of byte %zu",
		            (int)k->nlen, t->text + k->name, o->kind == T_SECTION ? '#' : '^',
		            (int)o->nlen, t->text + o->name, o->off);
	(*depth)--;
	k->match = open[*depth];
	o->match = t->ntoks;
	return true;
}

static bool add_tag(struct tpl *t, size_t ts, const struct tag *g, size_t *open, size_t *depth,
                    char *err, size_t errlen)
{
	struct tok k = {.kind = g->kind, .off = ts, .name = g->name, .nlen = g->nlen};

	switch (g->kind) {
	case T_COMMENT:
		return true;
	case T_SECTION:
	case T_INVERTED:
		if (*depth == CIVIC_TEMPLATE_DEPTH_MAX)
			return fail(err, errlen, ts, "sections nested deeper than %d",
			            CIVIC_TEMPLATE_DEPTH_MAX);
		open[(*depth)++] = t->ntoks;
		break;
	case T_CLOSE:
		if (!close_section(t, &k, open, depth, err, errlen))
			return false;
		break;
	default:
		break;
	}
	return push_tok(t, &k, err, errlen);
}

static bool compile(struct tpl *t, char *err, size_t errlen)
{
	size_t open[CIVIC_TEMPLATE_DEPTH_MAX];
	size_t depth = 0, cur = 0, ts, from = 0, to = 0;
	struct tag g = {.kind = T_TEXT};

	while (find_pair(t->text, t->len, cur, '{', &ts)) {
		if (!parse_tag(t->text, t->len, ts, &g, err, errlen))
			return false;
		if (!standalone(t->text, t->len, cur, ts, &g, &from, &to)) {
			from = ts;
			to = g.end;
		}
		if (!push_text(t, cur, from, err, errlen) ||
		    !add_tag(t, ts, &g, open, &depth, err, errlen))
			return false;
		cur = to;
	}
	if (!push_text(t, cur, t->len, err, errlen))
		return false;
	if (depth > 0) {
		const struct tok *o = &t->toks[open[depth - 1]];
		return fail(err, errlen, o->off, "{{%c%.*s}} is never closed",
		            o->kind == T_SECTION ? '#' : '^', (int)o->nlen, t->text + o->name);
	}
	return true;
}

/* ---------------------------------------------------------------- rendering */

struct frame {
	size_t open;      /* token index of the section */
	json_object *arr; /* the array iterated over, or NULL */
	size_t idx, n;    /* its current element, its length */
	bool pushed;      /* pushed a context (an inverted section does not) */
};

struct render {
	const struct tpl *t;
	bool html;
	struct civic_buf *out;
	bool oom; /* the last failed add was memory, not the cap */
	json_object *ctx[CIVIC_TEMPLATE_DEPTH_MAX + 1];
	size_t nctx;
	struct frame fr[CIVIC_TEMPLATE_DEPTH_MAX];
	size_t nfr;
};

static bool add(struct render *r, const char *p, size_t n)
{
	if (civic_buf_add(r->out, p, n))
		return true;
	r->oom = n <= r->out->cap - r->out->len;
	return false;
}

static bool add_html(struct render *r, const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		const char *ent;

		switch (s[i]) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			continue;
		}
		if (!add(r, s + run, i - run) || !add(r, ent, strlen(ent)))
			return false;
		run = i + 1;
	}
	return add(r, s + run, n - run);
}

static bool add_value(struct render *r, json_object *v, bool raw)
{
	const char *s;
	size_t n;
	int len;

	switch (json_object_get_type(v)) {
	case json_type_boolean:
		s = json_object_get_boolean(v) ? "true" : "false";
		n = strlen(s);
		break;
	case json_type_int:
	case json_type_double:
		if ((s = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, &n)) ==
		    NULL) {
			r->oom = true;
			return false;
		}
		break;
	case json_type_string:
		s = json_object_get_string(v);
		len = json_object_get_string_len(v);
		n = len > 0 ? (size_t)len : 0;
		break;
	default: /* null, object, array */
		return true;
	}
	return raw || !r->html ? add(r, s, n) : add_html(r, s, n);
}

/* A name's value, or NULL (missing or null): the first segment through
 * the context stack, innermost first, the others inside what it found
 * (Mustache: a broken chain is missing, not looked up further out). */
static json_object *lookup(const struct render *r, const struct tok *k)
{
	char key[CIVIC_TEMPLATE_NAME_MAX + 1];
	char *seg, *next;
	json_object *v = NULL;
	size_t i;

	if (k->nlen == 1 && r->t->text[k->name] == '.')
		return r->ctx[r->nctx - 1];
	memcpy(key, r->t->text + k->name, k->nlen);
	key[k->nlen] = '\0';
	if ((next = strchr(key, '.')) != NULL)
		*next++ = '\0';
	for (i = r->nctx; i > 0; i--)
		if (json_object_is_type(r->ctx[i - 1], json_type_object) &&
		    json_object_object_get_ex(r->ctx[i - 1], key, &v))
			break;
	if (i == 0)
		return NULL;
	for (seg = next; seg != NULL; seg = next) {
		if ((next = strchr(seg, '.')) != NULL)
			*next++ = '\0';
		if (!json_object_is_type(v, json_type_object) ||
		    !json_object_object_get_ex(v, seg, &v))
			return NULL;
	}
	return v;
}

static bool truthy(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_boolean:
		return json_object_get_boolean(v);
	case json_type_int:
		return json_object_get_int64(v) != 0;
	case json_type_double:
		return json_object_get_double(v) != 0.0;
	case json_type_string:
		return json_object_get_string_len(v) > 0;
	case json_type_array:
		return json_object_array_length(v) > 0;
	case json_type_object:
		return true;
	default:
		return false;
	}
}

/* compile() paired every section with a close no deeper than
 * CIVIC_TEMPLATE_DEPTH_MAX, so the stacks cannot overflow; the checks
 * keep a bug here from writing past them. */
static bool enter(struct render *r, size_t i, json_object *arr, json_object *push, bool pushed)
{
	if (r->nfr == CIVIC_TEMPLATE_DEPTH_MAX || r->nctx == CIVIC_TEMPLATE_DEPTH_MAX + 1)
		return false;
	r->fr[r->nfr++] = (struct frame){.open = i,
	                                 .arr = arr,
	                                 .n = arr ? json_object_array_length(arr) : 0,
	                                 .pushed = pushed};
	if (pushed)
		r->ctx[r->nctx++] = push;
	return true;
}

/* The token after the close at i: the section's first again while its
 * array has elements left, else the one after the close. */
static bool leave(struct render *r, size_t i, size_t *next)
{
	struct frame *f;

	if (r->nfr == 0 || r->fr[r->nfr - 1].open != r->t->toks[i].match)
		return false;
	f = &r->fr[r->nfr - 1];
	if (f->arr && ++f->idx < f->n) {
		r->ctx[r->nctx - 1] = json_object_array_get_idx(f->arr, f->idx);
		*next = f->open + 1;
		return true;
	}
	if (f->pushed)
		r->nctx--;
	r->nfr--;
	*next = i + 1;
	return true;
}

/* Renders the token at i and says which comes next. */
static bool step(struct render *r, size_t i, size_t *next)
{
	const struct tok *k = &r->t->toks[i];
	json_object *v;

	*next = i + 1;
	switch (k->kind) {
	case T_TEXT:
		return add(r, r->t->text + k->off, k->len);
	case T_VAR:
	case T_RAW:
		return add_value(r, lookup(r, k), k->kind == T_RAW);
	case T_SECTION:
		v = lookup(r, k);
		if (!truthy(v))
			*next = k->match + 1;
		else if (json_object_is_type(v, json_type_array))
			return enter(r, i, v, json_object_array_get_idx(v, 0), true);
		else
			return enter(r, i, NULL, v, true);
		return true;
	case T_INVERTED:
		if (truthy(lookup(r, k)))
			*next = k->match + 1;
		else
			return enter(r, i, NULL, NULL, false);
		return true;
	case T_CLOSE:
		return leave(r, i, next);
	default:
		return false;
	}
}

static bool run(struct render *r, char *err, size_t errlen)
{
	size_t steps = 0, next;

	for (size_t i = 0; i < r->t->ntoks; i = next) {
		const struct tok *k = &r->t->toks[i];

		if (++steps > CIVIC_TEMPLATE_STEPS_MAX)
			return fail(err, errlen, k->off, "more than %u rendering steps",
			            CIVIC_TEMPLATE_STEPS_MAX);
		r->oom = false;
		if (step(r, i, &next))
			continue;
		if (k->kind == T_TEXT || k->kind == T_VAR || k->kind == T_RAW)
			return r->oom ? fail(err, errlen, k->off, "out of memory")
			              : fail(err, errlen, k->off,
			                     "output beyond the cap of %zu bytes", r->out->cap);
		return fail(err, errlen, k->off, "internal error: section stack");
	}
	return true;
}

bool civic_template_check(const char *text, size_t len, char *err, size_t errlen)
{
	struct tpl t = {.text = text ? text : "", .len = len};
	bool ok;

	if (err && errlen)
		err[0] = '\0';
	if (text == NULL && len > 0)
		return fail(err, errlen, 0, "no template text");
	ok = compile(&t, err, errlen);
	free(t.toks);
	return ok;
}

bool civic_template_render(const char *text, size_t len, json_object *ctx, enum civic_escape esc,
                           struct civic_buf *out, char *err, size_t errlen)
{
	struct tpl t = {.text = text ? text : "", .len = len};
	struct render r = {
	        .t = &t, .html = esc != CIVIC_ESCAPE_NONE, .out = out, .ctx = {ctx}, .nctx = 1};
	bool ok;

	if (err && errlen)
		err[0] = '\0';
	if (text == NULL && len > 0)
		return fail(err, errlen, 0, "no template text");
	ok = compile(&t, err, errlen) && run(&r, err, errlen);
	free(t.toks);
	return ok;
}

/* ---------------------------------------------------------------- files */

static bool filename_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CIVIC_TEMPLATE_FILENAME_MAX || strstr(name, "..") != NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char((unsigned char)name[i]) && name[i] != '.')
			return false;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Reads the whole regular file at path into a malloced *text. O_NONBLOCK
 * keeps a FIFO put in its place from blocking the open. */
static bool slurp(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *p = NULL;
	size_t n = 0;
	ssize_t got;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot stat: %s", strerror(errno));
		goto bad;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		goto bad;
	}
	if (st.st_size > (off_t)CIVIC_TEMPLATE_FILE_MAX) {
		snprintf(err, errlen, "larger than %u bytes", CIVIC_TEMPLATE_FILE_MAX);
		goto bad;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto bad;
	}
	/* A file that shrinks meanwhile ends early; one that grows is read
	 * up to the size it had. */
	while (n < (size_t)st.st_size) {
		got = read(fd, p + n, (size_t)st.st_size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "cannot read: %s", strerror(errno));
			goto bad;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	*text = p;
	*len = n;
	return true;
bad:
	free(p);
	close(fd);
	return false;
}

bool civic_template_render_file(const char *dir, const char *name, json_object *ctx,
                                struct civic_buf *out, char *err, size_t errlen)
{
	char path[4096], why[256];
	char *text = NULL;
	size_t len = 0;
	bool ok = false;
	int n;

	why[0] = '\0';
	if (name == NULL || !filename_ok(name)) {
		if (err && errlen)
			snprintf(err, errlen, "template name refused: not a plain file name");
		return false;
	}
	n = snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", name);
	if (n < 0 || (size_t)n >= sizeof(path))
		snprintf(why, sizeof(why), "path too long");
	else if (slurp(path, &text, &len, why, sizeof(why)))
		ok = civic_template_render(text, len, ctx,
		                           ends_with(name, ".html") ? CIVIC_ESCAPE_HTML
		                                                    : CIVIC_ESCAPE_NONE,
		                           out, why, sizeof(why));
	if (!ok && err && errlen)
		snprintf(err, errlen, "%s: %s", name, why);
	free(text);
	return ok;
}
