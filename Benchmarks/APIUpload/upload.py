"""Uploads N recipients as CSV, in chunks, to one draft batch through the sender API.

Every chunk's CSV is made before the clock starts, so that the figure is the
API's and not this client's; the server still receives each chunk as a stream
of TCP segments and never holds it whole.
With a concurrency above 1, that many connections each send the next chunk
not yet taken, as a client uploading a large list in parallel would.
Prints one JSON object: recipients, seconds, recipients_per_second, chunks, concurrency.
"""
import http.client
import itertools
import json
import sys
import threading
import time

host, port, key, batch = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
total, chunk, concurrency = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]) if len(sys.argv) > 7 else 1


def csv(start, count):
    return b"email,name,plan\r\n" + b"".join(b"user%d@example.org,User %d,pro\r\n" % (i, i) for i in range(start, start + count))


bodies = {start: csv(start, min(chunk, total - start)) for start in range(0, total, chunk)}
starts = iter(sorted(bodies))
take = threading.Lock()
failures = []
sent = []


def uploader():
    connection = http.client.HTTPConnection(host, port, timeout=600)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "text/csv"}
    while not failures:
        with take:
            start = next(starts, None)
        if start is None:
            return
        connection.request("POST", f"/api/batches/{batch}/recipients", body=bodies[start], headers=headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200:
            failures.append(f"chunk at {start}: HTTP {response.status}: {answer[:500]!r}")
            return
        sent.append(json.loads(answer)["accepted"])


started = time.monotonic()
threads = [threading.Thread(target=uploader) for _ in range(concurrency)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
elapsed = time.monotonic() - started
if failures:
    sys.exit(failures[0])
print(json.dumps({"recipients": sum(sent), "seconds": round(elapsed, 3), "chunks": len(sent), "concurrency": concurrency,
                  "recipients_per_second": round(sum(sent) / elapsed)}))
