"""Log formatting for workers: one JSON object per line, for log collectors."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

EXTRA_FIELDS = ("queue", "job", "message_id", "attempt", "duration_ms", "trace_id")
"""Record attributes copied into the JSON object when a log call sets them."""

# The library's own log calls name these ``queue_name`` and ``job_name``.
_ALIASES = {"queue_name": "queue", "job_name": "job"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, logger, message and the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object on one line."""
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for source, target in _ALIASES.items():
            value = getattr(record, source, None)
            if value is not None:
                document.setdefault(target, value)
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                document[name] = value
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)
