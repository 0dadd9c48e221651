"""civic-dispatch as the tests drive it: running the real binary
($CIVIC_DISPATCH, config from $CIVIC_CONFIG or a modified copy), reading
the mails the development catcher stored ($CIVIC_MAIL_DIR), and the API
calls that set up destinations and subscriptions.

Every run's stderr is appended to VAR/log/dispatch-tests.log, which
exists from the moment this module is imported (collection time), so
test_zz_logs scans it for secrets like the stack's other logs.
"""

import configparser
import datetime
import email
import json
import email.policy
import os
import re
import signal
import subprocess
import tempfile
import time

import dbutil
from conftest import assert_ok, config_copy, env, request, unique

# The contract's summary line; the logger may put a time, the pid and the
# source place before "run:", and later fields may follow "mails sent M".
SUMMARY_RE = re.compile(
    r"civic-dispatch\b.*\brun: fanned out (?P<alerts>\d+) alerts \((?P<dispatches>\d+) "
    r"dispatches, (?P<over_quota>\d+) over quota\); delivered (?P<delivered>\d+), "
    r"retrying (?P<retrying>\d+), failed (?P<failed>\d+); mails sent (?P<mails>\d+)")

# Contract: attempt n fails -> the next one this many seconds later.
RETRY_AFTER_ATTEMPT = {1: 0, 2: 5, 3: 300, 4: 1800, 5: 7200, 6: 18000, 7: 36000, 8: 36000}
MAX_ATTEMPTS = 9

DEST_SCOPES = ("destinations:read", "destinations:write", "subscriptions:read",
               "subscriptions:write", "dispatches:read")

LOG_NAME = "dispatch-tests.log"


def _log_path():
    return os.path.join(env("CIVIC_VAR"), "log", LOG_NAME)


if os.environ.get("CIVIC_VAR"):
    os.makedirs(os.path.join(os.environ["CIVIC_VAR"], "log"), exist_ok=True)
    open(os.path.join(os.environ["CIVIC_VAR"], "log", LOG_NAME), "a").close()


# ------------------------------------------------------------------ config
# config_copy (from conftest) writes a changed copy of the stack's config;
# the dispatcher tests reach it as dispatchutil.config_copy too.

def config_value(section, key, config=None):
    parser = configparser.ConfigParser(interpolation=None)
    with open(config or env("CIVIC_CONFIG"), encoding="utf-8") as f:
        parser.read_file(f)
    return parser.get(section, key)


def quick_config(directory, **dispatch):
    """The stack's config with linger_seconds = 0 (plus any other
    [dispatch] values given): a run ends as soon as nothing is due now,
    instead of waiting for the 5 s retry; the tests move next_attempt_at
    themselves (dbutil.make_due) to go on."""
    values = {"linger_seconds": 0}
    values.update(dispatch)
    return config_copy(directory, dispatch=values)


# -------------------------------------------------------------- dispatcher

def binary():
    path = env("CIVIC_DISPATCH")
    assert os.access(path, os.X_OK), (
        "no civic-dispatch binary at %s (CIVIC_DISPATCH): is the dispatcher built?" % path)
    return path


class Run:
    """What one civic-dispatch process did."""

    def __init__(self, args, rc, stderr, seconds, maxrss_kb):
        self.args = args
        self.rc = rc
        self.stderr = stderr
        self.seconds = seconds
        self.maxrss_kb = maxrss_kb
        self.summaries = [{k: int(v) for k, v in m.groupdict().items()}
                          for m in SUMMARY_RE.finditer(stderr)]

    @property
    def summary(self):
        """The one summary line of a single run, as a dict of ints."""
        assert len(self.summaries) == 1, self
        return self.summaries[0]

    def __repr__(self):
        return "<civic-dispatch %s: exit %s after %.1f s, max RSS %d KiB; stderr:\n%s>" % (
            " ".join(self.args), self.rc, self.seconds, self.maxrss_kb, self.stderr[-4000:])


