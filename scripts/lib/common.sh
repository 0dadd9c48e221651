# shellcheck shell=bash
# Helpers shared by scripts/run, scripts/test and scripts/stack.
# Source it from bash running with `set -euo pipefail`. Every function is
# idempotent: starting what already runs is a no-op, a dead part (stale
# pid file) is started again.
#
# A stack lives in one VAR directory (layout in docs and CONTRACT):
#   VAR/civicsentinel.conf            generated config
#   VAR/secrets/{pepper,jwt.key,db.password,whatsapp.token}
#   VAR/mysql/                        MariaDB datadir
#   VAR/run/  pid files, mysqld.sock, web.env; fcgi/ (lighttpd's FastCGI
#             sockets), fcgid/ (mod_fcgid's), apache2/ (Apache's runtime)
#   VAR/log/  mysqld.log, lighttpd-*.log and responders.log or apache-*.log,
#             whatsapp-gateway.log, mail-catcher.log, dispatch.log
#             (scripts/run); san/ sanitizer reports (scripts/test --asan)
#   VAR/whatsapp/  the development WhatsApp gateway's groups and messages
#   VAR/mail/ one .eml file per message the development SMTP catcher took
#   VAR/www/  empty document root (lighttpd insists on one)
#   VAR/cgi-www/  the cgi front end's document root: .htaccess, civic-*.cgi
#   VAR/bin/  links to the responders of the build the web server serves

CIVIC_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CIVIC_PY=/usr/bin/python3 # never the pyenv python3 on PATH
# mariadbd and lighttpd live in /usr/sbin, which a non-login shell may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac

# Debian packages the build, the stack and the tests need.
CIVIC_PACKAGES=(
	build-essential autoconf automake libtool pkg-config
	libfcgi-dev libjson-c-dev libjwt-dev libmariadb-dev libcurl4-openssl-dev
	libsodium-dev libinih-dev zlib1g-dev libpwquality-dev cracklib-runtime iso-codes
	mariadb-server mariadb-client mariadb-backup lighttpd apache2 libapache2-mod-fcgid
	python3 python3-pytest python3-aiosmtpd python3-pymysql curl wrk
	nodejs chromium
	clang libclang-rt-14-dev # scripts/fuzz: libFuzzer, ASan, UBSan
)
# npm: Debian's package, unless the nodejs installed brings its own (the
# NodeSource build provides and conflicts with Debian's npm).
command -v npm >/dev/null 2>&1 || CIVIC_PACKAGES+=(npm)

# The responders lighttpd/civicsentinel.conf spawns, in build/src/endpoints.
CIVIC_RESPONDERS=(
	civic-token civic-usage civic-pricing-plans civic-profile
	civic-countries civic-risk-assessments civic-alert-destinations
	civic-alert-subscriptions civic-alert-dispatches civic-subscriptions
	civic-notfound civic-console
)

civic_log() { printf 'civic: %s\n' "$*" >&2; }
civic_die() {
	civic_log "error: $*"
	exit 1
}

# civic_step CMD...: run CMD in a subshell with errexit in force and leave
# its status in CIVIC_RC; always returns 0. Lets scripts/test record a
# failed step and go on. (Calling a function from `if` or `||` would switch
# errexit off inside it, so failures in the middle would go unnoticed.)
civic_step() {
	set +e
	(
		set -e
		"$@"
	)
	# shellcheck disable=SC2034 # read by the callers
	CIVIC_RC=$?
	set -e
}

# ---------------------------------------------------------------- locks
# Daemons started while a lock is held must not inherit the lock's file
# descriptor, or the lock would live as long as the daemon: every daemon
# start below closes fds 8 and 9, the only ones these scripts lock with.

# civic_lock FD FILE: take an exclusive lock on FILE through FD (8 or 9),
# waiting for whoever holds it.
civic_lock() {
	local fd=$1 file=$2
	mkdir -p "$(dirname "$file")"
	eval "exec $fd>\"\$file\""
	if ! flock -n "$fd"; then
		civic_log "waiting for $file (another run holds it)"
		flock "$fd"
	fi
}

civic_unlock() { eval "exec $1>&-"; }

# ------------------------------------------------------------- packages

civic_missing_packages() {
	local pkg status
	for pkg in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
		[[ $status == ii* ]] || printf '%s\n' "$pkg"
	done
}

