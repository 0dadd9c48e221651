"""GET/POST /v1/alert-subscriptions/ and DELETE /v1/alert-subscriptions/{id}/.

Destinations are written straight into the database (dbutil): their own
endpoint is tested in its own file, and some of their states (disabled,
another account's, deleted) are what these tests are about."""

import threading
import time
import urllib.parse

import pytest

import dbutil
from conftest import parse_rfc3339

SUBS = "/v1/alert-subscriptions/"
SCOPES = ("subscriptions:read", "subscriptions:write")
OBJECT_KEYS = {"id", "destination_id", "stream", "min_level", "created_at",
               "destination"}
DESTINATION_KEYS = {"label", "channel", "status"}
CAP = 500
NO_SUCH_DESTINATION = "no such destination"


def sub_url(sub_id):
    return "%s%s/" % (SUBS, sub_id)


def create(api, c, body, **kw):
    return api("POST", SUBS, token=c.token(), json_body=body, **kw)


def cancel(api, c, sub_id):
    return api("DELETE", sub_url(sub_id), token=c.token())


def listing(c, envelope, query=""):
    resp = c.get(SUBS + query)
    return envelope.ok(resp, is_list=True), resp


def live_rows(account_id):
    return [r for r in dbutil.subscription_rows(account_id) if r[4] is None]


@pytest.fixture
def owner(new_client):
    """A client with both subscription scopes and one active webhook
    destination (owner.dest, owner.dest_label)."""
    c = new_client(scopes=SCOPES)
    c.dest_label = "Ops webhook"
    c.dest = dbutil.insert_destination(c.account_id, "webhook",
                                       label=c.dest_label)
    return c


def subscribe(api, envelope, c, stream, destination_id=None, **extra):
    body = dict(destination_id=destination_id or c.dest, stream=stream,
                **extra)
    return envelope.ok(create(api, c, body), status=201)


# ------------------------------------------------------------------ create

def test_create_returns_the_subscription(owner, api, envelope):
    resp = create(api, owner, {"destination_id": owner.dest,
                               "stream": "risk:FR", "min_level": 3})
    data = envelope.ok(resp, status=201)
    assert set(data) == OBJECT_KEYS, resp
    assert isinstance(data["id"], int) and data["id"] > 0
    assert data["destination_id"] == owner.dest
    assert data["stream"] == "risk:FR"
    assert data["min_level"] == 3
    created = parse_rfc3339(data["created_at"]).timestamp()
    assert abs(created - time.time()) < 600, data
    assert data["destination"] == {"label": owner.dest_label,
                                   "channel": "webhook", "status": "active"}
    # Metered like every other request (metered() wants a 200).
    assert resp.json["meta"]["usage"]["application_id"] == owner.app_id
    assert int(resp.headers["X-RateLimit-Used"]) >= 1
    rows = dbutil.subscription_rows(owner.account_id)
    assert rows == ((data["id"], owner.dest, "risk:FR", 3, None),)


def test_min_level_defaults_to_one_and_all_countries_stream(owner, api,
                                                            envelope):
    data = subscribe(api, envelope, owner, "risk:*")
    assert data["stream"] == "risk:*"
    assert data["min_level"] == 1


@pytest.mark.parametrize("level", [1, 5])
def test_min_level_bounds_accepted(owner, api, envelope, level):
    assert subscribe(api, envelope, owner, "risk:DE",
                     min_level=level)["min_level"] == level


def test_lower_case_country_is_stored_upper_case(owner, api, envelope):
    data = subscribe(api, envelope, owner, "risk:fr")
    assert data["stream"] == "risk:FR"
    assert dbutil.subscription_rows(owner.account_id)[0][2] == "risk:FR"
    # The normalised form is the one that is unique.
    resp = create(api, owner, {"destination_id": owner.dest,
                               "stream": "risk:FR"})
    envelope.error(resp, 409, "CONFLICT")


