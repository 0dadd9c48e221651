"""/v1/alert-destinations/: email and webhook destinations, WhatsApp groups
through the development gateway, the public confirmation link and
`civic-admin destination link`.

The database is read directly (mariadb client over the stack's socket,
as user civic) only where the API deliberately shows nothing: the mail
queue, stored secrets and link hashes, reservations."""

import base64
import concurrent.futures
import hashlib
import hmac
import http.client
import json
import os
import re
import subprocess
import time
import urllib.parse

import pytest

from conftest import parse_rfc3339, stack, unique

DEST = "/v1/alert-destinations/"
JOIN = DEST + "join-whatsapp-group/"
CONFIRM = DEST + "confirm/"
OBJECT_KEYS = {"id", "label", "channel", "identifier", "status", "created_at",
               "verified_at"}
RW = ("destinations:read", "destinations:write")
ALL_DEST = RW + ("destinations:whatsapp:join",)
LINK_GONE = "This confirmation link is invalid or has expired."
GROUP_ID_RE = re.compile(r"^1203\d{14}@g\.us$")


def dest_url(dest_id):
    return "%s%s/" % (DEST, dest_id)


def invite(prefix="Group"):
    """A fresh invite link; the dev gateway's outcome follows the prefix."""
    code = (prefix + unique("x").replace("-", "").replace("x", "Q"))[:26]
    return "https://chat.whatsapp.com/" + code


# --------------------------------------------------------------- helpers

def create(api, c, body, **kw):
    return api("POST", DEST, token=c.token(), json_body=body, **kw)


def join(api, c, link, label="Ops group"):
    return api("POST", JOIN, token=c.token(),
               json_body={"invite_link": link, "label": label})


def listing(c, envelope, query=""):
    resp = c.get(DEST + query)
    return envelope.ok(resp, is_list=True), resp


def all_rows(c, envelope):
    rows, resp = listing(c, envelope, "?page_size=100")
    assert resp.json["total"] == len(rows), resp
    return rows


def new_email(api, c, envelope, address=None, label="Ops"):
    address = address or unique("ops") + "@example.org"
    return envelope.ok(create(api, c, {"label": label, "channel": "email",
                                       "identifier": address}), 201)


def new_webhook(api, c, envelope, url=None, label="Hook"):
    url = url or "https://hooks.example.com/" + unique("h")
    return envelope.ok(create(api, c, {"label": label, "channel": "webhook",
                                       "identifier": url}), 201)


def assert_object(obj):
    assert set(obj) == OBJECT_KEYS, obj
    assert isinstance(obj["id"], int) and obj["id"] > 0, obj
    assert obj["channel"] in ("email", "webhook", "whatsapp"), obj
    assert obj["status"] in ("pending", "active", "disabled"), obj
    parse_rfc3339(obj["created_at"])
    if obj["verified_at"] is not None:
        parse_rfc3339(obj["verified_at"])


def db(sql):
    """Rows of sql (tab-separated text) as the stack's civic user."""
    var = os.environ["CIVIC_VAR"]
    with open(os.path.join(var, "secrets", "db.password")) as f:
        password = f.read().strip()
    proc = subprocess.run(
        ["mariadb", "--no-defaults", "--socket=" + os.path.join(var, "run", "mysqld.sock"),
         "--user=civic", "--batch", "--skip-column-names", "civic", "-e", sql],
        capture_output=True, text=True, timeout=30,
        env=dict(os.environ, MYSQL_PWD=password))
    assert proc.returncode == 0, proc.stderr
    return [line.split("\t") for line in proc.stdout.splitlines()]


def db_rows_for_account(account_id, channel=None):
    extra = " AND channel = '%s'" % channel if channel else ""
    return db("SELECT id, channel, identifier, status, deleted_at IS NULL"
              " FROM alert_destinations WHERE account_id = %d%s"
              % (int(account_id), extra))


def link_for(admin, dest_id):
    out = admin("destination", "link", "--destination", dest_id)
    assert set(out) == {"destination_id", "account_id", "url", "expires_at"}, out
    assert out["destination_id"] == dest_id
    return out


@pytest.fixture
def client(new_client):
    return new_client(scopes=ALL_DEST)


# ------------------------------------------------------------ email