# Installs only what is missing, so a second run needs no network. Two
# runs at once (.ci/run) take turns: apt holds dpkg's lock, and the
# second finds the first's packages installed.
civic_install_deps() {
	local missing
	mapfile -t missing < <(civic_missing_packages "${CIVIC_PACKAGES[@]}")
	((${#missing[@]} == 0)) && return 0
	civic_lock 8 "$CIVIC_REPO/var/.lock/install"
	mapfile -t missing < <(civic_missing_packages "${CIVIC_PACKAGES[@]}")
	if ((${#missing[@]} > 0)); then
		civic_log "installing: ${missing[*]}"
		local sudo=()
		((EUID == 0)) || sudo=(sudo)
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends "${missing[@]}"
	fi
	civic_unlock 8
}

# ---------------------------------------------------------------- build

civic_build_dir() { # [asan]
	if [[ ${1:-} == asan ]]; then
		printf '%s\n' "$CIVIC_REPO/build-asan"
	else
		printf '%s\n' "$CIVIC_REPO/build"
	fi
}

# Regenerates configure only when configure.ac changed; automake's own
# rebuild rules take care of Makefile.am edits after that.
civic_autoreconf() {
	local repo=$CIVIC_REPO
	if [[ ! -x $repo/configure || $repo/configure.ac -nt $repo/configure ]]; then
		civic_log "autoreconf -fi"
		(cd "$repo" && autoreconf -fi)
	fi
}

# civic_build [asan]: out-of-tree build in build/ or build-asan/.
civic_build() {
	local flavour=${1:-} dir args=()
	dir=$(civic_build_dir "$flavour")
	[[ $flavour == asan ]] && args=(--enable-sanitizers)
	# build/ and build-asan/ share the source tree: one autoreconf at a time.
	civic_lock 8 "$CIVIC_REPO/var/.lock/autoreconf"
	civic_autoreconf
	civic_unlock 8
	mkdir -p "$dir"
	civic_lock 8 "$dir/.build.lock"
	if [[ ! -f $dir/Makefile || $CIVIC_REPO/configure -nt $dir/config.status ]]; then
		civic_log "configuring $dir ${args[*]}"
		(cd "$dir" && ../configure -q "${args[@]}") ||
			civic_die "configure failed, see $dir/config.log"
	fi
	civic_log "building in $dir"
	make -C "$dir" -s -j2 || civic_die "build failed in $dir"
	civic_unlock 8
}

# ------------------------------------------------------------ processes

# civic_pid_alive PIDFILE COMM: true when the pid in PIDFILE is a live
# (not zombie) process named COMM, so a recycled pid never counts.
civic_pid_alive() {
	local pidfile=$1 comm=$2 pid state
	[[ -s $pidfile ]] || return 1
	pid=$(<"$pidfile")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -r /proc/$pid/comm && $(</proc/"$pid"/comm) == "$comm" ]] || return 1
	state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
	[[ -n $state && $state != Z ]]
}

# civic_stop_pid PIDFILE COMM NAME: SIGTERM, wait up to 30 s, then SIGKILL.
civic_stop_pid() {
	local pidfile=$1 comm=$2 name=$3 pid i
	if civic_pid_alive "$pidfile" "$comm"; then
		pid=$(<"$pidfile")
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 300; i++)); do
			civic_pid_alive "$pidfile" "$comm" || break
			sleep 0.1
		done
		if civic_pid_alive "$pidfile" "$comm"; then
			civic_log "$name (pid $pid) ignored SIGTERM, killing it"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
		fi
		civic_log "stopped $name"
	fi
	rm -f "$pidfile"
}

# -------------------------------------------------------------- secrets

# civic_secrets VAR: pepper and JWT key (48 random bytes), the database
# password (32 alphanumerics: it is embedded in SQL, see civic_db_provision)
# and the WhatsApp gateway's bearer token (32 alphanumerics: it goes into an
# HTTP header), each created once, readable only by the owner.
civic_secrets() {
	local dir=$1/secrets
	mkdir -p "$dir"
	chmod 0700 "$dir"
	(
		umask 077
		[[ -s $dir/pepper ]] || head -c 48 /dev/urandom >"$dir/pepper"
		[[ -s $dir/jwt.key ]] || head -c 48 /dev/urandom >"$dir/jwt.key"
		[[ -s $dir/db.password ]] || civic_random_alnum 32 >"$dir/db.password"
		[[ -s $dir/whatsapp.token ]] || civic_random_alnum 32 >"$dir/whatsapp.token"
	)
	chmod 0600 "$dir/pepper" "$dir/jwt.key" "$dir/db.password" "$dir/whatsapp.token"
}

# civic_random_alnum N: N random [A-Za-z0-9] characters, no newline.
civic_random_alnum() {
	"$CIVIC_PY" -c 'import secrets, string, sys
alphabet = string.ascii_letters + string.digits
sys.stdout.write("".join(secrets.choice(alphabet) for _ in range(int(sys.argv[1]))))' "$1"
}

# --------------------------------------------------------------- config

civic_config_path() { printf '%s\n' "$1/civicsentinel.conf"; }

# civic_write_config VAR PORT: the INI file every responder and civic-admin
# read (path in CIVIC_CONFIG). Rewritten on every start, atomically, so it
# always matches VAR and PORT. Comments sit on their own lines: inih's
# inline-comment support is a build option we do not rely on.
civic_write_config() {
	local var=$1 port=$2 conf tmp
	conf=$(civic_config_path "$var")
	tmp=$conf.tmp.$$
	cat >"$tmp" <<EOF
; Generated by scripts/lib/common.sh (civic_write_config); edits are lost.
[database]
socket = $var/run/mysqld.sock
name = civic
user = civic
password_file = $var/secrets/db.password

[api]
; live|test
environment = test
base_url = http://127.0.0.1:$port
pepper_file = $var/secrets/pepper
jwt_key_file = $var/secrets/jwt.key
token_lifetime = 900
; * or a comma list of ISO 3166 alpha-2 codes
supported_countries = *
iso_3166_file = /usr/share/iso-codes/json/iso_3166-1.json

[limits]
; anonymous requests per client address (IPv4, or IPv6 /64) per hour
anonymous_per_hour = 30

[alerts]
; development only: http:// webhooks and loopback targets (a deployment
; keeps allow_http_webhooks = no and outbound_allow empty)
allow_http_webhooks = yes
outbound_allow = 127.0.0.0/8, ::1/128
confirm_link_hours = 72

[whatsapp]
; the development gateway (scripts/lib/whatsapp-gateway.py) on PORT+1
gateway_url = http://127.0.0.1:$((port + 1))
token_file = $var/secrets/whatsapp.token
; seconds; short, so the tests of a slow gateway are quick
timeout = 3

[smtp]
; the development mail catcher (scripts/lib/mail-catcher.py) on PORT+2:
; plain SMTP, no login; every mail lands in $var/mail/ as one .eml file
url = smtp://127.0.0.1:$((port + 2))
from = civic@localhost
from_name = Civic Sentinel
starttls = no
timeout = 30

[dispatch]
; civic-dispatch: the defaults, written out so the tests can read them
concurrency = 64
lease_seconds = 300
run_seconds = 50
linger_seconds = 10
webhook_timeout = 15

[console]
session_hours = 12
login_failures_per_account = 5
login_failures_per_ip = 50
; the tests send each console client from its own 127.x.y.z address
signups_per_ip = 10
mails_per_account = 3

[paths]
sql_dir = $CIVIC_REPO/sql
templates_dir = $CIVIC_REPO/templates
EOF
	chmod 0640 "$tmp"
	mv -f "$tmp" "$conf"
}

# -------------------------------------------------------------- MariaDB
# A private server per VAR: its own datadir and socket, no TCP
# (--skip-networking), no system service, no /etc/mysql option files
# (--no-defaults), so it never collides with a system MariaDB.
#
# Which OS user runs it: mariadbd as "mysql" (least privilege) whenever the
# mysql user can reach VAR (x on every directory of the path, true for
# /work/main/var: root-owned but 0755); VAR's mysql-writable parts (mysql/,
# run/, log/mysqld.log) are then owned by mysql. When it cannot (VAR below a
# 0700 home directory, say) the server runs with --user=root instead, the
# only way for it to open files there.

civic_db_sock() { printf '%s\n' "$1/run/mysqld.sock"; }
civic_db_pidfile() { printf '%s\n' "$1/run/mysqld.pid"; }

civic_db_os_user() {
	if id mysql >/dev/null 2>&1 && runuser -u mysql -- test -x "$1"; then
		echo mysql
	else
		echo root
	fi
}

# Directories the server writes, owned by the user it runs as.
civic_db_dirs() {
	local var=$1 user=$2
	mkdir -p "$var/mysql" "$var/run" "$var/log"
	touch "$var/log/mysqld.log"
	chown "$user:" "$var/run" "$var/log/mysqld.log"
	if [[ $(stat -c %U "$var/mysql") != "$user" ]]; then
		chown -R "$user:" "$var/mysql"
	fi
	chmod 0750 "$var/mysql"
}

# Client tools talk to our server as root through the unix socket
# (unix_socket authentication, set up by mariadb-install-db).
civic_db_client() { # VAR mariadb|mariadb-admin ARGS...
	local var=$1 tool=$2
	shift 2
	"$tool" --no-defaults --socket="$(civic_db_sock "$var")" --user=root "$@"
}

# civic_db_init VAR: create the datadir once. A marker file tells a
# finished initialisation from one that was interrupted (which is redone).
civic_db_init() {
	local var=$1 user marker=$1/mysql/.civic-initialized
	[[ -f $marker ]] && return 0
	civic_db_running "$var" && civic_die "MariaDB runs on $var/mysql but it is not marked initialised"
	user=$(civic_db_os_user "$var")
	rm -rf "$var/mysql"
	civic_db_dirs "$var" "$user"
	civic_log "initialising MariaDB datadir $var/mysql (server user: $user)"
	if ! mariadb-install-db --no-defaults --datadir="$var/mysql" --user="$user" \
		--auth-root-authentication-method=socket --skip-test-db \
		>"$var/log/mariadb-install-db.log" 2>&1; then
		tail -n 20 "$var/log/mariadb-install-db.log" >&2
		civic_die "mariadb-install-db failed, see $var/log/mariadb-install-db.log"
	fi
	touch "$marker"
}

civic_db_running() { civic_pid_alive "$(civic_db_pidfile "$1")" mariadbd; }

civic_db_ping() { civic_db_client "$1" mariadb-admin --connect-timeout=2 ping >/dev/null 2>&1; }

# civic_db_start VAR: start the server unless it runs; returns once it
# answers (at most ~30 s).
civic_db_start() {
	local var=$1 user i pidfile
	pidfile=$(civic_db_pidfile "$var")
	[[ -f $var/mysql/.civic-initialized ]] || civic_die "no MariaDB datadir in $var (civic_db_init first)"
	if ! civic_db_running "$var"; then
		rm -f "$pidfile"
		user=$(civic_db_os_user "$var")
		civic_db_dirs "$var" "$user"
		civic_log "starting MariaDB ($var/run/mysqld.sock)"
		# utf8mb4 and UTC are what Debian's /etc/mysql would not give us
		# under --no-defaults: latin1 is the compiled-in default charset,
		# and quotas reset at 00:00 UTC (SPEC §4).
		setsid -f mariadbd --no-defaults \
			--datadir="$var/mysql" --socket="$(civic_db_sock "$var")" \
			--pid-file="$pidfile" --log-error="$var/log/mysqld.log" \
			--skip-networking --user="$user" \
			--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
			--default-time-zone=+00:00 \
			</dev/null >/dev/null 2>>"$var/log/mysqld.log" 8>&- 9>&-
	fi
	for ((i = 0; i < 300; i++)); do
		civic_db_ping "$var" && return 0
		# mariadbd writes its pid file early; give it a moment before
		# concluding from a missing one that it died.
		if ((i > 20)) && ! civic_db_running "$var"; then
			break
		fi
		sleep 0.1
	done
	tail -n 20 "$var/log/mysqld.log" >&2
	civic_die "MariaDB did not come up, see $var/log/mysqld.log"
}

# civic_db_stop VAR: clean shutdown, SIGTERM/SIGKILL as fallbacks.
civic_db_stop() {
	local var=$1 pidfile i
	pidfile=$(civic_db_pidfile "$var")
	if civic_db_running "$var"; then
		civic_db_client "$var" mariadb-admin --connect-timeout=5 shutdown >/dev/null 2>&1 || true
		for ((i = 0; i < 300; i++)); do
			civic_db_running "$var" || break
			sleep 0.1
		done
		civic_db_running "$var" || civic_log "stopped MariaDB"
	fi
	civic_stop_pid "$pidfile" mariadbd MariaDB
}

# civic_db_provision VAR: database civic and user civic@localhost with the
# password from secrets/db.password (ALTER keeps it in sync if the file
# changed). The password is checked to be alphanumeric because it is
# written into the SQL text; it travels on stdin, never in argv.
civic_db_provision() {
	local var=$1 pw
	pw=$(<"$var/secrets/db.password")
	[[ $pw =~ ^[A-Za-z0-9]{16,}$ ]] ||
		civic_die "$var/secrets/db.password must be 16+ letters/digits"
	civic_db_client "$var" mariadb --batch <<EOF
CREATE DATABASE IF NOT EXISTS civic CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'civic'@'localhost' IDENTIFIED BY '$pw';
ALTER USER 'civic'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON civic.* TO 'civic'@'localhost';
EOF
}

# civic_db_setup VAR: everything the database side needs, idempotent.
civic_db_setup() {
	civic_db_init "$1"
	civic_db_start "$1"
	civic_db_provision "$1"
}

# ----------------------------------------------------------- web server
# Three front ends serve the same responders (docs/deployment.md); a VAR
# runs one at a time, and VAR/run/web.env records which:
#   lighttpd  lighttpd + mod_fastcgi       lighttpd/civicsentinel.conf
#   apache    Apache + mod_fcgid           apache/httpd.conf, apache/civicsentinel.conf
#   cgi       Apache + mod_cgi + .htaccess apache/httpd.conf -D CIVIC_CGI, apache/htaccess
# The web server starts as root (to bind its port and open its logs) and
# runs its workers and the responders as the web user (civic_web_user).

CIVIC_FRONTENDS=(lighttpd apache cgi)

civic_web_frontend_ok() {
	local f
	for f in "${CIVIC_FRONTENDS[@]}"; do [[ $1 == "$f" ]] && return 0; done
	return 1
}

# The front end VAR's web server was last started with (lighttpd if never).
civic_web_frontend() {
	local f=lighttpd
	# shellcheck disable=SC1091
	[[ -f $1/run/web.env ]] && f=$(source "$1/run/web.env" && echo "${CIVIC_WEB_FRONTEND:-lighttpd}")
	printf '%s\n' "$f"
}

# civic_web_pidfile VAR [FRONTEND]: the web server's pid file.
civic_web_pidfile() {
	case ${2:-$(civic_web_frontend "$1")} in
	lighttpd) printf '%s\n' "$1/run/lighttpd.pid" ;;
	*) printf '%s\n' "$1/run/apache2.pid" ;;
	esac
}

