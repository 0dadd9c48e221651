"""GET /v1/alert-dispatches/: delivery history with filters and paging.

The dispatcher that writes these rows comes in a later issue, so the
tests write alerts, dispatches and attempts straight into the database
(dbutil) and check what the API makes of them."""

import datetime
import types
import urllib.parse

import pytest

import dbutil

DISPATCHES = "/v1/alert-dispatches/"
ROW_KEYS = {"id", "status", "attempts", "created_at", "next_attempt_at",
            "delivered_at", "destination", "alert", "history"}
ATTEMPT_KEYS = {"attempted_at", "outcome", "response_code", "duration_ms",
                "error"}
STATUSES = ("pending", "retrying", "delivered", "failed", "skipped_quota")

SECOND = datetime.timedelta(seconds=1)
HOUR = datetime.timedelta(hours=1)


def iso(dt):
    """since= value in the Z form."""
    return dbutil.utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def world(new_client):
    """One account (w.client) with five dispatches over two destinations
    and three alerts, and a stranger with a newer dispatch of its own.

    Newest first the caller's rows are x5, x4, x3, x2, x1; x1 and x2 share
    their created_at, so the id decides (x2 first)."""
    w = types.SimpleNamespace()
    w.client = new_client(scopes=("dispatches:read",))
    acct = w.client.account_id
    w.t0 = dbutil.utc(-datetime.timedelta(days=10))
    w.hook = dbutil.insert_destination(acct, "webhook", label="Ops hook")
    w.mail = dbutil.insert_destination(acct, "email", label="Inbox",
                                       status="pending")
    w.fr = dbutil.insert_alert("FR", 4, 2, created_at=w.t0 - HOUR)
    w.de = dbutil.insert_alert("DE", 2, 3, created_at=w.t0)
    w.it = dbutil.insert_alert("IT", 5, None, created_at=w.t0 + 2 * HOUR)

    w.x1 = dbutil.insert_dispatch(w.fr, w.hook, acct, "delivered", 1,
                                  created_at=w.t0,
                                  delivered_at=w.t0 + 5 * SECOND)
    dbutil.insert_attempt(w.x1, w.t0 + 4 * SECOND, "success", 200, 153)
    w.x2 = dbutil.insert_dispatch(w.fr, w.mail, acct, "failed", 12,
                                  created_at=w.t0)
    for k in range(12):
        dbutil.insert_attempt(w.x2, w.t0 + k * HOUR, "failure", None, 10 + k,
                              "attempt %d: connection refused" % k)
    w.x3 = dbutil.insert_dispatch(w.de, w.hook, acct, "retrying", 3,
                                  created_at=w.t0 + HOUR,
                                  next_attempt_at=w.t0 + HOUR + 300 * SECOND)
    # Two attempts in the same second: the later id is the newer one.
    dbutil.insert_attempt(w.x3, w.t0 + HOUR, "failure", 500, 40,
                          "HTTP 500 from receiver")
    dbutil.insert_attempt(w.x3, w.t0 + HOUR, "failure", 429, 42, None)
    dbutil.insert_attempt(w.x3, w.t0 + HOUR + 5 * SECOND, "failure", 503,
                          41, "HTTP 503 \"busy\" \u00e9t\u00e9; DROP TABLE x;")
    w.x4 = dbutil.insert_dispatch(w.de, w.mail, acct, "pending", 0,
                                  created_at=w.t0 + 2 * HOUR,
                                  next_attempt_at=w.t0 + 2 * HOUR)
    w.x5 = dbutil.insert_dispatch(w.it, w.hook, acct, "skipped_quota", 0,
                                  created_at=w.t0 + 3 * HOUR)
    w.newest_first = [w.x5, w.x4, w.x3, w.x2, w.x1]

    w.stranger = new_client(scopes=("dispatches:read",))
    w.their_dest = dbutil.insert_destination(w.stranger.account_id)
    w.theirs = dbutil.insert_dispatch(w.fr, w.their_dest,
                                      w.stranger.account_id, "pending", 0,
                                      created_at=w.t0 + 4 * HOUR)
    return w


