"""A responder handed a FastCGI listening socket as fd 0 serves it only
when it is a unix socket or bound to a loopback address: the responders
trust the client address and headers the web server sends, so nothing
but the web server on this host may reach them (src/lib/server.c,
civic_listener_check). A refused socket: one log line naming the
address, exit status 1 at once, nothing served. Plain CGI (stdin not a
listening socket) is test_cgi.py."""

import json
import os
import socket
import subprocess
import time

import pytest

from responderutil import fastcgi, start_fastcgi, start_fastcgi_unix

# Linux values; Python's socket module lacks the IPv6 one.
IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)
IPV6_FREEBIND = 78

REFUSED = [
    # (family, address, bind with FREEBIND, what the log shows before the port)
    (socket.AF_INET, "0.0.0.0", False, "0.0.0.0:"),
    (socket.AF_INET6, "::", False, "[::]:"),
    # An address of a network interface: TEST-NET ones, which the host
    # need not hold (FREEBIND).
    (socket.AF_INET, "192.0.2.77", True, "192.0.2.77:"),
    (socket.AF_INET6, "2001:db8::77", True, "[2001:db8::77]:"),
    (socket.AF_INET6, "::ffff:192.0.2.77", True, "[::ffff:192.0.2.77]:"),
]

ALLOWED = [
    (socket.AF_INET, "127.0.0.1"),
    (socket.AF_INET, "127.3.2.1"),
    (socket.AF_INET6, "::1"),
    (socket.AF_INET6, "::ffff:127.0.0.1"),
]


def listener(family, address, freebind=False):
    """A listening TCP socket on address, port 0 (the kernel picks)."""
    s = socket.socket(family, socket.SOCK_STREAM)
    if freebind and family == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
    elif freebind:
        s.setsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND, 1)
    s.bind((address, 0))
    s.listen(8)
    return s


def stop(proc):
    """SIGTERM, then SIGKILL; returns (stdout, stderr)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            return proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.communicate()


@pytest.mark.parametrize("family,address,freebind,shown", REFUSED,
                         ids=[r[1] for r in REFUSED])
def test_refuses_a_socket_other_hosts_can_reach(family, address, freebind, shown):
    with listener(family, address, freebind) as s:
        port = s.getsockname()[1]
        started = time.monotonic()
        proc = start_fastcgi("civic-notfound", s)
        try:
            out, err = proc.communicate(timeout=10)
        finally:
            stop(proc)
        elapsed = time.monotonic() - started
    assert proc.returncode == 1, (proc.returncode, err)
    assert elapsed < 5, "refusing took %.1f s" % elapsed
    assert out == b"", out
    text = err.decode()
    assert "refusing to serve FastCGI on %s%d" % (shown, port) in text, text
    assert "loopback" in text and " error " in text, text
    assert len(text.strip().splitlines()) == 1, text


def test_refused_before_the_config_is_read():
    """The check comes first: a missing config is not even looked at."""
    with listener(socket.AF_INET, "0.0.0.0") as s:
        proc = start_fastcgi("civic-token", s, config="/nonexistent/civicsentinel.conf")
        try:
            _, err = proc.communicate(timeout=10)
        finally:
            stop(proc)
    assert proc.returncode == 1, err
    assert b"refusing to serve FastCGI on 0.0.0.0:" in err, err
    assert b"/nonexistent" not in err, err


def serves(address, proc):
    """The responder on address answers a FastCGI request, and keeps
    running after it."""
    status, headers, doc = fastcgi(address, "GET", "/v1/nowhere/")
    assert (status, doc["erc"], doc["code"]) == (404, 0, "NOT_FOUND"), doc
    assert headers.get("X-Request-Id"), headers
    time.sleep(0.2)
    assert proc.poll() is None, stop(proc)


@pytest.mark.parametrize("family,address", ALLOWED, ids=[a for _, a in ALLOWED])
def test_serves_on_loopback(family, address):
    with listener(family, address) as s:
        proc = start_fastcgi("civic-notfound", s)
        try:
            serves(s.getsockname(), proc)
        finally:
            _, err = stop(proc)
    assert b"refusing" not in err, err


def test_serves_on_a_unix_socket(tmp_path):
    path = str(tmp_path / "civic-notfound.sock")
    proc = start_fastcgi_unix("civic-notfound", path)
    try:
        serves(path, proc)
    finally:
        _, err = stop(proc)
        os.unlink(path)
    assert b"refusing" not in err, err


def test_token_exchange_over_loopback_fastcgi(new_client):
    """The whole path through a loopback socket: config, secrets and the
    database, as behind a web server on the same host."""
    c = new_client()
    body = json.dumps({"api_key": c.api_key, "api_secret": c.api_secret}).encode()
    with listener(socket.AF_INET, "127.0.0.1") as s:
        proc = start_fastcgi("civic-token", s)
        try:
            status, _, doc = fastcgi(s.getsockname(), "POST", "/v1/developer-token/", body)
        finally:
            stop(proc)
    assert status == 200, doc
    assert doc["data"]["token_type"] == "Bearer" and doc["data"]["access"], doc