civic_web_running() {
	civic_pid_alive "$1/run/lighttpd.pid" lighttpd || civic_pid_alive "$1/run/apache2.pid" apache2
}

# The web server's error log (under Apache it also gets the responders'
# stderr; lighttpd sends that to log/responders.log).
civic_web_error_log() {
	case $(civic_web_frontend "$1") in
	lighttpd) printf '%s\n' "$1/log/lighttpd-error.log" ;;
	*) printf '%s\n' "$1/log/apache-error.log" ;;
	esac
}

# True when something answers HTTP on 127.0.0.1:PORT (any status).
civic_web_answers() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/" || true)
	[[ -n $code && $code != 000 ]]
}

# civic_web_user VAR BUILD: who the workers and responders run as. Not
# root: www-data when we are root and www-data can reach VAR and run the
# responders of BUILD (x on every directory of the paths); otherwise the
# user we are, root included, with a warning (a build below a 0700 home
# directory, say: then only lighttpd can serve it).
civic_web_user() {
	local var=$1 build=$2
	if ((EUID != 0)); then
		id -un
	elif id www-data >/dev/null 2>&1 &&
		runuser -u www-data -- test -x "$var" -a -x "$build/src/endpoints/civic-notfound.fcgi" \
			-a -r "$CIVIC_REPO/templates/README"; then
		echo www-data
	else
		civic_log "warning: www-data cannot reach $var or $build: the responders run as root"
		echo root
	fi
}

