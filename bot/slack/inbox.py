"""The inbox of message events: stored before Slack gets its 200, handled by a background thread.

Answering Slack takes one INSERT, so a burst of messages is acknowledged in milliseconds and
a slow or rate-limited Web API never delays the acknowledgement. Storing first means nothing
is lost: an event stored by a process that died before handling it is swept up by any
process, and a claim in the database makes sure only one handles it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import queue
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.observability import DUPLICATES, ERRORS, EVENTS
from storage.db import Database
from storage.slack_events import claim, finish, release, store, waiting

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], int], None]  # (event body, attempts before this one)


def _lower_priority() -> None:
    """Let answering Slack win over handling: on Linux a thread has its own nice value, and a
    short switch interval hands the GIL to a waiting request thread sooner."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed: only slower acknowledgements
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    sys.setswitchinterval(0.001)


class Inbox:
    def __init__(self, database: Database, handle: Handler, *, sweep_every: float = 15.0, unclaimed_after: timedelta = timedelta(seconds=10)) -> None:
        self.database = database
        self.handle = handle
        self.sweep_every = sweep_every
        self.unclaimed_after = unclaimed_after
        self._queue: queue.Queue[str] = queue.Queue()
        self._idle = threading.Condition()
        self._busy = 0
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._accepted: set[str] | None = set()  # ids accepted before the first sweep ran

    def start(self) -> None:
        """Start the handling thread; its first act is to sweep up what earlier processes left."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="slack-inbox", daemon=True)
            self._thread.start()

    def accept(self, event_id: str, body: str) -> bool:
        """Store an event (its raw JSON, durably) and queue it here; False for a retry of one already stored."""
        with self.database.transaction() as s:  # committed before Slack gets its 200
            stored = store(s, event_id, body)
        if not stored:
            DUPLICATES.labels("inbox").inc()
            log.info("duplicate event dropped", extra={"event_id": event_id})
            return False
        with self._idle:
            self._busy += 1
            if self._accepted is not None:
                self._accepted.add(event_id)
        self._queue.put(event_id)
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what is queued here, then stop; what is left in the database waits for a sweep."""
        self._stopping.set()
        if self._thread is not None:
            self._queue.put("")  # wake the thread
            self._thread.join(timeout)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until everything accepted here was handled (tests, orderly shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def sweep(self, unclaimed_after: timedelta | None = None, *, skip: frozenset[str] = frozenset()) -> int:
        with self.database.session() as s:
            ids = [i for i in waiting(s, older_than=self.unclaimed_after if unclaimed_after is None else unclaimed_after) if i not in skip]
        for event_id in ids:
            self.process(event_id)
        return len(ids)

    def sweep_now(self) -> int:
        """Handle everything waiting, however recent: at start, what earlier processes left."""
        return self.sweep(timedelta(0))

    def process(self, event_id: str) -> None:
        with self.database.transaction() as s:
            claimed = claim(s, event_id)
        if claimed is None:
            return  # another process has it, or it is done
        body, attempts = claimed
        try:
            self.handle(json.loads(body), attempts)
        except Exception as exc:
            # The type only: the exception's text can hold message text.
            log.error("inbox event failed: %s", type(exc).__name__, extra={"event_id": event_id})
            ERRORS.labels("inbox").inc()
            with self.database.transaction() as s:
                release(s, event_id, type(exc).__name__)
            return
        with self.database.transaction() as s:
            finish(s, event_id)
        EVENTS.labels("message").inc()
        log.info("event handled", extra={"event_id": event_id, "type": "message", "status": "done"})

    def _run(self) -> None:
        _lower_priority()
        # What earlier processes left. An event this inbox accepted is on its queue already:
        # sweeping it too would handle it twice at once (a failure retried at once, not later).
        with self._idle:
            accepted, self._accepted = self._accepted, None
        self._safely(functools.partial(self.sweep, timedelta(0), skip=frozenset(accepted or ())))
        while True:
            try:
                event_id = self._queue.get(timeout=self.sweep_every)
            except queue.Empty:
                if not self._stopping.is_set():
                    self._safely(self.sweep)
                continue
            if not event_id:  # stop() woke us
                if self._queue.empty():
                    return
                continue
            try:
                self._safely(functools.partial(self.process, event_id))
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    @staticmethod
    def _safely(work: Callable[[], object]) -> None:
        try:
            work()
        except Exception as exc:  # a database that is down now is retried at the next sweep
            log.error("inbox: %s", type(exc).__name__)
