"""How the raw table's index decides the ingest ceiling, and what each index costs a reader.

    uv run python benchmarks/raw_table_indexes.py [--quick] [--rows N]

Counter-like rows (tenant, machine, name, ts, value, boot_id, seq) as the recorder writes them:
~40 machines of 4 tenants, 5 counters each, one sample per counter every 2 s, timestamps rising,
each tick's machines in a shuffled order, in 10k-row batches, one COPY (asyncpg
copy_records_to_table) and one commit per batch, from one connection, into tables partitioned by
day. Every batch goes into every variant, in a rotating order, so the noise of this machine
falls on all of them alike; the unindexed table is the ceiling of the same run.

Reported per variant: rows/s, the ratio to the ceiling (overall, and the median of the per-batch
ratios, which is the steadier one), index and heap size per million rows, and the hot read
"one machine, one signal, one hour" (EXPLAIN ANALYZE: execution ms and buffers touched) after
a VACUUM ANALYZE (what autovacuum does to an insert-only table soon enough; BRIN needs it to
summarise the newest page ranges).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import (
    Deadline,
    machine_info,
    median,
    postgres_info,
    print_table,
    servers,
    write_results,
)
from tally.bench.servers import scratch_database

Row = tuple[object, ...]

TENANTS = ("acme-foods", "nordwurst", "alpenkaese-ag", "fjordfisk")
KINDS = ("slicer", "thermoformer", "checkweigher", "labeller", "flowwrapper")
COUNTERS = ("packs_total", "packs_good", "rejects_total", "cycles_total", "film_used_mm")
MACHINES_PER_TENANT = 10  # 2 lines of 5 machines
TICK = timedelta(seconds=2)
BATCH_ROWS = 10_000
# Starts late in the day so the data crosses midnight into a second daily partition.
START = datetime(2025, 3, 10, 21, 0, tzinfo=UTC)

BASE_COLUMNS = ("tenant", "machine", "name", "ts", "value", "boot_id", "seq")
BASE_DDL = """tenant text NOT NULL, machine text NOT NULL, name text NOT NULL,
    ts timestamptz NOT NULL, value bigint NOT NULL, boot_id text NOT NULL, seq bigint NOT NULL"""
HOT_READ = """SELECT ts, value FROM {table}
    WHERE tenant = $1 AND machine = $2 AND name = $3 AND ts >= $4 AND ts < $5 ORDER BY ts"""
# The series-keyed tables find the series in a small dictionary table first.
HOT_READ_BY_SERIES = """SELECT ts, value FROM {table}
    WHERE tenant = $1 AND ts >= $4 AND ts < $5
      AND series = (SELECT series FROM bench_series
                    WHERE tenant = $1 AND machine = $2 AND name = $3)
    ORDER BY ts"""
# A 64-bit hash of the series in an expression index: narrow like a series id, but nothing to
# look up or maintain; the text columns stay in the filter, so a collision costs nothing wrong.
SERIES_HASH = "hashtextextended(tenant || '/' || machine || '/' || name, 0)"
HOT_READ_BY_HASH = """SELECT ts, value FROM {table}
    WHERE hashtextextended(tenant || '/' || machine || '/' || name, 0)
          = hashtextextended($1::text || '/' || $2::text || '/' || $3::text, 0)
      AND tenant = $1 AND machine = $2 AND name = $3 AND ts >= $4 AND ts < $5
    ORDER BY ts"""


@dataclass(frozen=True)
class Series:
    tenant: str
    machine: str
    name: str
    id: int


@dataclass(frozen=True)
class Variant:
    key: str
    description: str
    columns_ddl: str
    index_ddl: str | None  # {table} is replaced
    columns: tuple[str, ...]
    shape: Callable[[Sequence[Row], dict[tuple[str, str, str], int]], list[Row]]
    read: str = HOT_READ
    # Whether the recorder would sort each batch by the index key before COPY (timed too).
    sort_batch: bool = False


def _as_is(rows: Sequence[Row], _: dict[tuple[str, str, str], int]) -> list[Row]:
    return list(rows)


def _with_series(rows: Sequence[Row], ids: dict[tuple[str, str, str], int]) -> list[Row]:
    return [(*r, ids[(str(r[0]), str(r[1]), str(r[2]))]) for r in rows]


def _narrow(rows: Sequence[Row], ids: dict[tuple[str, str, str], int]) -> list[Row]:
    # tenant stays: row-level security filters on it.
    return [(r[0], ids[(str(r[0]), str(r[1]), str(r[2]))], r[3], r[4], r[5], r[6]) for r in rows]


VARIANTS = (
    Variant("a_no_index", "no index (the ceiling)", BASE_DDL, None, BASE_COLUMNS, _as_is),
    Variant(
        "b_btree_tenant_machine_name_ts",
        "btree (tenant, machine, name, ts) — current 0003",
        BASE_DDL,
        "CREATE INDEX ON {table} (tenant, machine, name, ts)",
        BASE_COLUMNS,
        _as_is,
    ),
    Variant(
        "b2_btree_4col_sorted_batch",
        "same btree, batch sorted by its key before COPY",
        BASE_DDL,
        "CREATE INDEX ON {table} (tenant, machine, name, ts)",
        BASE_COLUMNS,
        _as_is,
        sort_batch=True,
    ),
    Variant(
        "c_brin_ts",
        "BRIN (ts) only",
        BASE_DDL,
        "CREATE INDEX ON {table} USING brin (ts)",
        BASE_COLUMNS,
        _as_is,
    ),
    Variant(
        "d_btree_machine_name_ts",
        "btree (machine, name, ts), no tenant",
        BASE_DDL,
        "CREATE INDEX ON {table} (machine, name, ts)",
        BASE_COLUMNS,
        _as_is,
    ),
    Variant(
        "e_btree_series_ts",
        "+ series integer column, btree (series, ts)",
        BASE_DDL + ", series integer NOT NULL",
        "CREATE INDEX ON {table} (series, ts)",
        (*BASE_COLUMNS, "series"),
        _with_series,
        read=HOT_READ_BY_SERIES,
    ),
    Variant(
        "f_narrow_series_ts",
        "narrow row (tenant, series, ts, value, boot_id, seq), btree (series, ts)",
        """tenant text NOT NULL, series integer NOT NULL, ts timestamptz NOT NULL,
    value bigint NOT NULL, boot_id text NOT NULL, seq bigint NOT NULL""",
        "CREATE INDEX ON {table} (series, ts)",
        ("tenant", "series", "ts", "value", "boot_id", "seq"),
        _narrow,
        read=HOT_READ_BY_SERIES,
    ),
    Variant(
        "g_btree_series_hash_ts",
        "expression btree (hashtextextended(tenant/machine/name), ts)",
        BASE_DDL,
        f"CREATE INDEX ON {{table}} (({SERIES_HASH}), ts)",
        BASE_COLUMNS,
        _as_is,
        read=HOT_READ_BY_HASH,
    ),
    Variant(
        "g2_series_hash_sorted_batch",
        "same hash btree, batch sorted by (tenant, machine, name, ts) before COPY",
        BASE_DDL,
        f"CREATE INDEX ON {{table}} (({SERIES_HASH}), ts)",
        BASE_COLUMNS,
        _as_is,
        read=HOT_READ_BY_HASH,
        sort_batch=True,
    ),
)


@dataclass
class Measured:
    seconds: list[float] = field(default_factory=list)
    rows: int = 0


def fleet() -> list[Series]:
    series: list[Series] = []
    for tenant in TENANTS:
        for n in range(MACHINES_PER_TENANT):
            machine = f"line{n // 5 + 1}-{KINDS[n % 5]}"
            for name in COUNTERS:
                series.append(Series(tenant, machine, name, len(series) + 1))
    return series


class Feed:
    """The recorder's view of the fleet: one message per machine and tick, shuffled per tick."""

    def __init__(self, series: list[Series], seed: int = 7) -> None:
        self._rng = random.Random(seed)
        self._machines = sorted({(s.tenant, s.machine) for s in series})
        self._boot = {m: f"boot-{self._rng.getrandbits(48):012x}" for m in self._machines}
        self._seq = dict.fromkeys(self._machines, 0)
        self._value = {(s.tenant, s.machine, s.name): self._rng.randrange(10**6) for s in series}
        self._tick = 0

    def batch(self, rows: int) -> list[Row]:
        out: list[Row] = []
        while len(out) < rows:
            base = START + self._tick * TICK
            order = list(self._machines)
            self._rng.shuffle(order)
            for tenant, machine in order:
                self._seq[(tenant, machine)] += 1
                seq = self._seq[(tenant, machine)]
                # Devices' clocks and send times differ by a little within a tick.
                ts = base + timedelta(milliseconds=self._rng.randrange(2000))
                for name in COUNTERS:
                    key = (tenant, machine, name)
                    self._value[key] += self._rng.randrange(3)
                    value = self._value[key]
                    out.append(
                        (tenant, machine, name, ts, value, self._boot[(tenant, machine)], seq)
                    )
            self._tick += 1
        return out

    @property
    def end(self) -> datetime:
        return START + self._tick * TICK


