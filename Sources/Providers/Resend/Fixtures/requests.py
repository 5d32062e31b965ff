#!/usr/bin/env python3
"""Writes Resend's expected requests (requests/*.json) from Resend's API reference
(POST /emails, POST /emails/batch), not from the plugin. Run: python3 requests.py"""
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
import request_fixtures  # noqa: E402

MANIFEST = json.load(open(os.path.join(HERE, "fixtures.json")))
BASE = MANIFEST["message"]
API = MANIFEST["config"]["base_url"]
HEADERS = {"authorization": "Bearer " + MANIFEST["config"]["api_key"], "content-type": "application/json",
           "user-agent": "batchsender-resend/1.0"}


def email(message):
    fields = {key: message[key] for key in ("from", "to", "subject", "html", "text") if message.get(key)}
    for ours, theirs in (("cc", "cc"), ("bcc", "bcc"), ("reply_to", "reply_to")):
        if message.get(ours):
            fields[theirs] = message[ours]
    return fields


def send(messages, carried):
    if len(carried) == 1:
        key = messages[carried[0]]["idempotency_key"]
        return [request_fixtures.request(API + "/emails", {**HEADERS, "idempotency-key": key}, email(messages[carried[0]]), carried)]
    keys = "\n".join(messages[i]["idempotency_key"] for i in carried)
    headers = {**HEADERS, "x-batch-validation": "permissive", "idempotency-key": "batch_" + hashlib.sha256(keys.encode()).hexdigest()}
    return [request_fixtures.request(API + "/emails/batch", headers, [email(messages[i]) for i in carried], carried)]


request_fixtures.write(HERE, BASE, {
    "one-email": ("one email: POST /emails with its Idempotency-Key", [{}], [], lambda m: send(m, [0])),
    "batch-with-cc-and-hostile-text": (
        "three emails, one with several to, cc, bcc and reply_to and JSON-hostile Unicode text: one POST /emails/batch",
        [{"to": ["a@example.org", "b@example.org"], "cc": ["cy@example.org"], "bcc": ["dee@example.org", "eve@example.org"],
          "reply_to": ["help@example.org"], "subject": "Quotes \" and \\ backslash, tab\t, Grüße 東京 🚀",
          "text": "Line one\nline two \u0001 </script>"},
         {"to": ["bob@example.org"]}, {"to": ["carol@example.org"], "html": ""}],
        [], lambda m: send(m, [0, 1, 2])),
    "refused-without-recipient": ("an email without a recipient is refused; the other goes alone to POST /emails",
                                  [{"to": []}, {"to": ["bob@example.org"]}], [0], lambda m: send(m, [1])),
    "refused-without-subject": ("an email without a subject is refused; the other two go in one batch",
                                [{"to": ["a@example.org"]}, {"subject": ""}, {"to": ["c@example.org"]}], [1],
                                lambda m: send(m, [0, 2])),
})
