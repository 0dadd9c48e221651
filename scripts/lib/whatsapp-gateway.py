#!/usr/bin/python3
"""A development WhatsApp gateway: the HTTP contract of
docs/whatsapp-gateway.md, without WhatsApp.

    POST /v1/groups/join   {"invite_link"}      -> 200 {"group_id","group_name"}
    POST /v1/messages      {"group_id","text"}  -> 200 {"message_id"}
    GET  /healthz                               -> 200 {"ok":true} (no token)

Every /v1/ call needs "Authorization: Bearer <token>" with the token of
--token-file (else 401). Sent messages are appended, one JSON object a
line, to DATA_DIR/messages.jsonl; joined groups to DATA_DIR/groups.jsonl.

The invite code (the part after https://chat.whatsapp.com/) chooses the
outcome, so tests can reach every branch of the client:
    Expired...  422 {"error": "..."}     Broken...  500
    Denied...   401                       Garbage... 200 with a non-JSON body
    Huge...     200 with a 100 KiB body   Slow...    answers after --slow-seconds
    anything else: 200, group_id derived from the code (same code, same id).
A message to a group never joined is a 422.

Python 3 standard library only. Bound to 127.0.0.1. scripts/lib/common.sh
starts and stops it (civic_gateway_start / civic_gateway_stop).
"""

import argparse
import hashlib
import hmac
import json
import os
import re
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from procname import set_process_name

INVITE_RE = re.compile(r"^https://chat\.whatsapp\.com/([A-Za-z0-9]{16,32})$")
BODY_MAX = 64 * 1024


def group_id_for(code):
    """A WhatsApp-looking group id, the same for the same invite code."""
    digits = int(hashlib.sha256(code.encode()).hexdigest(), 16) % 10**14
    return "1203%014d@g.us" % digits


class Gateway:
    def __init__(self, token, data_dir, slow_seconds):
        self.token = token
        self.data_dir = data_dir
        self.slow_seconds = slow_seconds
        self.lock = threading.Lock()
        self.groups = {}
        os.makedirs(data_dir, exist_ok=True)
        self._load_groups()

    def _path(self, name):
        return os.path.join(self.data_dir, name)

    def _load_groups(self):
        try:
            with open(self._path("groups.jsonl"), encoding="utf-8") as f:
                for line in f:
                    g = json.loads(line)
                    self.groups[g["group_id"]] = g["group_name"]
        except FileNotFoundError:
            pass

    def _append(self, name, obj):
        with self.lock, open(self._path(name), "a", encoding="utf-8") as f:
            f.write(json.dumps(obj, sort_keys=True) + "\n")

    def join(self, body):
        """-> (status, payload); payload None means a raw body follows."""
        m = INVITE_RE.match(str(body.get("invite_link", "")))
        if not m:
            return 422, {"error": "invite_link is not a WhatsApp invite link"}
        code = m.group(1)
        if code.startswith("Expired"):
            return 422, {"error": "The invite link is invalid or has expired."}
        if code.startswith("Broken"):
            return 500, {"error": "gateway failure (simulated)"}
        if code.startswith("Denied"):
            return 401, {"error": "unauthorised (simulated)"}
        if code.startswith("Garbage"):
            return 200, b"<html>not json</html>"
        if code.startswith("Huge"):
            return 200, b"{\"pad\":\"" + b"x" * (100 * 1024) + b"\"}"
        if code.startswith("Slow"):
            time.sleep(self.slow_seconds)
        gid = group_id_for(code)
        name = "Group " + code[:8]
        with self.lock:
            known = gid in self.groups
            self.groups[gid] = name
        if not known:
            self._append("groups.jsonl", {"group_id": gid, "group_name": name})
        return 200, {"group_id": gid, "group_name": name}

    def message(self, body):
        gid, text = body.get("group_id"), body.get("text")
        if not isinstance(gid, str) or not isinstance(text, str) or not text:
            return 422, {"error": "group_id and text are required strings"}
        with self.lock:
            known = gid in self.groups
        if not known:
            return 422, {"error": "unknown group"}
        mid = "wamid." + uuid.uuid4().hex
        self._append("messages.jsonl", {"message_id": mid, "group_id": gid,
                                        "text": text, "at": time.time()})
        return 200, {"message_id": mid}


class Handler(BaseHTTPRequestHandler):
    server_version = "civic-whatsapp-dev/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # to the log file, never the token
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def _send(self, status, payload):
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _authorised(self):
        got = self.headers.get("Authorization", "")
        want = "Bearer " + self.server.gateway.token
        return hmac.compare_digest(got.encode(), want.encode())

    def do_GET(self):
        if self.path == "/healthz":
            self._send(200, {"ok": True})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self):
        routes = {"/v1/groups/join": Gateway.join, "/v1/messages": Gateway.message}
        length = self.headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > BODY_MAX:
            self._send(413 if length.isdigit() else 411, {"error": "bad length"})
            return
        raw = self.rfile.read(int(length))
        if self.path not in routes:
            self._send(404, {"error": "not found"})
            return
        if not self._authorised():
            self._send(401, {"error": "bad or missing bearer token"})
            return
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            self._send(400, {"error": "body must be a JSON object"})
            return
        self._send(*routes[self.path](self.server.gateway, body))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--pid-file", required=True)
    ap.add_argument("--slow-seconds", type=float, default=10.0)
    args = ap.parse_args()

    with open(args.token_file, encoding="ascii") as f:
        token = f.read()
    token = token[:-1] if token.endswith("\n") else token
    if len(token) < 16:
        sys.exit("whatsapp-gateway: %s holds fewer than 16 characters" % args.token_file)

    set_process_name("civic-whatsapp")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.gateway = Gateway(token, args.data_dir, args.slow_seconds)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # The pid file appears once the port is bound: a start script that
    # sees it can talk to us.
    tmp = args.pid_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.replace(tmp, args.pid_file)
    sys.stderr.write("whatsapp-gateway: listening on 127.0.0.1:%d\n" % args.port)
    sys.stderr.flush()
    # The pid file stays: civic_stop_pid waits on it until this process is
    # gone, then removes it.
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
