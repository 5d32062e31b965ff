#!/usr/bin/env python3
"""Writes the custom webhook plugin's signed status-callback fixtures with the
Standard Webhooks reference library (pip install standardwebhooks), so the
plugin is checked against the reference signer, not against itself.
Run: python3 Sources/Providers/CustomWebhook/Fixtures/generate.py
"""
import json
import os
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the spec's own test key
NOW = 1700000000
webhook = Webhook(SECRET)

CASES = [
    ("delivered", {"type": "delivered", "event_id": "evt_1", "provider_message_id": "idem_0", "recipient": "hooks@example.org",
                   "timestamp": "2023-11-14T22:13:20.000Z"},
     [{"type": "delivered", "event_id": "evt_1", "provider_message_id": "idem_0", "recipient": "hooks@example.org",
       "timestamp": "2023-11-14T22:13:20.000Z"}]),
    ("several", {"events": [
        {"type": "bounced", "bounce_class": "soft", "provider_message_id": "idem_1", "recipient": "a@example.org", "reason": "mailbox full"},
        {"type": "clicked", "provider_message_id": "idem_1", "recipient": "a@example.org", "url": "https://example.org/x",
         "user_agent": "Mozilla/5.0"}]},
     [{"type": "bounced", "bounce_class": "soft", "provider_message_id": "idem_1", "reason": "mailbox full", "event_id": "cb_01#0"},
      {"type": "clicked", "url": "https://example.org/x", "user_agent": "Mozilla/5.0", "event_id": "cb_01#1"}]),
    ("unknown-type", {"type": "teleported", "provider_message_id": "idem_2", "recipient": "b@example.org"},
     [{"type": "unknown", "provider_message_id": "idem_2", "event_id": "cb_02"}]),
    ("failed", {"type": "failed", "provider_message_id": "idem_3", "recipient": "c@example.org", "code": "E42", "reason": "rejected by receiver"},
     [{"type": "failed", "code": "E42", "reason": "rejected by receiver"}]),
]

for index, (name, document, events) in enumerate(CASES):
    body = json.dumps(document, separators=(",", ":"))
    msg_id = f"cb_{index:02d}"
    signature = webhook.sign(msg_id, datetime.fromtimestamp(NOW, tz=timezone.utc), body)
    fixture = {"description": f"status callback: {name}",
               "request": {"method": "POST", "path": "/webhooks/custom/cfg_1",
                           "headers": {"webhook-id": msg_id, "webhook-timestamp": str(NOW), "webhook-signature": signature,
                                       "content-type": "application/json"},
                           "body": body},
               "verify": "ok", "events": events}
    with open(os.path.join(HERE, "webhooks", name + ".json"), "w") as out:
        json.dump(fixture, out, indent=2)
        out.write("\n")

# The spec's own vector (libraries/python/tests/test_webhooks.py test_sign_function), at its own time.
spec = {"description": "Standard Webhooks spec vector, 10 s after signing... but signed in 2021: stale here",
        "request": {"headers": {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
                                "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
                    "body": "{\"test\": 2432232314}"},
        "verify": "signature_expired"}
with open(os.path.join(HERE, "webhooks", "spec-vector-stale.json"), "w") as out:
    json.dump(spec, out, indent=2)
    out.write("\n")