def test_create_email_destination(api, client, envelope):
    resp = create(api, client, {"label": "Ops desk", "channel": "email",
                                "identifier": "Ops.Desk@Example.ORG"})
    obj = envelope.ok(resp, 201)
    assert_object(obj)
    assert obj["label"] == "Ops desk"
    assert obj["channel"] == "email"
    assert obj["identifier"] == "ops.desk@example.org"   # stored lower-cased
    assert obj["status"] == "pending"
    assert obj["verified_at"] is None
    assert resp.json["meta"]["usage"]["used_today"] == 1     # the POST was metered
    client.metered(client.get(DEST), used=2)
    rows = all_rows(client, envelope)
    assert rows == [obj]
    assert envelope.ok(client.get(dest_url(obj["id"]))) == obj


def test_email_destination_queues_its_confirmation_mail(api, client, envelope):
    obj = new_email(api, client, envelope, address="queue-me@example.org")
    mails = db("SELECT purpose, account_id, to_address, status,"
               " next_attempt_at <= UTC_TIMESTAMP() FROM mail_queue"
               " WHERE destination_id = %d" % obj["id"])
    assert mails == [["confirm_destination", str(client.account_id),
                      "queue-me@example.org", "pending", "1"]]
    # The link itself is minted by the sender: nothing stored yet.
    assert db("SELECT COUNT(*) FROM email_tokens WHERE destination_id = %d"
              % obj["id"]) == [["0"]]
    # A webhook queues no mail.
    hook = new_webhook(api, client, envelope)
    assert db("SELECT COUNT(*) FROM mail_queue WHERE destination_id = %d"
              % hook["id"]) == [["0"]]


# ---------------------------------------------------------- webhook

def test_create_webhook_returns_the_secret_once(api, client, envelope):
    resp = create(api, client, {"label": "Hook", "channel": "webhook",
                                "identifier": "HTTPS://Hooks.Example.COM/In?x=1"})
    obj = envelope.ok(resp, 201)
    secret = obj.pop("signing_secret")
    assert_object(obj)
    assert obj["identifier"] == "https://hooks.example.com/In?x=1"
    assert obj["status"] == "pending" and obj["verified_at"] is None
    assert secret.startswith("whsec_"), secret
    key = base64.b64decode(secret[len("whsec_"):], validate=True)
    assert len(key) == 32
    # Never again: not in the list, not in GET.
    for row in all_rows(client, envelope):
        assert "signing_secret" not in row
    again = envelope.ok(client.get(dest_url(obj["id"])))
    assert again == obj
    assert secret not in client.get(DEST).raw.decode()
    # At rest: sealed (73 bytes), the key nowhere in it.
    sealed = db("SELECT HEX(signing_secret_enc) FROM alert_destinations"
                " WHERE id = %d" % obj["id"])[0][0]
    assert len(sealed) == 2 * 73, sealed
    assert key.hex().upper() not in sealed
    assert base64.b64encode(key).decode() not in sealed


def test_every_webhook_gets_its_own_secret(api, client, envelope):
    one = new_webhook(api, client, envelope)["signing_secret"]
    two = new_webhook(api, client, envelope)["signing_secret"]
    assert one != two


def test_http_webhooks_only_where_the_config_allows(api, client, envelope, config):
    # The development stack allows http:// and loopback (scripts/lib/common.sh).
    assert config.getboolean("alerts", "allow_http_webhooks")
    obj = new_webhook(api, client, envelope, url="http://127.0.0.1:9/hook")
    assert obj["identifier"] == "http://127.0.0.1:9/hook"
    obj = new_webhook(api, client, envelope, url="http://localhost:9/other")
    assert obj["identifier"] == "http://localhost:9/other"


# -------------------------------------------------------- validation

LONG_URL = "https://example.com/" + "a" * 2100

