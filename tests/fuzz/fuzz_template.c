/* The template renderer (mail bodies, console pages). The first byte
 * picks the escaping; the rest is a template, then optionally a NUL
 * byte and a JSON context. Properties: a template civic_template_check
 * refuses never renders, whatever the data (the whole template is
 * checked first); one it accepts fails to render only for the output
 * cap or the step cap; the output never exceeds its cap; with HTML
 * escaping and no unescaped tag ({{{ }}} or {{& }}), the output has
 * no '<' unless the template text itself holds one (values cannot
 * inject markup). */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "fuzz.h"
#include "template.h"

#define OUT_CAP (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum civic_escape esc;
	const char *text, *nul;
	size_t tlen;
	json_object *ctx = NULL;
	struct civic_buf out;
	char err[256] = "";
	bool checked, rendered;

	if (size < 1 || size > 65536)
		return 0;
	esc = (data[0] & 1) ? CIVIC_ESCAPE_NONE : CIVIC_ESCAPE_HTML;
	text = (const char *)data + 1;
	tlen = size - 1;
	if ((nul = memchr(text, '\0', tlen)) != NULL) {
		json_tokener *tok = json_tokener_new_ex(16);
		if (tok != NULL) {
			ctx = json_tokener_parse_ex(tok, nul + 1, (int)(text + tlen - nul - 1));
			json_tokener_free(tok);
		}
		tlen = (size_t)(nul - text);
	}
	checked = civic_template_check(text, tlen, err, sizeof(err));
	civic_buf_init(&out, OUT_CAP);
	rendered = civic_template_render(text, tlen, ctx, esc, &out, err, sizeof(err));
	FUZZ_ASSERT(out.len <= OUT_CAP);
	if (!checked)
		FUZZ_ASSERT(!rendered);
	if (checked && !rendered)
		FUZZ_ASSERT(strstr(err, "output") != NULL || strstr(err, "step") != NULL ||
		            strstr(err, "memory") != NULL);
	if (rendered && esc == CIVIC_ESCAPE_HTML && memchr(text, '<', tlen) == NULL &&
	    memchr(text, '&', tlen) == NULL && memmem(text, tlen, "{{{", 3) == NULL)
		FUZZ_ASSERT(out.len == 0 || memchr(out.data, '<', out.len) == NULL);
	if (!rendered)
		FUZZ_ASSERT(err[0] != '\0');
	civic_buf_free(&out);
	json_object_put(ctx);
	return 0;
}
