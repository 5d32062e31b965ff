#!/usr/bin/env python3
"""Writes the echo protocol's signed webhook fixtures (docs/providers/echo.md).

The signature is HMAC-SHA256(secret, "<timestamp>.<body>") in hex, computed
here independently of the plugins so the fixtures check them rather than echo them.
Run from anywhere: python3 Sources/Providers/Echo/Fixtures/generate.py
"""
import hashlib
import hmac
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = b"conformance-secret"
NOW_S = 1700000000


def sign(body, timestamp=NOW_S, secret=SECRET):
    mac = hmac.new(secret, f"{timestamp}.".encode() + body.encode(), hashlib.sha256).hexdigest()
    return {"x-echo-timestamp": str(timestamp), "x-echo-signature": "v1=" + mac}


def event(type_, message_id, recipient, event_id, bounce=None):
    document = {"type": type_, "provider_message_id": message_id, "recipient": recipient, "event_id": event_id,
                "timestamp": "2023-11-14T22:13:20.000Z"}
    if bounce:
        document["bounce_class"] = bounce
    return document


CASES = {
    "delivered": ("one delivered event",
                  "evt_1 delivered echo-idem_0 ada@example.org 1700000000000\n", "ok",
                  [event("delivered", "echo-idem_0", "ada@example.org", "evt_1")]),
    "bounces": ("a hard and a soft bounce in one body",
                "evt_2 bounced echo-idem_1 bob@example.org 1700000000000\n"
                "evt_3 soft_bounced echo-idem_2 cy@example.org 1700000000000\n", "ok",
                [event("bounced", "echo-idem_1", "bob@example.org", "evt_2", "hard"),
                 event("bounced", "echo-idem_2", "cy@example.org", "evt_3", "soft")]),
    "unknown-type": ("an event type the protocol does not define maps to unknown",
                     "evt_4 teleported echo-idem_3 dee@example.org 1700000000000\n", "ok",
                     [event("unknown", "echo-idem_3", "dee@example.org", "evt_4")]),
    "engagement": ("opens and clicks",
                   "evt_5 opened echo-idem_0 ada@example.org 1700000000000\n"
                   "evt_6 clicked echo-idem_0 ada@example.org 1700000000000\n", "ok",
                   [event("opened", "echo-idem_0", "ada@example.org", "evt_5"),
                    event("clicked", "echo-idem_0", "ada@example.org", "evt_6")]),
}

for name, (description, body, verify, events) in CASES.items():
    fixture = {"description": description, "request": {"method": "POST", "path": "/webhooks/echo",
               "headers": sign(body), "body": body}, "verify": verify, "events": events}
    with open(os.path.join(HERE, "webhooks", name + ".json"), "w") as out:
        json.dump(fixture, out, indent=2)
        out.write("\n")

body = "evt_7 delivered echo-idem_0 ada@example.org 1700000000000\n"
signed_elsewhere = {"description": "signed with another secret",
                    "request": {"headers": sign(body, secret=b"someone-else"), "body": body},
                    "verify": "signature_invalid"}
with open(os.path.join(HERE, "webhooks", "other-secret.json"), "w") as out:
    json.dump(signed_elsewhere, out, indent=2)
    out.write("\n")

# Expected requests (requests/*.json): the echo protocol's body written here by json.dumps, which
# escapes " and \ and keeps other characters as they are, like the protocol (no control characters here).
BASE = {"id": "msg", "channel": "email", "from": "News <news@example.org>", "to": ["ada@example.org"],
        "subject": "Your weekly digest", "text": "Hello Ada, here is your digest."}


def echo_message(index, message):
    return {"id": f"msg_{index}", "idempotency_key": f"idem_{index}", "channel": message["channel"],
            "to": message.get("to", []), "cc": message.get("cc", []), "bcc": message.get("bcc", []),
            "subject": message.get("subject", ""), "text": message.get("text", ""), "payload": message.get("payload", "")}


def expected_request(messages, carried):
    body = json.dumps({"messages": [echo_message(i, messages[i]) for i in carried]}, separators=(",", ":"), ensure_ascii=False)
    headers = {"content-type": "application/json", "user-agent": "batchsender-echo/1.0", **sign(body)}
    if len(carried) == 1:
        headers["idempotency-key"] = f"idem_{carried[0]}"
    return {"method": "POST", "url": "https://example.org/echo", "headers": headers, "json": json.loads(body),
            "messages": carried}


REQUESTS = {
    "one-email": ("one email message", [{}], []),
    "batch-with-cc": ("two messages, one with cc and bcc and JSON-hostile Unicode text, in one request",
                      [{"cc": ["cy@example.org"], "bcc": ["dee@example.org", "eve@example.org"],
                        "subject": "Quotes \" and \\ backslash, Grüße 東京 🚀"}, {"to": ["bob@example.org"]}], []),
    "refused-without-recipient": ("a message without a recipient is refused; the other is sent alone",
                                  [{"to": []}, {"to": ["bob@example.org"]}], [0]),
    "sms-and-webhook": ("an SMS and a webhook message together",
                        [{"channel": "sms", "from": "+15550100000", "to": ["+15550100001"], "subject": "", "text": "Hi"},
                         {"channel": "webhook", "from": "", "to": [], "subject": "", "text": "",
                          "payload": "{\"event\":\"signup\",\"user\":7}"}], []),
}

for name, (description, overrides, refused) in REQUESTS.items():
    messages = [{**BASE, **override} for override in overrides]
    carried = [i for i in range(len(messages)) if i not in refused]
    fixture = {"description": description, "messages": overrides, "requests": [expected_request(messages, carried)],
               "refused": refused}
    os.makedirs(os.path.join(HERE, "requests"), exist_ok=True)
    with open(os.path.join(HERE, "requests", name + ".json"), "w") as out:
        json.dump(fixture, out, indent=2, ensure_ascii=False)
        out.write("\n")
