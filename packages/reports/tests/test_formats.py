from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tally.reports import formats


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (formats.kg(1234.56), "1234.6"),
        (formats.kg(-0.04), "0.0"),
        (formats.grams(100.05), "100.1"),
        (formats.percent(0.8531), "85.3 %"),
        (formats.percent(0.00049), "0.0 %"),
        (formats.money(0.125), "0.13"),
        (formats.money(-2.5), "-2.50"),
        (formats.hours(5400.0), "1.50 h"),
        (formats.share(3, 200), "1.5 %"),
        (formats.share(0, 0), "–"),
        (formats.count(0), "0"),
        (formats.percent(None), "–"),
        (formats.kg(None), "–"),
    ],
)
def test_each_kind_rounds_half_away_from_zero_and_null_is_a_dash(text: str, expected: str) -> None:
    assert text == expected


def test_a_clock_time_keeps_its_offset() -> None:
    autumn = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    first = autumn.astimezone(timezone(timedelta(hours=2)))
    assert formats.clock(first) == "02:00 +02:00"
    assert formats.clock(first.astimezone(timezone(timedelta(hours=1))) + timedelta(hours=1)) == (
        "02:00 +01:00"
    )
