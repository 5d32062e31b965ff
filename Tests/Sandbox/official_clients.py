"""Drives `batchsender sandbox` with the providers' official Python clients and
checks its webhooks with the libraries receivers use.

usage: official_clients.py BATCHSENDER_BINARY

It starts two sandboxes (one plain, one with every request faulted), with
delivery webhooks pointed at a receiver inside this script, and exits 0 only
when every check passes; each failed check is printed.
"""
import base64
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import boto3
import botocore.config
import botocore.exceptions
import resend
import standardwebhooks
import svix.webhooks
import telnyx
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from nacl.signing import VerifyKey

FAILURES = []


def check(condition, what):
    if not condition:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver(http.server.ThreadingHTTPServer):
    """Collects the sandbox's delivery webhooks: (path, headers, body)."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), ReceiverHandler)


class ReceiverHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        with self.server.lock:
            self.server.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Sandbox:
    def __init__(self, binary, webhook_target, config_text=None, seed=7):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [binary, "sandbox", "--port", str(self.port), "--seed", str(seed), "--log-level", "warning"]
        if webhook_target:
            args += ["--webhook-target", webhook_target]
        if config_text:
            handle = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
            handle.write(config_text)
            handle.close()
            args += ["--config", handle.name]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if "listening" not in line:
            raise SystemExit(f"the sandbox did not start: {line!r}")

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read())

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        check(code == 0, f"the sandbox exits 0 on SIGTERM (got {code})")


def wait_for(predicate, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def resend_checks(sandbox):
    resend.api_key = "re_sandbox_key"
    resend.api_url = sandbox.url
    sent = resend.Emails.send({"from": "Sender <from@example.com>", "to": ["delivered@example.org"],
                               "subject": "hello", "html": "<p>hi</p>", "tags": [{"name": "batch", "value": "b1"}]})
    check(len(sent["id"]) == 36, "resend: Emails.send returns an id")
    first = resend.Emails.send({"from": "from@example.com", "to": "bounced@example.org", "subject": "s", "text": "t"},
                               {"idempotency_key": "key-1"})
    replay = resend.Emails.send({"from": "from@example.com", "to": "bounced@example.org", "subject": "s", "text": "t"},
                                {"idempotency_key": "key-1"})
    check(first["id"] == replay["id"], "resend: an idempotent replay returns the same id")
    try:
        resend.Emails.send({"from": "from@example.com", "to": "other@example.org", "subject": "s", "text": "t"},
                           {"idempotency_key": "key-1"})
        check(False, "resend: the same key with another payload is refused")
    except resend.exceptions.ResendError as error:
        check(error.code == 409 and error.error_type == "invalid_idempotent_request",
              f"resend: same key, other payload → 409 invalid_idempotent_request (got {error.code} {error.error_type})")
    try:
        resend.Emails.send({"from": "not an address", "to": "a@example.org", "subject": "s", "text": "t"})
        check(False, "resend: a bad from is refused")
    except resend.exceptions.ResendError as error:
        check(error.code == 422 and "from" in error.message, f"resend: bad from → 422 naming the field (got {error.code} {error.message})")
    batch = resend.Batch.send([{"from": "from@example.com", "to": f"user{i}@example.org", "subject": "s", "text": "t"}
                               for i in range(100)])
    check(len(batch["data"]) == 100, "resend: Batch.send of 100 returns 100 ids")
    permissive = resend.Batch.send([{"from": "from@example.com", "to": "ok@example.org", "subject": "s", "text": "t"},
                                    {"from": "from@example.com", "to": "broken", "subject": "s", "text": "t"}],
                                   {"batch_validation": "permissive"})
    check(len(permissive["data"]) == 1 and permissive["errors"][0]["index"] == 1,
          "resend: permissive batch sends the valid email and reports index 1")
    try:
        resend.Batch.send([{"from": "from@example.com", "to": "x@example.org", "subject": "s", "text": "t"}] * 101)
        check(False, "resend: a batch of 101 is refused")
    except resend.exceptions.ResendError as error:
        check(error.code == 422, "resend: a batch of 101 → 422")
    resend.api_key = "wrong"
    try:
        resend.Emails.send({"from": "from@example.com", "to": "a@example.org", "subject": "s", "text": "t"})
        check(False, "resend: a key of another format is refused")
    except resend.exceptions.ResendError as error:
        check(error.code == 403 and error.error_type == "invalid_api_key", "resend: bad key → 403 invalid_api_key")
    request = urllib.request.Request(sandbox.url + "/emails", method="POST", data=b"{}",
                                     headers={"Authorization": "Bearer re_x", "User-Agent": ""})
    try:
        urllib.request.urlopen(request)
    except urllib.error.HTTPError as error:
        check(error.code == 403 and b"1010" in error.read(), "resend: no User-Agent → 403 error 1010")
    return sent["id"]


def ses_client(sandbox, secret="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", retries=0):
    return boto3.client("sesv2", region_name="us-east-1", endpoint_url=sandbox.url,
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key=secret,
                        config=botocore.config.Config(retries={"max_attempts": retries + 1, "mode": "standard"}))


def ses_checks(sandbox):
    ses = ses_client(sandbox)
    sent = ses.send_email(FromEmailAddress="from@example.com", Destination={"ToAddresses": ["delivered@example.org"]},
                          Content={"Simple": {"Subject": {"Data": "hi"}, "Body": {"Text": {"Data": "body"}}}},
                          ConfigurationSetName="events", EmailTags=[{"Name": "batch", "Value": "b1"}])
    check(sent["MessageId"].endswith("-000000"), "ses: send_email returns a MessageId")
    bulk = ses.send_bulk_email(
        FromEmailAddress="from@example.com", ConfigurationSetName="events",
        DefaultContent={"Template": {"TemplateName": "welcome", "TemplateData": "{}"}},
        BulkEmailEntries=[{"Destination": {"ToAddresses": [f"user{i}@example.org"]}} for i in range(49)]
        + [{"Destination": {"ToAddresses": ["rejected@example.org"]}}])
    statuses = [entry["Status"] for entry in bulk["BulkEmailEntryResults"]]
    check(statuses == ["SUCCESS"] * 49 + ["MESSAGE_REJECTED"], f"ses: bulk of 50 gives 49 SUCCESS then MESSAGE_REJECTED ({statuses[-2:]})")
    try:
        ses_client(sandbox, secret="not-the-secret").send_email(
            FromEmailAddress="from@example.com", Destination={"ToAddresses": ["a@example.org"]},
            Content={"Simple": {"Subject": {"Data": "hi"}, "Body": {"Text": {"Data": "x"}}}})
        check(False, "ses: a wrong secret is refused")
    except botocore.exceptions.ClientError as error:
        check(error.response["Error"]["Code"] == "SignatureDoesNotMatch", f"ses: wrong secret → SignatureDoesNotMatch ({error.response['Error']['Code']})")
    try:
        ses.send_email(FromEmailAddress="from@example.com", Destination={"ToAddresses": ["rejected@example.org"]},
                       Content={"Simple": {"Subject": {"Data": "hi"}, "Body": {"Text": {"Data": "x"}}}})
        check(False, "ses: a rejected address is refused")
    except botocore.exceptions.ClientError as error:
        check(error.response["Error"]["Code"] == "MessageRejected", "ses: rejected@ → MessageRejected")
    try:
        ses.send_email(FromEmailAddress="from@example.com", Destination={"ToAddresses": ["a@example.org"]}, Content={})
        check(False, "ses: empty Content is refused")
    except botocore.exceptions.ClientError as error:
        check(error.response["Error"]["Code"] == "BadRequestException", "ses: empty Content → BadRequestException")
    return sent["MessageId"]


def telnyx_checks(sandbox):
    client = telnyx.Telnyx(api_key="KEY0123456789", base_url=sandbox.url + "/v2", max_retries=0)
    sent = client.messages.send(from_="+13125550100", to="+13125550111", text="hello")
    check(sent.data.id and sent.data.to[0].status == "queued", "telnyx: messages.send returns a queued message")
    replay_a = client.messages.send(from_="+13125550100", to="+13125550112", text="once", extra_headers={"Idempotency-Key": "k-1"})
    replay_b = client.messages.send(from_="+13125550100", to="+13125550112", text="once", extra_headers={"Idempotency-Key": "k-1"})
    check(replay_a.data.id == replay_b.data.id, "telnyx: an idempotent replay returns the same message")
    try:
        client.messages.send(from_="+13125550100", to="3125550111", text="hello")
        check(False, "telnyx: a number that is not E.164 is refused")
    except telnyx.APIStatusError as error:
        body = error.response.json()
        check(error.status_code == 422 and body["errors"][0]["code"] == "10016" and body["errors"][0]["source"]["pointer"] == "/to",
              f"telnyx: bad to → 422 code 10016 at /to ({body})")
    try:
        telnyx.Telnyx(api_key="nope", base_url=sandbox.url + "/v2", max_retries=0).messages.send(
            from_="+13125550100", to="+13125550111", text="x")
        check(False, "telnyx: a bad key is refused")
    except telnyx.AuthenticationError as error:
        check(error.response.json()["errors"][0]["code"] == "10009", "telnyx: bad key → 401 code 10009")
    return sent.data.id


def receiver_checks(sandbox):
    signer = standardwebhooks.Webhook("whsec_YmF0Y2hzZW5kZXItc2FuZGJveC1yZWNlaXZlci1rZXk=")
    body = json.dumps({"type": "message.sent", "data": {"id": 1}})
    now = int(time.time())
    from datetime import datetime, timezone
    signature = signer.sign("msg_1", datetime.fromtimestamp(now, tz=timezone.utc), body)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(now), "webhook-signature": signature,
               "content-type": "application/json"}
    for _ in range(2):
        request = urllib.request.Request(sandbox.url + "/receiver/default", data=body.encode(), headers=headers, method="POST")
        with urllib.request.urlopen(request) as response:
            check(response.status == 200, "receiver: a signed webhook gets 200")
    forged = dict(headers, **{"webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()})
    try:
        urllib.request.urlopen(urllib.request.Request(sandbox.url + "/receiver/default", data=body.encode(), headers=forged, method="POST"))
        check(False, "receiver: a forged signature is refused")
    except urllib.error.HTTPError as error:
        check(error.code == 401, "receiver: forged signature → 401")


def webhook_checks(sandbox, receiver, resend_id, ses_id, telnyx_id):
    # SNS first asks the endpoint to confirm; confirm through SubscribeURL like a receiver would.
    def confirmation():
        with receiver.lock:
            return [r for r in receiver.received if r[0] == "/webhooks/ses" and r[1].get("x-amz-sns-message-type") == "SubscriptionConfirmation"]
    check(wait_for(lambda: confirmation()), "ses: a SubscriptionConfirmation arrives")
    confirmations = confirmation()
    if confirmations:
        envelope = json.loads(confirmations[0][2])
        verify_sns(envelope)
        with urllib.request.urlopen(envelope["SubscribeURL"]) as response:
            check(b"<SubscriptionArn>" in response.read(), "ses: GET SubscribeURL confirms with a SubscriptionArn")
    check(sandbox.get("/sandbox/stats")["ses_subscription"] == "confirmed", "ses: the subscription is confirmed")
    # Messages sent before confirmation were dropped, as SNS does; send one more now.
    ses_id = ses_client(sandbox).send_email(
        FromEmailAddress="from@example.com", Destination={"ToAddresses": ["delivered@example.org"]},
        Content={"Simple": {"Subject": {"Data": "hi"}, "Body": {"Text": {"Data": "body"}}}},
        ConfigurationSetName="events")["MessageId"]

    def events(path):
        with receiver.lock:
            return [r for r in receiver.received if r[0] == path]

    svix_verifier = svix.webhooks.Webhook("whsec_YmF0Y2hzZW5kZXItc2FuZGJveC1yZXNlbmQta2V5ISE=")
    check(wait_for(lambda: any(json.loads(b)["type"] == "email.delivered" and json.loads(b)["data"]["email_id"] == resend_id
                               for _, _, b in events("/webhooks/resend"))), "resend: email.delivered arrives for the sent id")
    for _, headers, body in events("/webhooks/resend"):
        # Raises WebhookVerificationError on a bad signature.
        svix_verifier.verify(body, {k: headers[k] for k in ("svix-id", "svix-timestamp", "svix-signature")})
        check(json.loads(body)["type"].startswith("email."), "resend: every webhook is an email event")
    types = {json.loads(b)["type"] for _, _, b in events("/webhooks/resend")}
    check({"email.sent", "email.delivered", "email.bounced"} <= types, f"resend: sent, delivered and bounced events ({sorted(types)})")

    check(wait_for(lambda: any(json.loads(json.loads(b).get("Message", "{}")).get("mail", {}).get("messageId") == ses_id
                               and json.loads(json.loads(b)["Message"]).get("eventType") == "Delivery"
                               for _, h, b in events("/webhooks/ses") if h.get("x-amz-sns-message-type") == "Notification")),
          "ses: a Delivery notification arrives for the sent id")
    for _, headers, body in events("/webhooks/ses"):
        envelope = json.loads(body)
        verify_sns(envelope)
        check(headers["x-amz-sns-message-id"] == envelope["MessageId"], "ses: the SNS headers match the body")

    public_key = VerifyKey(base64.b64decode(sandbox.get("/sandbox/keys")["telnyx_public_key"]))
    check(wait_for(lambda: any(json.loads(b)["data"]["event_type"] == "message.finalized"
                               and json.loads(b)["data"]["payload"]["id"] == telnyx_id for _, _, b in events("/webhooks/telnyx"))),
          "telnyx: message.finalized arrives for the sent id")
    for _, headers, body in events("/webhooks/telnyx"):
        signed = headers["telnyx-timestamp"].encode() + b"|" + body
        public_key.verify(signed, base64.b64decode(headers["telnyx-signature-ed25519"]))
    check(len(events("/webhooks/telnyx")) > 0, "telnyx: PyNaCl verifies every webhook")


CERTIFICATES = {}


def verify_sns(envelope):
    url = envelope["SigningCertURL"]
    if url not in CERTIFICATES:
        with urllib.request.urlopen(url) as response:
            CERTIFICATES[url] = x509.load_pem_x509_certificate(response.read()).public_key()
    if envelope["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(f"{k}\n{envelope[k]}\n" for k in keys if k in envelope).encode()
    digest = hashes.SHA1() if envelope["SignatureVersion"] == "1" else hashes.SHA256()
    CERTIFICATES[url].verify(base64.b64decode(envelope["Signature"]), text, padding.PKCS1v15(), digest)


def fault_checks(binary):
    sandbox = Sandbox(binary, None, """
