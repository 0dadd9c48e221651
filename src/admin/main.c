/* civic-admin [--config FILE] [--json] COMMAND ...: one table routes
 * the commands (STYLE.md 2); each handler declares its options in a
 * table that admin_parse_opts checks once (STYLE.md 1). */
#include <getopt.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "log.h"
#include "num.h"
#include "scopes.h"
#include "timeutil.h"

#define PROG "civic-admin"
#define MAX_OPTS 16

static const struct admin_cmd commands[] = {
	{{"migrate", NULL}, admin_migrate, false, "",
	 "apply the migrations in sql_dir that the database lacks"},
	{{"account", "create"}, admin_account_create, false,
	 "--email EMAIL --password PASSWORD [--plan SLUG]",
	 "create an account with a verified address (plan free unless --plan)"},
	{{"account", "limits"}, admin_account_limits, false,
	 "--account ID [--requests-per-day N|default] [--requests-per-minute N|default]",
	 "override the plan's request limits for one account; 'default' removes an override"},
	{{"app", "create"}, admin_app_create, false, "--account ID --name NAME",
	 "create an application, within the plan's max_apps"},
	{{"key", "issue"}, admin_key_issue, true,
	 "--app ID --scopes LIST|all [--name NAME] [--expires-days N]",
	 "issue a key pair (scopes comma-separated; all = every scope of the plan); "
	 "the secret is shown once"},
	{{"key", "revoke"}, admin_key_revoke, false, "--key csk_...",
	 "revoke a key at once and for good"},
	{{"key", "rotate"}, admin_key_rotate, true, "--key csk_...",
	 "issue a new pair with the same name, scopes and expiry; the old key keeps "
	 "working for 24 h"},
	{{"key", "list"}, admin_key_list, false, "--app ID",
	 "list an application's keys, never their secrets"},
	{{"plan", "list"}, admin_plan_list, false, "", "list the plans and their limits"},
	{{"plan", "set"}, admin_plan_set, false, "--account ID --plan SLUG [--charge]",
	 "move an account to a plan, at once for all its keys; a paid plan starts a "
	 "subscription whose first period is granted, or paid from the coins with --charge"},
	{{"coins", "credit"}, admin_coins_credit, false, "--account ID --coins N [--note TEXT]",
	 "add coins to an account's balance"},
	{{"billing", "renew"}, admin_billing_renew, false, "[--now RFC3339] [--account ID]",
	 "renew the subscriptions whose period ended (daily cron); --now sets the clock, "
	 "--account limits the run to one account"},
	{{"billing", "cancel"}, admin_billing_cancel, false, "--account ID",
	 "cancel an account's subscription at the end of its period"},
	{{"destination", "link"}, admin_destination_link, true, "--destination ID",
	 "print a fresh confirmation link for a pending email destination"},
	{{"risk", "import"}, admin_risk_import, false, "FILE [--format json|csv] [--dry-run]",
	 "import risk assessments; a file with one bad row is refused whole"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void command_line(FILE *f, const struct admin_cmd *c)
{
	fprintf(f, "%s%s%s%s%s", c->words[0], c->words[1] ? " " : "", c->words[1] ? c->words[1] : "",
	        *c->usage ? " " : "", c->usage);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--config FILE] [--json] COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		fprintf(f, "  ");
		command_line(f, &commands[i]);
		fprintf(f, "\n      %s\n", commands[i].help);
	}
	fprintf(f, "\n--config FILE   the configuration (default: $CIVIC_CONFIG, else %s)\n"
	           "--json          print exactly one JSON object on stdout\n"
	           "COMMAND --help  the usage of one command\n\n"
	           "exit status: 0 done, 1 the operation failed, 2 usage error, "
	           "3 configuration or database unavailable\n",
	        CIVIC_SYSCONFDIR "/civicsentinel.conf");
}

static void command_usage(FILE *f, const struct admin_cmd *c)
{
	fprintf(f, "usage: " PROG " [--config FILE] [--json] ");
	command_line(f, c);
	fprintf(f, "\n%s\n", c->help);
}

