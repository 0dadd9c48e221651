/* One logging call (STYLE.md 10): place, level and the current request
 * id, to stderr (the web server's error log). Never pass a secret,
 * token, password or key secret to it. */
#ifndef CIVIC_LOG_H
#define CIVIC_LOG_H

enum civic_log_level { CIVIC_LOG_ERROR, CIVIC_LOG_WARN, CIVIC_LOG_INFO, CIVIC_LOG_DEBUG };

void civic_log_setup(const char *program, enum civic_log_level max);
/* The request id logged with every line until the next call; id may be
 * NULL (none). The string is copied. */
void civic_log_set_request_id(const char *id);
void civic_log_at(enum civic_log_level lvl, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define civic_log_error(...) civic_log_at(CIVIC_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define civic_log_warn(...) civic_log_at(CIVIC_LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define civic_log_info(...) civic_log_at(CIVIC_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define civic_log_debug(...) civic_log_at(CIVIC_LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)

#endif
