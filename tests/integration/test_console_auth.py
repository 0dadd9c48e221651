"""The console's accounts: sign-up, email verification, log in and out,
password reset; and what guards them: CSRF on every POST, the session
cookie's flags, session tokens and API tokens kept apart, throttles."""

import base64
import json
import os
import tempfile
import time
import urllib.parse

import pytest

import dbutil
import dispatchutil
import responderutil
from conftest import fresh_client_address, request, unique
from consoleutil import Console, deliver_mail, link_in, logged_in, new_account


def strong_password():
    return "Vq8-" + base64.urlsafe_b64encode(os.urandom(12)).decode()


def signup(c, email=None, password=None, confirm=None):
    email = unique("signup") + "@example.org" if email is None else email
    for _ in range(5):
        chosen = strong_password() if password is None else password
        c.get("/console/signup")
        page = c.post("/console/signup", {"email": email, "password": chosen,
                                          "confirm": chosen if confirm is None else confirm})
        # About one random password in a thousand fails cracklib's
        # "simplistic/systematic" check: draw another (a refused sign-up
        # does not count towards the throttle).
        if password is not None or "fails the dictionary check" not in page.body:
            break
    return page, email, chosen


def within_one_window(window, needed=30):
    """Waits, if need be, until the next `needed` seconds fall in one
    throttle window (fixed windows of `window` seconds from the epoch),
    so that a count the test builds up is not reset halfway."""
    left = window - time.time() % window
    if left < needed:
        time.sleep(left + 1)


def account_row(email):
    rows = dbutil.query("SELECT id, email_verified_at, password_hash FROM accounts"
                        " WHERE email = %s", (email.lower(),))
    return rows[0] if rows else None


def verify_link(email):
    mails = [m for m in deliver_mail(email) if "/console/verify?" in m.text]
    assert mails, "no verification mail to %s" % email
    return link_in(mails[-1])


def signed_up_and_verified():
    c = Console()
    page, email, password = signup(c)
    assert page.status == 200, page
    link = verify_link(email)
    c.get(link.path + "?" + link.query)
    page = c.post("/console/verify", {"token": urllib.parse.parse_qs(link.query)["token"][0]})
    assert page.status == 303 and "notice=verified" in page.location, page
    return c, email, password


# ------------------------------------------------------------------ sign up

def test_signup_verify_login_flow():
    c = Console()
    page, email, password = signup(c)
    assert page.status == 200, page
    assert "Check your email" in page.text and email in page.text
    row = account_row(email)
    assert row and row[1] is None and row[2].startswith("$argon2id$"), row

    link = verify_link(email)
    assert link.path == "/console/verify"
    # Opening the link (a mail scanner would) changes nothing ...
    page = c.get(link.path + "?" + link.query)
    assert page.status == 200 and page.form("/console/verify"), page
    assert account_row(email)[1] is None
    # ... logging in before verifying is refused, with a way to resend.
    other = Console()
    other.get("/console/login")
    page = other.post("/console/login", {"email": email, "password": password})
    assert page.status == 403 and "Verify your email address" in page.error, page

    token = urllib.parse.parse_qs(link.query)["token"][0]
    page = c.post("/console/verify", {"token": token})
    assert page.status == 303 and page.location == "/console/login?notice=verified", page
    assert account_row(email)[1] is not None
    page = c.get(page.location)
    assert "Your email address is verified" in page.text

    page = c.post("/console/login", {"email": email.upper(), "password": password})
    assert page.status == 303 and page.location == "/console/apps", page
    page = c.get("/console/")
    assert page.status == 303 and page.location == "/console/apps", page


def test_verify_link_reused_is_harmless_and_bad_tokens_refused():
    c = Console()
    page, email, _ = signup(c)
    link = verify_link(email)
    token = urllib.parse.parse_qs(link.query)["token"][0]
    c.get(link.path + "?" + link.query)
    assert c.post("/console/verify", {"token": token}).status == 303
    page = c.post("/console/verify", {"token": token})
    assert page.status == 303 and "already_verified" in page.location, page
    for bad in ("", "x" * 43, token[:-1], token + "A", "../../etc/passwd"):
        page = c.post("/console/verify", {"token": bad})
        assert page.status == 400 and "expired or is not valid" in page.error, (bad, page)
    page = c.get("/console/verify?token=short")
    assert page.status == 200 and "incomplete" in page.error, page


