#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "num.h"

#ifndef CIVIC_SYSCONFDIR
#define CIVIC_SYSCONFDIR "/etc"
#endif
#ifndef CIVIC_DATADIR
#define CIVIC_DATADIR "/usr/share/civicsentinel"
#endif

/* Raw values as read; files are resolved after parsing. */
struct raw {
	struct civic_config *cfg;
	char *password_file, *pepper_file, *jwt_key_file, *jwt_prev_key_file;
	char *whatsapp_token_file, *smtp_password_file;
	char *bad;            /* first unknown/invalid "section.name", if any */
};

const char *civic_config_path(void)
{
	const char *p = getenv("CIVIC_CONFIG");
	return (p && *p) ? p : CIVIC_SYSCONFDIR "/civicsentinel.conf";
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
}

/* yes/no, true/false, on/off, 1/0 */
static bool parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false",
	                                                                             "off", "0"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(v, yes[i]) == 0)
			return (*out = true);
		if (strcmp(v, no[i]) == 0)
			return !(*out = false);
	}
	return false;
}

static int on_value(void *user, const char *sec, const char *name, const char *value)
{
	struct raw *r = user;
	struct civic_config *c = r->cfg;
	int64_t n;

#define IS(s, k) (strcmp(sec, s) == 0 && strcmp(name, k) == 0)
	if (IS("database", "socket"))
		set_str(&c->db_socket, value);
	else if (IS("database", "host"))
		set_str(&c->db_host, value);
	else if (IS("database", "port") && civic_num_parse_str(value, 1, 65535, &n))
		c->db_port = (unsigned)n;
	else if (IS("database", "name"))
		set_str(&c->db_name, value);
	else if (IS("database", "user"))
		set_str(&c->db_user, value);
	else if (IS("database", "password_file"))
		set_str(&r->password_file, value);
	else if (IS("api", "environment") && (!strcmp(value, "live") || !strcmp(value, "test")))
		set_str(&c->environment, value);
	else if (IS("api", "base_url"))
		set_str(&c->base_url, value);
	else if (IS("api", "pepper_file"))
		set_str(&r->pepper_file, value);
	else if (IS("api", "jwt_key_file"))
		set_str(&r->jwt_key_file, value);
	else if (IS("api", "jwt_previous_key_file"))
		set_str(&r->jwt_prev_key_file, value);
	else if (IS("api", "token_lifetime") && civic_num_parse_str(value, 60, 86400, &n))
		c->token_lifetime = (long)n;
	else if (IS("api", "supported_countries"))
		set_str(&c->supported_countries, value);
	else if (IS("api", "iso_3166_file"))
		set_str(&c->iso_3166_file, value);
	else if (IS("limits", "anonymous_per_hour") && civic_num_parse_str(value, 1, 1000000, &n))
		c->anonymous_per_hour = (long)n;
	else if (IS("alerts", "allow_http_webhooks") && parse_bool(value, &c->allow_http_webhooks))
		;
	else if (IS("alerts", "outbound_allow"))
		set_str(&c->outbound_allow, value);
	else if (IS("alerts", "confirm_link_hours") && civic_num_parse_str(value, 1, 720, &n))
		c->confirm_link_hours = (long)n;
	else if (IS("whatsapp", "gateway_url"))
		set_str(&c->whatsapp_gateway_url, value);
	else if (IS("whatsapp", "token_file"))
		set_str(&r->whatsapp_token_file, value);
	else if (IS("whatsapp", "timeout") && civic_num_parse_str(value, 1, 60, &n))
		c->whatsapp_timeout = (long)n;
	else if (IS("smtp", "url"))
		set_str(&c->smtp_url, value);
	else if (IS("smtp", "from"))
		set_str(&c->smtp_from, value);
	else if (IS("smtp", "from_name"))
		set_str(&c->smtp_from_name, value);
	else if (IS("smtp", "user"))
		set_str(&c->smtp_user, value);
	else if (IS("smtp", "password_file"))
		set_str(&r->smtp_password_file, value);
	else if (IS("smtp", "starttls") && parse_bool(value, &c->smtp_starttls))
		;
	else if (IS("smtp", "timeout") && civic_num_parse_str(value, 1, 600, &n))
		c->smtp_timeout = (long)n;
	else if (IS("dispatch", "concurrency") && civic_num_parse_str(value, 1, 1024, &n))
		c->dispatch_concurrency = (long)n;
	else if (IS("dispatch", "lease_seconds") && civic_num_parse_str(value, 2, 86400, &n))
		c->dispatch_lease = (long)n;
	else if (IS("dispatch", "run_seconds") && civic_num_parse_str(value, 1, 86400, &n))
		c->dispatch_run_seconds = (long)n;
	else if (IS("dispatch", "linger_seconds") && civic_num_parse_str(value, 0, 600, &n))
		c->dispatch_linger = (long)n;
	else if (IS("dispatch", "webhook_timeout") && civic_num_parse_str(value, 1, 60, &n))
		c->webhook_timeout = (long)n;
	else if (IS("billing", "grace_days") && civic_num_parse_str(value, 0, 90, &n))
		c->billing_grace_days = (long)n;
	else if (IS("console", "session_hours") && civic_num_parse_str(value, 1, 720, &n))
		c->console_session_hours = (long)n;
	else if (IS("console", "login_failures_per_account") &&
	         civic_num_parse_str(value, 1, 1000, &n))
		c->console_login_failures_account = (long)n;
	else if (IS("console", "login_failures_per_ip") && civic_num_parse_str(value, 1, 1000000, &n))
		c->console_login_failures_ip = (long)n;
	else if (IS("console", "signups_per_ip") && civic_num_parse_str(value, 1, 1000000, &n))
		c->console_signups_ip = (long)n;
	else if (IS("console", "mails_per_account") && civic_num_parse_str(value, 1, 100, &n))
		c->console_mails_account = (long)n;
	else if (IS("paths", "sql_dir"))
		set_str(&c->sql_dir, value);
	else if (IS("paths", "templates_dir"))
		set_str(&c->templates_dir, value);
	else if (IS("log", "level") && civic_num_parse_str(value, 0, 3, &n))
		c->log_level = (int)n;
	else {
		if (r->bad == NULL) {
			size_t len = strlen(sec) + strlen(name) + 2;
			if ((r->bad = malloc(len)) != NULL)
				snprintf(r->bad, len, "%s.%s", sec, name);
		}
		return 0;
	}
#undef IS
	return 1;
}

