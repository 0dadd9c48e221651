"""Key lifecycle seen through the API: revocation, rotation, plans."""

import time

from conftest import checksum_ok, parse_rfc3339

PROFILE = "/v1/profile/"
COUNTRIES = "/v1/supported-countries/"


def test_revocation_stops_existing_tokens_at_once(new_client, api, admin,
                                                  envelope, exchange_response):
    c = new_client()
    token = c.token()
    assert api("GET", PROFILE, token=token).status == 200
    result = admin("key", "revoke", "--key", c.api_key)
    assert result["revoked"] is True, result
    envelope.error(api("GET", PROFILE, token=token), 401, "INVALID_TOKEN")
    envelope.error(api("GET", "/v1/usage/", token=token), 401, "INVALID_TOKEN")
    envelope.error(exchange_response(c.api_key, c.api_secret), 401,
                   "INVALID_API_KEY")


def test_revoking_one_key_leaves_the_others_working(new_client, api, admin,
                                                    exchange):
    c = new_client()
    spare = c.issue_key()
    spare_token = exchange(spare["api_key"], spare["api_secret"])
    token = c.token()
    admin("key", "revoke", "--key", c.api_key)
    assert api("GET", PROFILE, token=token).status == 401
    resp = api("GET", PROFILE, token=spare_token)
    assert resp.status == 200, resp


def test_rotation_gives_a_new_pair_and_keeps_the_old_one_for_a_day(
        new_client, api, admin, exchange, jwt, envelope):
    c = new_client(scopes=("profile:read", "countries:read"))
    old_token = c.token()
    before = time.time()
    rotated = admin("key", "rotate", "--key", c.api_key)
    assert {"id", "api_key", "api_secret", "old_key_valid_until"} <= set(rotated)
    assert rotated["api_key"] != c.api_key
    assert rotated["api_secret"] != c.api_secret
    assert rotated["id"] != c.key_id
    assert checksum_ok(rotated["api_key"]) and checksum_ok(rotated["api_secret"])
    until = parse_rfc3339(rotated["old_key_valid_until"]).timestamp()
    assert abs(until - (before + 86400)) < 300, rotated

    # Both pairs exchange; both tokens work; the new one has the same scopes.
    old_again = exchange(c.api_key, c.api_secret)
    new_token = exchange(rotated["api_key"], rotated["api_secret"])
    for token in (old_token, old_again, new_token):
        assert api("GET", PROFILE, token=token).status == 200
    assert sorted(jwt.decode(new_token)[1]["scope"].split()) == \
        sorted(jwt.decode(old_token)[1]["scope"].split())
    # The old secret does not open the new key, nor the reverse.
    for key, secret in ((rotated["api_key"], c.api_secret),
                        (c.api_key, rotated["api_secret"])):
        resp = api("POST", "/v1/developer-token/",
                   json_body={"api_key": key, "api_secret": secret})
        envelope.error(resp, 401, "INVALID_CREDENTIALS")


def test_rotated_then_revoked_old_key(new_client, api, admin, exchange,
                                      exchange_response, envelope):
    c = new_client()
    rotated = admin("key", "rotate", "--key", c.api_key)
    admin("key", "revoke", "--key", c.api_key)
    envelope.error(exchange_response(c.api_key, c.api_secret), 401,
                   "INVALID_API_KEY")
    token = exchange(rotated["api_key"], rotated["api_secret"])
    assert api("GET", PROFILE, token=token).status == 200


def test_rotated_key_shares_the_application_quota(new_client, api, admin,
                                                  exchange):
    c = new_client()
    c.metered(c.get(COUNTRIES), used=1)
    rotated = admin("key", "rotate", "--key", c.api_key)
    token = exchange(rotated["api_key"], rotated["api_secret"])
    c.metered(api("GET", COUNTRIES, token=token), used=2)


def test_key_list_shows_keys_without_secrets(new_client, admin):
    c = new_client()
    rotated = admin("key", "rotate", "--key", c.api_key)
    listing = admin("key", "list", "--app", c.app_id)
    keys = listing["keys"]
    assert isinstance(keys, list)
    ids = {k["id"] for k in keys}
    assert {c.key_id, rotated["id"]} <= ids, listing
    text = repr(listing)
    assert c.api_secret not in text and rotated["api_secret"] not in text
    assert c.api_secret.rsplit("_", 1)[0] not in text


def test_key_expiry_is_recorded(new_client, admin):
    c = new_client()
    key = admin("key", "issue", "--app", c.app_id, "--scopes", "profile:read",
                "--expires-days", "3")
    expires = parse_rfc3339(key["expires_at"]).timestamp()
    assert abs(expires - (time.time() + 3 * 86400)) < 300, key
    unlimited = c.issue_key()
    assert unlimited.get("expires_at") is None, unlimited


def test_key_issue_beyond_the_plan_fails(new_client, admin_fail):
    c = new_client(scopes=("profile:read",), plan="free")
    rc, err = admin_fail("key", "issue", "--app", c.app_id,
                         "--scopes", "profile:read,destinations:whatsapp:join")
    assert err.strip(), "no message on stderr"


def test_upgrade_takes_effect_for_existing_tokens(new_client, admin, plans,
                                                  biggest_plan):
    c = new_client(scopes=("countries:read",), plan="free")
    c.metered(c.get(COUNTRIES), plan="free",
              limit=plans["free"]["max_api_requests_per_app_per_day"])
    admin("plan", "set", "--account", c.account_id, "--plan", biggest_plan)
    resp = c.get(COUNTRIES)
    c.metered(resp, plan=biggest_plan, used=2,
              limit=plans[biggest_plan]["max_api_requests_per_app_per_day"])

