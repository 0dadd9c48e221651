"""The responders also run as plain CGI (DESIGN.md: shared hosting with
only mod_cgi). libfcgi's FCGX_IsCGI() sees that stdin is not a listening
socket; the program then serves exactly one request from its environment
and stdin, against the same database, and exits."""

import json
import os
import subprocess

from conftest import env

TOKEN_PATH = "/v1/developer-token/"


def endpoint(name):
    """build/src/endpoints/NAME.fcgi, next to the civic-admin under test."""
    build = os.path.dirname(os.path.dirname(os.path.dirname(env("CIVIC_ADMIN"))))
    return os.path.join(build, "src", "endpoints", name + ".fcgi")


def cgi(name, method, uri, body=b"", headers=None):
    """Runs one CGI request; returns (status, headers dict, parsed JSON)."""
    path, _, query = uri.partition("?")
    environ = {
        "PATH": "/usr/bin:/bin",
        "CIVIC_CONFIG": env("CIVIC_CONFIG"),
        "GATEWAY_INTERFACE": "CGI/1.1",
        "REQUEST_METHOD": method,
        "REQUEST_URI": uri,
        "SCRIPT_NAME": path,
        "QUERY_STRING": query,
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    if body:
        environ["CONTENT_TYPE"] = "application/json"
        environ["CONTENT_LENGTH"] = str(len(body))
    for k, v in (headers or {}).items():
        environ["HTTP_" + k.upper().replace("-", "_")] = v
    out = subprocess.run([endpoint(name)], input=body, env=environ,
                         capture_output=True, timeout=30, check=True).stdout
    head, _, payload = out.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0].startswith("Status: "), out
    hdrs = dict(line.split(": ", 1) for line in lines[1:])
    assert int(hdrs["Content-Length"]) == len(payload), out
    return int(lines[0].split()[1]), hdrs, json.loads(payload)


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
