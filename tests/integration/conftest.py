"""Shared fixtures and helpers for the Civic Sentinel integration suite.

The suite talks to a running stack (web server + FastCGI responders +
MariaDB).  It is driven entirely by the environment:

  CIVIC_BASE_URL  base URL of the API, e.g. http://127.0.0.1:18080
  CIVIC_CONFIG    config file of that stack (read by civic-admin and here)
  CIVIC_VAR       VAR dir of that stack (secrets/jwt.key is read for forging)
  CIVIC_ADMIN     path of the civic-admin binary (or of a wrapper that
                  runs it, e.g. under valgrind)
  CIVIC_DISPATCH  path of the civic-dispatch binary (the tests run it), or
                  of a wrapper
  CIVIC_BUILD     optional: the build directory of the responders the
                  tests run by themselves (default: CIVIC_ADMIN's)
  CIVIC_MAIL_DIR  where the stack's SMTP catcher stores mail (.eml files)
  CIVIC_STACK     executable accepting `db-stop` and `db-start`

A missing variable fails the whole run (it never skips).  Every test
creates its own account, application and key, so tests are independent
and can run in any order (only test_zy_backup.py, which replaces the
whole database with a backup of itself, test_zz_database_down.py,
which stops it, and test_zz_faults.py, which kills it, its responders
and its mail catcher, must run last: their names make pytest collect
them last, test_zz_logs.py after them).
"""

import base64
import configparser
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import ssl
import subprocess
import time
import urllib.parse
import uuid
import zlib

import pytest

REQUIRED_ENV = ("CIVIC_BASE_URL", "CIVIC_CONFIG", "CIVIC_VAR", "CIVIC_ADMIN",
                "CIVIC_DISPATCH", "CIVIC_MAIL_DIR", "CIVIC_STACK")

ALL_SCOPES = (
    "profile:read", "profile:write", "destinations:read",
    "destinations:write", "destinations:whatsapp:join",
    "subscriptions:read", "subscriptions:write", "dispatches:read",
    "risk_assessments:read", "billing:read", "countries:read",
)

DEFAULT_SCOPES = ("profile:read", "profile:write", "countries:read")

# Headers every metered (quota-counted) success response must carry.
RATE_HEADERS = ("X-Plan", "X-RateLimit-Limit", "X-RateLimit-Used",
                "X-RateLimit-Remaining", "X-RateLimit-Reset")

RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

SANE_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# --------------------------------------------------------------------------
# Environment: fail loudly, never skip.
# --------------------------------------------------------------------------

def _missing_env():
    return [name for name in REQUIRED_ENV if not os.environ.get(name)]


def pytest_sessionstart(session):
    if session.config.option.collectonly:
        return
    missing = _missing_env()
    if missing:
        pytest.exit("Civic Sentinel integration suite: environment variable(s) "
                    "%s not set; run it through scripts/test"
                    % ", ".join(missing), returncode=3)


@pytest.fixture(scope="session", autouse=True)
def _require_environment():
    # Second line of defence (e.g. if sessionstart hooks are bypassed).
    missing = _missing_env()
    if missing:
        pytest.fail("environment variable(s) %s not set" % ", ".join(missing),
                    pytrace=False)


def env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail("environment variable %s not set" % name, pytrace=False)
    return value


# --------------------------------------------------------------------------
# Small utilities
# --------------------------------------------------------------------------

def now():
    return time.time()


def next_utc_midnight(ts=None):
    """Epoch seconds of the next 00:00 UTC after ts."""
    ts = now() if ts is None else ts
    day = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).date()
    midnight = datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time(0),
        tzinfo=datetime.timezone.utc)
    return int(midnight.timestamp())


def parse_rfc3339(value):
    """Parse an RFC 3339 timestamp (with offset) into an aware datetime."""
    assert isinstance(value, str) and RFC3339_RE.match(value), \
        "not an RFC 3339 timestamp: %r" % (value,)
    parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None
    return parsed


def b62encode(n, width=6):
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = B62[r] + out
    return out.rjust(width, "0")


def key_checksum(prefix):
    """Checksum of a key: CRC32 of everything before the last '_', base62."""
    return b62encode(zlib.crc32(prefix.encode()) & 0xFFFFFFFF)


def make_key(kind="csk", environment="test", body=None, body_len=None):
    """Build a well-formed key/secret with a valid checksum."""
    if body_len is None:
        body_len = 22 if kind == "csk" else 32
    if body is None:
        body = "".join(secrets.choice(B62) for _ in range(body_len))
    prefix = "%s_%s_%s" % (kind, environment, body)
    return prefix + "_" + key_checksum(prefix)