async def create_tables(connection: asyncpg.Connection[asyncpg.Record], days: int) -> None:
    series = fleet()
    await connection.execute(
        "CREATE TABLE bench_series (series integer PRIMARY KEY, tenant text NOT NULL, "
        "machine text NOT NULL, name text NOT NULL, UNIQUE (tenant, machine, name))"
    )
    await connection.executemany(
        "INSERT INTO bench_series VALUES ($1, $2, $3, $4)",
        [(s.id, s.tenant, s.machine, s.name) for s in series],
    )
    for variant in VARIANTS:
        table = variant.key
        await connection.execute(
            f"CREATE TABLE {table} ({variant.columns_ddl}) PARTITION BY RANGE (ts)"
        )
        if variant.index_ddl:
            await connection.execute(variant.index_ddl.format(table=table))
        for n in range(days):
            day = START.date() + timedelta(days=n)
            await connection.execute(
                f"CREATE TABLE {table}_{day:%Y%m%d} PARTITION OF {table} "
                f"FOR VALUES FROM ('{day}') TO ('{day + timedelta(days=1)}')"
            )


async def ingest(
    connection: asyncpg.Connection[asyncpg.Record], total_rows: int, budget: Deadline
) -> tuple[dict[str, Measured], list[dict[str, float]], datetime]:
    series = fleet()
    ids = {(s.tenant, s.machine, s.name): s.id for s in series}
    feed = Feed(series)
    measured = {v.key: Measured() for v in VARIANTS}
    per_batch: list[dict[str, float]] = []
    done = 0
    n = 0
    while done < total_rows and not budget.passed:
        base = feed.batch(BATCH_ROWS)
        shaped = {v.key: v.shape(base, ids) for v in VARIANTS}
        timings: dict[str, float] = {}
        # Rotate the order, so no variant always follows the same neighbour (checkpoints,
        # background writer, autovacuum are then shared out fairly).
        order = VARIANTS[n % len(VARIANTS) :] + VARIANTS[: n % len(VARIANTS)]
        for variant in order:
            rows = shaped[variant.key]
            started = time.perf_counter()
            if variant.sort_batch:
                rows.sort(key=itemgetter(0, 1, 2, 3))
            await connection.copy_records_to_table(
                variant.key, records=rows, columns=list(variant.columns)
            )
            elapsed = time.perf_counter() - started
            timings[variant.key] = elapsed
            measured[variant.key].seconds.append(elapsed)
            measured[variant.key].rows += len(rows)
        per_batch.append(timings)
        done += len(base)
        n += 1
        if n % 20 == 0:
            print(f"  {done:,} rows into each of {len(VARIANTS)} tables", flush=True)
    return measured, per_batch, feed.end


