"""Fault tests (issue 7): what clients and the data see when a part of
the stack fails, and that the stack recovers by itself.

  - MariaDB killed (SIGKILL) during traffic: every answer is a normal
    one or a 503 UNAVAILABLE envelope with Retry-After, never a hang, a
    500 or an HTML page; once it is back, everything works again
    without restarting the web server;
  - MariaDB restarted while civic-dispatch delivers: every row reaches
    the receiver exactly once;
  - a database that cannot write (read-only; a full disk): a write is a
    503 UNAVAILABLE envelope, logged, and leaves the rows as they were;
  - a responder killed (SIGKILL) in the middle of a request: the pool
    replaces it and the request was not carried out twice;
  - the SMTP server or a webhook receiver unreachable: the rows wait
    for their retry, and are each delivered once when it is back;
  - 1,000 clients at once on an application's last 100 requests of its
    daily quota: exactly 100 served.

Named test_zz_* so pytest collects it after every other test but
test_zz_logs: it disturbs the stack. Every test puts back what it
stopped, in a finally clause."""

import concurrent.futures
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

import dbutil
import dispatchutil as du
import responderutil
from conftest import env, poll, stack, unique
from receiver import Behaviour, Receiver

PROFILE = "/v1/profile/"
COUNTRIES = "/v1/supported-countries/"
USAGE = "/v1/usage/"
DESTINATIONS = "/v1/alert-destinations/"


def frontend():
    return os.environ.get("CIVIC_WEB_FRONTEND", "lighttpd")


def web_pid():
    """The web server's pid (from its pid file), to tell it was not
    restarted."""
    name = "lighttpd.pid" if frontend() == "lighttpd" else "apache2.pid"
    with open(os.path.join(env("CIVIC_VAR"), "run", name), encoding="ascii") as f:
        return int(f.read().strip())


def log_text():
    """Everything the stack's logs hold now."""
    root = os.path.join(env("CIVIC_VAR"), "log")
    out = b""
    for name in sorted(os.listdir(root)):
        if name.endswith(".log"):
            with open(os.path.join(root, name), "rb") as f:
                out += f.read()
    return out.decode("utf-8", "replace")


