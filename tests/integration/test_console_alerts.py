"""The console's alert pages (SPEC §7, issue 5): destinations, WhatsApp
groups, subscriptions and the delivery history. The pages run the API's
own handlers, so these tests check what a browser sees: the API's field
messages beside the fields with the input kept, caps as a form-wide
error, another account's ids as 404 with nothing changed, a confirmation
page before a delete, every label and identifier escaped."""

import datetime
import html.parser
import urllib.parse

import pytest

import dbutil
import dispatchutil as du
from conftest import unique
from consoleutil import Console, deliver_mail, logged_in as _logged_in

XSS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
DESTINATIONS = "/console/destinations"
SUBSCRIPTIONS = "/console/subscriptions"
DISPATCHES = "/console/dispatches"


class _Links(html.parser.HTMLParser):
    """The links of a page ({rel or text: href}) and the rows of its
    tables' bodies."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = {}
        self.rows = 0
        self._a = None
        self._text = []
        self._tbody = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a":
            self._a = a
            self._text = []
        elif tag == "tbody":
            self._tbody = True
        elif tag == "tr" and self._tbody:
            self.rows += 1

    def handle_endtag(self, tag):
        if tag == "a" and self._a is not None:
            text = " ".join("".join(self._text).split())
            self.links[self._a.get("rel") or text] = self._a.get("href")
            self._a = None
        elif tag == "tbody":
            self._tbody = False

    def handle_data(self, data):
        if self._a is not None:
            self._text.append(data)


def links(page):
    p = _Links()
    p.feed(page.body)
    p.close()
    return p


def logged_in(plan=None):
    """consoleutil.logged_in, then a page of the session: the login
    page's CSRF token belonged to the visitor before the session."""
    c, who = _logged_in(plan)
    assert c.get(DESTINATIONS).status == 200
    return c, who


def destinations_of(account_id):
    """(id, label, channel, identifier, status, deleted) by id."""
    return dbutil.query("SELECT id, label, channel, identifier, status, deleted_at IS NOT NULL"
                        " FROM alert_destinations WHERE account_id = %s ORDER BY id",
                        (account_id,))


def select_options(page, action, name):
    for i in page.form(action)["inputs"]:
        if i.get("name") == name and i["tag"] == "select":
            return i.get("options", [])
    raise AssertionError("no select %s in form %s" % (name, action))


def add_email(c, address, label="Desk inbox"):
    page = c.post(DESTINATIONS, {"label": label, "channel": "email", "identifier": address})
    assert page.status == 303, page
    assert page.location == DESTINATIONS + "?notice=destination_created", page.location
    return page


def add_webhook(c, url, label="Ops hook"):
    page = c.post(DESTINATIONS, {"label": label, "channel": "webhook", "identifier": url})
    assert page.status == 200, page
    return page


def newest_destination(account_id):
    return destinations_of(account_id)[-1][0]


def hook_url():
    return "https://hooks.example.org/" + unique("console")


# ------------------------------------------------------------ destinations

def test_destinations_need_a_login():
    page = Console().get(DESTINATIONS)
    assert page.status == 303 and page.location.startswith("/console/login"), page
    page = Console().get(DISPATCHES)
    assert page.status == 303 and page.location.startswith("/console/login"), page


def test_email_destination_starts_pending_and_its_mail_goes_out():
    c, (_, _, account) = logged_in()
    page = c.get(DESTINATIONS)
    assert page.status == 200, page
    assert page.parsed.labels["identifier"] == "Email address or webhook URL"
    assert page.parsed.labels["label"] and page.parsed.labels["channel"]
    assert select_options(page, DESTINATIONS, "channel") == ["email", "webhook"]
    assert "No destinations yet" in page.text

    address = unique("cdest") + "@example.org"
    add_email(c, address.upper().replace("@EXAMPLE.ORG", "@Example.org"))
    page = c.get(DESTINATIONS + "?notice=destination_created")
    assert "Destination created." in page.text, page
    assert address in page.text and "Desk inbox" in page.text and "pending" in page.text, page
    rows = destinations_of(account)
    assert [(r[2], r[3], r[4], r[5]) for r in rows] == [("email", address, "pending", 0)], rows
    assert links(page).links["Delete…"] == "/console/destinations/%d/delete" % rows[0][0]

    queued = dbutil.mails(to_address=address)
    assert [(m["purpose"], m["status"]) for m in queued] == \
        [("confirm_destination", "pending")], queued
    got = deliver_mail(address)
    assert len(got) == 1, got
    assert "/v1/alert-destinations/confirm/?token=" in got[0].text, got[0].text


