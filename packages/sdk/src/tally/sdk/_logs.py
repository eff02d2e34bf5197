"""Structured JSON logs: one object per line, carrying service, tenant and message id.

Context is kept in a contextvar so that everything logged while a handler runs names the
tenant and message it was working on, without passing a logger around.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
import time
from collections.abc import Iterator

import msgspec

_context: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "tally_log_context", default=None
)
_encoder = msgspec.json.Encoder()


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add fields (tenant=..., msg_id=..., consumer=...) to every log line within the block."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(_context.get() or {})
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return _encoder.encode(entry).decode()


def configure_logging(service: str, level: str = "info") -> None:
    """Send the root logger's output to stderr as JSON lines; called once in a service's main."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Per-request access lines would drown the signal; our own HTTP metrics count requests.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
