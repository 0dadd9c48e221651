"""Test data written straight into the stack's MariaDB.

Some rows have no API that creates them in this issue (dispatches come
from the dispatcher, later), and some states take days to reach through
the API (a disabled destination): the tests put them in place here.
Connection settings come from the stack's config ([database] socket,
name, user, password_file), so this talks to the same database as the
responders.  Every statement is parameterised.
"""

import configparser
import datetime
import json
import os
import secrets

import pymysql

_conn = [None]


def _settings():
    parser = configparser.ConfigParser(inline_comment_prefixes=(";", "#"),
                                       interpolation=None)
    path = os.environ["CIVIC_CONFIG"]
    with open(path, encoding="utf-8") as f:
        parser.read_file(f)
    db = parser["database"]
    with open(db["password_file"], encoding="utf-8") as f:
        password = f.read().strip()
    return {"unix_socket": db["socket"], "database": db.get("name", "civic"),
            "user": db.get("user", "civic"), "password": password}


def connection():
    """One autocommit connection per test process, reopened when the
    server restarted (test_zz_database_down stops it)."""
    conn = _conn[0]
    if conn is not None:
        try:
            conn.ping(reconnect=True)
            return conn
        except pymysql.MySQLError:
            conn = None
    conn = pymysql.connect(charset="utf8mb4", autocommit=True,
                           init_command="SET time_zone = '+00:00'",
                           **_settings())
    _conn[0] = conn
    return conn


def execute(sql, params=()):
    """Run one statement; returns the last insert id."""
    with connection().cursor() as cur:
        cur.execute(sql, params)
        return cur.lastrowid


def query(sql, params=()):
    """Run one SELECT; returns all rows as tuples."""
    with connection().cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def utc(dt=None):
    """A naive UTC datetime as the DATETIME columns hold it, whole
    seconds; dt may be an aware datetime, None (now) or a timedelta
    from now."""
    now = datetime.datetime.now(datetime.timezone.utc)
    if dt is None:
        dt = now
    elif isinstance(dt, datetime.timedelta):
        dt = now + dt
    if dt.tzinfo is not None:
        dt = dt.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return dt.replace(microsecond=0)


def rfc3339(dt):
    """How the API writes a DATETIME: 2026-05-17T00:00:00+00:00."""
    return utc(dt).strftime("%Y-%m-%dT%H:%M:%S+00:00")


# ------------------------------------------------------------ destinations

def insert_destination(account_id, channel="webhook", identifier=None,
                       label=None, status="active", deleted=False,
                       created_at=None):
    """An alert destination of account_id; returns its id."""
    if identifier is None:
        token = secrets.token_hex(8)
        identifier = ("%s@example.org" % token if channel == "email"
                      else "https://hooks.example.org/%s" % token)
    label = label if label is not None else "dest-" + secrets.token_hex(4)
    created = utc(created_at)
    return execute(
        "INSERT INTO alert_destinations (account_id, label, channel,"
        " identifier, status, created_at, deleted_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (account_id, label, channel, identifier, status, created,
         utc() if deleted else None))


def delete_destination(destination_id):
    """Marks a destination deleted, as its DELETE endpoint does."""
    execute("UPDATE alert_destinations SET deleted_at = UTC_TIMESTAMP()"
            " WHERE id = %s", (destination_id,))


def set_destination_status(destination_id, status):
    execute("UPDATE alert_destinations SET status = %s WHERE id = %s",
            (status, destination_id))


# ----------------------------------------------------------- subscriptions

def insert_subscriptions(account_id, destination_id, streams, min_level=1):
    """Many live subscriptions at once (for the per-account cap)."""
    with connection().cursor() as cur:
        cur.executemany(
            "INSERT INTO alert_subscriptions (account_id, destination_id,"
            " stream, min_level, created_at)"
            " VALUES (%s, %s, %s, %s, UTC_TIMESTAMP())",
            [(account_id, destination_id, s, min_level) for s in streams])


def subscription_rows(account_id):
    """(id, destination_id, stream, min_level, cancelled_at) of every
    subscription of account_id, live or not, by id."""
    return query("SELECT id, destination_id, stream, min_level, cancelled_at"
                 " FROM alert_subscriptions WHERE account_id = %s ORDER BY id",
                 (account_id,))


# ------------------------------------------------------------------ alerts

def insert_alert(country, level, previous_level=None, created_at=None):
    """An alert for country (with the assessment it needs); returns the
    alert's id.  The alert is marked fanned out, so a running dispatcher
    leaves it alone, and its assessment is dated in the 1980s, so it is
    never a country's latest one."""
    created = utc(created_at)
    for _ in range(5):
        assessed = (datetime.datetime(1980, 1, 1)
                    + datetime.timedelta(seconds=secrets.randbelow(3 * 10**8)))
        try:
            assessment = execute(
                "INSERT INTO risk_assessments (country, level, score, summary,"
                " factors, source, assessed_at, imported_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, UTC_TIMESTAMP())",
                (country, level, level * 20 - 10, "test assessment",
                 json.dumps(["test"]), "tests/integration", assessed))
            break
        except pymysql.err.IntegrityError:
            continue  # the same (country, assessed_at) again: pick another
    else:
        raise AssertionError("could not insert a risk assessment")
    return execute(
        "INSERT INTO alerts (stream, assessment_id, level, previous_level,"
        " created_at, fanned_out_at) VALUES (%s, %s, %s, %s, %s, %s)",
        ("risk:" + country, assessment, level, previous_level, created,
         created))


# -------------------------------------------------------------- dispatches

def insert_dispatch(alert_id, destination_id, account_id, status="pending",
                    attempts=0, created_at=None, next_attempt_at=None,
                    delivered_at=None):
    """One dispatch row; returns its id."""
    return execute(
        "INSERT INTO alert_dispatches (alert_id, destination_id, account_id,"
        " status, attempts, next_attempt_at, created_at, delivered_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (alert_id, destination_id, account_id, status, attempts,
         utc(next_attempt_at) if next_attempt_at is not None else None,
         utc(created_at),
         utc(delivered_at) if delivered_at is not None else None))


def insert_attempt(dispatch_id, attempted_at=None, outcome="failure",
                   response_code=None, duration_ms=0, error=None):
    """One delivery attempt of a dispatch; returns its id."""
    return execute(
        "INSERT INTO dispatch_attempts (dispatch_id, attempted_at, outcome,"
        " response_code, duration_ms, error) VALUES (%s, %s, %s, %s, %s, %s)",
        (dispatch_id, utc(attempted_at), outcome, response_code, duration_ms,
         error))