BAD_BODIES = [
    ({"channel": "email", "identifier": "a@example.org"}, "label"),
    ({"label": "", "channel": "email", "identifier": "a@example.org"}, "label"),
    ({"label": "x" * 101, "channel": "email", "identifier": "a@example.org"}, "label"),
    ({"label": "a\nb", "channel": "email", "identifier": "a@example.org"}, "label"),
    ({"label": "a\u0000b", "channel": "email", "identifier": "a@example.org"}, "label"),
    ({"label": 12, "channel": "email", "identifier": "a@example.org"}, "label"),
    ({"label": "x", "identifier": "a@example.org"}, "channel"),
    ({"label": "x", "channel": "sms", "identifier": "+447911123456"}, "channel"),
    ({"label": "x", "channel": "EMAIL", "identifier": "a@example.org"}, "channel"),
    ({"label": "x", "channel": None, "identifier": "a@example.org"}, "channel"),
    ({"label": "x", "channel": "email"}, "identifier"),
    ({"label": "x", "channel": "email", "identifier": "not-an-address"}, "identifier"),
    ({"label": "x", "channel": "email", "identifier": "a@b"}, "identifier"),
    ({"label": "x", "channel": "email", "identifier": "a@example.org\r\nBcc: x@y.z"},
     "identifier"),
    ({"label": "x", "channel": "email", "identifier": ["a@example.org"]}, "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "ftp://example.com/in"}, "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "file:///etc/passwd"}, "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "javascript:alert(1)"}, "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "example.com/in"}, "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "https://u:p@example.com/"},
     "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "https://u@example.com/"},
     "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "https://example.com/#f"},
     "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "https://exa mple.com/"},
     "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "https://ex\u00e4mple.com/"},
     "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "https:///in"}, "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": LONG_URL}, "identifier"),
    # Literal private addresses: refused even where loopback is allowed.
    ({"label": "x", "channel": "webhook", "identifier": "https://10.0.0.1/"}, "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "http://192.168.1.1/"},
     "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "http://172.16.5.4/"}, "identifier"),
    ({"label": "x", "channel": "webhook",
      "identifier": "http://169.254.169.254/latest/meta-data/"}, "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "http://2852039166/"},
     "identifier"),                                   # 169.254.169.254 as a number
    ({"label": "x", "channel": "webhook", "identifier": "http://100.64.0.1/"}, "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "http://[fd00::1]/"}, "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "http://[fe80::1]/"}, "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "http://[::ffff:10.0.0.1]/"},
     "identifier"),
    ({"label": "x", "channel": "webhook", "identifier": "http://0.0.0.0/"}, "identifier"),
    ({"label": "x", "channel": "email", "identifier": "a@example.org", "secret": "s"},
     "secret"),
]


@pytest.mark.parametrize("body,field", BAD_BODIES,
                         ids=["%d-%s" % (i, f) for i, (_, f) in enumerate(BAD_BODIES)])
def test_create_refuses_bad_input(api, client, envelope, body, field):
    resp = create(api, client, body)
    envelope.validation(resp, field)
    assert listing(client, envelope)[1].json["total"] == 0   # nothing written


def test_create_with_an_empty_body_names_every_field(api, client, envelope):
    resp = api("POST", DEST, token=client.token(), body=b"",
               content_type="application/json")
    errors = envelope.validation(resp, "label", "channel", "identifier")
    assert set(errors) == {"label", "channel", "identifier"}


def test_whatsapp_is_not_created_by_post(api, client, envelope):
    resp = create(api, client, {"label": "x", "channel": "whatsapp",
                                "identifier": "https://chat.whatsapp.com/AbCdEfGhIjKlMnOp"})
    errors = envelope.validation(resp, "channel")
    assert "join-whatsapp-group" in errors["channel"]


def test_sql_metacharacters_are_data(api, client, envelope):
    label = "Robert'); DROP TABLE alert_destinations;-- \"%_\\"
    obj = new_email(api, client, envelope, label=label)
    assert obj["label"] == label
    assert envelope.ok(client.get(dest_url(obj["id"])))["label"] == label


def test_body_must_be_json(api, client, envelope):
    resp = api("POST", DEST, token=client.token(), body="label=x",
               content_type="application/x-www-form-urlencoded")
    envelope.error(resp, 415, "UNSUPPORTED_MEDIA_TYPE")
    resp = api("POST", DEST, token=client.token(), body="{not json",
               content_type="application/json")
    envelope.error(resp, 400, "INVALID_REQUEST")


# -------------------------------------------------------- duplicates

def test_duplicate_live_destination_is_a_conflict(api, client, envelope):
    email = new_email(api, client, envelope, address="dup@example.org")
    resp = create(api, client, {"label": "again", "channel": "email",
                                "identifier": "DUP@example.org"})
    envelope.error(resp, 409, "CONFLICT")
    hook = new_webhook(api, client, envelope, url="https://hooks.example.com/dup")
    resp = create(api, client, {"label": "again", "channel": "webhook",
                                "identifier": "https://HOOKS.example.com/dup"})
    envelope.error(resp, 409, "CONFLICT")
    assert len(all_rows(client, envelope)) == 2
    # Deleted destinations do not block a new one.
    envelope.ok(api("DELETE", dest_url(email["id"]), token=client.token()))
    again = new_email(api, client, envelope, address="dup@example.org")
    assert again["id"] != email["id"]
    envelope.ok(api("DELETE", dest_url(hook["id"]), token=client.token()))
    new_webhook(api, client, envelope, url="https://hooks.example.com/dup")


def test_same_identifier_in_two_accounts(api, new_client, envelope):
    a, b = new_client(scopes=RW), new_client(scopes=RW)
    new_email(api, a, envelope, address="shared-inbox@example.org")
    new_email(api, b, envelope, address="shared-inbox@example.org")


def test_live_destinations_are_capped(api, new_client, envelope):
    c = new_client(scopes=RW)
    for i in range(100):
        resp = create(api, c, {"label": "n%d" % i, "channel": "webhook",
                               "identifier": "http://127.0.0.1:9/cap/%d" % i})
        assert resp.status == 201, resp
    resp = create(api, c, {"label": "one too many", "channel": "email",
                           "identifier": "too-many@example.org"})
    body = envelope.error(resp, 403, "PLAN_LIMIT")
    assert "100" in body["msg"]
    assert listing(c, envelope)[1].json["total"] == 100


# ---------------------------------------------------------- listing

def test_list_is_newest_first_and_paged(api, client, envelope):
    made = [new_email(api, client, envelope)["id"] for _ in range(3)]
    rows, resp = listing(client, envelope, "?page_size=2")
    assert resp.json["total"] == 3
    assert [r["id"] for r in rows] == [made[2], made[1]]
    assert resp.json["next"] and "page=2" in resp.json["next"]
    rows, resp = listing(client, envelope, "?page=2&page_size=2")
    assert [r["id"] for r in rows] == [made[0]]
    assert resp.json["next"] is None
    for row in rows:
        assert_object(row)


def test_list_filters(api, client, envelope):
    email = new_email(api, client, envelope)
    hook = new_webhook(api, client, envelope)
    hook.pop("signing_secret")
    rows, resp = listing(client, envelope, "?channel=webhook")
    assert rows == [hook] and resp.json["total"] == 1
    rows, _ = listing(client, envelope, "?channel=email&status=pending")
    assert rows == [email]
    rows, resp = listing(client, envelope, "?status=active")
    assert rows == [] and resp.json["total"] == 0
    rows, _ = listing(client, envelope, "?channel=whatsapp")
    assert rows == []


@pytest.mark.parametrize("query,field", [
    ("?channel=sms", "channel"), ("?channel=", "channel"), ("?status=gone", "status"),
    ("?status=PENDING", "status"), ("?channel=email&channel=webhook", "channel"),
    ("?page=0", "page"), ("?page_size=101", "page_size"),
])
def test_list_refuses_bad_filters(client, envelope, query, field):
    envelope.validation(client.get(DEST + query), field)


def test_lists_never_show_other_accounts(api, new_client, envelope):
    mine, theirs = new_client(scopes=RW), new_client(scopes=RW)
    own = new_email(api, mine, envelope)
    new_email(api, theirs, envelope)
    new_webhook(api, theirs, envelope)
    assert [r["id"] for r in all_rows(mine, envelope)] == [own["id"]]


# ----------------------------------------------------------- delete

def test_delete_soft_deletes_and_cancels(api, client, envelope):
    obj = new_email(api, client, envelope)
    db("INSERT INTO alert_subscriptions (account_id, destination_id, stream,"
       " min_level, created_at) VALUES (%d, %d, 'risk:FR', 2, UTC_TIMESTAMP())"
       % (client.account_id, obj["id"]))
    resp = api("DELETE", dest_url(obj["id"]), token=client.token())
    final = envelope.ok(resp)
    assert_object(final)
    assert final["id"] == obj["id"] and final["status"] == "disabled"
    assert final["identifier"] == obj["identifier"]
    assert all_rows(client, envelope) == []
    envelope.error(client.get(dest_url(obj["id"])), 404, "NOT_FOUND")
    # Its subscriptions ended and its pending confirmation mail is off.
    assert db("SELECT cancelled_at IS NOT NULL FROM alert_subscriptions"
              " WHERE destination_id = %d" % obj["id"]) == [["1"]]
    assert db("SELECT status FROM mail_queue WHERE destination_id = %d"
              % obj["id"]) == [["failed"]]
    # The row stays for history.
    assert db("SELECT deleted_at IS NOT NULL, status FROM alert_destinations"
              " WHERE id = %d" % obj["id"]) == [["1", "disabled"]]
    # Deleting twice: gone.
    envelope.error(api("DELETE", dest_url(obj["id"]), token=client.token()),
                   404, "NOT_FOUND")


def test_other_accounts_destinations_are_not_found(api, new_client, envelope):
    owner, other = new_client(scopes=RW), new_client(scopes=RW)
    obj = new_email(api, owner, envelope)
    missing = api("DELETE", dest_url(10**12), token=other.token())
    envelope.error(missing, 404, "NOT_FOUND")
    resp = api("DELETE", dest_url(obj["id"]), token=other.token())
    envelope.error(resp, 404, "NOT_FOUND")
    assert resp.json["msg"] == missing.json["msg"]
    envelope.error(other.get(dest_url(obj["id"])), 404, "NOT_FOUND")
    assert all_rows(owner, envelope) == [obj]          # untouched


@pytest.mark.parametrize("path", ["0/", "-1/", "abc/", "1.5/", "99999999999999999999/"])
def test_bad_ids_are_not_found(api, client, envelope, path):
    envelope.error(api("DELETE", DEST + path, token=client.token()), 404)


def test_methods(api, client, envelope):
    envelope.error(api("PUT", DEST, token=client.token(), json_body={}), 405,
                   "METHOD_NOT_ALLOWED")
    envelope.error(api("GET", JOIN, token=client.token()), 405, "METHOD_NOT_ALLOWED")
    envelope.error(api("POST", CONFIRM, json_body={}), 405, "METHOD_NOT_ALLOWED")


# ----------------------------------------------------------- scopes

def test_scopes_are_enforced(api, new_client, envelope):
    reader = new_client(scopes=("destinations:read",))
    writer = new_client(scopes=("destinations:write",))
    owned = new_email(api, writer, envelope)
    body = {"label": "x", "channel": "email", "identifier": "x@example.org"}
    envelope.error(create(api, reader, body), 403, "PERMISSION_DENIED")
    envelope.error(api("DELETE", dest_url(owned["id"]), token=reader.token()), 403,
                   "PERMISSION_DENIED")
    envelope.error(join(api, reader, invite()), 403, "PERMISSION_DENIED")
    envelope.error(join(api, writer, invite()), 403, "PERMISSION_DENIED")
    envelope.error(writer.get(DEST), 403, "PERMISSION_DENIED")
    envelope.error(writer.get(dest_url(owned["id"])), 403, "PERMISSION_DENIED")
    assert len(db_rows_for_account(reader.account_id)) == 0
    assert len(db_rows_for_account(writer.account_id)) == 1


def test_a_token_is_required(api, envelope):
    envelope.error(api("GET", DEST), 401, "INVALID_TOKEN")
    envelope.error(api("POST", DEST, json_body={"label": "x", "channel": "email",
                                                "identifier": "x@example.org"}),
                   401, "INVALID_TOKEN")


# ------------------------------------------------ confirmation link

def pepper():
    """The server pepper as civic_secret_load reads it (one final newline off)."""
    with open(os.path.join(os.environ["CIVIC_VAR"], "secrets", "pepper"), "rb") as f:
        raw = f.read()
    return raw[:-1] if raw.endswith(b"\n") else raw


def test_confirmation_link_activates_the_destination(api, client, envelope, admin,
                                                     admin_fail, config):
    obj = new_email(api, client, envelope)
    link = link_for(admin, obj["id"])
    assert link["account_id"] == client.account_id
    base = config.get("api", "base_url").strip()
    assert link["url"].startswith(base + CONFIRM + "?token=")
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(link["url"]).query)["token"][0]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    hours = config.getint("alerts", "confirm_link_hours", fallback=72)
    left = parse_rfc3339(link["expires_at"]).timestamp() - time.time()
    assert hours * 3600 - 120 < left <= hours * 3600 + 5
    # Only its peppered hash is stored, never the token.
    stored = db("SELECT HEX(token_hash), purpose, used_at IS NULL FROM email_tokens"
                " WHERE destination_id = %d" % obj["id"])
    want = hmac.new(pepper(), token.encode(), hashlib.sha256).hexdigest().upper()
    assert stored == [[want, "confirm_destination", "1"]]
    # Anonymous GET of the link.
    resp = api("GET", link["url"])
    data = envelope.ok(resp)
    assert data == {"id": obj["id"], "label": obj["label"], "channel": "email",
                    "status": "active"}
    row = envelope.ok(client.get(dest_url(obj["id"])))
    assert row["status"] == "active"
    verified = parse_rfc3339(row["verified_at"])
    assert db("SELECT used_at IS NOT NULL FROM email_tokens WHERE destination_id = %d"
              % obj["id"]) == [["1"]]
    # The same link again: the same answer while it is valid.
    assert envelope.ok(api("GET", link["url"])) == data
    again = envelope.ok(client.get(dest_url(obj["id"])))
    assert parse_rfc3339(again["verified_at"]) == verified
    # A fresh link for an active destination is refused.
    rc, err = admin_fail("destination", "link", "--destination", obj["id"])
    assert rc == 1 and "pending" in err


@pytest.mark.parametrize("query", [
    "", "?token=", "?token=abc", "?token=" + "A" * 43, "?token=" + "A" * 44,
    "?token=" + "A" * 42 + "%20", "?token=" + "A" * 42 + "%2B", "?other=1",
])
def test_unknown_or_malformed_links(api, envelope, query):
    resp = api("GET", CONFIRM + query)
    body = envelope.error(resp, 404, "NOT_FOUND")
    assert body["msg"] == LINK_GONE


def test_expired_link(api, client, envelope, admin):
    obj = new_email(api, client, envelope)
    link = link_for(admin, obj["id"])
    db("UPDATE email_tokens SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND"
       " WHERE destination_id = %d" % obj["id"])
    body = envelope.error(api("GET", link["url"]), 404, "NOT_FOUND")
    assert body["msg"] == LINK_GONE
    assert envelope.ok(client.get(dest_url(obj["id"])))["status"] == "pending"
    assert db("SELECT used_at IS NULL FROM email_tokens WHERE destination_id = %d"
              % obj["id"]) == [["1"]]


def test_link_to_a_deleted_destination(api, client, envelope, admin):
    obj = new_email(api, client, envelope)
    link = link_for(admin, obj["id"])
    envelope.ok(api("DELETE", dest_url(obj["id"]), token=client.token()))
    body = envelope.error(api("GET", link["url"]), 404, "NOT_FOUND")
    assert body["msg"] == LINK_GONE
    assert db("SELECT status FROM alert_destinations WHERE id = %d"
              % obj["id"]) == [["disabled"]]


def test_admin_link_refusals(api, client, envelope, admin_fail, admin_raw, admin):
    hook = new_webhook(api, client, envelope)
    rc, err = admin_fail("destination", "link", "--destination", hook["id"])
    assert rc == 1 and "not an email destination" in err
    rc, err = admin_fail("destination", "link", "--destination", 10**12)
    assert rc == 1 and "not found" in err
    gone = new_email(api, client, envelope)
    envelope.ok(api("DELETE", dest_url(gone["id"]), token=client.token()))
    rc, err = admin_fail("destination", "link", "--destination", gone["id"])
    assert rc == 1 and "deleted" in err
    assert admin_raw("destination", "link").returncode == 2
    assert admin_raw("destination", "link", "--destination", "x").returncode == 2
    # Text mode prints the URL alone on stdout.
    pending = new_email(api, client, envelope)
    proc = subprocess.run([os.environ["CIVIC_ADMIN"], "destination", "link",
                           "--destination", str(pending["id"])],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"http\S+/v1/alert-destinations/confirm/\?token=[A-Za-z0-9_-]{43}\n",
                        proc.stdout), proc.stdout
    # Two links for one destination: both work (the mail may be resent).
    first = proc.stdout.strip()
    second = link_for(admin, pending["id"])["url"]
    assert first != second
    envelope.ok(api("GET", second))
    envelope.ok(api("GET", first))


# ------------------------------------------------- WhatsApp groups

def test_join_whatsapp_group(api, client, envelope):
    link = invite()
    resp = join(api, client, link, label="Crisis room")
    obj = envelope.ok(resp, 201)
    assert_object(obj)
    assert obj["channel"] == "whatsapp" and obj["status"] == "active"
    assert obj["label"] == "Crisis room"
    assert GROUP_ID_RE.match(obj["identifier"]), obj
    assert obj["verified_at"] is not None
    assert resp.json["meta"]["usage"]["used_today"] == 1
    assert all_rows(client, envelope) == [obj]
    # The gateway recorded the group it joined.
    groups = os.path.join(os.environ["CIVIC_VAR"], "whatsapp", "groups.jsonl")
    with open(groups) as f:
        ids = [json.loads(line)["group_id"] for line in f]
    assert obj["identifier"] in ids


def test_joining_the_same_group_twice_is_a_conflict(api, client, envelope):
    link = invite()
    first = envelope.ok(join(api, client, link), 201)
    envelope.error(join(api, client, link), 409, "CONFLICT")
    assert all_rows(client, envelope) == [first]
    assert len(db_rows_for_account(client.account_id, "whatsapp")) == 1


@pytest.mark.parametrize("body,field", [
    ({"label": "x"}, "invite_link"),
    ({"invite_link": "https://chat.whatsapp.com/AbCdEfGhIjKlMnOp"}, "label"),
    ({"invite_link": "https://chat.whatsapp.com/short", "label": "x"}, "invite_link"),
    ({"invite_link": "http://chat.whatsapp.com/AbCdEfGhIjKlMnOp", "label": "x"},
     "invite_link"),
    ({"invite_link": "https://evil.example/AbCdEfGhIjKlMnOp", "label": "x"}, "invite_link"),
    ({"invite_link": "https://chat.whatsapp.com/AbCdEfGh-jKlMnOp", "label": "x"},
     "invite_link"),
    ({"invite_link": "https://chat.whatsapp.com/AbCdEfGhIjKlMnOp", "label": ""}, "label"),
    ({"invite_link": 5, "label": "x"}, "invite_link"),
    ({"invite_link": "https://chat.whatsapp.com/AbCdEfGhIjKlMnOp", "label": "x",
      "group": "y"}, "group"),
])
def test_join_refuses_bad_input(api, client, envelope, body, field):
    resp = api("POST", JOIN, token=client.token(), json_body=body)
    envelope.validation(resp, field)
    assert db_rows_for_account(client.account_id) == []


def test_expired_invite_is_a_validation_error(api, client, envelope):
    resp = join(api, client, invite("Expired"))
    errors = envelope.validation(resp, "invite_link")
    assert "expired" in errors["invite_link"]
    assert db_rows_for_account(client.account_id) == []


@pytest.mark.parametrize("prefix,words", [
    ("Broken", "failed"), ("Denied", "credentials"), ("Garbage", "invalid"),
    ("Huge", "oversized"), ("Slow", "in time"),
])
def test_gateway_failures_register_nothing(api, client, envelope, prefix, words):
    resp = join(api, client, invite(prefix), label="never")
    body = envelope.error(resp, 502, "GATEWAY_ERROR")
    assert "WhatsApp gateway" in body["msg"] and words in body["msg"], body
    assert "Nothing was registered" in body["msg"]
    assert db_rows_for_account(client.account_id) == []   # reservation dropped
    assert all_rows(client, envelope) == []


def test_gateway_down(api, client, envelope):
    stack("gateway-stop")
    try:
        resp = join(api, client, invite(), label="down")
        body = envelope.error(resp, 502, "GATEWAY_ERROR")
        assert "could not be reached" in body["msg"]
    finally:
        stack("gateway-start")
    assert db_rows_for_account(client.account_id) == []
    envelope.ok(join(api, client, invite()), 201)          # back again


def test_whatsapp_cap_of_the_plan(api, new_client, envelope, plans):
    assert plans["signal"]["max_whatsapp_destinations"] == 1
    c = new_client(scopes=ALL_DEST, plan="signal")
    first = envelope.ok(join(api, c, invite()), 201)
    resp = join(api, c, invite())
    body = envelope.error(resp, 403, "PLAN_LIMIT")
    assert "signal" in body["msg"] and "1 WhatsApp" in body["msg"], body
    assert len(db_rows_for_account(c.account_id, "whatsapp")) == 1
    # Email and webhook destinations do not count against it.
    new_email(api, c, envelope)
    # Deleting frees the place.
    envelope.ok(api("DELETE", dest_url(first["id"]), token=c.token()))
    envelope.ok(join(api, c, invite()), 201)


def test_whatsapp_cap_of_zero(api, new_client, envelope):
    c = new_client(scopes=ALL_DEST)
    slug = "it-wa0-" + unique("p")[-8:]
    db("INSERT INTO plans (slug, name, price_coins, max_apps,"
       " max_api_requests_per_app_per_day, max_requests_per_key_per_minute,"
       " max_alerts_per_day, max_whatsapp_destinations, scopes, is_public)"
       " SELECT '%s', 'No WhatsApp', 0, 5, 1000, 100, 10, 0, scopes, 0"
       " FROM plans WHERE slug = 'command'" % slug)
    before = db("SELECT plan_id FROM accounts WHERE id = %d" % c.account_id)[0][0]
    try:
        db("UPDATE accounts SET plan_id = (SELECT id FROM plans WHERE slug = '%s')"
           " WHERE id = %d" % (slug, c.account_id))
        body = envelope.error(join(api, c, invite()), 403, "PLAN_LIMIT")
        assert "allows 0 WhatsApp" in body["msg"], body
    finally:
        db("UPDATE accounts SET plan_id = %d WHERE id = %d" % (int(before), c.account_id))
        db("DELETE FROM plans WHERE slug = '%s'" % slug)
    assert db_rows_for_account(c.account_id) == []


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_joins_never_exceed_the_cap(api, new_client, envelope, plans, exchange,
                                               round_):
    cap = plans["sentinel"]["max_whatsapp_destinations"]
    assert cap == 5
    c = new_client(scopes=ALL_DEST, plan="sentinel")
    links = [invite() for _ in range(3 * cap)]
    # One key per request: the cap is the account's, whichever key asks.
    tokens = [exchange(k["api_key"], k["api_secret"])
              for k in (c.issue_key() for _ in links)]

    def one(pair):
        link, token = pair
        return api("POST", JOIN, token=token, json_body={"invite_link": link, "label": "c"})

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(links)) as pool:
        results = list(pool.map(one, zip(links, tokens)))
    codes = sorted(r.status for r in results)
    assert codes == [201] * cap + [403] * (2 * cap), results
    for r in results:
        if r.status == 403:
            envelope.error(r, 403, "PLAN_LIMIT")
    rows = db_rows_for_account(c.account_id, "whatsapp")
    assert len(rows) == cap and all(r[3] == "active" for r in rows), rows
    assert len(all_rows(c, envelope)) == cap


