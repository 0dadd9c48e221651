"""GET /v1/profile/ and PATCH /v1/profile/{id}/."""

import time

import pytest

from conftest import parse_rfc3339

PROFILE = "/v1/profile/"
PROFILE_KEYS = {"id", "email", "first_name", "phone_number", "country",
                "plan", "created_at", "coins"}
BASELINE = {"first_name": "Ada", "phone_number": "+447911123456",
            "country": "FR"}


def profile_url(account_id):
    return "%s%s/" % (PROFILE, account_id)


@pytest.fixture
def person(new_client, api, envelope):
    """A client whose profile holds BASELINE values."""
    c = new_client(scopes=("profile:read", "profile:write"))
    resp = api("PATCH", profile_url(c.account_id), token=c.token(),
               json_body=BASELINE)
    envelope.ok(resp)
    return c


def current(c, envelope):
    return envelope.ok(c.get(PROFILE))


def patch(api, c, body, **kw):
    return api("PATCH", profile_url(c.account_id), token=c.token(),
               json_body=body, **kw)


def test_get_profile(new_client, envelope):
    c = new_client(scopes=("profile:read",))
    resp = c.get(PROFILE)
    data = envelope.ok(resp)
    assert set(data) == PROFILE_KEYS, resp
    assert data["id"] == c.account_id
    assert data["email"] == c.email
    assert data["first_name"] is None
    assert data["phone_number"] is None
    assert data["country"] is None
    assert data["plan"] == c.plan
    created = parse_rfc3339(data["created_at"]).timestamp()
    assert abs(created - time.time()) < 600, data
    c.metered(resp, used=1)


def test_patch_updates_and_get_shows_it(new_client, api, envelope):
    c = new_client(scopes=("profile:read", "profile:write"))
    body = {"first_name": "Grace", "phone_number": "+14155550123",
            "country": "GB"}
    resp = patch(api, c, body)
    data = envelope.ok(resp)
    assert set(data) == PROFILE_KEYS, resp
    for field, value in body.items():
        assert data[field] == value, resp
    assert data["id"] == c.account_id and data["email"] == c.email
    assert current(c, envelope) == data


def test_partial_patch_keeps_other_fields(person, api, envelope):
    data = envelope.ok(patch(api, person, {"first_name": "Lovelace"}))
    assert data["first_name"] == "Lovelace"
    assert data["phone_number"] == BASELINE["phone_number"]
    assert data["country"] == BASELINE["country"]
    assert current(person, envelope) == data


def test_null_clears_a_field(person, api, envelope):
    data = envelope.ok(patch(api, person, {"phone_number": None,
                                           "country": None}))
    assert data["phone_number"] is None and data["country"] is None
    assert data["first_name"] == BASELINE["first_name"]
    assert current(person, envelope) == data


@pytest.mark.parametrize("field,value", [
    ("first_name", "x" * 100),
    ("first_name", "Zoë Ångström-Łukasz"),
    ("phone_number", "+1234567"),             # 7 digits
    ("phone_number", "+123456789012345"),     # 15 digits
    ("country", "GB"),
])
def test_boundary_values_are_accepted(person, api, envelope, field, value):
    data = envelope.ok(patch(api, person, {field: value}))
    assert data[field] == value
    assert current(person, envelope)[field] == value


@pytest.mark.parametrize("field,value", [
    ("first_name", ""),
    ("first_name", "x" * 101),
    ("first_name", "bell\x07"),
    ("first_name", "two\nlines"),
    ("first_name", "tab\tbed"),
    ("first_name", 42),
    ("first_name", ["Ada"]),
    ("phone_number", "447911123456"),         # no +
    ("phone_number", "+0447911123"),          # first digit zero
    ("phone_number", "+123456"),              # 6 digits
    ("phone_number", "+1234567890123456"),    # 16 digits
    ("phone_number", "+44 7911 123456"),      # spaces
    ("phone_number", "+44791112345a"),
    ("phone_number", "+"),
    ("phone_number", 447911123456),
    ("country", "XX"),                        # not an ISO 3166 code
    ("country", "GBR"),                       # alpha-3
    ("country", "G"),
    ("country", ""),
    ("country", 826),
])
def test_invalid_value_is_rejected_and_nothing_changes(person, api, envelope,
                                                       field, value):
    before = current(person, envelope)
    envelope.validation(patch(api, person, {field: value}), field)
    assert current(person, envelope) == before


@pytest.mark.parametrize("field", ["nickname", "email", "id", "plan",
                                   "created_at"])
