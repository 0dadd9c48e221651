#!/usr/bin/python3
"""A development SMTP server: every message it accepts becomes one file.

civic-dispatch sends its mails (alerts, destination confirmations,
console verification and password-reset mails, notices) over SMTP; in
development and in the tests they come here instead of to real people.
Each accepted message is written to DATA_DIR as

    <UTC time>.<nanoseconds>-<counter>.eml   e.g. 20261123T091512.123456789-000042.eml

(names sort in arrival order) atomically: written under a dot-name that
is not .eml, then renamed, so a reader never sees half a message. The
file is the message exactly as received, with the SMTP envelope
prepended as headers, one per line, which mail readers ignore:

    X-Civic-Envelope-From: <MAIL FROM address>
    X-Civic-Envelope-To: <one RCPT TO address>    (one header per recipient)

The recipient's local part chooses the outcome, so tests can reach the
sender's failure branches:
    reject-...    550 at RCPT TO (permanent failure, nothing stored)
    tempfail-...  451 at RCPT TO, every time (temporary failure)
    flaky-...     451 at RCPT TO the first time this address is seen,
                  accepted afterwards (a temporary failure that heals)
    anything else: accepted.

No authentication, no TLS (the stack's [smtp] says starttls = no).
Bound to 127.0.0.1 only. scripts/lib/common.sh starts and stops it
(civic_mail_start / civic_mail_stop); it names its process civic-mail.
Debian's python3-aiosmtpd; otherwise the standard library.
"""

import argparse
import asyncio
import itertools
import os
import signal
import sys
import threading
import time

from aiosmtpd.smtp import SMTP

from procname import set_process_name

# A dispatcher mail is a few tens of KiB; anything near this is a bug.
DATA_MAX = 10 * 1024 * 1024


class Catcher:
    """The aiosmtpd handler: RCPT outcomes and the spool."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.counter = itertools.count(1)
        self.lock = threading.Lock()
        self.flaky_seen = set()
        os.makedirs(data_dir, mode=0o700, exist_ok=True)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.rpartition("@")[0].lower()
        if local.startswith("reject-"):
            return "550 5.1.1 Mailbox unavailable (simulated: reject-)"
        if local.startswith("tempfail-"):
            return "451 4.3.0 Try again later (simulated: tempfail-)"
        if local.startswith("flaky-") and address.lower() not in self.flaky_seen:
            self.flaky_seen.add(address.lower())
            return "451 4.3.0 Try again later (simulated: flaky-, first time)"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if not envelope.rcpt_tos:
            return "554 5.5.1 No valid recipients"
        name = self.store(envelope.mail_from, envelope.rcpt_tos,
                          envelope.original_content or envelope.content)
        # Addresses and the file name only: a body may hold a link token.
        sys.stderr.write("%s mail-catcher: %s from <%s> to %s (%d bytes)\n" % (
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), name,
            envelope.mail_from, ", ".join("<%s>" % r for r in envelope.rcpt_tos),
            len(envelope.original_content or b"")))
        sys.stderr.flush()
        return "250 2.0.0 OK: queued as %s" % name

    def store(self, mail_from, rcpt_tos, content):
        """Writes one .eml file atomically; returns its name."""
        ns = time.time_ns()
        with self.lock:
            n = next(self.counter)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(ns // 10**9))
        name = "%s.%09d-%06d.eml" % (stamp, ns % 10**9, n)
        head = "X-Civic-Envelope-From: %s\r\n" % mail_from
        head += "".join("X-Civic-Envelope-To: %s\r\n" % r for r in rcpt_tos)
        tmp = os.path.join(self.data_dir, ".%s.tmp" % name)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            # The SMTP envelope holds no CR/LF (the parser refuses them),
            # and non-ASCII addresses only come with SMTPUTF8.
            f.write(head.encode("utf-8"))
            f.write(content)
        os.replace(tmp, os.path.join(self.data_dir, name))
        return name


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1",
                    help="must be 127.0.0.1 (a catcher open to others is an open relay)")
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--pid-file", required=True)
    args = ap.parse_args()
    if args.host != "127.0.0.1":
        sys.exit("mail-catcher: refusing to listen on %s: only 127.0.0.1" % args.host)

    set_process_name("civic-mail")
    catcher = Catcher(args.data_dir)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return SMTP(catcher, hostname="civic-mail.localhost", ident="civic-mail-catcher",
                    data_size_limit=DATA_MAX, enable_SMTPUTF8=True, decode_data=False,
                    loop=loop)

    server = loop.run_until_complete(
        loop.create_server(factory, host="127.0.0.1", port=args.port, reuse_address=True))

    def stop():
        server.close()
        loop.stop()

    loop.add_signal_handler(signal.SIGTERM, stop)
    loop.add_signal_handler(signal.SIGINT, stop)
    # The pid file appears once the port is bound: a start script that
    # sees it can talk to us. It stays: civic_stop_pid waits on it until
    # this process is gone, then removes it.
    tmp = args.pid_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.replace(tmp, args.pid_file)
    sys.stderr.write("mail-catcher: listening on 127.0.0.1:%d, mail to %s\n" % (
        args.port, args.data_dir))
    sys.stderr.flush()
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()


if __name__ == "__main__":
    main()