def test_pending_destination_can_be_subscribed(owner, api, envelope):
    dest = dbutil.insert_destination(owner.account_id, "email",
                                     status="pending", label="Inbox")
    data = subscribe(api, envelope, owner, "risk:GB", destination_id=dest)
    assert data["destination"] == {"label": "Inbox", "channel": "email",
                                   "status": "pending"}


def test_disabled_destination_is_refused(owner, api, envelope):
    dest = dbutil.insert_destination(owner.account_id, status="disabled")
    resp = create(api, owner, {"destination_id": dest, "stream": "risk:GB"})
    msg = envelope.validation(resp, "destination_id")
    assert "disabled" in msg["destination_id"], resp
    assert dbutil.subscription_rows(owner.account_id) == ()


def test_same_stream_on_two_destinations(owner, api, envelope):
    other = dbutil.insert_destination(owner.account_id, "email")
    a = subscribe(api, envelope, owner, "risk:IT")
    b = subscribe(api, envelope, owner, "risk:IT", destination_id=other)
    assert a["id"] != b["id"]
    assert len(live_rows(owner.account_id)) == 2


# -------------------------------------------------------------- duplicates

def test_duplicate_is_409_and_writes_nothing(owner, api, envelope):
    first = subscribe(api, envelope, owner, "risk:ES", min_level=2)
    resp = create(api, owner, {"destination_id": owner.dest,
                               "stream": "risk:ES", "min_level": 4})
    body = envelope.error(resp, 409, "CONFLICT")
    assert "risk:ES" in body["msg"], resp
    rows = dbutil.subscription_rows(owner.account_id)
    assert rows == ((first["id"], owner.dest, "risk:ES", 2, None),)


def test_cancelled_subscription_can_be_created_again(owner, api, envelope):
    first = subscribe(api, envelope, owner, "risk:PT")
    envelope.ok(cancel(api, owner, first["id"]))
    again = subscribe(api, envelope, owner, "risk:PT")
    assert again["id"] != first["id"]
    assert [r[0] for r in live_rows(owner.account_id)] == [again["id"]]


def tokens_of_own_keys(c, exchange, n):
    """n tokens of n keys of c's application.  Each thread of a
    concurrency test gets its own key: concurrent first requests of one
    key can deadlock in civic_authorize (006), which is not what these
    tests are about."""
    keys = [c.issue_key() for _ in range(n)]
    return [exchange(k["api_key"], k["api_secret"]) for k in keys]


