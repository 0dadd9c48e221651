"""civic-dispatch (SPEC §6, issue 4): fan-out, webhook delivery and
signing, verification events, retries and their schedule, timeouts and
oversized answers, the alerts/day cap, disabling a destination that
fails for 5 days.

The real binary runs as a subprocess against the test stack; results
are read through GET /v1/alert-dispatches/ and the database. Webhooks go
to receiver.Receiver instances on 127.0.0.1 (the test config's
outbound_allow lets loopback through); signatures are checked with the
independent verifier in webhooks.py. Every test first parks what other
tests left (the `parked` fixture), so a run only sends the test's own
rows. Where a run must not wait for a 5 s retry, the test uses a config
copy with linger_seconds = 0 and moves next_attempt_at into the past
itself (dispatchutil.quick_config, dbutil.make_due). The mail side is in
test_dispatch_mail.py, two dispatchers and kill -9 in
test_dispatch_concurrency.py, the SSRF guard in test_dispatch_ssrf.py.
"""

import datetime
import email.utils
import json
import os
import secrets
import signal
import time

import pytest

import dbutil
import dispatchutil as du
import webhooks
from conftest import assert_ok, env, parse_rfc3339, request, unique
from receiver import Behaviour

pytestmark = pytest.mark.usefixtures("parked")

ALERT_KEYS = {"dispatch_id", "alert_id", "stream", "country", "country_name", "level",
              "previous_level", "score", "summary", "assessed_at"}
NOW = datetime.timedelta(0)
PAST = datetime.timedelta(seconds=-1)


@pytest.fixture
def client(new_client):
    return new_client(scopes=du.DEST_SCOPES)


def verified(secret, req):
    """Checks req's Standard Webhooks signature; returns the payload."""
    msg_id, _, payload = webhooks.verify(secret, req.headers, req.body)
    assert msg_id == req.headers["webhook-id"]
    return payload


def due_dispatch(client, destination, country="FR", level=4, previous=2):
    """An alert (already fanned out) and one due dispatch of it."""
    alert = dbutil.insert_alert(country, level, previous)
    return dbutil.insert_dispatch(alert, destination, client.account_id,
                                  next_attempt_at=PAST)


# -------------------------------------------------------------- end to end

def test_risk_import_to_webhook_and_email(client, admin, receiver, tmp_path):
    r = receiver()
    country, name = "IS", "Iceland"
    hook, secret = du.active_webhook(client, r.url("/e2e"), "E2E hook")
    picky, _ = du.active_webhook(client, r.url("/picky"), "Picky hook")
    address = unique("e2e") + "@example.org"
    inbox = dbutil.insert_destination(client.account_id, "email", identifier=address,
                                      label="E2E inbox")
    alert, row, previous = du.import_level_change(admin, tmp_path, country)
    du.subscribe(client, hook, "risk:" + country, min_level=row["level"])
    du.subscribe(client, inbox, "risk:*")
    # Above the alert's level: this subscription does not match.
    du.subscribe(client, picky, "risk:" + country, min_level=row["level"] + 1)

    result = du.run()
    assert result.summary["alerts"] == 1, result
    assert result.summary["over_quota"] == 0, result
    rows = {d["destination_id"]: d for d in dbutil.dispatches_of(alert_id=alert)}
    assert set(rows) == {hook, inbox}, rows
    assert all(d["status"] == "delivered" and d["attempts"] == 1 for d in rows.values()), rows
    assert dbutil.query("SELECT fanned_out_at IS NOT NULL FROM alerts WHERE id = %s",
                        (alert,))[0][0] == 1

    # The webhook: one signed POST with the contract's payload.
    reqs = r.snapshot()
    assert [q.path for q in reqs] == ["/e2e"], reqs
    req = reqs[0]
    assert req.method == "POST"
    assert req.headers["content-type"].split(";")[0].strip() == "application/json"
    assert req.headers["user-agent"] == "CivicSentinel-Webhooks/1"
    assert req.headers["webhook-id"] == "msg_%d" % rows[hook]["id"]
    assert abs(int(req.headers["webhook-timestamp"]) - req.time) <= 5
    payload = verified(secret, req)
    created = dbutil.query("SELECT created_at FROM alerts WHERE id = %s", (alert,))[0][0]
    assert payload["type"] == "risk.level_changed", payload
    assert payload["timestamp"] == du.rfc3339_z(created), payload
    data = payload["data"]
    # Every field of the contract (more may follow: receivers ignore
    # what they do not know).
    assert ALERT_KEYS <= set(data), data
    assert data["dispatch_id"] == rows[hook]["id"] and data["alert_id"] == alert, data
    assert (data["stream"], data["country"], data["country_name"]) == \
        ("risk:" + country, country, name), data
    assert (data["level"], data["previous_level"], data["score"], data["summary"]) == \
        (row["level"], previous, row["score"], row["summary"]), data
    assert parse_rfc3339(data["assessed_at"]) == parse_rfc3339(row["assessed_at"]), data

    # The email: to the destination's address, text and HTML alternatives.
    got = du.mails(to=address)
    assert len(got) == 1, got
    mail = got[0]
    assert mail.envelope_from == du.config_value("smtp", "from"), mail
    assert address in str(mail.msg["To"]), mail.msg["To"]
    sender = str(mail.msg["From"])
    assert du.config_value("smtp", "from") in sender and "Civic Sentinel" in sender, sender
    for header in ("Date", "Message-ID", "MIME-Version"):
        assert mail.msg[header], (header, mail.raw[:2000])
    assert mail.subject.strip() and "\n" not in mail.subject and "\r" not in mail.subject
    # Text and HTML as alternatives (at the top, or as the one part of a
    # multipart/mixed, as libcurl's MIME API builds it).
    alternatives = [p for p in mail.msg.walk()
                    if p.get_content_type() == "multipart/alternative"]
    assert len(alternatives) == 1, [p.get_content_type() for p in mail.msg.walk()]
    assert [p.get_content_type() for p in alternatives[0].iter_parts()] == \
        ["text/plain", "text/html"], mail.raw[:2000]
    assert mail.text and name in mail.text and row["summary"] in mail.text, mail.text
    assert mail.html and name in mail.html, mail.html
    assert name in mail.subject or country in mail.subject, mail.subject

    # What the API shows the account.
    seen = {d["destination"]["id"]: d for d in du.api_dispatches(client)}
    assert set(seen) == {hook, inbox}, seen
    for d in seen.values():
        assert d["status"] == "delivered" and d["attempts"] == 1, d
        assert d["delivered_at"] is not None and d["alert"]["id"] == alert, d
        assert [h["outcome"] for h in d["history"]] == ["success"], d
    assert seen[hook]["history"][0]["response_code"] == 200, seen[hook]


