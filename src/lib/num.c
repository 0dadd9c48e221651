#include "num.h"

#include <string.h>

bool civic_num_parse(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
	bool neg = false;
	uint64_t v = 0, limit;
	size_t i = 0;

	if (s == NULL || len == 0)
		return false;
	if (s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == len || len - i > 19)
		return false;
	if (s[i] == '0' && (len - i > 1 || neg))
		return false; /* no leading zeros, no "-0" */
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		unsigned d;
		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (unsigned)(s[i] - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	{
		int64_t r = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
		if (r < min || r > max)
			return false;
		*out = r;
	}
	return true;
}

bool civic_num_parse_str(const char *s, int64_t min, int64_t max, int64_t *out)
{
	return s != NULL && civic_num_parse(s, strlen(s), min, max, out);
}
