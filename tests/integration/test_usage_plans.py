"""GET /v1/usage/ (never metered) and GET /v1/pricing-plans/ (public)."""

import pytest

from conftest import next_utc_midnight, parse_rfc3339

USAGE = "/v1/usage/"
PLANS = "/v1/pricing-plans/"
COUNTRIES = "/v1/supported-countries/"
LIMIT_KEYS = {"max_apps", "max_api_requests_per_app_per_day",
              "max_requests_per_key_per_minute", "max_alerts_per_day",
              "max_whatsapp_destinations"}


def apps_by_id(data):
    return {a["id"]: a for a in data["applications"]}


def test_usage_document(new_client, envelope, plans):
    c = new_client()
    data = envelope.ok(c.get(USAGE))
    assert set(data) == {"plan", "limits", "today", "applications"}, data
    plan = plans[c.plan]
    assert data["plan"] == {"slug": c.plan, "name": plan["name"],
                            "price_coins": plan["price_coins"]}
    assert set(data["limits"]) == LIMIT_KEYS, data
    for key in LIMIT_KEYS:
        assert data["limits"][key] == plan[key], (key, data, plan)
    assert set(data["today"]) == {"alerts_used", "resets_at"}, data
    assert data["today"]["alerts_used"] == 0
    resets = parse_rfc3339(data["today"]["resets_at"]).timestamp()
    assert resets == next_utc_midnight()
    limit = plan["max_api_requests_per_app_per_day"]
    assert data["applications"] == [{
        "id": c.app_id, "name": c.app_name, "used_today": 0,
        "remaining_today": limit}]


def test_usage_is_never_counted(new_client, envelope):
    c = new_client()
    c.metered(c.get(COUNTRIES), used=1)
    c.metered(c.get(COUNTRIES), used=2)
    for _ in range(5):
        resp = c.get(USAGE)
        data = envelope.ok(resp)
        assert apps_by_id(data)[c.app_id]["used_today"] == 2, resp
        assert resp.headers.get("X-RateLimit-Used") == "2", resp
        assert resp.headers.get("X-Plan") == c.plan, resp
    c.metered(c.get(COUNTRIES), used=3)


def test_usage_lists_every_app_of_the_account_only(new_client, exchange, api,
                                                   envelope):
    c = new_client()
    stranger = new_client()
    stranger.get(COUNTRIES)
    second = c.add_app()
    key = c.issue_key(app_id=second["id"])
    token2 = exchange(key["api_key"], key["api_secret"])
    for _ in range(3):
        assert api("GET", COUNTRIES, token=token2).status == 200
    c.get(COUNTRIES)
    data = envelope.ok(c.get(USAGE))
    apps = apps_by_id(data)
    assert set(apps) == {c.app_id, second["id"]}, data
    assert apps[c.app_id]["used_today"] == 1
    assert apps[second["id"]]["used_today"] == 3
    assert apps[second["id"]]["name"] == second["name"]
    limit = data["limits"]["max_api_requests_per_app_per_day"]
    assert apps[second["id"]]["remaining_today"] == limit - 3
    # The same answer from the other application's token.
    assert envelope.ok(api("GET", USAGE, token=token2))["applications"] == \
        data["applications"]


def test_usage_needs_no_scope(new_client, envelope):
    c = new_client(scopes=("profile:write",))
    envelope.ok(c.get(USAGE))


def test_usage_needs_a_token(api, envelope):
    envelope.error(api("GET", USAGE), 401, "INVALID_TOKEN")


def test_usage_answers_while_throttled(new_client, envelope):
    c = new_client(per_day=1, per_minute=100000)
    assert c.get(COUNTRIES).status == 200
    envelope.error(c.get(COUNTRIES), 429, "QUOTA_EXCEEDED")
    resp = c.get(USAGE)
    data = envelope.ok(resp)
    app = apps_by_id(data)[c.app_id]
    assert app["used_today"] == 1 and app["remaining_today"] == 0, data


def check_plan_rows(rows, admin_plans):
    by_slug = {p["slug"]: p for p in rows}
    assert len(by_slug) == len(rows), rows
    for plan in rows:
        assert {"slug", "name", "price_coins"} <= set(plan), plan
        assert LIMIT_KEYS <= set(plan), plan
        assert isinstance(plan["price_coins"], int), plan
    assert {"free", "signal"} <= set(by_slug), rows
    signal = by_slug["signal"]
    assert signal["price_coins"] == 10
    assert signal["max_apps"] == 5
    assert signal["max_api_requests_per_app_per_day"] == 30
    free = by_slug["free"]
    assert free["price_coins"] == 0
    assert free["max_apps"] == 1
    assert len(by_slug) >= 4, "two larger tiers expected beyond free/signal"
    # The API and the admin CLI agree.
    assert set(by_slug) == set(admin_plans), (rows, admin_plans)
    for slug, plan in by_slug.items():
        assert plan["name"] == admin_plans[slug]["name"]
        assert plan["price_coins"] == admin_plans[slug]["price_coins"]
        for key in LIMIT_KEYS:
            assert plan[key] == admin_plans[slug][key], (slug, key)
    return by_slug


def test_pricing_plans_are_public(api, envelope, plans):
    # One anonymous call only: anonymous calls are limited per client IP.
    resp = api("GET", PLANS)
    rows = envelope.ok(resp, is_list=True)
    check_plan_rows(rows, plans)
    assert resp.json["total"] == len(rows)
    assert resp.json["next"] is None


def test_pricing_plans_with_a_token(new_client, envelope, plans):
    c = new_client()
    rows = envelope.ok(c.get(PLANS), is_list=True)
    check_plan_rows(rows, plans)


@pytest.mark.parametrize("path", [USAGE, PLANS])
def test_wrong_method_on_read_only_endpoints(new_client, api, envelope, path):
    c = new_client()
    envelope.error(api("DELETE", path, token=c.token()), 405,
                   "METHOD_NOT_ALLOWED")
