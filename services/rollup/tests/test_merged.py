"""A batch of STORED notices merged per machine into one range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tally.contracts import Stored, StoredRange
from tally.rollup.service import merged

T0 = datetime(2026, 10, 31, 5, 0, tzinfo=UTC)


def notice(machine: str, start: int, end: int, kind: str = "message") -> Stored:
    return Stored(
        tenant="acme",
        machine=machine,
        ranges=[
            StoredRange(
                kind=kind, first=T0 + timedelta(seconds=start), last=T0 + timedelta(seconds=end)
            )
        ],
    )


def test_notices_of_one_machine_merge_into_their_union_in_any_order() -> None:
    batch = [notice("tf-1", 100, 200), notice("cw-1", 0, 5), notice("tf-1", 10, 50, "state")]
    touched = merged(batch)
    assert [(t.machine, t.start - T0.timestamp(), t.end - T0.timestamp()) for t in touched] == [
        ("cw-1", 0, 5),
        ("tf-1", 10, 200),
    ]
    assert merged(list(reversed(batch))) == touched
    assert merged(batch + batch) == touched
