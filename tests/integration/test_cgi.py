"""The responders also run as plain CGI (DESIGN.md: shared hosting with
only mod_cgi). libfcgi's FCGX_IsCGI() sees that stdin is not a listening
socket; the program then serves exactly one request from its environment
and stdin, against the same database, and exits."""

import json

from responderutil import cgi

TOKEN_PATH = "/v1/developer-token/"


def test_cgi_token_exchange_then_profile(new_client):
    c = new_client()
    body = json.dumps({"api_key": c.api_key, "api_secret": c.api_secret}).encode()
    status, hdrs, doc = cgi("civic-token", "POST", TOKEN_PATH, body)
    assert status == 200, doc
    assert doc["erc"] == 1 and doc["data"]["token_type"] == "Bearer", doc
    assert hdrs.get("X-Request-Id"), hdrs
    status, hdrs, doc = cgi("civic-profile", "GET", "/v1/profile/",
                            headers={"Authorization": "Bearer " + doc["data"]["access"]})
    assert status == 200, doc
    assert doc["data"]["id"] == c.account_id, doc
    assert hdrs["X-RateLimit-Used"] == "1", hdrs
    assert doc["meta"]["usage"]["used_today"] == 1, doc


def test_cgi_errors_use_the_envelope():
    status, _, doc = cgi("civic-token", "POST", TOKEN_PATH, b"{not json")
    assert (status, doc["erc"], doc["code"]) == (400, 0, "INVALID_REQUEST"), doc
    status, _, doc = cgi("civic-notfound", "GET", "/v1/nowhere/")
    assert (status, doc["code"]) == (404, "NOT_FOUND"), doc
    status, _, doc = cgi("civic-countries", "GET", "/v1/supported-countries/?page=0")
    assert (status, doc["code"]) == (401, "INVALID_TOKEN"), doc
