"""Structured JSON logs: one object per line, carrying service, tenant and message id.

Context is kept in a contextvar so that everything logged while a handler runs names the
tenant and message it was working on, without passing a logger around.

Secrets never reach a line: tally's own messages show `Secret` settings as ``***``, and the
formatter scrubs what the service's secrets hide (`hidden`) from every line it writes — message,
fields and traceback — in case a library repeats one in an error. Values shorter than
`MIN_HIDDEN` characters are not scrubbed from free text (they would garble every line); tally's
own messages still never print them.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
import time
from collections.abc import Iterable, Iterator

import msgspec

from tally.sdk._secrets import REDACTED

_context: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "tally_log_context", default=None
)
_encoder = msgspec.json.Encoder()
MIN_HIDDEN = 4


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add fields (tenant=..., msg_id=..., consumer=...) to every log line within the block."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str, hidden: Iterable[str] = ()) -> None:
        super().__init__()
        self._service = service
        # Longest first: a secret that contains another is scrubbed whole.
        self._hidden = sorted({h for h in hidden if len(h) >= MIN_HIDDEN}, key=len, reverse=True)

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
        if self._hidden:
            entry = {key: self._scrub(value) for key, value in entry.items()}
        return _encoder.encode(entry).decode()

    def _scrub(self, value: object) -> object:
        if isinstance(value, str):
            for secret in self._hidden:
                value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, list | tuple):
            return [self._scrub(item) for item in value]
        if isinstance(value, dict):
            return {key: self._scrub(item) for key, item in value.items()}
        return value


def configure_logging(service: str, level: str = "info", *, hidden: Iterable[str] = ()) -> None:
    """Send the root logger's output to stderr as JSON lines; called once in a service's main.
    `hidden`: the values of the service's secrets, scrubbed from every line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service, hidden))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Per-request access lines would drown the signal; our own HTTP metrics count requests.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