def listing(c, envelope, query=""):
    resp = c.get(DISPATCHES + query)
    data = envelope.ok(resp, is_list=True)
    assert resp.json["total"] >= len(data), resp
    return data, resp


def ids(c, envelope, query=""):
    data, resp = listing(c, envelope, query)
    assert resp.json["total"] == len(data), resp
    return [d["id"] for d in data]


# ------------------------------------------------------------------- rows

def test_list_newest_first_with_full_rows(world, envelope):
    w = world
    data, resp = listing(w.client, envelope)
    assert resp.json["total"] == 5 and resp.json["next"] is None
    assert [d["id"] for d in data] == w.newest_first
    for d in data:
        assert set(d) == ROW_KEYS, d
        assert set(d["destination"]) == {"id", "label", "channel"}
        assert set(d["alert"]) == {"id", "stream", "country", "level",
                                   "previous_level", "created_at"}
        for h in d["history"]:
            assert set(h) == ATTEMPT_KEYS, h
    w.client.metered(resp)

    x3 = data[2]
    assert x3 == {
        "id": w.x3, "status": "retrying", "attempts": 3,
        "created_at": dbutil.rfc3339(w.t0 + HOUR),
        "next_attempt_at": dbutil.rfc3339(w.t0 + HOUR + 300 * SECOND),
        "delivered_at": None,
        "destination": {"id": w.hook, "label": "Ops hook",
                        "channel": "webhook"},
        "alert": {"id": w.de, "stream": "risk:DE", "country": "DE",
                  "level": 2, "previous_level": 3,
                  "created_at": dbutil.rfc3339(w.t0)},
        # Newest first; equal times by id, newest id first.
        "history": [
            {"attempted_at": dbutil.rfc3339(w.t0 + HOUR + 5 * SECOND),
             "outcome": "failure", "response_code": 503, "duration_ms": 41,
             "error": "HTTP 503 \"busy\" \u00e9t\u00e9; DROP TABLE x;"},
            {"attempted_at": dbutil.rfc3339(w.t0 + HOUR),
             "outcome": "failure", "response_code": 429, "duration_ms": 42,
             "error": None},
            {"attempted_at": dbutil.rfc3339(w.t0 + HOUR),
             "outcome": "failure", "response_code": 500, "duration_ms": 40,
             "error": "HTTP 500 from receiver"},
        ],
    }

    x1 = data[4]
    assert x1["status"] == "delivered" and x1["attempts"] == 1
    assert x1["delivered_at"] == dbutil.rfc3339(w.t0 + 5 * SECOND)
    assert x1["next_attempt_at"] is None
    assert x1["history"] == [{
        "attempted_at": dbutil.rfc3339(w.t0 + 4 * SECOND),
        "outcome": "success", "response_code": 200, "duration_ms": 153,
        "error": None}]
    assert x1["alert"]["previous_level"] == 2
    assert data[0]["alert"]["previous_level"] is None


def test_history_holds_the_ten_newest_attempts(world, envelope):
    w = world
    data, _ = listing(w.client, envelope, "?status=failed")
    assert [d["id"] for d in data] == [w.x2]
    x2 = data[0]
    assert x2["attempts"] == 12  # the count, beyond what history shows
    assert [h["error"] for h in x2["history"]] == [
        "attempt %d: connection refused" % k for k in range(11, 1, -1)]
    assert [h["attempted_at"] for h in x2["history"]] == [
        dbutil.rfc3339(w.t0 + k * HOUR) for k in range(11, 1, -1)]
    assert all(h["response_code"] is None for h in x2["history"])
    assert x2["destination"] == {"id": w.mail, "label": "Inbox",
                                 "channel": "email"}


def test_rows_without_attempts_have_empty_history(world, envelope):
    data, _ = listing(world.client, envelope, "?status=pending")
    assert len(data) == 1 and data[0]["history"] == []
    assert data[0]["attempts"] == 0


def test_empty_result(new_client, envelope):
    c = new_client(scopes=("dispatches:read",))
    data, resp = listing(c, envelope)
    assert data == [] and resp.json["total"] == 0
    assert resp.json["next"] is None


