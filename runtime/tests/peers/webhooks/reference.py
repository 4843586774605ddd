"""The providers' own libraries on both sides of wharf's webhook check.

    reference.py cases SCHEME N SEED   signs N random deliveries with the
        provider's library, mutates some (tampered body, another secret,
        stale or future timestamp, a rotated secret list), and prints one
        JSON case per line with the library's own verdict.
    reference.py judge                 reads cases (JSON lines, as wharf
        signed them) on stdin and prints the library's verdict for each,
        one `true`/`false` per line.

Time is the case's `now`: the libraries' clocks are replaced for each case.
"""

import json
import random
import sys
from datetime import datetime, timezone

import slack_sdk.signature as slack_signature
import standardwebhooks.webhooks as standard
import stripe
import stripe._webhook as stripe_webhook
from twilio.request_validator import RequestValidator

NOW = [0]


class _FixedDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.fromtimestamp(NOW[0], tz or timezone.utc)


class _FixedTime:
    @staticmethod
    def time():
        return float(NOW[0])


standard.datetime = _FixedDatetime
stripe_webhook.time = _FixedTime


class _SlackClock(slack_signature.Clock):
    def now(self):
        return float(NOW[0])


class _Form(dict):
    """Form parameters as Django's QueryDict shows them (repeated names
    kept), which Twilio's validator reads through `getlist`."""

    def __init__(self, payload):
        from urllib.parse import parse_qsl

        super().__init__()
        for name, value in parse_qsl(payload, keep_blank_values=True):
            self.setdefault(name, []).append(value)

    def getlist(self, name):
        return self[name]


def b64_secret(rng):
    import base64

    return "whsec_" + base64.b64encode(bytes(rng.getrandbits(8) for _ in range(24))).decode()


def plain_secret(rng):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rng.randint(8, 40)))


def body(rng, scheme):
    if scheme == "twilio":
        keys = rng.sample(["To", "From", "Body", "CallSid", "Digits", "A", "a", "Z"], rng.randint(1, 5))
        pairs = [(k, rng.choice(["+1555", "hi there", "x&y=z", "caf\u00e9", ""])) for k in keys]
        if rng.random() < 0.3:
            pairs.append((keys[0], "second value"))
        from urllib.parse import urlencode

        return urlencode(pairs)
    doc = {"id": "evt_%d" % rng.getrandbits(32), "amount": rng.randint(0, 10**6), "text": rng.choice(["a", "caf\u00e9", "\u2603 snow", ""])}
    return json.dumps(doc, ensure_ascii=rng.random() < 0.5)


def sign(scheme, secret, payload, msg_id, ts, url):
    """The headers the provider's library makes (Slack, Stripe: their
    signing helpers; GitHub is signed by the node script)."""
    if scheme == "standard":
        sig = standard.Webhook(secret).sign(msg_id, datetime.fromtimestamp(ts, timezone.utc), payload)
        return [["webhook-id", msg_id], ["webhook-timestamp", str(ts)], ["webhook-signature", sig]]
    if scheme == "stripe":
        sig = stripe.WebhookSignature._compute_signature("%d.%s" % (ts, payload), secret)
        return [["stripe-signature", "t=%d,v1=%s" % (ts, sig)]]
    if scheme == "slack":
        sig = slack_signature.SignatureVerifier(secret).generate_signature(timestamp=str(ts), body=payload)
        return [["x-slack-request-timestamp", str(ts)], ["x-slack-signature", sig]]
    if scheme == "twilio":
        sig = RequestValidator(secret).compute_signature(url, _Form(payload))
        return [["x-twilio-signature", sig]]
    raise ValueError(scheme)


def header(headers, name):
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def verify_one(scheme, secret, headers, payload, url):
    try:
        if scheme == "standard":
            standard.Webhook(secret).verify(payload, {k.lower(): v for k, v in headers})
            return True
        if scheme == "stripe":
            stripe.WebhookSignature.verify_header(payload, header(headers, "stripe-signature") or "", secret, tolerance=300)
            return True
        if scheme == "slack":
            v = slack_signature.SignatureVerifier(secret, clock=_SlackClock())
            return bool(v.is_valid(body=payload, timestamp=header(headers, "x-slack-request-timestamp"), signature=header(headers, "x-slack-signature")))
        if scheme == "twilio":
            return bool(RequestValidator(secret).validate(url, _Form(payload), header(headers, "x-twilio-signature") or ""))
    except Exception:
        return False
    raise ValueError(scheme)


def verdict(case):
    NOW[0] = case["now"]
    return any(verify_one(case["scheme"], s, case["headers"], case["body"], case.get("url")) for s in case["secrets"])


def cases(scheme, n, seed):
    rng = random.Random(seed)
    make = b64_secret if scheme == "standard" else plain_secret
    for i in range(n):
        now = 1_700_000_000 + rng.randint(0, 10**6)
        secret, other = make(rng), make(rng)
        payload = body(rng, scheme)
        url = "https://example.test/hooks/%d?x=%d" % (i, rng.randint(0, 9)) if scheme == "twilio" else None
        kind = rng.choice(["valid", "tampered", "wrong_secret", "stale", "future", "rotated", "edge"])
        ts = now - rng.randint(0, 250)
        if kind == "stale":
            ts = now - rng.randint(301, 100_000)
        elif kind == "future":
            ts = now + rng.randint(301, 100_000)
        elif kind == "edge":
            ts = now + rng.choice([-301, -300, -299, 299, 300, 301])
        headers = sign(scheme, secret, payload, "msg_%d" % i, ts, url)
        secrets = [secret]
        if kind == "tampered":
            payload = payload.replace("1", "2", 1) if "1" in payload else payload + " "
        elif kind == "wrong_secret":
            secrets = [other]
        elif kind == "rotated":
            secrets = [other, secret]
        case = {"scheme": scheme, "kind": kind, "secrets": secrets, "headers": headers, "body": payload, "url": url, "now": now}
        case["valid"] = verdict(case)
        print(json.dumps(case, ensure_ascii=False))


def main():
    if sys.argv[1] == "cases":
        cases(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "judge":
        for line in sys.stdin:
            if line.strip():
                print("true" if verdict(json.loads(line)) else "false")
    else:
        sys.exit("usage: reference.py cases SCHEME N SEED | judge")


if __name__ == "__main__":
    main()
