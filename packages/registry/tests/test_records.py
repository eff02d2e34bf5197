"""The records refuse what their database columns cannot hold, naming the field."""

from __future__ import annotations

import msgspec
import pytest

from tally.registry import Article, Line, Machine, MachineMove, Site, SitePlan, Tenant


def test_a_tenant_rate_fits_an_integer_column() -> None:
    fields = {"tenant": "alpenwerk", "name": "Alpenwerk GmbH"}
    assert msgspec.convert({**fields, "rate_per_second": 2**31 - 1}, Tenant).rate_per_second
    with pytest.raises(msgspec.ValidationError, match=r"<= 2147483647 - at `\$.rate_per_second`"):
        msgspec.convert({**fields, "rate_per_second": 2**31}, Tenant)


def test_a_counter_rollover_fits_a_bigint_column() -> None:
    fields = {"tenant": "alpenwerk", "machine": "l1-cw", "line": "l1", "kind": "checkweigher"}
    assert msgspec.convert({**fields, "counter_rollover": 2**63 - 1}, Machine).counter_rollover
    with pytest.raises(
        msgspec.ValidationError, match=r"<= 9223372036854775807 - at `\$.counter_rollover`"
    ):
        msgspec.convert({**fields, "counter_rollover": 2**63}, Machine)


def test_a_maximum_rate_fits_its_numeric_column() -> None:
    fields = {"tenant": "alpenwerk", "machine": "l1-cw", "line": "l1", "kind": "checkweigher"}
    assert msgspec.convert({**fields, "max_rate_ppm": 100_000}, Machine).max_rate_ppm == 100_000
    with pytest.raises(msgspec.ValidationError, match=r"<= 100000.0 - at `\$.max_rate_ppm`"):
        msgspec.convert({**fields, "max_rate_ppm": 1e6}, Machine)
    # Less than 0.01 would round to a 0 that the column's check refuses.
    with pytest.raises(msgspec.ValidationError, match=r">= 0.01 - at `\$.max_rate_ppm`"):
        msgspec.convert({**fields, "max_rate_ppm": 6.1e-05}, Machine)


def test_a_plan_in_a_site_plan_is_checked_on_decode() -> None:
    body = {
        "tenant": "alpenwerk",
        "site": "kempten",
        "plan": {"shifts": [{"name": "early", "start": "06:00", "hours": 30}]},
    }
    with pytest.raises(msgspec.ValidationError, match=r"<= 24.0 - at `\$.plan.shifts\[0\].hours`"):
        msgspec.convert(body, SitePlan)


def test_history_times_need_a_zone() -> None:
    move = {"tenant": "alpenwerk", "machine": "l1-cw", "line": "l2"}
    with pytest.raises(msgspec.ValidationError, match="timezone"):
        msgspec.convert({**move, "valid_from": "2025-06-02T06:00:00"}, MachineMove)
    parsed = msgspec.convert({**move, "valid_from": "2025-06-02T06:00:00+02:00"}, MachineMove)
    assert parsed.valid_from is not None
    assert parsed.valid_from.utcoffset() is not None


@pytest.mark.parametrize(
    ("record", "fields"),
    [
        (Tenant, {"tenant": "alpenwerk"}),
        (Site, {"tenant": "alpenwerk", "site": "p1", "timezone": "UTC"}),
        (Line, {"tenant": "alpenwerk", "line": "l1", "site": "p1"}),
        (Article, {"tenant": "alpenwerk", "article": "a1", "nominal_g": 100, "ideal_rate_ppm": 1}),
    ],
)
@pytest.mark.parametrize("name", ["NUL \0 inside", "half \ud800 pair"])
def test_a_name_holds_only_text_the_database_can_store(
    record: type[msgspec.Struct], fields: dict[str, object], name: str
) -> None:
    with pytest.raises(msgspec.ValidationError, match=r"at `\$.name`"):
        msgspec.convert({**fields, "name": name}, record)
    kept = msgspec.convert({**fields, "name": "Käserei 🧀\tOst"}, record)
    assert msgspec.structs.asdict(kept)["name"] == "Käserei 🧀\tOst"
