#!/usr/bin/env python3
"""Writes the SES plugin's SNS webhook fixtures: SES events (the sample records
of AWS's "Examples of event data that Amazon SES publishes to Amazon SNS" and
"Amazon SNS notification examples for Amazon SES" pages) in SNS envelopes,
signed with the `cryptography` library the way SNS signs (PKCS#1 v1.5,
SHA1 for SignatureVersion 1, SHA256 for 2) under a locally generated
certificate that fixtures.json serves at an sns.us-east-1.amazonaws.com URL.
Run: python3 Sources/Providers/SES/Fixtures/generate.py
"""
import base64
import datetime
import json
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-fixture.pem"
MESSAGE_ID = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"


def certificate(key, name):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = datetime.datetime(2023, 1, 1, tzinfo=datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256()))


KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
with open(os.path.join(HERE, "certs", "sns-fixture.pem"), "wb") as out:
    out.write(certificate(KEY, "sns.amazonaws.com").public_bytes(serialization.Encoding.PEM))
# A test-only key, published with the fixtures so tests can sign new messages for this certificate.
with open(os.path.join(HERE, "certs", "sns-fixture.key"), "wb") as out:
    out.write(KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))

NOTIFICATION_KEYS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
CONFIRMATION_KEYS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]


def sign(envelope, version="1", key=KEY):
    keys = NOTIFICATION_KEYS if envelope["Type"] == "Notification" else CONFIRMATION_KEYS
    text = "".join(f"{k}\n{envelope[k]}\n" for k in keys if k in envelope)
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()
    envelope["SignatureVersion"] = version
    envelope["Signature"] = base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), digest)).decode()
    envelope.setdefault("SigningCertURL", CERT_URL)
    return envelope


def notification(sns_id, message, subject=None, topic=TOPIC):
    envelope = {"Type": "Notification", "MessageId": sns_id, "TopicArn": topic,
                "Message": message if isinstance(message, str) else json.dumps(message),
                "Timestamp": "2017-08-05T00:41:02.990Z",
                "UnsubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:9a7d2a0b"}
    if subject is not None:
        envelope["Subject"] = subject
    return envelope


def mail(destination=("recipient@example.com",), tags=True):
    document = {"timestamp": "2017-08-05T00:40:02.012Z", "source": "Sender Name <sender@example.com>",
                "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/sender@example.com",
                "sendingAccountId": "123456789012", "messageId": MESSAGE_ID, "destination": list(destination),
                "headersTruncated": False,
                "headers": [{"name": "From", "value": "Sender Name <sender@example.com>"},
                            {"name": "To", "value": ", ".join(destination)},
                            {"name": "Subject", "value": "Message sent from Amazon SES"},
                            {"name": "MIME-Version", "value": "1.0"}],
                "commonHeaders": {"from": ["Sender Name <sender@example.com>"], "to": list(destination),
                                  "messageId": MESSAGE_ID, "subject": "Message sent from Amazon SES"}}
    if tags:
        document["tags"] = {"ses:configuration-set": ["ConfigSet"], "ses:source-ip": ["192.0.2.0"],
                            "ses:from-domain": ["example.com"], "ses:caller-identity": ["ses_user"]}
    return document


def expected(type_, event_id, recipient, **extra):
    document = {"type": type_, "event_id": event_id, "provider_message_id": MESSAGE_ID, "recipient": recipient}
    document.update(extra)
    return document


CASES = []


def case(name, description, envelope, events, verify="ok", headers=None):
    CASES.append((name, description, envelope, events, verify, headers or {}))


