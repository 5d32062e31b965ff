"""Eight (or N) JSON recipient uploads of about 31 MiB each, all at once, against `batchsender serve`:
half as `POST /api/batches` with inline recipients, half as `POST /api/batches/{id}/recipients` arrays.
Prints one JSON line: uploads, bytes each, recipients stored, seconds. Exits non-zero if any upload fails.
Usage: json_uploads.py HOST PORT KEY CONFIG_ID [uploads] [mebibytes]"""
import http.client
import json
import sys
import threading
import time

host, port, key, config = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
uploads = int(sys.argv[5]) if len(sys.argv) > 5 else 8
size = int(float(sys.argv[6] if len(sys.argv) > 6 else "31") * (1 << 20))


def recipients(tag):
    """A JSON array of distinct recipients with two variables, just under `size` bytes."""
    parts, total, index = [], 2, 0
    while True:
        entry = json.dumps({"address": f"u{tag}-{index}@example.com", "variables": {"first_name": f"Name {index}", "city": f"City {index % 97}"}})
        if total + len(entry) + 1 + 200 > size:
            break
        parts.append(entry)
        total += len(entry) + 1
        index += 1
    return "[" + ",".join(parts) + "]", index


def call(method, path, body):
    connection = http.client.HTTPConnection(host, port, timeout=600)
    connection.request(method, path, body=body, headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    return response.status, text


payload = {"subject": "Hi {{first_name}}", "text": "Hello {{first_name}} in {{city}}"}
bodies, expected, drafts = [], 0, []
for tag in range(uploads):
    array, count = recipients(tag)
    expected += count
    if tag % 2 == 0:
        body = '{"name":"json bench %d","sendConfigId":"%s","payload":%s,"recipients":%s}' % (tag, config, json.dumps(payload), array)
        bodies.append(("POST", "/api/batches", body.encode()))
    else:
        status, text = call("POST", "/api/batches", json.dumps({"name": f"json bench {tag}", "sendConfigId": config, "payload": payload}))
        assert status == 201, text
        batch = json.loads(text)["id"]
        bodies.append(("POST", f"/api/batches/{batch}/recipients", array.encode()))

results = [None] * uploads


def run(index):
    results[index] = call(*bodies[index])


start = time.time()
threads = [threading.Thread(target=run, args=(i,)) for i in range(uploads)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
seconds = time.time() - start
stored = 0
for status, text in results:
    if status not in (200, 201):
        print(f"an upload failed: {status} {text[:300]}", file=sys.stderr)
        sys.exit(1)
    answer = json.loads(text)
    stored += answer["counts"]["recipients"] if "counts" in answer else answer["accepted"]
if stored != expected:
    print(f"stored {stored} recipients, not {expected}", file=sys.stderr)
    sys.exit(1)
print(json.dumps({"uploads": uploads, "bytes_each": max(len(b[2]) for b in bodies), "recipients": stored, "seconds": round(seconds, 2)}))