@pytest.mark.parametrize("field,email,password,confirm,why", [
    ("email", "not-an-address", None, None, "Enter an email address"),
    ("email", "", None, None, "Enter an email address"),
    ("password", None, "short1!", None, "at least 10 characters"),
    ("password", None, "x" * 129, None, "at most 128"),
    ("password", None, "password12", None, "dictionary"),
    ("confirm", None, None, "something-else-entirely", "differ"),
])
def test_signup_errors_beside_the_field_input_kept(field, email, password, confirm, why):
    c = Console()
    email = unique("bad") + "@example.org" if email is None else email
    page, _, password = signup(c, email=email, password=password, confirm=confirm)
    assert page.status == 400, page
    assert why.lower() in (page.field_error(field) or "").lower(), (field, page.field_error(field))
    assert page.input_value("email") == email
    assert page.input_value("password") in (None, ""), "a password was echoed"
    assert password not in page.body
    if "@" in email:
        assert account_row(email) is None


def test_signup_password_containing_the_user_name_refused():
    c = Console()
    name = "marguerite" + unique("u").replace("_", "")[-6:]
    page, _, _ = signup(c, email=name + "@example.org", password=name + "!2024")
    assert page.status == 400 and page.field_error("password"), page


def test_signup_existing_address_refused_and_account_untouched():
    email, password, _ = new_account()
    before = account_row(email)
    page, _, _ = signup(Console(), email=email.upper())
    assert page.status == 400 and "exists" in page.field_error("email"), page
    assert account_row(email) == before


def test_signup_throttled_per_client_address():
    within_one_window(3600)
    c = Console()
    for i in range(10):
        page, _, _ = signup(c)
        assert page.status == 200, (i, page)
    page, email, _ = signup(c)
    assert page.status == 429 and "Too many sign-ups" in page.error, page
    assert int(page.header("Retry-After")) > 0
    assert account_row(email) is None
    # Another network is not affected.
    assert signup(Console())[0].status == 200


# ------------------------------------------------------------------ log in

def test_login_wrong_password_and_unknown_address_look_alike():
    email, password, _ = new_account()
    c = Console()
    c.get("/console/login")
    wrong = c.post("/console/login", {"email": email, "password": password + "x"})
    unknown = c.post("/console/login", {"email": "nobody-" + email, "password": password})
    assert wrong.status == unknown.status == 401
    assert wrong.error == unknown.error == "Wrong email address or password."
    assert wrong.input_value("email") == email and password not in wrong.body
    assert "civic_session" not in c.cookies


def test_login_throttled_per_account_even_with_the_right_password():
    email, password, _ = new_account()
    within_one_window(900)
    for i in range(5):
        c = Console()  # each attempt from another address: the account counts
        c.get("/console/login")
        assert c.post("/console/login", {"email": email, "password": "wrong-" + str(i)}).status == 401
    c = Console()
    c.get("/console/login")
    page = c.post("/console/login", {"email": email, "password": password})
    assert page.status == 429 and "for this account" in page.error, page
    assert 0 < int(page.header("Retry-After")) <= 900
    assert "civic_session" not in c.cookies
    # Other accounts log in as usual.
    other_email, other_password, _ = new_account()
    c.post("/console/login", {"email": other_email, "password": other_password})
    assert "civic_session" in c.cookies


def test_login_throttled_per_client_address():
    within_one_window(900)
    source = fresh_client_address()
    c = Console(source=source)
    c.get("/console/login")
    for i in range(50):
        # 10 addresses x 5: no single account reaches its own limit.
        email = "nobody%d-%s@example.org" % (i % 10, source)
        assert c.post("/console/login", {"email": email, "password": "x" * 12}).status == 401, i
    email, password, _ = new_account()
    page = c.post("/console/login", {"email": email, "password": password})
    assert page.status == 429 and "from your network" in page.error, page
    Console().login(email, password)  # from elsewhere: fine


def test_login_next_only_within_the_console():
    email, password, _ = new_account()
    for nxt, expect in [("/console/usage", "/console/usage"),
                        ("//evil.example/console/", "/console/apps"),
                        ("https://evil.example/", "/console/apps"),
                        ("/console/../v1/profile", "/console/apps"),
                        ("/\\evil.example", "/console/apps")]:
        c = Console()
        c.get("/console/login")
        page = c.post("/console/login", {"email": email, "password": password, "next": nxt})
        assert page.status == 303 and page.location == expect, (nxt, page.location)