bool civic_secret_load(const char *path, size_t min, struct civic_secret *out, char *err,
                       size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd;

	out->len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		snprintf(err, errlen, "cannot open secret file %s: %s", path, strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "secret file %s is not a regular file", path);
		goto fail;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "secret file %s is accessible by group or others; chmod 600 it",
		         path);
		goto fail;
	}
	n = read(fd, out->bytes, sizeof(out->bytes));
	if (n < 0 || (size_t)n >= sizeof(out->bytes)) {
		snprintf(err, errlen, "secret file %s is unreadable or larger than %d bytes", path,
		         CIVIC_SECRET_MAX - 1);
		goto fail;
	}
	if (n > 0 && out->bytes[n - 1] == '\n')
		n--;
	if ((size_t)n < min) {
		snprintf(err, errlen, "secret file %s holds %zd bytes; at least %zu are required", path,
		         n, min);
		goto fail;
	}
	out->len = (size_t)n;
	close(fd);
	return true;
fail:
	close(fd);
	return false;
}

static bool load_password(const char *path, char **out, char *err, size_t errlen)
{
	struct civic_secret s;

	if (!civic_secret_load(path, 1, &s, err, errlen))
		return false;
	if (memchr(s.bytes, '\0', s.len) != NULL) {
		explicit_bzero(&s, sizeof(s));
		snprintf(err, errlen, "password file %s contains a NUL byte", path);
		return false;
	}
	*out = strndup((const char *)s.bytes, s.len);
	explicit_bzero(&s, sizeof(s));
	return *out != NULL;
}

static bool defaults(struct civic_config *c)
{
	const struct {
		char **field;
		const char *value;
	} d[] = {
		{&c->db_host, "localhost"},
		{&c->db_name, "civic"},
		{&c->db_user, "civic"},
		{&c->environment, "test"},
		{&c->base_url, "http://127.0.0.1:8080"},
		{&c->supported_countries, "*"},
		{&c->outbound_allow, ""},
		{&c->smtp_from, "civic@localhost"},
		{&c->smtp_from_name, "Civic Sentinel"},
		{&c->iso_3166_file, "/usr/share/iso-codes/json/iso_3166-1.json"},
		{&c->sql_dir, CIVIC_DATADIR "/sql"},
		{&c->templates_dir, CIVIC_DATADIR "/templates"},
	};
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (*d[i].field == NULL && (*d[i].field = strdup(d[i].value)) == NULL)
			return false;
	/* The base URL is joined with paths: keep it without a final '/'. */
	for (size_t n = strlen(c->base_url); n > 0 && c->base_url[n - 1] == '/'; n--)
		c->base_url[n - 1] = '\0';
	return true;
}

