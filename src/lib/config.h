/* civicsentinel.conf: one INI file (read with inih). Path from
 * $CIVIC_CONFIG, else CIVIC_SYSCONFDIR/civicsentinel.conf. */
#ifndef CIVIC_CONFIG_H
#define CIVIC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CIVIC_SECRET_MIN 32
#define CIVIC_SECRET_MAX 1024

struct civic_secret {
	unsigned char bytes[CIVIC_SECRET_MAX];
	size_t len;
};

struct civic_config {
	/* [database] */
	char *db_socket;          /* NULL: use host/port */
	char *db_host;            /* default "localhost" */
	unsigned db_port;         /* default 3306 */
	char *db_name;            /* default "civic" */
	char *db_user;            /* default "civic" */
	char *db_password;        /* from password_file; may be NULL */
	/* [api] */
	char *environment;        /* "live" or "test" */
	char *base_url;           /* no trailing slash */
	struct civic_secret pepper;
	struct civic_secret jwt_key;
	struct civic_secret jwt_prev_key; /* len 0 when not configured */
	long token_lifetime;      /* seconds, default 900 */
	char *supported_countries;/* "*" or "GB,FR,..." */
	char *iso_3166_file;
	/* [limits] */
	long anonymous_per_hour;  /* per client address, default 30 */
	/* [alerts] */
	bool allow_http_webhooks; /* development only: http:// webhook URLs */
	char *outbound_allow;     /* CIDR list the outbound policy lets through
	                             (development: "127.0.0.0/8, ::1/128"); "" */
	long confirm_link_hours;  /* lifetime of emailed links, default 72 */
	/* [whatsapp] */
	char *whatsapp_gateway_url; /* NULL: the gateway is not configured */
	struct civic_secret whatsapp_token; /* len 0 when not configured */
	long whatsapp_timeout;    /* seconds, default 10 */
	/* [smtp] */
	char *smtp_url;           /* smtp://host:port or smtps://…; NULL: mail is not sent */
	char *smtp_from;          /* envelope and From: address, default "civic@localhost" */
	char *smtp_from_name;     /* display name of From:, default "Civic Sentinel" */
	char *smtp_user;          /* NULL: no SMTP authentication */
	char *smtp_password;      /* from password_file */
	bool smtp_starttls;       /* smtp:// must upgrade with STARTTLS (default yes) */
	long smtp_timeout;        /* seconds per message, default 30 */
	/* [dispatch] */
	long dispatch_concurrency;  /* transfers in flight, default 64 */
	long dispatch_lease;        /* seconds a claimed row is ours, default 300 */
	long dispatch_run_seconds;  /* a run stops claiming after this, default 50 */
	long dispatch_linger;       /* wait for rows due this soon, default 10 */
	long webhook_timeout;       /* seconds per webhook delivery, default 15 */
	/* [billing] */
	long billing_grace_days;  /* past_due before demotion, default 7 */
	/* [console]: the web console's session and throttles */
	long console_session_hours;          /* session lifetime, default 12 */
	long console_login_failures_account; /* per address per 15 min, default 5 */
	long console_login_failures_ip;      /* per client address per 15 min, default 50 */
	long console_signups_ip;             /* per client address per hour, default 10 */
	long console_mails_account;          /* verify/reset mails per address per hour, default 3 */
	/* [paths] */
	char *sql_dir;
	char *templates_dir;
	/* [log] */
	int log_level;            /* enum civic_log_level */
};

/* The path of the config file: $CIVIC_CONFIG or the compiled default.
 * Static or environment storage; do not free. */
const char *civic_config_path(void);

/* Loads path into *cfg (zeroed first). On failure returns false and
 * writes a message a deployer can act on into err. need_secrets: also
 * load and check the pepper and JWT key files, and the WhatsApp gateway
 * token file when one is configured (responders and the key commands
 * need them; migrate does not). Free with civic_config_free. */
bool civic_config_load(const char *path, bool need_secrets, struct civic_config *cfg,
                       char *err, size_t errlen);
void civic_config_free(struct civic_config *cfg);

/* Reads a secret file: must be a regular file, not readable or writable
 * by group or others, between CIVIC_SECRET_MIN and CIVIC_SECRET_MAX
 * bytes. A single trailing newline is not part of the secret. */
bool civic_secret_load(const char *path, size_t min, struct civic_secret *out, char *err,
                       size_t errlen);

#endif