class Dispatcher:
    """A civic-dispatch process started in the background."""

    def __init__(self, config=None, args=()):
        self.args = [str(a) for a in args]
        proc_env = dict(os.environ)
        proc_env["CIVIC_CONFIG"] = str(config or env("CIVIC_CONFIG"))
        # A file, not a pipe: nobody reads while it runs, and a killed
        # process leaves what it wrote.
        self._err = tempfile.TemporaryFile()
        self.started = time.monotonic()
        self.proc = subprocess.Popen([binary()] + self.args, stdin=subprocess.DEVNULL,
                                     stdout=self._err, stderr=self._err, env=proc_env)
        self.pid = self.proc.pid

    def wait(self, timeout=120):
        """Reaps the process (its own resource usage, through wait4) and
        returns a Run; kills it and fails when it outlives timeout."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                break
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("civic-dispatch %s still ran after %d s; stderr:\n%s"
                                     % (" ".join(self.args), timeout, self._stderr()[-4000:]))
            time.sleep(0.02)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - self.started
        text = self._stderr()
        with open(_log_path(), "a", encoding="utf-8") as log:
            log.write("==== civic-dispatch %s (pid %d): exit %d after %.1f s\n%s"
                      % (" ".join(self.args), self.pid, self.proc.returncode, seconds, text))
        return Run(self.args, self.proc.returncode, text, seconds, usage.ru_maxrss)

    def kill9(self):
        """SIGKILL, as an operator's kill -9 or the OOM killer would."""
        os.kill(self.pid, signal.SIGKILL)
        return self.wait(timeout=10)

    def _stderr(self):
        self._err.seek(0)
        return self._err.read().decode("utf-8", "replace")


def run(config=None, args=(), timeout=120, expect_rc=0):
    """One civic-dispatch run to its end; asserts its exit status."""
    result = Dispatcher(config, args).wait(timeout)
    if expect_rc is not None:
        assert result.rc == expect_rc, result
    return result


def run_until(done, config, dispatch_ids=(), mail_ids=(), check_destinations=(),
              max_runs=4):
    """Runs the dispatcher until done() is true, making the given rows
    due again between runs (whether a 0 s retry happens in the same run
    or the next is the dispatcher's choice). Returns the runs."""
    runs = []
    for _ in range(max_runs):
        runs.append(run(config))
        if done():
            return runs
        dbutil.make_due(dispatch_ids, mail_ids, check_destinations)
    raise AssertionError("not done after %d runs: %r" % (max_runs, runs))


# ----------------------------------------------------------------- mailbox

