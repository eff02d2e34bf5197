"""The benchmark's smallest configuration, end to end, on embedded servers of its own: every
stage runs and the files it writes have the promised structure with positive, finite figures.
No figure is compared with a wall-clock threshold: the machine is shared."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tally.bench.context import BenchOptions
from tally.bench.runner import run_bench
from tally.bench.stages import STAGES

ROOT = Path(__file__).resolve().parents[3]


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@pytest.mark.integration
@pytest.mark.timeout(300)
async def test_smallest_run_writes_complete_results(tmp_path: Path) -> None:
    options = BenchOptions(
        quick=True,
        repeats=1,
        soak_seconds=2.0,
        workers=1,
        corpus_days=0.002,
        nats_url=None,
        postgres_url=None,
        results_dir=tmp_path,
        migrations=ROOT / "db" / "migrations",
    )
    markdown, data = await run_bench(options, "uv run tally bench (test)")

    assert markdown.parent == tmp_path
    assert data.parent == tmp_path
    assert markdown.stem == data.stem
    results = json.loads(data.read_text())
    machine = results["machine"]
    assert machine["logical_cores"] >= 1
    assert _positive(machine["ram_gib"])
    assert machine["cpu"]
    assert len(machine["load_average_at_start"]) == 3
    assert len(machine["load_average_at_end"]) == 3
    postgres = results["servers"]["postgres"]
    for setting in ("version", "shared_buffers", "synchronous_commit", "fsync"):
        assert postgres[setting]
    nats = results["servers"]["nats"]
    assert nats["version"]
    assert nats["storage"] == "file"
    assert "sync_interval" in nats["config"]
    assert results["setup"]["corpus_messages"] > 0

    stages = {stage["key"]: stage for stage in results["stages"]}
    assert list(stages) == [stage.key for stage in STAGES]
    for stage in results["stages"]:
        for series in stage["series"]:
            assert series["runs"], (stage["key"], series["key"])
            for run in series["runs"]:
                assert run["datapoints"] > 0
                assert _positive(run["seconds"])
                assert _positive(run["datapoints_per_s"])
                # Every run measures at least the servers' processes; a tiny run may spend less
                # than the kernel's accounting tick in them, so zero is possible, never less.
                assert run["cpu_us_per_datapoint"] >= 0, (stage["key"], series["key"])
                assert run["cpu_seconds"]
                assert all(v >= 0 for v in run["cpu_seconds"].values())
        for ratio in stage["ratios"]:
            assert _positive(ratio["throughput"]["median"]), (stage["key"], ratio)
            cpu = ratio["cpu_per_datapoint"]["median"]
            # None when the baseline's run spent no measurable CPU, 0 when the measured one did
            # not (see above).
            assert cpu is None or (math.isfinite(cpu) and cpu >= 0), (stage["key"], ratio)

    peers = {s["key"]: s for s in stages["recorder"]["series"]}
    assert set(peers) == {"copy_2", "recorder", "handwritten", "faststream"}
    for peer in ("recorder", "handwritten", "faststream"):
        own = "faststream_peer" if peer == "faststream" else peer
        assert _positive(peers[peer]["runs"][0]["cpu_seconds"][own])
        assert _positive(peers[peer]["peak_rss_mib"][own])
    end_to_end = stages["end_to_end"]["figures"]
    assert end_to_end["latency_samples"] > 0
    assert end_to_end["ack_to_visible_p99_ms"] >= end_to_end["ack_to_visible_p50_ms"] >= 0
    soak = stages["soak"]["figures"]
    for service in ("gateway", "recorder"):
        assert _positive(soak[f"{service}_rss_start_mib"])
        assert _positive(soak[f"{service}_rss_end_mib"])

    text = markdown.read_text()
    for stage in results["stages"]:
        assert f"## {stage['title']}" in text