def test_webhook_shows_its_signing_secret_once():
    c, (_, _, account) = logged_in()
    url = hook_url()
    page = add_webhook(c, url)
    secret = page.input_value("signing_secret")
    assert secret and secret.startswith("whsec_"), page
    copy = [i for f in page.forms() for i in f["inputs"]] + page.parsed.loose_inputs
    assert any(i.get("data-copy") == "signing_secret" for i in copy), page.body
    assert "only this once" in page.text and "pending" in page.text, page
    assert page.header("Cache-Control") == "no-store"

    rows = destinations_of(account)
    assert [(r[2], r[3], r[4]) for r in rows] == [("webhook", url, "pending")], rows
    assert dbutil.webhook_check(rows[0][0])["status"] == "pending"
    listing = c.get(DESTINATIONS)
    assert url in listing.text and secret not in listing.body, listing


@pytest.mark.parametrize("fields,field", [
    ({"label": "", "channel": "email", "identifier": "kept@example.org"}, "label"),
    ({"label": "x" * 101, "channel": "email", "identifier": "kept@example.org"}, "label"),
    ({"label": "Bad channel", "channel": "sms", "identifier": "+447911123456"}, "channel"),
    ({"label": "Bad address", "channel": "email", "identifier": "not-an-address"},
     "identifier"),
    ({"label": "Metadata", "channel": "webhook",
      "identifier": "http://169.254.169.254/latest/meta-data/"}, "identifier"),
    ({"label": "Private", "channel": "webhook", "identifier": "http://10.0.0.1/hook"},
     "identifier"),
    ({"label": "Not a URL", "channel": "webhook", "identifier": "javascript:alert(1)"},
     "identifier"),
])
def test_destination_form_shows_the_apis_field_errors(fields, field):
    c, (_, _, account) = logged_in()
    c.get(DESTINATIONS)
    page = c.post(DESTINATIONS, fields)
    assert page.status == 400, page
    assert page.field_error(field), page.body
    form = page.form(DESTINATIONS)
    invalid = [i.get("id") for i in form["inputs"] if i.get("aria-invalid") == "true"]
    assert invalid == [field], form
    assert page.input_value("label") == fields["label"]
    assert page.input_value("identifier") == fields["identifier"]
    assert destinations_of(account) == ()


def test_destination_cap_is_a_form_wide_error():
    c, (_, _, account) = logged_in()
    for i in range(100):
        dbutil.insert_destination(account, "webhook", label="cap %d" % i)
    c.get(DESTINATIONS)
    page = c.post(DESTINATIONS, {"label": "One too many", "channel": "email",
                                 "identifier": unique("cap") + "@example.org"})
    assert page.status == 403, page
    assert "100" in page.error, page.error
    assert links(page).links.get("Compare plans on the Plan & billing page") == \
        "/console/billing"
    assert page.input_value("label") == "One too many"
    assert len(destinations_of(account)) == 100
    # The list pages through them with the console's own links.
    page = c.get(DESTINATIONS)
    found = links(page)
    assert found.rows == 20 and found.links["next"] == DESTINATIONS + "?page=2", found.links
    page = c.get(DESTINATIONS + "?page=5")
    assert links(page).links["prev"] == DESTINATIONS + "?page=4"
    assert "next" not in links(page).links


def test_a_duplicate_destination_is_refused():
    c, (_, _, account) = logged_in()
    address = unique("dup") + "@example.org"
    add_email(c, address)
    page = c.post(DESTINATIONS, {"label": "Again", "channel": "email", "identifier": address})
    assert page.status == 409, page
    assert "already" in page.error, page.error
    assert len(destinations_of(account)) == 1


def test_delete_needs_the_confirmation_pages_post():
    c, (_, _, account) = logged_in()
    add_email(c, unique("del") + "@example.org", "Doomed inbox")
    dest = newest_destination(account)
    dbutil.insert_subscriptions(account, dest, ["risk:FR"])
    path = "/console/destinations/%d/delete" % dest

    for _ in range(2):
        page = c.get(path)
        assert page.status == 200 and "Doomed inbox" in page.text, page
    form = page.form(path)
    assert form["method"] == "post"
    assert [i.get("name") for i in form["inputs"] if i["tag"] == "input"] == ["csrf"]
    assert destinations_of(account)[0][5] == 0, "a GET deleted it"
    assert c.post(path, csrf=False).status == 403
    assert destinations_of(account)[0][5] == 0

    page = c.post(path)
    assert page.status == 303, page
    assert page.location == DESTINATIONS + "?notice=destination_deleted"
    assert destinations_of(account)[0][5] == 1
    assert dbutil.subscription_rows(account)[0][4] is not None, "its subscription ended"
    page = c.get(page.location)
    assert "Doomed inbox" not in page.text and "subscriptions ended" in page.text, page
    assert c.get(path).status == 404
    assert c.post(path).status == 404


