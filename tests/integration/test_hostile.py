"""Hostile input sweep: malformed HTTP sent over raw sockets to every
endpoint (SPEC §5), the token exchange and the console's form posts.

Raw sockets, not http.client: a client library would refuse or repair
most of these requests before they left.  Catalogue (each case is its own
test id, "<endpoint>-<attack>"):

  every API endpoint, with a valid bearer token (and without one where
  the attack is about the token):
    path      percent-encoding errors (%, %G1, %%), NUL (raw and %00),
              invalid UTF-8 (raw and %ff), traversal (/../, %2e%2e),
              doubled and encoded slashes (//, %2F)
    query     the same escapes in page=, huge numbers (1e400, 2^64, -0,
              100 digits), a repeated parameter, invalid UTF-8, a query
              of 6 KB (the responders' cap) and of 20 KB (the server's)
    headers   a 16 KiB header, a 7 KB and a 20 KB bearer token, bytes
              that are not UTF-8 in Authorization and X-Request-Id, 200
              header fields
    method    an unknown method (BREW)
    framing   Content-Length twice (different, equal), Content-Length
              with Transfer-Encoding, chunk sizes ffffffffffffffff, -2
              and zz, Content-Length -1, 2^64+1 and 1e3, a body on a GET
  the endpoints that take a JSON body, in addition:
    body      100k '[' (over the 64 KiB cap) and 60k '[' (under it:
              depth), 10k nested objects, invalid UTF-8 (bare
              continuation, overlong, encoded surrogate), a raw NUL inside
              and after the document, an escaped NUL, a lone surrogate
              escape, duplicate keys, 1e400, 2^64, -0 and 100-digit
              numbers, an empty body, wrong, missing and near-miss
              content types, 70 KB (responder's 413) and 1.1 MB (server's
              413)
  the console's form posts (anonymous, no CSRF token): escapes, NUL,
  invalid UTF-8, JSON nesting, 20k fields, wrong content types.

For each case: no 5xx; the documented 4xx status and error code (or,
where the attack is harmless by design, e.g. an unknown query parameter,
the endpoint's normal answer); the body is the JSON envelope with
Content-Type application/json (the console answers its own HTML pages,
text/html).  Answers the web server makes itself (before any responder
runs) are envelopes too, from lighttpd/errors/ and apache/errors.conf,
but carry no X-Request-Id: only a responder can make one.  After every
case the stack answers a normal request; at the end the victim account's
data is what it was before the sweep (scripts/test --asan checks the
sanitizer logs afterwards).

CIVIC_TEST_HOSTILE=sample (scripts/test --asan behind plain CGI, where
every request starts and ends an ASan process) sends every attack once,
to the endpoints in SAMPLE: a key pair in a body (the token exchange), a
paged metered list, an object by id, a JSON body by PATCH and by POST,
and two console forms.  The whole sweep runs under ASan behind lighttpd,
the same responders' code through FastCGI.

SERVER_5XX is the named allow-list of what cannot be a 4xx: lighttpd
answers an unknown method or transfer coding with 501 and an unknown
HTTP version with 505 itself (RFC 9110 §15.6.2, §15.6.6); those answers
are envelopes all the same.
"""

import json
import os
import socket
import urllib.parse

import pytest

import dbutil
from conftest import (Headers, env, fresh_client_address, assert_json_content_type,
                      assert_request_id)

# ---------------------------------------------------------------- client


class Raw:
    """One response read off a raw socket."""

    def __init__(self, sent, status, headers, body):
        self.sent = sent
        self.status = status
        self.headers = Headers(headers)
        self.raw = body
        try:
            self.json = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            self.json = None

    def __repr__(self):
        return "<%r... -> %s; headers=%r; body=%r>" % (
            self.sent[:160], self.status, self.headers._items, self.raw[:300])


def _dechunk(data):
    out = b""
    while data:
        line, _, rest = data.partition(b"\r\n")
        size = int(line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2:]
    return out


