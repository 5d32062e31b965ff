#!/usr/bin/env python3
"""The official Python implementations of the plugins' signature work, timed.

Builds fresh inputs (keys, secrets, realistic bodies, signatures made with the
same libraries) and prints them as one JSON line: per case, what the Swift
benchmark needs to time the plugin on the very same request. Then, for each
line "CASE ITERATIONS" read from stdin, times that many calls and prints the
operations per second, so the benchmark can interleave its rounds with the
plugin's under the same machine load. Usage: reference.py  (driven by batchsender-bench-providers)
  svix                 svix.webhooks.Webhook.verify            (Resend)
  standardwebhooks     standardwebhooks.Webhook.verify         (custom webhook)
  pynacl               nacl VerifyKey.verify of "{ts}|{body}"  (Telnyx)
  botocore             botocore.auth.SigV4Auth.add_auth        (SES)
"""
import base64
import datetime
import json
import os
import sys
import time

import standardwebhooks
import svix.webhooks
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from nacl.signing import SigningKey


def rate(iterations, call):
    start = time.perf_counter()
    for _ in range(iterations):
        call()
    return iterations / (time.perf_counter() - start)


def main():
    now = int(time.time())
    stamp = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc)
    cases = {}
    calls = {}

    resend_body = json.dumps({"type": "email.delivered", "created_at": "2024-01-15T12:00:00.000Z", "data": {
        "email_id": "4ef9a417-02e9-4d39-ad75-9611e0fcc33c", "from": "News <news@example.org>", "to": ["ada@example.org"],
        "subject": "Your weekly digest", "created_at": "2024-01-15T11:59:58.000Z",
        "tags": {"campaign": "weekly"}}}, separators=(",", ":"))
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    hook = svix.webhooks.Webhook(secret)
    svix_headers = {"svix-id": "msg_2W2D3qXLS5fOaPja1GDg7rF2CwB", "svix-timestamp": str(now),
                    "svix-signature": hook.sign("msg_2W2D3qXLS5fOaPja1GDg7rF2CwB", stamp, resend_body)}
    cases["svix"] = {"secret": secret, "headers": svix_headers, "body": resend_body}
    calls["svix"] = lambda: hook.verify(resend_body, svix_headers)

    custom_body = json.dumps({"type": "delivered", "event_id": "evt_1", "provider_message_id": "batch_42:rcp_1",
                              "recipient": "ada@example.org", "timestamp": "2024-01-15T12:00:00.000Z"}, separators=(",", ":"))
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    standard = standardwebhooks.Webhook(secret)
    standard_headers = {"webhook-id": "evt_1", "webhook-timestamp": str(now),
                        "webhook-signature": standard.sign("evt_1", stamp, custom_body)}
    cases["standardwebhooks"] = {"secret": secret, "headers": standard_headers, "body": custom_body}
    calls["standardwebhooks"] = lambda: standard.verify(custom_body, standard_headers)

    telnyx_body = json.dumps({"data": {"event_type": "message.finalized", "id": "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
                                       "occurred_at": "2024-01-15T12:00:00.000+00:00", "payload": {
                                           "id": "40385f64-5717-4562-b3fc-2c963f66afa6", "to": [
                                               {"phone_number": "+18445552367", "status": "delivered"}],
                                           "errors": []}, "record_type": "event"}}, separators=(",", ":"))
    key = SigningKey.generate()
    signed = f"{now}|{telnyx_body}".encode()
    signature = key.sign(signed).signature
    verify_key = key.verify_key
    cases["pynacl"] = {"public_key": base64.b64encode(bytes(verify_key)).decode(),
                       "headers": {"telnyx-signature-ed25519": base64.b64encode(signature).decode(), "telnyx-timestamp": str(now)},
                       "body": telnyx_body}
    calls["pynacl"] = lambda: verify_key.verify(signed, signature)

    ses_body = json.dumps({"FromEmailAddress": "News <news@example.org>", "Destination": {"ToAddresses": ["ada@example.org"]},
                           "Content": {"Simple": {"Subject": {"Data": "Your weekly digest", "Charset": "UTF-8"},
                                                  "Body": {"Text": {"Data": "Hello Ada, here is your digest.", "Charset": "UTF-8"}}}},
                           "ConfigurationSetName": "ConfigSet"}, separators=(",", ":")).encode()
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    signer = SigV4Auth(credentials, "ses", "us-east-1")

    def sign():
        request = AWSRequest(method="POST", url="https://email.us-east-1.amazonaws.com/v2/email/outbound-emails",
                             data=ses_body, headers={"Content-Type": "application/json"})
        signer.add_auth(request)

    cases["botocore"] = {}
    calls["botocore"] = sign
    for call in calls.values():
        call()
    print(json.dumps({"now": now, "cases": cases}), flush=True)
    for line in sys.stdin:
        name, iterations = line.split()
        print(rate(int(iterations), calls[name]), flush=True)


main()
