"""The ground truth: a stable file, internally consistent, and equal to what the stream says
when it is read the way FIGURES.md reads it — in device time."""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import msgspec
import pytest

from tally.calendar import SiteCalendar
from tally.contracts import Counter, MachineMessage, State, Weighing
from tally.simulator import (
    MachineDayTruth,
    MemorySender,
    OeeTruth,
    Simulation,
    TenantTruth,
    TruthFile,
    read_truth,
    write_truth,
)

from .conftest import REPRICED_AT

Run = tuple[Simulation, MemorySender]
EPSILON = 1e-6


@pytest.fixture(scope="module")
def truth(dst_run: Run) -> TruthFile:
    return dst_run[0].truth.to_file()


def tenants(truth: TruthFile) -> dict[str, TenantTruth]:
    return {tenant.tenant: tenant for tenant in truth.tenants}


def complete(truth: TruthFile) -> list[tuple[TenantTruth, MachineDayTruth]]:
    return [(t, row) for t in truth.tenants for row in t.days if row.complete]


def calendar_of(run: Run, tenant: str, machine: str) -> SiteCalendar:
    for placement in run[0].fleet.placements():
        if placement.tenant.id == tenant and placement.machine.id == machine:
            return placement.site.calendar()
    raise AssertionError(f"no machine {tenant}/{machine}")


def stream(run: Run, tenant: str, machine: str) -> list[MachineMessage]:
    """The machine's distinct messages, ordered by their device time (then boot, seq)."""
    distinct = {(m.boot_id, m.seq): m for m in run[1].messages(tenant, machine)}
    return sorted(distinct.values(), key=lambda m: (m.ts, m.boot_id, m.seq))


def test_the_file_round_trips(day_run: Run, tmp_path: Path) -> None:
    truth = day_run[0].truth
    path = tmp_path / "truth.json"
    write_truth(truth, path)
    assert read_truth(path) == truth.to_file()
    assert msgspec.json.decode(truth.to_json(), type=TruthFile) == truth.to_file()
    assert truth.to_file().time_basis == "device"


def test_the_run_holds_what_the_end_to_end_test_needs(dst_run: Run, truth: TruthFile) -> None:
    zones = {p.tenant.id: p.site.timezone for p in dst_run[0].fleet.placements()}
    assert len(set(zones.values())) == 2
    rows = [row for _, row in complete(truth)]
    assert any(row.day_end - row.day_start == timedelta(hours=25) for row in rows)
    assert sum(row.counter_resets for t in truth.tenants for row in t.days) > 0
    assert sum(row.reboots for t in truth.tenants for row in t.days) > 0
    assert sum(t.duplicates_sent for t in truth.tenants) > 0
    assert any(row.no_data_seconds > 0 for row in rows)  # an injected silence
    assert any(row.clock_skew_s for row in rows)
    lots = [lot for t in truth.tenants for lot in t.lots]
    assert {lot.compliant for lot in lots} == {True, False, None}
    assert any(lot.below_t1 and lot.compliant for lot in lots)
    # 15- and 16-bit counters wrap within a day: a drop from near the rollover, same boot.
    wraps: dict[int, int] = defaultdict(int)
    for p in dst_run[0].fleet.placements():
        rollover = p.machine.counter_rollover
        counter = "cycles" if p.machine.type == "slicer" else "packs_total"
        samples = [
            (m.boot_id, sig.value)
            for m in stream(dst_run, p.tenant.id, p.machine.id)
            for sig in m.signals
            if isinstance(sig, Counter) and sig.name == counter
        ]
        wraps[rollover] += sum(
            1
            for (boot_a, prev), (boot_b, cur) in itertools.pairwise(samples)
            if boot_a == boot_b and cur < prev and prev > rollover - 1000
        )
    assert wraps[32_767] > 0
    assert wraps[65_535] > 0
    # Reordering: some message of a machine arrived after one it preceded.
    late = 0
    for sent in _per_machine(dst_run[1]).values():
        late += sum(
            1 for a, b in itertools.pairwise(sent) if (b.boot_id, b.seq) < (a.boot_id, a.seq)
        )
    assert late > 0


def test_every_planned_second_is_accounted_once(truth: TruthFile) -> None:
    for tenant in truth.tenants:
        for row in tenant.days:
            figures = row.figures
            accounted = (
                row.running_seconds
                + figures.losses.micro_stop_seconds
                + sum(figures.losses.availability_seconds.values())
            )
            assert figures.ppt_seconds == pytest.approx(row.planned_seconds - row.excluded_seconds)
            assert accounted == pytest.approx(figures.ppt_seconds, abs=EPSILON)
            assert figures.run_seconds == pytest.approx(
                row.running_seconds + figures.losses.micro_stop_seconds
            )


