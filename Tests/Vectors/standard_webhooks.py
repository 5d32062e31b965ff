#!/usr/bin/env python3
"""Fresh Standard Webhooks / Svix vectors from the official libraries.

Prints JSON: {"sign": [...], "verify": [...]}. Sign cases hold a secret, id,
timestamp and body with the signature `standardwebhooks` makes; verify cases
hold a request and whether `svix` (svix-* headers) or `standardwebhooks`
(webhook-* headers) accepts it, with the libraries' clock frozen at `now`.
Random keys (24-64 bytes) and bodies, rotation headers, unknown versions,
corrupted signatures and timestamps at the 300 s tolerance edges.
Usage: standard_webhooks.py SEED COUNT
"""
import base64
import json
import random
import sys
from datetime import datetime, timezone

import standardwebhooks.webhooks as standard
import svix.webhooks as svix

NOW = 1_700_000_000


class FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.fromtimestamp(NOW, tz=timezone.utc)


standard.datetime = FrozenDatetime  # both libraries check the time here


def random_body(rng):
    kind = rng.randrange(3)
    if kind == 0:
        return json.dumps({"type": "email.delivered", "n": rng.randrange(10**9), "text": "héllo ✓ " * rng.randrange(1, 20)})
    if kind == 1:
        return "".join(chr(rng.randrange(32, 127)) for _ in range(rng.randrange(0, 400)))
    return json.dumps([rng.random() for _ in range(rng.randrange(1, 30))])


def main():
    rng = random.Random(int(sys.argv[1]))
    count = int(sys.argv[2])
    signs, verifies = [], []
    for index in range(count):
        key = bytes(rng.randrange(256) for _ in range(rng.randrange(24, 65)))
        secret = "whsec_" + base64.b64encode(key).decode()
        msg_id = f"msg_{index}_{rng.randrange(10**12)}"
        body = random_body(rng)
        timestamp = NOW + rng.choice([0, -299, 299, -300, 300, -301, 301, -3600, 3600, rng.randrange(-250, 250)])
        wh = standard.Webhook(secret)
        signature = wh.sign(msg_id, datetime.fromtimestamp(timestamp, tz=timezone.utc), body)
        signs.append({"secret": secret, "id": msg_id, "timestamp": timestamp, "body": body, "signature": signature})

        header = signature
        variant = rng.randrange(6)
        if variant == 1:  # rotation: an old key's signature first
            header = "v1," + base64.b64encode(bytes(rng.randrange(256) for _ in range(32))).decode() + " " + signature
        elif variant == 2:  # a version this scheme does not define
            header = "v2," + signature[3:]
        elif variant == 3:  # one byte of the signature changed
            raw = bytearray(base64.b64decode(signature[3:]))
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
            header = "v1," + base64.b64encode(bytes(raw)).decode()
        elif variant == 4:  # body changed after signing
            body = body + " "
        scheme = rng.choice(["svix", "standard"])
        prefix = "svix" if scheme == "svix" else "webhook"
        headers = {f"{prefix}-id": msg_id, f"{prefix}-timestamp": str(timestamp), f"{prefix}-signature": header}
        try:
            if scheme == "svix":
                svix.Webhook(secret).verify(body, headers)
            else:  # json_parse=False: the question is the signature, not whether the body is JSON
                wh.verify(body, headers, json_parse=False)
            accepted = True
        except Exception:
            accepted = False
        verifies.append({"scheme": scheme, "secret": secret, "headers": headers, "body": body, "now": NOW, "accepted": accepted})
    json.dump({"sign": signs, "verify": verifies}, sys.stdout)


main()
