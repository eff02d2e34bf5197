"""JSON logs carry the service, and the tenant and message id of the work in hand."""

from __future__ import annotations

import json
import logging

from tally.sdk import log_context
from tally.sdk._logs import JsonFormatter


def test_a_log_line_is_one_json_object_with_context() -> None:
    record = logging.LogRecord("tally.x", logging.INFO, __file__, 1, "stored %d", (3,), None)
    with log_context(tenant="acme", msg_id="acme.cw-1.b1.7"):
        line = JsonFormatter("recorder").format(record)
    entry = json.loads(line)
    assert entry["service"] == "recorder"
    assert entry["tenant"] == "acme"
    assert entry["msg_id"] == "acme.cw-1.b1.7"
    assert entry["msg"] == "stored 3"
    assert entry["level"] == "info"


def test_context_ends_with_its_block() -> None:
    record = logging.LogRecord("tally.x", logging.INFO, __file__, 1, "idle", (), None)
    with log_context(tenant="acme"):
        inside = json.loads(JsonFormatter("recorder").format(record))
    after = json.loads(JsonFormatter("recorder").format(record))
    assert inside["tenant"] == "acme"
    assert "tenant" not in after
