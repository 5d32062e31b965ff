#!/usr/bin/env python3
"""Writes Telnyx's expected requests (requests/*.json) from Telnyx's API reference
(POST /v2/messages, one recipient per request), not from the plugin. Run: python3 requests.py"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
import request_fixtures  # noqa: E402

MANIFEST = json.load(open(os.path.join(HERE, "fixtures.json")))
CONFIG = MANIFEST["config"]
HEADERS = {"authorization": "Bearer " + CONFIG["api_key"], "content-type": "application/json",
           "user-agent": "batchsender-telnyx/1.0"}


def send(message, index=0):
    body = {"to": message["to"][0], "from": message.get("from") or CONFIG["from"], "text": message["text"], "type": "SMS"}
    headers = {**HEADERS, "idempotency-key": message["idempotency_key"]}
    return [request_fixtures.request(CONFIG["base_url"] + "/v2/messages", headers, body, [index])]


request_fixtures.write(HERE, MANIFEST["message"], {
    "one-sms": ("one SMS from the send-config's number", [{}], [], lambda m: send(m[0])),
    "own-sender-and-hostile-text": ("an SMS from its own alphanumeric sender, with JSON-hostile Unicode text",
                                    [{"from": "ACME", "text": "Code \"42\" \\ ok — Grüße 🚀\nline two"}], [],
                                    lambda m: send(m[0])),
    "short-code": ("an SMS to a short code", [{"to": ["55555"]}], [], lambda m: send(m[0])),
    "refused-without-recipient": ("an SMS without a recipient is refused and nothing is sent", [{"to": []}], [0], lambda m: []),
    "refused-two-recipients": ("an SMS to two numbers is refused: Telnyx sends to exactly one",
                               [{"to": ["+18445552367", "+18445552368"]}], [0], lambda m: []),
    "refused-without-text": ("an SMS without text is refused", [{"text": ""}], [0], lambda m: []),
})