bool civic_config_load(const char *path, bool need_secrets, struct civic_config *cfg,
                       char *err, size_t errlen)
{
	struct raw r = {.cfg = cfg};
	bool ok = false;
	int line;

	memset(cfg, 0, sizeof(*cfg));
	cfg->db_port = 3306;
	cfg->token_lifetime = 900;
	cfg->log_level = CIVIC_LOG_INFO;
	cfg->anonymous_per_hour = 30;
	cfg->confirm_link_hours = 72;
	cfg->whatsapp_timeout = 10;
	cfg->billing_grace_days = 7;
	cfg->smtp_starttls = true;
	cfg->smtp_timeout = 30;
	cfg->dispatch_concurrency = 64;
	cfg->dispatch_lease = 300;
	cfg->dispatch_run_seconds = 50;
	cfg->dispatch_linger = 10;
	cfg->webhook_timeout = 15;
	cfg->console_session_hours = 12;
	cfg->console_login_failures_account = 5;
	cfg->console_login_failures_ip = 50;
	cfg->console_signups_ip = 10;
	cfg->console_mails_account = 3;
	errno = 0;
	line = ini_parse(path, on_value, &r);
	if (line < 0) {
		/* -1: fopen failed (errno says why: missing, or not readable by
		 * the user the programs run as), -2: out of memory. */
		snprintf(err, errlen, "cannot read config file %s: %s", path,
		         line == -1 && errno ? strerror(errno) : "out of memory");
		goto out;
	}
	if (line > 0) {
		snprintf(err, errlen, "%s:%d: unknown or invalid setting %s", path, line,
		         r.bad ? r.bad : "(syntax error)");
		goto out;
	}
	if (!defaults(cfg)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (r.password_file && !load_password(r.password_file, &cfg->db_password, err, errlen))
		goto out;
	if (r.smtp_password_file &&
	    !load_password(r.smtp_password_file, &cfg->smtp_password, err, errlen))
		goto out;
	if (need_secrets) {
		if (!r.pepper_file || !r.jwt_key_file) {
			snprintf(err, errlen, "%s: [api] pepper_file and jwt_key_file are required", path);
			goto out;
		}
		if (!civic_secret_load(r.pepper_file, CIVIC_SECRET_MIN, &cfg->pepper, err, errlen) ||
		    !civic_secret_load(r.jwt_key_file, CIVIC_SECRET_MIN, &cfg->jwt_key, err, errlen))
			goto out;
		if (r.jwt_prev_key_file && *r.jwt_prev_key_file &&
		    !civic_secret_load(r.jwt_prev_key_file, CIVIC_SECRET_MIN, &cfg->jwt_prev_key, err,
		                       errlen))
			goto out;
		if (cfg->whatsapp_gateway_url && *cfg->whatsapp_gateway_url &&
		    !r.whatsapp_token_file) {
			snprintf(err, errlen, "%s: [whatsapp] gateway_url needs token_file", path);
			goto out;
		}
		if (r.whatsapp_token_file &&
		    !civic_secret_load(r.whatsapp_token_file, 16, &cfg->whatsapp_token, err, errlen))
			goto out;
	}
	ok = true;
out:
	free(r.password_file);
	free(r.pepper_file);
	free(r.jwt_key_file);
	free(r.jwt_prev_key_file);
	free(r.whatsapp_token_file);
	free(r.smtp_password_file);
	free(r.bad);
	if (!ok)
		civic_config_free(cfg);
	return ok;
}

void civic_config_free(struct civic_config *c)
{
	char **strs[] = {&c->db_socket, &c->db_host, &c->db_name, &c->db_user,
	                 &c->db_password, &c->environment, &c->base_url,
	                 &c->supported_countries, &c->iso_3166_file, &c->sql_dir,
	                 &c->templates_dir, &c->outbound_allow, &c->whatsapp_gateway_url,
	                 &c->smtp_url, &c->smtp_from, &c->smtp_from_name, &c->smtp_user,
	                 &c->smtp_password};

	if (c->db_password)
		explicit_bzero(c->db_password, strlen(c->db_password));
	if (c->smtp_password)
		explicit_bzero(c->smtp_password, strlen(c->smtp_password));
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	explicit_bzero(&c->pepper, sizeof(c->pepper));
	explicit_bzero(&c->jwt_key, sizeof(c->jwt_key));
	explicit_bzero(&c->jwt_prev_key, sizeof(c->jwt_prev_key));
	explicit_bzero(&c->whatsapp_token, sizeof(c->whatsapp_token));
}