def test_pages_behind_login_redirect_and_come_back():
    c = Console()
    page = c.get("/console/apps")
    assert page.status == 303 and page.location == "/console/login?next=/console/apps", page
    login = c.get(page.location)
    form = login.form("/console/login")
    assert {"name": "next", "value": "/console/apps"}.items() <= next(
        i for i in form["inputs"] if i.get("name") == "next").items()


def test_logout_ends_the_session_for_good():
    c, (email, password, _) = logged_in()
    stolen = dict(c.cookies)
    assert c.get("/console/apps").status != 303
    page = c.post("/console/logout", {})
    assert page.status == 303 and page.location == "/console/login?notice=logged_out", page
    replay = Console()
    replay.cookies = stolen
    page = replay.get("/console/apps")
    assert page.status == 303 and page.location.startswith("/console/login"), page


def test_get_never_logs_out_or_changes_state():
    c, _ = logged_in()
    page = c.get("/console/logout")
    assert page.status == 405 and page.header("Allow") == "POST", page
    assert c.get("/console/apps").status != 303


# ------------------------------------------------------------------- CSRF

@pytest.mark.parametrize("case", ["missing", "wrong", "short", "other visitor", "no cookie"])
def test_csrf_refused_and_nothing_changes(case):
    c, (email, password, account_id) = logged_in()
    c.get("/console/apps")
    token = c.csrf
    assert token and len(token) == 43
    kwargs = {}
    if case == "missing":
        kwargs["csrf"] = False
    elif case == "wrong":
        kwargs["csrf"] = "A" * 43
    elif case == "short":
        kwargs["csrf"] = token[:-1]
    elif case == "other visitor":
        other = Console()
        other.login(*new_account()[:2])
        other.get("/console/apps")
        kwargs["csrf"] = other.csrf
    elif case == "no cookie":
        c.cookies = {k: v for k, v in c.cookies.items() if "csrf" not in k}
        kwargs["csrf"] = token
    name = unique("csrf-app")
    page = c.post("/console/apps", {"name": name}, **kwargs)
    assert page.status == 403 and "did not come from this site" in page.text, page
    assert not dbutil.query("SELECT id FROM applications WHERE account_id = %s AND name = %s",
                            (account_id, name))
    page = c.post("/console/logout", {}, **kwargs)
    assert page.status == 403


def test_csrf_token_changes_with_the_session():
    email, password, _ = new_account()
    c = Console()
    c.get("/console/login")
    before = c.csrf
    c.login(email, password)
    c.get("/console/apps")
    assert c.csrf != before
    # The pre-login token no longer works.
    assert c.post("/console/logout", {}, csrf=before).status == 403


def test_login_form_needs_csrf_too():
    email, password, _ = new_account()
    c = Console()
    c.get("/console/login")
    page = c.post("/console/login", {"email": email, "password": password}, csrf=False)
    assert page.status == 403 and "civic_session" not in c.cookies


def test_json_posts_refused_with_415():
    c, _ = logged_in()
    c.get("/console/apps")
    page = c.request("POST", "/console/apps", body=json.dumps({"name": "x", "csrf": c.csrf}),
                     headers={"Content-Type": "application/json"})
    assert page.status == 415, page


# ---------------------------------------------------------------- cookies

def set_cookie(page, prefix):
    found = [v for v in page.set_cookies() if v.startswith(prefix)]
    assert found, page.headers
    return found[-1]


def attrs(cookie):
    return [p.strip().lower() for p in cookie.split(";")[1:]]


def test_cookie_flags_over_http():
    email, password, _ = new_account()
    c = Console()
    page = c.get("/console/login")
    csrf = set_cookie(page, "civic_csrf=")
    assert {"path=/", "httponly", "samesite=lax"} <= set(attrs(csrf)), csrf
    page = c.post("/console/login", {"email": email, "password": password})
    session = set_cookie(page, "civic_session=")
    a = attrs(session)
    assert {"path=/", "httponly", "samesite=lax"} <= set(a), session
    assert "secure" not in a  # plain http: a Secure cookie would never come back
    assert not any(p.startswith("domain=") for p in a)
    max_age = [int(p.split("=")[1]) for p in a if p.startswith("max-age=")]
    assert max_age and 0 < max_age[0] <= 12 * 3600


