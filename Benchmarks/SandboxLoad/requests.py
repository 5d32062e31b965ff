"""Writes one wrk Lua script per sandbox benchmark scenario into OUT_DIR.

usage: requests.py OUT_DIR SANDBOX_URL SES_PREPARED_JSON

Resend and Telnyx requests are written here; the SES bulk request is the one
the SES plugin prepared (`batchsender plugin prepare`), signed moments ago, so
the sandbox checks a real SigV4 signature on every request.
"""
import json
import sys

out_dir, base, ses_prepared = sys.argv[1], sys.argv[2], sys.argv[3]


def lua(name, method, path, headers, body):
    lines = [f"wrk.method = {json.dumps(method)}", f"wrk.path = {json.dumps(path)}", f"wrk.body = {json.dumps(body)}"]
    for key, value in headers.items():
        lines.append(f"wrk.headers[{json.dumps(key)}] = {json.dumps(value)}")
    # Count non-2xx answers so that a refused benchmark cannot pass for a fast one.
    lines.append("""
local errors = 0
response = function(status, headers, body)
  if status < 200 or status > 299 then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non2xx %d\\n", summary.errors.status))
end""")
    with open(f"{out_dir}/{name}.lua", "w") as handle:
        handle.write("\n".join(lines) + "\n")


email = {"from": "Sender <from@example.com>", "to": ["user@example.org"], "subject": "Your order",
         "html": "<p>Hello, your order has shipped.</p>", "text": "Hello, your order has shipped.",
         "tags": [{"name": "batch", "value": "bench"}]}
resend_headers = {"Authorization": "Bearer re_bench", "User-Agent": "wrk", "Content-Type": "application/json"}
lua("resend-single", "POST", "/emails", resend_headers, json.dumps(email))
lua("resend-batch", "POST", "/emails/batch", resend_headers,
    json.dumps([dict(email, to=[f"user{i}@example.org"]) for i in range(100)]))
lua("telnyx-single", "POST", "/v2/messages",
    {"Authorization": "Bearer KEYbench", "Content-Type": "application/json"},
    json.dumps({"from": "+13125550100", "to": "+13125550111", "text": "Your code is 123456"}))

prepared = json.load(open(ses_prepared))["requests"]
bulk = next(r for r in prepared if r["url"].endswith("/outbound-bulk-emails"))
path = bulk["url"][len(base):]
lua("ses-bulk", "POST", path, {k: v for k, v in bulk["headers"].items() if k.lower() != "host"}, bulk["body"])