def test_planned_time_follows_the_plan_across_the_dst_change(
    dst_run: Run, truth: TruthFile
) -> None:
    plans = {(p.tenant.id, p.site.id): p.site.plan.name for p in dst_run[0].fleet.placements()}
    # 2×8 with two 30-min breaks: 15 h, whatever the day's length; 3×8 loses 90 min of cleaning
    # from a night shift of 8 h (7 h on the short day, 9 h on the long one).
    expected: dict[tuple[str, int], float] = {
        ("2x8+cleaning", hours): 15 * 3600 for hours in (23, 24, 25)
    }
    expected |= {("3x8", hours): (15 + hours - 16 - 1.5) * 3600 for hours in (23, 24, 25)}
    for tenant, row in complete(truth):
        plan = plans[tenant.tenant, row.site]
        hours = round((row.day_end - row.day_start).total_seconds() / 3600)
        assert row.planned_seconds == expected[(plan, hours)], (row.machine, row.production_day)


def test_oee_is_the_product_of_its_factors_and_losses_add_up(truth: TruthFile) -> None:
    figures: list[OeeTruth] = [row.figures for t in truth.tenants for row in t.days]
    figures += [line.figures for t in truth.tenants for line in t.lines]
    checked = 0
    for f in figures:
        losses = f.losses
        total = (
            sum(losses.availability_seconds.values())
            + losses.micro_stop_seconds
            + losses.speed_seconds
            + losses.quality_seconds
        )
        assert total == pytest.approx(f.ppt_seconds - f.fpt_seconds, abs=EPSILON)
        if f.availability is None or f.performance is None or f.quality is None:
            continue
        assert f.oee is not None
        assert f.availability * f.performance * f.quality == pytest.approx(f.oee)
        assert f.oee * f.ppt_seconds == pytest.approx(f.fpt_seconds)
        checked += 1
    assert checked > 10


def test_a_line_takes_a_and_p_at_its_thermoformer_and_q_at_its_checkweigher(
    truth: TruthFile,
) -> None:
    for tenant in truth.tenants:
        rows = {(row.machine, row.production_day): row for row in tenant.days}
        for line in tenant.lines:
            constraint = rows[(line.constraint_machine, line.production_day)]
            end = rows[(line.end_of_line_machine, line.production_day)]
            assert constraint.machine_type == "thermoformer"
            assert end.machine_type == "checkweigher"
            assert line.figures.availability == constraint.figures.availability
            assert line.figures.performance == constraint.figures.performance
            assert line.figures.quality == end.figures.quality
            assert line.packs_good == end.packs_good == sum(a.accepted for a in end.articles)


def test_completeness_is_the_share_of_planned_time_with_data(truth: TruthFile) -> None:
    rows = [row for _, row in complete(truth)]
    assert all(row.completeness == 1.0 for row in rows if not row.no_data_seconds)
    gappy = [row for row in rows if row.no_data_seconds]
    assert gappy
    for row in gappy:
        # The silences lie inside faults, in planned time: every no-data second is planned.
        lost = row.figures.losses.availability_seconds.get("no_data", 0.0)
        assert row.completeness == pytest.approx(1 - lost / row.planned_seconds)
        assert row.completeness < 1


def test_the_seconds_of_a_complete_day_add_up_to_its_length(truth: TruthFile) -> None:
    for _, row in complete(truth):
        length = (row.day_end - row.day_start).total_seconds()
        assert sum(row.state_seconds.values()) + row.no_data_seconds == length
        assert sum(row.category_seconds.values()) == length
        assert sum(row.mode_seconds.values()) == sum(row.state_seconds.values())
        assert row.category_seconds.get("no_data", 0) == row.no_data_seconds


def test_the_stream_replayed_gives_the_states_and_gaps_of_the_truth(
    dst_run: Run, truth: TruthFile
) -> None:
    for tenant, row in complete(truth):
        messages = stream(dst_run, tenant.tenant, row.machine)
        replayed = _replay(
            messages, tenant.gap_seconds, row.day_start.timestamp(), row.day_end.timestamp()
        )
        assert replayed == (row.state_seconds, row.no_data_seconds), (
            row.machine,
            row.production_day,
        )


