"""civic-dispatch claims rows so that overlapping runs never send one
twice, and a run killed mid-send loses nothing (issue 4):

  - two dispatchers started at once over 1,000 due rows to one receiver:
    every row delivered, each webhook-id received exactly once;
  - kill -9 of a dispatcher while a slow receiver holds its transfers:
    the claimed rows stay leased (a run before the lease ends leaves them
    alone); once the test moves lease_until into the past, a rerun
    delivers every row at least once.
"""

import time

import pytest

import dbutil
import dispatchutil as du
from receiver import Behaviour

pytestmark = pytest.mark.usefixtures("parked")


@pytest.fixture
def client(new_client):
    return new_client(scopes=du.DEST_SCOPES)


def test_two_dispatchers_send_each_of_1000_rows_once(client, receiver):
    n = 1000
    r = receiver()
    dest, rows = du.queued_webhooks(client, r.url(), n)

    a, b = du.Dispatcher(), du.Dispatcher()
    run_a, run_b = a.wait(timeout=240), b.wait(timeout=240)

    assert (run_a.rc, run_b.rc) == (0, 0), (run_a, run_b)
    du.assert_received_once(r.by_webhook_id(), rows)
    du.assert_delivered_at_first_attempt(dest, n)
    assert run_a.summary["delivered"] + run_b.summary["delivered"] == n, (run_a, run_b)


def test_kill_9_mid_run_loses_nothing(client, receiver, tmp_path):
    n = 30
    r = receiver()
    r.set_default(Behaviour(delay=3))
    dest, rows = du.queued_webhooks(client, r.url(), n)
    config = du.quick_config(tmp_path)

    victim = du.Dispatcher(config)
    r.wait_for(5, timeout=60)
    time.sleep(0.3)
    killed = victim.kill9()
    killed_at = time.time()
    assert killed.rc == -9, killed

    now = du.db_now()
    before = {d: dbutil.dispatch(d) for d in rows}
    leased = [d for d, row in before.items()
              if row["status"] != "delivered" and row["lease_until"] and row["lease_until"] > now]
    assert leased, "the kill came after the run had finished: %r" % before
    assert all(row["status"] != "delivered" for row in before.values()), \
        "delivered while the receiver was still sleeping"

    r.set_default(Behaviour())  # answers at once from now on
    # Leases still running: a new run leaves those rows alone.
    du.run(config)
    for d in leased:
        row = dbutil.dispatch(d)
        assert (row["status"], row["attempts"]) == \
            (before[d]["status"], before[d]["attempts"]), (before[d], row)

    # Lease over (as if lease_seconds had passed): the next run takes them.
    dbutil.expire_leases(rows)
    du.run(config)

    states = {d: dbutil.dispatch(d)["status"] for d in rows}
    assert set(states.values()) == {"delivered"}, states
    # Sent again after the kill (what the killed run sent never counted).
    resent = {q.headers.get("webhook-id") for q in r.snapshot() if q.time > killed_at}
    missing = [d for d in rows if "msg_%d" % d not in resent]
    assert not missing, missing