class Mail:
    """One .eml file of the catcher."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        with open(path, "rb") as f:
            self.raw = f.read()
        self.msg = email.message_from_bytes(self.raw, policy=email.policy.default)
        self.envelope_from = str(self.msg.get("X-Civic-Envelope-From", ""))
        self.envelope_to = [str(v) for v in self.msg.get_all("X-Civic-Envelope-To") or []]

    @property
    def subject(self):
        return str(self.msg.get("Subject", ""))

    def part(self, subtype):
        """The decoded text of the text/<subtype> part, or None."""
        body = self.msg.get_body(preferencelist=(subtype,))
        if body is None or body.get_content_subtype() != subtype:
            return None
        return body.get_content()

    @property
    def text(self):
        return self.part("plain")

    @property
    def html(self):
        return self.part("html")

    def __repr__(self):
        return "<Mail %s to %s: %r>" % (self.name, self.envelope_to, self.subject)


def mailbox_dir():
    return env("CIVIC_MAIL_DIR")


def mails(to=None):
    """Every stored mail (to one envelope recipient, if given), oldest
    first. Only finished files: the catcher renames a mail to .eml once
    it is complete."""
    names = sorted(n for n in os.listdir(mailbox_dir()) if n.endswith(".eml"))
    out = [Mail(os.path.join(mailbox_dir(), n)) for n in names]
    if to is not None:
        out = [m for m in out if to.lower() in (a.lower() for a in m.envelope_to)]
    return out


# --------------------------------------------------------------------- API

def create_webhook(client, url, label=None):
    """POST a webhook destination; returns (id, signing secret)."""
    resp = request("POST", "/v1/alert-destinations/", token=client.token(),
                   json_body={"label": label or "hook %s" % url[-12:], "channel": "webhook",
                              "identifier": url})
    data = assert_ok(resp, 201)
    assert data["status"] == "pending", resp
    assert data["signing_secret"].startswith("whsec_"), resp
    return data["id"], data["signing_secret"]


def create_email(client, address, label=None):
    """POST an email destination (pending, its confirmation mail queued)."""
    resp = request("POST", "/v1/alert-destinations/", token=client.token(),
                   json_body={"label": label or "mail " + address, "channel": "email",
                              "identifier": address})
    return assert_ok(resp, 201)["id"]


def active_webhook(client, url, label=None):
    """A webhook destination made active without its verification event
    (dbutil.activate_webhook); returns (id, signing secret)."""
    dest, secret = create_webhook(client, url, label)
    dbutil.activate_webhook(dest)
    return dest, secret


def queued_webhooks(client, url, n):
    """n due dispatch rows of n new alerts to a new active webhook
    destination at url; returns (destination id, dispatch ids)."""
    dest, _ = active_webhook(client, url)
    rows = dbutil.insert_dispatches_bulk(dbutil.insert_alerts_bulk("MT", n), dest,
                                         client.account_id)
    assert len(rows) == n, rows
    return dest, rows


def assert_received_once(seen, rows):
    """seen (a receiver's by_webhook_id()) holds each of the dispatch
    rows exactly once, and nothing else."""
    assert set(seen) == {"msg_%d" % d for d in rows}, (sorted(seen), sorted(rows))
    twice = {k: len(v) for k, v in seen.items() if len(v) != 1}
    assert not twice, "sent more than once: %r" % twice


def assert_delivered_at_first_attempt(dest, n):
    """All n rows of destination dest delivered, each with one attempt row."""
    states = dbutil.query("SELECT status, attempts, COUNT(*) FROM alert_dispatches"
                          " WHERE destination_id = %s GROUP BY status, attempts", (dest,))
    assert list(states) == [("delivered", 1, n)], states
    per_row = dbutil.query("SELECT COUNT(*) FROM dispatch_attempts t JOIN alert_dispatches d"
                           " ON d.id = t.dispatch_id WHERE d.destination_id = %s"
                           " GROUP BY t.dispatch_id HAVING COUNT(*) <> 1", (dest,))
    assert per_row == (), "a row with other than one attempt"


def subscribe(client, destination_id, stream, min_level=1):
    resp = request("POST", "/v1/alert-subscriptions/", token=client.token(),
                   json_body={"destination_id": destination_id, "stream": stream,
                              "min_level": min_level})
    return assert_ok(resp, 201)["id"]


def get_destination(client, destination_id):
    resp = request("GET", "/v1/alert-destinations/%d/" % destination_id, token=client.token())
    return assert_ok(resp)


def api_dispatches(client, query=""):
    """GET /v1/alert-dispatches/ (every page), newest first."""
    out, path = [], "/v1/alert-dispatches/" + query
    while path:
        resp = request("GET", path, token=client.token())
        out += assert_ok(resp, is_list=True)
        path = resp.json["next"]
    return out


def api_dispatch(client, dispatch_id):
    rows = [d for d in api_dispatches(client) if d["id"] == dispatch_id]
    assert len(rows) == 1, (dispatch_id, rows)
    return rows[0]


# -------------------------------------------------------------------- time

def seconds_between(later, earlier):
    """later - earlier in seconds (naive UTC datetimes from the database)."""
    return (later - earlier).total_seconds()


def db_now():
    return dbutil.query("SELECT UTC_TIMESTAMP()")[0][0]


def rfc3339_z(dt):
    """A naive UTC DATETIME as the webhook payload writes it."""
    return dt.replace(tzinfo=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -------------------------------------------------------------- alerts

def import_level_change(admin, tmp_path, country):
    """`civic-admin risk import` of a level change for country (after a
    baseline when it has no assessment yet). Returns (alert id, the
    imported row, its previous level)."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    latest = dbutil.query("SELECT level, assessed_at FROM risk_latest WHERE country = %s",
                          (country,))
    if latest:
        previous, at = latest[0]
        at = max(now, at.replace(tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=1))
    else:
        previous, at = 2, now
        base = [{"country": country, "level": previous, "score": 30, "summary": "Baseline.",
                 "factors": [], "source": "tests/integration",
                 "assessed_at": (now - datetime.timedelta(minutes=2)).strftime(
                     "%Y-%m-%dT%H:%M:%SZ")}]
        (tmp_path / "baseline.json").write_text(json.dumps(base))
        assert admin("risk", "import", tmp_path / "baseline.json")["alerts"] == []
    level = 3 if previous == 4 else 4
    row = {"country": country, "level": level, "score": 77,
           "summary": "Level change %s: strikes and road blocks." % unique("e2e"),
           "factors": ["strikes"], "source": "tests/integration",
           "assessed_at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
    (tmp_path / "change.json").write_text(json.dumps([row]))
    out = admin("risk", "import", tmp_path / "change.json")
    assert len(out["alerts"]) == 1, out
    assert (out["alerts"][0]["level"], out["alerts"][0]["previous_level"]) == \
        (level, previous), out
    return out["alerts"][0]["alert_id"], row, previous
