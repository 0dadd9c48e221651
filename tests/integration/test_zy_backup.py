"""Backup and restore, with the commands docs/operations.md gives a
deployer, against the stack's own MariaDB (its socket from the config,
root through unix_socket authentication):

  logical   mariadb-dump --single-transaction --routines --triggers
            --events civic > dump; the database dropped and created
            empty; mariadb civic < dump
  physical  mariadb-backup --backup, --prepare; the server stopped, its
            datadir moved aside; mariadb-backup --copy-back, chown to
            the server's user; the server started

Each time the API must serve what it served when the backup was taken
(profile, destinations, subscriptions, risk assessments, usage
counters) to the same key pair and to a token issued before, and what
was written after the backup must be gone.

Named test_zy_* so pytest collects it after every other test and
before test_zz_* (which stop the database, then scan the logs): the
database is replaced by a copy of itself, which would lose the writes
of a test running meanwhile. It leaves the stack as usable as before:
the responders reconnect by themselves, and should a physical restore
fail, the datadir that was moved aside is put back."""

import json
import os
import pwd
import shutil
import subprocess

import pytest

import dbutil
from conftest import assert_error, assert_ok, env, exchange_raw, poll, request, stack, unique
from dispatchutil import active_webhook, create_webhook, import_level_change, subscribe

PROFILE = "/v1/profile/"
USAGE = "/v1/usage/"
DESTINATIONS = "/v1/alert-destinations/"
SUBSCRIPTIONS = "/v1/alert-subscriptions/"
RISK = "/v1/risk-assessments/"
CREATE_DB = "CREATE DATABASE civic CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"


@pytest.fixture
def socket_path(config):
    return config.get("database", "socket").strip()


def run(args, stdin=None, stdout=subprocess.PIPE):
    """Runs one command of the procedure; asserts exit status 0."""
    proc = subprocess.run([str(a) for a in args], stdin=stdin, stdout=stdout,
                          stderr=subprocess.PIPE, timeout=300)
    assert proc.returncode == 0, "%s failed (%d): %s" % (
        " ".join(map(str, args)), proc.returncode, proc.stderr[-3000:])
    return proc


def up(fetch):
    """fetch() again while it answers 503: a responder whose connection
    the restart cut answers that once, then reconnects (nothing is
    charged for a 503)."""
    return poll(fetch, lambda r: r.status != 503)


def get(c, path):
    return up(lambda: c.get(path))


