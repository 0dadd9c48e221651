#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void civic_buf_init(struct civic_buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

static bool grow(struct civic_buf *b, size_t need)
{
	size_t n;
	char *p;

	if (need > b->cap)
		return false;
	if (need + 1 <= b->alloc)
		return true;
	n = b->alloc ? b->alloc : 256;
	while (n < need + 1)
		n *= 2;
	if (n > b->cap + 1)
		n = b->cap + 1;
	if ((p = realloc(b->data, n)) == NULL)
		return false;
	b->data = p;
	b->alloc = n;
	return true;
}

bool civic_buf_add(struct civic_buf *b, const void *p, size_t n)
{
	if (n > b->cap - b->len || !grow(b, b->len + n))
		return false;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

bool civic_buf_adds(struct civic_buf *b, const char *s)
{
	return civic_buf_add(b, s, strlen(s));
}

bool civic_buf_printf(struct civic_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char small[256];

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	if ((size_t)n < sizeof(small))
		return civic_buf_add(b, small, (size_t)n);
	if ((size_t)n > b->cap - b->len || !grow(b, b->len + (size_t)n))
		return false;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return true;
}

void civic_buf_reset(struct civic_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void civic_buf_free(struct civic_buf *b)
{
	free(b->data);
	civic_buf_init(b, b->cap);
}

const char *civic_buf_str(const struct civic_buf *b)
{
	return b->data ? b->data : "";
}
