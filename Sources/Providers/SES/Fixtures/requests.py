#!/usr/bin/env python3
"""Writes SES's expected requests (requests/*.json) from the SES v2 API reference
(SendEmail: POST /v2/email/outbound-emails; SendBulkEmail: POST /v2/email/outbound-bulk-emails),
not from the plugin. The SigV4 signature itself is checked against botocore by the SDK's
tests, so here authorization may be any value. Run: python3 requests.py"""
import json
import os
import sys
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
import request_fixtures  # noqa: E402

MANIFEST = json.load(open(os.path.join(HERE, "fixtures.json")))
CONFIG = MANIFEST["config"]
API = f"https://email.{CONFIG['region']}.amazonaws.com"
AMZ_DATE = datetime.fromtimestamp(MANIFEST["now_ms"] // 1000, tz=timezone.utc).strftime("%Y%m%dT%H%M%SZ")
HEADERS = {"authorization": "*", "content-type": "application/json", "user-agent": "batchsender-ses/1.0", "x-amz-date": AMZ_DATE}


def destination(message):
    return {name: message[key] for key, name in (("to", "ToAddresses"), ("cc", "CcAddresses"), ("bcc", "BccAddresses"))
            if message.get(key)}


def tags(message, name):
    return {name: [{"Name": k, "Value": v} for k, v in message["tags"].items()]} if message.get("tags") else {}


def send_email(message, index):
    body_parts = {kind: {"Data": message[key], "Charset": "UTF-8"} for key, kind in (("text", "Text"), ("html", "Html")) if message.get(key)}
    body = {"FromEmailAddress": message["from"], "Destination": destination(message),
            **({"ReplyToAddresses": message["reply_to"]} if message.get("reply_to") else {}),
            "Content": {"Simple": {"Subject": {"Data": message["subject"], "Charset": "UTF-8"}, "Body": body_parts}},
            **tags(message, "EmailTags"), "ConfigurationSetName": CONFIG["configuration_set"]}
    return request_fixtures.request(API + "/v2/email/outbound-emails", HEADERS, body, [index])


def bulk_email(messages, carried):
    template = json.loads(messages[carried[0]]["payload"])["template"]
    entries = [{"Destination": destination(messages[i]), **tags(messages[i], "ReplacementTags"),
                "ReplacementEmailContent": {"ReplacementTemplate": {
                    "ReplacementTemplateData": json.dumps(json.loads(messages[i]["payload"])["template_data"], separators=(",", ":"))}}}
               for i in carried]
    body = {"FromEmailAddress": messages[carried[0]]["from"],
            "DefaultContent": {"Template": {"TemplateName": template, "TemplateData": "{}"}},
            "BulkEmailEntries": entries, "ConfigurationSetName": CONFIG["configuration_set"]}
    return request_fixtures.request(API + "/v2/email/outbound-bulk-emails", HEADERS, body, carried)


def template(template_name, **data):
    return json.dumps({"template": template_name, "template_data": data})


request_fixtures.write(HERE, MANIFEST["message"], {
    "one-email": ("one email: SendEmail with simple content, its tags and the configuration set", [{}], [],
                  lambda m: [send_email(m[0], 0)]),
    "cc-bcc-reply-to-and-hostile-text": (
        "an email with several to, cc, bcc, reply-to, html and JSON-hostile Unicode text; another alone: one SendEmail each",
        [{"to": ["a@example.org", "b@example.org"], "cc": ["cy@example.org"], "bcc": ["dee@example.org", "eve@example.org"],
          "reply_to": ["help@example.org"], "subject": "Quotes \" and \\ backslash, Grüße 東京 🚀",
          "html": "<p>Hi &amp; \"welcome\"</p>", "text": "Line one\nline two\ttab"},
         {"to": ["bob@example.org"], "tags": {}}],
        [], lambda m: [send_email(m[0], 0), send_email(m[1], 1)]),
    "template-bulk": ("three emails with one template from one sender go together through SendBulkEmail",
                      [{"to": [f"r{i}@example.org"], "subject": "", "text": "", "payload": template("Welcome", name=f"R{i}", n=i)}
                       for i in range(3)], [], lambda m: [bulk_email(m, [0, 1, 2])]),
    "refused-without-recipient": ("an email without a recipient is refused; the other is sent alone",
                                  [{"to": []}, {"to": ["bob@example.org"]}], [0], lambda m: [send_email(m[1], 1)]),
})
