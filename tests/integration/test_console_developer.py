"""The console's Developer tab (applications, keys) and account pages
(profile, usage, plan & billing), driven like a browser without
JavaScript: forms with their CSRF token, redirects read from Location.
What a page promises is checked on the API itself: a pair issued on the
page exchanges for a token with the chosen scopes, a revoked one is
refused, a saved profile is what GET /v1/profile/ answers."""

import html
import re

import pytest

from conftest import admin_json, exchange_raw, parse_rfc3339, request, unique
from consoleutil import Console, logged_in

XSS = ("<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>")

APP_PATH_RE = re.compile(r"^/console/apps/(\d+)\?notice=app_created$")
ROTATE_RE = re.compile(r"^/console/keys/(\d+)/rotate$")
UNTIL_RE = re.compile(r"The old key works until (\S+)")


# ------------------------------------------------------------- helpers

def create_app(c, name=None):
    """Creates an application on the page; returns its id."""
    c.get("/console/apps")
    page = c.post("/console/apps", {"name": name or unique("app")})
    assert page.status == 303, page
    m = APP_PATH_RE.match(page.location or "")
    assert m, page.location
    return int(m.group(1))


def issue(c, app_id, scopes=("countries:read",), name=None, expires=""):
    """Posts the issue form of the application's page; returns the page."""
    c.get("/console/apps/%d" % app_id)
    fields = [("name", name or unique("key")), ("expires_days", expires)]
    fields += [("scopes", s) for s in scopes]
    return c.post("/console/apps/%d/keys" % app_id, fields)


def issued_pair(page):
    assert page.status == 200, page
    key, secret = page.input_value("api_key"), page.input_value("api_secret")
    assert key and key.startswith("csk_"), page
    assert secret and secret.startswith("css_"), page
    return key, secret


def keys_of(app_id):
    """The application's keys as civic-admin lists them, by public key."""
    return {k["public_key"]: k for k in admin_json("key", "list", "--app", app_id)["keys"]}


def record(c):
    """Keeps every (method, path, page) c fetches from now on."""
    seen = []
    plain = c.request

    def request_and_keep(method, path, body=None, headers=None):
        page = plain(method, path, body=body, headers=headers)
        seen.append((method, path, page))
        return page

    c.request = request_and_keep
    return seen


def assert_escaped(page, payload):
    assert payload not in page.body, page.body
    assert html.escape(payload, quote=True) in page.body, page.body


# ---------------------------------------------------------- happy paths

def test_create_app_issue_key_and_call_the_api(envelope):
    c, (email, _, _) = logged_in()
    page = c.get("/console/apps")
    assert page.status == 200, page
    form = page.form("/console/apps")
    assert form["method"] == "post"
    assert page.parsed.labels.get("name") == "Application name"
    assert any(i.get("tag") == "button" for i in form["inputs"])
    assert "Create application" in page.text

    name = unique("weather-bot")
    app_id = create_app(c, name)
    page = c.get("/console/apps/%d?notice=app_created" % app_id)
    assert page.status == 200, page
    assert name in page.text
    assert page.parsed.labels.get("name") == "Key name"
    assert page.parsed.labels.get("expires_days") == "Expires after (days)"
    offered = [i["value"] for i in page.form("/console/apps/%d/keys" % app_id)["inputs"]
               if i.get("name") == "scopes"]
    free = admin_json("plan", "list")["plans"]
    free_scopes = next(p for p in free if p["slug"] == "free")["scopes"]
    assert offered == free_scopes
    assert "destinations:whatsapp:join" not in offered  # not in the free plan

    chosen = ("profile:read", "countries:read")
    page = issue(c, app_id, chosen, name="server", expires="30")
    key, secret = issued_pair(page)
    assert "shown only now" in page.text
    buttons = page.parsed.loose_inputs + [i for f in page.forms() for i in f["inputs"]]
    assert any(i.get("data-copy") == "api_secret" for i in buttons), page.body
    assert any(i.get("data-copy") == "api_key" for i in buttons), page.body

    resp = exchange_raw(key, secret)
    data = envelope.ok(resp)
    assert sorted(data["scopes"]) == sorted(chosen), data
    assert data["application_id"] == app_id
    token = data["access"]
    profile = envelope.ok(request("GET", "/v1/profile/", token=token))
    assert profile["email"] == email
    envelope.ok(request("GET", "/v1/supported-countries/", token=token), is_list=True)
    # Outside the chosen scopes, although the plan allows it.
    envelope.error(request("GET", "/v1/alert-destinations/", token=token), 403)

    listed = keys_of(app_id)[key]
    assert listed["name"] == "server" and listed["expires_at"], listed
    expires = parse_rfc3339(listed["expires_at"]).timestamp()
    created = parse_rfc3339(listed["created_at"]).timestamp()
    assert abs(expires - created - 30 * 86400) < 120, listed

    page = c.get("/console/apps/%d" % app_id)
    assert key in page.text
    assert "live" in page.text
    assert secret not in page.body
    page = c.get("/console/apps")
    assert name in page.text


