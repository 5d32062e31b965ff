#!/usr/bin/env python3
"""Writes Resend's signed webhook fixtures with Svix's own library (pip install svix),
so the plugin is checked against the reference signer, not against itself.
Payloads follow Resend's docs and the real samples in django-anymail's tests.
Run: python3 Sources/Providers/Resend/Fixtures/generate.py
"""
import json
import os
from datetime import datetime, timezone

from svix.webhooks import Webhook

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = "whsec_cHJvdmlkZXItc3BlYy10ZXN0LXNlY3JldC0zMmJ5dGU="  # PROVIDERS.md §1.2
NOW = 1700000000
EMAIL_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
CREATED = "2023-11-14T22:13:20.000Z"
BASE = {"email_id": EMAIL_ID, "created_at": "2023-11-14T22:13:19.000Z", "from": "Sender <from@example.com>",
        "subject": "Sending test", "to": ["to@example.org"]}


def expected(type_, **extra):
    event = {"type": type_, "provider_message_id": EMAIL_ID, "recipient": "to@example.org",
             "timestamp": "2023-11-14T22:13:20.000Z"}
    event.update(extra)
    return event


CASES = [
    ("sent", "email.sent", {}, [expected("sent")]),
    ("delivered", "email.delivered", {}, [expected("delivered")]),
    ("delivery-delayed", "email.delivery_delayed", {}, [expected("deferred")]),
    ("complained", "email.complained", {}, [expected("complained")]),
    ("opened", "email.opened", {}, [expected("opened")]),
    ("clicked", "email.clicked",
     {"click": {"ipAddress": "122.115.53.11", "link": "https://resend.com", "timestamp": "2024-11-24T05:00:57.163Z",
                "userAgent": "Mozilla/5.0 (Macintosh)"}},
     [expected("clicked", url="https://resend.com", user_agent="Mozilla/5.0 (Macintosh)")]),
    ("bounced-permanent", "email.bounced",
     {"bounce": {"type": "Permanent", "subType": "General", "message": "The recipient's email address is on the suppression list",
                 "diagnosticCode": ["smtp; 550 5.1.1 user unknown"]}},
     [expected("bounced", bounce_class="hard", code="smtp; 550 5.1.1 user unknown")]),
    ("bounced-transient", "email.bounced",
     {"bounce": {"type": "Transient", "subType": "MailboxFull", "message": "Mailbox full", "diagnosticCode": "smtp; 452 4.2.2 full"}},
     [expected("bounced", bounce_class="soft", reason="Mailbox full", code="smtp; 452 4.2.2 full")]),
    ("bounced-2023-format", "email.bounced",
     {"bounce": {"message": "The recipient's email provider sent a hard bounce message, but didn't specify the reason for the hard bounce."}},
     [expected("bounced", bounce_class="hard")]),
    ("bounced-suppressed", "email.bounced",
     {"bounce": {"type": "Permanent", "subType": "Suppressed", "message": "on the suppression list"}},
     [expected("rejected")]),
    ("failed", "email.failed", {"failed": {"reason": "reached_daily_quota"}},
     [expected("failed", reason="reached_daily_quota")]),
    ("suppressed", "email.suppressed",
     {"suppressed": {"type": "OnAccountSuppressionList", "reason": "previous_bounce", "message": "previously bounced"}},
     [expected("rejected", reason="previously bounced", code="previous_bounce")]),
    ("scheduled", "email.scheduled", {}, [expected("queued")]),
    ("received-unknown", "email.received", {}, [expected("unknown")]),
    ("domain-unknown", "domain.updated", {}, [{"type": "unknown", "provider_message_id": "", "recipient": ""}]),
]

webhook = Webhook(SECRET)
for index, (name, type_, extra, events) in enumerate(CASES):
    data = dict(BASE) if not type_.startswith("domain.") else {"id": "d91cd9bd", "name": "example.com"}
    data.update(extra)
    body = json.dumps({"type": type_, "created_at": CREATED, "data": data}, separators=(",", ":"))
    msg_id = f"msg_fixture_{index:02d}"
    signature = webhook.sign(msg_id, datetime.fromtimestamp(NOW, tz=timezone.utc), body)
    for event in events:
        event["event_id"] = msg_id
    fixture = {"description": f"{type_} ({name})",
               "request": {"method": "POST", "path": "/webhooks/resend",
                           "headers": {"svix-id": msg_id, "svix-timestamp": str(NOW), "svix-signature": signature,
                                       "content-type": "application/json"},
                           "body": body},
               "verify": "ok", "events": events}
    with open(os.path.join(HERE, "webhooks", name + ".json"), "w") as out:
        json.dump(fixture, out, indent=2)
        out.write("\n")

# The vector of PROVIDERS.md §1.2, verbatim, with a rotated-out signature first.
doc_body = ('{"type":"email.delivered","created_at":"2023-11-14T22:13:20.000Z","data":{"email_id":'
            '"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","to":["to@example.org"]}}')
vectors = {
    "doc-vector-rotation": ("PROVIDERS.md vector, two v1 entries during rotation",
                            "v1,bm90LWEtcmVhbC1zaWduYXR1cmU= v1,WCm4fKn514tfH8Txuc4Q6bG7qQM2oAiaLR8Q7sf49gs=", doc_body, "ok"),
    "doc-vector-tampered": ("PROVIDERS.md vector with delivered changed to bounced",
                            "v1,WCm4fKn514tfH8Txuc4Q6bG7qQM2oAiaLR8Q7sf49gs=", doc_body.replace("delivered", "bounced"),
                            "signature_invalid"),
    "only-v2-entries": ("only signature versions this plugin does not know", "v2,WCm4fKn514tfH8Txuc4Q6bG7qQM2oAiaLR8Q7sf49gs=",
                        doc_body, "signature_missing"),
}
for name, (description, header, body, verify) in vectors.items():
    fixture = {"description": description,
               "request": {"headers": {"svix-id": "msg_2W2D3qXLS5fOaPja1GDg7rF2CwB", "svix-timestamp": str(NOW),
                                       "svix-signature": header}, "body": body},
               "verify": verify}
    if verify == "ok":
        fixture["events"] = [{"type": "delivered", "provider_message_id": EMAIL_ID, "recipient": "to@example.org",
                              "event_id": "msg_2W2D3qXLS5fOaPja1GDg7rF2CwB"}]
    with open(os.path.join(HERE, "webhooks", name + ".json"), "w") as out:
        json.dump(fixture, out, indent=2)
        out.write("\n")
