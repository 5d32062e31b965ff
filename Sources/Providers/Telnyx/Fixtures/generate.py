#!/usr/bin/env python3
"""Writes Telnyx's signed webhook fixtures with PyNaCl (pip install pynacl), the
Ed25519 implementation Telnyx's own examples use, keyed by the seed of the
PROVIDERS.md vector. Run: python3 Sources/Providers/Telnyx/Fixtures/generate.py
"""
import base64
import json
import os

from nacl.signing import SigningKey

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = SigningKey(bytes.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"))
NOW = 1700000000
OCCURRED = "2023-11-14T22:13:20.000+00:00"


def envelope(event_type, event_id, statuses, errors=None):
    payload = {"id": "40385f64-5717-4562-b3fc-2c963f66afa6", "record_type": "message", "direction": "outbound",
               "from": {"phone_number": "+18445550001"},
               "to": [{"phone_number": number, "status": status} for number, status in statuses],
               "text": "Hello", "errors": errors or []}
    return {"data": {"event_type": event_type, "id": event_id, "occurred_at": OCCURRED, "payload": payload,
                     "record_type": "event"}, "meta": {"attempt": 1, "delivered_to": "https://example.com/webhooks"}}


def event(type_, event_id, number, **extra):
    document = {"type": type_, "event_id": event_id, "provider_message_id": "40385f64-5717-4562-b3fc-2c963f66afa6",
                "recipient": number, "timestamp": "2023-11-14T22:13:20.000Z"}
    document.update(extra)
    return document


CASES = [
    ("sent", envelope("message.sent", "evt-sent", [("+18445552367", "sent")]), [event("sent", "evt-sent", "+18445552367")]),
    ("delivered", envelope("message.finalized", "evt-delivered", [("+18445552367", "delivered")]),
     [event("delivered", "evt-delivered", "+18445552367")]),
    ("delivery-failed", envelope("message.finalized", "evt-dlr-failed", [("+18445552367", "delivery_failed")],
                                 [{"code": "40008", "title": "Undeliverable", "detail": "The message could not be delivered"}]),
     [event("bounced", "evt-dlr-failed", "+18445552367", bounce_class="hard", code="40008",
            reason="Undeliverable: The message could not be delivered")]),
    ("sending-failed", envelope("message.finalized", "evt-send-failed", [("+18445552367", "sending_failed")],
                                [{"code": "40002", "title": "Blocked as spam - temporary", "detail": "Message blocked"}]),
     [event("failed", "evt-send-failed", "+18445552367", code="40002")]),
    ("expired", envelope("message.finalized", "evt-expired", [("+18445552367", "expired")],
                         [{"code": "40005", "title": "Message expired during transmission"}]),
     [event("failed", "evt-expired", "+18445552367", code="40005", reason="Message expired during transmission")]),
    ("unconfirmed", envelope("message.finalized", "evt-unconfirmed", [("+18445552367", "delivery_unconfirmed")]),
     [event("sent", "evt-unconfirmed", "+18445552367", reason="delivery_unconfirmed")]),
    ("two-recipients", envelope("message.finalized", "evt-two", [("+18445552367", "delivered"), ("+18445552368", "delivery_failed")]),
     [event("delivered", "evt-two#0", "+18445552367"), event("bounced", "evt-two#1", "+18445552368", bounce_class="hard")]),
    ("received-unknown", envelope("message.received", "evt-inbound", [("+18445550001", "webhook_delivered")]),
     [event("unknown", "evt-inbound", "+18445550001")]),
]

for name, document, events in CASES:
    body = json.dumps(document, separators=(",", ":"))
    signature = base64.b64encode(KEY.sign(f"{NOW}|{body}".encode()).signature).decode()
    fixture = {"description": f"{document['data']['event_type']} ({name})",
               "request": {"method": "POST", "path": "/webhooks/telnyx",
                           "headers": {"telnyx-signature-ed25519": signature, "telnyx-timestamp": str(NOW),
                                       "content-type": "application/json"},
                           "body": body},
               "verify": "ok", "events": events}
    with open(os.path.join(HERE, "webhooks", name + ".json"), "w") as out:
        json.dump(fixture, out, indent=2)
        out.write("\n")

doc_body = ('{"data":{"event_type":"message.finalized","id":"b301ed3f-1490-491f-995f-6e64e69674d4","occurred_at":'
            '"2023-11-14T22:13:20.000+00:00","payload":{"id":"40385f64-5717-4562-b3fc-2c963f66afa6","to":[{"phone_number":'
            '"+18445552367","status":"delivered"}]},"record_type":"event"},"meta":{"attempt":1,"delivered_to":"https://example.com/webhooks"}}')
doc = {"description": "the PROVIDERS.md vector, verbatim",
       "request": {"headers": {"telnyx-timestamp": "1700000000",
                               "telnyx-signature-ed25519": "PLY1e5G0WcbMAZ5chGygaQ7+eJHPyVQizmAOrgPGacJBmVZSFrcpp4UTLvCAA0Ahd8lJn/YueHmPg7LSg3ufAg=="},
                   "body": doc_body},
       "verify": "ok",
       "events": [{"type": "delivered", "event_id": "b301ed3f-1490-491f-995f-6e64e69674d4", "recipient": "+18445552367"}]}
with open(os.path.join(HERE, "webhooks", "doc-vector.json"), "w") as out:
    json.dump(doc, out, indent=2)
    out.write("\n")
shifted = dict(doc, description="the PROVIDERS.md vector with its timestamp header moved by a second", verify="signature_invalid")
shifted["request"] = dict(doc["request"], headers=dict(doc["request"]["headers"], **{"telnyx-timestamp": "1700000001"}))
del shifted["events"]
with open(os.path.join(HERE, "webhooks", "doc-vector-shifted.json"), "w") as out:
    json.dump(shifted, out, indent=2)
    out.write("\n")
print(base64.b64encode(bytes(KEY.verify_key)).decode())
