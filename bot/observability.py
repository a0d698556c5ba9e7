"""Logs and metrics that are safe around protected health information.

Logs are one JSON object a line. Our own code logs ids, kinds and exception types, never
message text, patient keys or labels, or tokens. Other libraries' messages can carry request
bodies (Bolt prints a payload when a request goes unhandled), so theirs are withheld: the
line says which library, how bad, and the exception type.

Metrics are Prometheus counters. Under gunicorn, PROMETHEUS_MULTIPROC_DIR makes every
worker write its counts to files that /metrics adds up, so a scrape sees all workers.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, generate_latest, multiprocess, values

OWN_LOGGERS = ("bot", "storage", "ccmbot")
# Libraries whose messages never hold message text, so they are kept as they are.
SAFE_LOGGERS = ("apscheduler", "alembic", "gunicorn")
FIELDS = ("event_id", "kind", "type", "status")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if record.name.startswith(OWN_LOGGERS + SAFE_LOGGERS):
            line["msg"] = record.getMessage()
        else:
            line["msg"] = "(message withheld: a library's log line may hold request content)"
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__  # the type only: its text may hold content
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        return json.dumps(line, default=str)


def configure_logging(level: int = logging.INFO, stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Never DEBUG for these: their debug lines print whole requests.
    for name in ("slack_bolt", "slack_sdk", "urllib3", "sqlalchemy.engine"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


# --- metrics -------------------------------------------------------------------------

EVENTS = Counter("ccmbot_events_handled", "Slack events handled, by type", ["type"])
# Every metric has labels, so its values are made on first use, in the worker process that counts.
ENTRIES = Counter("ccmbot_entries_logged", "Time entries logged, by where they came from", ["source"])
DUPLICATES = Counter("ccmbot_duplicates_dropped", "Slack deliveries dropped as retries of an event already received", ["where"])
REMINDERS = Counter("ccmbot_reminder_deliveries", "Reminder deliveries, by kind and outcome", ["kind", "status"])
ERRORS = Counter("ccmbot_errors", "Errors, by where they happened", ["where"])
FOREIGN = Counter("ccmbot_foreign_requests_refused", "Signed requests from another workspace or app, refused", ["why"])


def use_multiprocess_dir(path: str) -> None:
    """Count in files under `path` from now on (set before gunicorn forks its workers)."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def metrics_text() -> bytes:
    """The Prometheus exposition text; summed over workers when PROMETHEUS_MULTIPROC_DIR is set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(DEFAULT_REGISTRY)
