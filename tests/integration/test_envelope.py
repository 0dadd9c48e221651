"""Transport rules shared by every endpoint: envelope, body handling,
routing errors, request ids and CORS."""

import json

import pytest

from conftest import SANE_REQUEST_ID_RE

TOKEN_PATH = "/v1/developer-token/"


def test_success_envelope_is_exact(new_client, envelope):
    c = new_client()
    resp = c.get("/v1/profile/")
    envelope.ok(resp)
    assert set(resp.json) == {"erc", "msg", "data", "meta"}, resp
    assert isinstance(resp.json["data"], dict), resp


@pytest.mark.parametrize("body", [
    b"{",
    b'{"api_key": ',
    b"not json at all",
    b'{"api_key": "x",}',
    b"\xff\xfe\x00{}",
])
def test_invalid_json_body(api, envelope, body):
    resp = api("POST", TOKEN_PATH, body=body, content_type="application/json")
    envelope.error(resp, 400, "INVALID_REQUEST")


@pytest.mark.parametrize("ctype", [
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/xml",
])
def test_unsupported_media_type(new_client, api, envelope, ctype):
    c = new_client()
    body = json.dumps({"api_key": c.api_key, "api_secret": c.api_secret})
    resp = api("POST", TOKEN_PATH, body=body, content_type=ctype)
    envelope.error(resp, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_json_content_type_with_charset_is_accepted(new_client, api, envelope):
    c = new_client()
    body = json.dumps({"api_key": c.api_key, "api_secret": c.api_secret})
    resp = api("POST", TOKEN_PATH, body=body,
               content_type="application/json; charset=utf-8")
    envelope.ok(resp)


def test_payload_too_large(new_client, api, envelope):
    c = new_client()
    body = json.dumps({"api_key": c.api_key, "api_secret": c.api_secret,
                       "padding": "x" * (200 * 1024)})
    resp = api("POST", TOKEN_PATH, body=body, content_type="application/json")
    envelope.error(resp, 413, "PAYLOAD_TOO_LARGE")


def test_body_below_the_limit_is_read_whole(new_client, api, envelope):
    # 60 KB of JSON whitespace around valid credentials: under the 64 KiB
    # limit, so the whole body must be read and parsed.
    c = new_client()
    body = (" " * 30000 + json.dumps({"api_key": c.api_key,
                                      "api_secret": c.api_secret})
            + " " * 30000)
    resp = api("POST", TOKEN_PATH, body=body, content_type="application/json")
    envelope.ok(resp)


@pytest.mark.parametrize("path", [
    "/v1/nope/",
    "/v1/nope",
    "/v1/",
    "/v1/profile/extra/deep/path/",
    "/v2/profile/",
])
def test_unknown_path(api, envelope, path):
    envelope.error(api("GET", path), 404, "NOT_FOUND")


@pytest.mark.parametrize("method,path,allowed", [
    ("DELETE", "/v1/profile/", "GET"),
    ("POST", "/v1/profile/", "GET"),
    ("PUT", "/v1/supported-countries/", "GET"),
    ("GET", "/v1/developer-token/", "POST"),
])
def test_method_not_allowed(new_client, api, envelope, method, path, allowed):
    c = new_client()
    extra = {"json_body": {}} if method in ("POST", "PUT") else {}
    resp = api(method, path, token=c.token(), **extra)
    envelope.error(resp, 405, "METHOD_NOT_ALLOWED")
    assert allowed.lower() in resp.headers.get_list("Allow"), resp


def test_path_without_trailing_slash(new_client, envelope):
    c = new_client()
    with_slash = c.get("/v1/profile/")
    without = c.get("/v1/profile")
    assert without.status == 200, without
    assert "Location" not in without.headers, without
    assert envelope.ok(without) == envelope.ok(with_slash)
    countries = c.get("/v1/supported-countries")
    assert countries.status == 200, countries
    assert envelope.ok(countries, is_list=True) == \
        envelope.ok(c.get("/v1/supported-countries/"), is_list=True)


def test_every_response_has_a_request_id(new_client, api, envelope):
    c = new_client()
    responses = [
        c.get("/v1/profile/"),                                   # 200
        api("GET", "/v1/profile/"),                              # 401
        api("GET", "/v1/nope/"),                                 # 404
        api("DELETE", "/v1/profile/", token=c.token()),          # 405
        api("POST", TOKEN_PATH, body="x", content_type="text/plain"),  # 415
        api("POST", TOKEN_PATH, body="{", content_type="application/json"),
        api("GET", "/v1/pricing-plans/", token=c.token()),
        api("OPTIONS", "/v1/profile/",
            headers={"Origin": "https://app.example",
                     "Access-Control-Request-Method": "GET"}),
    ]
    ids = [envelope.request_id(r) for r in responses]
    for rid in ids:
        assert SANE_REQUEST_ID_RE.match(rid), rid
    assert len(set(ids)) == len(ids), ids


def test_sane_request_id_is_echoed(new_client, api):
    c = new_client()
    for resp in (c.get("/v1/profile/", headers={"X-Request-Id": "abc-123"}),
                 api("GET", "/v1/nope/", headers={"X-Request-Id": "abc-123"})):
        assert resp.headers.get("X-Request-Id") == "abc-123", resp


@pytest.mark.parametrize("bad", [
    "a" * 200,
    "abc def",
    "abc\tdef",
    'abc"<script>',
    "abc;rm -rf",
    "abc\u00e9",          # sent as the latin-1 byte 0xE9
])
def test_insane_request_id_is_replaced(api, bad):
    resp = api("GET", "/v1/nope/", headers={"X-Request-Id": bad})
    rid = resp.headers.get("X-Request-Id")
    assert rid and rid != bad, resp
    assert SANE_REQUEST_ID_RE.match(rid), resp
    assert bad.encode() not in resp.raw, resp


def test_expose_headers_on_metered_response(new_client, envelope):
    c = new_client()
    resp = c.get("/v1/supported-countries/")
    c.metered(resp)
    exposed = resp.headers.get_list("Access-Control-Expose-Headers")
    for name in ("X-RateLimit-Limit", "X-RateLimit-Used",
                 "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-Plan",
                 "X-Request-Id"):
        assert name.lower() in exposed, (name, resp)
    envelope.exposed(resp)


@pytest.mark.parametrize("path,method", [
    ("/v1/profile/", "GET"),
    ("/v1/supported-countries/", "GET"),
    ("/v1/developer-token/", "POST"),
])
def test_cors_preflight(api, path, method):
    # A browser's preflight carries no credentials: it must not get a 401.
    resp = api("OPTIONS", path, headers={
        "Origin": "https://app.example",
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    })
    assert resp.status == 204, resp
    assert method.lower() in resp.headers.get_list(
        "Access-Control-Allow-Methods"), resp
    assert resp.headers.get("Access-Control-Allow-Origin"), resp
    allowed = resp.headers.get_list("Access-Control-Allow-Headers")
    assert "authorization" in allowed, resp
    assert "content-type" in allowed or "*" in allowed, resp
    assert resp.raw == b"", resp


def test_preflight_for_profile_update_allows_patch(api):
    resp = api("OPTIONS", "/v1/profile/1/", headers={
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization, content-type",
    })
    assert resp.status == 204, resp
    assert "patch" in resp.headers.get_list("Access-Control-Allow-Methods"), resp
