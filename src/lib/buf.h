/* A growable byte buffer with a hard cap (STYLE.md 6, after curl's
 * dynbuf): exceeding the cap is an error, never a silent truncation. */
#ifndef CIVIC_BUF_H
#define CIVIC_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct civic_buf {
	char *data;   /* NUL-terminated when len > 0; NULL until first append */
	size_t len;
	size_t alloc;
	size_t cap;   /* maximum len */
};

void civic_buf_init(struct civic_buf *b, size_t cap);
/* Appends n bytes; false (and b unchanged) if the cap would be exceeded
 * or memory is short. */
bool civic_buf_add(struct civic_buf *b, const void *p, size_t n);
bool civic_buf_adds(struct civic_buf *b, const char *s);
bool civic_buf_printf(struct civic_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Empties b but keeps its memory for reuse. */
void civic_buf_reset(struct civic_buf *b);
/* Frees b's memory; b may be reused after civic_buf_init. */
void civic_buf_free(struct civic_buf *b);
/* The contents as a string; "" when empty. Owned by b. */
const char *civic_buf_str(const struct civic_buf *b);

#endif