def cgi(config, method, uri, body=b"", cookie=None):
    """The console run once as CGI with config: (status, [(name, value)],
    body bytes)."""
    proc = responderutil.run_cgi(
        "civic-console", method, uri, body, {"Cookie": cookie} if cookie else None, config,
        script_name="/console", remote_addr=fresh_client_address(),
        content_type="application/x-www-form-urlencoded")
    assert proc.returncode == 0, proc
    return responderutil.split_response(proc.stdout)


def test_cookie_flags_over_https_use_the_host_prefix():
    """base_url https: Secure and __Host- (run as CGI with such a config)."""
    email, password, _ = new_account()
    with tempfile.TemporaryDirectory() as d:
        config = dispatchutil.config_copy(d, api={"base_url": "https://console.example.org"})
        status, headers, body = cgi(config, "GET", "/console/login")
        assert status == 200
        csrf_cookie = [v for k, v in headers if k == "Set-Cookie"][0]
        assert csrf_cookie.startswith("__Host-civic_csrf=") and "; Secure" in csrf_cookie
        value = csrf_cookie.split(";")[0].split("=", 1)[1]
        token = body.decode().split('name="csrf" value="')[1].split('"')[0]
        form = urllib.parse.urlencode({"email": email, "password": password,
                                       "csrf": token}).encode()
        status, headers, _ = cgi(config, "POST", "/console/login", form,
                                 cookie="__Host-civic_csrf=" + value)
        assert status == 303, headers
        session = [v for k, v in headers if k == "Set-Cookie" and v.startswith("__Host-civic_session=")]
        assert session, headers
        a = attrs(session[0])
        assert {"path=/", "httponly", "samesite=lax", "secure"} <= set(a), session
        assert not any(p.startswith("domain=") for p in a)
        assert ("Strict-Transport-Security", "max-age=31536000") in headers
        # The plain-http cookie name is not accepted under https.
        token = session[0].split(";")[0].split("=", 1)[1]
        status, headers, _ = cgi(config, "GET", "/console/apps", cookie="civic_session=" + token)
        assert status == 303


# ------------------------------------------------------- token separation

def session_token(c):
    return c.cookies["civic_session"]


def test_session_token_refused_by_the_api():
    c, _ = logged_in()
    token = session_token(c)
    for path in ("/v1/profile/", "/v1/usage/", "/v1/alert-destinations/"):
        resp = request("GET", path, token=token)
        assert resp.status == 401 and resp.json["code"] == "INVALID_TOKEN", (path, resp.json)


def test_api_token_refused_by_the_console(new_client):
    client = new_client()
    c = Console()
    c.cookies["civic_session"] = client.token
    page = c.get("/console/apps")
    assert page.status == 303 and page.location.startswith("/console/login"), page
    # ... and the bad cookie is cleared.
    assert "civic_session" not in c.cookies


def test_forged_session_cookies_refused():
    c, (_, _, account_id) = logged_in()
    header, payload, sig = session_token(c).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(account_id + 1)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    for value in (header + "." + forged + "." + sig, none_header + "." + payload + ".",
                  "garbage", "a" * 5000):
        v = Console()
        v.cookies["civic_session"] = value
        page = v.get("/console/apps")
        assert page.status == 303 and page.location.startswith("/console/login"), value[:40]


# ------------------------------------------------------- password reset

def reset_link(email):
    mails = [m for m in deliver_mail(email) if "/console/reset?" in m.text]
    assert mails, "no reset mail to %s" % email
    return link_in(mails[-1])


def test_password_reset_flow_ends_every_session():
    email, password, _ = new_account()
    old_session = Console()
    old_session.login(email, password)
    c = Console()
    c.get("/console/forgot")
    page = c.post("/console/forgot", {"email": email})
    assert page.status == 303 and page.location == "/console/login?notice=mail_sent", page
    link = reset_link(email)
    token = urllib.parse.parse_qs(link.query)["token"][0]
    page = c.get(link.path + "?" + link.query)
    assert page.status == 200 and page.form("/console/reset")
    # A weak password: the link still works afterwards.
    page = c.post("/console/reset", {"token": token, "password": "short", "confirm": "short"})
    assert page.status == 400 and page.field_error("password"), page
    new = strong_password()
    page = c.post("/console/reset", {"token": token, "password": new, "confirm": new})
    assert page.status == 303 and "notice=password_reset" in page.location, page
    # The old session is over; the old password fails, the new one works.
    assert old_session.get("/console/apps").status == 303
    probe = Console()
    probe.get("/console/login")
    assert probe.post("/console/login", {"email": email, "password": password}).status == 401
    Console().login(email, new)
    # The link works once.
    page = c.post("/console/reset", {"token": token, "password": new + "x", "confirm": new + "x"})
    assert page.status == 400 and "used already" in page.error, page


