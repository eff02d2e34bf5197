"""The figures API's answers keep the names integrations are written against (issue 10)."""

from __future__ import annotations

import msgspec
import pytest

from tally.contracts.figures import ArticleDay, Completeness, LineDay, MachineDay

LINE_DAY_FIELDS = {
    "good_packs", "total_packs", "rejects", "kg", "kg_declared", "giveaway_g", "giveaway_pct",
    "giveaway_value", "oee", "availability", "performance", "quality", "planned_seconds",
    "run_seconds", "completeness", "machines", "articles", "shifts", "hours", "downtime",
    "timeline",
}  # fmt: skip


def _fields(kind: type[msgspec.Struct]) -> set[str]:
    return {field.encode_name for field in msgspec.structs.fields(kind)}


def test_a_line_day_has_every_promised_field() -> None:
    assert _fields(LineDay) >= LINE_DAY_FIELDS
    assert {"machine", "packs_total", "packs_good", "state_seconds"} <= _fields(MachineDay)
    assert {
        "article", "packs", "kg", "mean_g", "sd_g", "below_t1", "below_t2", "giveaway_g",
        "compliant",
    } <= _fields(ArticleDay)  # fmt: skip


def test_an_unknown_field_is_refused_by_a_reader() -> None:
    body = b'{"fraction": 1.0, "silent_machines": [], "gap_seconds": 0, "gaps": 1}'
    with pytest.raises(msgspec.ValidationError, match="gaps"):
        msgspec.json.decode(body, type=Completeness)
