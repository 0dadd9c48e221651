"""POST /v1/developer-token/: exchanging a key pair for an access token."""

import re
import time

from conftest import (B62, break_checksum, checksum_ok, make_key,
                      other_environment, parse_rfc3339)

TOKEN_PATH = "/v1/developer-token/"


def test_issued_key_pair_format(new_client, environment):
    c = new_client()
    assert re.fullmatch(r"csk_%s_[0-9A-Za-z]{22}_[0-9A-Za-z]{6}" % environment,
                        c.api_key), c.api_key
    assert re.fullmatch(r"css_%s_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}" % environment,
                        c.api_secret), c.api_secret
    assert checksum_ok(c.api_key), c.api_key
    assert checksum_ok(c.api_secret), c.api_secret


def test_exchange_with_json_body(new_client, api, envelope, token_lifetime):
    c = new_client(scopes=("profile:read", "countries:read"))
    before = time.time()
    resp = api("POST", TOKEN_PATH,
               json_body={"api_key": c.api_key, "api_secret": c.api_secret})
    data = envelope.ok(resp)
    assert set(data) == {"access", "token_type", "expires_in", "expires_at",
                         "scopes", "application_id"}, resp
    assert data["token_type"] == "Bearer"
    assert data["access"].count(".") == 2
    assert data["expires_in"] == token_lifetime
    expires_at = parse_rfc3339(data["expires_at"]).timestamp()
    assert before + token_lifetime - 5 <= expires_at <= time.time() + token_lifetime + 5
    assert sorted(data["scopes"]) == ["countries:read", "profile:read"]
    assert data["application_id"] == c.app_id
    # The secret is never echoed back.
    assert c.api_secret.encode() not in resp.raw


def test_exchange_with_headers_and_no_body(new_client, api, envelope):
    c = new_client()
    resp = api("POST", TOKEN_PATH,
               headers={"X-API-Key": c.api_key, "X-API-Secret": c.api_secret})
    data = envelope.ok(resp)
    assert data["application_id"] == c.app_id
    # The token works.
    assert api("GET", "/v1/profile/", token=data["access"]).status == 200


def test_token_header_and_claims(new_client, jwt, environment, token_lifetime,
                                 biggest_plan):
    c = new_client(scopes=("profile:read", "profile:write"))
    before = int(time.time())
    token = c.token()
    after = int(time.time())
    header, claims, _, _ = jwt.decode(token)
    assert header["alg"] == "HS256"
    assert header["typ"] == "JWT"  # libjwt 1.10 allows no other (docs/DECISIONS.md)
    assert isinstance(header.get("kid"), str) and header["kid"]
    assert claims["aud"] == "civicsentinel-api" or \
        claims["aud"] == ["civicsentinel-api"]
    assert isinstance(claims["iss"], str) and claims["iss"]
    assert str(claims["sub"]) == str(c.account_id)
    assert str(claims["app"]) == str(c.app_id)
    assert str(claims["key"]) == str(c.key_id)
    assert sorted(claims["scope"].split(" ")) == ["profile:read", "profile:write"]
    assert claims["plan"] == biggest_plan
    assert claims["env"] == environment
    assert before - 2 <= claims["iat"] <= after + 2
    assert claims["nbf"] <= after + 2
    assert claims["exp"] - claims["iat"] == token_lifetime
    assert isinstance(claims["jti"], str) and claims["jti"]


def test_each_token_has_a_fresh_jti(new_client, jwt):
    c = new_client()
    jtis = {jwt.decode(c.new_token())[1]["jti"] for _ in range(3)}
    assert len(jtis) == 3


def test_keys_in_query_string_are_refused(new_client, api, envelope):
    c = new_client()
    query = "?api_key=%s&api_secret=%s" % (c.api_key, c.api_secret)
    envelope.error(api("POST", TOKEN_PATH + query), 400, "INVALID_REQUEST")
    # Even with a valid body alongside, the leaked query string is refused.
    resp = api("POST", TOKEN_PATH + query,
               json_body={"api_key": c.api_key, "api_secret": c.api_secret})
    envelope.error(resp, 400, "INVALID_REQUEST")
    envelope.error(api("POST", TOKEN_PATH + "?api_key=" + c.api_key,
                       headers={"X-API-Key": c.api_key,
                                "X-API-Secret": c.api_secret}),
                   400, "INVALID_REQUEST")