# civic_web_prepare VAR USER FRONTEND: what the web user must read or write: the
# config (group-readable), the secrets (its own, 0600, in a 0700
# directory: the responders refuse secrets others can read), the socket
# directories (0700: no other user may connect to a responder), the
# sanitizer report directory and lighttpd's logs, the responders' among
# them (it opens them after dropping root). Apache opens its logs as root.
civic_web_prepare() {
	local var=$1 user=$2 frontend=$3 group f
	group=$(id -gn "$user")
	mkdir -p "$var/run/fcgi" "$var/run/fcgid" "$var/run/apache2" "$var/log/san" "$var/www"
	chown "$user:$group" "$var/run/fcgi" "$var/run/fcgid" "$var/log/san"
	if [[ $frontend == lighttpd ]]; then
		# lighttpd's own error answers as JSON (server.errorfile-prefix).
		mkdir -p "$var/www/errors"
		cp -f "$CIVIC_REPO"/lighttpd/errors/status-*.html "$var/www/errors/"
		for f in lighttpd-error.log lighttpd-access.log responders.log; do
			touch "$var/log/$f"
			chown "$user:$group" "$var/log/$f"
		done
	fi
	chmod 0700 "$var/run/fcgi" "$var/run/fcgid"
	chmod 0755 "$var/log/san"
	chown "$user:$group" "$var/secrets"
	for f in "$var"/secrets/*; do
		[[ -f $f ]] && chown "$user:$group" "$f"
	done
	chgrp "$group" "$(civic_config_path "$var")"
}

# civic_web_cgi_root VAR BIN: VAR/cgi-www, the document root of the cgi
# front end, laid out as docs/shared-hosting.md lays out a hosting
# account's: the .htaccess of apache/htaccess (plus the config path,
# which an installed build has compiled in), and civic-NAME.cgi for
# every responder.
civic_web_cgi_root() {
	local var=$1 bin=$2 www=$1/cgi-www f name
	mkdir -p "$www"
	for f in "$bin"/civic-*.fcgi; do
		name=${f##*/}
		ln -sfn "$(readlink -f "$f")" "$www/${name%.fcgi}.cgi"
	done
	{
		cat "$CIVIC_REPO/apache/htaccess"
		printf '\n# Added by scripts/lib/common.sh: this stack'"'"'s config.\n'
		printf 'SetEnv CIVIC_CONFIG %s\n' "$(civic_config_path "$var")"
	} >"$www/.htaccess.tmp"
	mv -f "$www/.htaccess.tmp" "$www/.htaccess"
}

