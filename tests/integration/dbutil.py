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


# ------------------------------------------------------------ dispatcher
# Helpers of the civic-dispatch tests (test_dispatch*.py): bulk rows,
# reading what the dispatcher wrote, and moving its clock (next attempts
# and leases into the past) instead of waiting.

FAR_FUTURE = datetime.datetime(2999, 1, 1)


def insert_alerts_bulk(country, n, level=4, previous_level=2, fanned_out=True):
    """n alerts for country in two statements (the 1,000-row tests);
    returns their ids in order. Their assessments are dated in the
    1900s, never a country's latest, a second apart from a random start."""
    start = (datetime.datetime(1900, 1, 1)
             + datetime.timedelta(seconds=secrets.randbelow(2 * 10**9)))
    stamps = [start + datetime.timedelta(seconds=i) for i in range(n)]
    conn = connection()
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO risk_assessments (country, level, score, summary,"
            " factors, source, assessed_at, imported_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, UTC_TIMESTAMP())",
            [(country, level, level * 20 - 10, "bulk test assessment",
              json.dumps(["test"]), "tests/integration", t) for t in stamps])
        cur.execute("SELECT id FROM risk_assessments WHERE country = %s AND"
                    " assessed_at BETWEEN %s AND %s ORDER BY assessed_at",
                    (country, stamps[0], stamps[-1]))
        assessments = [r[0] for r in cur.fetchall()]
        assert len(assessments) == n, (len(assessments), n)
        now = utc()
        cur.executemany(
            "INSERT INTO alerts (stream, assessment_id, level, previous_level,"
            " created_at, fanned_out_at) VALUES (%s, %s, %s, %s, %s, %s)",
            [("risk:" + country, a, level, previous_level, now,
              now if fanned_out else None) for a in assessments])
        cur.execute("SELECT id FROM alerts WHERE assessment_id IN (%s) ORDER BY id"
                    % ",".join(["%s"] * n), assessments)
        return [r[0] for r in cur.fetchall()]


def insert_dispatches_bulk(alert_ids, destination_id, account_id):
    """One pending, due dispatch per alert to destination_id; returns the
    dispatch ids in alert order."""
    now = utc()
    with connection().cursor() as cur:
        cur.executemany(
            "INSERT INTO alert_dispatches (alert_id, destination_id, account_id,"
            " status, attempts, next_attempt_at, created_at)"
            " VALUES (%s, %s, %s, 'pending', 0, %s, %s)",
            [(a, destination_id, account_id, now, now) for a in alert_ids])
        cur.execute("SELECT id FROM alert_dispatches WHERE destination_id = %%s"
                    " AND alert_id IN (%s) ORDER BY alert_id"
                    % ",".join(["%s"] * len(alert_ids)), (destination_id, *alert_ids))
        return [r[0] for r in cur.fetchall()]


def unfanned_alert(country, level, previous_level=None):
    """An alert the dispatcher has not fanned out yet (fanned_out_at
    NULL), as risk import writes it; returns its id."""
    alert = insert_alert(country, level, previous_level)
    execute("UPDATE alerts SET fanned_out_at = NULL WHERE id = %s", (alert,))
    return alert


def _dicts(sql, params=()):
    with connection().cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def dispatch(dispatch_id):
    """The alert_dispatches row as a dict (None if there is none)."""
    rows = _dicts("SELECT * FROM alert_dispatches WHERE id = %s", (dispatch_id,))
    return rows[0] if rows else None


def dispatches_of(destination_id=None, alert_id=None):
    """Rows of one destination and/or alert, by id."""
    return _dicts("SELECT * FROM alert_dispatches WHERE (%s IS NULL OR destination_id = %s)"
                  " AND (%s IS NULL OR alert_id = %s) ORDER BY id",
                  (destination_id, destination_id, alert_id, alert_id))


def attempts(dispatch_id):
    """Its dispatch_attempts rows as dicts, oldest first."""
    return _dicts("SELECT * FROM dispatch_attempts WHERE dispatch_id = %s ORDER BY id",
                  (dispatch_id,))


def destination(destination_id):
    rows = _dicts("SELECT * FROM alert_destinations WHERE id = %s", (destination_id,))
    return rows[0] if rows else None


