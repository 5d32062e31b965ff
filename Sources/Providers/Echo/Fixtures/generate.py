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