def test_rotate_shows_a_new_pair_and_the_old_one_keeps_working(envelope):
    c, _ = logged_in()
    app_id = create_app(c)
    old_key, old_secret = issued_pair(issue(c, app_id, ("countries:read",)))
    page = c.get("/console/apps/%d" % app_id)
    rotate = [f["action"] for f in page.forms() if ROTATE_RE.match(f["action"] or "")]
    assert rotate == ["/console/keys/%d/rotate" % keys_of(app_id)[old_key]["id"]], rotate

    page = c.post(rotate[0])
    new_key, new_secret = issued_pair(page)
    assert new_key != old_key and new_secret != old_secret
    m = UNTIL_RE.search(page.text)
    assert m, page.text
    until = parse_rfc3339(m.group(1)).timestamp()
    keys = keys_of(app_id)
    assert keys[new_key]["rotated_from_id"] == keys[old_key]["id"]
    assert abs(until - parse_rfc3339(keys[new_key]["created_at"]).timestamp() - 86400) < 120

    assert envelope.ok(exchange_raw(new_key, new_secret))["scopes"] == ["countries:read"]
    envelope.ok(exchange_raw(old_key, old_secret))
    page = c.get("/console/apps/%d" % app_id)
    assert "retiring until %s" % m.group(1) in page.text, page.text
    # The retiring key cannot be rotated again; the new one can.
    rotate = [f["action"] for f in page.forms() if ROTATE_RE.match(f["action"] or "")]
    assert rotate == ["/console/keys/%d/rotate" % keys[new_key]["id"]], rotate
    page = c.post("/console/keys/%d/rotate" % keys[old_key]["id"])
    assert page.status == 409, page
    assert page.error
    assert len(keys_of(app_id)) == 2


def test_revoke_asks_then_revokes_for_good(envelope):
    c, _ = logged_in()
    app_id = create_app(c)
    key, secret = issued_pair(issue(c, app_id, ("countries:read",), name="doomed"))
    token = envelope.ok(exchange_raw(key, secret))["access"]
    kid = keys_of(app_id)[key]["id"]
    path = "/console/keys/%d/revoke" % kid

    page = c.get(path)
    assert page.status == 200, page
    assert "doomed" in page.text and key in page.text
    assert page.form(path)["method"] == "post"
    assert "Revoke key" in page.text
    # The confirmation page changed nothing.
    envelope.ok(exchange_raw(key, secret))

    page = c.post(path)
    assert page.status == 303, page
    assert page.location == "/console/apps/%d?notice=key_revoked" % app_id
    envelope.error(exchange_raw(key, secret), 401)
    envelope.error(request("GET", "/v1/supported-countries/", token=token), 401,
                   "INVALID_TOKEN")
    assert keys_of(app_id)[key]["status"] == "revoked"
    page = c.get(page.location)
    assert "revoked" in page.text
    assert not [f for f in page.forms() if f["action"] == "/console/keys/%d/rotate" % kid]
    # Again: already revoked, same outcome.
    c.get(path)
    assert c.post(path).status == 303