# Event publishing (eventType), one per documented type.
case("bounce-permanent", "Bounce, Permanent/General (event publishing)", sign(notification("sns-bounce", {
    "eventType": "Bounce",
    "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
               "bouncedRecipients": [{"emailAddress": "recipient@example.com", "action": "failed", "status": "5.1.1",
                                      "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
               "timestamp": "2017-08-05T00:41:02.669Z",
               "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
               "reportingMTA": "dsn; mta.example.com"},
    "mail": mail()})),
    [expected("bounced", "sns-bounce", "recipient@example.com", bounce_class="hard", code="5.1.1",
              reason="Permanent: General: smtp; 550 5.1.1 user unknown", timestamp="2017-08-05T00:41:02.669Z")])
case("bounce-transient", "Bounce, Transient/MailboxFull for two recipients, signature version 2", sign(notification("sns-soft", {
    "eventType": "Bounce",
    "bounce": {"bounceType": "Transient", "bounceSubType": "MailboxFull",
               "bouncedRecipients": [{"emailAddress": "a@example.com"}, {"emailAddress": "b@example.com", "status": "4.2.2"}],
               "timestamp": "2017-08-05T00:41:02.669Z", "feedbackId": "0100015example-000000"},
    "mail": mail(("a@example.com", "b@example.com"))}), version="2"),
    [expected("bounced", "sns-soft#0", "a@example.com", bounce_class="soft", code="Transient/MailboxFull"),
     expected("bounced", "sns-soft#1", "b@example.com", bounce_class="soft", code="4.2.2")])
case("complaint", "Complaint with a feedback type", sign(notification("sns-complaint", {
    "eventType": "Complaint",
    "complaint": {"complainedRecipients": [{"emailAddress": "recipient@example.com"}], "timestamp": "2017-08-05T00:41:02.669Z",
                  "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
                  "userAgent": "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.90 Safari/537.36",
                  "complaintFeedbackType": "abuse", "arrivalDate": "2017-08-05T00:41:02.669Z"},
    "mail": mail()})),
    [expected("complained", "sns-complaint", "recipient@example.com", reason="abuse")])
case("delivery", "Delivery", sign(notification("sns-delivery", {
    "eventType": "Delivery",
    "delivery": {"timestamp": "2016-10-19T23:21:04.133Z", "processingTimeMillis": 11893, "recipients": ["recipient@example.com"],
                 "smtpResponse": "250 2.6.0 Message received", "reportingMTA": "mta.example.com"},
    "mail": mail()}), version="2"),
    [expected("delivered", "sns-delivery", "recipient@example.com", reason="250 2.6.0 Message received",
              timestamp="2016-10-19T23:21:04.133Z")])
case("send", "Send", sign(notification("sns-send", {"eventType": "Send", "send": {}, "mail": mail()})),
     [expected("sent", "sns-send", "recipient@example.com", timestamp="2017-08-05T00:40:02.012Z")])
case("reject", "Reject (virus)", sign(notification("sns-reject", {
    "eventType": "Reject", "reject": {"reason": "Bad content"}, "mail": mail()})),
    [expected("rejected", "sns-reject", "recipient@example.com", reason="Bad content")])
case("open", "Open", sign(notification("sns-open", {
    "eventType": "Open",
    "open": {"ipAddress": "192.0.2.1", "timestamp": "2017-08-09T22:00:19.652Z",
             "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X) AppleWebKit/603.3.8 (KHTML, like Gecko) Mobile/14G60"},
    "mail": mail()})),
    [expected("opened", "sns-open", "recipient@example.com", timestamp="2017-08-09T22:00:19.652Z",
              user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X) AppleWebKit/603.3.8 (KHTML, like Gecko) Mobile/14G60")])
case("click", "Click", sign(notification("sns-click", {
    "eventType": "Click",
    "click": {"ipAddress": "192.0.2.1", "link": "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html",
              "linkTags": {"samplekey0": ["samplevalue0"]}, "timestamp": "2017-08-09T23:51:25.570Z",
              "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.90 Safari/537.36"},
    "mail": mail()})),
    [expected("clicked", "sns-click", "recipient@example.com",
              url="http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html")])
case("rendering-failure", "Rendering Failure", sign(notification("sns-render", {
    "eventType": "Rendering Failure",
    "failure": {"errorMessage": "Attribute 'attributeName' is not present in the rendering data.", "templateName": "MyTemplate"},
    "mail": mail()})),
    [expected("failed", "sns-render", "recipient@example.com", code="MyTemplate",
              reason="Attribute 'attributeName' is not present in the rendering data.")])
case("delivery-delay", "DeliveryDelay", sign(notification("sns-delay", {
    "eventType": "DeliveryDelay",
    "deliveryDelay": {"timestamp": "2020-06-16T00:15:40.641Z", "delayType": "TransientCommunicationFailure",
                      "expirationTime": "2020-06-16T00:25:40.914Z",
                      "delayedRecipients": [{"emailAddress": "recipient@example.com", "status": "4.4.1",
                                             "diagnosticCode": "smtp; 421 4.4.1 Unable to connect to remote host"}]},
    "mail": mail()})),
    [expected("deferred", "sns-delay", "recipient@example.com", code="4.4.1",
              reason="TransientCommunicationFailure: smtp; 421 4.4.1 Unable to connect to remote host")])
case("subscription", "Subscription: opted out of every topic", sign(notification("sns-subscription", {
    "eventType": "Subscription",
    "subscription": {"contactList": "ContactListName", "timestamp": "2022-01-12T01:00:17.910Z", "source": "UnsubscribeHeader",
                     "newTopicPreferences": {"unsubscribeAll": True,
                                             "topicSubscriptionStatus": [{"topicName": "ExampleTopicName", "subscriptionStatus": "OptOut"}]},
                     "oldTopicPreferences": {"unsubscribeAll": False,
                                             "topicSubscriptionStatus": [{"topicName": "ExampleTopicName", "subscriptionStatus": "OptOut"}]}},
    "mail": mail()})),
    [expected("unsubscribed", "sns-subscription", "recipient@example.com",
              reason="unsubscribed from all topics of ContactListName")])
case("future-event", "an event type SES may add later maps to unknown", sign(notification("sns-future", {
    "eventType": "HypotheticalFutureEvent", "mail": mail()})),
    [expected("unknown", "sns-future", "recipient@example.com")])

# Identity notifications (notificationType), without tags.
case("notification-bounce", "Bounce notification (identity), Permanent/Suppressed", sign(notification("sns-n-bounce", {
    "notificationType": "Bounce",
    "bounce": {"bounceType": "Permanent", "bounceSubType": "Suppressed", "reportingMTA": "dns; email.example.com",
               "bouncedRecipients": [{"emailAddress": "jane@example.com", "status": "5.1.1", "action": "failed",
                                      "diagnosticCode": "smtp; 550 5.1.1 <jane@example.com>... User"}],
               "timestamp": "2016-01-27T14:59:38.237Z", "feedbackId": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000",
               "remoteMtaIp": "127.0.2.0"},
    "mail": mail(("jane@example.com",), tags=False)}, subject="Amazon SES Email Event Notification")),
    [expected("bounced", "sns-n-bounce", "jane@example.com", bounce_class="hard", code="5.1.1")])
case("notification-complaint", "Complaint notification (identity), no feedback report", sign(notification("sns-n-complaint", {
    "notificationType": "Complaint",
    "complaint": {"userAgent": "AnyCompany Feedback Loop (V0.01)", "complainedRecipients": [{"emailAddress": "richard@example.com"}],
                  "complaintFeedbackType": "abuse", "arrivalDate": "2016-01-27T14:59:38.237Z",
                  "timestamp": "2016-01-27T14:59:38.237Z", "feedbackId": "000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000"},
    "mail": mail(("richard@example.com",), tags=False)})),
    [expected("complained", "sns-n-complaint", "richard@example.com", user_agent="AnyCompany Feedback Loop (V0.01)")])
case("notification-delivery", "Delivery notification (identity)", sign(notification("sns-n-delivery", {
    "notificationType": "Delivery",
    "delivery": {"timestamp": "2016-01-27T14:59:38.237Z", "recipients": ["jane@example.com"], "processingTimeMillis": 546,
                 "reportingMTA": "a8-70.smtp-out.amazonses.com", "smtpResponse": "250 ok:  Message 64111812 accepted",
                 "remoteMtaIp": "127.0.2.0"},
    "mail": mail(("jane@example.com",), tags=False)})),
    [expected("delivered", "sns-n-delivery", "jane@example.com")])

# SNS control messages.
confirmation = sign({"Type": "SubscriptionConfirmation", "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
                     "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
                     "TopicArn": TOPIC,
                     "Message": f"You have chosen to subscribe to the topic {TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
                     "SubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
                     "Timestamp": "2012-04-26T20:45:04.751Z"})
case("subscription-confirmation", "SubscriptionConfirmation: reported with its SubscribeURL", confirmation,
     [{"type": "subscription_confirmation", "event_id": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b", "recipient": "",
       "url": confirmation["SubscribeURL"]}])
unsubscribe = sign(dict(confirmation, Type="UnsubscribeConfirmation", MessageId="47138184-6831-46b8-8f7c-afc488602d7d",
                        Message=f"You have chosen to deactivate subscription {TOPIC}:2bcfbf39.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.",
                        SigningCertURL=CERT_URL), version="2")
case("unsubscribe-confirmation", "UnsubscribeConfirmation: no events", unsubscribe, [])
case("topic-validated", "SES's plain-text topic check: no events",
     sign(notification("sns-validated", "Successfully validated SNS topic for Amazon SES event publishing.")), [])

# Refusals.
case("other-topic", "a topic outside config.sns_topic_arns", sign(notification("sns-other", {"eventType": "Send", "send": {},
     "mail": mail()}, topic="arn:aws:sns:us-east-1:123456789012:someone-elses")), None, verify="forbidden")
evil = notification("sns-evil", {"eventType": "Send", "send": {}, "mail": mail()})
evil["SigningCertURL"] = "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-fixture.pem"
case("evil-cert-url", "a signing certificate URL outside amazonaws.com", sign(evil), None, verify="signature_invalid")
http_cert = notification("sns-http", {"eventType": "Send", "send": {}, "mail": mail()})
http_cert["SigningCertURL"] = CERT_URL.replace("https://", "http://")
case("http-cert-url", "a signing certificate URL over plain http", sign(http_cert), None, verify="signature_invalid")
case("other-key", "signed by a key other than the certificate's",
     sign(notification("sns-forged", {"eventType": "Send", "send": {}, "mail": mail()}), key=OTHER_KEY), None,
     verify="signature_invalid")
for name, url, verify in [
        ("cert-url-china", "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-fixture.pem", "ok"),
        ("cert-url-govcloud", "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-fixture.pem", "ok"),
        ("cert-url-port", "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-fixture.pem", "signature_invalid"),
        ("cert-url-s3", "https://s3.amazonaws.com/SimpleNotificationService-fixture.pem", "signature_invalid"),
        ("cert-url-query", "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-fixture.pem?x=.pem", "signature_invalid")]:
    envelope = notification(f"sns-{name}", {"eventType": "Send", "send": {}, "mail": mail()})
    envelope["SigningCertURL"] = url
    case(name, f"signing certificate URL {url}", sign(envelope), [expected("sent", f"sns-{name}", "recipient@example.com")]
         if verify == "ok" else None, verify=verify)
wrong_version = sign(notification("sns-v3", {"eventType": "Send", "send": {}, "mail": mail()}))
wrong_version["SignatureVersion"] = "3"
case("signature-version-3", "an unknown SignatureVersion", wrong_version, None, verify="signature_invalid")
case("header-mismatch", "x-amz-sns-message-id differs from the body's MessageId",
     sign(notification("sns-mismatch", {"eventType": "Send", "send": {}, "mail": mail()})), None, verify="signature_invalid",
     headers={"x-amz-sns-message-id": "another-id"})

for name, description, envelope, events, verify, extra_headers in CASES:
    body = json.dumps(envelope, indent=2)
    headers = {"x-amz-sns-message-type": envelope["Type"], "x-amz-sns-message-id": envelope["MessageId"],
               "x-amz-sns-topic-arn": envelope["TopicArn"], "content-type": "text/plain; charset=UTF-8",
               "user-agent": "Amazon Simple Notification Service Agent"}
    headers.update(extra_headers)
    fixture = {"description": description,
               "request": {"method": "POST", "path": "/webhooks/ses", "headers": headers, "body": body},
               "verify": verify}
    if events is not None:
        fixture["events"] = events
    with open(os.path.join(HERE, "webhooks", f"{name}.json"), "w") as out:
        json.dump(fixture, out, indent=1, ensure_ascii=False)
        out.write("\n")