# ------------------------------------------------------- verification event

def test_webhook_destination_is_verified_by_an_event(client, receiver, tmp_path):
    r = receiver()
    r.set_default(Behaviour(status=500), path="/broken")
    good, secret = du.create_webhook(client, r.url("/good"), "Good hook")
    bad, _ = du.create_webhook(client, r.url("/broken"), "Broken hook")
    for dest in (good, bad):
        check = dbutil.webhook_check(dest)
        assert check is not None and check["status"] == "pending", check
        assert check["account_id"] == client.account_id, check

    du.run(du.quick_config(tmp_path))

    reqs = r.snapshot("/good")
    assert len(reqs) == 1, reqs
    assert reqs[0].headers["webhook-id"] == "msg_check_%d" % good
    payload = verified(secret, reqs[0])
    assert payload["type"] == "destination.verification", payload
    assert payload["data"] == {"destination_id": good, "label": "Good hook"}, payload
    parse_rfc3339(payload["timestamp"])
    dest = du.get_destination(client, good)
    assert dest["status"] == "active" and dest["verified_at"] is not None, dest
    assert dbutil.webhook_check(good)["status"] == "verified"

    # A receiver that answers 500 keeps its destination pending.
    failed = r.snapshot("/broken")
    assert failed and all(q.headers["webhook-id"] == "msg_check_%d" % bad for q in failed)
    assert du.get_destination(client, bad)["status"] == "pending"
    check = dbutil.webhook_check(bad)
    assert check["status"] != "verified" and check["attempts"] >= 1, check
    assert "500" in (check["last_error"] or ""), check


# ----------------------------------------------------------------- retries

def test_500_then_200_is_delivered_on_the_second_attempt(client, receiver, tmp_path):
    r = receiver()
    r.script(Behaviour(status=500), Behaviour(status=200))
    dest, secret = du.active_webhook(client, r.url())
    d = due_dispatch(client, dest)

    du.run_until(lambda: dbutil.dispatch(d)["status"] == "delivered",
                 du.quick_config(tmp_path), dispatch_ids=[d])

    reqs = r.snapshot()
    assert len(reqs) == 2, reqs
    assert {q.headers["webhook-id"] for q in reqs} == {"msg_%d" % d}
    assert reqs[0].body == reqs[1].body, "the body is the same on every retry"
    for q in reqs:
        verified(secret, q)
    row = dbutil.dispatch(d)
    assert row["attempts"] == 2 and row["delivered_at"] is not None, row
    api = du.api_dispatch(client, d)
    assert api["status"] == "delivered" and api["attempts"] == 2, api
    assert [(h["outcome"], h["response_code"]) for h in api["history"]] == \
        [("success", 200), ("failure", 500)], api
    # The contract's error, "HTTP <code>", may go on with details.
    assert api["history"][1]["error"].startswith("HTTP 500"), api


