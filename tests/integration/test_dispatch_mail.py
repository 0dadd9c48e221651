"""civic-dispatch's mail (SPEC §6): the destination confirmation mail and
its link, and temporary SMTP failures, which are retried and never lost.

Mail goes to the stack's development SMTP catcher
(scripts/lib/mail-catcher.py), which stores each message as one .eml
file in $CIVIC_MAIL_DIR with the envelope recipients in
X-Civic-Envelope-To headers, and which answers 451 to recipients named
tempfail-… (always) and flaky-… (the first time only). The alert mail
itself is covered end to end in test_dispatch.py."""

import re

import pytest

import dbutil
import dispatchutil as du
from conftest import assert_ok, env, request, unique

pytestmark = pytest.mark.usefixtures("parked")

TOKEN_CHARS = "[A-Za-z0-9_-]"


@pytest.fixture
def client(new_client):
    return new_client(scopes=du.DEST_SCOPES)


def confirm_link_re():
    base = re.escape(env("CIVIC_BASE_URL").rstrip("/"))
    return re.compile(base + r"/v1/alert-destinations/confirm/\?token=(%s{43})(?!%s)"
                      % (TOKEN_CHARS, TOKEN_CHARS))


def test_confirmation_mail_link_activates_the_destination(client, tmp_path):
    address = unique("confirm") + "@example.org"
    dest = du.create_email(client, address, "Desk inbox")
    queued = dbutil.mails(to_address=address)
    assert [(m["purpose"], m["status"]) for m in queued] == \
        [("confirm_destination", "pending")], queued

    du.run(du.quick_config(tmp_path))

    row = dbutil.mails(to_address=address)[0]
    assert row["status"] == "sent" and row["sent_at"] is not None, row
    got = du.mails(to=address)
    assert len(got) == 1, got
    mail = got[0]
    assert address in str(mail.msg["To"]), mail.msg["To"]
    assert mail.subject.strip(), mail.raw[:2000]
    links = confirm_link_re().findall(mail.text or "")
    assert len(set(links)) == 1, mail.text
    token = links[0]
    assert token in (mail.html or ""), mail.html
    assert du.get_destination(client, dest)["status"] == "pending"

    resp = request("GET", "/v1/alert-destinations/confirm/?token=" + token)
    data = assert_ok(resp)
    assert (data["id"], data["status"]) == (dest, "active"), data
    dest_now = du.get_destination(client, dest)
    assert dest_now["status"] == "active" and dest_now["verified_at"] is not None, dest_now


def test_a_temporary_smtp_failure_is_retried_until_sent(client, tmp_path):
    address = unique("flaky") + "@example.org"  # 451 the first time only
    du.create_email(client, address)
    row = dbutil.mails(to_address=address)[0]

    du.run_until(lambda: dbutil.mails(to_address=address)[0]["status"] == "sent",
                 du.quick_config(tmp_path), mail_ids=[row["id"]])

    row = dbutil.mails(to_address=address)[0]
    assert row["attempts"] >= 2, row
    assert len(du.mails(to=address)) == 1, "sent once, after the 451"


def test_a_recipient_that_keeps_failing_stays_queued(client, tmp_path):
    address = unique("tempfail") + "@example.org"  # 451 every time
    du.create_email(client, address)

    du.run(du.quick_config(tmp_path))

    row = dbutil.mails(to_address=address)[0]
    assert row["status"] == "pending", row
    assert row["attempts"] >= 1 and row["sent_at"] is None, row
    assert "451" in (row["last_error"] or ""), row
    assert row["next_attempt_at"] > du.db_now(), "a retry is scheduled"
    assert du.mails(to=address) == []
