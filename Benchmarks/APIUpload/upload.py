"""Uploads N recipients as CSV, in chunks, to one draft batch through the sender API.

Each chunk is generated while it is sent (chunked transfer encoding), so the
client holds no more than a few rows; the figure is the API's, not the client's.
Prints one JSON object: recipients, seconds, recipients_per_second, chunks.
"""
import http.client
import json
import sys
import time

base_host, base_port, key, batch, total, chunk = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])


def rows(start, count):
    yield b"email,name,plan\r\n"
    lines = []
    for i in range(start, start + count):
        lines.append(b"user%d@example.org,User %d,pro\r\n" % (i, i))
        if len(lines) == 2000:
            yield b"".join(lines)
            lines = []
    if lines:
        yield b"".join(lines)


connection = http.client.HTTPConnection(base_host, base_port, timeout=600)
headers = {"Authorization": f"Bearer {key}", "Content-Type": "text/csv"}
started = time.monotonic()
chunks = 0
for start in range(0, total, chunk):
    count = min(chunk, total - start)
    connection.request("POST", f"/api/batches/{batch}/recipients", body=rows(start, count), headers=headers,
                       encode_chunked=True)
    response = connection.getresponse()
    answer = response.read()
    if response.status != 200:
        sys.exit(f"chunk at {start}: HTTP {response.status}: {answer[:500]!r}")
    chunks += 1
elapsed = time.monotonic() - started
print(json.dumps({"recipients": total, "seconds": round(elapsed, 3), "chunks": chunks,
                  "recipients_per_second": round(total / elapsed)}))
