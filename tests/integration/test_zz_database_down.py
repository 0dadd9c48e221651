"""Database outage: fast 503s, checksum rejection without the database,
and recovery without restarting the web server.

Named test_zz_* so pytest collects it last: it stops the database."""

import concurrent.futures
import time

from conftest import break_checksum, poll, stack

PROFILE = "/v1/profile/"
COUNTRIES = "/v1/supported-countries/"


def timed(fn, *args, **kw):
    start = time.monotonic()
    resp = fn(*args, **kw)
    return resp, time.monotonic() - start


def assert_unavailable(envelope, resp, elapsed):
    envelope.error(resp, 503, "UNAVAILABLE")
    assert int(resp.headers["Retry-After"]) >= 1, resp
    assert elapsed < 10, "503 took %.1f s" % elapsed


def test_database_outage_and_recovery(new_client, api, envelope,
                                      exchange_response):
    c = new_client(per_day=100000, per_minute=100000)
    token = c.token()
    assert c.get(PROFILE).status == 200
    bad_key = break_checksum(c.api_key)

    stack("db-stop")
    try:
        # A bad checksum is refused before any database access.
        resp, elapsed = timed(exchange_response, bad_key, c.api_secret)
        envelope.error(resp, 401, "INVALID_API_KEY")
        assert elapsed < 5, "checksum rejection took %.1f s" % elapsed

        # Metered requests with a valid token: 503 UNAVAILABLE, quickly.
        for path in (PROFILE, COUNTRIES):
            resp, elapsed = timed(api, "GET", path, token=token, timeout=15)
            assert_unavailable(envelope, resp, elapsed)
        resp, elapsed = timed(api, "GET", "/v1/usage/", token=token,
                              timeout=15)
        assert_unavailable(envelope, resp, elapsed)

        # A well-formed key pair needs the database: 503 too, not 401.
        resp, elapsed = timed(exchange_response, c.api_key, c.api_secret)
        assert_unavailable(envelope, resp, elapsed)
    finally:
        stack("db-start")

    # The responders reconnect by themselves (nobody restarts the server).
    resp = poll(lambda: api("GET", PROFILE, token=token, timeout=15),
                lambda r: r.status == 200)
    assert resp.status == 200, resp
    assert resp.data["id"] == c.account_id

    # Every worker of the pools has recovered: a concurrent batch all
    # succeeds (allowing a few more seconds for stragglers).
    def hit(i):
        return api("GET", PROFILE if i % 2 else COUNTRIES, token=token,
                   timeout=15)

    def batch():
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            return [r for r in pool.map(hit, range(16)) if r.status != 200]

    failed = poll(batch, lambda failed: not failed)
    assert not failed, failed[:3]
    assert exchange_response(c.api_key, c.api_secret).status == 200