def test_a_redirect_is_a_failure_and_not_followed(client, receiver, tmp_path):
    r = receiver()
    r.set_default(Behaviour(status=302, headers={"Location": r.url("/moved")}), path="/hook")
    dest, _ = du.active_webhook(client, r.url("/hook"))
    d = due_dispatch(client, dest)

    du.run(du.quick_config(tmp_path))

    assert r.snapshot("/moved") == [], "the Location was followed"
    row = dbutil.dispatch(d)
    assert row["status"] == "retrying" and row["attempts"] >= 1, row
    tried = dbutil.attempts(d)
    assert len(tried) == row["attempts"] == len(r.snapshot("/hook")), tried
    assert all((a["outcome"], a["response_code"]) == ("failure", 302) and
               a["error"].startswith("HTTP 302") for a in tried), tried


def test_retry_after_is_honoured_and_capped(client, receiver, tmp_path):
    r = receiver()
    date = email.utils.formatdate(time.time() + 7200, usegmt=True)
    cases = {  # path: (answer, expected delay in seconds)
        "/seconds": (Behaviour(status=429, headers={"Retry-After": "3600"}), 3600),
        "/date": (Behaviour(status=503, headers={"Retry-After": date}), 7200),
        "/huge": (Behaviour(status=429, headers={"Retry-After": "999999"}), 86400),
    }
    rows = {}
    for path, (answer, _) in cases.items():
        r.set_default(answer, path=path)
        dest, _ = du.active_webhook(client, r.url(path))
        rows[path] = due_dispatch(client, dest)

    du.run(du.quick_config(tmp_path))

    for path, (_, delay) in cases.items():
        row = dbutil.dispatch(rows[path])
        tried = dbutil.attempts(rows[path])
        assert row["status"] == "retrying" and row["attempts"] == 1 == len(tried), (path, row)
        assert len(r.snapshot(path)) == 1, path
        gap = du.seconds_between(row["next_attempt_at"], tried[0]["attempted_at"])
        assert abs(gap - delay) <= 10, (path, gap, delay, row)
        api = du.api_dispatch(client, rows[path])
        assert parse_rfc3339(api["next_attempt_at"]).replace(tzinfo=None) == \
            row["next_attempt_at"], api


def test_retry_schedule_then_failed(client, receiver, tmp_path):
    r = receiver()
    r.set_default(Behaviour(status=500))
    dest, secret = du.active_webhook(client, r.url())
    d = due_dispatch(client, dest)
    config = du.quick_config(tmp_path)

    seen = 0
    for _ in range(du.MAX_ATTEMPTS + 2):
        du.run(config)
        row, tried = dbutil.dispatch(d), dbutil.attempts(d)
        assert row["attempts"] == len(tried) > seen, (row, tried)
        # Attempts one run made back to back were due within it: their
        # spacing is the schedule's too (1 -> 2 is immediate).
        for n in range(seen + 1, len(tried)):
            gap = du.seconds_between(tried[n]["attempted_at"], tried[n - 1]["attempted_at"])
            assert abs(gap - du.RETRY_AFTER_ATTEMPT[n]) <= 2, (n, gap, tried)
        seen = len(tried)
        if row["status"] == "failed":
            break
        assert row["status"] == "retrying", row
        n = row["attempts"]
        scheduled = du.seconds_between(row["next_attempt_at"], tried[-1]["attempted_at"])
        assert abs(scheduled - du.RETRY_AFTER_ATTEMPT[n]) <= 2, (n, scheduled, row)
        dbutil.make_due([d])
    assert row["status"] == "failed", row
    assert row["attempts"] == du.MAX_ATTEMPTS == len(tried), row
    assert row["delivered_at"] is None

    reqs = r.snapshot()
    assert len(reqs) == du.MAX_ATTEMPTS, reqs
    assert {q.headers["webhook-id"] for q in reqs} == {"msg_%d" % d}
    assert len({q.body for q in reqs}) == 1
    for q in reqs:
        verified(secret, q)
    api = du.api_dispatch(client, d)
    assert api["status"] == "failed" and api["attempts"] == du.MAX_ATTEMPTS, api

    # Nothing more is tried once failed.
    dbutil.make_due([d])
    du.run(config)
    assert len(r.snapshot()) == du.MAX_ATTEMPTS