@pytest.mark.slow
def test_packs_in_planned_time_read_from_the_counters_equal_the_truths(
    dst_run: Run, truth: TruthFile
) -> None:
    specs = {(p.tenant.id, p.machine.id): p.machine for p in dst_run[0].fleet.placements()}
    checked = 0
    for tenant, row in complete(truth):
        spec = specs[(tenant.tenant, row.machine)]
        calendar = calendar_of(dst_run, tenant.tenant, row.machine)
        start, end = row.day_start.timestamp(), row.day_end.timestamp()
        counter = "cycles" if spec.type == "slicer" else "packs_total"
        messages = stream(dst_run, tenant.tenant, row.machine)
        spread = _spread(messages, counter, spec.counter_rollover, spec.max_rate_ppm)
        planned = sum(n * _planned_share(calendar, a, b) for a, b, n in spread if start <= a < end)
        assert planned == pytest.approx(row.packs_in_ppt, abs=1e-6), (
            row.machine,
            row.production_day,
        )
        if spec.type == "checkweigher":
            good = _spread(messages, "packs_good", spec.counter_rollover, spec.max_rate_ppm)
            in_ppt = sum(n * _planned_share(calendar, a, b) for a, b, n in good if start <= a < end)
            assert in_ppt == pytest.approx(row.good_in_ppt, abs=1e-6)
        checked += 1
    assert checked >= 12