# What the running web server was started with, so scripts/stack can
# restart it and civic_web_start can tell a reconfiguration from a no-op.
civic_web_write_env() {
	local var=$1 port=$2 build=$3 frontend=$4
	{
		printf 'CIVIC_WEB_FRONTEND=%q\n' "$frontend"
		printf 'CIVIC_WEB_PORT=%q\n' "$port"
		printf 'CIVIC_WEB_BUILD=%q\n' "$build"
		printf 'CIVIC_WEB_ASAN_OPTIONS=%q\n' "${ASAN_OPTIONS:-}"
		printf 'CIVIC_WEB_UBSAN_OPTIONS=%q\n' "${UBSAN_OPTIONS:-}"
	} >"$var/run/web.env"
}

civic_web_same_env() {
	local var=$1 port=$2 build=$3 frontend=$4
	[[ -f $var/run/web.env ]] || return 1
	(
		# shellcheck disable=SC1091
		source "$var/run/web.env"
		[[ ${CIVIC_WEB_FRONTEND:-lighttpd} == "$frontend" &&
			$CIVIC_WEB_PORT == "$port" && $CIVIC_WEB_BUILD == "$build" &&
			$CIVIC_WEB_ASAN_OPTIONS == "${ASAN_OPTIONS:-}" &&
			$CIVIC_WEB_UBSAN_OPTIONS == "${UBSAN_OPTIONS:-}" ]]
	)
}