void admin_error(const struct admin *a, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, PROG ": ");
	if (a && a->name)
		fprintf(stderr, "%s: ", a->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int admin_fail(const struct admin *a, enum civic_err e, const char *what)
{
	if (e == CIVIC_E_UNAVAILABLE) {
		admin_error(a, "%s: the database is unavailable (is MariaDB running? see %s)", what,
		            a->config_path);
		return ADMIN_EXIT_UNAVAILABLE;
	}
	admin_error(a, "%s: %s (%s)", what, civic_err_message(e), civic_err_code(e));
	return ADMIN_EXIT_FAIL;
}

static const char *opt_name(const struct admin_opt *opts, size_t n, const struct option *lo, int val)
{
	if (val >= 256 && (size_t)(val - 256) < n)
		return opts[val - 256].name;
	for (; lo->name; lo++)
		if (lo->val == val)
			return lo->name;
	return "?";
}

/* Stores one option's argument, checking numbers. */
static bool store(struct admin *a, const struct admin_opt *o, const char *arg, struct admin_val *v)
{
	if (v->present) {
		admin_error(a, "--%s given twice", o->name);
		return false;
	}
	v->present = true;
	v->str = arg;
	if (o->type == ADMIN_O_INT && !civic_num_parse_str(arg, o->min, o->max, &v->num)) {
		admin_error(a, "--%s: expected %s (%lld..%lld), got '%s'", o->name, o->what,
		            (long long)o->min, (long long)o->max, arg);
		return false;
	}
	return true;
}

bool admin_parse_opts(struct admin *a, int argc, char **argv, const struct admin_opt *opts,
                      size_t n, struct admin_val *vals, int *rc)
{
	struct option lo[MAX_OPTS + 4];
	size_t k = 0;
	int c;

	*rc = ADMIN_EXIT_USAGE;
	if (n > MAX_OPTS)
		return false;
	for (size_t i = 0; i < n; i++) {
		lo[k++] = (struct option){opts[i].name,
		                          opts[i].type == ADMIN_O_FLAG ? no_argument : required_argument,
		                          NULL, 256 + (int)i};
		vals[i] = (struct admin_val){0};
	}
	/* The global options are accepted after the command words too. */
	lo[k++] = (struct option){"help", no_argument, NULL, 'h'};
	lo[k++] = (struct option){"json", no_argument, NULL, 'j'};
	lo[k++] = (struct option){"config", required_argument, NULL, 'c'};
	lo[k] = (struct option){0};
	optind = 0; /* glibc: rescan from scratch */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			command_usage(stdout, a->cmd);
			*rc = ADMIN_EXIT_OK;
			return false;
		case 'j':
			a->json = true;
			break;
		case 'c':
			a->config_path = optarg;
			break;
		case ':':
			admin_error(a, "--%s needs a value; see " PROG " %s --help",
			            opt_name(opts, n, lo, optopt), a->name);
			return false;
		case '?':
			/* optopt is set for short options and for long ones given a
			 * value they do not take; argv names the rest. */
			if (optopt > 0 && optopt < 256 && strchr("hjc", optopt) == NULL)
				admin_error(a, "unknown option '-%c'; see " PROG " %s --help", optopt,
				            a->name);
			else
				admin_error(a, "invalid option '%s'; see " PROG " %s --help",
				            argv[optind - 1], a->name);
			return false;
		default:
			if (!store(a, &opts[c - 256], optarg, &vals[c - 256]))
				return false;
		}
	}
	if (optind < argc) {
		admin_error(a, "unexpected argument '%s'; see " PROG " %s --help", argv[optind],
		            a->name);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (opts[i].required && !vals[i].present) {
			admin_error(a, "--%s is required; see " PROG " %s --help", opts[i].name, a->name);
			return false;
		}
	*rc = ADMIN_EXIT_OK;
	return true;
}

int admin_open(struct admin *a)
{
	char err[512];
	const char *env = getenv("CIVIC_CONFIG");
	bool fallback = a->config_path == NULL && (env == NULL || *env == '\0');

	if (a->config_path == NULL)
		a->config_path = civic_config_path();
	if (!civic_config_load(a->config_path, a->cmd->need_secrets, &a->cfg, err, sizeof(err))) {
		/* The compiled-in default is rarely what a developer meant. */
		admin_error(a, "%s%s", err, fallback ? " (set CIVIC_CONFIG or pass --config FILE)" : "");
		return ADMIN_EXIT_UNAVAILABLE;
	}
	a->cfg_loaded = true;
	/* The library logs database failures itself; keep info lines out of
	 * a shell user's way. */
	civic_log_setup(PROG, a->cfg.log_level < CIVIC_LOG_WARN ? (enum civic_log_level)a->cfg.log_level
	                                                        : CIVIC_LOG_WARN);
	if ((a->db = civic_db_new(&a->cfg)) == NULL) {
		admin_error(a, "out of memory");
		return ADMIN_EXIT_FAIL;
	}
	return ADMIN_EXIT_OK;
}