# ------------------------------------------- the development gateway

def test_development_gateway_contract(config):
    """The dev gateway speaks the contract the dispatcher (issue 4) uses."""
    url = urllib.parse.urlsplit(config.get("whatsapp", "gateway_url").strip())
    assert url.hostname == "127.0.0.1"
    with open(config.get("whatsapp", "token_file").strip()) as f:
        token = f.read().strip()

    def call(path, body, auth=True):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = "Bearer " + token
        conn.request("POST", path, json.dumps(body), headers)
        resp = conn.getresponse()
        out = (resp.status, json.loads(resp.read() or b"null"))
        conn.close()
        return out

    link = invite()
    assert call("/v1/groups/join", {"invite_link": link}, auth=False)[0] == 401
    status, group = call("/v1/groups/join", {"invite_link": link})
    assert status == 200 and GROUP_ID_RE.match(group["group_id"]) and group["group_name"]
    assert call("/v1/groups/join", {"invite_link": link})[1] == group   # deterministic
    status, sent = call("/v1/messages", {"group_id": group["group_id"], "text": "hello"})
    assert status == 200 and sent["message_id"]
    assert call("/v1/messages", {"group_id": "nope@g.us", "text": "x"})[0] == 422
    log = os.path.join(os.environ["CIVIC_VAR"], "whatsapp", "messages.jsonl")
    with open(log) as f:
        lines = [json.loads(line) for line in f]
    assert {"message_id": sent["message_id"], "group_id": group["group_id"],
            "text": "hello"}.items() <= lines[-1].items()
    secret = os.stat(config.get("whatsapp", "token_file").strip())
    assert secret.st_mode & 0o077 == 0