# ------------------------------------------------------------ bad paths

@pytest.mark.parametrize("name", ["", "   ", "a" * 101, "bad\x01name"])
def test_app_name_missing_or_invalid(name):
    c, (_, _, account_id) = logged_in("signal")
    c.get("/console/apps")
    page = c.post("/console/apps", {"name": name})
    assert page.status == 400, page
    assert page.field_error("name"), page
    assert page.input_value("name") == name
    assert "You have no applications yet" in page.text  # the page around the form


def test_app_name_taken_is_a_field_error():
    c, _ = logged_in("signal")
    name = unique("twin")
    create_app(c, name)
    page = c.post("/console/apps", {"name": name})
    assert page.status == 400, page
    assert page.field_error("name")
    assert page.input_value("name") == name


def test_free_plan_app_cap():
    c, (_, _, account_id) = logged_in()
    create_app(c)
    page = c.post("/console/apps", {"name": "second"})
    assert page.status == 403, page
    assert "Free" in page.error and "1 application" in page.error, page.error
    assert "Plan & billing" in page.error
    assert page.input_value("name") == "second"
    page = c.get("/console/apps")
    assert "you have 1." in page.text
    # At the cap the form gives way to a pointer to the plans.
    assert "are in use" in page.text and not [f for f in page.forms() if f["action"] == "/console/apps"]


def test_scope_outside_the_plan_is_refused():
    c, _ = logged_in()
    app_id = create_app(c)
    page = issue(c, app_id, ("countries:read", "destinations:whatsapp:join"), name="wa")
    assert page.status == 403, page
    assert "Free" in page.error and "destinations:whatsapp:join" in page.error, page.error
    assert page.input_value("name") == "wa"
    assert keys_of(app_id) == {}


@pytest.mark.parametrize("scopes", [("nope:read",), ("countries:read", "all"),
                                    ("countries:read,profile:read",)])
def test_unknown_scope_is_a_field_error(scopes):
    c, _ = logged_in()
    app_id = create_app(c)
    page = issue(c, app_id, scopes)
    assert page.status == 400, page
    assert page.field_error("scopes"), page
    assert keys_of(app_id) == {}


def test_no_scope_or_no_name_is_a_field_error():
    c, _ = logged_in()
    app_id = create_app(c)
    page = issue(c, app_id, ())
    assert page.status == 400 and page.field_error("scopes"), page
    page = issue(c, app_id, ("countries:read",), name=" ")
    assert page.status == 400 and page.field_error("name"), page
    assert keys_of(app_id) == {}


@pytest.mark.parametrize("days", ["0", "3651", "abc", "-1", "1.5"])
def test_expiry_out_of_range(days):
    c, _ = logged_in()
    app_id = create_app(c)
    page = issue(c, app_id, ("countries:read", "profile:read"), name="exp", expires=days)
    assert page.status == 400, page
    assert page.field_error("expires_days"), page
    assert page.input_value("expires_days") == days
    assert page.input_value("name") == "exp"
    checked = [i["value"] for f in page.forms() for i in f["inputs"]
               if i.get("name") == "scopes" and "checked" in i]
    assert sorted(checked) == ["countries:read", "profile:read"]
    assert keys_of(app_id) == {}


def test_expiry_bounds_are_accepted():
    c, _ = logged_in("signal")
    app_id = create_app(c)
    for days in ("1", "3650"):
        issued_pair(issue(c, app_id, ("countries:read",), expires=days))
    assert len(keys_of(app_id)) == 2


