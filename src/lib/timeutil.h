/* UTC calendar helpers for quotas and timestamps. */
#ifndef CIVIC_TIMEUTIL_H
#define CIVIC_TIMEUTIL_H

#include <stddef.h>
#include <time.h>

/* Epoch seconds of the next 00:00 UTC after t. */
time_t civic_time_next_midnight(time_t t);
/* "YYYY-MM-DD" of t in UTC into out (at least 11 bytes). */
void civic_time_day(time_t t, char *out, size_t outlen);
/* RFC 3339 "YYYY-MM-DDTHH:MM:SS+00:00" of t into out (at least 26 bytes). */
void civic_time_rfc3339(time_t t, char *out, size_t outlen);
/* "YYYY-MM-DD HH:MM:SS" of t in UTC, as a DATETIME parameter, into out
 * (at least 20 bytes). */
void civic_time_datetime(time_t t, char *out, size_t outlen);
/* Parses "YYYY-MM-DD HH:MM:SS" (as MariaDB prints DATETIME, UTC) or the
 * RFC 3339 forms "YYYY-MM-DDTHH:MM:SSZ" / "...+00:00". False on error. */
int civic_time_parse(const char *s, time_t *out);
/* Parses an RFC 3339 date-time with any offset: "YYYY-MM-DDTHH:MM:SS",
 * an optional fraction (dropped: times are kept to the second), then
 * "Z" or "+HH:MM"/"-HH:MM" ('T' and 'Z' in either case). The result,
 * in UTC, must lie within 1970..9999. False on anything else. */
int civic_time_parse_rfc3339(const char *s, time_t *out);

#endif