def send_raw(raw, timeout=30):
    """Sends raw bytes, reads until the server closes; returns a Raw."""
    base = urllib.parse.urlsplit(env("CIVIC_BASE_URL"))
    sock = socket.create_connection((base.hostname, base.port or 80),
                                    timeout=timeout,
                                    source_address=(fresh_client_address(), 0))
    data = b""
    try:
        try:
            sock.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused early (e.g. 413): the answer is still there
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
    finally:
        sock.close()
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep, "no HTTP answer to %r: %r" % (raw[:160], data[:300])
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ")[1])
    headers = []
    for line in lines[1:]:
        key, _, value = line.partition(b":")
        headers.append((key.decode("latin-1").strip(),
                        value.decode("latin-1").strip()))
    resp = Raw(raw, status, headers, body)
    if "chunked" in (resp.headers.get("Transfer-Encoding") or "").lower():
        body = _dechunk(body)
    length = resp.headers.get("Content-Length")
    if length is not None and length.isdigit():
        body = body[:int(length)]
    return Raw(raw, status, headers, body)


def build(method, target, token=None, headers=b"", body=None,
          ctype=b"application/json"):
    """A request with Host and Connection: close; headers are raw lines."""
    out = b"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % (
        method, target)
    if token:
        out += b"Authorization: Bearer " + token + b"\r\n"
    if body is not None:
        if ctype is not None:
            out += b"Content-Type: " + ctype + b"\r\n"
        out += b"Content-Length: %d\r\n" % len(body)
    return out + headers + b"\r\n" + (body or b"")


# ------------------------------------------------------------- catalogue

# Outcomes: a set of (status, code); code None means "any code".
BAD = {(400, "INVALID_REQUEST")}
BAD_ANY = {(400, "INVALID_REQUEST"), (400, "VALIDATION_ERROR")}
BAD_PATH = {(400, "INVALID_REQUEST"), (404, "NOT_FOUND")}
TOO_BIG = {(413, "PAYLOAD_TOO_LARGE")}
MEDIA = {(415, "UNSUPPORTED_MEDIA_TYPE")}
HEADERS_TOO_BIG = {(431, "INVALID_REQUEST"), (400, "INVALID_REQUEST")}
TARGET_TOO_LONG = {(431, "INVALID_REQUEST"), (414, "INVALID_REQUEST")}
BAD_TOKEN = {(401, "INVALID_TOKEN")}
NOT_FOUND = {(404, "NOT_FOUND")}
METHOD = {(405, "METHOD_NOT_ALLOWED")}


class Endpoint:
    """name, method, path ({dest} and {account} filled in per run), the
    outcome of a plain request with a valid token (baseline), the outcome
    with a bad Authorization header, whether it takes a JSON body (and
    the string field the body attacks aim at), whether it is a paged
    list, whether it is sent the victim's bearer token (not the token
    exchange, which reads key pairs from Authorization too)."""

    def __init__(self, name, method, path, baseline, unauth=BAD_TOKEN,
                 field=None, paged=False, body=b"{}", bearer=True):
        self.name, self.method, self.path = name, method, path
        self.bearer = bearer
        self.baseline, self.unauth = baseline, unauth
        self.field, self.paged, self.body = field, paged, body