async def sizes(connection: asyncpg.Connection[asyncpg.Record], table: str) -> tuple[int, int]:
    """Bytes of the heap and of the indexes, over all partitions."""
    heap = await connection.fetchval(
        "SELECT coalesce(sum(pg_relation_size(relid)), 0) FROM pg_partition_tree($1)", table
    )
    indexes = await connection.fetchval(
        "SELECT coalesce(sum(pg_indexes_size(relid)), 0) FROM pg_partition_tree($1)", table
    )
    return int(heap), int(indexes)


@dataclass(frozen=True)
class Read:
    execution_ms: float
    planning_ms: float
    buffers: int
    buffers_read: int
    rows: int
    plan: str


async def hot_read(
    connection: asyncpg.Connection[asyncpg.Record],
    variant: Variant,
    key: tuple[str, str, str],
    start: datetime,
    *,
    table: str | None = None,
) -> Read:
    sql = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + variant.read.format(
        table=table or variant.key
    )
    answer = await connection.fetchval(sql, *key, start, start + timedelta(hours=1))
    explained = json.loads(answer)[0]
    top = explained["Plan"]
    return Read(
        execution_ms=float(explained["Execution Time"]),
        planning_ms=float(explained["Planning Time"]),
        buffers=int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0)),
        buffers_read=int(top.get("Shared Read Blocks", 0)),
        rows=int(top["Actual Rows"]),
        plan=_scans(top),
    )