# -------------------------------------------------- slow and huge receivers

def test_a_receiver_that_sleeps_times_out_and_the_run_goes_on(client, receiver, tmp_path):
    timeout = int(du.config_value("dispatch", "webhook_timeout"))
    assert timeout == 15, "the issue's 15 s"
    slow, fast = receiver(), receiver()
    slow.script(Behaviour(delay=60))  # then the default: 200 at once
    slow_dest, _ = du.active_webhook(client, slow.url())
    fast_dest, _ = du.active_webhook(client, fast.url())
    d_slow = due_dispatch(client, slow_dest)
    d_fast = [due_dispatch(client, fast_dest, country=c) for c in ("DE", "IT", "ES", "PT")]

    started = time.time()
    result = du.run(du.quick_config(tmp_path))

    assert result.seconds < timeout + 15, result
    first = dbutil.attempts(d_slow)[0]
    assert (first["outcome"], first["response_code"]) == ("failure", None), first
    assert first["error"].startswith("timeout"), first
    assert (timeout - 1) * 1000 <= first["duration_ms"] <= (timeout + 5) * 1000, first
    # The others did not wait for the slow one.
    got = fast.snapshot()
    assert len(got) == len(d_fast), got
    assert all(q.time - started < timeout / 2 for q in got), [q.time - started for q in got]
    for d in d_fast:
        assert dbutil.dispatch(d)["status"] == "delivered"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_100_mb_answer_is_cut_off(client, receiver, tmp_path, chunked):
    r = receiver()
    size = 100 * 1024 * 1024
    r.set_default(Behaviour(status=200, stream=size, chunked=chunked))
    config = du.quick_config(tmp_path)
    idle = du.run(config)  # the footprint of a run with nothing to send
    dest, _ = du.active_webhook(client, r.url())
    d = due_dispatch(client, dest)

    result = du.run(config, timeout=60)

    got = r.wait_for(1, timeout=5)
    assert len(got) == 1, got
    deadline = time.time() + 5
    while got[0].outcome == "pending" and time.time() < deadline:
        time.sleep(0.05)
    assert got[0].outcome == "client closed", got[0].outcome
    assert got[0].bytes_sent < 32 * 1024 * 1024, got[0].bytes_sent
    assert result.maxrss_kb < idle.maxrss_kb + 64 * 1024, (idle.maxrss_kb, result.maxrss_kb)
    row = dbutil.dispatch(d)
    assert row["status"] == "delivered" and row["attempts"] == 1, row
    assert dbutil.attempts(d)[0]["response_code"] == 200


# ---------------------------------------------------------- alerts/day cap

def test_alerts_per_day_cap_skips_the_excess(new_client, receiver):
    cap = dbutil.query("SELECT max_alerts_per_day FROM plans WHERE slug = 'free'")[0][0]
    assert cap == 5
    c = new_client(scopes=du.DEST_SCOPES, plan="free")
    r = receiver()
    dest, _ = du.active_webhook(c, r.url())
    du.subscribe(c, dest, "risk:*")
    countries = ["AT", "BE", "CH", "CZ", "DK", "EE", "FI"]
    alerts = [dbutil.unfanned_alert(cc, 3, 1) for cc in countries]

    result = du.run()

    assert result.summary["alerts"] == len(alerts), result
    assert result.summary["over_quota"] == len(alerts) - cap, result
    rows = dbutil.dispatches_of(destination_id=dest)
    assert sorted(d["alert_id"] for d in rows) == sorted(alerts), rows
    delivered = [d for d in rows if d["status"] == "delivered"]
    skipped = [d for d in rows if d["status"] == "skipped_quota"]
    assert (len(delivered), len(skipped)) == (cap, len(alerts) - cap), rows
    assert all(d["attempts"] == 0 and not dbutil.attempts(d["id"]) for d in skipped), skipped
    assert sorted(q.headers["webhook-id"] for q in r.snapshot()) == \
        sorted("msg_%d" % d["id"] for d in delivered)
    assert dbutil.alerts_today(c.account_id) >= cap
    api = du.api_dispatches(c, "?status=skipped_quota")
    assert sorted(d["id"] for d in api) == sorted(d["id"] for d in skipped), api

    # A second fan-out of the same alerts adds no row and sends nothing.
    dbutil.execute("UPDATE alerts SET fanned_out_at = NULL WHERE id IN (%s)"
                   % ",".join(["%s"] * len(alerts)), alerts)
    du.run()
    assert len(dbutil.dispatches_of(destination_id=dest)) == len(alerts)
    assert len(r.snapshot()) == cap


