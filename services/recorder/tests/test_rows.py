"""Rows per raw table, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from tally.contracts import (
    Alarm,
    AlarmCategory,
    Context,
    ContextEvent,
    Counter,
    Gauge,
    RejectReason,
    State,
    StateModel,
    Telemetry,
    Weighing,
)
from tally.recorder.rows import days_touched, stored_notices, table_rows

T0 = datetime(2026, 3, 29, 23, 59, 59, tzinfo=UTC)


def message(**changes: object) -> Telemetry:
    fields: dict[str, object] = {
        "tenant": "acme",
        "machine": "cw-1",
        "boot_id": "b1",
        "seq": 7,
        "ts": T0,
        "signals": [
            Counter(name="packs_total", value=65535),
            Gauge(name="speed", value=118.5, unit="ppm"),
            State(name="Held", model=StateModel.PACKML, sub_state="equipment", code=5),
            Weighing(
                article="salami-100",
                net_g=91.0,
                accepted=False,
                reject_reason=RejectReason.UNDERWEIGHT,
                ts=T0 + timedelta(seconds=2),
            ),
            Alarm(code="E12", raised=True, category=AlarmCategory.EQUIPMENT, first_out=True),
            Context(event=ContextEvent.ARTICLE_CHANGE, article="ham-200"),
        ],
    }
    fields.update(changes)
    return Telemetry(**fields)  # type: ignore[arg-type]


def test_every_signal_becomes_one_row_of_its_table_with_matching_columns() -> None:
    rows = table_rows([message()])
    assert rows.count == 6
    for copy, copied in rows.copies():
        assert all(type(row) is copy.row for row in copied)
    assert rows.counter_samples == [("acme", "cw-1", "packs_total", T0, 65535, "b1", 7)]
    assert rows.weighings == [
        ("acme", "cw-1", T0 + timedelta(seconds=2), "salami-100", 91.0, False, 0, "underweight")
    ]
    assert rows.state_changes == [
        ("acme", "cw-1", T0, "Held", "packml", "production", "equipment", 5)
    ]


def test_days_touched_are_utc_days_of_messages_and_signals() -> None:
    local = T0.astimezone(timezone(timedelta(hours=2)))
    days = days_touched([message(ts=local)])
    assert days == {date(2026, 3, 29), date(2026, 3, 30)}


def test_stored_notices_give_each_machine_the_range_of_each_kind() -> None:
    later = T0 + timedelta(seconds=30)
    notices = stored_notices(
        [
            message(seq=1, historical=True),
            message(seq=2, ts=later, signals=[Counter(name="packs_total", value=3)]),
            message(machine="tf-1", seq=1, signals=[Counter(name="packs_total", value=1)]),
        ]
    )
    assert [(n.tenant, n.machine, n.historical) for n in notices] == [
        ("acme", "cw-1", False),
        ("acme", "tf-1", False),
    ]
    ranges = {r.kind: (r.first, r.last) for r in notices[0].ranges}
    assert ranges["message"] == (T0, later)
    assert ranges["counter"] == (T0, later)
    assert ranges["state"] == (T0, T0)
    assert notices[0].first == T0.timestamp()
    assert notices[0].last == later.timestamp()
