"""Writes a provider's expected-request fixtures (Fixtures/requests/*.json, docs/conformance.md).

Each provider's Fixtures/requests.py builds the request it expects from the provider's API
reference, independently of the plugin, and hands it here. A case is a description, the
message overrides merged over the manifest's base message (ids become msg_i and idem_i), the
indices the plugin must refuse, and a function from the merged messages to the requests.
"""
import json
import os


def merged(base, overrides):
    return [{**base, **override, "id": f"msg_{i}", "idempotency_key": f"idem_{i}"} for i, override in enumerate(overrides)]


def write(here, base, cases):
    folder = os.path.join(here, "requests")
    os.makedirs(folder, exist_ok=True)
    for name, (description, overrides, refused, build) in cases.items():
        messages = merged(base, overrides)
        fixture = {"description": description, "messages": overrides, "requests": build(messages), "refused": refused}
        with open(os.path.join(folder, name + ".json"), "w") as out:
            json.dump(fixture, out, indent=2, ensure_ascii=False)
            out.write("\n")


def request(url, headers, body, carried, method="POST"):
    return {"method": method, "url": url, "headers": headers, "json": body, "messages": carried}
