#!/usr/bin/env python3
"""Fresh Telnyx webhook vectors: Ed25519 signatures made and checked with PyNaCl.

Prints JSON {"verify": [...]}: each case has the account's public key (base64),
the headers, body and clock, and whether it must be accepted: PyNaCl verifies
"{timestamp}|{body}" and the timestamp is within Telnyx's 300 s tolerance
(telnyx-python lib/webhook_verification.py). Random keys and bodies, tampered
bodies, signatures and timestamps, other keys, and the tolerance edges.
Usage: telnyx_ed25519.py SEED COUNT
"""
import base64
import json
import random
import sys

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey

NOW = 1_700_000_000
TOLERANCE = 300


def main():
    rng = random.Random(int(sys.argv[1]))
    cases = []
    for index in range(int(sys.argv[2])):
        key = SigningKey(bytes(rng.randrange(256) for _ in range(32)))
        body = json.dumps({"data": {"event_type": "message.finalized", "id": f"evt-{index}",
                                    "payload": {"text": "héllo ✓ " * rng.randrange(0, 30), "n": rng.random()}}})
        timestamp = NOW + rng.choice([0, -300, 300, -301, 301, -5000, rng.randrange(-290, 290)])
        signature = key.sign(f"{timestamp}|{body}".encode()).signature
        public = key.verify_key
        variant = rng.randrange(5)
        header_timestamp = str(timestamp)
        if variant == 1:
            body = body.replace("finalized", "sent", 1)
        elif variant == 2:
            raw = bytearray(signature)
            raw[rng.randrange(64)] ^= 1 << rng.randrange(8)
            signature = bytes(raw)
        elif variant == 3:
            header_timestamp = str(timestamp + 1)
        elif variant == 4:
            public = SigningKey(bytes(rng.randrange(256) for _ in range(32))).verify_key
        try:
            public.verify(f"{header_timestamp}|{body}".encode(), signature)
            authentic = True
        except BadSignatureError:
            authentic = False
        accepted = authentic and abs(NOW - int(header_timestamp)) <= TOLERANCE
        cases.append({"public_key": base64.b64encode(bytes(public)).decode(),
                      "headers": {"telnyx-signature-ed25519": base64.b64encode(signature).decode(),
                                  "telnyx-timestamp": header_timestamp},
                      "body": body, "now": NOW, "accepted": accepted})
    json.dump({"verify": cases}, sys.stdout)


main()