def test_another_accounts_app_and_key_are_not_found(envelope):
    owner, _ = logged_in()
    app_id = create_app(owner, "owner-app")
    key, secret = issued_pair(issue(owner, app_id, ("countries:read",)))
    kid = keys_of(app_id)[key]["id"]

    other, _ = logged_in()
    other_app = create_app(other)
    for probe_app, probe_key in ((app_id, kid), (987654321, 987654321)):
        assert other.get("/console/apps/%d" % probe_app).status == 404
        assert other.get("/console/keys/%d/revoke" % probe_key).status == 404
        other.get("/console/apps/%d" % other_app)  # a fresh CSRF token
        page = other.post("/console/apps/%d/keys" % probe_app,
                          [("name", "intruder"), ("scopes", "countries:read")])
        assert page.status == 404, page
        page = other.post("/console/keys/%d/rotate" % probe_key)
        assert page.status == 404, page
        page = other.post("/console/keys/%d/revoke" % probe_key)
        assert page.status == 404, page
        assert "owner-app" not in page.body
    # Nothing changed for the owner.
    keys = keys_of(app_id)
    assert list(keys) == [key] and keys[key]["status"] == "live"
    envelope.ok(exchange_raw(key, secret))
    assert keys_of(other_app) == {}


def test_markup_in_names_is_escaped_everywhere():
    c, _ = logged_in("signal")
    for payload in XSS:
        app_name = payload + unique("")
        app_id = create_app(c, app_name)
        page = c.get("/console/apps")
        assert_escaped(page, payload)
        page = c.get("/console/apps/%d" % app_id)
        assert_escaped(page, payload)
        page = issue(c, app_id, ("countries:read",), name=payload)
        issued_pair(page)
        assert_escaped(page, payload)
        page = c.get("/console/apps/%d" % app_id)
        assert_escaped(page, payload)
        kid = max(k["id"] for k in keys_of(app_id).values())
        assert_escaped(c.get("/console/keys/%d/revoke" % kid), payload)
        page = c.post("/console/keys/%d/rotate" % kid)
        issued_pair(page)
        assert_escaped(page, payload)
        assert_escaped(c.get("/console/usage"), payload)
        # Echoed into a form that failed.
        page = issue(c, app_id, ("countries:read",), name=payload, expires="0")
        assert page.status == 400
        assert_escaped(page, payload)
        assert page.input_value("name") == payload
        c.get("/console/profile")
        page = c.post("/console/profile", {"first_name": payload, "phone_number": "1",
                                           "country": ""})
        assert page.status == 400
        assert_escaped(page, payload)
        c.get("/console/profile")
        assert c.post("/console/profile", {"first_name": payload, "phone_number": "",
                                           "country": ""}).status == 303
        assert_escaped(c.get("/console/profile"), payload)


def test_the_secret_is_shown_once():
    c, _ = logged_in()
    app_id = create_app(c)
    seen = record(c)
    page = issue(c, app_id, ("countries:read",))
    key, secret = issued_pair(page)
    assert page.body.count(secret) == 1
    c.get("/console/apps/%d" % app_id)
    c.get("/console/apps")
    c.get("/console/usage")
    kid = keys_of(app_id)[key]["id"]
    c.get("/console/keys/%d/revoke" % kid)
    rotated = c.post("/console/keys/%d/rotate" % kid)
    _, new_secret = issued_pair(rotated)
    c.get("/console/apps/%d" % app_id)
    with_secret = [(m, p) for m, p, page in seen if secret in page.body]
    assert with_secret == [("POST", "/console/apps/%d/keys" % app_id)], with_secret
    with_new = [(m, p) for m, p, page in seen if new_secret in page.body]
    assert with_new == [("POST", "/console/keys/%d/rotate" % kid)], with_new
    for _, _, page in seen:
        assert page.header("Cache-Control") == "no-store"


# ------------------------------------------------- profile, usage, billing

