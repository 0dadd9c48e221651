"""Bearer-token verification: forged and malformed tokens are refused.

Tokens are forged with the deployment's real signing key (raw bytes of
$CIVIC_VAR/secrets/jwt.key), so each test isolates one verification rule.
The control tests prove the forging helper itself produces tokens the
server accepts; without them the rejections below would prove nothing."""

import secrets
import time

import pytest

PROFILE = "/v1/profile/"


@pytest.fixture
def real(new_client, jwt):
    """(client, header, claims) of a freshly exchanged real token."""
    c = new_client(scopes=("profile:read",))
    header, claims, _, _ = jwt.decode(c.token())
    return c, header, claims


def call(api, token):
    return api("GET", PROFILE, token=token)


def test_signing_key_reproduces_real_signature(real, jwt):
    c, _, _, = real
    _, _, signature, signing_input = jwt.decode(c.token())
    assert jwt.sign(signing_input) == signature, \
        "the HMAC key in $CIVIC_VAR/secrets/jwt.key does not sign the tokens"


def test_control_resigned_token_is_accepted(real, api, jwt):
    c, header, claims = real
    claims = dict(claims, jti=secrets.token_hex(8))
    resp = call(api, jwt.forge(header, claims))
    assert resp.status == 200, resp
    assert resp.data["id"] == c.account_id


def test_alg_none_is_refused(real, api, jwt, envelope):
    _, header, claims = real
    for head in ({"alg": "none"}, dict(header, alg="none"),
                 dict(header, alg="None")):
        token = jwt.forge(head, claims, signature=b"")
        envelope.error(call(api, token), 401, "INVALID_TOKEN")


def test_other_hmac_algorithms_are_refused(real, api, jwt, envelope):
    _, header, claims = real
    for alg in ("HS384", "HS512"):
        token = jwt.forge(dict(header, alg=alg), claims)
        envelope.error(call(api, token), 401, "INVALID_TOKEN")


def test_tampered_payload_with_old_signature(real, api, jwt, envelope):
    c, _, claims = real
    tampered = dict(claims, scope="profile:read profile:write countries:read")
    token = jwt.replace_claims(c.token(), tampered)
    envelope.error(call(api, token), 401, "INVALID_TOKEN")


def test_signed_with_another_key(real, api, jwt, envelope):
    _, header, claims = real
    token = jwt.forge(header, claims, key=secrets.token_bytes(32))
    envelope.error(call(api, token), 401, "INVALID_TOKEN")


def test_expired_token(real, api, jwt, envelope):
    _, header, claims = real
    t = int(time.time())
    expired = dict(claims, iat=t - 1000, nbf=t - 1000, exp=t - 120)
    envelope.error(call(api, jwt.forge(header, expired)), 401, "TOKEN_EXPIRED")


def test_not_yet_valid_token(real, api, jwt, envelope):
    _, header, claims = real
    t = int(time.time())
    future = dict(claims, iat=t, nbf=t + 600, exp=t + 1500)
    resp = call(api, jwt.forge(header, future))
    envelope.error(resp, 401)
    assert resp.code in ("INVALID_TOKEN", "TOKEN_EXPIRED"), resp


def test_token_without_exp(real, api, jwt, envelope):
    _, header, claims = real
    claims = {k: v for k, v in claims.items() if k != "exp"}
    resp = call(api, jwt.forge(header, claims))
    envelope.error(resp, 401)


def test_wrong_audience(real, api, jwt, envelope):
    _, header, claims = real
    for aud in ("civicsentinel-console", "someone-else", ""):
        token = jwt.forge(header, dict(claims, aud=aud))
        envelope.error(call(api, token), 401, "INVALID_TOKEN")
    token = jwt.forge(header, {k: v for k, v in claims.items() if k != "aud"})
    envelope.error(call(api, token), 401, "INVALID_TOKEN")


def test_wrong_issuer(real, api, jwt, envelope):
    _, header, claims = real
    token = jwt.forge(header, dict(claims, iss="https://evil.example"))
    envelope.error(call(api, token), 401, "INVALID_TOKEN")


def test_wrong_typ(real, api, jwt, envelope):
    _, header, claims = real
    for typ in ("at+jwt", "refresh+jwt"):
        token = jwt.forge(dict(header, typ=typ), claims)
        envelope.error(call(api, token), 401, "INVALID_TOKEN")
    token = jwt.forge({k: v for k, v in header.items() if k != "typ"}, claims)
    envelope.error(call(api, token), 401, "INVALID_TOKEN")


def test_missing_authorization(api, envelope):
    resp = api("GET", PROFILE)
    envelope.error(resp, 401, "INVALID_TOKEN")
    assert resp.headers.get("WWW-Authenticate", "").lower().startswith("bearer"), resp


@pytest.mark.parametrize("value", [
    "Bearer abc",
    "Bearer ",
    "Bearer a.b.c",
    "Basic dXNlcjpwYXNz",
    "abc",
])
def test_garbage_authorization(api, envelope, value):
    resp = api("GET", PROFILE, headers={"Authorization": value})
    envelope.error(resp, 401, "INVALID_TOKEN")


def test_token_for_another_account_cannot_be_minted(real, new_client, api, jwt,
                                                    envelope):
    # Changing sub with the old signature is caught by the signature check,
    # so the account in the response is always the token's own.
    c, _, claims = real
    other = new_client()
    token = jwt.replace_claims(c.token(), dict(claims, sub=str(other.account_id)))
    envelope.error(call(api, token), 401, "INVALID_TOKEN")
