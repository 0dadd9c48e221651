"""Billing: coins, subscriptions, renewals, cancellation, demotion
(SPEC §3 last paragraph, §5 GET /v1/subscriptions/, §8 coins credit and
billing renew; seed 003 "Plan + key tier interaction").

Renewals run with `billing renew --now`, the injectable clock, never with
sleeps.  Most runs are limited to the test's own account with
`--account`, so they leave the rest of the database alone; the
concurrency test runs the real, global cron command twice at once.
"""

import calendar
import datetime
import json
import os
import subprocess

import pytest

from conftest import exchange_token, parse_rfc3339, request, unique

BILLING_SCOPES = ("profile:read", "billing:read")
SUBSCRIPTION_KEYS = {"id", "plan", "status", "current_period_start",
                     "current_period_end", "cancel_at_period_end",
                     "created_at", "payment_events"}
EVENT_KEYS = {"id", "kind", "coins", "balance_after", "note", "created_at"}
RENEW_KEYS = {"now", "checked", "renewed", "past_due", "ended", "demoted"}
GRANTED = "first period granted by an administrator"
WHATSAPP = "destinations:whatsapp:join"
JOIN_PATH = "/v1/alert-destinations/join-whatsapp-group/"


# --------------------------------------------------------------- helpers

def add_months(when, months):
    """Calendar months as MariaDB's DATE_ADD counts them: the day is
    clamped to the last day of a shorter month."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def stamp(when):
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def run_text(*args):
    """civic-admin without --json (the text a shell user reads)."""
    proc_env = dict(os.environ)
    return subprocess.run([os.environ["CIVIC_ADMIN"]] + [str(a) for a in args],
                          capture_output=True, text=True, env=proc_env,
                          timeout=60)


def subscriptions(client, envelope, query=""):
    resp = client.get("/v1/subscriptions/" + query)
    return envelope.ok(resp, is_list=True), resp


def current(client, envelope):
    subs, _ = subscriptions(client, envelope)
    assert subs, "no subscription listed"
    return subs[0]


def profile(client, envelope):
    return envelope.ok(client.get("/v1/profile/"))


def renew(admin, now, account=None):
    args = ["billing", "renew", "--now", stamp(now)]
    if account is not None:
        args += ["--account", account]
    out = admin(*args)
    assert set(out) == RENEW_KEYS, out
    assert parse_rfc3339(out["now"]) == now, out
    return out


def usage_plan(client):
    resp = client.get("/v1/profile/")
    assert resp.status == 200, resp
    assert resp.headers["X-Plan"] == resp.json["meta"]["usage"]["plan"], resp
    return resp.headers["X-Plan"]


def assert_refused(admin_raw, rc, words, *args):
    """civic-admin ARGS fails with exit status rc and a message on stderr
    naming each of words."""
    proc = admin_raw(*args)
    assert proc.returncode == rc, (args, proc.returncode, proc.stderr)
    assert proc.stdout == "", (args, proc.stdout)
    assert proc.stderr.startswith("civic-admin: "), proc.stderr
    for word in words:
        assert word in proc.stderr, (args, word, proc.stderr)
    return proc.stderr


@pytest.fixture
def grace_days(config):
    return int(config.get("billing", "grace_days", fallback="7").strip())


@pytest.fixture
def signal_client(new_client, admin):
    """An account on signal (granted first period) with coins to spend."""
    def make(coins=0, scopes=BILLING_SCOPES):
        c = new_client(scopes=scopes, plan="signal")
        if coins:
            admin("coins", "credit", "--account", c.account_id, "--coins", coins)
        return c
    return make


# ---------------------------------------------------------- coins credit

def test_credit_adds_to_the_balance_shown_in_the_profile(new_client, admin,
                                                         envelope):
    c = new_client(scopes=BILLING_SCOPES, plan=None)
    assert profile(c, envelope)["coins"] == 0
    out = admin("coins", "credit", "--account", c.account_id, "--coins", 100,
                "--note", "Welcome ☕ 'quoted'; DROP TABLE accounts;--")
    assert out == {"account_id": c.account_id, "credited": 100, "coins": 100}
    out = admin("coins", "credit", "--account", c.account_id, "--coins",
                1000000000)
    assert out["coins"] == 1000000100
    data = profile(c, envelope)
    assert data["coins"] == 1000000100
    assert isinstance(data["coins"], int)


def test_credit_text_output(new_client):
    c = new_client(scopes=BILLING_SCOPES, plan=None)
    proc = run_text("coins", "credit", "--account", c.account_id, "--coins", 7)
    assert proc.returncode == 0, proc.stderr
    assert "7 coins credited" in proc.stdout, proc.stdout
    assert "balance 7 coins" in proc.stdout, proc.stdout


@pytest.mark.parametrize("args, words", [
    ((), ["--account", "required"]),
    (("--coins", "5"), ["--account", "required"]),
    (("--account", "{a}"), ["--coins", "required"]),
    (("--account", "{a}", "--coins", "0"), ["--coins", "1..1000000000"]),
    (("--account", "{a}", "--coins", "-5"), ["--coins", "-5"]),
    (("--account", "{a}", "--coins", "1000000001"), ["--coins", "1000000001"]),
    (("--account", "{a}", "--coins", "99999999999999999999999"), ["--coins"]),
    (("--account", "{a}", "--coins", "abc"), ["--coins", "abc"]),
    (("--account", "{a}", "--coins", "1.5"), ["--coins", "1.5"]),
    (("--account", "{a}", "--coins", ""), ["--coins"]),
    (("--account", "{a}", "--coins", " 5"), ["--coins"]),
    (("--account", "{a}", "--coins", "5", "--coins", "6"), ["--coins", "twice"]),
    (("--account", "x", "--coins", "5"), ["--account", "'x'"]),
    (("--account", "0", "--coins", "5"), ["--account"]),
    (("--account", "{a}", "--coins", "5", "--note", ""), ["--note"]),
    (("--account", "{a}", "--coins", "5", "--note", "n" * 201), ["--note", "200"]),
    (("--account", "{a}", "--coins", "5", "--note", "bell\x07"), ["--note", "control"]),
    (("--account", "{a}", "--coins", "5", "--note", "  "), ["--note"]),
    (("--account", "{a}", "--coins", "5", "--bogus", "1"), ["--bogus"]),
    (("--account", "{a}", "--coins"), ["--coins", "needs a value"]),
])
def test_credit_bad_input_is_a_usage_error_and_writes_nothing(
        new_client, admin_raw, envelope, args, words):
    c = new_client(scopes=BILLING_SCOPES, plan=None)
    args = [a.replace("{a}", str(c.account_id)) for a in args]
    assert_refused(admin_raw, 2, words, "coins", "credit", *args)
    assert profile(c, envelope)["coins"] == 0


def test_credit_unknown_account_fails(admin_raw):
    assert_refused(admin_raw, 1, ["account 999999999 not found"],
                   "coins", "credit", "--account", 999999999, "--coins", 5)


def test_credit_note_of_200_characters_is_accepted(new_client, admin, envelope):
    c = new_client(scopes=BILLING_SCOPES, plan=None)
    admin("coins", "credit", "--account", c.account_id, "--coins", 3,
          "--note", "é" * 200)
    assert profile(c, envelope)["coins"] == 3


# ------------------------------------------------ plan set: subscriptions

def test_plan_set_records_a_granted_subscription(new_client, admin, envelope):
    c = new_client(scopes=BILLING_SCOPES, plan=None)
    before = utcnow()
    out = admin("plan", "set", "--account", c.account_id, "--plan", "signal")
    after = utcnow()
    assert out["plan"] == "signal" and out["charged"] == 0 and out["coins"] == 0
    assert out["ended_subscription_id"] is None
    subs, resp = subscriptions(c, envelope)
    assert resp.json["total"] == 1 and resp.json["next"] is None
    sub = subs[0]
    assert set(sub) == SUBSCRIPTION_KEYS, sub
    assert sub["id"] == out["subscription_id"]
    assert sub["plan"] == {"slug": "signal", "name": "Signal", "price_coins": 10}
    assert sub["status"] == "active"
    assert sub["cancel_at_period_end"] is False
    start = parse_rfc3339(sub["current_period_start"])
    assert before <= start <= after
    assert parse_rfc3339(sub["created_at"]) == start
    assert parse_rfc3339(sub["current_period_end"]) == add_months(start, 1)
    assert parse_rfc3339(out["current_period_end"]) == add_months(start, 1)
    [event] = sub["payment_events"]
    assert set(event) == EVENT_KEYS, event
    assert isinstance(event["id"], int)
    assert (event["kind"], event["coins"], event["balance_after"], event["note"]) == \
        ("charge", 0, 0, GRANTED)
    assert parse_rfc3339(event["created_at"]) == start
    assert usage_plan(c) == "signal"


def test_plan_change_ends_the_current_subscription(signal_client, admin,
                                                   envelope):
    c = signal_client()
    first = current(c, envelope)
    out = admin("plan", "set", "--account", c.account_id, "--plan", "sentinel")
    assert out["ended_subscription_id"] == first["id"]
    subs, resp = subscriptions(c, envelope)
    assert resp.json["total"] == 2
    assert [s["id"] for s in subs] == [out["subscription_id"], first["id"]]
    assert [s["status"] for s in subs] == ["active", "ended"]
    assert subs[0]["plan"]["slug"] == "sentinel"
    assert usage_plan(c) == "sentinel"


def test_plan_set_text_output(new_client):
    c = new_client(scopes=BILLING_SCOPES, plan=None)
    proc = run_text("plan", "set", "--account", c.account_id, "--plan", "signal")
    assert proc.returncode == 0, proc.stderr
    assert "is now on plan signal" in proc.stdout
    assert "first period granted" in proc.stdout


def test_plan_set_charge_deducts_the_price(new_client, admin, envelope):
    c = new_client(scopes=BILLING_SCOPES, plan=None)
    admin("coins", "credit", "--account", c.account_id, "--coins", 15)
    out = admin("plan", "set", "--account", c.account_id, "--plan", "signal",
                "--charge")
    assert out["charged"] == 10 and out["coins"] == 5
    sub = current(c, envelope)
    [event] = sub["payment_events"]
    assert (event["kind"], event["coins"], event["balance_after"]) == ("charge", -10, 5)
    assert event["note"] != GRANTED
    assert profile(c, envelope)["coins"] == 5


def test_plan_set_charge_with_a_short_balance_changes_nothing(
        new_client, admin, admin_raw, envelope):
    c = new_client(scopes=BILLING_SCOPES, plan=None)
    admin("coins", "credit", "--account", c.account_id, "--coins", 15)
    admin("plan", "set", "--account", c.account_id, "--plan", "signal", "--charge")
    before, _ = subscriptions(c, envelope)
    assert_refused(admin_raw, 1, ["sentinel", "costs 50", "has 5", "nothing changed"],
                   "plan", "set", "--account", c.account_id, "--plan", "sentinel",
                   "--charge")
    after, _ = subscriptions(c, envelope)
    assert after == before
    data = profile(c, envelope)
    assert data["plan"] == "signal" and data["coins"] == 5
    assert usage_plan(c) == "signal"


@pytest.mark.parametrize("args, rc, words", [
    (("--plan", "no-such-plan"), 1, ["unknown plan 'no-such-plan'"]),
    (("--plan", "signal", "--charge=yes"), 2, ["--charge=yes"]),
    (("--plan", "signal", "--charge", "--charge"), 2, ["--charge", "twice"]),
    (("--plan", "signal", "extra"), 2, ["'extra'"]),
    ((), 2, ["--plan", "required"]),
])
def test_plan_set_bad_input_changes_nothing(new_client, admin_raw, envelope,
                                            args, rc, words):
    c = new_client(scopes=BILLING_SCOPES, plan=None)
    assert_refused(admin_raw, rc, words, "plan", "set", "--account", c.account_id,
                   *args)
    subs, _ = subscriptions(c, envelope)
    assert subs == []
    assert profile(c, envelope)["plan"] == "free"


def test_plan_set_unknown_account(admin_raw):
    assert_refused(admin_raw, 1, ["account 999999999 not found"],
                   "plan", "set", "--account", 999999999, "--plan", "signal")


def test_plan_set_free_ends_the_subscription_at_once(signal_client, admin,
                                                     envelope):
    c = signal_client()
    sub = current(c, envelope)
    out = admin("plan", "set", "--account", c.account_id, "--plan", "free")
    assert out["subscription_id"] is None
    assert out["ended_subscription_id"] == sub["id"]
    assert out["current_period_end"] is None
    subs, resp = subscriptions(c, envelope)
    assert resp.json["total"] == 1 and subs[0]["status"] == "ended"
    assert usage_plan(c) == "free"


def test_upgrade_takes_effect_at_once_for_every_key(new_client, admin, api,
                                                    exchange, plans):
    c = new_client(scopes=BILLING_SCOPES, plan="signal")
    app2 = c.add_app()
    key2 = c.issue_key(app_id=app2["id"])
    tokens = [c.token(), exchange(key2["api_key"], key2["api_secret"])]
    for token in tokens:
        resp = api("GET", "/v1/profile/", token=token)
        assert resp.headers["X-Plan"] == "signal", resp
    admin("plan", "set", "--account", c.account_id, "--plan", "command")
    limit = plans["command"]["max_api_requests_per_app_per_day"]
    for token, app_id in zip(tokens, (c.app_id, app2["id"])):
        resp = api("GET", "/v1/profile/", token=token)   # the same tokens
        assert resp.status == 200, resp
        assert resp.headers["X-Plan"] == "command", resp
        usage = resp.json["meta"]["usage"]
        assert usage["plan"] == "command" and usage["plan_name"] == "Command"
        assert usage["application_id"] == app_id
        assert usage["limit_per_day"] == limit
        assert int(resp.headers["X-RateLimit-Limit"]) == limit


# ----------------------------------------------------------------- renew

def test_renew_across_a_period_boundary(signal_client, admin, envelope):
    c = signal_client(coins=25)
    sub = current(c, envelope)
    start = parse_rfc3339(sub["created_at"])
    end = parse_rfc3339(sub["current_period_end"])

    out = renew(admin, end - datetime.timedelta(minutes=1), c.account_id)
    assert out["checked"] == 0 and out["renewed"] == 0
    assert current(c, envelope) == sub

    now = end + datetime.timedelta(minutes=1)
    out = renew(admin, now, c.account_id)
    assert (out["checked"], out["renewed"], out["past_due"], out["ended"],
            out["demoted"]) == (1, 1, 0, 0, 0)
    renewed = current(c, envelope)
    assert renewed["id"] == sub["id"] and renewed["status"] == "active"
    assert parse_rfc3339(renewed["current_period_start"]) == end
    assert parse_rfc3339(renewed["current_period_end"]) == add_months(start, 2)
    charge = renewed["payment_events"][0]
    assert (charge["kind"], charge["coins"], charge["balance_after"]) == ("charge", -10, 15)
    assert parse_rfc3339(charge["created_at"]) == now
    assert len(renewed["payment_events"]) == 2
    assert profile(c, envelope)["coins"] == 15
    assert usage_plan(c) == "signal"

    # A rerun at the same time, or a little later, finds nothing to do.
    for later in (now, now + datetime.timedelta(days=3)):
        out = renew(admin, later, c.account_id)
        assert out["checked"] == 0 and out["renewed"] == 0
        assert current(c, envelope) == renewed
    assert profile(c, envelope)["coins"] == 15


def test_renew_catches_up_a_missed_month(signal_client, admin, envelope):
    c = signal_client(coins=100)
    sub = current(c, envelope)
    start = parse_rfc3339(sub["created_at"])
    now = add_months(start, 2) + datetime.timedelta(days=1)
    out = renew(admin, now, c.account_id)
    assert out["checked"] == 1 and out["renewed"] == 1
    renewed = current(c, envelope)
    assert parse_rfc3339(renewed["current_period_start"]) == add_months(start, 2)
    assert parse_rfc3339(renewed["current_period_end"]) == add_months(start, 3)
    charges = [e for e in renewed["payment_events"] if e["coins"] == -10]
    assert [e["balance_after"] for e in charges] == [80, 90]
    assert profile(c, envelope)["coins"] == 80


def test_concurrent_renew_runs_charge_once(signal_client, envelope):
    """Overlapping cron runs: several processes renew the same due
    subscription at the same moment; the account row lock lets one
    charge, the others find nothing due."""
    clients = [signal_client(coins=100) for _ in range(4)]
    for c in clients:
        end = parse_rfc3339(current(c, envelope)["current_period_end"])
        cmd = [os.environ["CIVIC_ADMIN"], "--json", "billing", "renew", "--account",
               str(c.account_id), "--now", stamp(end + datetime.timedelta(minutes=1))]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(4)]
        renewed = 0
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            renewed += json.loads(out)["renewed"]
        assert renewed == 1
        sub = current(c, envelope)
        charges = [e for e in sub["payment_events"] if e["kind"] == "charge"]
        assert len(charges) == 2, sub      # the granted first period + one renewal
        assert charges[0]["coins"] == -10 and charges[0]["balance_after"] == 90
        assert profile(c, envelope)["coins"] == 90
        assert sub["status"] == "active"


def test_overlapping_global_runs(signal_client, envelope):
    """The cron command as it runs, twice at once over every account."""
    c = signal_client(coins=100)
    end = parse_rfc3339(current(c, envelope)["current_period_end"])
    cmd = [os.environ["CIVIC_ADMIN"], "--json", "billing", "renew", "--now",
           stamp(end + datetime.timedelta(minutes=1))]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert set(json.loads(out)) == RENEW_KEYS, out
    assert profile(c, envelope)["coins"] == 90
    assert current(c, envelope)["status"] == "active"


def test_short_balance_goes_past_due_keeps_the_tier_then_recovers(
        signal_client, admin, envelope):
    c = signal_client(coins=5)
    sub = current(c, envelope)
    end = parse_rfc3339(sub["current_period_end"])

    out = renew(admin, end + datetime.timedelta(minutes=1), c.account_id)
    assert (out["checked"], out["renewed"], out["past_due"], out["ended"]) == (1, 0, 1, 0)
    due = current(c, envelope)
    assert due["status"] == "past_due"
    assert parse_rfc3339(due["current_period_end"]) == end   # not advanced
    failed = due["payment_events"][0]
    assert (failed["kind"], failed["coins"], failed["balance_after"]) == \
        ("failed_charge", 0, 5)
    assert "grace" in failed["note"]
    assert usage_plan(c) == "signal"      # the tier stays during the grace
    assert profile(c, envelope)["coins"] == 5

    # Once per period, not once per run.
    out = renew(admin, end + datetime.timedelta(days=1), c.account_id)
    assert out["past_due"] == 1 and out["renewed"] == 0
    assert current(c, envelope) == due

    admin("coins", "credit", "--account", c.account_id, "--coins", 10)
    out = renew(admin, end + datetime.timedelta(days=2), c.account_id)
    assert (out["renewed"], out["past_due"], out["ended"]) == (1, 0, 0)
    back = current(c, envelope)
    assert back["status"] == "active"
    # The paid period runs from the old end: no gap, no free days.
    assert parse_rfc3339(back["current_period_start"]) == end
    assert back["payment_events"][0]["coins"] == -10
    assert back["payment_events"][0]["balance_after"] == 5
    assert profile(c, envelope)["coins"] == 5
    assert usage_plan(c) == "signal"


def test_past_the_grace_period_ends_and_demotes_to_free(
        signal_client, admin, admin_fail, api, envelope, grace_days, plans):
    assert WHATSAPP in plans["signal"]["scopes"]
    assert WHATSAPP not in plans["free"]["scopes"]
    c = signal_client(scopes=BILLING_SCOPES + (WHATSAPP,))
    sub = current(c, envelope)
    end = parse_rfc3339(sub["current_period_end"])
    grace = datetime.timedelta(days=grace_days)

    assert renew(admin, end + datetime.timedelta(minutes=1),
                 c.account_id)["past_due"] == 1
    out = renew(admin, end + grace - datetime.timedelta(seconds=1), c.account_id)
    assert (out["past_due"], out["ended"], out["demoted"]) == (1, 0, 0)
    assert usage_plan(c) == "signal"

    out = renew(admin, end + grace, c.account_id)
    assert (out["checked"], out["past_due"], out["ended"], out["demoted"]) == (1, 0, 1, 1)
    ended = current(c, envelope)
    assert ended["status"] == "ended"
    kinds = [e["kind"] for e in ended["payment_events"]]
    assert kinds == ["failed_charge", "failed_charge", "charge"]
    assert "ended" in ended["payment_events"][0]["note"]
    assert "free" in ended["payment_events"][0]["note"]
    data = profile(c, envelope)
    assert data["plan"] == "free"
    assert usage_plan(c) == "free"
    assert renew(admin, end + grace, c.account_id)["checked"] == 0

    # The key keeps its scope, but the plan no longer allows it.
    assert WHATSAPP in c.scopes
    resp = api("POST", JOIN_PATH, token=c.token(),
               json_body={"invite_link": "https://chat.whatsapp.com/" + "A" * 22,
                          "label": unique("group")})
    envelope.error(resp, 403, "PLAN_REQUIRED")
    # New keys cannot carry it either.
    admin_fail("key", "issue", "--app", c.app_id, "--scopes", WHATSAPP)


# ---------------------------------------------------------------- cancel

def test_cancel_keeps_the_tier_until_the_period_ends(signal_client, admin,
                                                     admin_raw, envelope):
    c = signal_client(coins=100)
    sub = current(c, envelope)
    end = parse_rfc3339(sub["current_period_end"])
    out = admin("billing", "cancel", "--account", c.account_id)
    assert out == {"account_id": c.account_id, "subscription_id": sub["id"],
                   "plan": "signal", "status": "cancelled",
                   "current_period_end": sub["current_period_end"]}
    cancelled = current(c, envelope)
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_at_period_end"] is True
    assert cancelled["payment_events"] == sub["payment_events"]
    assert usage_plan(c) == "signal"

    assert_refused(admin_raw, 1, ["already cancelled"],
                   "billing", "cancel", "--account", c.account_id)

    assert renew(admin, end - datetime.timedelta(minutes=1), c.account_id)["checked"] == 0
    assert usage_plan(c) == "signal"

    out = renew(admin, end + datetime.timedelta(minutes=1), c.account_id)
    assert (out["checked"], out["renewed"], out["ended"], out["demoted"]) == (1, 0, 1, 1)
    ended = current(c, envelope)
    assert ended["status"] == "ended"
    assert ended["payment_events"] == sub["payment_events"]   # nothing charged
    assert profile(c, envelope)["coins"] == 100
    assert usage_plan(c) == "free"


def test_cancel_text_output(signal_client):
    c = signal_client()
    proc = run_text("billing", "cancel", "--account", c.account_id)
    assert proc.returncode == 0, proc.stderr
    assert "cancelled" in proc.stdout and "stays until" in proc.stdout


@pytest.mark.parametrize("args, words", [
    ((), ["--account", "required"]),
    (("--account", "-1"), ["--account", "-1"]),
    (("--account", "abc"), ["--account", "abc"]),
    (("--account", ""), ["--account"]),
])
def test_cancel_bad_input(admin_raw, args, words):
    assert_refused(admin_raw, 2, words, "billing", "cancel", *args)


def test_cancel_without_a_subscription(new_client, admin_raw):
    c = new_client(scopes=BILLING_SCOPES, plan=None)
    assert_refused(admin_raw, 1, ["no current subscription"],
                   "billing", "cancel", "--account", c.account_id)
    assert_refused(admin_raw, 1, ["account 999999999 not found"],
                   "billing", "cancel", "--account", 999999999)


@pytest.mark.parametrize("now", [
    "garbage", "", "2026-02-30T00:00:00Z", "2026-07-01", "2026-07-01T25:00:00Z",
    "2026-07-01T00:00:00+24:00", "2026-07-01T00:00:00.5Z", "1969-12-31T23:59:59Z",
])
def test_renew_bad_now_is_a_usage_error(admin_raw, now):
    assert_refused(admin_raw, 2, ["--now", "RFC 3339"], "billing", "renew", "--now", now)


def test_renew_now_far_ahead_is_refused(admin_raw):
    far = utcnow() + datetime.timedelta(days=400)
    assert_refused(admin_raw, 2, ["--now", "366 days"],
                   "billing", "renew", "--now", stamp(far))


@pytest.mark.parametrize("args, words", [
    (("--now",), ["--now", "needs a value"]),
    (("--account", "0"), ["--account"]),
    (("--account", "x"), ["--account"]),
    (("--when", "x"), ["--when"]),
])
def test_renew_bad_options(admin_raw, args, words):
    assert_refused(admin_raw, 2, words, "billing", "renew", *args)


def test_renew_accepts_an_offset_and_prints_a_summary(signal_client, admin,
                                                      envelope):
    c = signal_client(coins=10)
    end = parse_rfc3339(current(c, envelope)["current_period_end"])
    local = (end + datetime.timedelta(minutes=1)).astimezone(
        datetime.timezone(datetime.timedelta(hours=-5)))
    proc = run_text("billing", "renew", "--account", c.account_id, "--now",
                    local.strftime("%Y-%m-%dT%H:%M:%S-05:00"))
    assert proc.returncode == 0, proc.stderr
    assert "1 due, 1 renewed, 0 past due, 0 ended" in proc.stdout, proc.stdout
    assert stamp(end + datetime.timedelta(minutes=1)).replace("Z", "+00:00") \
        in proc.stdout
    assert profile(c, envelope)["coins"] == 0


# ------------------------------------------------- GET /v1/subscriptions/

def test_subscriptions_are_paged_newest_first(new_client, admin, api, envelope):
    c = new_client(scopes=BILLING_SCOPES, plan=None)
    ids = [admin("plan", "set", "--account", c.account_id, "--plan", slug)
           ["subscription_id"] for slug in ("signal", "sentinel", "command")]
    subs, resp = subscriptions(c, envelope, "?page_size=2")
    assert resp.json["total"] == 3
    assert [s["id"] for s in subs] == [ids[2], ids[1]]
    assert resp.json["next"]
    rest = envelope.ok(api("GET", resp.json["next"], token=c.token()), is_list=True)
    assert [s["id"] for s in rest] == [ids[0]]
    for bad in ("?page=0", "?page_size=101", "?page_size=x", "?page=-1"):
        envelope.validation(c.get("/v1/subscriptions/" + bad),
                            "page" if "page=" in bad and "size" not in bad
                            else "page_size")


def test_subscriptions_empty_for_an_account_without_one(new_client, envelope):
    c = new_client(scopes=BILLING_SCOPES, plan=None)
    subs, resp = subscriptions(c, envelope)
    assert subs == [] and resp.json["total"] == 0 and resp.json["next"] is None
    c.metered(resp, plan="free")


def test_another_accounts_subscriptions_are_never_listed(signal_client, admin,
                                                         envelope):
    a, b = signal_client(coins=20), signal_client()
    admin("plan", "set", "--account", a.account_id, "--plan", "sentinel")
    mine = {s["id"] for s in subscriptions(a, envelope)[0]}
    theirs = {s["id"] for s in subscriptions(b, envelope)[0]}
    assert len(mine) == 2 and len(theirs) == 1
    assert not mine & theirs
    # Page well beyond: still nothing of anyone else.
    subs, resp = subscriptions(b, envelope, "?page=2&page_size=1")
    assert subs == [] and resp.json["total"] == 1


def test_subscriptions_need_billing_read(new_client, envelope):
    c = new_client(scopes=("profile:read",), plan="signal")
    envelope.error(c.get("/v1/subscriptions/"), 403, "PERMISSION_DENIED")


def test_subscriptions_without_a_token(api, envelope):
    envelope.error(api("GET", "/v1/subscriptions/"), 401, "INVALID_TOKEN")


def test_subscriptions_refuse_other_methods(new_client, api, envelope):
    c = new_client(scopes=BILLING_SCOPES, plan=None)
    resp = api("POST", "/v1/subscriptions/", token=c.token(), json_body={})
    envelope.error(resp, 405, "METHOD_NOT_ALLOWED")


def test_account_created_on_a_paid_plan_has_a_subscription(admin, envelope):
    """account create --plan starts the same subscription as plan set, so
    billing renew renews or demotes it like any other."""
    account = admin("account", "create", "--email", unique("paid") + "@example.org",
                    "--password", "Pw-" + unique("x"), "--plan", "signal")
    assert account["plan"] == "signal", account
    app = admin("app", "create", "--account", account["id"], "--name", unique("app"))
    key = admin("key", "issue", "--app", app["id"], "--scopes", ",".join(BILLING_SCOPES))
    token = exchange_token(key["api_key"], key["api_secret"])
    subs = envelope.ok(request("GET", "/v1/subscriptions/", token=token), is_list=True)
    assert len(subs) == 1, subs
    assert subs[0]["plan"]["slug"] == "signal" and subs[0]["status"] == "active", subs
    assert subs[0]["payment_events"][0]["note"] == GRANTED, subs
    free = admin("account", "create", "--email", unique("free") + "@example.org",
                 "--password", "Pw-" + unique("x"), "--plan", "free")
    assert free["plan"] == "free", free