def test_profile_invalid_values_are_field_errors():
    c, _ = logged_in()
    page = c.get("/console/profile")
    assert page.status == 200
    for field, label in (("first_name", "First name"), ("phone_number", "Phone number"),
                         ("country", "Country")):
        assert page.parsed.labels.get(field) == label
    options = next(i for i in page.form("/console/profile")["inputs"]
                   if i.get("name") == "country")["options"]
    assert options[0] == "" and "GB" in options and "FR" in options
    page = c.post("/console/profile", {"first_name": "Ada", "phone_number": "07911 123456",
                                       "country": "ZZ"})
    assert page.status == 400, page
    assert page.field_error("phone_number") and page.field_error("country"), page
    assert page.field_error("first_name") is None
    assert page.input_value("phone_number") == "07911 123456"
    assert page.input_value("first_name") == "Ada"
    # Nothing was saved.
    assert c.get("/console/profile").input_value("first_name") in (None, "")


def test_profile_saved_and_visible_on_the_api(envelope):
    c, (email, _, _) = logged_in()
    page = c.get("/console/profile")
    assert page.input_value("email") == email
    page = c.post("/console/profile", {"first_name": "Grace", "phone_number": "+447911123456",
                                       "country": "FR"})
    assert page.status == 303, page
    assert page.location == "/console/profile?notice=profile_saved"
    page = c.get(page.location)
    assert "Profile saved." in page.text
    assert page.input_value("first_name") == "Grace"
    assert page.input_value("phone_number") == "+447911123456"
    assert '<option value="FR" selected>' in page.body

    app_id = create_app(c)
    key, secret = issued_pair(issue(c, app_id, ("profile:read",)))
    token = envelope.ok(exchange_raw(key, secret))["access"]
    data = envelope.ok(request("GET", "/v1/profile/", token=token))
    assert (data["first_name"], data["phone_number"], data["country"]) == \
        ("Grace", "+447911123456", "FR")

    # An empty field clears its value.
    c.get("/console/profile")
    assert c.post("/console/profile", {"first_name": "Grace", "phone_number": "",
                                       "country": ""}).status == 303
    data = envelope.ok(request("GET", "/v1/profile/", token=token))
    assert (data["first_name"], data["phone_number"], data["country"]) == ("Grace", None, None)


def test_usage_page_counts_the_apps_requests(envelope):
    c, _ = logged_in()
    name = unique("counted")
    app_id = create_app(c, name)
    key, secret = issued_pair(issue(c, app_id, ("countries:read",)))
    token = envelope.ok(exchange_raw(key, secret))["access"]
    for _ in range(3):
        resp = request("GET", "/v1/supported-countries/?page_size=1", token=token)
        envelope.ok(resp, is_list=True)
    used, limit = int(resp.headers["X-RateLimit-Used"]), int(resp.headers["X-RateLimit-Limit"])
    assert used == 3
    page = c.get("/console/usage")
    assert page.status == 200, page
    assert "Free" in page.text
    assert "%d of %d requests today" % (used, limit) in page.text, page.text
    assert '<progress id="usage-app-%d" max="%d" value="%d">' % (app_id, limit, used) in page.body
    free = next(p for p in admin_json("plan", "list")["plans"] if p["slug"] == "free")
    assert "0 of %d alerts today" % free["max_alerts_per_day"] in page.text
    page = c.get("/console/apps")
    assert re.search(r"%s \S+ 1 %d" % (re.escape(name), used), page.text), page.text
    page = c.get("/console/apps/%d" % app_id)
    assert "requests today (UTC): %d" % used in page.text


def test_billing_page_shows_plan_coins_and_subscription():
    c, (_, _, account_id) = logged_in("signal")
    admin_json("coins", "credit", "--account", account_id, "--coins", "42")
    page = c.get("/console/billing")
    assert page.status == 200, page
    assert "Your plan: Signal" in page.text
    assert "Coins balance: 42 coins" in page.text
    assert "active" in page.text
    for plan in ("Free", "Signal", "Sentinel", "Command"):
        assert plan in page.text
    assert "your plan" in page.text


def test_pages_need_a_login():
    c = Console()
    for path in ("/console/apps", "/console/apps/1", "/console/profile", "/console/usage",
                 "/console/billing", "/console/keys/1/revoke"):
        page = c.get(path)
        assert page.status == 303 and page.location.startswith("/console/login"), (path, page)