def test_deleted_destination_keeps_its_history(world, envelope):
    w = world
    dbutil.delete_destination(w.mail)
    assert ids(w.client, envelope, "?destination_id=%d" % w.mail) == [
        w.x4, w.x2]
    data, _ = listing(w.client, envelope, "?status=pending")
    assert data[0]["destination"]["label"] == "Inbox"


# -------------------------------------------------------------- isolation

def test_only_the_callers_rows(world, envelope):
    w = world
    assert ids(w.client, envelope) == w.newest_first
    assert ids(w.stranger, envelope) == [w.theirs]
    # Another account's destination as a filter is simply empty.
    assert ids(w.client, envelope, "?destination_id=%d" % w.their_dest) == []
    assert ids(w.stranger, envelope, "?destination_id=%d" % w.hook) == []
    assert ids(w.stranger, envelope, "?status=retrying") == []


# ---------------------------------------------------------------- filters

@pytest.mark.parametrize("status", STATUSES)
def test_status_filter(world, envelope, status):
    w = world
    expected = {"pending": [w.x4], "retrying": [w.x3], "delivered": [w.x1],
                "failed": [w.x2], "skipped_quota": [w.x5]}[status]
    data, _ = listing(w.client, envelope, "?status=" + status)
    assert [d["id"] for d in data] == expected
    assert all(d["status"] == status for d in data)


def test_destination_filter(world, envelope):
    w = world
    assert ids(w.client, envelope, "?destination_id=%d" % w.hook) == [
        w.x5, w.x3, w.x1]
    assert ids(w.client, envelope, "?destination_id=%d" % w.mail) == [
        w.x4, w.x2]
    assert ids(w.client, envelope, "?destination_id=%d"
               % (w.their_dest + 100000)) == []


def test_since_filter_bounds(world, envelope):
    w = world
    c = w.client
    # created_at >= since: a row created exactly at since is included.
    assert ids(c, envelope, "?since=" + iso(w.t0 + HOUR)) == [
        w.x5, w.x4, w.x3]
    assert ids(c, envelope, "?since=" + iso(w.t0 + HOUR + SECOND)) == [
        w.x5, w.x4]
    assert ids(c, envelope, "?since=" + iso(w.t0)) == w.newest_first
    assert ids(c, envelope, "?since=" + iso(w.t0 - SECOND)) == w.newest_first
    assert ids(c, envelope, "?since=" + iso(w.t0 + 3 * HOUR)) == [w.x5]
    assert ids(c, envelope, "?since=" + iso(w.t0 + 3 * HOUR + SECOND)) == []
    assert ids(c, envelope, "?since=1970-01-01T00:00:00Z") == w.newest_first
    assert ids(c, envelope, "?since=9999-12-31T23:59:59Z") == []
    # The +00:00 form works too (its '+' percent-encoded in a URL).
    plus = dbutil.rfc3339(w.t0 + 2 * HOUR)
    assert ids(c, envelope, "?since=" + urllib.parse.quote(plus)) == [
        w.x5, w.x4]


def test_filters_combined(world, envelope):
    w = world
    c = w.client
    hook = "destination_id=%d" % w.hook
    assert ids(c, envelope, "?status=retrying&" + hook) == [w.x3]
    assert ids(c, envelope, "?status=pending&" + hook) == []
    assert ids(c, envelope, "?since=%s&%s" % (iso(w.t0 + SECOND), hook)) == [
        w.x5, w.x3]
    assert ids(c, envelope, "?since=%s&%s&status=delivered"
               % (iso(w.t0), hook)) == [w.x1]
    assert ids(c, envelope, "?since=%s&%s&status=delivered"
               % (iso(w.t0 + SECOND), hook)) == []


# ----------------------------------------------------------------- paging

def follow(c, envelope, url):
    """All pages from url: (ids in order, the next link of each page)."""
    seen, links = [], []
    while url:
        resp = c.get(url)
        data = envelope.ok(resp, is_list=True)
        seen += [d["id"] for d in data]
        url = resp.json["next"]
        links.append(url)
    return seen, links