# -------------------------------------------------- 5 days failing: disabled

def test_a_destination_failing_for_5_days_is_disabled(client, receiver, tmp_path):
    r = receiver()
    r.set_default(Behaviour(status=500))
    label = unique("Doomed hook")
    dest, _ = du.active_webhook(client, r.url(), label)
    dbutil.set_failing_since(dest, datetime.timedelta(days=-6))
    d1 = due_dispatch(client, dest)
    d2 = due_dispatch(client, dest, country="DE")
    config = du.quick_config(tmp_path)

    du.run_until(lambda: dbutil.destination(dest)["status"] == "disabled", config,
                 dispatch_ids=[d1, d2])

    for d in (d1, d2):
        assert dbutil.dispatch(d)["status"] == "failed", dbutil.dispatch(d)
    queued = dbutil.mails(account_id=client.account_id, purpose="destination_disabled")
    assert len(queued) == 1, queued
    assert queued[0]["to_address"] == client.email, queued
    du.run_until(lambda: dbutil.mails(account_id=client.account_id,
                                      purpose="destination_disabled")[0]["status"] == "sent",
                 config, mail_ids=[queued[0]["id"]])
    got = du.mails(to=client.email)
    assert len(got) == 1, got
    assert label in (got[0].text or ""), got[0].text
    assert du.get_destination(client, dest)["status"] == "disabled"
    # Nothing more goes to it.
    before = len(r.snapshot())
    d3 = due_dispatch(client, dest, country="IT")
    du.run(config)
    assert len(r.snapshot()) == before
    assert dbutil.dispatch(d3)["status"] in ("pending", "failed"), dbutil.dispatch(d3)


# --------------------------------------------------------------- WhatsApp

def test_whatsapp_alert_goes_through_the_gateway(new_client, tmp_path):
    c = new_client(scopes=du.DEST_SCOPES + ("destinations:whatsapp:join",))
    invite = "https://chat.whatsapp.com/Wa" + secrets.token_hex(10)
    resp = request("POST", "/v1/alert-destinations/join-whatsapp-group/",
                      token=c.token(), json_body={"invite_link": invite, "label": "Ops group"})
    dest = assert_ok(resp, 201)
    assert dest["status"] == "active", dest
    d = due_dispatch(c, dest["id"], country="GB", level=5, previous=3)

    du.run(du.quick_config(tmp_path))

    row = dbutil.dispatch(d)
    assert row["status"] == "delivered" and row["attempts"] == 1, row
    path = os.path.join(env("CIVIC_VAR"), "whatsapp", "messages.jsonl")
    with open(path, encoding="utf-8") as f:
        sent = [m for m in map(json.loads, f) if m["group_id"] == dest["identifier"]]
    assert len(sent) == 1, sent
    assert "United Kingdom" in sent[0]["text"] or "GB" in sent[0]["text"], sent[0]


# ----------------------------------------------------------- command line

def test_exit_status_on_usage_config_and_database_errors(tmp_path):
    assert du.run(args=["--no-such-option"], expect_rc=None).rc == 2
    assert du.run(args=["extra"], expect_rc=None).rc == 2
    bad = du.config_copy(tmp_path, dispatch={"concurrency": 0})
    assert du.run(bad, expect_rc=None).rc == 1
    missing = str(tmp_path / "no-such.conf")
    assert du.run(missing, expect_rc=None).rc == 1
    nodb = du.config_copy(tmp_path, database={"socket": str(tmp_path / "no.sock")})
    assert du.run(nodb, expect_rc=None, timeout=60).rc == 3


def test_loop_delivers_later_rows_and_stops_on_sigterm(client, receiver, tmp_path):
    r = receiver()
    dest, _ = du.active_webhook(client, r.url())
    loop = du.Dispatcher(du.quick_config(tmp_path), args=["--loop"])
    time.sleep(1.5)  # a few idle passes: --loop logs no line for them
    assert not du.SUMMARY_RE.search(loop._stderr()), loop._stderr()
    row = due_dispatch(client, dest)  # queued while the loop runs
    r.wait_for(1, timeout=30)
    deadline = time.time() + 30
    while time.time() < deadline and not du.SUMMARY_RE.search(loop._stderr()):
        time.sleep(0.1)
    assert du.SUMMARY_RE.search(loop._stderr()), loop._stderr()
    os.kill(loop.pid, signal.SIGTERM)
    result = loop.wait(timeout=15)
    assert result.rc == 0, result
    assert result.seconds < 30, result
    assert set(r.by_webhook_id()) == {"msg_%d" % row}
    assert dbutil.dispatch(row)["status"] == "delivered"
