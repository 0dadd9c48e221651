/* The one checked number parser (STYLE.md 7): every number that comes
 * from a request, a header, a file or the database goes through here. */
#ifndef CIVIC_NUM_H
#define CIVIC_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses the whole of s[0..len) as a base-10 integer in [min, max]:
 * optional '-', digits only, no spaces, no '+', no leading zeros beyond
 * "0", no "-0". Returns false on anything else; *out is set only on success. */
bool civic_num_parse(const char *s, size_t len, int64_t min, int64_t max, int64_t *out);
/* The same for a NUL-terminated string; s may be NULL (false). */
bool civic_num_parse_str(const char *s, int64_t min, int64_t max, int64_t *out);

#endif
