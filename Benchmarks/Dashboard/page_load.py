"""Times the dashboard's pages as a signed-in browser loads them: one keep-alive connection, the
session cookie, each page fetched whole (status 200 checked) `rounds` times after a warm-up.
Prints one line per page (median, p95, max in ms) and the slowest median against the target.
Usage: page_load.py BASE_URL EMAIL PASSWORD BATCH_ID [rounds]
"""
import http.client
import re
import statistics
import sys
import time
import urllib.parse

base, email, password, batch = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 30
target = urllib.parse.urlparse(base)
connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
cookies = {}


def request(method, path, body=None, headers=None):
    headers = dict(headers or {})
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            cookies[name] = rest.split(";", 1)[0]
    return response.status, data


status, page = request("GET", "/login")
token = re.search(rb'name="_csrf" value="([^"]+)"', page).group(1).decode()
form = urllib.parse.urlencode({"_csrf": token, "email": email, "password": password})
status, _ = request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
if status != 303 or "bs_session" not in cookies:
    sys.exit(f"sign-in failed: {status}")

# Positions come from one sequence across batches: take a real one from the batch page's recipients table.
status, page = request("GET", f"/batches/{batch}")
position = re.search(rb'/recipients/(\d+)"', page).group(1).decode()
pages = [
    ("batches list", "/batches"),
    ("batch page", f"/batches/{batch}"),
    ("batch page, filtered", f"/batches/{batch}?status=queued"),
    ("live counters", f"/batches/{batch}/live"),
    ("recipient history", f"/batches/{batch}/recipients/{position}"),
    ("analytics, 30 days", "/analytics?days=30"),
    ("send-configs", "/send-configs"),
    ("API keys", "/api-keys"),
    ("suppressions", "/suppressions"),
]
print(f"{'page':<24} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}   ({rounds} loads each, one connection)")
medians = []
for name, path in pages:
    for _ in range(3):
        request("GET", path)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        status, _ = request("GET", path)
        times.append((time.perf_counter() - start) * 1000)
        if status != 200:
            sys.exit(f"{path} answered {status}")
    times.sort()
    median = statistics.median(times)
    medians.append((median, name))
    print(f"{name:<24} {median:>10.1f} {times[int(len(times) * 0.95) - 1]:>8.1f} {times[-1]:>8.1f}")
slowest = max(medians)
print(f"slowest median: {slowest[0]:.1f} ms ({slowest[1]}); target < 200 ms")