def webhook_check(destination_id):
    rows = _dicts("SELECT * FROM webhook_checks WHERE destination_id = %s",
                  (destination_id,))
    return rows[0] if rows else None


def mails(account_id=None, to_address=None, purpose=None):
    """mail_queue rows as dicts, by id."""
    return _dicts("SELECT * FROM mail_queue WHERE (%s IS NULL OR account_id = %s)"
                  " AND (%s IS NULL OR to_address = %s) AND (%s IS NULL OR purpose = %s)"
                  " ORDER BY id",
                  (account_id, account_id, to_address, to_address, purpose, purpose))


def alerts_today(account_id):
    """account_alerts_daily.alerts of account_id for today (UTC), 0 if none."""
    rows = query("SELECT alerts FROM account_alerts_daily WHERE account_id = %s"
                 " AND day = UTC_DATE()", (account_id,))
    return rows[0][0] if rows else 0


def activate_webhook(destination_id):
    """Makes a webhook destination created through the API active as its
    verification would, and marks its check verified, so the dispatcher
    sends it no verification event."""
    execute("UPDATE alert_destinations SET status = 'active', verified_at = UTC_TIMESTAMP()"
            " WHERE id = %s", (destination_id,))
    execute("UPDATE webhook_checks SET status = 'verified', verified_at = UTC_TIMESTAMP()"
            " WHERE destination_id = %s", (destination_id,))


def set_identifier(destination_id, identifier):
    """Points a destination somewhere else (the API would refuse some
    targets outright; the dispatcher must refuse them by itself)."""
    execute("UPDATE alert_destinations SET identifier = %s WHERE id = %s",
            (identifier, destination_id))


def set_failing_since(destination_id, when):
    """when: a datetime, a timedelta from now, or None (clears it)."""
    execute("UPDATE alert_destinations SET failing_since = %s WHERE id = %s",
            (utc(when) if when is not None else None, destination_id))


def make_due(dispatch_ids=(), mail_ids=(), check_destinations=()):
    """next_attempt_at of the given rows a second in the past: the next
    run finds them due without the test waiting for the retry delay."""
    past = utc(datetime.timedelta(seconds=-1))
    for table, key, ids in (("alert_dispatches", "id", dispatch_ids),
                            ("mail_queue", "id", mail_ids),
                            ("webhook_checks", "destination_id", check_destinations)):
        if ids:
            execute("UPDATE %s SET next_attempt_at = %%s WHERE %s IN (%s)"
                    % (table, key, ",".join(["%s"] * len(ids))), (past, *ids))


def expire_leases(dispatch_ids):
    """lease_until of the given dispatches a second in the past, as if the
    lease had run out (what a run killed mid-send leaves behind)."""
    if dispatch_ids:
        execute("UPDATE alert_dispatches SET lease_until = %%s WHERE lease_until IS NOT NULL"
                " AND id IN (%s)" % ",".join(["%s"] * len(dispatch_ids)),
                (utc(datetime.timedelta(seconds=-1)), *dispatch_ids))


def park_everything():
    """Takes every row that exists now out of the dispatcher's reach.

    civic-dispatch works on the whole database, and the rest of the suite
    leaves pending dispatches, queued mails, webhook checks, new alerts
    and live subscriptions (to destinations such as hooks.example.org)
    behind. A dispatcher test calls this first, so that a run sends only
    what the test itself then creates: due rows are moved to the year
    2999, alerts are marked fanned out, subscriptions are cancelled.
    Earlier tests are finished with these rows, and every later test
    creates its own."""
    far = FAR_FUTURE
    execute("UPDATE alerts SET fanned_out_at = UTC_TIMESTAMP() WHERE fanned_out_at IS NULL")
    execute("UPDATE alert_subscriptions SET cancelled_at = UTC_TIMESTAMP()"
            " WHERE cancelled_at IS NULL")
    execute("UPDATE alert_dispatches SET next_attempt_at = %s"
            " WHERE status IN ('pending', 'retrying')", (far,))
    execute("UPDATE mail_queue SET next_attempt_at = %s WHERE status = 'pending'", (far,))
    execute("UPDATE webhook_checks SET next_attempt_at = %s WHERE status = 'pending'", (far,))
    execute("UPDATE alert_destinations SET failing_since = NULL WHERE failing_since IS NOT NULL")
