"""A programmable webhook receiver for the dispatcher tests.

A threaded HTTP/1.1 server on 127.0.0.1 (a free port) that records every
request it gets and answers each one as the test scripted:

    with receiver.running() as r:          # or the `receiver` fixture
        r.script(Behaviour(status=500), Behaviour(status=200))
        url = r.url("/hook")
        ...
        r.wait_for(2)                      # two requests arrived
        [req.headers["webhook-id"] for req in r.requests]

Behaviours are consumed in order, one per request; once the script is
used up every request gets the default (200, empty JSON body; change it
with set_default). A script and a default can be bound to one path, so
one receiver can play a slow and a fast endpoint at once; requests to a
path with nothing of its own fall back to the receiver-wide ones.

A Behaviour can answer any status with any headers (Retry-After,
Location, ...) after a delay, stream a huge body (written in chunks while
the client reads, with a Content-Length or chunked, stopping when the
client hangs up), or close the connection without answering.

Python standard library only. Delays end early when the receiver
closes, so a test never waits on a sleeping handler.
"""

import contextlib
import json
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 64 * 1024
BODY_MAX = 16 * 1024 * 1024  # what a request may send us


class Behaviour:
    """How to answer one request.

    status, headers (dict), body (bytes or a JSON-able object), delay
    (seconds before answering), stream (bytes of filler body to send
    instead of body; chunked=True sends them chunked, else with a
    Content-Length), close (drop the connection without any answer,
    after the delay)."""

    def __init__(self, status=200, headers=None, body=None, delay=0.0, stream=0,
                 chunked=False, close=False):
        self.status = status
        self.headers = dict(headers or {})
        self.body = body
        self.delay = delay
        self.stream = stream
        self.chunked = chunked
        self.close = close

    def __repr__(self):
        return "Behaviour(%r)" % {k: v for k, v in vars(self).items() if v}


class Request:
    """One recorded request. headers: lower-case name -> value (repeated
    names joined with ", "); header_list: every (name, value) as sent."""

    def __init__(self, method, path, header_list, body, received_at, behaviour):
        self.method = method
        self.path = path
        self.header_list = header_list
        self.headers = {}
        for name, value in header_list:
            key = name.lower()
            self.headers[key] = (self.headers[key] + ", " + value
                                 if key in self.headers else value)
        self.body = body
        self.time = received_at
        self.behaviour = behaviour
        self.answered_at = None   # when the answer was fully written
        self.bytes_sent = 0       # body bytes written (streams)
        self.outcome = "pending"  # answered | client closed | dropped

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Request %s %s %s %r>" % (self.method, self.path,
                                          self.headers.get("webhook-id"), self.body[:200])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "civic-test-receiver/1"

    def log_message(self, fmt, *args):  # quiet: pytest shows failures
        pass

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > BODY_MAX:
            raise ValueError("request body of %d bytes" % length)
        return self.rfile.read(length)

    def _handle(self):
        rcv = self.server.receiver
        body = self._read_body()
        path = self.path
        behaviour = rcv._next(path)
        req = Request(self.command, path, list(self.headers.items()), body, time.time(),
                      behaviour)
        rcv._record(req)
        if behaviour.delay and rcv._stopping.wait(behaviour.delay):
            behaviour = Behaviour(close=True)  # the receiver is closing
        try:
            if behaviour.close:
                req.outcome = "dropped"
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if behaviour.stream:
                self._stream(req, behaviour)
            else:
                self._answer(behaviour)
            req.outcome = "answered"
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
            req.outcome = "client closed"
            self.close_connection = True
        finally:
            req.answered_at = time.time()
            rcv._notify()

    def _answer(self, b):
        raw = b.body
        if raw is None:
            raw = b"{}"
        elif not isinstance(raw, (bytes, bytearray)):
            raw = json.dumps(raw).encode("utf-8")
        self.send_response(b.status)
        headers = {"Content-Type": "application/json"}
        headers.update(b.headers)
        for name, value in headers.items():
            self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)
        self.wfile.flush()

    def _stream(self, req, b):
        self.send_response(b.status)
        self.send_header("Content-Type", "application/octet-stream")
        for name, value in b.headers.items():
            self.send_header(name, str(value))
        if b.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(b.stream))
        self.end_headers()
        chunk = b"x" * CHUNK
        left = b.stream
        # The client may stop reading without closing: a stalled write
        # must not keep this thread forever.
        self.connection.settimeout(30)
        while left > 0 and not self.server.receiver._stopping.is_set():
            piece = chunk[:min(CHUNK, left)]
            if b.chunked:
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            else:
                self.wfile.write(piece)
            left -= len(piece)
            req.bytes_sent += len(piece)
        if b.chunked and left == 0:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    do_POST = do_GET = do_PUT = do_HEAD = do_DELETE = do_PATCH = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # two dispatchers open ~128 connections at once
    allow_reuse_address = True


class Receiver:
    """See the module docstring. Start with start() (or running()),
    stop with close()."""

    def __init__(self, port=0):
        """port: 0 for a free one, or a given one (a receiver back on
        the port of one that was closed)."""
        self.requests = []
        self._lock = threading.Condition()
        self._scripts = {None: deque()}
        self._defaults = {None: Behaviour()}
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.receiver = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def close(self):
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def url(self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    # ------------------------------------------------------------ script

    def script(self, *behaviours, path=None):
        """Appends behaviours to the queue of path (None: receiver-wide)."""
        with self._lock:
            self._scripts.setdefault(path, deque()).extend(behaviours)

    def set_default(self, behaviour, path=None):
        with self._lock:
            self._defaults[path] = behaviour

    def _next(self, path):
        with self._lock:
            for key in (path, None):
                queue = self._scripts.get(key)
                if queue:
                    return queue.popleft()
                if key in self._defaults:
                    return self._defaults[key]
            return self._defaults[None]

    # ---------------------------------------------------------- recording

    def _record(self, req):
        with self._lock:
            self.requests.append(req)
            self._lock.notify_all()

    def _notify(self):
        with self._lock:
            self._lock.notify_all()

    def snapshot(self, path=None):
        """The requests so far (to path only, if given), oldest first."""
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(self, n, timeout=30.0, path=None):
        """Waits until n requests (to path, if given) arrived; returns them
        all. Raises AssertionError on timeout."""
        deadline = time.time() + timeout
        with self._lock:
            while True:
                got = [r for r in self.requests if path is None or r.path == path]
                if len(got) >= n:
                    return got
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("receiver got %d of %d requests in %.0f s: %r"
                                         % (len(got), n, timeout, got[-5:]))
                self._lock.wait(min(left, 0.5))

    def by_webhook_id(self):
        """{webhook-id: [requests]} of everything received."""
        out = {}
        for r in self.snapshot():
            out.setdefault(r.headers.get("webhook-id"), []).append(r)
        return out


@contextlib.contextmanager
def running():
    """A started Receiver, closed on exit."""
    r = Receiver().start()
    try:
        yield r
    finally:
        r.close()
