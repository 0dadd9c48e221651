#include "timeutil.h"

#include <stdio.h>
#include <string.h>


time_t civic_time_next_midnight(time_t t)
{
	return t - (t % 86400) + 86400;
}

void civic_time_day(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%d", &tm);
}

void civic_time_rfc3339(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

void civic_time_datetime(time_t t, char *out, size_t outlen)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Fixed-width digit field: dates carry leading zeros ("05"), which the
 * general number parser refuses on purpose. */
static int field(const char *s, size_t off, size_t n, int min, int max, int *out)
{
	int acc = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[off + i];
		if (c < '0' || c > '9')
			return 0;
		acc = acc * 10 + (c - '0');
	}
	if (acc < min || acc > max)
		return 0;
	*out = acc;
	return 1;
}

int civic_time_parse(const char *s, time_t *out)
{
	struct tm tm;
	size_t len;
	int y, mo, d, h, mi, se;

	if (s == NULL)
		return 0;
	len = strlen(s);
	if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
	    s[13] != ':' || s[16] != ':')
		return 0;
	if (!field(s, 0, 4, 1970, 9999, &y) || !field(s, 5, 2, 1, 12, &mo) ||
	    !field(s, 8, 2, 1, 31, &d) || !field(s, 11, 2, 0, 23, &h) ||
	    !field(s, 14, 2, 0, 59, &mi) || !field(s, 17, 2, 0, 60, &se))
		return 0;
	if (!(len == 19 || (len == 20 && s[19] == 'Z') ||
	      (len == 25 && strcmp(s + 19, "+00:00") == 0)))
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = timegm(&tm);
	/* timegm() normalises 2025-02-30 to March: refuse such dates. */
	gmtime_r(out, &tm);
	return tm.tm_year == y - 1900 && tm.tm_mon == mo - 1 && tm.tm_mday == d;
}

/* Seconds east of UTC of "Z" or "+HH:MM"/"-HH:MM"; false otherwise. */
static int offset(const char *s, long *out)
{
	int h, m;

	if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
		*out = 0;
		return 1;
	}
	if ((s[0] != '+' && s[0] != '-') || strlen(s) != 6 || s[3] != ':' ||
	    !field(s, 1, 2, 0, 23, &h) || !field(s, 4, 2, 0, 59, &m))
		return 0;
	*out = (s[0] == '-' ? -1L : 1L) * (h * 3600L + m * 60L);
	return 1;
}

int civic_time_parse_rfc3339(const char *s, time_t *out)
{
	/* 9999-12-31T23:59:59Z, the last second a DATETIME holds. */
	static const time_t last = 253402300799;
	char local[20];
	const char *p;
	time_t t;
	long off;

	if (s == NULL || strlen(s) < 20 || (s[10] != 'T' && s[10] != 't') ||
	    (s[17] == '6' && s[18] == '0'))
		return 0;
	memcpy(local, s, 19);
	local[10] = 'T';
	local[19] = '\0';
	if (!civic_time_parse(local, &t))
		return 0;
	p = s + 19;
	if (*p == '.') {
		size_t digits = strspn(p + 1, "0123456789");
		if (digits == 0)
			return 0;
		p += 1 + digits;
	}
	if (!offset(p, &off))
		return 0;
	t -= off;
	if (t < 0 || t > last)
		return 0;
	*out = t;
	return 1;
}
