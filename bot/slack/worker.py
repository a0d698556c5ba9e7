"""gunicorn as `ccmbot serve` runs it: a threaded worker with a deadline on reading each
request, and gunicorn's own log lines as JSON like every other line ccmbot writes.

gunicorn's default sync worker serves one connection at a time, so a client that sends its
request a byte every few seconds holds the whole worker; four such clients held both workers
for 30 s each while Slack's real events waited. Here each worker has a pool of threads (a slow
client holds one thread, not the worker), and every request must arrive within a deadline:
a read that stalls, or a request still arriving when the deadline passes, closes the connection.
Slack sends a whole event in one go, far inside these bounds.

Only the socket reads are bounded: a listener that takes long to answer is not cut off here.
"""

from __future__ import annotations

import logging
import socket
import sys
import time
from typing import Any, NoReturn

from gunicorn.glogging import Logger
from gunicorn.http.errors import NoMoreData
from gunicorn.workers.gthread import ThreadWorker

# How long one read may wait for the next bytes, and how long a whole request may take to
# arrive (headers and body).
READ_TIMEOUT = 5.0
REQUEST_DEADLINE = 10.0


class ClientTooSlow(NoMoreData):  # type: ignore[misc]
    """The client did not send its request in time; gunicorn treats it as a client gone (closed
    quietly, no traceback in the log), and it is an OSError for the app reading a body."""

    def __str__(self) -> str:
        return "client too slow: request not received within its deadline"


class DeadlineSocket:
    """A connected socket whose reads give up at a deadline (ClientTooSlow). Everything else is
    the socket's own."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.deadline = time.monotonic() + REQUEST_DEADLINE
        self.expired = False

    def restart(self) -> None:
        """A new request on a kept-alive connection gets a fresh deadline; a client that was
        already too slow does not (gunicorn would otherwise wait again to discard its body)."""
        if not self.expired:
            self.deadline = time.monotonic() + REQUEST_DEADLINE

    def _bounded(self) -> None:
        left = self.deadline - time.monotonic()
        if self.expired or left <= 0:
            self._expire()
        self._sock.settimeout(min(READ_TIMEOUT, left))

    def _expire(self) -> NoReturn:
        self.expired = True
        raise ClientTooSlow(None)

    def recv(self, size: int, *args: Any) -> bytes:
        self._bounded()
        try:
            return self._sock.recv(size, *args)
        except TimeoutError:
            self._expire()

    def recv_into(self, buffer: Any, *args: Any) -> int:
        self._bounded()
        try:
            return self._sock.recv_into(buffer, *args)
        except TimeoutError:
            self._expire()

    def setblocking(self, flag: bool) -> None:
        self._sock.setblocking(flag)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class BoundedThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker whose connections read under DeadlineSocket."""

    def handle(self, conn: Any) -> Any:
        if isinstance(conn.sock, DeadlineSocket):
            conn.sock.restart()
        else:
            conn.sock = DeadlineSocket(conn.sock)
            if conn.parser is not None:  # the parser reads through the socket it was given
                conn.parser.unreader.sock = conn.sock
        return super().handle(conn)


class JsonLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger (start, workers booting and exiting, signals) writing one JSON object a
    line through ccmbot's formatter, instead of gunicorn's own text format."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        from bot.observability import JsonFormatter

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        for log in (self.error_log, self.access_log):
            log.handlers[:] = [handler]