def db_root(sql):
    """One statement as MariaDB's root (unix_socket authentication, as
    scripts/lib/common.sh's civic_db_client), for what the application's
    user may not do."""
    path = du.config_value("database", "socket")
    proc = subprocess.run(["mariadb", "--no-defaults", "--socket=" + path, "--user=root",
                           "--batch", "--skip-column-names", "-e", sql],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc
    return proc.stdout


def assert_unavailable(envelope, resp):
    envelope.error(resp, 503, "UNAVAILABLE")
    assert int(resp.headers["Retry-After"]) >= 1, resp


def all_ok(api, token, paths, n=16):
    """n concurrent GETs over paths: the ones that were not 200."""
    def hit(i):
        return api("GET", paths[i % len(paths)], token=token, timeout=60)

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        return [r for r in pool.map(hit, range(n)) if r.status != 200]


# ------------------------------------------------------------- 1. DB killed

def test_database_killed_during_traffic(new_client, api, envelope, exchange_response):
    c = new_client(per_day=1000000, per_minute=1000000)
    token = c.token()
    server = web_pid()
    answers, errors, lock = [], [], threading.Lock()
    stop = threading.Event()
    started = threading.Barrier(9)

    def traffic(i):
        started.wait()
        while not stop.is_set():
            try:
                if i % 4 == 3:
                    resp = exchange_response(c.api_key, c.api_secret)
                else:
                    resp = api("GET", (PROFILE, COUNTRIES, USAGE)[i % 4], token=token,
                               timeout=60)
            except Exception as e:  # a hang (timeout) or a dropped connection
                with lock:
                    errors.append(repr(e))
                return
            with lock:
                answers.append((time.monotonic(), resp))

    threads = [threading.Thread(target=traffic, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    try:
        started.wait()
        poll(lambda: len(answers), lambda n: n >= 40, seconds=60, pause=0.1)
        stack("db-kill")
        killed_at = time.monotonic()
        # Traffic goes on against the dead database for a while.
        poll(lambda: sum(1 for at, _ in answers if at > killed_at + 1),
             lambda n: n >= 40, seconds=60, pause=0.1)
    finally:
        stop.set()
        for t in threads:
            t.join(120)
        stack("db-start")

    assert not errors, errors[:3]
    after = [r for at, r in answers if at > killed_at + 1]
    assert after, "no answer after the kill"
    for resp in (r for _, r in answers):
        if resp.status == 503:
            assert_unavailable(envelope, resp)
        else:
            assert resp.status == 200, resp
            envelope.ok(resp, is_list=isinstance(resp.json.get("data"), list))
    assert all(r.status == 503 for r in after), [r for r in after if r.status != 503][:3]

    # Back without restarting the web server: every worker reconnects.
    failed = poll(lambda: all_ok(api, token, (PROFILE, COUNTRIES, USAGE)),
                  lambda failed: not failed, seconds=60)
    assert not failed, failed[:3]
    assert exchange_response(c.api_key, c.api_secret).status == 200
    assert web_pid() == server


# ------------------------------------------------------ 2. DB restarted

def test_database_restarted_during_a_dispatcher_run(new_client, receiver, tmp_path, parked):
    client = new_client(scopes=du.DEST_SCOPES)
    n = 40
    r = receiver()
    r.set_default(Behaviour(delay=2))
    dest, rows = du.queued_webhooks(client, r.url(), n)
    config = du.quick_config(tmp_path)

    run = du.Dispatcher(config)
    try:
        r.wait_for(1, timeout=60)
        assert run.proc.poll() is None, "the run ended before the restart"
        stack("db-stop")
        # The receiver answers while the database is down: the run has
        # outcomes to record and nowhere to record them, for a while.
        unanswered = poll(lambda: [q for q in r.snapshot() if q.answered_at is None],
                          lambda pending: not pending, seconds=60, pause=0.1)
        assert not unanswered, unanswered[:3]
        time.sleep(2)
        assert run.proc.poll() is None, "the run ended while the database was down"
    finally:
        stack("db-start")
    first = run.wait(timeout=180)
    assert first.rc == 0, first
    assert "the database is unavailable, trying again" in first.stderr, first

    r.set_default(Behaviour())
    # What the first run had not claimed yet, a second run sends.
    du.run(config)

    du.assert_received_once(r.by_webhook_id(), rows)
    du.assert_delivered_at_first_attempt(dest, n)


# ------------------------------------------------- 3. cannot write

def destination_rows(account_id):
    return dbutil.query("SELECT id, label, status FROM alert_destinations"
                        " WHERE account_id = %s ORDER BY id", (account_id,))


def usage_on(app_id, day=None):
    """The requests app_id has counted on day (a date; None: UTC today)."""
    rows = dbutil.query("SELECT requests FROM app_usage_daily WHERE application_id = %s"
                        " AND day = COALESCE(%s, UTC_DATE())", (app_id, day))
    return rows[0][0] if rows else 0


def test_application_user_cannot_lift_read_only():
    """SET GLOBAL read_only stops the application's writes only because
    its user lacks SUPER and READ_ONLY ADMIN (and every global right)."""
    grants = " ".join(row[0] for row in dbutil.query("SHOW GRANTS FOR CURRENT_USER()"))
    assert "SUPER" not in grants.upper(), grants
    assert "READ_ONLY ADMIN" not in grants.upper(), grants
    assert not re.search(r"GRANT ALL PRIVILEGES ON \*\.\*", grants), grants


def test_read_only_database_refuses_a_write_whole(new_client, api, envelope):
    c = new_client(scopes=du.DEST_SCOPES + ("profile:write",), per_minute=100000)
    token = c.token()
    first = api("POST", DESTINATIONS, token=token,
                json_body={"label": unique("before"), "channel": "webhook",
                           "identifier": "https://hooks.example.org/" + unique("h")})
    envelope.ok(first, 201)
    rows, used = destination_rows(c.account_id), usage_on(c.app_id)

    label = unique("read-only")
    db_root("SET GLOBAL read_only = ON")
    try:
        resp = api("POST", DESTINATIONS, token=token,
                   json_body={"label": label, "channel": "email",
                              "identifier": unique("ro") + "@example.org"})
        assert_unavailable(envelope, resp)
        resp = api("PATCH", "%s%d/" % (PROFILE, c.account_id), token=token,
                   json_body={"first_name": "Read Only"})
        assert_unavailable(envelope, resp)
    finally:
        db_root("SET GLOBAL read_only = OFF")

    # Nothing half-written: no destination, no confirmation mail, no
    # request counted.
    assert destination_rows(c.account_id) == rows
    assert not dbutil.query("SELECT id FROM mail_queue WHERE account_id = %s AND"
                            " purpose = 'confirm_destination' AND to_address LIKE %s",
                            (c.account_id, "ro-%"))
    assert usage_on(c.app_id) == used
    assert "database cannot write" in log_text()

    again = api("POST", DESTINATIONS, token=token,
                json_body={"label": label, "channel": "webhook",
                           "identifier": "https://hooks.example.org/" + unique("h")})
    envelope.ok(again, 201)
    assert len(destination_rows(c.account_id)) == len(rows) + 1


FILLER_ADDRESS = "f" * 15 + "@example.org"  # as long as unique("df") + "@example.org"


def fill_mail_queue(account_id, destination_id):
    """Inserts mail_queue rows (failed: no dispatcher takes them) until
    the table is full (error 1114): batches first, then row by row, with
    rows the size of the one the API will want to add. Returns how many
    went in."""
    row = ("confirm_destination", account_id, destination_id, FILLER_ADDRESS, "failed")
    sql = ("INSERT INTO mail_queue (purpose, account_id, destination_id, to_address,"
           " status, next_attempt_at, created_at)"
           " VALUES (%s, %s, %s, %s, %s, UTC_TIMESTAMP(), UTC_TIMESTAMP())")
    added, batch = 0, 500
    while batch:
        try:
            with dbutil.connection().cursor() as cur:
                if batch == 1:
                    cur.execute(sql, row)
                else:
                    cur.executemany(sql, [row] * batch)
            added += batch
            assert added < 200000, "mail_queue never filled up"
        except dbutil.pymysql.err.OperationalError as e:
            assert e.args[0] == 1114, e  # ER_RECORD_FILE_FULL
            batch //= 10
    return added


def test_full_disk_refuses_a_write_whole(new_client, api, envelope):
    """mail_queue's tablespace on a tmpfs just bigger than it: once that
    is full, creating an email destination (a destination row, then its
    confirmation mail, in one transaction) is a 503 and leaves no
    destination behind."""
    c = new_client(scopes=du.DEST_SCOPES, per_minute=100000)
    token = c.token()
    hook = api("POST", DESTINATIONS, token=token,
               json_body={"label": unique("hook"), "channel": "webhook",
                          "identifier": "https://hooks.example.org/" + unique("h")})
    hook_id = envelope.ok(hook, 201)["id"]
    rows = destination_rows(c.account_id)
    name = dbutil._settings()["database"]
    ibd = os.path.join(env("CIVIC_VAR"), "mysql", name, "mail_queue.ibd")
    disk = os.path.join(env("CIVIC_VAR"), "full-disk")
    moved = os.path.join(disk, "mail_queue.ibd")
    os.makedirs(disk, exist_ok=True)
    owner = os.stat(ibd)
    stack("db-stop")
    mounted = False
    try:
        size = os.path.getsize(ibd) + 2 * 1024 * 1024
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0700" % size,
                               "civic-full-disk", disk], capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip("cannot mount a tmpfs here: %s" % proc.stderr.strip())
        mounted = True
        os.chown(disk, owner.st_uid, owner.st_gid)
        shutil.copy2(ibd, moved)
        os.chown(moved, owner.st_uid, owner.st_gid)
        os.remove(ibd)
        os.symlink(moved, ibd)
        stack("db-start")

        assert fill_mail_queue(c.account_id, hook_id) > 0
        resp = api("POST", DESTINATIONS, token=token,
                   json_body={"label": unique("full"), "channel": "email",
                              "identifier": unique("df") + "@example.org"})
        assert_unavailable(envelope, resp)
        assert destination_rows(c.account_id) == rows
        assert "database cannot write" in log_text()
    finally:
        stack("db-stop")
        if os.path.islink(ibd):
            os.remove(ibd)
            shutil.copy2(moved, ibd)
            os.chown(ibd, owner.st_uid, owner.st_gid)
        if mounted:
            subprocess.run(["umount", disk], check=True)
        stack("db-start")
    dbutil.execute("DELETE FROM mail_queue WHERE account_id = %s AND to_address = %s",
                   (c.account_id, FILLER_ADDRESS))
    again = api("POST", DESTINATIONS, token=token,
                json_body={"label": unique("room"), "channel": "email",
                           "identifier": unique("df") + "@example.org"})
    envelope.ok(again, 201)


# ------------------------------------------------ 4. responder killed

def responder_pids(name):
    """Processes running the build's NAME.fcgi (the web server's pool)."""
    target = os.path.realpath(responderutil.binary(name))
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.path.realpath("/proc/%s/exe" % entry) == target:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def waiting_for_a_request(pid):
    """True when the process sits in accept() (syscall 43 or 288 on
    x86-64), as an idle FastCGI responder does."""
    try:
        with open("/proc/%d/syscall" % pid, encoding="ascii") as f:
            return f.read().split()[0] in ("43", "288")
    except (OSError, IndexError):
        return False


def test_responder_killed_mid_request(new_client, api, envelope):
    if frontend() == "cgi":
        pytest.skip("plain CGI has no pool: a process per request, nothing to replace")
    c = new_client(scopes=du.DEST_SCOPES, per_minute=100000)
    token = c.token()

    def create(label, timeout=60):
        return api("POST", DESTINATIONS, token=token, timeout=timeout,
                   json_body={"label": label, "channel": "webhook",
                              "identifier": "https://hooks.example.org/" + unique("h")})

    envelope.ok(create(unique("warm")), 201)  # the pool has a process
    server = web_pid()
    victim_label = unique("killed")
    # Hold the account row: the POST stops in the responder, waiting for
    # the lock every change to an account's destinations takes.
    holder = dbutil.pymysql.connect(charset="utf8mb4", autocommit=False,
                                    **dbutil._settings())
    outcome = {}
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT id FROM accounts WHERE id = %s FOR UPDATE", (c.account_id,))
        request = threading.Thread(
            target=lambda: outcome.setdefault("resp", create(victim_label, timeout=120)))
        request.start()
        # The responder's statement, waiting for the lock: not this query
        # (whose own text matches the pattern) nor the holder's (which may
        # show for a moment after it returned).
        waiting = poll(lambda: dbutil.query(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = %s"
            " AND ID NOT IN (CONNECTION_ID(), %s) AND INFO LIKE %s",
            (dbutil._settings()["user"], holder.thread_id(), "%FROM accounts%FOR UPDATE%"))[0][0],
            lambda n: n > 0, seconds=30, pause=0.1)
        assert waiting, "the request never reached the database"
        busy = [p for p in responder_pids("civic-alert-destinations")
                if not waiting_for_a_request(p)]
        assert busy, "no busy civic-alert-destinations process: %r" % \
            responder_pids("civic-alert-destinations")
        for pid in busy:
            os.kill(pid, signal.SIGKILL)
    finally:
        holder.rollback()
        holder.close()
    request.join(150)
    assert not request.is_alive(), "the killed request hung"
    # Whatever the web server answered for it, it did not hang, and the
    # request was not carried out twice (the killed transaction is rolled
    # back; a retry elsewhere could at most make it once).
    assert outcome["resp"].status in (201, 500, 502, 503), outcome["resp"]
    labels = [row[1] for row in destination_rows(c.account_id)]
    assert labels.count(victim_label) <= 1, labels

    # The pool replaces the process; requests succeed again, each once.
    resp = poll(lambda: create(unique("probe")), lambda r: r.status == 201, seconds=60)
    envelope.ok(resp, 201)
    made = [unique("after") for _ in range(6)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(create, made))
    for resp in results:
        envelope.ok(resp, 201)
    labels = [row[1] for row in destination_rows(c.account_id)]
    assert all(labels.count(label) == 1 for label in made), labels
    assert not set(busy) & set(responder_pids("civic-alert-destinations"))
    assert web_pid() == server


# ---------------------------------------------- 5. SMTP, webhook down

def test_smtp_server_unreachable_then_back(new_client, tmp_path, parked):
    client = new_client(scopes=du.DEST_SCOPES)
    address = unique("smtp-down") + "@example.org"
    config = du.quick_config(tmp_path)
    stack("mail-stop")
    try:
        du.create_email(client, address)
        [mail] = dbutil.mails(account_id=client.account_id, to_address=address)
        du.run(config)
        row = dbutil.mails(account_id=client.account_id, to_address=address)[0]
        assert (row["status"], row["sent_at"]) == ("pending", None), row
        assert row["attempts"] >= 1 and row["last_error"], row
        assert row["next_attempt_at"] is not None, row
        assert du.mails(to=address) == []
    finally:
        stack("mail-start")
    du.run_until(lambda: dbutil.mails(account_id=client.account_id,
                                      to_address=address)[0]["status"] == "sent",
                 config, mail_ids=[mail["id"]])
    got = poll(lambda: du.mails(to=address), lambda m: len(m) >= 1)
    assert len(got) == 1, got
    assert len(dbutil.mails(account_id=client.account_id, to_address=address)) == 1


def test_webhook_receiver_unreachable_then_back(new_client, tmp_path, parked):
    client = new_client(scopes=du.DEST_SCOPES)
    n = 20
    with socket.socket() as s:  # a free port, that refuses connections
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _, rows = du.queued_webhooks(client, "http://127.0.0.1:%d/hook" % port, n)
    config = du.quick_config(tmp_path)

    du.run(config)
    for d in rows:
        row = dbutil.dispatch(d)
        assert row["status"] == "retrying" and row["attempts"] >= 1, row
        assert row["next_attempt_at"] is not None and row["delivered_at"] is None, row
        assert all(a["outcome"] == "failure" for a in dbutil.attempts(d)), d

    back = Receiver(port=port).start()
    try:
        du.run_until(lambda: all(dbutil.dispatch(d)["status"] == "delivered" for d in rows),
                     config, dispatch_ids=rows)
        seen = back.by_webhook_id()
    finally:
        back.close()
    du.assert_received_once(seen, rows)
    for d in rows:
        outcomes = [a["outcome"] for a in dbutil.attempts(d)]
        assert outcomes[-1] == "success" and outcomes.count("success") == 1, (d, outcomes)


# ------------------------------------------ 6. the last 100 of a quota

def test_thousand_clients_on_the_last_hundred_requests(new_client, api, envelope):
    limit, clients, left = 5000, 1000, 100

    def burst():
        """The last 100 requests of a fresh application's day, then 1000
        clients at once: (the day, the answers, the day's count after)."""
        day = dbutil.query("SELECT UTC_DATE()")[0][0]
        c = new_client(per_day=limit, per_minute=1000000)
        token = c.token()
        c.metered(c.get(COUNTRIES), used=1, limit=limit)
        dbutil.execute("UPDATE app_usage_daily SET requests = %s WHERE application_id = %s"
                       " AND day = %s", (limit - left, c.app_id, day))
        start = threading.Barrier(clients)

        def hit(_):
            start.wait()
            return api("GET", COUNTRIES, token=token, timeout=600)

        with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
            results = list(pool.map(hit, range(clients)))
        return day, results, usage_on(c.app_id, day)

    # Quotas are per UTC day: a burst that straddles 00:00 UTC counts on
    # two days, so it is run again, on the new day.
    day, results, count = burst()
    if dbutil.query("SELECT UTC_DATE()")[0][0] != day:
        day, results, count = burst()

    served = [r for r in results if r.status == 200]
    refused = [r for r in results if r.status == 429]
    others = [r for r in results if r.status not in (200, 429)]
    assert not others, others[:3]
    assert (len(served), len(refused)) == (left, clients - left)
    assert sorted(int(r.headers["X-RateLimit-Used"]) for r in served) == \
        list(range(limit - left + 1, limit + 1))
    for r in refused:
        envelope.error(r, 429, "QUOTA_EXCEEDED")
    assert count == limit