def test_lots_read_from_the_weighings_equal_the_truths_lots(dst_run: Run, truth: TruthFile) -> None:
    for tenant in truth.tenants:
        found: dict[tuple[str, str, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        weighers = {lot.machine for lot in tenant.lots}
        for machine in weighers:
            calendar = calendar_of(dst_run, tenant.tenant, machine)
            for message in stream(dst_run, tenant.tenant, machine):
                for signal in message.signals:
                    if not isinstance(signal, Weighing):
                        continue
                    t = (signal.ts or message.ts).timestamp()
                    lot = found[(machine, signal.article, calendar.local_hour(t).start)]
                    lot[0] += 1
                    if signal.accepted:
                        dg = round(signal.net_g * 10)
                        lot[1] += 1
                        lot[2] += dg
                        lot[3] += dg * dg
        assert {
            (lot.machine, lot.article, int(lot.hour_start.timestamp())): [
                lot.packs,
                lot.accepted,
                lot.net_dg,
                lot.net_sq_dg,
            ]
            for lot in tenant.lots
        } == dict(found)


def test_lots_add_up_to_their_article_days(truth: TruthFile) -> None:
    for tenant in truth.tenants:
        lots: dict[tuple[str, date, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
        for lot in tenant.lots:
            sums = lots[(lot.machine, lot.production_day, lot.article)]
            for index, value in enumerate(
                (lot.packs, lot.accepted, lot.net_dg, lot.giveaway_dg, lot.below_t1, lot.below_t2)
            ):
                sums[index] += value
        for row in tenant.days:
            for article in row.articles:
                key = (row.machine, row.production_day, article.article)
                assert lots.pop(key) == [
                    article.packs,
                    article.accepted,
                    article.net_dg,
                    article.giveaway_dg,
                    article.below_t1,
                    article.below_t2,
                ]
                if article.lots:
                    assert article.compliant == (article.lots == article.lots_compliant)
        assert not lots


def test_a_lot_complies_by_the_three_rules(truth: TruthFile) -> None:
    for lot in [lot for t in truth.tenants for lot in t.lots if lot.compliant is not None]:
        assert lot.nominal_g is not None
        assert lot.mean_g is not None
        rules = (
            lot.net_dg >= round(lot.nominal_g * 10) * lot.accepted,
            lot.below_t1 <= 0.025 * lot.accepted,
            lot.below_t2 == 0,
        )
        assert lot.compliant == all(rules)
        assert lot.mean_g == pytest.approx(lot.net_dg / lot.accepted / 10)
        assert lot.sigma_g == pytest.approx(
            math.sqrt(lot.net_sq_dg / lot.accepted - (lot.net_dg / lot.accepted) ** 2) / 10
        )


def test_giveaway_is_valued_at_the_price_of_the_packs_time(dst_run: Run, truth: TruthFile) -> None:
    repriced = REPRICED_AT.timestamp()
    articles = {(t.id, a.id): a for t in dst_run[0].fleet.tenants for a in t.articles}
    seen = set()
    for tenant in truth.tenants:
        for lot in tenant.lots:
            if lot.nominal_g is None:
                continue
            article = articles[(tenant.tenant, lot.article)]
            after = lot.hour_start.timestamp() >= repriced
            assert lot.hour_end.timestamp() <= repriced or after
            price = article.repriced[0][1] if after else article.price_per_kg
            assert lot.giveaway_value == pytest.approx(lot.giveaway_dg / 10_000 * price, abs=1e-6)
            seen.add(after)
    assert seen == {False, True}


def test_a_skewed_machine_is_placed_by_its_own_clock(truth: TruthFile) -> None:
    skewed = [(t, row) for t, row in complete(truth) if row.clock_skew_s]
    assert skewed
    for _, row in skewed:
        neighbours = [
            other
            for _, other in complete(truth)
            if other.line == row.line
            and other.production_day == row.production_day
            and not other.clock_skew_s
        ]
        # The same stops, seen `skew` seconds apart.
        starts = {stop.start.timestamp() - row.clock_skew_s for stop in row.stops}
        assert starts & {stop.start.timestamp() for n in neighbours for stop in n.stops}


def test_stops_name_the_alarm_of_the_machine_that_stopped(truth: TruthFile) -> None:
    stops = [stop for _, row in complete(truth) for stop in row.stops]
    # Faults last 3 minutes or more and raise a first-out alarm on the culprit; a micro-stop
    # raises none, even where the tenant's threshold makes it an availability loss.
    faults = [
        s
        for s in stops
        if s.category in ("equipment_failure", "external_failure") and s.planned_seconds >= 180
    ]
    assert faults
    assert all(s.reason_code and s.reason_text for s in faults)
    assert all(s.reason_code is None for s in stops if s.category in ("starved", "blocked"))
    assert min(s.seconds for s in stops) >= 90  # the lowest micro-stop threshold of the fleet


def test_changeover_is_excluded_where_the_tenant_says_so(truth: TruthFile) -> None:
    by_tenant = tenants(truth)
    nordslice, alpenwerk = by_tenant["nordslice"], by_tenant["alpenwerk"]
    assert not nordslice.changeover_is_loss
    assert all(
        "changeover" not in row.figures.losses.availability_seconds for row in nordslice.days
    )
    assert any(row.excluded_seconds > 0 for row in nordslice.days)
    assert all(row.excluded_seconds == 0 for row in alpenwerk.days)
    assert any("changeover" in row.figures.losses.availability_seconds for row in alpenwerk.days)


# --- the reference reading of a stream, for the replay test ------------------------------------


def _per_machine(sender: MemorySender) -> dict[tuple[str, str], list[MachineMessage]]:
    found: dict[tuple[str, str], list[MachineMessage]] = defaultdict(list)
    for upload in sender.uploads:
        found[(upload.tenant, upload.machine)].extend(upload.upload.messages)
    return found


def _spread(
    messages: list[MachineMessage], counter: str, rollover: int, max_rate: float
) -> list[tuple[float, float, int]]:
    """A counter's increases (from, to, amount) by FIGURES.md's rules. Equal times are ordered by
    message (boot, seq) alone — a raw store keeps no place inside a message — so no message may
    hold two values of one counter at one time."""
    samples: dict[tuple[float, str, int], int] = {}
    for m in messages:
        for sig in m.signals:
            if isinstance(sig, Counter) and sig.name == counter:
                key = ((sig.ts or m.ts).timestamp(), m.boot_id, m.seq)
                assert samples.setdefault(key, sig.value) == sig.value, (counter, key)
    found = []
    for ((a, boot_a, _), prev), ((b, boot_b, _), cur) in itertools.pairwise(
        sorted(samples.items())
    ):
        if cur >= prev:
            step = cur - prev
        elif boot_a != boot_b:
            step = cur
        else:
            wrapped = rollover + 1 - prev + cur
            step = wrapped if wrapped <= max_rate * (b - a) / 60 + 1 else cur
        found.append((a, b, step))
    return found


def _planned_share(calendar: SiteCalendar, a: float, b: float) -> float:
    if b == a:
        return 1.0 if calendar.window_at(a).planned else 0.0
    return calendar.planned_seconds(a, b) / (b - a)


def _replay(
    messages: list[MachineMessage], gap: float, start: float, end: float
) -> tuple[dict[str, float], float]:
    """State seconds and no-data seconds of [start, end), read as FIGURES.md reads a stream."""
    changes = sorted(
        ((s.ts or m.ts).timestamp(), s.name)
        for m in messages
        for s in m.signals
        if isinstance(s, State)
    )
    stamps = [m.ts.timestamp() for m in messages]
    gaps = [(a, b) for a, b in itertools.pairwise(stamps) if b - a > gap]
    cuts = sorted({start, end, *(t for t, _ in changes), *(x for g in gaps for x in g)})
    cuts = [t for t in cuts if start <= t <= end]
    states: dict[str, float] = {}
    no_data = 0.0
    times = [t for t, _ in changes]
    for a, b in itertools.pairwise(cuts):
        if any(g0 <= a and b <= g1 for g0, g1 in gaps):
            no_data += b - a
            continue
        index = bisect_right(times, a) - 1
        if index < 0:
            no_data += b - a
            continue
        name = changes[index][1]
        states[name] = states.get(name, 0.0) + b - a
    return dict(sorted(states.items())), no_data