def test_missing_credentials(api, envelope):
    envelope.error(api("POST", TOKEN_PATH, json_body={}), 401,
                   "INVALID_API_KEY")
    envelope.error(api("POST", TOKEN_PATH), 401, "INVALID_API_KEY")


def test_missing_secret(new_client, api, envelope):
    c = new_client()
    resp = api("POST", TOKEN_PATH, json_body={"api_key": c.api_key})
    assert resp.status == 401, resp
    envelope.error(resp, 401)
    assert resp.code in ("INVALID_API_KEY", "INVALID_CREDENTIALS"), resp


def test_wrong_secret(new_client, exchange_response, envelope, environment):
    c = new_client()
    wrong = make_key("css", environment)
    envelope.error(exchange_response(c.api_key, wrong), 401,
                   "INVALID_CREDENTIALS")
    # The other key's secret does not open this key either.
    other = new_client()
    envelope.error(exchange_response(c.api_key, other.api_secret), 401,
                   "INVALID_CREDENTIALS")


def test_bad_checksum_key(new_client, exchange_response, envelope):
    c = new_client()
    resp = exchange_response(break_checksum(c.api_key), c.api_secret)
    envelope.error(resp, 401, "INVALID_API_KEY")


def test_unknown_key_with_valid_checksum(exchange_response, envelope,
                                         environment):
    resp = exchange_response(make_key("csk", environment),
                             make_key("css", environment))
    envelope.error(resp, 401, "INVALID_API_KEY")


def test_malformed_keys(exchange_response, envelope, environment):
    for bad in ("hello", "csk_%s_" % environment, "csk_%s_abc_def" % environment,
                make_key("css", environment),  # a secret used as a key
                make_key("csk", environment, body_len=21)):
        resp = exchange_response(bad, make_key("css", environment))
        envelope.error(resp, 401, "INVALID_API_KEY")


def test_key_of_other_environment(new_client, exchange_response, envelope,
                                  environment):
    other = other_environment(environment)
    c = new_client()
    # Same body as a real key, re-labelled for the other environment with
    # a valid checksum: refused because of the environment, not the format.
    body = c.api_key.split("_")[2]
    key = make_key("csk", other, body=body)
    secret_body = c.api_secret.split("_")[2]
    secret = make_key("css", other, body=secret_body)
    resp = exchange_response(key, secret)
    envelope.error(resp, 401, "INVALID_API_KEY")
    assert "environment" in resp.json["msg"].lower(), resp


def test_exchange_is_not_counted(new_client, exchange_response, api):
    c = new_client(per_day=2)
    for _ in range(5):
        assert exchange_response(c.api_key, c.api_secret).status == 200
    token = c.token()
    usage = api("GET", "/v1/usage/", token=token)
    assert usage.status == 200, usage
    apps = {a["id"]: a for a in usage.data["applications"]}
    assert apps[c.app_id]["used_today"] == 0, usage
    first = api("GET", "/v1/supported-countries/", token=token)
    assert first.status == 200, first
    assert first.headers["X-RateLimit-Used"] == "1", first


def test_exchange_rejects_non_string_credentials(api):
    resp = api("POST", TOKEN_PATH, json_body={"api_key": 12, "api_secret": []})
    assert resp.status in (400, 401), resp
    assert resp.json["erc"] == 0, resp


def test_checksum_helper_agrees_with_b62_alphabet():
    # Guards the helper the other tests rely on.
    assert B62[:10] == "0123456789" and B62[10] == "A" and B62[36] == "a"
    key = make_key("csk", "test", body="A" * 22)
    assert checksum_ok(key)
    assert not checksum_ok(break_checksum(key))
