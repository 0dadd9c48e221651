"""The responders also run as plain CGI (DESIGN.md: shared hosting with
only mod_cgi). libfcgi's FCGX_IsCGI() sees that stdin is not a listening
socket; the program then serves exactly one request from its environment
and stdin, against the same database, and exits."""

import json
import os

import pytest

from conftest import SECRET_FILES, config_with_secret_copy
from responderutil import cgi, json_response, run_cgi

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


@pytest.mark.parametrize("section,key", SECRET_FILES, ids=[k for _, k in SECRET_FILES])
def test_cgi_refuses_a_secret_file_the_group_can_read(new_client, tmp_path, section, key):
    """A broken setup still answers, with the error envelope; the reason
    goes to the log (stderr), naming the file, and the secret goes
    nowhere. Once the file is 0600 the same config works."""
    c = new_client()
    config, path, secret = config_with_secret_copy(tmp_path, section, key, 0o640)
    body = json.dumps({"api_key": c.api_key, "api_secret": c.api_secret}).encode()
    proc = run_cgi("civic-token", "POST", TOKEN_PATH, body, config=config)
    assert proc.returncode == 0, proc
    status, hdrs, doc = json_response(proc.stdout)
    assert (status, doc["erc"], doc["code"]) == (500, 0, "INTERNAL"), doc
    assert hdrs.get("X-Request-Id"), hdrs
    assert ("secret file %s is accessible by group or others" % path).encode() in proc.stderr, \
        proc.stderr
    assert path.encode() not in proc.stdout, proc.stdout  # the client learns no paths
    for out in (proc.stdout, proc.stderr):
        assert secret.strip() not in out

    os.chmod(path, 0o600)
    status, _, doc = cgi("civic-token", "POST", TOKEN_PATH, body, config=config)
    assert status == 200 and doc["data"]["access"], doc