int admin_print_json(json_object *obj)
{
	const char *s = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	int rc = ADMIN_EXIT_OK;

	if (s == NULL || puts(s) == EOF || fflush(stdout) != 0)
		rc = ADMIN_EXIT_FAIL;
	json_object_put(obj);
	return rc;
}

const char *admin_time_text(const char *datetime, char out[26])
{
	time_t t;

	if (datetime == NULL)
		return "-";
	if (!civic_time_parse(datetime, &t))
		return datetime;
	civic_time_rfc3339(t, out, 26);
	return out;
}

void admin_json_time(json_object *o, const char *key, const char *datetime)
{
	char buf[26];

	json_object_object_add(o, key,
	                       datetime ? json_object_new_string(admin_time_text(datetime, buf))
	                                : NULL);
}

void admin_json_scopes(json_object *o, const char *key, uint32_t bits)
{
	json_object_object_add(o, key, civic_scopes_json(bits));
}

/* The subcommands of group, for messages: "issue, revoke, rotate, list". */
static void subcommands(const char *group, char *out, size_t len)
{
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < NCOMMANDS && at < len; i++)
		if (commands[i].words[1] && strcmp(commands[i].words[0], group) == 0)
			at += (size_t)snprintf(out + at, len - at, "%s%s", at ? ", " : "",
			                       commands[i].words[1]);
}

/* Finds the command named by argv[0..]; *used is how many words it took.
 * NULL after printing a usage message (or the group's usage for --help,
 * with *help set). */
static const struct admin_cmd *find_command(int argc, char **argv, int *used, bool *help)
{
	bool group = false;
	char subs[128];

	*help = false;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct admin_cmd *c = &commands[i];
		if (strcmp(c->words[0], argv[0]) != 0)
			continue;
		if (c->words[1] == NULL) {
			*used = 1;
			return c;
		}
		group = true;
		if (argc > 1 && strcmp(c->words[1], argv[1]) == 0) {
			*used = 2;
			return c;
		}
	}
	if (!group) {
		admin_error(NULL, "unknown command '%s'; see " PROG " --help", argv[0]);
		return NULL;
	}
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		for (size_t i = 0; i < NCOMMANDS; i++)
			if (strcmp(commands[i].words[0], argv[0]) == 0)
				command_usage(stdout, &commands[i]);
		*help = true;
		return NULL;
	}
	subcommands(argv[0], subs, sizeof(subs));
	if (argc > 1)
		admin_error(NULL, "%s: unknown subcommand '%s' (one of: %s)", argv[0], argv[1], subs);
	else
		admin_error(NULL, "%s: missing subcommand (one of: %s)", argv[0], subs);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option global[] = {
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct admin a = {0};
	char name[64];
	int c, used, rc;
	bool help;

	civic_log_setup(PROG, CIVIC_LOG_WARN);
	if (sodium_init() < 0) {
		admin_error(NULL, "libsodium failed to initialise");
		return ADMIN_EXIT_FAIL;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", global, NULL)) != -1) {
		switch (c) {
		case 'c':
			a.config_path = optarg;
			break;
		case 'j':
			a.json = true;
			break;
		case 'h':
			usage(stdout);
			return ADMIN_EXIT_OK;
		case ':':
			admin_error(NULL, "--config needs a value");
			return ADMIN_EXIT_USAGE;
		default:
			admin_error(NULL, "unknown option '%s'; see " PROG " --help", argv[optind - 1]);
			return ADMIN_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		admin_error(NULL, "no command given; see " PROG " --help");
		return ADMIN_EXIT_USAGE;
	}
	if ((a.cmd = find_command(argc - optind, argv + optind, &used, &help)) == NULL)
		return help ? ADMIN_EXIT_OK : ADMIN_EXIT_USAGE;
	snprintf(name, sizeof(name), "%s%s%s", a.cmd->words[0], a.cmd->words[1] ? " " : "",
	         a.cmd->words[1] ? a.cmd->words[1] : "");
	a.name = name;
	/* The handler sees its last command word as argv[0], like a program. */
	rc = a.cmd->run(&a, argc - optind - used + 1, argv + optind + used - 1);
	civic_db_free(a.db);
	if (a.cfg_loaded)
		civic_config_free(&a.cfg);
	if (fflush(stdout) != 0 && rc == ADMIN_EXIT_OK)
		rc = ADMIN_EXIT_FAIL;
	return rc;
}