def _scans(node: dict[str, object]) -> str:
    """The scan nodes of a plan, e.g. 'Index Scan' or 'Bitmap Heap Scan' (not the InitPlan's
    lookup of the series id)."""
    found: list[str] = []

    def walk(n: object) -> None:
        if not isinstance(n, dict) or n.get("Parent Relationship") == "InitPlan":
            return
        kind = str(n.get("Node Type", ""))
        if "Scan" in kind and kind not in found:
            found.append(kind)
        children = n.get("Plans", [])
        for child in children if isinstance(children, list) else []:
            walk(child)

    walk(node)
    return ", ".join(found)


@dataclass(frozen=True)
class ReadSummary:
    median_execution_ms: float
    max_execution_ms: float
    median_planning_ms: float
    median_buffers: float
    buffers_read_from_disk_or_os: int
    median_rows: float
    plan: str


@dataclass(frozen=True)
class VariantResult:
    variant: str
    description: str
    rows: int
    rows_per_s: int
    ratio_to_ceiling: float
    median_batch_ratio_to_ceiling: float
    heap_mb_per_million_rows: float
    index_mb_per_million_rows: float
    read_one_machine_signal_hour: ReadSummary


async def run(total_rows: int) -> tuple[dict[str, object], list[VariantResult]]:
    info = machine_info()
    with servers(fast=False, need_nats=False) as found:
        async with scratch_database(found.database_url, "tally_bench_idx") as url:
            pg = await postgres_info(url)
            connection = await asyncpg.connect(url)
            try:
                setup, results = await measure(connection, total_rows)
            finally:
                await connection.close()
    header: dict[str, object] = {
        "benchmark": "raw_table_indexes",
        "machine": info,
        "postgres": {**pg, "embedded": found.embedded_postgres},
        "setup": setup,
    }
    return header, results


