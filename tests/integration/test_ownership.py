"""One account never sees or changes another's objects (SPEC §1, §7):
every object endpoint answers another account's id exactly as it
answers a missing one, lists never show foreign rows, and the owner's
objects are left as they were.  End to end through the API: the
destination and subscription are created with the real endpoints."""

import pytest

from conftest import request, unique

SCOPES = ("profile:read", "profile:write", "destinations:read",
          "destinations:write", "subscriptions:read", "subscriptions:write",
          "dispatches:read", "billing:read")

MISSING_ID = 2**62


@pytest.fixture
def owner_and_intruder(new_client, envelope):
    owner, intruder = new_client(scopes=SCOPES), new_client(scopes=SCOPES)
    dest = envelope.ok(request(
        "POST", "/v1/alert-destinations/", token=owner.token(),
        json_body={"label": unique("desk"), "channel": "email",
                   "identifier": unique("ops") + "@example.org"}), status=201)
    sub = envelope.ok(request(
        "POST", "/v1/alert-subscriptions/", token=owner.token(),
        json_body={"destination_id": dest["id"], "stream": "risk:FR",
                   "min_level": 2}), status=201)
    return owner, intruder, dest, sub


def same_answer(envelope, foreign, missing, status):
    """The foreign id and a missing id get the same status, code and
    message: nothing tells them apart."""
    a = envelope.error(foreign, status)
    b = envelope.error(missing, status)
    assert (a["code"], a["msg"]) == (b["code"], b["msg"]), (foreign, missing)


def test_object_endpoints_answer_foreign_ids_as_missing(owner_and_intruder, envelope):
    owner, intruder, dest, sub = owner_and_intruder
    t = intruder.token()
    cases = [
        ("PATCH", "/v1/profile/%d/", owner.account_id, {"first_name": "Mallory"}),
        ("GET", "/v1/alert-destinations/%d/", dest["id"], None),
        ("DELETE", "/v1/alert-destinations/%d/", dest["id"], None),
        ("DELETE", "/v1/alert-subscriptions/%d/", sub["id"], None),
    ]
    for method, path, foreign_id, body in cases:
        kw = {"json_body": body} if body is not None else {}
        foreign = request(method, path % foreign_id, token=t, **kw)
        missing = request(method, path % MISSING_ID, token=t, **kw)
        same_answer(envelope, foreign, missing, 404)


def test_foreign_destination_in_a_body_is_no_such_destination(owner_and_intruder,
                                                                envelope):
    owner, intruder, dest, _ = owner_and_intruder
    body = {"stream": "risk:DE"}
    foreign = request("POST", "/v1/alert-subscriptions/", token=intruder.token(),
                      json_body=dict(body, destination_id=dest["id"]))
    missing = request("POST", "/v1/alert-subscriptions/", token=intruder.token(),
                      json_body=dict(body, destination_id=MISSING_ID))
    assert envelope.validation(foreign, "destination_id") == \
        envelope.validation(missing, "destination_id")


def test_lists_never_show_foreign_rows(owner_and_intruder, envelope):
    owner, intruder, dest, sub = owner_and_intruder
    t = intruder.token()
    for path in ("/v1/alert-destinations/", "/v1/alert-subscriptions/",
                 "/v1/alert-dispatches/"):
        rows = envelope.ok(request("GET", path, token=t), is_list=True)
        assert rows == [], (path, rows)
    # Both accounts have a billing subscription (their plan's): each sees
    # its own only.
    theirs = envelope.ok(request("GET", "/v1/subscriptions/", token=owner.token()),
                         is_list=True)
    mine = envelope.ok(request("GET", "/v1/subscriptions/", token=t), is_list=True)
    assert theirs and mine
    assert not {s["id"] for s in theirs} & {s["id"] for s in mine}, (theirs, mine)
    rows = envelope.ok(request("GET", "/v1/alert-dispatches/?destination_id=%d" % dest["id"],
                               token=t), is_list=True)
    assert rows == []
    assert envelope.ok(request("GET", "/v1/profile/", token=t))["id"] == intruder.account_id


def test_the_owner_keeps_everything(owner_and_intruder, envelope):
    owner, intruder, dest, sub = owner_and_intruder
    t = intruder.token()
    request("PATCH", "/v1/profile/%d/" % owner.account_id, token=t,
            json_body={"first_name": "Mallory"})
    request("DELETE", "/v1/alert-destinations/%d/" % dest["id"], token=t)
    request("DELETE", "/v1/alert-subscriptions/%d/" % sub["id"], token=t)
    mine = owner.token()
    assert envelope.ok(request("GET", "/v1/profile/", token=mine))["first_name"] != "Mallory"
    got = envelope.ok(request("GET", "/v1/alert-destinations/%d/" % dest["id"], token=mine))
    assert got["status"] == "pending" and got["identifier"] == dest["identifier"], got
    subs = envelope.ok(request("GET", "/v1/alert-subscriptions/", token=mine), is_list=True)
    assert [s["id"] for s in subs] == [sub["id"]], subs
    assert subs[0]["destination_id"] == dest["id"] and subs[0]["min_level"] == 2
    # And the owner can still do what the intruder could not.
    envelope.ok(request("DELETE", "/v1/alert-subscriptions/%d/" % sub["id"], token=mine))
    envelope.ok(request("DELETE", "/v1/alert-destinations/%d/" % dest["id"], token=mine))