# civic_web_start VAR PORT BUILD_DIR [FRONTEND]: the web server of
# FRONTEND (default lighttpd) with one FastCGI pool per responder of
# BUILD_DIR (or, for cgi, one process per request). Already running with
# the same settings and binaries: no-op; with other settings or rebuilt
# responders: restarted.
civic_web_start() {
	local var=$1 port=$2 build=$3 frontend=${4:-lighttpd} bin name user group pidfile
	civic_web_frontend_ok "$frontend" || civic_die "unknown front end '$frontend' (${CIVIC_FRONTENDS[*]})"
	bin=$var/bin
	civic_web_link_responders "$var" "$build"
	mkdir -p "$var/run" "$var/log"
	user=$(civic_web_user "$var" "$build")
	group=$(id -gn "$user")
	# Also when the server runs: the config was rewritten since, and
	# mod_fcgid spawns responders (which read it) on demand.
	civic_web_prepare "$var" "$user" "$frontend"
	if civic_web_running "$var"; then
		if ! civic_web_same_env "$var" "$port" "$build" "$frontend"; then
			civic_log "the web server runs with other settings, restarting it"
			civic_web_stop "$var"
		elif civic_web_rebuilt "$var" "$bin"; then
			civic_log "responders were rebuilt, restarting the web server"
			civic_web_stop "$var"
		else
			civic_web_wait "$var" "$port"
			return 0
		fi
	fi
	for name in "${CIVIC_RESPONDERS[@]}"; do
		[[ -x $bin/$name.fcgi ]] || civic_die "missing responder $name.fcgi in $build (build first)"
	done
	pidfile=$(civic_web_pidfile "$var" "$frontend")
	rm -f "$pidfile"
	civic_web_kill_orphans "$var"
	civic_web_write_env "$var" "$port" "$build" "$frontend"
	civic_log "starting $frontend on 127.0.0.1:$port (responders run as $user)"
	local env=(CIVIC_REPO="$CIVIC_REPO" CIVIC_VAR="$var" CIVIC_PORT="$port" CIVIC_BIN="$bin"
		CIVIC_CONFIG="$(civic_config_path "$var")" CIVIC_USER="$user" CIVIC_GROUP="$group")
	# CIVIC_LIGHTTPD_CONF: another file (bench/lib/lighttpd.conf includes
	# this one and adds the no-op responder).
	local cmd=(lighttpd -f "${CIVIC_LIGHTTPD_CONF:-$CIVIC_REPO/lighttpd/civicsentinel.conf}")
	if [[ $frontend == lighttpd ]]; then
		# lighttpd refuses to switch to uid 0; empty means "stay".
		if [[ $user == root ]]; then env+=(CIVIC_USER= CIVIC_GROUP=); fi
	else
		[[ $user == root ]] && civic_die "Apache will not run its workers as root: give www-data access to $var and $build"
		cmd=(apache2 -f "$CIVIC_REPO/apache/httpd.conf" -k start)
		if [[ $frontend == cgi ]]; then
			cmd+=(-D CIVIC_CGI)
			civic_web_cgi_root "$var" "$bin"
		fi
		if [[ -n ${ASAN_OPTIONS:-} || -n ${UBSAN_OPTIONS:-} ]]; then
			cmd+=(-D CIVIC_SANITIZE)
		fi
	fi
	# Both daemonise and exit non-zero when the config is wrong or the
	# port is taken; lighttpd also when a pool fails to spawn.
	if ! env "${env[@]}" "${cmd[@]}" </dev/null >"$var/log/web-start.log" 2>&1 8>&- 9>&-; then
		cat "$var/log/web-start.log" >&2
		tail -n 20 "$(civic_web_error_log "$var")" >&2 2>/dev/null || true
		civic_die "$frontend did not start, see $(civic_web_error_log "$var")"
	fi
	civic_web_wait "$var" "$port"
}

# civic_web_link_responders VAR BUILD: VAR/bin holds a link to every
# responder of BUILD (src/endpoints and src/console), one folder as in an
# installed pkglibexecdir, for the web server's CIVIC_BIN.
civic_web_link_responders() {
	local var=$1 build=$2 f
	mkdir -p "$var/bin"
	for f in "$build"/src/endpoints/civic-*.fcgi "$build"/src/console/civic-*.fcgi; do
		[[ -x $f ]] && ln -sfn "$f" "$var/bin/${f##*/}"
	done
	return 0
}

# civic_web_rebuilt VAR BIN: a responder in BIN is newer than the running
# web server (its pid file), so the pools still run the old code.
civic_web_rebuilt() {
	local newer
	newer=$(find -L "$2" -maxdepth 1 -name 'civic-*.fcgi' -newer "$(civic_web_pidfile "$1")" -print -quit)
	[[ -n $newer ]]
}

# Waits (~10 s) until the web server answers on PORT.
civic_web_wait() {
	local var=$1 port=$2 i
	for ((i = 0; i < 100; i++)); do
		civic_web_answers "$port" && return 0
		civic_web_running "$var" || break
		sleep 0.1
	done
	tail -n 20 "$(civic_web_error_log "$var")" >&2 2>/dev/null || true
	civic_die "the web server does not answer on 127.0.0.1:$port"
}