def test_forgot_and_resend_do_not_tell_whether_an_account_exists():
    c = Console()
    c.get("/console/forgot")
    nobody = unique("nobody") + "@example.org"
    page = c.post("/console/forgot", {"email": nobody})
    assert page.status == 303 and page.location == "/console/login?notice=mail_sent"
    page = c.post("/console/verify/resend", {"email": nobody})
    assert page.status == 303 and page.location == "/console/login?notice=mail_sent"
    assert not dbutil.query("SELECT id FROM mail_queue WHERE to_address = %s", (nobody,))
    page = c.post("/console/forgot", {"email": "not an address"})
    assert page.status == 400 and page.field_error("email")


def test_mails_per_address_are_limited():
    email, _, account_id = new_account()
    c = Console()
    c.get("/console/forgot")
    for _ in range(5):
        page = c.post("/console/forgot", {"email": email})
        assert page.status == 303 and "mail_sent" in page.location
    rows = dbutil.query("SELECT COUNT(*) FROM mail_queue WHERE account_id = %s"
                        " AND purpose = 'reset_password'", (account_id,))
    assert rows[0][0] == 3


def test_resend_only_for_unverified_accounts():
    c = Console()
    page, email, _ = signup(c)
    page = c.post("/console/verify/resend", {"email": email})
    assert page.status == 303
    rows = dbutil.query("SELECT COUNT(*) FROM mail_queue WHERE to_address = %s"
                        " AND purpose = 'verify_email'", (email,))
    assert rows[0][0] == 2
    verified, _, account_id = new_account()
    c.post("/console/verify/resend", {"email": verified})
    assert dbutil.query("SELECT COUNT(*) FROM mail_queue WHERE account_id = %s",
                        (account_id,))[0][0] == 0


# ------------------------------------------------------------ the pages

def test_security_headers_and_error_pages():
    c = Console()
    page = c.get("/console/login")
    csp = page.header("Content-Security-Policy")
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.header("X-Frame-Options") == "DENY"
    assert page.header("Cache-Control") == "no-store"
    assert page.header("Referrer-Policy") == "no-referrer"
    assert page.header("Content-Type") == "text/html; charset=utf-8"
    page = c.get("/console/no-such-page")
    assert page.status == 404 and "Page not found" in page.text
    page = c.get("/console/static/console.css")
    assert page.status == 200 and page.header("Content-Type").startswith("text/css")
    for bad in ("/console/static/../layout.html", "/console/static/layout.html",
                "/console/static/%2e%2e/layout.html"):
        assert c.get(bad).status in (400, 404), bad


def test_every_form_input_has_a_label():
    c = Console()
    for path in ("/console/signup", "/console/login", "/console/forgot",
                 "/console/verify/resend"):
        page = c.get(path)
        for form in page.forms():
            for i in form["inputs"]:
                if i["tag"] == "input" and i.get("type") not in ("hidden", "submit"):
                    assert i.get("id") in page.parsed.labels, (path, i)


def test_malformed_forms_are_refused_cleanly():
    c = Console()
    c.get("/console/login")
    for body in ("a=%zz", "%00=1", "x=" + "%41" * 9000, "&".join("f%d=1" % i for i in range(80))):
        page = c.request("POST", "/console/login", body=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert page.status == 400 and "could not be read" in page.text, body[:20]


def test_reset_links_last_an_hour_and_then_fail():
    email, password, account_id = new_account()
    c = Console()
    c.get("/console/forgot")
    c.post("/console/forgot", {"email": email})
    link = reset_link(email)
    assert "for one hour" in [m for m in dispatchutil.mails(email) if "/console/reset?" in m.text][-1].text
    rows = dbutil.query("SELECT TIMESTAMPDIFF(SECOND, created_at, expires_at) FROM email_tokens"
                        " WHERE account_id = %s AND purpose = 'reset_password'", (account_id,))
    assert rows and rows[-1][0] == 3600, rows
    dbutil.execute("UPDATE email_tokens SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND"
                   " WHERE account_id = %s", (account_id,))
    new = strong_password()
    token = urllib.parse.parse_qs(link.query)["token"][0]
    page = c.post("/console/reset", {"token": token, "password": new, "confirm": new})
    assert page.status == 400 and "expired" in page.error, page
    Console().login(email, password)  # unchanged