def fresh_country(config):
    """A country with no risk assessment yet, so the one imported here is
    its latest whatever ran before."""
    with open(config.get("api", "iso_3166_file").strip(), encoding="utf-8") as f:
        codes = sorted(e["alpha_2"] for e in json.load(f)["3166-1"])
    taken = {r[0] for r in dbutil.query("SELECT DISTINCT country FROM risk_assessments")}
    free = [code for code in codes if code not in taken]
    assert free, "every country has an assessment"
    return free[len(free) // 2]


@pytest.fixture
def tenant(new_client, admin, config, tmp_path):
    """An account with data in every table the checks read: profile
    values, an active webhook destination subscribed to a country's
    stream, a risk assessment and an alert for that country, usage
    today."""
    c = new_client(scopes="all", per_day=100000, per_minute=100000)
    c.marker = unique("backup")
    c.country = fresh_country(config)
    assert_ok(request("PATCH", "%s%d/" % (PROFILE, c.account_id), token=c.token(),
                      json_body={"first_name": c.marker, "country": "FR"}))
    c.destination, _ = active_webhook(c, "https://hooks.example.org/%s" % c.marker)
    subscribe(c, c.destination, "risk:" + c.country, min_level=2)
    _, c.assessment, _ = import_level_change(admin, tmp_path, c.country)
    return c


def views(c):
    """What the API serves c, per path: the data (and total and next for
    lists). Metered: each request counts."""
    out = {}
    for path in (PROFILE, DESTINATIONS, SUBSCRIPTIONS, RISK + "?country=" + c.country):
        resp = get(c, path)
        assert_ok(resp, is_list=isinstance(resp.json.get("data"), list))
        out[path] = {k: v for k, v in resp.json.items() if k != "meta"}
    return out


def usage(c):
    """GET /v1/usage/ (never metered) as the API serves it."""
    resp = get(c, USAGE)
    assert_ok(resp)
    return resp.json


def snapshot(c):
    """Before a backup: what is served, checked to hold the tenant's
    data; then the usage counters as the backup will hold them."""
    seen = views(c)
    assert seen[PROFILE]["data"]["first_name"] == c.marker, seen
    assert [d["id"] for d in seen[DESTINATIONS]["data"]] == [c.destination], seen
    assert seen[DESTINATIONS]["data"][0]["status"] == "active", seen
    assert [s["destination_id"] for s in seen[SUBSCRIPTIONS]["data"]] == [c.destination], seen
    risk = seen[RISK + "?country=" + c.country]["data"]
    assert [(r["country"], r["summary"]) for r in risk] == \
        [(c.country, c.assessment["summary"])], risk
    counted = usage(c)
    assert counted["meta"]["usage"]["used_today"] >= len(seen), counted
    return seen, counted


def write_after_backup(c):
    """A destination and a metered request the backup does not hold."""
    dest, _ = create_webhook(c, "https://hooks.example.org/%s-late" % c.marker)
    assert_ok(c.get(PROFILE))
    return dest


def assert_restored(c, seen, counted, late_destination):
    """The API serves what it served at the backup: the usage counters
    of that moment (the later request is not counted), the same data
    (the later destination is gone), to a token issued before the backup
    and to the same key pair."""
    assert usage(c) == counted
    c.metered(get(c, PROFILE), used=counted["meta"]["usage"]["used_today"] + 1)
    assert views(c) == seen
    assert_error(get(c, "%s%d/" % (DESTINATIONS, late_destination)), 404, "NOT_FOUND")
    resp = up(lambda: exchange_raw(c.api_key, c.api_secret))
    assert_ok(resp)
    resp = up(lambda: request("GET", PROFILE, token=resp.json["data"]["access"]))
    assert assert_ok(resp)["id"] == c.account_id


# ----------------------------------------------------------------- logical

def test_logical_dump_and_restore(tenant, tmp_path, socket_path):
    c = tenant
    seen, counted = snapshot(c)
    client = ["mariadb", "--socket=" + socket_path, "--user=root"]
    dump = tmp_path / "civic.sql"

    with open(dump, "wb") as out:
        run(["mariadb-dump", "--socket=" + socket_path, "--user=root", "--single-transaction",
             "--routines", "--triggers", "--events", "civic"], stdout=out)
    text = dump.read_bytes()  # binary columns are written as they are
    assert b"CREATE TABLE `accounts`" in text and b"PROCEDURE `civic_authorize`" in text
    assert c.marker.encode() in text
    late = write_after_backup(c)

    run(client + ["-e", "DROP DATABASE civic; " + CREATE_DB])
    try:
        # An empty database: the API fails, with a token and with a key
        # pair (a missing table is a server fault: 500 INTERNAL).
        assert_error(c.get(PROFILE), 500, "INTERNAL")
        assert_error(exchange_raw(c.api_key, c.api_secret), 500, "INTERNAL")
    finally:
        with open(dump, "rb") as inp:
            run(client + ["civic"], stdin=inp)

    assert_restored(c, seen, counted, late)


# ---------------------------------------------------------------- physical

def test_physical_backup_and_restore(tenant, tmp_path, socket_path):
    c = tenant
    datadir = dbutil.query("SELECT @@datadir")[0][0].rstrip("/")
    assert os.path.realpath(datadir) == os.path.realpath(
        os.path.join(env("CIVIC_VAR"), "mysql")), datadir
    # The user the server runs as owns its datadir (the stack runs
    # mariadbd as mysql when it can, else as root).
    user = pwd.getpwuid(os.stat(datadir).st_uid).pw_name
    backup = tmp_path / "backup"
    aside = datadir + ".before-restore"
    assert not os.path.exists(aside), aside
    seen, counted = snapshot(c)

    proc = run(["mariadb-backup", "--backup", "--target-dir=%s" % backup,
                "--socket=" + socket_path, "--user=root"])
    assert b"completed OK!" in proc.stderr, proc.stderr[-2000:]
    late = write_after_backup(c)
    proc = run(["mariadb-backup", "--prepare", "--target-dir=%s" % backup])
    assert b"completed OK!" in proc.stderr, proc.stderr[-2000:]

    stack("db-stop")
    os.rename(datadir, aside)
    restored = False
    try:
        run(["mariadb-backup", "--copy-back", "--target-dir=%s" % backup,
             "--datadir=" + datadir])
        run(["chown", "-R", user + ":", datadir])
        # The stack's own marker (scripts/lib/common.sh civic_db_init):
        # no database file, so no backup holds it.
        open(os.path.join(datadir, ".civic-initialized"), "w").close()
        stack("db-start")
        restored = True
    finally:
        if not restored:
            put_back(datadir, aside)
    shutil.rmtree(aside)
    shutil.rmtree(backup)

    assert_restored(c, seen, counted, late)


def put_back(datadir, aside):
    """After a failed restore the datadir moved aside is the server's
    again, so the tests after this one find the stack as it was."""
    subprocess.run([env("CIVIC_STACK"), "db-stop"], capture_output=True, timeout=180)
    shutil.rmtree(datadir, ignore_errors=True)
    os.rename(aside, datadir)
    stack("db-start")
