"""Runs last: after the whole suite (every token, secret and password it
used, the database outage included), no log the stack writes holds a key
secret, a bearer token or a password (SPEC §2, STYLE.md 10)."""

import os
import re

import pytest

# css_ secrets, JWTs (base64url of '{"' begins "eyJ"), argon2 hashes.
SECRET = re.compile(rb"css_(live|test)_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}")
TOKEN = re.compile(rb"eyJ[0-9A-Za-z_-]{10,}\.eyJ[0-9A-Za-z_-]{10,}")
HASH = re.compile(rb"\$argon2id\$")
# Webhook signing secrets (shown once, stored sealed).
WHSEC = re.compile(rb"whsec_[0-9A-Za-z+/=]{20,}")


def gateway_token():
    """The WhatsApp gateway's bearer token, which only its own config and
    the API's requests to it may hold."""
    path = os.path.join(os.environ["CIVIC_VAR"], "secrets", "whatsapp.token")
    with open(path, "rb") as f:
        return f.read().strip()


def log_files():
    root = os.path.join(os.environ["CIVIC_VAR"], "log")
    return [os.path.join(root, n) for n in sorted(os.listdir(root))
            if n.endswith(".log")]


def test_the_suite_left_logs_to_scan():
    """The web server's error log, which also holds what the responders
    wrote to stderr, is among them."""
    names = [os.path.basename(p) for p in log_files()]
    frontend = os.environ.get("CIVIC_WEB_FRONTEND", "lighttpd")
    expected = "lighttpd-error.log" if frontend == "lighttpd" else "apache-error.log"
    assert expected in names, names


# A responder's log line (src/lib/log.c): "<time>Z civic-<name>[<pid>] <level> ...".
RESPONDER_LINE = re.compile(rb"Z civic-(?!admin\[|dispatch\[)[a-z-]+\[[0-9]+\] (?:warn|error) ")


def test_the_responders_log_lines_reach_a_log():
    """The suite made responders log (the gateway and database outages):
    their stderr must land in a file, not in /dev/null (lighttpd's
    default for the processes it spawns)."""
    found = []
    for path in log_files():
        with open(path, "rb") as f:
            if RESPONDER_LINE.search(f.read()):
                found.append(os.path.basename(path))
    assert found, "no responder log line in any of %s" % [os.path.basename(p) for p in log_files()]


@pytest.mark.parametrize("path", log_files() if os.environ.get("CIVIC_VAR") else [])
def test_no_secret_or_token_in_logs(path):
    with open(path, "rb") as f:
        text = f.read()
    assert not TOKEN.search(text), path
    assert not HASH.search(text), path
    assert not WHSEC.search(text), path
    assert gateway_token() not in text, path
    # The web server's access log records request URLs, and one test sends
    # a key pair in a URL on purpose to see it refused; what the
    # responders and the database write must never hold a secret.
    if not path.endswith("access.log"):
        assert not SECRET.search(text), path
