"""Daily per-application quota: headers, meta.usage, exactness under
concurrency, 429 answers."""

import concurrent.futures
import email.utils
import time

from conftest import next_utc_midnight

COUNTRIES = "/v1/supported-countries/"
PROFILE = "/v1/profile/"


def test_used_increments_by_exactly_one(new_client, plans):
    c = new_client()
    limit = plans[c.plan]["max_api_requests_per_app_per_day"]
    paths = [COUNTRIES, PROFILE, COUNTRIES, PROFILE, COUNTRIES]
    for expected, path in enumerate(paths, start=1):
        resp = c.get(path)
        assert resp.status == 200, resp
        used, got_limit = c.metered(resp, used=expected, limit=limit)
        assert int(resp.headers["X-RateLimit-Remaining"]) == limit - expected


def test_meta_usage_names_plan_and_application(new_client, plans):
    c = new_client()
    resp = c.get(PROFILE)
    c.metered(resp, used=1)
    usage = resp.json["meta"]["usage"]
    assert usage["plan"] == c.plan
    assert usage["plan_name"] == plans[c.plan]["name"]
    assert usage["application_id"] == c.app_id
    assert usage["application_name"] == c.app_name


def test_account_limit_override_sets_the_daily_limit(new_client):
    c = new_client(per_day=7, per_minute=100000)
    resp = c.get(COUNTRIES)
    c.metered(resp, used=1, limit=7)
    assert resp.headers["X-RateLimit-Remaining"] == "6", resp


def test_quota_is_per_application_not_per_key(new_client, exchange, plans,
                                              api):
    c = new_client()
    assert plans[c.plan]["max_apps"] >= 2, plans[c.plan]
    # A second key of the same application shares the counter.
    same_app_key = c.issue_key()
    same_app_token = exchange(same_app_key["api_key"], same_app_key["api_secret"])
    c.metered(c.get(COUNTRIES), used=1)
    c.metered(api("GET", COUNTRIES, token=same_app_token), used=2)
    c.metered(c.get(COUNTRIES), used=3)
    # Another application of the same account has its own counter.
    other_app = c.add_app()
    other_key = c.issue_key(app_id=other_app["id"])
    other_token = exchange(other_key["api_key"], other_key["api_secret"])
    resp = api("GET", COUNTRIES, token=other_token)
    c.metered(resp, used=1, app_id=other_app["id"],
              app_name=other_app["name"])
    c.metered(c.get(COUNTRIES), used=4)


def test_concurrent_requests_respect_the_quota_exactly(new_client, api,
                                                       envelope, exchange):
    limit, total = 40, 120
    c = new_client(per_day=limit, per_minute=100000)
    token = c.token()

    def hit(_):
        return api("GET", COUNTRIES, token=token, timeout=60)

    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(hit, range(total)))

    ok = [r for r in results if r.status == 200]
    refused = [r for r in results if r.status == 429]
    others = [r for r in results if r.status not in (200, 429)]
    assert not others, others[:3]
    assert len(ok) == limit, (len(ok), len(refused))
    assert len(refused) == total - limit

    # Every served request got its own slot: used values 1..limit, no twins.
    used_values = sorted(int(r.headers["X-RateLimit-Used"]) for r in ok)
    assert used_values == list(range(1, limit + 1)), used_values
    for r in ok:
        c.metered(r, limit=limit)

    for r in refused:
        envelope.error(r, 429, "QUOTA_EXCEEDED")
        retry_after = int(r.headers["Retry-After"])
        # From when it was answered (its Date), not from now: the batch
        # can take many seconds behind CGI under ASan.
        answered = email.utils.parsedate_to_datetime(r.headers["Date"]).timestamp()
        expected = next_utc_midnight(answered) - answered
        assert abs(retry_after - expected) <= 5, r
        assert r.headers["X-RateLimit-Remaining"] == "0", r
        assert r.headers["X-RateLimit-Limit"] == str(limit), r
        assert int(r.headers["X-RateLimit-Reset"]) in (
            next_utc_midnight(), next_utc_midnight(time.time() - 60)), r

    # Rejected requests were not counted.
    usage = api("GET", "/v1/usage/", token=token)
    assert usage.status == 200, usage
    apps = {a["id"]: a for a in usage.data["applications"]}
    assert apps[c.app_id]["used_today"] == limit, usage
    assert apps[c.app_id]["remaining_today"] == 0, usage

    # Still throttled on every metered endpoint, with a new token too.
    envelope.error(c.get(PROFILE), 429, "QUOTA_EXCEEDED")
    fresh = exchange(c.api_key, c.api_secret)
    envelope.error(api("GET", COUNTRIES, token=fresh), 429, "QUOTA_EXCEEDED")
    again = api("GET", "/v1/usage/", token=fresh)
    assert again.status == 200, again
    apps = {a["id"]: a for a in again.data["applications"]}
    assert apps[c.app_id]["used_today"] == limit, again


def test_throttled_application_does_not_throttle_another(new_client, api,
                                                         exchange):
    c = new_client(per_day=2, per_minute=100000)
    assert c.get(COUNTRIES).status == 200
    assert c.get(COUNTRIES).status == 200
    assert c.get(COUNTRIES).status == 429
    other_app = c.add_app()
    key = c.issue_key(app_id=other_app["id"])
    token = exchange(key["api_key"], key["api_secret"])
    resp = api("GET", COUNTRIES, token=token)
    assert resp.status == 200, resp
    c.metered(resp, used=1, limit=2, app_id=other_app["id"],
              app_name=other_app["name"])


def test_refused_requests_are_not_counted(new_client, envelope):
    """Requests refused before they are served cost nothing: bad paging,
    a body on a GET, a scope the key lacks, keys in the URL."""
    c = new_client(scopes="countries:read")
    c.metered(c.get(COUNTRIES), used=1)
    for path in (COUNTRIES + "?page=0", COUNTRIES + "?page_size=101",
                 COUNTRIES + "?api_key=x", PROFILE):
        resp = c.get(path)
        assert 400 <= resp.status < 500, resp
        assert resp.json["erc"] == 0, resp
    c.metered(c.get(COUNTRIES), used=2)
