"""Per-key per-minute limit and the anonymous per-address limit (SPEC §4):
429 RATE_LIMITED with Retry-After, exact under concurrency, refused
requests counted nowhere, and the IETF RateLimit-Policy / RateLimit
fields describing the daily and minute policies."""

import concurrent.futures
import re
import time

from conftest import fresh_client_address, request

COUNTRIES = "/v1/supported-countries/"
PLANS = "/v1/pricing-plans/"

ITEM_RE = re.compile(r'^"([a-z]+)";(.*)$')


def parse_items(value):
    """'"daily";q=30;w=86400, "minute";q=5;w=60' -> {name: {param: int}}."""
    out = {}
    for item in value.split(","):
        m = ITEM_RE.match(item.strip())
        assert m, value
        params = {}
        for kv in m.group(2).split(";"):
            k, _, v = kv.partition("=")
            params[k] = int(v)
        out[m.group(1)] = params
    return out


def fresh_minute(margin=20):
    """Wait, when needed, so that at least margin seconds of the current
    UTC minute are left: a burst then stays inside one window."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.5)


def test_largest_plan_allows_fewer_than_1000_per_minute(plans):
    for plan in plans.values():
        assert 0 < plan["max_requests_per_key_per_minute"] < 1000, plan


def test_policies_describe_day_and_minute(new_client, envelope):
    c = new_client(per_day=50, per_minute=7)
    fresh_minute()
    resp = c.get(COUNTRIES)
    c.metered(resp, used=1, limit=50)
    policy = parse_items(resp.headers["RateLimit-Policy"])
    assert policy == {"daily": {"q": 50, "w": 86400},
                      "minute": {"q": 7, "w": 60}}, resp
    state = parse_items(resp.headers["RateLimit"])
    assert state["daily"]["r"] == 49, resp
    assert 0 < state["daily"]["t"] <= 86400, resp
    assert state["minute"]["r"] == 6, resp
    assert 0 < state["minute"]["t"] <= 60, resp
    envelope.exposed(resp)
    assert "Retry-After" not in resp.headers, resp


def test_minute_limit_is_exact_under_concurrency(new_client, envelope):
    limit = 12
    c = new_client(per_day=1000, per_minute=limit)
    token = c.token()
    fresh_minute()
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(
            lambda _: request("GET", COUNTRIES, token=token), range(4 * limit)))
    ok = [r for r in results if r.status == 200]
    refused = [r for r in results if r.status != 200]
    assert len(ok) == limit, [r.status for r in results]
    for r in refused:
        envelope.error(r, 429, "RATE_LIMITED")
        retry = int(r.headers["Retry-After"])
        assert 1 <= retry <= 60, r
        assert parse_items(r.headers["RateLimit"])["minute"]["r"] == 0, r
        assert "X-RateLimit-Used" in r.headers, r
    # Served requests were counted once each in the daily quota; refused
    # ones were not.
    assert sorted(int(r.headers["X-RateLimit-Used"]) for r in ok) == \
        list(range(1, limit + 1))
    usage = envelope.ok(request("GET", "/v1/usage/", token=token))
    app = [a for a in usage["applications"] if a["id"] == c.app_id][0]
    assert app["used_today"] == limit, usage


def test_minute_limit_is_per_key(new_client, envelope):
    c = new_client(per_day=1000, per_minute=2)
    other = c.issue_key()
    other_token = request("POST", "/v1/developer-token/", json_body={
        "api_key": other["api_key"], "api_secret": other["api_secret"]}).json["data"]["access"]
    fresh_minute()
    for _ in range(2):
        envelope.ok(c.get(COUNTRIES), is_list=True)
    envelope.error(c.get(COUNTRIES), 429, "RATE_LIMITED")
    # The second key of the same application has its own minute.
    resp = request("GET", COUNTRIES, token=other_token)
    c.metered(resp, used=3)


def test_usage_is_exempt_and_works_while_limited(new_client, envelope):
    c = new_client(per_day=1000, per_minute=1)
    fresh_minute()
    envelope.ok(c.get(COUNTRIES), is_list=True)
    envelope.error(c.get(COUNTRIES), 429, "RATE_LIMITED")
    for _ in range(3):
        data = envelope.ok(c.get("/v1/usage/"))
        assert data["limits"]["max_requests_per_key_per_minute"] == 1, data
    envelope.error(c.get(COUNTRIES), 429, "RATE_LIMITED")


def test_daily_refusal_does_not_spend_the_minute(new_client, envelope):
    c = new_client(per_day=2, per_minute=5)
    fresh_minute()
    for _ in range(2):
        envelope.ok(c.get(COUNTRIES), is_list=True)
    for _ in range(3):
        resp = c.get(COUNTRIES)
        envelope.error(resp, 429, "QUOTA_EXCEEDED")
        # Retry-After points at midnight, not at the next minute, and the
        # minute budget is what the two served requests left.
        to_midnight = int(resp.headers["X-RateLimit-Reset"]) - time.time()
        assert abs(int(resp.headers["Retry-After"]) - to_midnight) <= 3, resp
        assert parse_items(resp.headers["RateLimit"])["minute"]["r"] == 3, resp


def test_rate_limited_request_on_a_lowered_limit(new_client, admin, envelope):
    """An override takes effect on the next request (no cache)."""
    c = new_client(per_day=1000, per_minute=100)
    fresh_minute()
    envelope.ok(c.get(COUNTRIES), is_list=True)
    admin("account", "limits", "--account", c.account_id, "--requests-per-minute", 1)
    resp = c.get(COUNTRIES)
    envelope.error(resp, 429, "RATE_LIMITED")
    assert "this minute" in resp.json["msg"], resp
    assert parse_items(resp.headers["RateLimit-Policy"])["minute"]["q"] == 1, resp


# ------------------------------------------------------------- anonymous

def anonymous_limit(config):
    return int(config.get("limits", "anonymous_per_hour", fallback="30"))


def test_anonymous_calls_are_limited_per_address(config, envelope):
    limit = anonymous_limit(config)
    me, neighbour = fresh_client_address(), fresh_client_address()
    for i in range(limit):
        resp = request("GET", PLANS, source=me)
        envelope.ok(resp, is_list=True)
        state = parse_items(resp.headers["RateLimit"])["anonymous"]
        assert state["r"] == limit - i - 1, resp
        assert 0 < state["t"] <= 3600, resp
        assert parse_items(resp.headers["RateLimit-Policy"]) == {
            "anonymous": {"q": limit, "w": 3600}}, resp
        assert "X-RateLimit-Limit" not in resp.headers, resp
        envelope.exposed(resp)
    resp = request("GET", PLANS, source=me)
    envelope.error(resp, 429, "RATE_LIMITED")
    assert 1 <= int(resp.headers["Retry-After"]) <= 3600, resp
    assert str(limit) in resp.json["msg"], resp
    # Another address is another client.
    envelope.ok(request("GET", PLANS, source=neighbour), is_list=True)
    # Still refused, and the refusals were not counted into a longer wait.
    envelope.error(request("GET", PLANS, source=me), 429, "RATE_LIMITED")


def test_authenticated_calls_do_not_use_the_anonymous_budget(config, new_client,
                                                              envelope):
    limit = anonymous_limit(config)
    me = fresh_client_address()
    for _ in range(limit):
        envelope.ok(request("GET", PLANS, source=me), is_list=True)
    envelope.error(request("GET", PLANS, source=me), 429, "RATE_LIMITED")
    c = new_client()
    resp = request("GET", PLANS, token=c.token(), source=me)
    envelope.ok(resp, is_list=True)
    assert "anonymous" not in resp.headers.get("RateLimit-Policy", ""), resp


def test_refused_anonymous_input_is_not_counted(config, envelope):
    limit = anonymous_limit(config)
    me = fresh_client_address()
    for _ in range(5):
        envelope.validation(request("GET", PLANS + "?page=0", source=me), "page")
    resp = request("GET", PLANS, source=me)
    envelope.ok(resp, is_list=True)
    assert parse_items(resp.headers["RateLimit"])["anonymous"]["r"] == limit - 1, resp


def test_anonymous_limit_under_concurrency(config, envelope):
    limit = anonymous_limit(config)
    me = fresh_client_address()
    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda _: request("GET", PLANS, source=me),
                                range(limit + 20)))
    assert sum(r.status == 200 for r in results) == limit, \
        [r.status for r in results]
    for r in results:
        if r.status != 200:
            envelope.error(r, 429, "RATE_LIMITED")