# ----------------------------------------------------------------- WhatsApp

def invite(prefix="Group"):
    return "https://chat.whatsapp.com/" + (prefix + unique("x").replace("-", "Q"))[:26]


def test_whatsapp_is_hidden_and_refused_on_the_free_plan():
    c, (_, _, account) = logged_in()
    page = c.get(DESTINATIONS)
    assert [f for f in page.forms() if f["action"] == DESTINATIONS + "/whatsapp"] == []
    assert page.input_value("invite_link") is None
    page = c.post(DESTINATIONS + "/whatsapp", {"invite_link": invite(), "label": "Group"})
    assert page.status == 403, page
    assert "Free" in page.error and "destinations:whatsapp:join" in page.error, page.error
    assert destinations_of(account) == ()


def test_whatsapp_join_on_a_paid_plan():
    c, (_, _, account) = logged_in(plan="signal")
    page = c.get(DESTINATIONS)
    form = page.form(DESTINATIONS + "/whatsapp")
    assert {i.get("name") for i in form["inputs"]} == {"csrf", "invite_link", "label", None}
    assert page.parsed.labels["invite_link"] and page.parsed.labels["wa_label"]

    page = c.post(DESTINATIONS + "/whatsapp", {"invite_link": invite("Expired"),
                                               "label": "Stale group"})
    assert page.status == 400 and page.field_error("invite_link"), page
    assert page.input_value("invite_link").startswith("https://chat.whatsapp.com/Expired")
    assert page.input_value("wa_label") == "Stale group"
    assert page.input_value("label") in (None, ""), "the other form's label stays empty"

    page = c.post(DESTINATIONS + "/whatsapp", {"invite_link": invite(), "label": "Ops group"})
    assert page.status == 303, page
    rows = destinations_of(account)
    assert [(r[1], r[2], r[4]) for r in rows] == [("Ops group", "whatsapp", "active")], rows

    # The Signal plan allows one WhatsApp group.
    page = c.post(DESTINATIONS + "/whatsapp", {"invite_link": invite(), "label": "Second"})
    assert page.status == 403, page
    assert "signal" in page.error.lower() and "1" in page.error, page.error
    assert len(destinations_of(account)) == 1


# ------------------------------------------------------------ subscriptions

def test_subscribe_and_cancel():
    c, (_, _, account) = logged_in()
    add_webhook(c, hook_url(), "Sub hook")
    dest = newest_destination(account)
    page = c.get(SUBSCRIPTIONS)
    assert page.status == 200 and "No subscriptions yet" in page.text, page
    assert select_options(page, SUBSCRIPTIONS, "destination_id") == [str(dest)]
    assert select_options(page, SUBSCRIPTIONS, "min_level") == ["1", "2", "3", "4", "5"]
    assert "severe" in page.text and "low" in page.text
    for field in ("destination_id", "stream", "min_level"):
        assert page.parsed.labels[field], field

    page = c.post(SUBSCRIPTIONS, {"destination_id": dest, "stream": "risk:nl",
                                  "min_level": "3"})
    assert page.status == 303, page
    assert page.location == SUBSCRIPTIONS + "?notice=subscription_created"
    rows = dbutil.subscription_rows(account)
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [(dest, "risk:NL", 3, None)], rows
    sub = rows[0][0]
    page = c.get(page.location)
    assert "Subscription created." in page.text
    assert "Sub hook" in page.text and "risk:NL" in page.text and "elevated" in page.text

    # The same again: a form-wide error, nothing added.
    again = c.post(SUBSCRIPTIONS, {"destination_id": dest, "stream": "risk:NL"})
    assert again.status == 409 and "already subscribed" in again.error, again
    assert len(dbutil.subscription_rows(account)) == 1

    cancel = "/console/subscriptions/%d/cancel" % sub
    form = page.form(cancel)
    assert form["method"] == "post"
    page = c.post(cancel)
    assert page.status == 303, page
    assert page.location == SUBSCRIPTIONS + "?notice=subscription_cancelled"
    assert dbutil.subscription_rows(account)[0][4] is not None
    page = c.get(page.location)
    assert "risk:NL" not in page.text and "No subscriptions yet" in page.text, page
    assert c.post(cancel).status == 404