def test_paging_follows_next_links(world, envelope):
    w = world
    seen, links = follow(w.client, envelope, DISPATCHES + "?page_size=2")
    assert seen == w.newest_first
    assert len(links) == 3 and links[-1] is None
    for n, link in enumerate(links[:-1], start=2):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
        assert query == {"page_size": ["2"], "page": [str(n)]}, link
        assert link.startswith("http"), link


def test_paging_keeps_the_filters(world, envelope):
    w = world
    url = DISPATCHES + "?destination_id=%d&page_size=1&since=%s" % (
        w.hook, iso(w.t0))
    seen, links = follow(w.client, envelope, url)
    assert seen == [w.x5, w.x3, w.x1]
    for link in links[:-1]:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
        assert query["destination_id"] == [str(w.hook)], link
        assert query["since"] == [iso(w.t0)], link


def test_page_beyond_the_last(world, envelope):
    data, resp = listing(world.client, envelope, "?page=3&page_size=2")
    assert [d["id"] for d in data] == [world.x1]
    assert resp.json["total"] == 5 and resp.json["next"] is None
    data, resp = listing(world.client, envelope, "?page=4&page_size=2")
    assert data == [] and resp.json["total"] == 5
    assert resp.json["next"] is None


# ------------------------------------------------------------ bad queries

@pytest.mark.parametrize("query,fields", [
    ("status=bogus", {"status"}),
    ("status=DELIVERED", {"status"}),
    ("status=", {"status"}),
    ("status=pending%20", {"status"}),
    ("status=skipped_quota_and_more_than_fits", {"status"}),
    ("status=pending&status=failed", {"status"}),
    ("status=pending'%20OR%20'1'='1", {"status"}),
    ("destination_id=0", {"destination_id"}),
    ("destination_id=-1", {"destination_id"}),
    ("destination_id=x", {"destination_id"}),
    ("destination_id=1.5", {"destination_id"}),
    ("destination_id=", {"destination_id"}),
    ("destination_id=99999999999999999999", {"destination_id"}),
    ("since=yesterday", {"since"}),
    ("since=", {"since"}),
    ("since=2026-13-01T00:00:00Z", {"since"}),
    ("since=2026-02-30T00:00:00Z", {"since"}),
    ("since=2026-01-01T24:00:00Z", {"since"}),
    ("since=2026-01-01", {"since"}),
    ("since=2026-01-01T00:00Z", {"since"}),
    ("since=2026-01-01T00:00:00+00:00", {"since"}),  # '+' decodes to ' '
    ("since=1969-12-31T23:59:59Z", {"since"}),
    ("since=1700000000", {"since"}),
    ("since=2026-01-01T00:00:00Z&since=2026-01-02T00:00:00Z", {"since"}),
    ("since=" + "2" * 200, {"since"}),
    ("status=x&destination_id=0&since=never",
     {"status", "destination_id", "since"}),
    ("page=0", {"page"}),
    ("page_size=101", {"page_size"}),
    ("page=-1&page_size=0&status=x", {"page", "page_size"}),
])
def test_bad_queries(world, envelope, query, fields):
    resp = world.client.get(DISPATCHES + "?" + query)
    assert set(envelope.validation(resp, *fields)) == fields, resp


# ----------------------------------------------------------------- access

def test_scope_required(new_client, api, envelope):
    c = new_client(scopes=("subscriptions:read", "destinations:read"))
    envelope.error(c.get(DISPATCHES), 403, "PERMISSION_DENIED")
    envelope.error(api("GET", DISPATCHES), 401, "INVALID_TOKEN")


def test_read_only(world, api, envelope):
    c = world.client
    for method in ("POST", "PATCH", "DELETE"):
        resp = api(method, DISPATCHES, token=c.token())
        envelope.error(resp, 405, "METHOD_NOT_ALLOWED")
    resp = api("DELETE", DISPATCHES + "%d/" % world.x1, token=c.token())
    envelope.error(resp, 404, "NOT_FOUND")
    assert ids(c, envelope) == world.newest_first
