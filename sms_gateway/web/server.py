"""gunicorn serving the app: built once before the fork, each worker with its own connection pool."""
from __future__ import annotations

from typing import Any

from ..settings import Settings

# A forwarded GET carries the whole SMS in its query string: a 1,600-character Persian text percent-encoded
# in UTF-8 is about 1,600 × 2 bytes × 3 characters, well past gunicorn's default 4,094-byte request line.
REQUEST_LINE_BYTES_PER_CHAR = 6


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


def run(settings: Settings, host: str, port: int, workers: int, threads: int, log_level: str = "info") -> None:
    from gunicorn.app.base import BaseApplication

    from . import create_app

    check_port(host, port)
    app = create_app(settings)
    request_line = max(4094, settings.max_text_chars * REQUEST_LINE_BYTES_PER_CHAR + 1024)

    def fresh_pool(_server: Any, _worker: Any) -> None:
        # The app is built once, before the fork, so every worker is ready at once (a worker still
        # loading while the other took every keep-alive connection halved the rate). No connection
        # opened before the fork may be used after it.
        app.extensions["sms_gateway"].engine.dispose(close=False)

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in {"bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread",
                               "threads": threads, "timeout": 30, "preload_app": True, "post_fork": fresh_pool,
                               "limit_request_line": min(request_line, 8190 * 16),
                               "loglevel": log_level}.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    Server().run()