OK = {(200, None)}
ENDPOINTS = [
    Endpoint("token", b"POST", "/v1/developer-token/",
             {(401, "INVALID_API_KEY"), (400, "VALIDATION_ERROR")},
             unauth={(401, "INVALID_API_KEY"), (400, "VALIDATION_ERROR")}, field="api_key",
             bearer=False),
    Endpoint("profile", b"GET", "/v1/profile/", OK),
    Endpoint("profile-patch", b"PATCH", "/v1/profile/{account}/", {(400, "INVALID_REQUEST")},
             field="first_name"),
    Endpoint("countries", b"GET", "/v1/supported-countries/", OK, paged=True),
    Endpoint("usage", b"GET", "/v1/usage/", OK),
    Endpoint("pricing-plans", b"GET", "/v1/pricing-plans/", OK, unauth=OK | BAD_TOKEN,
             paged=True),
    Endpoint("risk", b"GET", "/v1/risk-assessments/", OK, paged=True),
    Endpoint("destinations", b"GET", "/v1/alert-destinations/", OK, paged=True),
    Endpoint("destinations-post", b"POST", "/v1/alert-destinations/",
             {(400, "VALIDATION_ERROR")}, field="label"),
    Endpoint("destination", b"GET", "/v1/alert-destinations/{dest}/", OK),
    Endpoint("destination-delete", b"DELETE", "/v1/alert-destinations/999999999/", NOT_FOUND),
    Endpoint("join-whatsapp", b"POST", "/v1/alert-destinations/join-whatsapp-group/",
             {(400, "VALIDATION_ERROR")}, field="label"),
    Endpoint("confirm", b"GET", "/v1/alert-destinations/confirm/?token=x",
             {(400, None), (404, "NOT_FOUND")},
             unauth={(400, None), (404, "NOT_FOUND")} | BAD_TOKEN),
    Endpoint("subscriptions", b"GET", "/v1/alert-subscriptions/", OK, paged=True),
    Endpoint("subscriptions-post", b"POST", "/v1/alert-subscriptions/",
             {(400, "VALIDATION_ERROR")}, field="stream"),
    Endpoint("subscription-delete", b"DELETE", "/v1/alert-subscriptions/999999999/", NOT_FOUND),
    Endpoint("dispatches", b"GET", "/v1/alert-dispatches/", OK, paged=True),
    Endpoint("billing", b"GET", "/v1/subscriptions/", OK, paged=True),
    Endpoint("notfound", b"GET", "/v1/no-such-thing/", NOT_FOUND, unauth=NOT_FOUND),
]

# (case id, front ends, status): answers the web server itself makes with
# a 5xx the HTTP specification prescribes; they must still be envelopes.
SERVER_5XX = {
    # lighttpd 1.4.69 knows a fixed list of methods; anything else is 501
    # before routing (RFC 9110 §15.6.2). Apache hands it to the responder
    # (405).
    "method-brew": ({"lighttpd"}, 501),
    # lighttpd: a transfer coding other than chunked is 501 (RFC 9112 §6.1).
    "te-gzip-chunked": ({"lighttpd"}, 501),
    # lighttpd: an HTTP version it does not speak is 505.
    "http-version-9": ({"lighttpd"}, 505),
}


class Case:
    def __init__(self, ident, raw, expect, console=False, server_5xx=None):
        self.id, self.raw, self.expect = ident, raw, expect
        self.console, self.server_5xx = console, server_5xx


def _target(ep, ctx, suffix=b"", query=None):
    path = ep.path.format(dest=ctx["dest"], account=ctx["account"]).encode()
    path, _, q = path.partition(b"?")
    if query is not None:
        q = query if not q else q + b"&" + query
    return path + suffix + (b"?" + q if q else b"")