def test_concurrent_duplicates_give_exactly_one_201(owner, api, exchange):
    tokens = tokens_of_own_keys(owner, exchange, 10)
    body = {"destination_id": owner.dest, "stream": "risk:NL"}
    results = []
    barrier = threading.Barrier(len(tokens))

    def worker(token):
        barrier.wait()
        results.append(api("POST", SUBS, token=token, json_body=body))

    threads = [threading.Thread(target=worker, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status for r in results)
    assert statuses == [201] + [409] * 9, results
    assert all(r.code == "CONFLICT" for r in results if r.status == 409)
    assert len(live_rows(owner.account_id)) == 1


# ------------------------------------------------------------- destination

def test_missing_foreign_and_deleted_destinations_answer_alike(
        owner, new_client, api, envelope):
    stranger = new_client(scopes=SCOPES)
    foreign = dbutil.insert_destination(stranger.account_id)
    deleted = dbutil.insert_destination(owner.account_id, deleted=True)
    missing = max(foreign, deleted) + 100000
    bodies = []
    for dest in (missing, foreign, deleted):
        resp = create(api, owner, {"destination_id": dest,
                                   "stream": "risk:FR"})
        bodies.append(envelope.validation(resp, "destination_id"))
    assert bodies == [{"destination_id": NO_SUCH_DESTINATION}] * 3
    assert dbutil.subscription_rows(owner.account_id) == ()
    assert dbutil.subscription_rows(stranger.account_id) == ()


def test_deleted_destination_takes_no_new_subscriptions(
        owner, api, envelope):
    subscribe(api, envelope, owner, "risk:FR")
    dbutil.delete_destination(owner.dest)
    resp = create(api, owner, {"destination_id": owner.dest,
                               "stream": "risk:DE"})
    assert envelope.validation(resp, "destination_id") == {
        "destination_id": NO_SUCH_DESTINATION}


# ------------------------------------------------------------- bad bodies

@pytest.mark.parametrize("stream", [
    "risk:ZZ", "risk:", "risk", "risk:F", "risk:FRA", "risk:**", "risk:*x",
    "RISK:FR", "Risk:FR", "alert:FR", "risks:FR", " risk:FR", "risk:FR ",
    "risk:F1", "risk:..", "risk:F'", "risk:FR;DROP", "", "risk:" + "A" * 100,
    "r" * 300, "risk:F\u00e9", "risk:\u00c9S",
    "risk:F\x00", "risk:FR\x00", "risk:\x00R",
])
def test_bad_stream_values(owner, api, envelope, stream):
    resp = create(api, owner, {"destination_id": owner.dest,
                               "stream": stream})
    assert set(envelope.validation(resp, "stream")) == {"stream"}, resp
    assert dbutil.subscription_rows(owner.account_id) == ()


@pytest.mark.parametrize("stream", [None, 7, ["risk:FR"], {"s": 1}, True])
def test_stream_must_be_a_string(owner, api, envelope, stream):
    resp = create(api, owner, {"destination_id": owner.dest,
                               "stream": stream})
    envelope.validation(resp, "stream")
    assert dbutil.subscription_rows(owner.account_id) == ()


@pytest.mark.parametrize("level", [0, 6, -1, 255, 256, 2**63, "3", 2.5, 3.0,
                                   True, None, [3]])
def test_bad_min_level(owner, api, envelope, level):
    resp = create(api, owner, {"destination_id": owner.dest,
                               "stream": "risk:FR", "min_level": level})
    assert set(envelope.validation(resp, "min_level")) == {"min_level"}
    assert dbutil.subscription_rows(owner.account_id) == ()


@pytest.mark.parametrize("dest", [0, -1, "1", 1.0, 1.5, None, True, [1],
                                  -2**63])
def test_bad_destination_id(owner, api, envelope, dest):
    resp = create(api, owner, {"destination_id": dest, "stream": "risk:FR"})
    assert set(envelope.validation(resp, "destination_id")) == {
        "destination_id"}
    assert dbutil.subscription_rows(owner.account_id) == ()


def test_huge_destination_id_is_no_such_destination(owner, api, envelope):
    resp = create(api, owner, {"destination_id": 2**63 - 1,
                               "stream": "risk:FR"})
    assert envelope.validation(resp) == {
        "destination_id": NO_SUCH_DESTINATION}


def test_required_fields(owner, api, envelope):
    msg = envelope.validation(create(api, owner, {}), "destination_id",
                              "stream")
    assert set(msg) == {"destination_id", "stream"}
    msg = envelope.validation(create(api, owner, {"stream": "risk:FR"}),
                              "destination_id")
    assert set(msg) == {"destination_id"}
    # No body at all is the same as an empty object.
    resp = api("POST", SUBS, token=owner.token())
    assert set(envelope.validation(resp, "destination_id", "stream")) == {
        "destination_id", "stream"}
    assert dbutil.subscription_rows(owner.account_id) == ()


def test_unknown_fields_are_refused(owner, api, envelope):
    resp = create(api, owner, {"destination_id": owner.dest,
                               "stream": "risk:FR", "account_id": 1,
                               "cancelled_at": None})
    msg = envelope.validation(resp, "account_id", "cancelled_at")
    assert set(msg) == {"account_id", "cancelled_at"}
    assert dbutil.subscription_rows(owner.account_id) == ()


def test_body_must_be_a_json_object(owner, api, envelope):
    token = owner.token()
    resp = api("POST", SUBS, token=token, body='{"stream": "risk:FR"',
               content_type="application/json")
    envelope.error(resp, 400, "INVALID_REQUEST")
    resp = api("POST", SUBS, token=token, json_body=["risk:FR"])
    envelope.error(resp, 400, "INVALID_REQUEST")
    resp = api("POST", SUBS, token=token, content_type="text/plain",
               body='{"destination_id": %d, "stream": "risk:FR"}'
               % owner.dest)
    envelope.error(resp, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert dbutil.subscription_rows(owner.account_id) == ()


# --------------------------------------------------------------------- cap

def test_live_subscriptions_are_capped_per_account(owner, api, envelope):
    dbutil.insert_subscriptions(owner.account_id, owner.dest,
                                ["cap:%d" % i for i in range(CAP - 1)])
    subscribe(api, envelope, owner, "risk:FR")  # the 500th
    resp = create(api, owner, {"destination_id": owner.dest,
                               "stream": "risk:DE"})
    body = envelope.error(resp, 403, "PLAN_LIMIT")
    assert str(CAP) in body["msg"], resp
    assert len(live_rows(owner.account_id)) == CAP
    # Cancelling one makes room again.
    first = live_rows(owner.account_id)[0][0]
    envelope.ok(cancel(api, owner, first))
    subscribe(api, envelope, owner, "risk:DE")
    assert len(live_rows(owner.account_id)) == CAP


def test_cap_is_exact_under_concurrency(owner, api, exchange):
    dbutil.insert_subscriptions(owner.account_id, owner.dest,
                                ["cap:%d" % i for i in range(CAP - 2)])
    streams = ["risk:FR", "risk:DE", "risk:IT", "risk:ES", "risk:PT",
               "risk:NL", "risk:BE", "risk:AT"]
    tokens = tokens_of_own_keys(owner, exchange, len(streams))
    results = []
    barrier = threading.Barrier(len(streams))

    def worker(token, stream):
        barrier.wait()
        results.append(api("POST", SUBS, token=token, json_body={
            "destination_id": owner.dest, "stream": stream}))

    threads = [threading.Thread(target=worker, args=a)
               for a in zip(tokens, streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status for r in results)
    assert statuses == [201] * 2 + [403] * 6, results
    assert len(live_rows(owner.account_id)) == CAP


# ------------------------------------------------------------------- lists

def test_list_shows_live_subscriptions_newest_first(owner, api, envelope):
    made = [subscribe(api, envelope, owner, s)
            for s in ("risk:FR", "risk:DE", "risk:*")]
    envelope.ok(cancel(api, owner, made[1]["id"]))
    data, resp = listing(owner, envelope)
    assert resp.json["total"] == 2 and resp.json["next"] is None
    assert [d["id"] for d in data] == [made[2]["id"], made[0]["id"]]
    assert data[1] == made[0]
    for d in data:
        assert set(d) == OBJECT_KEYS
        assert set(d["destination"]) == DESTINATION_KEYS
    owner.metered(resp)


def test_empty_list(new_client, envelope):
    c = new_client(scopes=("subscriptions:read",))
    data, resp = listing(c, envelope)
    assert data == [] and resp.json["total"] == 0
    assert resp.json["next"] is None


def test_list_filters(owner, api, envelope):
    other = dbutil.insert_destination(owner.account_id, "email")
    a = subscribe(api, envelope, owner, "risk:FR")
    b = subscribe(api, envelope, owner, "risk:DE")
    c = subscribe(api, envelope, owner, "risk:FR", destination_id=other)
    d = subscribe(api, envelope, owner, "risk:*", destination_id=other)

    def ids(query):
        data, resp = listing(owner, envelope, query)
        assert resp.json["total"] == len(data), resp
        return [x["id"] for x in data]

    assert ids("?destination_id=%d" % owner.dest) == [b["id"], a["id"]]
    assert ids("?destination_id=%d" % other) == [d["id"], c["id"]]
    assert ids("?stream=risk:FR") == [c["id"], a["id"]]
    assert ids("?stream=risk:fr") == [c["id"], a["id"]]
    assert ids("?stream=risk%3AFR") == [c["id"], a["id"]]
    assert ids("?stream=risk:*") == [d["id"]]
    assert ids("?stream=risk:%2A") == [d["id"]]
    assert ids("?stream=risk:FR&destination_id=%d" % other) == [c["id"]]
    assert ids("?stream=risk:IT") == []
    assert ids("?stream=risk:DE&destination_id=%d" % other) == []
    assert ids("?destination_id=%d" % (d["id"] + other + 100000)) == []


@pytest.mark.parametrize("query,fields", [
    ("destination_id=0", {"destination_id"}),
    ("destination_id=-3", {"destination_id"}),
    ("destination_id=abc", {"destination_id"}),
    ("destination_id=", {"destination_id"}),
    ("destination_id=01", {"destination_id"}),
    ("destination_id=1.0", {"destination_id"}),
    ("destination_id=99999999999999999999", {"destination_id"}),
    ("destination_id=1&destination_id=2", {"destination_id"}),
    ("stream=risk:ZZ", {"stream"}),
    ("stream=", {"stream"}),
    ("stream=alert:FR", {"stream"}),
    ("stream=risk:FR'%20OR%201=1", {"stream"}),
    ("stream=" + "risk:" + "A" * 200, {"stream"}),
    ("stream=risk:FR&stream=risk:DE", {"stream"}),
    ("stream=risk:ZZ&destination_id=x", {"stream", "destination_id"}),
    ("page=0", {"page"}),
    ("page=x", {"page"}),
    ("page_size=0", {"page_size"}),
    ("page_size=101", {"page_size"}),
    ("page=0&page_size=101", {"page", "page_size"}),
])
def test_bad_list_queries(owner, envelope, query, fields):
    resp = owner.get(SUBS + "?" + query)
    assert set(envelope.validation(resp, *fields)) == fields, resp


def test_paging_follows_next_links(owner, api, envelope):
    streams = ["risk:FR", "risk:DE", "risk:IT", "risk:ES", "risk:PT"]
    made = [subscribe(api, envelope, owner, s) for s in streams]
    expected = [m["id"] for m in reversed(made)]
    # The filter is kept in the next links.
    seen, pages = [], 0
    url = SUBS + "?page_size=2&destination_id=%d" % owner.dest
    while url:
        resp = owner.get(url)
        data = envelope.ok(resp, is_list=True)
        assert resp.json["total"] == 5
        seen += [d["id"] for d in data]
        pages += 1
        url = resp.json["next"]
        if url:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
            assert query["destination_id"] == [str(owner.dest)], url
            assert query["page_size"] == ["2"], url
            assert query["page"] == [str(pages + 1)], url
    assert pages == 3 and seen == expected
    data, resp = listing(owner, envelope, "?page=4&page_size=2")
    assert data == [] and resp.json["total"] == 5
    assert resp.json["next"] is None


# ------------------------------------------------------------------ cancel

def test_cancel_returns_the_final_object(owner, api, envelope):
    made = subscribe(api, envelope, owner, "risk:FR", min_level=4)
    resp = cancel(api, owner, made["id"])
    data = envelope.ok(resp)
    assert set(data) == OBJECT_KEYS | {"cancelled_at"}, resp
    assert {k: v for k, v in data.items() if k != "cancelled_at"} == made
    cancelled = parse_rfc3339(data["cancelled_at"]).timestamp()
    assert abs(cancelled - time.time()) < 600, data
    owner.metered(resp)
    row = dbutil.subscription_rows(owner.account_id)[0]
    assert row[0] == made["id"] and row[4] is not None
    # Gone from the list, and a second cancel finds nothing live.
    assert listing(owner, envelope)[0] == []
    envelope.error(cancel(api, owner, made["id"]), 404, "NOT_FOUND")


def test_cancel_missing_is_404(owner, api, envelope):
    made = subscribe(api, envelope, owner, "risk:FR")
    for bad in (made["id"] + 100000, 2**63 - 1):
        envelope.error(cancel(api, owner, bad), 404, "NOT_FOUND")
    for bad in ("0", "-1", "abc", "1.5"):
        resp = api("DELETE", SUBS + bad + "/", token=owner.token())
        envelope.error(resp, 404, "NOT_FOUND")
    assert len(live_rows(owner.account_id)) == 1


def test_methods(owner, api, envelope):
    made = subscribe(api, envelope, owner, "risk:FR")
    resp = api("DELETE", SUBS, token=owner.token())
    envelope.error(resp, 405, "METHOD_NOT_ALLOWED")
    resp = api("GET", sub_url(made["id"]), token=owner.token())
    envelope.error(resp, 405, "METHOD_NOT_ALLOWED")
    resp = api("PATCH", sub_url(made["id"]), token=owner.token(),
               json_body={"min_level": 2})
    envelope.error(resp, 405, "METHOD_NOT_ALLOWED")
    assert len(live_rows(owner.account_id)) == 1


# -------------------------------------------------------------------- BOLA

def test_other_accounts_subscriptions_are_invisible(owner, new_client, api,
                                                    envelope):
    mine = subscribe(api, envelope, owner, "risk:FR")
    stranger = new_client(scopes=SCOPES)
    stranger.dest = dbutil.insert_destination(stranger.account_id)
    theirs = subscribe(api, envelope, stranger, "risk:FR")

    # Cancelling another account's subscription: 404, and it stays live.
    envelope.error(cancel(api, stranger, mine["id"]), 404, "NOT_FOUND")
    envelope.error(cancel(api, owner, theirs["id"]), 404, "NOT_FOUND")
    assert [r[0] for r in live_rows(owner.account_id)] == [mine["id"]]
    assert [r[0] for r in live_rows(stranger.account_id)] == [theirs["id"]]

    # Each list holds only its own rows, also when filtering on the
    # other account's destination.
    assert [d["id"] for d in listing(owner, envelope)[0]] == [mine["id"]]
    assert [d["id"] for d in listing(stranger, envelope)[0]] == [theirs["id"]]
    data, resp = listing(owner, envelope, "?destination_id=%d"
                         % stranger.dest)
    assert data == [] and resp.json["total"] == 0
    # Subscribing the other account's destination is "no such destination".
    resp = create(api, owner, {"destination_id": stranger.dest,
                               "stream": "risk:DE"})
    assert envelope.validation(resp) == {"destination_id": NO_SUCH_DESTINATION}


# ------------------------------------------------------------------ scopes

def test_scopes(new_client, api, envelope):
    reader = new_client(scopes=("subscriptions:read",))
    writer = new_client(scopes=("subscriptions:write",))
    neither = new_client(scopes=("destinations:read", "destinations:write"))
    dest = dbutil.insert_destination(reader.account_id)
    body = {"destination_id": dest, "stream": "risk:FR"}

    for c in (reader, neither):
        resp = api("POST", SUBS, token=c.token(), json_body=body)
        envelope.error(resp, 403, "PERMISSION_DENIED")
        resp = api("DELETE", sub_url(1), token=c.token())
        envelope.error(resp, 403, "PERMISSION_DENIED")
    for c in (writer, neither):
        envelope.error(c.get(SUBS), 403, "PERMISSION_DENIED")
    assert dbutil.subscription_rows(reader.account_id) == ()

    writer.dest = dbutil.insert_destination(writer.account_id)
    made = subscribe(api, envelope, writer, "risk:FR")
    envelope.ok(cancel(api, writer, made["id"]))
    envelope.ok(reader.get(SUBS), is_list=True)


def test_token_required(api, envelope):
    for method, path in (("GET", SUBS), ("POST", SUBS),
                         ("DELETE", sub_url(1))):
        resp = api(method, path)
        envelope.error(resp, 401, "INVALID_TOKEN")