# civic_web_stop VAR: whichever web server runs. Both stop the FastCGI
# processes they spawned on SIGTERM (lighttpd removes their sockets);
# civic_web_kill_orphans gets the ones they did not.
civic_web_stop() {
	civic_stop_pid "$1/run/lighttpd.pid" lighttpd lighttpd
	civic_stop_pid "$1/run/apache2.pid" apache2 Apache
	civic_web_kill_orphans "$1"
}

# civic_web_kill_orphans VAR: responders still listening on a socket below
# VAR/run/. They outlive a web server killed with SIGKILL, and a new
# lighttpd finding such a socket alive uses it instead of spawning (so it
# never stops it): stale code would keep answering. The web server hands
# each responder its listening socket as fd 0, which finds them through
# /proc/net/unix.
civic_web_kill_orphans() {
	local run=$1/run inodes pid link pids=()
	inodes=$(awk -v dir="$run/" 'index($8, dir) == 1 && $8 !~ /mysqld\.sock$/ { print $7 }' /proc/net/unix)
	[[ -n $inodes ]] || return 0
	for pid in /proc/[0-9]*; do
		link=$(readlink "$pid/fd/0" 2>/dev/null) || continue
		[[ $link =~ ^socket:\[([0-9]+)\]$ ]] || continue
		grep -qx "${BASH_REMATCH[1]}" <<<"$inodes" && pids+=("${pid#/proc/}")
	done
	((${#pids[@]} == 0)) && return 0
	civic_log "stopping ${#pids[@]} orphaned responder(s): ${pids[*]}"
	kill -TERM "${pids[@]}" 2>/dev/null || true
	local i
	for ((i = 0; i < 20; i++)); do
		civic_any_alive "${pids[@]}" || return 0
		sleep 0.1
	done
	kill -KILL "${pids[@]}" 2>/dev/null || true
}

# civic_any_alive PID...: true while one of them is a live (non-zombie) process.
civic_any_alive() {
	local pid state
	for pid in "$@"; do
		state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
		[[ -n $state && $state != Z ]] && return 0
	done
	return 1
}

# civic_web_restart VAR: same front end, port, build and sanitizer options
# as the last civic_web_start (from VAR/run/web.env).
civic_web_restart() {
	local var=$1
	[[ -f $var/run/web.env ]] || civic_die "$var/run/web.env missing: no web server was ever started here"
	civic_web_stop "$var"
	(
		# shellcheck disable=SC1091
		source "$var/run/web.env"
		ASAN_OPTIONS=$CIVIC_WEB_ASAN_OPTIONS UBSAN_OPTIONS=$CIVIC_WEB_UBSAN_OPTIONS
		if [[ -n $ASAN_OPTIONS ]]; then export ASAN_OPTIONS; else unset ASAN_OPTIONS; fi
		if [[ -n $UBSAN_OPTIONS ]]; then export UBSAN_OPTIONS; else unset UBSAN_OPTIONS; fi
		civic_web_start "$var" "$CIVIC_WEB_PORT" "$CIVIC_WEB_BUILD" "${CIVIC_WEB_FRONTEND:-lighttpd}"
	)
}

# ----------------------------------------------------- WhatsApp gateway
# The development gateway (scripts/lib/whatsapp-gateway.py) on
# 127.0.0.1:PORT+1, the [whatsapp] gateway_url of civic_write_config. It
# names its process civic-whatsapp, which civic_pid_alive checks.

civic_gateway_pidfile() { printf '%s\n' "$1/run/whatsapp-gateway.pid"; }
civic_gateway_running() { civic_pid_alive "$(civic_gateway_pidfile "$1")" civic-whatsapp; }

# True when the gateway answers its health check on 127.0.0.1:PORT.
civic_gateway_answers() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/healthz" || true)
	[[ $code == 200 ]]
}

# civic_service_start KIND LABEL VAR PORT SCRIPT ARGS...: a development
# service (scripts/lib/SCRIPT, detached, log in VAR/log/) listening on
# 127.0.0.1:PORT, with its civic_KIND_running/_answers/_stop/_pidfile
# functions. Running and answering: no-op; otherwise (re)started.
# Returns once it answers (~10 s at most).
civic_service_start() {
	local kind=$1 label=$2 var=$3 port=$4 script=$5 pidfile log i
	shift 5
	pidfile=$("civic_${kind}_pidfile" "$var")
	log=$var/log/${script%.py}.log
	if "civic_${kind}_running" "$var"; then
		"civic_${kind}_answers" "$port" && return 0
		civic_log "the $label does not answer on port $port, restarting it"
		"civic_${kind}_stop" "$var"
	fi
	mkdir -p "$var/run" "$var/log"
	rm -f "$pidfile"
	civic_log "starting the development $label on 127.0.0.1:$port"
	setsid -f "$CIVIC_PY" "$CIVIC_REPO/scripts/lib/$script" --port "$port" \
		--pid-file "$pidfile" "$@" </dev/null >>"$log" 2>&1 8>&- 9>&-
	for ((i = 0; i < 100; i++)); do
		"civic_${kind}_running" "$var" && "civic_${kind}_answers" "$port" && return 0
		sleep 0.1
	done
	tail -n 20 "$log" >&2 2>/dev/null || true
	civic_die "the $label did not start, see $log"
}

# civic_gateway_start VAR PORT: the gateway for the stack on PORT (it
# listens on PORT+1).
civic_gateway_start() {
	local var=$1
	[[ -s $var/secrets/whatsapp.token ]] || civic_die "no $var/secrets/whatsapp.token (civic_secrets first)"
	mkdir -p "$var/whatsapp"
	civic_service_start gateway "WhatsApp gateway" "$var" $(($2 + 1)) whatsapp-gateway.py \
		--token-file "$var/secrets/whatsapp.token" --data-dir "$var/whatsapp"
}

civic_gateway_stop() { civic_stop_pid "$(civic_gateway_pidfile "$1")" civic-whatsapp "WhatsApp gateway"; }

# ----------------------------------------------------- SMTP mail catcher
# The development SMTP server (scripts/lib/mail-catcher.py) on
# 127.0.0.1:PORT+2, the [smtp] url of civic_write_config. It writes each
# message to VAR/mail/ as one .eml file and names its process civic-mail.

civic_mail_pidfile() { printf '%s\n' "$1/run/mail-catcher.pid"; }
civic_mail_running() { civic_pid_alive "$(civic_mail_pidfile "$1")" civic-mail; }

# True when an SMTP server on 127.0.0.1:PORT answers a NOOP.
civic_mail_answers() {
	curl -s -o /dev/null --max-time 2 "smtp://127.0.0.1:$1/" -X NOOP
}

# civic_mail_start VAR PORT: the catcher for the stack on PORT (it
# listens on PORT+2; mail in VAR/mail/).
civic_mail_start() {
	local var=$1
	mkdir -p "$var/mail"
	chmod 0700 "$var/mail"
	civic_service_start mail "mail catcher" "$var" $(($2 + 2)) mail-catcher.py \
		--data-dir "$var/mail"
}

civic_mail_stop() { civic_stop_pid "$(civic_mail_pidfile "$1")" civic-mail "mail catcher"; }

# ----------------------------------------------------------- dispatcher
# scripts/run keeps `civic-dispatch --loop` running in the background (a
# deployment runs one civic-dispatch per minute from cron instead). The
# tests never start it: they run civic-dispatch themselves, one run at a
# time.

civic_dispatch_pidfile() { printf '%s\n' "$1/run/civic-dispatch.pid"; }
civic_dispatch_running() { civic_pid_alive "$(civic_dispatch_pidfile "$1")" civic-dispatch; }

# civic_dispatch_start VAR BUILD_DIR: the loop, unless it runs. Restarted
# when the binary was rebuilt since it started. Skipped with a warning
# while there is no civic-dispatch binary (it came with issue 4).
civic_dispatch_start() {
	local var=$1 bin=$2/src/dispatch/civic-dispatch pidfile i inner
	pidfile=$(civic_dispatch_pidfile "$var")
	if [[ ! -x $bin ]]; then
		civic_log "warning: no $bin, alerts are not dispatched"
		return 0
	fi
	if civic_dispatch_running "$var"; then
		[[ $bin -nt $pidfile ]] || return 0
		civic_log "civic-dispatch was rebuilt, restarting it"
		civic_dispatch_stop "$var"
	fi
	mkdir -p "$var/run" "$var/log"
	rm -f "$pidfile"
	civic_log "starting civic-dispatch --loop (log: $var/log/dispatch.log)"
	# setsid -f forks, so its pid is not ours to know: the inner shell
	# writes its own pid, then execs the dispatcher under that pid.
	# shellcheck disable=SC2016 # $$, $1 and $2 are the inner shell's
	inner='echo $$ >"$1"; exec "$2" --loop'
	CIVIC_CONFIG=$(civic_config_path "$var") setsid -f bash -c "$inner" civic-dispatch \
		"$pidfile" "$bin" </dev/null >>"$var/log/dispatch.log" 2>&1 8>&- 9>&-
	for ((i = 0; i < 50; i++)); do
		civic_dispatch_running "$var" && return 0
		sleep 0.1
	done
	tail -n 20 "$var/log/dispatch.log" >&2 2>/dev/null || true
	civic_die "civic-dispatch did not start, see $var/log/dispatch.log"
}

# SIGTERM: the loop finishes its in-flight transfers and exits 0.
civic_dispatch_stop() { civic_stop_pid "$(civic_dispatch_pidfile "$1")" civic-dispatch civic-dispatch; }

# ---------------------------------------------------------------- admin

# civic_admin VAR BUILD_DIR ARGS...: civic-admin against VAR's config.
civic_admin() {
	local var=$1 build=$2
	shift 2
	CIVIC_CONFIG=$(civic_config_path "$var") "$build/src/admin/civic-admin" "$@"
}

# civic_json_get JSON KEY: one top-level field of a JSON object.
civic_json_get() {
	"$CIVIC_PY" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}
