"""The Standard Webhooks verifier of webhooks.py against the
specification's published test vector, and its refusals: the dispatcher
tests trust it, so it is checked first (no stack needed)."""

import pytest

import webhooks

V = webhooks.SELF_TEST_VECTOR


def vector_headers(signature=None, msg_id=None, timestamp=None):
    return {"webhook-id": msg_id or V["id"],
            "webhook-timestamp": str(timestamp if timestamp is not None else V["timestamp"]),
            "webhook-signature": signature or V["signature"]}


def test_sign_reproduces_the_published_vector():
    assert webhooks.sign(V["secret"], V["id"], V["timestamp"], V["body"]) == V["signature"]


def test_verify_accepts_the_published_vector():
    msg_id, ts, payload = webhooks.verify(V["secret"], vector_headers(), V["body"],
                                          now=V["timestamp"])
    assert (msg_id, ts, payload) == (V["id"], V["timestamp"], {"test": 2432232314})


def test_header_names_are_case_insensitive():
    headers = {k.upper(): v for k, v in vector_headers().items()}
    webhooks.verify(V["secret"], headers, V["body"], now=V["timestamp"])


def test_one_matching_entry_among_several_is_enough():
    sig = " ".join(["v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
                    "v1a,whatever", V["signature"], "garbage"])
    webhooks.verify(V["secret"], vector_headers(sig), V["body"], now=V["timestamp"])


@pytest.mark.parametrize("case", [
    "tampered body", "other secret", "other id", "other timestamp",
    "wrong version", "flipped bit", "empty signature",
])
def test_refusals(case):
    secret, body, headers = V["secret"], V["body"], vector_headers()
    now = V["timestamp"]
    if case == "tampered body":
        body = b'{"test": 2432232315}'
    elif case == "other secret":
        secret = "whsec_" + "A" * 32
    elif case == "other id":
        headers["webhook-id"] = "msg_other"
    elif case == "other timestamp":
        headers["webhook-timestamp"] = str(V["timestamp"] + 1)
    elif case == "wrong version":
        headers["webhook-signature"] = "v2," + V["signature"].split(",", 1)[1]
    elif case == "flipped bit":
        headers["webhook-signature"] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
    elif case == "empty signature":
        headers["webhook-signature"] = ""
    with pytest.raises(webhooks.WebhookError):
        webhooks.verify(secret, headers, body, now=now)


@pytest.mark.parametrize("offset,ok", [(-300, True), (300, True), (-301, False),
                                       (301, False)])
def test_timestamp_tolerance_is_five_minutes(offset, ok):
    # The message is signed at V["timestamp"]; the receiver's clock is off.
    now = V["timestamp"] - offset
    if ok:
        webhooks.verify(V["secret"], vector_headers(), V["body"], now=now)
    else:
        with pytest.raises(webhooks.WebhookError):
            webhooks.verify(V["secret"], vector_headers(), V["body"], now=now)


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_refused(header):
    headers = vector_headers()
    del headers[header]
    with pytest.raises(webhooks.WebhookError):
        webhooks.verify(V["secret"], headers, V["body"], now=V["timestamp"])


def test_a_bad_secret_is_refused():
    for secret in ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_not base64!"):
        with pytest.raises(webhooks.WebhookError):
            webhooks.verify(secret, vector_headers(), V["body"], now=V["timestamp"])
