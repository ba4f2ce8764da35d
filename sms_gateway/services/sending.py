"""Commit, answer, then send: a direct answer's outbound row is committed with its cause, the webhook
or the staff member is answered, and a small pool of background threads in this process sends it.

A slow provider (a 5 s send API) then costs a request nothing. Nothing is lost when a worker dies: the
row is durable before it is handed over, so one not yet claimed is sent by the scheduler's next run,
and one claimed is sent again after the claim lease (the outbox's claim keeps a row from being sent by
the pool and the scheduler both). Threads start on first use in each process, so a server that builds
the app before forking workers gets them in every worker; `send_threads = 0` sends in the request.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from .outbox import Outbox

log = logging.getLogger("sms_gateway.outbound")
MAX_WAITING = 1000  # more waiting than this is left to the scheduler: memory stays bounded


class BackgroundSender:
    """Sends committed direct answers off the request thread, `threads` at a time."""

    def __init__(self, outbox: Outbox, sessions: sessionmaker[Session], clock: Callable[[], datetime],
                 threads: int):
        self.outbox, self.sessions, self.clock, self.threads = outbox, sessions, clock, threads
        self._queue: queue.Queue[int] = queue.Queue(MAX_WAITING)
        self._pid = 0
        self._lock = threading.Lock()

    def send(self, outbound_id: int) -> str:
        """Send the committed row now (no threads) or hand it to the pool; its status as far as known."""
        if self.threads <= 0:
            return self.outbox.deliver(self.sessions, outbound_id, self.clock())
        self._start()
        try:
            self._queue.put_nowait(outbound_id)
        except queue.Full:
            log.warning("outbound %s left to the scheduler: %d answers are waiting to be sent", outbound_id,
                        MAX_WAITING, extra={"outbound_id": outbound_id})
        return "queued"

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Whether everything handed over has been sent (or failed) within `timeout` (tests, shutdown)."""
        done = threading.Event()

        def join() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=join, daemon=True).start()
        return done.wait(timeout)

    def _start(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._queue = queue.Queue(MAX_WAITING)  # a queue inherited through fork has a parent's locks
            for n in range(self.threads):
                threading.Thread(target=self._run, name=f"sender-{n}", daemon=True).start()
            self._pid = os.getpid()

    def _run(self) -> None:
        waiting = self._queue
        while True:
            outbound_id = waiting.get()
            try:
                self.outbox.deliver(self.sessions, outbound_id, self.clock())
            except Exception:  # the row stays queued or sending: the scheduler sends it
                log.exception("sending outbound %s failed; the scheduler will retry it", outbound_id)
            finally:
                waiting.task_done()
