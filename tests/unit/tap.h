/* A tiny header-only TAP producer for the unit tests, read by automake's
 * tap-driver.sh. No external test library: plan(), ok(), is_int(),
 * is_str(), diag() and done_testing(), which returns the exit status.
 *
 *   int main(void) { plan(2); ok(1 + 1 == 2, "adds"); is_int(f(), 3, "f");
 *                    return done_testing(); }
 *
 * Without plan(), done_testing() prints the plan at the end (TAP allows
 * a trailing plan). Diagnostics go to stdout as '#' lines so they stay
 * next to the failing test in the .log file. */
#ifndef CIVIC_TAP_H
#define CIVIC_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define TAP_UNUSED __attribute__((unused))

static int tap_planned = -1; /* -1: no plan yet */
static int tap_run;
static int tap_failed;

static TAP_UNUSED void plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static TAP_UNUSED __attribute__((format(printf, 1, 2))) void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Prints a description on one line: control bytes, non-ASCII bytes and
 * '\\' are escaped, and '#' too, since it would start a TAP directive. */
static TAP_UNUSED void tap_put_escaped(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\r')
			fputs("\\r", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p == '#' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

static TAP_UNUSED __attribute__((format(printf, 4, 0))) int
tap_vok(int cond, const char *file, int line, const char *fmt, va_list ap)
{
	char desc[1024];

	vsnprintf(desc, sizeof(desc), fmt, ap);
	tap_run++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	tap_put_escaped(desc);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   Failed test at %s line %d.\n", file, line);
	}
	fflush(stdout);
	return cond;
}

static TAP_UNUSED __attribute__((format(printf, 4, 5))) int tap_ok(int cond, const char *file,
                                                                   int line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(cond, file, line, fmt, ap);
	va_end(ap);
	return r;
}

static TAP_UNUSED __attribute__((format(printf, 5, 6))) int
tap_is_int(intmax_t got, intmax_t want, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(got == want, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#          got: %jd\n#     expected: %jd\n", got, want);
	return r;
}

static TAP_UNUSED __attribute__((format(printf, 5, 6))) int
tap_is_str(const char *got, const char *want, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int r, same;

	same = (got == NULL || want == NULL) ? got == want : strcmp(got, want) == 0;
	va_start(ap, fmt);
	r = tap_vok(same, file, line, fmt, ap);
	va_end(ap);
	if (!r) {
		printf("#          got: ");
		if (got) {
			putchar('\'');
			tap_put_escaped(got);
			putchar('\'');
		} else
			printf("NULL");
		printf("\n#     expected: ");
		if (want) {
			putchar('\'');
			tap_put_escaped(want);
			putchar('\'');
		} else
			printf("NULL");
		printf("\n");
	}
	return r;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)                                                                     \
	tap_is_int((intmax_t)(got), (intmax_t)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)

/* Prints the trailing plan if none was given; returns the exit status:
 * 0 only if every test passed and the count matches the plan. */
static TAP_UNUSED int done_testing(void)
{
	if (tap_planned < 0) {
		printf("1..%d\n", tap_run);
		tap_planned = tap_run;
	} else if (tap_planned != tap_run) {
		diag("Looks like you planned %d tests but ran %d.", tap_planned, tap_run);
	}
	if (tap_failed)
		diag("Looks like you failed %d test%s of %d.", tap_failed,
		     tap_failed == 1 ? "" : "s", tap_run);
	fflush(stdout);
	return (tap_failed == 0 && tap_planned == tap_run) ? 0 : 1;
}

#endif