@pytest.mark.parametrize("fields,field", [
    ({"stream": "europe", "min_level": "2"}, "stream"),
    ({"stream": "risk:XX", "min_level": "2"}, "stream"),
    ({"stream": "risk:*", "min_level": "9"}, "min_level"),
    ({"stream": "risk:*", "min_level": "two"}, "min_level"),
    ({"stream": "risk:*", "destination_id": ""}, "destination_id"),
    ({"stream": "risk:*", "destination_id": "10000000000000"}, "destination_id"),
])
def test_subscription_form_shows_the_apis_field_errors(fields, field):
    c, (_, _, account) = logged_in()
    add_email(c, unique("subbad") + "@example.org")
    fields = dict(fields)
    fields.setdefault("destination_id", str(newest_destination(account)))
    page = c.post(SUBSCRIPTIONS, fields)
    assert page.status == 400, page
    assert page.field_error(field), page.body
    assert page.input_value("stream") == fields["stream"]
    if "min_level" in fields:
        assert fields["min_level"] in select_options(page, SUBSCRIPTIONS, "min_level")
    assert dbutil.subscription_rows(account) == ()


# ------------------------------------------------------ other accounts' ids

def test_other_accounts_ids_are_not_found_and_nothing_changes():
    owner, (_, _, owner_id) = logged_in()
    add_email(owner, unique("owner") + "@example.org", "Owner inbox")
    dest = newest_destination(owner_id)
    dbutil.insert_subscriptions(owner_id, dest, ["risk:DE"])
    sub = dbutil.subscription_rows(owner_id)[0][0]
    alert = dbutil.insert_alert("DE", 4, 2)
    dbutil.insert_dispatch(alert, dest, owner_id, status="delivered", attempts=1,
                           delivered_at=datetime.timedelta(0))
    before = (destinations_of(owner_id), dbutil.subscription_rows(owner_id))

    intruder, _ = logged_in()
    intruder.get(DESTINATIONS)
    for dest_id, sub_id in ((dest, sub), (10**12, 10**12)):
        assert intruder.get("/console/destinations/%d/delete" % dest_id).status == 404
        assert intruder.post("/console/destinations/%d/delete" % dest_id).status == 404
        assert intruder.post("/console/subscriptions/%d/cancel" % sub_id).status == 404
    # A subscription to it: the API's answer for a destination it does not have.
    page = intruder.post(SUBSCRIPTIONS, {"destination_id": dest, "stream": "risk:*"})
    assert page.status == 400 and page.field_error("destination_id"), page
    page = intruder.get(DISPATCHES + "?destination_id=%d" % dest)
    assert page.status == 200 and "No deliveries to show" in page.text, page
    for path in (DESTINATIONS, SUBSCRIPTIONS, DISPATCHES):
        assert "Owner inbox" not in intruder.get(path).body, path
    assert (destinations_of(owner_id), dbutil.subscription_rows(owner_id)) == before


# --------------------------------------------------------- delivery history

@pytest.mark.usefixtures("parked")
def test_history_shows_deliveries_after_an_alert(admin, receiver, tmp_path):
    r = receiver()
    c, (_, _, account) = logged_in()
    add_webhook(c, r.url("/console-history"), "History hook")
    dest = newest_destination(account)
    dbutil.activate_webhook(dest)
    page = c.post(SUBSCRIPTIONS, {"destination_id": dest, "stream": "risk:LU",
                                  "min_level": "1"})
    assert page.status == 303, page
    page = c.get(DISPATCHES)
    assert page.status == 200 and "No deliveries to show" in page.text, page

    alert, _, _ = du.import_level_change(admin, tmp_path, "LU")
    du.run(du.quick_config(tmp_path))
    assert [d["status"] for d in dbutil.dispatches_of(alert_id=alert)] == ["delivered"]
    assert [q.path for q in r.snapshot()] == ["/console-history"]

    page = c.get(DISPATCHES)
    assert page.status == 200, page
    for text in ("History hook", "risk:LU", "delivered", "success", "code 200"):
        assert text in page.text, (text, page)
    assert links(page).rows == 1
    assert str(dest) in select_options(page, DISPATCHES, "destination_id")

    def rows(query):
        page = c.get(DISPATCHES + "?" + urllib.parse.urlencode(query))
        assert page.status == 200, page
        return links(page).rows, page

    assert rows({"status": "delivered"})[0] == 1
    assert rows({"status": "failed"})[0] == 0
    assert rows({"destination_id": dest})[0] == 1
    n, page = rows({"since": "2999-01-01T00:00:00Z", "status": ""})
    assert n == 0 and page.input_value("since") == "2999-01-01T00:00:00Z"
    assert rows({"since": "2000-01-01T00:00:00Z"})[0] == 1