def checksum_ok(key):
    prefix, _, check = key.rpartition("_")
    return key_checksum(prefix) == check


def break_checksum(key):
    """Change the last character of a key so its checksum is wrong."""
    last = key[-1]
    return key[:-1] + ("1" if last == "0" else "0")


def other_environment(environment):
    return "live" if environment == "test" else "test"


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def poll(fetch, done, seconds=10, pause=0.5):
    """Calls fetch() until done(its result) holds or seconds have passed;
    returns the last result, for the caller to assert on."""
    deadline = time.monotonic() + seconds
    while True:
        result = fetch()
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(pause)


def stack(command):
    """$CIVIC_STACK COMMAND (db-stop, db-start, gateway-stop, ...);
    asserts that it worked."""
    proc = subprocess.run([env("CIVIC_STACK"), command],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, "%s %s failed: %s%s" % (
        env("CIVIC_STACK"), command, proc.stdout, proc.stderr)


# --------------------------------------------------------------------------
# HTTP client
# --------------------------------------------------------------------------

class Headers:
    """Case-insensitive, read-only view of response headers.

    Repeated headers are joined with ", " (as HTTP allows for lists)."""

    def __init__(self, pairs):
        self._items = list(pairs)
        self._map = {}
        for name, value in self._items:
            key = name.lower()
            if key in self._map:
                self._map[key] = self._map[key] + ", " + value
            else:
                self._map[key] = value

    def get(self, name, default=None):
        return self._map.get(name.lower(), default)

    def __getitem__(self, name):
        return self._map[name.lower()]

    def __contains__(self, name):
        return name.lower() in self._map

    def names(self):
        return [name for name, _ in self._items]

    def get_list(self, name):
        """Comma-separated header as a list of lower-cased tokens."""
        value = self.get(name, "")
        return [part.strip().lower() for part in value.split(",") if part.strip()]

    def __repr__(self):
        return "Headers(%r)" % (self._items,)


class Response:
    """Result of one request.  Unpacks as (status, headers, body) where body
    is the parsed JSON document when the body is JSON, else the raw bytes."""

    def __init__(self, method, target, status, reason, headers, raw):
        self.method = method
        self.target = target
        self.status = status
        self.reason = reason
        self.headers = headers
        self.raw = raw
        try:
            self.json = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            self.json = None

    @property
    def body(self):
        return self.json if self.json is not None else self.raw

    @property
    def data(self):
        assert isinstance(self.json, dict), self
        return self.json.get("data")

    @property
    def code(self):
        return self.json.get("code") if isinstance(self.json, dict) else None

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    def __repr__(self):
        text = self.raw[:600].decode("utf-8", "replace")
        return "<%s %s -> %s %s; headers=%r; body=%s>" % (
            self.method, self.target, self.status, self.reason,
            self.headers._items, text)


_NO_JSON = object()

_next_address = [0]


def fresh_client_address():
    """A loopback address no other request of this run came from:
    127.1.x.y, then onwards (65k addresses per /16)."""
    _next_address[0] += 1
    n = _next_address[0] + (os.getpid() % 64) * 65536
    return "127.%d.%d.%d" % (1 + n // 65536 % 200, n // 256 % 256, n % 256 or 1)


def _split_base():
    base = urllib.parse.urlsplit(env("CIVIC_BASE_URL"))
    return base


def request(method, path, *, token=None, json_body=_NO_JSON, body=None,
            headers=None, content_type=None, timeout=15, source=None):
    """Send one HTTP request and return a Response; never raises on 4xx/5xx.

    path may be relative to CIVIC_BASE_URL ("/v1/profile/") or an absolute
    URL (e.g. a `next` link), in which case only its path and query are used
    against CIVIC_BASE_URL.  json_body is serialised with
    Content-Type: application/json; body sends raw bytes as they are
    (set content_type yourself).  headers may override anything.  source
    is the client address to send from (any 127.x.y.z works on Linux
    loopback), so tests of per-IP limits can be different clients; by
    default anonymous requests come from a fresh address each time, and
    the anonymous limit only counts where a test asks it to."""
    base = _split_base()
    if path.startswith("http://") or path.startswith("https://"):
        parts = urllib.parse.urlsplit(path)
        target = parts.path + ("?" + parts.query if parts.query else "")
    else:
        target = base.path.rstrip("/") + path
    send_headers = {"Accept": "application/json"}
    if token is not None:
        send_headers["Authorization"] = "Bearer " + token
    if json_body is not _NO_JSON:
        body = json.dumps(json_body).encode("utf-8")
        send_headers["Content-Type"] = "application/json"
    if isinstance(body, str):
        body = body.encode("utf-8")
    if content_type is not None:
        send_headers["Content-Type"] = content_type
    send_headers.update(headers or {})
    if source is None and token is None and base.hostname == "127.0.0.1":
        source = fresh_client_address()
    address = (source, 0) if source else None
    if base.scheme == "https":
        conn = http.client.HTTPSConnection(
            base.hostname, base.port or 443, timeout=timeout,
            context=ssl._create_unverified_context(), source_address=address)
    else:
        conn = http.client.HTTPConnection(base.hostname, base.port or 80,
                                          timeout=timeout,
                                          source_address=address)
    try:
        try:
            conn.request(method, target, body=body, headers=send_headers)
        except (BrokenPipeError, ConnectionResetError):
            # The server may answer (e.g. 413) and close before reading a
            # large body; the response is still waiting in the socket.
            pass
        resp = conn.getresponse()
        raw = resp.read()
        return Response(method, target, resp.status, resp.reason,
                        Headers(resp.getheaders()), raw)
    finally:
        conn.close()


@pytest.fixture
def api():
    """api(method, path, token=..., json_body=..., body=..., headers=...,
    content_type=..., timeout=...) -> Response."""
    return request


# --------------------------------------------------------------------------
# Envelope assertions
# --------------------------------------------------------------------------

def assert_request_id(resp):
    rid = resp.headers.get("X-Request-Id")
    assert rid, "missing X-Request-Id: %r" % (resp,)
    return rid


def assert_json_content_type(resp):
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == "application/json", resp


def assert_error(resp, status, code=None):
    """Error envelope, exactly {"erc":0,"msg":...,"code":...}."""
    assert resp.status == status, resp
    assert isinstance(resp.json, dict), resp
    assert set(resp.json) == {"erc", "msg", "code"}, resp
    assert resp.json["erc"] == 0, resp
    assert isinstance(resp.json["code"], str) and resp.json["code"], resp
    if code is not None:
        assert resp.json["code"] == code, resp
    if resp.json["code"] == "VALIDATION_ERROR":
        assert isinstance(resp.json["msg"], dict) and resp.json["msg"], resp
    else:
        assert isinstance(resp.json["msg"], str) and resp.json["msg"], resp
    assert_json_content_type(resp)
    assert_request_id(resp)
    return resp.json


def assert_ok(resp, status=200, is_list=False):
    """Success envelope; returns data."""
    assert resp.status == status, resp
    assert isinstance(resp.json, dict), resp
    assert resp.json.get("erc") == 1, resp
    assert resp.json.get("msg") == "success", resp
    assert "data" in resp.json, resp
    expected = {"erc", "msg", "data"}
    if is_list:
        expected |= {"total", "next"}
        assert isinstance(resp.json["data"], list), resp
        assert isinstance(resp.json["total"], int), resp
        assert resp.json["next"] is None or isinstance(resp.json["next"], str), resp
    if "meta" in resp.json:
        expected.add("meta")
    assert set(resp.json) == expected, resp
    assert_json_content_type(resp)
    assert_request_id(resp)
    return resp.json["data"]


def assert_validation_error(resp, *fields):
    body = assert_error(resp, 400, "VALIDATION_ERROR")
    for field in fields:
        assert field in body["msg"], (field, resp)
        assert isinstance(body["msg"][field], str) and body["msg"][field], resp
    return body["msg"]


USAGE_KEYS = {"plan", "plan_name", "application_id", "application_name",
              "limit_per_day", "used_today", "remaining_today", "resets_at"}


def assert_exposed_headers(resp):
    """Every X-* / RateLimit* header sent is listed in
    Access-Control-Expose-Headers."""
    exposed = resp.headers.get_list("Access-Control-Expose-Headers")
    for name in resp.headers.names():
        low = name.lower()
        if low.startswith("x-") or low.startswith("ratelimit"):
            assert low in exposed, "%s not exposed: %r" % (name, resp)


def assert_metered(resp, app_id=None, app_name=None, plan=None, used=None,
                   limit=None):
    """A quota-metered success: rate-limit headers and meta.usage agree with
    each other and with the expectations given.  Returns (used, limit)."""
    assert isinstance(resp.json, dict), resp
    assert_ok(resp, is_list=isinstance(resp.json.get("data"), list))
    h = resp.headers
    for name in RATE_HEADERS:
        assert h.get(name), "missing %s: %r" % (name, resp)
    assert h.get("RateLimit-Policy"), resp
    assert h.get("RateLimit"), resp
    got_limit = int(h["X-RateLimit-Limit"])
    got_used = int(h["X-RateLimit-Used"])
    got_remaining = int(h["X-RateLimit-Remaining"])
    reset = int(h["X-RateLimit-Reset"])
    t = now()
    assert reset in (next_utc_midnight(t), next_utc_midnight(t - 30)), resp
    assert got_used >= 1, resp
    assert got_remaining == max(0, got_limit - got_used), resp
    assert str(got_limit) in h["RateLimit-Policy"], resp
    if plan is not None:
        assert h["X-Plan"] == plan, resp
    if used is not None:
        assert got_used == used, resp
    if limit is not None:
        assert got_limit == limit, resp
    meta = resp.json.get("meta")
    assert isinstance(meta, dict) and isinstance(meta.get("usage"), dict), resp
    usage = meta["usage"]
    assert set(usage) == USAGE_KEYS, resp
    assert usage["plan"] == h["X-Plan"], resp
    assert isinstance(usage["plan_name"], str) and usage["plan_name"], resp
    assert usage["limit_per_day"] == got_limit, resp
    assert usage["used_today"] == got_used, resp
    assert usage["remaining_today"] == got_remaining, resp
    assert parse_rfc3339(usage["resets_at"]).timestamp() == reset, resp
    if app_id is not None:
        assert usage["application_id"] == app_id, resp
    if app_name is not None:
        assert usage["application_name"] == app_name, resp
    assert_exposed_headers(resp)
    return got_used, got_limit


@pytest.fixture(scope="session")
def envelope():
    """Namespace of envelope assertion helpers."""
    class Envelope:
        ok = staticmethod(assert_ok)
        error = staticmethod(assert_error)
        validation = staticmethod(assert_validation_error)
        request_id = staticmethod(assert_request_id)
        metered = staticmethod(assert_metered)
        exposed = staticmethod(assert_exposed_headers)
    return Envelope


# --------------------------------------------------------------------------
# Config of the stack under test
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def config():
    parser = configparser.ConfigParser(inline_comment_prefixes=(";", "#"),
                                       interpolation=None)
    path = env("CIVIC_CONFIG")
    with open(path, encoding="utf-8") as f:
        parser.read_file(f)
    return parser


def config_copy(directory, **sections):
    """A copy of the stack's config in directory with some values
    changed: config_copy(tmp_path, alerts={"outbound_allow": ""},
    dispatch={"linger_seconds": 0}). Returns its path."""
    parser = configparser.ConfigParser(interpolation=None)
    with open(env("CIVIC_CONFIG"), encoding="utf-8") as f:
        parser.read_file(f)
    for section, values in sections.items():
        if not parser.has_section(section):
            parser.add_section(section)
        for key, value in values.items():
            parser.set(section, key, str(value))
    path = os.path.join(str(directory), "civicsentinel-%d.conf" % time.monotonic_ns())
    with open(path, "w", encoding="utf-8") as f:
        f.write("; a test's copy of %s\n" % env("CIVIC_CONFIG"))
        parser.write(f)
    return path


# The secret files of the config ([section] key): civic_secret_load
# refuses each one when its group or others have any permission.
SECRET_FILES = (("database", "password_file"), ("api", "pepper_file"),
                ("api", "jwt_key_file"), ("whatsapp", "token_file"))


def config_with_secret_copy(directory, section, key, mode):
    """A config copy (config_copy) whose [section] key names a copy of
    that secret file with permissions mode. Returns (config path, the
    copy's path, the secret's bytes)."""
    parser = configparser.ConfigParser(interpolation=None)
    with open(env("CIVIC_CONFIG"), encoding="utf-8") as f:
        parser.read_file(f)
    with open(parser.get(section, key), "rb") as f:
        secret = f.read()
    path = os.path.join(str(directory), "%s-%s" % (section, key))
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(secret)
    os.chmod(path, mode)
    return config_copy(directory, **{section: {key: path}}), path, secret


@pytest.fixture(scope="session")
def environment(config):
    """'test' or 'live': the environment the deployment runs in."""
    value = config.get("api", "environment", fallback="test").strip()
    assert value in ("test", "live"), value
    return value


@pytest.fixture(scope="session")
def token_lifetime(config):
    return int(config.get("api", "token_lifetime", fallback="900").strip())


# --------------------------------------------------------------------------
# civic-admin
# --------------------------------------------------------------------------

def _run_admin(args, timeout=60):
    cmd = [env("CIVIC_ADMIN"), "--json"] + [str(a) for a in args]
    proc_env = dict(os.environ)
    proc_env["CIVIC_CONFIG"] = env("CIVIC_CONFIG")
    return subprocess.run(cmd, capture_output=True, text=True, env=proc_env,
                          timeout=timeout)


def admin_json(*args):
    """Run civic-admin --json ARGS; assert success; return the JSON object."""
    proc = _run_admin(args)
    assert proc.returncode == 0, "civic-admin %s failed (%d): %s%s" % (
        " ".join(map(str, args)), proc.returncode, proc.stderr, proc.stdout)
    try:
        obj = json.loads(proc.stdout)
    except ValueError:
        pytest.fail("civic-admin %s printed non-JSON: %r"
                    % (" ".join(map(str, args)), proc.stdout))
    assert isinstance(obj, dict), proc.stdout
    return obj


def admin_expect_failure(*args):
    """Run civic-admin --json ARGS expecting failure; return (rc, stderr)."""
    proc = _run_admin(args)
    assert proc.returncode != 0, "civic-admin %s unexpectedly succeeded: %s" % (
        " ".join(map(str, args)), proc.stdout)
    return proc.returncode, proc.stderr


@pytest.fixture
def admin():
    return admin_json


@pytest.fixture
def admin_fail():
    return admin_expect_failure


@pytest.fixture
def admin_raw():
    """admin_raw(*args) -> CompletedProcess (no assertions)."""
    return lambda *args: _run_admin(args)


@pytest.fixture(scope="session")
def plans():
    """{slug: plan dict} from `civic-admin plan list`."""
    listing = admin_json("plan", "list")
    assert isinstance(listing.get("plans"), list) and listing["plans"], listing
    return {p["slug"]: p for p in listing["plans"]}


@pytest.fixture(scope="session")
def biggest_plan(plans):
    """Slug of the most expensive plan (allows every scope)."""
    return max(plans.values(), key=lambda p: p["price_coins"])["slug"]


# --------------------------------------------------------------------------
# Token exchange
# --------------------------------------------------------------------------

def exchange_raw(api_key, api_secret):
    return request("POST", "/v1/developer-token/",
                   json_body={"api_key": api_key, "api_secret": api_secret})


def exchange_token(api_key, api_secret):
    resp = exchange_raw(api_key, api_secret)
    assert resp.status == 200, resp
    return resp.json["data"]["access"]


@pytest.fixture
def exchange():
    """exchange(api_key, api_secret) -> access token (asserts 200)."""
    return exchange_token


@pytest.fixture
def exchange_response():
    """exchange_response(api_key, api_secret) -> Response."""
    return exchange_raw


# --------------------------------------------------------------------------
# Factory: fresh account + app + key
# --------------------------------------------------------------------------

class Client:
    """A fresh account with one application and one key."""

    def __init__(self, **kw):
        self.__dict__.update(kw)
        self._token = None

    def token(self):
        """Access token for the key (exchanged once, then cached)."""
        if self._token is None:
            self._token = exchange_token(self.api_key, self.api_secret)
        return self._token

    def new_token(self):
        return exchange_token(self.api_key, self.api_secret)

    def get(self, path, **kw):
        return request("GET", path, token=self.token(), **kw)

    def add_app(self, name=None):
        name = name or unique("app")
        app = admin_json("app", "create", "--account", self.account_id,
                         "--name", name)
        return app

    def issue_key(self, app_id=None, scopes=None):
        scopes = scopes if scopes is not None else self.scopes
        return admin_json("key", "issue", "--app", app_id or self.app_id,
                          "--scopes", ",".join(scopes))

    def metered(self, resp, **kw):
        """assert_metered() against this client's app and plan."""
        kw.setdefault("app_id", self.app_id)
        kw.setdefault("app_name", self.app_name)
        kw.setdefault("plan", self.plan)
        return assert_metered(resp, **kw)

    def __repr__(self):
        return "<Client account=%s app=%s key=%s>" % (
            self.account_id, self.app_id, self.api_key)


@pytest.fixture
def new_client(biggest_plan):
    """new_client(scopes=..., plan=..., per_day=None, per_minute=None,
    app_name=None) -> Client.

    plan defaults to the biggest plan (so every scope is allowed); pass
    plan=None to keep the account's default plan.  scopes is a sequence of
    scope names or the string "all"."""
    _default = object()

    def make(scopes=DEFAULT_SCOPES, plan=_default, per_day=None,
             per_minute=None, app_name=None):
        if plan is _default:
            plan = biggest_plan
        email = unique("it") + "@example.org"
        password = "Pw-" + secrets.token_urlsafe(18)
        account = admin_json("account", "create", "--email", email,
                             "--password", password)
        assert isinstance(account["id"], int), account
        if plan is not None:
            admin_json("plan", "set", "--account", account["id"],
                       "--plan", plan)
        if per_day is not None or per_minute is not None:
            args = ["account", "limits", "--account", account["id"]]
            if per_day is not None:
                args += ["--requests-per-day", per_day]
            if per_minute is not None:
                args += ["--requests-per-minute", per_minute]
            admin_json(*args)
        app_name = app_name or unique("app")
        app = admin_json("app", "create", "--account", account["id"],
                         "--name", app_name)
        assert isinstance(app["id"], int), app
        scope_arg = scopes if isinstance(scopes, str) else ",".join(scopes)
        key = admin_json("key", "issue", "--app", app["id"],
                         "--scopes", scope_arg)
        return Client(account_id=account["id"], email=email,
                      password=password, plan=plan, app_id=app["id"],
                      app_name=app_name, key_id=key["id"],
                      api_key=key["api_key"], api_secret=key["api_secret"],
                      scopes=list(key["scopes"]), key=key)

    return make


# --------------------------------------------------------------------------
# JWT helpers (forging)
# --------------------------------------------------------------------------

_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
           "HS512": hashlib.sha512}


def b64url(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class JWT:
    """Decode real tokens and forge new ones with the deployment's key."""

    def __init__(self, key):
        self.key = key

    @staticmethod
    def decode(token):
        """-> (header, claims, signature bytes, signing input str)."""
        parts = token.split(".")
        assert len(parts) == 3, token
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        return header, claims, b64url_decode(parts[2]), parts[0] + "." + parts[1]

    def sign(self, signing_input, alg="HS256", key=None):
        key = self.key if key is None else key
        return hmac.new(key, signing_input.encode("ascii"),
                        _HASHES[alg]).digest()

    def forge(self, header, claims, alg=None, key=None, signature=None):
        """Encode header+claims; sign with alg (default header["alg"]) and
        key (default the deployment's), or use signature verbatim."""
        head = b64url(json.dumps(header, separators=(",", ":")))
        body = b64url(json.dumps(claims, separators=(",", ":")))
        signing_input = head + "." + body
        if signature is None:
            signature = self.sign(signing_input, alg or header.get("alg"), key)
        return signing_input + "." + b64url(signature) if signature else \
            signing_input + "."

    @staticmethod
    def replace_claims(token, claims):
        """Keep the token's header and signature segments verbatim and put
        a different payload between them (a tampered token)."""
        head, _, sig = token.split(".")
        body = b64url(json.dumps(claims, separators=(",", ":")))
        return head + "." + body + "." + sig


@pytest.fixture(scope="session")
def jwt_key():
    path = os.path.join(env("CIVIC_VAR"), "secrets", "jwt.key")
    with open(path, "rb") as f:
        key = f.read()
    # As civic_secret_load reads it: a single trailing newline is not part
    # of the secret. (48 random bytes end in one once in 256 stacks.)
    return key[:-1] if key.endswith(b"\n") else key


@pytest.fixture(scope="session")
def jwt(jwt_key):
    return JWT(jwt_key)


# --------------------------------------------------------------------------
# Dispatcher tests: webhook receivers, and a database the dispatcher
# finds empty of other tests' work
# --------------------------------------------------------------------------

@pytest.fixture
def receiver():
    """receiver() -> a started receiver.Receiver on 127.0.0.1 (a free
    port); every receiver made is closed at teardown."""
    import receiver as receiver_module
    made = []

    def make():
        r = receiver_module.Receiver().start()
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def parked():
    """Every row other tests left is out of civic-dispatch's reach
    (dbutil.park_everything) before the test creates its own."""
    import dbutil
    dbutil.park_everything()
