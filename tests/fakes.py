"""Local fake HTTP servers standing in for providers' APIs."""
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
                record = {"path": urlparse(self.path).path, "body": body, "headers": dict(self.headers)}
                api.requests.append(record)
                if api.delay:
                    time.sleep(api.delay)
                status, payload = api.answer(record)
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

    def answer(self, request: dict) -> tuple[int, object]:
        return self.answers.pop(0) if self.answers else self.default

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class FakeBaleApi(FakeProviderApi):
    """Bale's Bot API as far as the gateway uses it: `sendMessage` under /bot<token>/, answered the way
    Bale (and Telegram) answer: `{"ok": true, "result": Message}`, or `{"ok": false, "error_code",
    "description"}` for a wrong token, an empty text, or while `failing` is set. Queued `answers` (raw
    status and payload) go first, for answers Bale would never give."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token
        self.failing: tuple[int, str] | None = None  # (error_code, description)
        self._ids = iter(range(5001, 10**9))

    @property
    def sent(self) -> list[tuple[object, str]]:
        """(chat_id, text) of every sendMessage Bale accepted."""
        return [(r["body"]["chat_id"], r["body"]["text"]) for r in self.requests if r.get("accepted")]

    def answer(self, request: dict) -> tuple[int, object]:
        if self.answers:
            return self.answers.pop(0)
        if request["path"] != f"/bot{self.token}/sendMessage":
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if self.failing:
            code, description = self.failing
            return code, {"ok": False, "error_code": code, "description": description}
        body = request["body"]
        if not isinstance(body.get("chat_id"), (int, str)) or not body.get("text"):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}
        request["accepted"] = True
        return 200, {"ok": True, "result": {"message_id": next(self._ids), "date": 1764000000,
                                            "chat": {"id": body["chat_id"], "type": "private"},
                                            "text": body["text"]}}