def endpoint_cases(ep):
    """(attack, builder(ctx) -> raw bytes, expected) for one endpoint."""
    base = ep.baseline
    cases = []

    def add(attack, make, expect):
        cases.append(("%s-%s" % (ep.name, attack), make, expect))

    def plain(suffix=b"", query=None, headers=b"", token=True, method=None,
              body=None, ctype=b"application/json"):
        def make(ctx):
            if body is None and ep.field is not None:
                b = ep.body
            else:
                b = body
            return build(method or ep.method, _target(ep, ctx, suffix, query),
                         ctx["token"] if token and ep.bearer else None, headers, b, ctype)
        return make

    # Path.
    for label, suffix in (("pct-bare", b"%"), ("pct-g1", b"%G1"), ("pct-pct", b"%%")):
        add("path-" + label, plain(suffix=suffix), BAD | BAD_PATH)
    add("path-nul-pct", plain(suffix=b"%00"), BAD_PATH)
    add("path-nul-raw", plain(suffix=b"\x00"), BAD_PATH)
    add("path-utf8-raw", plain(suffix=b"\xff\xfe"), BAD_PATH)
    add("path-utf8-pct", plain(suffix=b"%ff%fe"), BAD_PATH)
    add("path-dotdot", plain(suffix=b"../../../../etc/passwd"), BAD_PATH | base)
    add("path-dotdot-pct", plain(suffix=b"%2e%2e/%2e%2e/%2e%2e/etc/passwd"), BAD_PATH | base)

    def doubled(ctx):
        return build(ep.method, b"/" + _target(ep, ctx).replace(b"/", b"//"),
                     ctx["token"] if ep.bearer else None, b"", ep.body if ep.field else None)
    add("path-double-slash", doubled, BAD_PATH | base)

    def encoded_slash(ctx):
        return build(ep.method, _target(ep, ctx).replace(b"/v1/", b"/v1%2F", 1),
                     ctx["token"] if ep.bearer else None, b"", ep.body if ep.field else None)
    add("path-encoded-slash", encoded_slash, BAD_PATH | base)

    # Query.
    paged = {(400, "VALIDATION_ERROR")} if ep.paged else base
    for label, value in (("pct-bare", b"%"), ("pct-g1", b"%G1"), ("pct-pct", b"%%"),
                         ("1e400", b"1e400"), ("2p64", b"18446744073709551616"),
                         ("minus-zero", b"-0"), ("100-digits", b"9" * 100),
                         ("repeated", b"1&page=2")):
        add("query-page-" + label, plain(query=b"page=" + value), paged | BAD)
    add("query-nul", plain(query=b"page=1%00"), BAD_ANY | base)
    add("query-utf8-raw", plain(query=b"q=\xff\xfe"), BAD_ANY | base)
    add("query-6k", plain(query=b"a=b&" * 1500), BAD)
    add("query-20k", plain(query=b"a=b&" * 5000), TARGET_TOO_LONG)

    # Headers.
    add("header-16k", plain(headers=b"X-Filler: " + b"a" * 16384 + b"\r\n"), HEADERS_TOO_BIG)
    add("header-200-fields",
        plain(headers=b"".join(b"X-F%d: a\r\n" % i for i in range(200))), BAD | base)
    add("header-request-id-utf8", plain(headers=b"X-Request-Id: \xff\xfe\x00x\r\n"), BAD | base)
    add("header-request-id-long", plain(headers=b"X-Request-Id: " + b"a" * 4000 + b"\r\n"), base)
    for label, value in (("7k", b"a" * 7000), ("utf8", b"\xff\xfe.\xc0\xaf.\xed\xa0\x80"),
                         ("dots", b"...."), ("jwt-huge-parts", b"e" * 3000 + b"." + b"e" * 3000 + b".x")):
        add("token-" + label, plain(token=False, headers=b"Authorization: Bearer " + value + b"\r\n"),
            ep.unauth)
    add("token-20k", plain(token=False, headers=b"Authorization: Bearer " + b"a" * 20000 + b"\r\n"),
        HEADERS_TOO_BIG)
    add("token-basic", plain(token=False, headers=b"Authorization: Basic Og==\r\n"), ep.unauth)

    # Method.
    # The catch-all answers 404 whatever the method or body.
    catch_all = NOT_FOUND if ep.name == "notfound" else set()
    add("method-brew", plain(method=b"BREW"), METHOD | catch_all)

    # Framing.
    def framing(extra):
        def make(ctx):
            t = _target(ep, ctx)
            auth = b"Authorization: Bearer %s\r\n" % ctx["token"] if ep.bearer else b""
            return (b"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    b"%sContent-Type: application/json\r\n%s" % (ep.method, t, auth, extra))
        return make
    body_ok = {(400, None), (413, None), (415, None)} | base
    add("cl-conflict", framing(b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} "), BAD)
    add("cl-twice", framing(b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}"), BAD | body_ok)
    add("cl-and-te", framing(b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"),
        BAD | body_ok)
    add("chunk-ffffffffffffffff", framing(b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n{}\r\n0\r\n\r\n"),
        BAD_ANY | body_ok)
    add("chunk-negative", framing(b"Transfer-Encoding: chunked\r\n\r\n-2\r\n{}\r\n0\r\n\r\n"), BAD_ANY | body_ok)
    add("chunk-not-hex", framing(b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"), BAD_ANY | body_ok)
    add("cl-negative", framing(b"Content-Length: -1\r\n\r\n"), BAD)
    add("cl-2p64", framing(b"Content-Length: 18446744073709551617\r\n\r\n"), BAD | TOO_BIG)
    add("cl-float", framing(b"Content-Length: 1e3\r\n\r\n"), BAD)
    if ep.field is None:
        add("get-with-body", plain(body=b"{}"), BAD | catch_all)
        return cases

    # Bodies.
    def body_case(attack, body, expect, ctype=b"application/json"):
        add("body-" + attack, plain(body=body, ctype=ctype), expect)

    f = ep.field.encode()
    body_case("deep-array-100k", b"[" * 100000, TOO_BIG)
    body_case("deep-array-60k", b"[" * 60000, BAD)
    body_case("deep-object-10k", b'{"a":' * 10000, BAD)
    for label, junk in (("continuation", b"\x80\xbf"), ("overlong", b"\xc0\xaf"),
                        ("surrogate", b"\xed\xa0\x80"), ("ff", b"\xff\xfe")):
        body_case("utf8-" + label, b'{"' + f + b'":"a' + junk + b'b"}', BAD)
    body_case("utf8-in-key", b'{"\xff":"a"}', BAD)
    body_case("nul-raw", b'{"' + f + b'":"a\x00b"}', BAD)
    body_case("nul-after", b'{}\x00', BAD)
    body_case("nul-escaped", b'{"' + f + b'":"a\\u0000b"}', {(400, "VALIDATION_ERROR")})
    body_case("lone-surrogate", b'{"' + f + b'":"a\\ud800b"}', BAD)
    body_case("lone-low-surrogate", b'{"' + f + b'":"a\\udc00b"}', BAD)
    body_case("duplicate-keys", b'{"' + f + b'":1,"' + f + b'":2}', BAD_ANY)
    for label, num in (("1e400", b"1e400"), ("2p64", b"18446744073709551616"),
                       ("minus-zero", b"-0"), ("100-digits", b"9" * 100),
                       ("neg-100-digits", b"-" + b"9" * 100)):
        body_case("number-" + label, b'{"' + f + b'":' + num + b'}', BAD_ANY)
    body_case("empty", b"", BAD_ANY | base)
    body_case("ctype-text", b"{}", MEDIA, ctype=b"text/plain")
    body_case("ctype-form", b"{}", MEDIA, ctype=b"application/x-www-form-urlencoded")
    body_case("ctype-missing", b"{}", MEDIA, ctype=None)
    body_case("ctype-near-miss", b"{}", MEDIA, ctype=b"application/jsonx")
    body_case("ctype-utf8", b"{}", MEDIA, ctype=b"application/\xffjson")
    body_case("size-70k", b" " * 70000 + b"{}", TOO_BIG)
    body_case("size-1100k", b" " * 1100000 + b"{}", TOO_BIG)
    body_case("trailing", b"{} {}", BAD)
    return cases


CONSOLE_POSTS = ["/console/signup", "/console/login", "/console/forgot",
                 "/console/reset", "/console/verify", "/console/verify/resend",
                 "/console/logout", "/console/profile", "/console/apps",
                 "/console/destinations", "/console/subscriptions"]
FORM = b"application/x-www-form-urlencoded"
CONSOLE_ATTACKS = [
    ("pct-errors", b"email=%&password=%G1&x=%%", FORM),
    ("nul", b"email=a%00b&password=\x00", FORM),
    ("utf8", b"email=\xff\xfe&password=%ff%c0%af", FORM),
    ("deep-json", b"[" * 60000, b"application/json"),
    ("many-fields", b"a=b&" * 20000, FORM),
    ("huge-value", b"email=" + b"a" * 60000, FORM),
    ("multipart", b"--x\r\n\r\n--x--\r\n", b"multipart/form-data; boundary=x"),
    ("no-ctype", b"email=a", None),
    ("empty", b"", FORM),
]


# The endpoints and forms CIVIC_TEST_HOSTILE=sample sends the attacks to.
SAMPLE = {"token", "countries", "destination", "profile-patch", "destinations-post",
          "/console/login", "/console/destinations"}


def all_cases(sample=False):
    out = []
    for ep in ENDPOINTS:
        if sample and ep.name not in SAMPLE:
            continue
        for ident, make, expect in endpoint_cases(ep):
            out.append(Case(ident, make, expect))
    for path in CONSOLE_POSTS:
        if sample and path not in SAMPLE:
            continue
        for label, body, ctype in CONSOLE_ATTACKS:
            def make(ctx, path=path, body=body, ctype=ctype):
                return build(b"POST", path.encode(), None, b"", body, ctype)
            out.append(Case("console%s-%s" % (path[len("/console"):].replace("/", "-"), label),
                            make, None, console=True))
    # The request line itself: no endpoint is reached.
    for label, raw, expect in (
            ("garbage", b"GARBAGE\r\n\r\n", BAD),
            ("extra-token", b"GET /v1/profile/ HTTP/1.1 extra\r\nHost: x\r\nConnection: close\r\n\r\n", BAD),
            ("relative-target", b"GET v1/profile/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", BAD),
            ("no-host", b"GET /v1/profile/ HTTP/1.1\r\nConnection: close\r\n\r\n", BAD),
            ("nul-in-line", b"GET /v1/\x00profile/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", BAD_PATH),
            ("http-version-9", b"GET /v1/profile/ HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n",
             BAD | BAD_TOKEN),
            ("te-gzip-chunked", b"POST /v1/developer-token/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
             b"Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
             BAD_ANY | {(401, "INVALID_API_KEY")}),
            ("header-no-colon", b"GET /v1/profile/ HTTP/1.1\r\nHost: x\r\nBogus\r\nConnection: close\r\n\r\n", BAD),
            ("header-folded", b"GET /v1/profile/ HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\nConnection: close\r\n\r\n",
             BAD | BAD_TOKEN),
            ("bare-lf", b"GET /v1/pricing-plans/ HTTP/1.1\nHost: x\nConnection: close\n\n", BAD | OK)):
        out.append(Case("request-line-" + label, (lambda ctx, raw=raw: raw), expect))
    return out


CASES = all_cases(sample=os.environ.get("CIVIC_TEST_HOSTILE") == "sample")

# ------------------------------------------------------------- fixtures


def _snapshot(account_id):
    """What the sweep must not change: the account's rows."""
    return {
        "account": dbutil.query(
            "SELECT email, first_name, phone_number, country FROM accounts WHERE id = %s",
            (account_id,)),
        "destinations": dbutil.query(
            "SELECT id, label, identifier, status FROM alert_destinations"
            " WHERE account_id = %s ORDER BY id", (account_id,)),
        "subscriptions": dbutil.query(
            "SELECT id, destination_id, stream, min_level FROM alert_subscriptions"
            " WHERE account_id = %s ORDER BY id", (account_id,)),
        "applications": dbutil.query(
            "SELECT id, name FROM applications WHERE account_id = %s ORDER BY id", (account_id,)),
    }


@pytest.fixture(scope="module")
def victim(request):
    """An account with every scope, one destination and one subscription,
    a per-minute limit no sweep reaches; its data snapshot."""
    from conftest import admin_json, exchange_token, request as api
    import secrets
    from conftest import unique
    email = unique("hostile") + "@example.org"
    account = admin_json("account", "create", "--email", email,
                         "--password", "Pw-" + secrets.token_urlsafe(18))
    admin_json("plan", "set", "--account", account["id"], "--plan", "command")
    admin_json("account", "limits", "--account", account["id"],
               "--requests-per-minute", 100000, "--requests-per-day", 1000000)
    app = admin_json("app", "create", "--account", account["id"], "--name", unique("app"))
    key = admin_json("key", "issue", "--app", app["id"], "--scopes", "all")
    token = exchange_token(key["api_key"], key["api_secret"])
    dest = api("POST", "/v1/alert-destinations/", token=token,
               json_body={"label": "Ops", "channel": "email",
                          "identifier": unique("ops") + "@example.org"})
    assert dest.status == 201, dest
    sub = api("POST", "/v1/alert-subscriptions/", token=token,
              json_body={"destination_id": dest.json["data"]["id"],
                         "stream": "risk:FR", "min_level": 3})
    assert sub.status == 201, sub
    ctx = {"token": token.encode(), "token_str": token, "dest": dest.json["data"]["id"],
           "account": account["id"]}
    ctx["before"] = _snapshot(account["id"])
    return ctx


# ------------------------------------------------------------- the sweep


def _server_5xx(case, frontend):
    """The allow-list entry of a case, when it applies to this front end."""
    for suffix, (fronts, status) in SERVER_5XX.items():
        if case.id.endswith(suffix) and frontend in fronts:
            return status
    return None


def _assert_envelope(case, resp):
    assert isinstance(resp.json, dict), resp
    assert resp.json.get("erc") == 0, resp
    assert set(resp.json) == {"erc", "msg", "code"}, resp
    assert isinstance(resp.json["code"], str) and resp.json["code"], resp
    if resp.json["code"] == "VALIDATION_ERROR":
        assert isinstance(resp.json["msg"], dict) and resp.json["msg"], resp
    else:
        assert isinstance(resp.json["msg"], str) and resp.json["msg"], resp
    assert_json_content_type(resp)


def _healthy(ctx):
    from conftest import request as api
    resp = api("GET", "/v1/usage/", token=ctx["token_str"])
    assert resp.status == 200 and resp.json["erc"] == 1, resp


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile(victim, case):
    frontend = env("CIVIC_WEB_FRONTEND")
    resp = send_raw(case.raw(victim))
    want_5xx = _server_5xx(case, frontend)
    if want_5xx is not None:
        assert resp.status == want_5xx, resp
        _assert_envelope(case, resp)
    elif case.console:
        assert 400 <= resp.status < 500, resp
        ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype == "application/json":
            _assert_envelope(case, resp)  # the web server's own answer
        else:
            assert ctype == "text/html", resp
    else:
        assert resp.status < 500, resp
        if resp.status >= 400:
            _assert_envelope(case, resp)
        else:
            assert resp.json and resp.json.get("erc") == 1, resp
            assert_json_content_type(resp)
        code = resp.json.get("code")
        assert (resp.status, code) in case.expect or (resp.status, None) in case.expect, \
            "expected one of %r: %r" % (sorted(case.expect, key=str), resp)
    if resp.headers.get("X-Request-Id") is not None:
        assert_request_id(resp)
    _healthy(victim)


def test_hostile_changed_nothing(victim):
    """Runs after the sweep (pytest keeps definition order)."""
    assert _snapshot(victim["account"]) == victim["before"]
