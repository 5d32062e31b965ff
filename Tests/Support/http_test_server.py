"""A loopback HTTP/1.1 server for the HTTP client and `plugin send` tests.

Prints its port on the first line of stdout, then serves until killed.
  POST/PUT/...  /echo          -> 200, JSON of what arrived (method, path, headers, body)
  any           /status/<code> -> that status; /status/429 adds retry-after: 3
  any           /slow/<ms>     -> waits, then 200
  any           /drop          -> closes the connection without answering
  GET           /files/<name>  -> the file <name> of the folder $TEST_SERVER_FILES (signing certificates)
  POST          /record        -> 200, and the body is kept; GET /recorded -> JSON array of the bodies kept
  any           /redirect?to=U -> 302 to U
  any           /big/<bytes>   -> 200 with that many bytes (no content-length: chunked-free, closed at the end)
Keep-alive is on, so a client that reuses connections opens only one.
"""
import json
import os
import sys
import threading
import time

RECORDED = []
RECORDED_LOCK = threading.Lock()
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = self.path.strip("/").split("/")
        if parts[0] == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if parts[0] in ("record", "recorded"):
            if parts[0] == "record":
                with RECORDED_LOCK:
                    RECORDED.append(body.decode("utf-8", "replace"))
                reply = b"{}"
            else:
                with RECORDED_LOCK:
                    reply = json.dumps(RECORDED).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
            return
        if parts[0] == "files" and len(parts) == 2 and os.environ.get("TEST_SERVER_FILES"):
            path = os.path.join(os.environ["TEST_SERVER_FILES"], os.path.basename(parts[1]))
            document = open(path, "rb").read() if os.path.isfile(path) else None
            self.send_response(200 if document is not None else 404)
            self.send_header("content-length", str(len(document or b"")))
            self.end_headers()
            self.wfile.write(document or b"")
            return
        if parts[0].startswith("redirect"):
            target = self.path.split("?to=", 1)[1] if "?to=" in self.path else "/"
            self.send_response(302)
            self.send_header("location", target)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        if parts[0] == "big" and len(parts) > 1:
            self.send_response(200)
            self.send_header("connection", "close")
            self.end_headers()
            left = int(parts[1])
            while left > 0:
                piece = min(left, 65536)
                self.wfile.write(b"x" * piece)
                left -= piece
            self.close_connection = True
            return
        status, extra = 200, {}
        if parts[0] == "status" and len(parts) > 1:
            status = int(parts[1])
            if status == 429:
                extra["retry-after"] = "3"
        if parts[0] == "slow" and len(parts) > 1:
            time.sleep(int(parts[1]) / 1000)
        reply = json.dumps({
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }).encode()
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def exit_with_parent():
    # A test that crashes never kills its server; an orphan would keep the test runner's output pipe
    # open (so `swift test` waits forever) and its port. Leave once the parent is gone.
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


if __name__ == "__main__":
    threading.Thread(target=exit_with_parent, daemon=True).start()
    # A listen backlog of 5 (socketserver's default) drops the SYNs of a burst of new connections, and the
    # client sends them again only after a second.
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
