"""An independent Standard Webhooks verifier, written from the
specification (https://www.standardwebhooks.com, "Verifying webhook
signatures"), not from the dispatcher's code:

  - the signed content is "<webhook-id>.<webhook-timestamp>.<body>", the
    body as the raw bytes received;
  - the signature is HMAC-SHA256 of it, keyed with the secret's bytes:
    the base64 decoding of the part after "whsec_";
  - webhook-signature holds one or more space-separated "<version>,<base64>"
    entries; the message is authentic when one "v1" entry matches
    (compared in constant time);
  - webhook-timestamp is integer unix seconds; a receiver refuses one
    more than 5 minutes from its own clock (replay protection).

verify() raises WebhookError on any failure. SELF_TEST_VECTOR is the
specification's published vector (the reference libraries' test
"test_sign_function", standard-webhooks/standard-webhooks,
libraries/python/tests/test_webhooks.py); test_webhooks_selftest.py
checks this module against it before any test trusts it.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time

TOLERANCE_SECONDS = 5 * 60
PREFIX = "whsec_"

SELF_TEST_VECTOR = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "timestamp": 1614265330,
    "body": b'{"test": 2432232314}',
    "signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}


class WebhookError(Exception):
    """The request is not an authentic, fresh Standard Webhooks message."""


def secret_key(secret):
    """The HMAC key of a "whsec_<base64>" secret (bytes)."""
    if not isinstance(secret, str) or not secret.startswith(PREFIX):
        raise WebhookError("secret does not start with whsec_")
    try:
        key = base64.b64decode(secret[len(PREFIX):], validate=True)
    except binascii.Error as e:
        raise WebhookError("secret is not base64: %s" % e) from None
    if not key:
        raise WebhookError("empty secret")
    return key


def sign(secret, msg_id, timestamp, body):
    """The "v1,<base64>" signature of one message (for the self-test and
    for tests that build a reference signature)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    content = ("%s.%d." % (msg_id, int(timestamp))).encode("utf-8") + body
    mac = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def _header(headers, name):
    """One header from a dict (any case) or an email.message-like object."""
    if hasattr(headers, "get_all"):
        values = headers.get_all(name) or []
    else:
        values = [v for k, v in headers.items() if k.lower() == name]
    if len(values) != 1:
        raise WebhookError("%d %s headers (want exactly one)" % (len(values), name))
    return values[0].strip()


def verify(secret, headers, body, now=None, tolerance=TOLERANCE_SECONDS):
    """Checks one received request. headers: a mapping or a message object
    (names compared case-insensitively); body: the raw bytes. Returns
    (msg_id, timestamp, parsed JSON body). Raises WebhookError."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    msg_id = _header(headers, "webhook-id")
    stamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not msg_id:
        raise WebhookError("empty webhook-id")
    if not stamp.isdigit() or len(stamp) > 12:
        raise WebhookError("webhook-timestamp is not integer seconds: %r" % stamp)
    timestamp = int(stamp)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise WebhookError("webhook-timestamp %d is %+d s from now" % (timestamp, timestamp - now))
    expected = sign(secret, msg_id, timestamp, body).split(",", 1)[1]
    matched = False
    for entry in signatures.split(" "):
        version, comma, value = entry.partition(",")
        if not comma:
            continue  # not a "<version>,<signature>" entry: ignored
        if version == "v1" and hmac.compare_digest(value.encode("ascii", "replace"),
                                                   expected.encode("ascii")):
            matched = True
    if not matched:
        raise WebhookError("no v1 signature matches (header: %r)" % signatures)
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise WebhookError("body is not JSON: %s" % e) from None
    return msg_id, timestamp, payload
