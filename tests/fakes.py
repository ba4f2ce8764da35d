"""A local fake HTTP server standing in for an SMS provider's API."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class FakeProviderApi:
    """Records every request; answers with the queued (status, json) pairs, then the default."""

    def __init__(self, default=(200, {}), delay: float = 0.0):
        self.delay = delay
        self.requests: list[dict] = []
        self.answers: list[tuple[int, object]] = []
        self.default = default
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    body = json.loads(raw or "{}")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw).items()}
                api.requests.append({"path": urlparse(self.path).path, "body": body,
                                     "headers": dict(self.headers)})
                if api.delay:
                    time.sleep(api.delay)
                status, payload = api.answers.pop(0) if api.answers else api.default
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