def test_unknown_or_read_only_field_is_rejected(person, api, envelope, field):
    before = current(person, envelope)
    envelope.validation(patch(api, person, {field: "whatever@example.org"}),
                        field)
    assert current(person, envelope) == before


def test_valid_and_invalid_fields_together_change_nothing(person, api,
                                                          envelope):
    before = current(person, envelope)
    resp = patch(api, person, {"first_name": "Changed", "country": "XX"})
    envelope.validation(resp, "country")
    assert current(person, envelope) == before


def test_every_invalid_field_is_reported(person, api, envelope):
    before = current(person, envelope)
    resp = patch(api, person, {"first_name": "", "phone_number": "123",
                               "country": "XX"})
    envelope.validation(resp, "first_name", "phone_number", "country")
    assert current(person, envelope) == before


@pytest.mark.parametrize("body", [b"[]", b'"Ada"', b"null", b"42"])
def test_body_must_be_an_object(person, api, envelope, body):
    before = current(person, envelope)
    resp = api("PATCH", profile_url(person.account_id), token=person.token(),
               body=body, content_type="application/json")
    envelope.error(resp, 400)
    assert resp.code in ("INVALID_REQUEST", "VALIDATION_ERROR"), resp
    assert current(person, envelope) == before


def test_invalid_json_and_wrong_media_type(person, api, envelope):
    before = current(person, envelope)
    url = profile_url(person.account_id)
    envelope.error(api("PATCH", url, token=person.token(),
                       body=b'{"first_name": ', content_type="application/json"),
                   400, "INVALID_REQUEST")
    envelope.error(api("PATCH", url, token=person.token(),
                       body=b'{"first_name": "Text"}', content_type="text/plain"),
                   415, "UNSUPPORTED_MEDIA_TYPE")
    assert current(person, envelope) == before


def test_another_accounts_profile_is_not_found(person, new_client, api,
                                               envelope):
    victim = new_client(scopes=("profile:read", "profile:write"))
    envelope.ok(patch(api, victim, {"first_name": "Victim"}))
    resp = api("PATCH", profile_url(victim.account_id), token=person.token(),
               json_body={"first_name": "Mallory"})
    envelope.error(resp, 404, "NOT_FOUND")
    assert current(victim, envelope)["first_name"] == "Victim"
    assert current(person, envelope)["first_name"] == BASELINE["first_name"]


@pytest.mark.parametrize("bad_id", ["999999999", "0"])
def test_unknown_profile_id(person, api, envelope, bad_id):
    resp = api("PATCH", "%s%s/" % (PROFILE, bad_id), token=person.token(),
               json_body={"first_name": "Nobody"})
    envelope.error(resp, 404, "NOT_FOUND")


@pytest.mark.parametrize("bad_id", ["-1", "abc", "1x", "99999999999999999999999"])
def test_malformed_profile_id(person, api, envelope, bad_id):
    resp = api("PATCH", "%s%s/" % (PROFILE, bad_id), token=person.token(),
               json_body={"first_name": "Nobody"})
    assert resp.status in (400, 404), resp
    envelope.error(resp, resp.status)
    assert current(person, envelope)["first_name"] == BASELINE["first_name"]


def test_patch_without_trailing_slash(person, api, envelope):
    resp = api("PATCH", "%s%s" % (PROFILE, person.account_id),
               token=person.token(), json_body={"first_name": "Slashless"})
    assert envelope.ok(resp)["first_name"] == "Slashless"


def test_patch_on_collection_is_not_allowed(person, api, envelope):
    resp = api("PATCH", PROFILE, token=person.token(),
               json_body={"first_name": "Nope"})
    envelope.error(resp, 405, "METHOD_NOT_ALLOWED")


def test_read_needs_profile_read(new_client, envelope):
    c = new_client(scopes=("countries:read", "profile:write"))
    envelope.error(c.get(PROFILE), 403, "PERMISSION_DENIED")


def test_write_needs_profile_write(new_client, api, envelope):
    c = new_client(scopes=("profile:read",))
    resp = patch(api, c, {"first_name": "NoScope"})
    envelope.error(resp, 403, "PERMISSION_DENIED")
    assert current(c, envelope)["first_name"] is None


def test_patch_needs_a_token(person, api, envelope):
    resp = api("PATCH", profile_url(person.account_id),
               json_body={"first_name": "Anon"})
    envelope.error(resp, 401, "INVALID_TOKEN")
    assert current(person, envelope)["first_name"] == BASELINE["first_name"]