@pytest.mark.parametrize("query,field", [
    ("status=bogus", "status"),
    ("status=DELIVERED", "status"),
    ("destination_id=abc", "destination_id"),
    ("since=yesterday", "since"),
])
def test_history_filters_refuse_bad_values(query, field):
    c, _ = logged_in()
    page = c.get(DISPATCHES + "?" + query)
    assert page.status == 400, page
    assert page.field_error(field), page.body
    form = [f for f in page.forms() if f["action"] == DISPATCHES][0]
    assert form["method"] == "get"


def test_history_refuses_bad_paging():
    c, _ = logged_in()
    page = c.get(DISPATCHES + "?page=0")
    assert page.status == 400 and "page" in page.error, page


def test_history_pages_keep_the_filters():
    c, (_, _, account) = logged_in()
    dest = dbutil.insert_destination(account, "webhook", label="Paged hook")
    alert = dbutil.insert_alert("PT", 4, 2)
    for i in range(3):
        dbutil.insert_dispatch(dbutil.insert_alert("PT", 4, 2), dest, account,
                               status="delivered", attempts=1,
                               created_at=datetime.timedelta(minutes=-i),
                               delivered_at=datetime.timedelta(0))
    dbutil.insert_dispatch(alert, dest, account, status="failed", attempts=9)

    query = {"status": "delivered", "destination_id": dest, "since": "2000-01-01T00:00:00+00:00",
             "page_size": 2}
    page = c.get(DISPATCHES + "?" + urllib.parse.urlencode(query))
    found = links(page)
    assert page.status == 200 and found.rows == 2, page
    assert "prev" not in found.links
    nxt = urllib.parse.urlsplit(found.links["next"])
    assert nxt.path == DISPATCHES
    assert urllib.parse.parse_qs(nxt.query) == {
        "status": ["delivered"], "destination_id": [str(dest)],
        "since": ["2000-01-01T00:00:00+00:00"], "page_size": ["2"], "page": ["2"]}
    page = c.get(found.links["next"])
    found = links(page)
    assert page.status == 200 and found.rows == 1 and "next" not in found.links, page
    assert "Page 2 of 2" in page.text
    prev = urllib.parse.parse_qs(urllib.parse.urlsplit(found.links["prev"]).query)
    assert prev["page"] == ["1"] and prev["status"] == ["delivered"], prev


# --------------------------------------------------------------------- XSS

@pytest.mark.parametrize("payload", XSS)
def test_labels_and_identifiers_are_escaped_everywhere(payload):
    c, (_, _, account) = logged_in()
    pages = [add_webhook(c, hook_url(), payload)]
    hook = newest_destination(account)
    add_email(c, unique("xss") + "@example.org", payload)
    email = newest_destination(account)
    assert [r[1] for r in destinations_of(account)] == [payload, payload]
    page = c.post(SUBSCRIPTIONS, {"destination_id": hook, "stream": "risk:*"})
    assert page.status == 303, page
    dbutil.insert_dispatch(dbutil.insert_alert("FR", 4, 2), hook, account, status="delivered",
                           attempts=1, delivered_at=datetime.timedelta(0))

    for path in (DESTINATIONS, SUBSCRIPTIONS, DISPATCHES,
                 "/console/destinations/%d/delete" % email):
        page = c.get(path)
        assert page.status == 200, (path, page)
        assert payload in page.text, (path, page.text)  # shown, as text
        pages.append(page)
    # Refused identifiers come back in the form, escaped.
    for channel in ("email", "webhook"):
        page = c.post(DESTINATIONS, {"label": payload, "channel": channel,
                                     "identifier": payload})
        assert page.status == 400 and page.input_value("identifier") == payload, page
        pages.append(page)
    page = c.post(SUBSCRIPTIONS, {"destination_id": payload, "stream": payload})
    assert page.status == 400 and page.input_value("stream") == payload, page
    pages.append(page)
    page = c.get(DISPATCHES + "?" + urllib.parse.urlencode(
        {"status": payload, "destination_id": payload, "since": payload}))
    assert page.status == 400 and page.input_value("since") == payload, page
    pages.append(page)
    for page in pages:
        assert payload not in page.body, page.body
        assert "<script>alert" not in page.body and "<img src=x" not in page.body
