#!/usr/bin/env python3
"""Writes the custom webhook plugin's expected requests (requests/*.json): a Standard Webhooks
POST to the configured URL, signed here with the spec's scheme (HMAC-SHA256 over id.timestamp.body
with the base64 secret), not by the plugin. Run: python3 requests.py"""
import base64
import hashlib
import hmac
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
import request_fixtures  # noqa: E402

MANIFEST = json.load(open(os.path.join(HERE, "fixtures.json")))
CONFIG = MANIFEST["config"]
NOW = MANIFEST["now_ms"] // 1000
KEY = base64.b64decode(CONFIG["secret"].removeprefix("whsec_"))


def send(message):
    body = message["payload"]
    msg_id = message["idempotency_key"]
    signed = f"{msg_id}.{NOW}.{body}".encode()
    signature = "v1," + base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    headers = {"content-type": "application/json", "user-agent": "batchsender-webhook/1.0", "webhook-id": msg_id,
               "webhook-timestamp": str(NOW), "webhook-signature": signature, **json.loads(CONFIG["headers"]),
               **message.get("headers", {})}
    return [{"method": "POST", "url": CONFIG["url"], "headers": headers, "body": body, "messages": [0]}]


def default_payload(message):
    # The spec's recommended shape, when the message brings no payload: signed like any other (checked by the suite).
    data = {"id": message["id"], "to": message["to"], "subject": message["subject"], "text": message["text"]}
    body = {"type": "message.created", "timestamp": "2023-11-14T22:13:25.000Z", "data": data}
    headers = {"content-type": "application/json", "user-agent": "batchsender-webhook/1.0", "webhook-id": message["idempotency_key"],
               "webhook-timestamp": str(NOW), "webhook-signature": "*", **json.loads(CONFIG["headers"])}
    return [request_fixtures.request(CONFIG["url"], headers, body, [0])]


request_fixtures.write(HERE, MANIFEST["message"], {
    "payload-as-given": ("the message's payload is the body, byte for byte, signed", [{}], [], lambda m: send(m[0])),
    "hostile-payload-and-header": ("a payload with JSON-hostile Unicode text and a header of the message's own",
                                   [{"payload": "{\"note\":\"quotes \\\" and \\\\ backslash, Grüße 東京 🚀\",\"n\":1}",
                                     "headers": {"x-trace": "abc-123"}}], [], lambda m: send(m[0])),
    "default-payload": ("a message without a payload gets the recommended shape",
                        [{"payload": "", "subject": "Order shipped", "text": "Your order A-1001 is on its way."}], [],
                        lambda m: default_payload(m[0])),
    "refused-payload-not-object": ("a payload that is not a JSON object is refused and nothing is sent",
                                   [{"payload": "[1,2,3]"}], [0], lambda m: []),
})
