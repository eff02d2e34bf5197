"""Validation lives in the contract types: what decodes can be trusted downstream."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

import msgspec
import pytest

from tally.contracts import TELEMETRY, Alarm, Counter, Gauge, Telemetry, Upload

UPLOAD = msgspec.json.Decoder(Upload)


def body(signal: str, ts: str = "2026-03-01T06:00:00Z") -> bytes:
    message = f'{{"boot_id": "b1", "seq": 1, "ts": "{ts}", "signals": [{signal}]}}'
    return f'{{"messages": [{message}]}}'.encode()


def test_a_well_formed_upload_decodes_into_typed_signals() -> None:
    upload = UPLOAD.decode(body('{"kind": "counter", "name": "packs_total", "value": 65535}'))
    assert upload.messages[0].signals == [Counter(name="packs_total", value=65535)]


@pytest.mark.parametrize(
    ("signal", "path"),
    [
        ('{"kind": "counter", "name": "packs", "value": -1}', "signals[0].value"),
        ('{"kind": "gauge", "name": "speed", "value": 1e300}', "signals[0].value"),
        ('{"kind": "weighing", "article": "a", "net_g": 0, "accepted": true}', "signals[0].net_g"),
        ('{"kind": "state", "name": "Execute", "model": "isa88"}', "signals[0].model"),
        ('{"kind": "teleport", "name": "x"}', "signals[0].kind"),
        ('{"kind": "counter", "name": "has space", "value": 1}', "signals[0].name"),
    ],
)
def test_out_of_range_or_unknown_values_are_refused_naming_the_field(
    signal: str, path: str
) -> None:
    with pytest.raises(
        msgspec.ValidationError, match=rf"at `\$\.messages\[0\]\.{re.escape(path)}`"
    ):
        UPLOAD.decode(body(signal))


def test_a_timestamp_without_a_zone_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="timezone"):
        UPLOAD.decode(
            body('{"kind": "counter", "name": "p", "value": 1}', ts="2026-03-01T06:00:00")
        )


def test_nan_cannot_pass_even_through_msgpack() -> None:
    raw = msgspec.msgpack.encode({"kind": "gauge", "name": "speed", "value": math.nan})
    with pytest.raises(msgspec.ValidationError):
        msgspec.msgpack.decode(raw, type=Gauge)


def test_the_telemetry_identity_is_the_message_id_and_names_the_subject() -> None:
    message = Telemetry(
        tenant="acme",
        machine="cw-1",
        boot_id="b7",
        seq=42,
        ts=datetime.now(UTC),
        signals=[Counter(name="packs_total", value=1)],
    )
    assert TELEMETRY.message_id(message) == "acme.cw-1.b7.42"
    assert TELEMETRY.subject(message) == "telemetry.acme.cw-1"


@pytest.mark.parametrize(
    ("signal", "field"),
    [
        (
            '{"kind": "alarm", "code": "E1", "raised": true, "category": "quality", '
            '"text": "a\\u0000"}',
            "text",
        ),
        ('{"kind": "gauge", "name": "t", "value": 1, "unit": "\\u0000C"}', "unit"),
    ],
)
def test_text_postgresql_cannot_store_is_refused(signal: str, field: str) -> None:
    with pytest.raises(
        msgspec.ValidationError, match=rf"at `\$\.messages\[0\]\.signals\[0\]\.{field}`"
    ):
        UPLOAD.decode(body(signal))


def test_a_lone_surrogate_is_refused_where_no_decoder_stops_it() -> None:
    signal = {"kind": "alarm", "code": "E1", "raised": True, "category": "quality"}
    with pytest.raises(msgspec.ValidationError, match="text"):
        msgspec.convert({**signal, "text": "half \ud800 pair"}, Alarm)


@pytest.mark.parametrize(
    "raw",
    [
        '{"tenant": "x", "messages": []}',
        '{"messages": [{"boot_id": "b", "seq": 1, "ts": "2026-03-01T06:00:00Z", '
        '"signals": [{"kind": "counter", "name": "p", "value": 1}], "historicl": true}]}',
        '{"messages": [{"boot_id": "b", "seq": 1, "ts": "2026-03-01T06:00:00Z", '
        '"signals": [{"kind": "counter", "name": "p", "value": 1, "unit": "x"}]}]}',
    ],
)
def test_unknown_fields_are_refused_not_dropped(raw: str) -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        UPLOAD.decode(raw.encode())


def test_a_broker_message_with_a_field_this_reader_does_not_know_is_refused() -> None:
    # A newer producer's field would otherwise be dropped for good: the ledger would record
    # the message as stored. Refused, it waits in the dead letters for a reader that knows it.
    newer = b'{"tenant": "t", "machine": "m", "boot_id": "b", "seq": 1, '
    newer += b'"ts": "2026-03-01T06:00:00Z", "signals": [{"kind": "counter", "name": "p", '
    newer += b'"value": 1}], "priority": 2}'
    with pytest.raises(msgspec.ValidationError, match="unknown field `priority`"):
        msgspec.json.decode(newer, type=Telemetry)