[faults.resend]
rate_limited = 1.0
[faults.ses]
server_error = 1.0
[faults.telnyx]
dropped = 1.0
""")
    try:
        resend.api_key = "re_sandbox_key"
        resend.api_url = sandbox.url
        try:
            resend.Emails.send({"from": "from@example.com", "to": "a@example.org", "subject": "s", "text": "t"})
            check(False, "faults: resend 429")
        except resend.exceptions.ResendError as error:
            check(error.code == 429, "faults: resend answers 429 rate_limit_exceeded")
        try:
            ses_client(sandbox).send_email(FromEmailAddress="from@example.com", Destination={"ToAddresses": ["a@example.org"]},
                                           Content={"Simple": {"Subject": {"Data": "hi"}, "Body": {"Text": {"Data": "x"}}}})
            check(False, "faults: ses 5xx")
        except botocore.exceptions.ClientError as error:
            check(error.response["ResponseMetadata"]["HTTPStatusCode"] >= 500, "faults: ses answers 5xx")
        try:
            telnyx.Telnyx(api_key="KEY1", base_url=sandbox.url + "/v2", max_retries=0).messages.send(
                from_="+13125550100", to="+13125550111", text="x")
            check(False, "faults: telnyx dropped connection")
        except telnyx.APIConnectionError:
            pass
        stats = sandbox.get("/sandbox/stats")
        check(all(stats[p]["faults_injected"] == stats[p]["requests"] > 0 and stats[p]["messages_accepted"] == 0
                  for p in ("resend", "ses", "telnyx")), f"faults: every request faulted and counted, nothing accepted ({stats})")
    finally:
        sandbox.stop()


def main():
    binary = sys.argv[1]
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    sandbox = Sandbox(binary, f"http://127.0.0.1:{receiver.server_address[1]}")
    try:
        resend_id = resend_checks(sandbox)
        ses_id = ses_checks(sandbox)
        telnyx_id = telnyx_checks(sandbox)
        receiver_checks(sandbox)
        webhook_checks(sandbox, receiver, resend_id, ses_id, telnyx_id)
        stats = sandbox.get("/sandbox/stats")
        check(stats["resend"]["messages_accepted"] == 103 and stats["resend"]["idempotent_replays"] == 1,
              f"stats: resend accepted 1 + 1 + 100 + 1 with 1 replay ({stats['resend']})")
        check(stats["ses"]["messages_accepted"] == 51 and stats["ses"]["signature_failures"] == 1,
              f"stats: ses accepted 51 with 1 signature failure ({stats['ses']})")
        check(stats["telnyx"]["idempotent_replays"] == 1, "stats: telnyx counted its replay")
        check(stats["receiver"]["messages_accepted"] == 2 and stats["receiver"]["duplicate_sends"] == 1
              and stats["receiver"]["duplicate_deliveries"] == 1
              and stats["receiver"]["signature_failures"] == 1, f"stats: receiver ({stats['receiver']})")
        check(stats["resend"]["duplicate_deliveries"] == 0 and stats["telnyx"]["duplicate_deliveries"] == 0,
              f"stats: the replays delivered nothing ({stats})")
        check(stats["ses"]["duplicate_deliveries"] == 1 and stats["ses"]["duplicate_sends"] == 0,
              f"stats: ses counted the email sent again after confirmation, in another body ({stats['ses']})")
        check(stats["resend"]["webhooks_acknowledged"] > 0 and stats["ses"]["webhooks_dropped_unconfirmed"] > 0,
              "stats: webhooks acknowledged, and SES notifications before confirmation dropped")
        reset = urllib.request.urlopen(urllib.request.Request(sandbox.url + "/sandbox/reset", method="POST"))
        check(reset.status == 200 and sandbox.get("/sandbox/stats")["resend"]["requests"] == 0, "reset clears the counters")
    finally:
        sandbox.stop()
    fault_checks(binary)
    print(json.dumps({"failures": FAILURES}))
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