async def measure(
    connection: asyncpg.Connection[asyncpg.Record], total_rows: int
) -> tuple[dict[str, object], list[VariantResult]]:
    series = fleet()
    span_seconds = total_rows / len(series) * TICK.total_seconds()
    days = int((START.hour * 3600 + span_seconds) // 86_400) + 2
    await create_tables(connection, days)
    print(f"COPY of {total_rows:,} rows in {BATCH_ROWS:,}-row batches into each variant …")
    measured, per_batch, end = await ingest(connection, total_rows, Deadline(140))
    for variant in VARIANTS:
        await connection.execute(f"VACUUM ANALYZE {variant.key}")

    ceiling = measured["a_no_index"]
    ceiling_rate = ceiling.rows / sum(ceiling.seconds)
    rng = random.Random(11)
    hours = max(1, int((end - START).total_seconds() // 3600) - 1)
    picks = [
        (
            rng.choice(series),
            START + timedelta(hours=rng.randrange(hours), minutes=rng.randrange(60)),
        )
        for _ in range(15)
    ]
    results: list[VariantResult] = []
    for variant in VARIANTS:
        m = measured[variant.key]
        rate = m.rows / sum(m.seconds)
        paired = [b["a_no_index"] / b[variant.key] for b in per_batch if b[variant.key] > 0]
        heap, index = await sizes(connection, variant.key)
        reads = [
            await hot_read(connection, variant, (s.tenant, s.machine, s.name), at)
            for s, at in picks
        ]
        results.append(
            VariantResult(
                variant=variant.key,
                description=variant.description,
                rows=m.rows,
                rows_per_s=round(rate),
                ratio_to_ceiling=round(rate / ceiling_rate, 3),
                median_batch_ratio_to_ceiling=round(median(paired), 3),
                heap_mb_per_million_rows=round(heap / m.rows * 1e6 / 2**20, 1),
                index_mb_per_million_rows=round(index / m.rows * 1e6 / 2**20, 2),
                read_one_machine_signal_hour=ReadSummary(
                    median_execution_ms=round(median([r.execution_ms for r in reads]), 3),
                    max_execution_ms=round(max(r.execution_ms for r in reads), 3),
                    median_planning_ms=round(median([r.planning_ms for r in reads]), 3),
                    median_buffers=median([r.buffers for r in reads]),
                    buffers_read_from_disk_or_os=sum(r.buffers_read for r in reads),
                    median_rows=median([r.rows for r in reads]),
                    plan=reads[0].plan,
                ),
            )
        )
    built = await build_afterwards(connection, ceiling.rows, picks)
    setup: dict[str, object] = {
        "btree_4col_built_after_the_fact_on_the_unindexed_table": built,
        "batch_rows": BATCH_ROWS,
        "rows_per_variant": ceiling.rows,
        "batches": len(per_batch),
        "series": len(series),
        "tick_seconds": TICK.total_seconds(),
        "rows_per_day_at_this_rate": int(86_400 / TICK.total_seconds() * len(series)),
        "data_span_hours": round((end - START).total_seconds() / 3600, 1),
        "ceiling_rows_per_s": round(ceiling_rate),
        "hot_read": "one machine, one counter, one hour (15 random picks, same for all)",
    }
    return setup, results


async def build_afterwards(
    connection: asyncpg.Connection[asyncpg.Record],
    rows: int,
    picks: list[tuple[Series, datetime]],
) -> dict[str, object]:
    """The same 4-column btree made by CREATE INDEX once the data is in (as for a closed day's
    partition): a sorted build fills its pages, inserts one by one split them half-full."""
    table = VARIANTS[0].key
    started = time.perf_counter()
    await connection.execute(f"CREATE INDEX built_after ON {table} (tenant, machine, name, ts)")
    seconds = time.perf_counter() - started
    await connection.execute(f"ANALYZE {table}")
    _, index = await sizes(connection, table)
    reads = [
        await hot_read(connection, VARIANTS[1], (s.tenant, s.machine, s.name), at, table=table)
        for s, at in picks
    ]
    return {
        "build_seconds": round(seconds, 2),
        "build_rows_per_s": round(rows / seconds),
        "index_mb_per_million_rows": round(index / rows * 1e6 / 2**20, 2),
        "read_median_execution_ms": round(median([r.execution_ms for r in reads]), 3),
        "read_median_buffers": median([r.buffers for r in reads]),
    }


def report(results: list[VariantResult]) -> None:
    print_table(
        [
            "variant",
            "rows/s",
            "ratio",
            "batch ratio",
            "index MB/M rows",
            "heap MB/M rows",
            "read ms",
            "read buffers",
            "plan",
        ],
        [
            (
                v.variant,
                v.rows_per_s,
                v.ratio_to_ceiling,
                v.median_batch_ratio_to_ceiling,
                v.index_mb_per_million_rows,
                v.heap_mb_per_million_rows,
                v.read_one_machine_signal_hour.median_execution_ms,
                v.read_one_machine_signal_hour.median_buffers,
                v.read_one_machine_signal_hour.plan,
            )
            for v in results
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300k rows per variant")
    parser.add_argument("--rows", type=int, help="rows per variant (default 3M, quick 300k)")
    args = parser.parse_args()
    total = args.rows or (300_000 if args.quick else 3_000_000)
    started = time.monotonic()
    header, results = asyncio.run(run(total))
    header["quick"] = args.quick
    header["wall_seconds"] = round(time.monotonic() - started, 1)
    header["variants"] = [asdict(r) for r in results]
    print()
    report(results)
    setup = header["setup"]
    assert isinstance(setup, dict)
    print(f"\nceiling: {setup['ceiling_rows_per_s']:,} rows/s")
    print(
        "4-column btree built after the fact on the ceiling's table:",
        setup["btree_4col_built_after_the_fact_on_the_unindexed_table"],
    )
    print(f"\nwritten to {write_results('raw_table_indexes', header, quick=args.quick)}")


if __name__ == "__main__":
    main()
