"""civic-dispatch's SSRF guard (issue 4): with the production outbound
policy (`[alerts] outbound_allow` empty), webhooks to loopback, private,
link-local, CGNAT and IPv4-mapped addresses, written in any of the forms
URL parsers accept, and to names that resolve to loopback, are refused
after DNS and never reach the receiver listening there.

The API refuses literal addresses like these when a webhook is created,
so the test creates ordinary loopback webhooks (the test config allows
127.0.0.0/8) and then points them at the targets in the database. The
dispatcher runs with a copy of the test config whose outbound_allow is
empty; a last run with the test config itself shows the same receiver is
reachable when the policy allows it, so the refusals are the policy's."""

import socket

import pytest

import dbutil
import dispatchutil as du

pytestmark = pytest.mark.usefixtures("parked")

# {port}: the receiver's port on 127.0.0.1. Targets without it cannot
# reach the receiver at all; they must be refused before any connection.
TARGETS = [
    "http://127.0.0.1:{port}/hook",
    "http://0x7f.1:{port}/hook",            # hex and short dotted form
    "http://2130706433:{port}/hook",        # 127.0.0.1 as one decimal
    "http://0177.0.0.1:{port}/hook",        # octal
    "http://127.1.2.3:{port}/hook",         # anywhere in 127/8
    "http://0.0.0.0:{port}/hook",           # unspecified (Linux: loopback)
    "http://[::1]:{port}/hook",
    "http://[::ffff:127.0.0.1]:{port}/hook",  # IPv4-mapped loopback
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",               # CGNAT
    "http://localhost:{port}/hook",         # a name resolving to loopback
]
# Names that resolve to loopback here only where /etc/hosts has them.
OPTIONAL_NAMES = ["localhost6", "ip6-localhost", "ip6-loopback"]


def resolvable(name):
    try:
        return bool(socket.getaddrinfo(name, 80, proto=socket.IPPROTO_TCP))
    except socket.gaierror:
        return False


def test_outbound_policy_refuses_internal_targets(new_client, receiver, tmp_path):
    c = new_client(scopes=du.DEST_SCOPES)
    r = receiver()
    targets = [t.format(port=r.port) for t in TARGETS]
    targets += ["http://%s:%d/hook" % (n, r.port) for n in OPTIONAL_NAMES if resolvable(n)]
    rows = {}
    for i, target in enumerate(targets):
        dest, _ = du.active_webhook(c, r.url("/made/%d" % i), "ssrf %d" % i)
        dbutil.set_identifier(dest, target)
        alert = dbutil.insert_alert("FR", 4, 2)
        rows[target] = dbutil.insert_dispatch(alert, dest, c.account_id,
                                              next_attempt_at=dbutil.utc())
    strict = du.config_copy(tmp_path, alerts={"outbound_allow": ""},
                            dispatch={"linger_seconds": 0})

    result = du.run(strict, timeout=90)

    assert r.snapshot() == [], "the receiver was reached: %r" % r.snapshot()
    problems = []
    for target, d in rows.items():
        row, tried = dbutil.dispatch(d), dbutil.attempts(d)
        errors = [a["error"] or "" for a in tried]
        if row["status"] == "delivered" or not tried:
            problems.append((target, row["status"], errors))
        elif not all(a["outcome"] == "failure" and "outbound policy" in (a["error"] or "")
                     for a in tried):
            problems.append((target, row["status"], errors))
    assert not problems, "%r\n%r" % (problems, result)

    # The same receiver, allowed by the test config's policy: reached.
    # (The refused rows may be failed for good or still retrying, and
    # those that retry are parked: only a new row is due.)
    dbutil.park_everything()
    plain = dbutil.dispatch(rows["http://127.0.0.1:%d/hook" % r.port])["destination_id"]
    again = dbutil.insert_dispatch(dbutil.insert_alert("FR", 4, 2), plain, c.account_id,
                                   next_attempt_at=dbutil.utc())
    du.run(du.quick_config(tmp_path))
    assert [q.path for q in r.snapshot()] == ["/hook"]
    assert dbutil.dispatch(again)["status"] == "delivered"
