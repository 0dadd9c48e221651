"""Malformed FastCGI records sent straight to a responder's socket, as
only a broken or hostile web server could: the record layer is
libfcgi's (Debian's 2.4.2-2+deb12u1), which the responders link. A
PARAMS record with huge name and value lengths (CVE-2025-23016) must be
refused: the connection closed with nothing written, no crash, and the
same process serves the next good request. tests/fuzz/fuzz_fcgi.c fuzzes
the same layer; docs/fuzzing.md says what it found."""

import os
import socket
import struct

import pytest

from responderutil import FCGI_BEGIN_REQUEST, FCGI_PARAMS, FCGI_RESPONDER, fastcgi, \
    record, start_fastcgi_unix


def huge_params(name_len, value_len):
    """BEGIN_REQUEST, then a PARAMS record whose one pair declares
    name_len and value_len (4-byte forms) but holds 64 bytes."""
    pair = struct.pack("!II", name_len | 0x80000000, value_len | 0x80000000) + b"A" * 64
    return (record(FCGI_BEGIN_REQUEST, struct.pack("!HB5x", FCGI_RESPONDER, 0))
            + record(FCGI_PARAMS, pair) + record(FCGI_PARAMS, b""))


@pytest.fixture
def responder(tmp_path):
    """civic-notfound on a unix socket: (address, Popen)."""
    path = str(tmp_path / "civic-notfound.sock")
    proc = start_fastcgi_unix("civic-notfound", path)
    try:
        yield path, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.communicate(timeout=30)
        os.unlink(path)


def send_raw(address, data):
    """Sends data on a new connection, then reads until the responder
    closes it (the 30 s timeout only guards against a hang); returns
    what it wrote."""
    got = b""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(address)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return got
            got += chunk


def assert_refused_then_serves(address, proc, data, refused=True):
    """data gets no answer (unless not refused), the responder lives on
    and serves the next request."""
    answer = send_raw(address, data)
    if refused:
        assert answer == b"", "the responder answered a malformed PARAMS record: %r" % answer
    assert proc.poll() is None, "the responder died (exit status %s)" % proc.returncode
    status, _, doc = fastcgi(address, "GET", "/v1/nowhere/")
    assert (status, doc["code"]) == (404, "NOT_FOUND"), doc
    assert proc.poll() is None


@pytest.mark.parametrize("name_len,value_len", [
    (0x7FFFFFFF, 0x7FFFFFFF),  # the CVE's lengths: their int sum overflows
    (0x7FFFFFFF, 11),
    (11, 0x7FFFFFFF),
], ids=["both-max", "name-max", "value-max"])
def test_huge_params_lengths_are_refused(responder, name_len, value_len):
    address, proc = responder
    assert_refused_then_serves(address, proc, huge_params(name_len, value_len))


@pytest.mark.skipif(bool(os.environ.get("ASAN_OPTIONS")),
                    reason="under ASan the failing malloc is itself a sanitizer report")
@pytest.mark.xfail(strict=True, reason=(
    "libfcgi 2.4.2-2+deb12u1 refuses only lengths of exactly 0x7fffffff; "
    "0x7ffffffe twice makes its int sum negative, malloc fails and its "
    "assert aborts the responder (found by tests/fuzz/fuzz_fcgi, "
    "docs/fuzzing.md). Strict: when a fixed libfcgi refuses this too, "
    "the test passes and the xfail must go."))
def test_huge_params_lengths_just_below_the_patched_value(responder):
    address, proc = responder
    assert_refused_then_serves(address, proc, huge_params(0x7FFFFFFE, 0x7FFFFFFE))


def test_a_good_request_after_a_truncated_record(responder):
    """A connection that ends inside a record header (libfcgi takes the
    end of the connection for the end of PARAMS, and the responder may
    answer the request it has): no crash, and the next connection is
    served."""
    address, proc = responder
    begin = record(FCGI_BEGIN_REQUEST, struct.pack("!HB5x", FCGI_RESPONDER, 0))
    assert_refused_then_serves(address, proc, begin + b"\x01\x04\x00", refused=False)
