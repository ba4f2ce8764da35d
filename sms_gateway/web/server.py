"""gunicorn serving the app: built once before the fork, each worker with its own connection pool."""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote

from ..adapters.logs import safe_path
from ..settings import Settings

# A forwarded GET carries the whole SMS in its query string: a Persian character is 2 bytes of UTF-8, each
# percent-encoded as 3 characters (%D8%B3), so a 1,600-character text is 9,600 bytes of request line, well
# past gunicorn's default 4,094. The other fields (method, path with its token, from, to, id) get 1 KB.
REQUEST_LINE_BYTES_PER_CHAR = 6
OTHER_FIELDS_BYTES = 1024
GUNICORN_MAX_REQUEST_LINE = 8190  # gunicorn cuts any larger limit_request_line down to this; 0 is no limit

log = logging.getLogger("sms_gateway.web")


def request_line_limit(settings: Settings) -> int:
    """The longest request line served: a forward of a `max_text_chars` Persian text by GET fits."""
    return max(4094, settings.max_text_chars * REQUEST_LINE_BYTES_PER_CHAR + OTHER_FIELDS_BYTES)


def gunicorn_request_line(limit: int) -> int:
    """gunicorn's limit_request_line for `limit`: itself where gunicorn allows it, else none (0), and
    `RequestLineLimit` holds the line to `limit` instead."""
    return limit if limit < GUNICORN_MAX_REQUEST_LINE else 0


class RequestLineLimit:
    """WSGI middleware: a request line over `limit` bytes is answered 414 and logged (path without its
    webhook token, the size and the limit), so a long text a provider could not deliver leaves a trace."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        uri = environ.get("RAW_URI") or environ.get("PATH_INFO", "") + (
            "?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
        size = len(environ.get("REQUEST_METHOD", "")) + len(uri) + len(environ.get("SERVER_PROTOCOL", "")) + 2
        if size <= self.limit:
            return self.app(environ, start_response)
        path = safe_path(unquote(uri.split("?", 1)[0]))
        log.warning("request line of %d bytes refused with 414 (limit %d): %s %s", size, self.limit,
                    environ.get("REQUEST_METHOD", ""), path,
                    extra={"method": environ.get("REQUEST_METHOD", ""), "path": path, "status": 414, "bytes": size})
        start_response("414 URI Too Long", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"request line too long\n"]


class PortInUse(RuntimeError):
    pass


def check_port(host: str, port: int) -> None:
    """A clear refusal before gunicorn's own «Connection in use» loop."""
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise PortInUse(f"port {port} on {host} is in use (another server?): choose another, e.g. "
                            f"`sms-gateway serve --port {port + 1}` or `make run PORT={port + 1}`") from None


def run(settings: Settings, host: str, port: int, workers: int, threads: int, log_level: str = "info",
        clock: Any = None) -> None:
    """gunicorn (gthread) serving the app; `clock` for a soak that compresses time (the real one by default)."""
    from gunicorn.app.base import BaseApplication

    from . import create_app

    check_port(host, port)
    app = create_app(settings, clock=clock)
    limit = request_line_limit(settings)
    served = RequestLineLimit(app, limit)

    def fresh_pool(_server: Any, _worker: Any) -> None:
        # The app is built once, before the fork, so every worker is ready at once (a worker still
        # loading while the other took every keep-alive connection halved the rate). No connection
        # opened before the fork may be used after it.
        app.extensions["sms_gateway"].engine.dispose(close=False)

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in {"bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread",
                               "threads": threads, "timeout": 30, "preload_app": True, "post_fork": fresh_pool,
                               "limit_request_line": gunicorn_request_line(limit),
                               "loglevel": log_level}.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return served

    Server().run()
