#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "civic";
static enum civic_log_level maxlvl = CIVIC_LOG_INFO;
static char rid[65];

void civic_log_setup(const char *program, enum civic_log_level max)
{
	prog = program;
	maxlvl = max;
}

void civic_log_set_request_id(const char *id)
{
	snprintf(rid, sizeof(rid), "%s", id ? id : "");
}

void civic_log_at(enum civic_log_level lvl, const char *file, int line, const char *fmt, ...)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	char msg[1024], stamp[32];
	va_list ap;
	time_t now = time(NULL);
	struct tm tm;

	if (lvl > maxlvl)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One line per record: a value with a newline cannot forge entries. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %s[%ld] %s %s:%d%s%s: %s\n", stamp, prog, (long)getpid(),
	        names[lvl], file, line, rid[0] ? " rid=" : "", rid, msg);
}
