"""The truth file: a stable schema that round-trips."""

from __future__ import annotations

from pathlib import Path

import msgspec

from tally.simulator import MemorySender, Simulation, TruthFile, read_truth, write_truth

Run = tuple[Simulation, MemorySender]


def test_round_trip(day_run: Run, tmp_path: Path) -> None:
    truth = day_run[0].truth
    path = tmp_path / "truth.json"
    write_truth(truth, path)
    assert read_truth(path) == truth.to_file()
    assert msgspec.json.decode(truth.to_json(), type=TruthFile) == truth.to_file()


def test_shape(day_run: Run) -> None:
    file = day_run[0].truth.to_file()
    (tenant,) = file.tenants
    assert tenant.tenant == "alpenwerk"
    assert tenant.messages == sum(row.messages for row in tenant.days)
    weigher = [row for row in tenant.days if row.machine_type == "checkweigher"]
    assert all(row.packs_total == row.packs_good + row.rejects for row in weigher)
    assert all(sum(row.rejects_by_reason.values()) == row.rejects for row in weigher)
    fixed = [a for row in weigher for a in row.articles if a.nominal_g is not None]
    assert fixed
    assert all(a.giveaway_g > 0 for a in fixed if a.packs_good > 100)
    assert all(a.giveaway_g == 0 for row in weigher for a in row.articles if a.nominal_g is None)
    assert file.end > file.start
