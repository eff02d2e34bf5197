"""The dashboard's pages and charts, drawn from hand-made figures."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from tally.api.dashboard import charts
from tally.api.dashboard.layout import Picker, page
from tally.api.dashboard.line_day import line_day as draw_line_day
from tally.api.dashboard.overview import overview
from tally.contracts.figures import (
    ArticleDay,
    Completeness,
    DowntimeEntry,
    HourFigures,
    LineDay,
    LineSummary,
    LiveLine,
    MachineDay,
    OeeLosses,
    TimelineSpan,
    WeightDistribution,
)

BERLIN = timezone(timedelta(hours=1))
START = datetime(2026, 3, 2, 6, tzinfo=BERLIN)


def line_day(*, machine: str = "l1-cw", article: str = "salami-100") -> LineDay:
    hours = [
        HourFigures(
            hour=START + timedelta(hours=h), good_packs=100 + h, total_packs=103 + h, kg=10.0,
            mean_g=101.0, rejects=3,
        )
        for h in range(8)
    ]  # fmt: skip
    return LineDay(
        site="plant-1", line="l1", name="Line 1", day=date(2026, 3, 2), timezone="Europe/Berlin",
        start=START, end=START + timedelta(days=1), good_packs=828, total_packs=852,
        rejects={"underweight": 20, "metal": 4}, kg=83.6, kg_declared=82.8, giveaway_g=800.0,
        giveaway_pct=0.00966, giveaway_value=11.92, oee=0.7512, availability=0.9,
        performance=0.92, quality=0.9718, planned_seconds=28_800.0, run_seconds=25_920.0,
        completeness=Completeness(fraction=1.0, silent_machines=[], gap_seconds=0.0),
        machines=[
            MachineDay(
                machine=machine, kind="checkweigher", packs_total=852, packs_good=828,
                state_seconds={"Execute": 25_920.0, "Held": 2_880.0}, planned_seconds=28_800.0,
                run_seconds=25_920.0, oee=0.75, availability=0.9, performance=0.92,
                quality=0.97,
            )
        ],
        articles=[
            ArticleDay(
                article=article, name="Salami 100 g", catch_weight=False, packs=852,
                rejects={"underweight": 20}, kg=83.6, kg_declared=82.8, qn_g=100.0, t1_g=95.5,
                t2_g=91.0, mean_g=101.0, sd_g=1.2, below_t1=3, below_t2=0, giveaway_g=800.0,
                giveaway_pct=0.00966, giveaway_value=11.92, compliant=True,
            )
        ],
        shifts=[],
        hours=hours,
        downtime=[
            DowntimeEntry(category="equipment_failure", reason="E12 jam", count=3, seconds=2_400),
            DowntimeEntry(category="starved", reason=None, count=2, seconds=480),
        ],
        timeline=[
            TimelineSpan(
                machine=machine, start=START, end=START + timedelta(hours=4), state="Execute",
                category="running",
            ),
            TimelineSpan(
                machine=machine, start=START + timedelta(hours=4),
                end=START + timedelta(hours=5), state="Held", category="equipment_failure",
            ),
        ],
        losses=OeeLosses(
            planned_seconds=28_800.0, excluded_seconds=0.0,
            stop_seconds={"equipment_failure": 2_400.0, "starved": 480.0}, no_data_seconds=0.0,
            micro_stop_seconds=300.0, speed_loss_seconds=1_700.0, quality_loss_seconds=600.0,
            fully_productive_seconds=23_320.0,
        ),
        weights=[
            WeightDistribution(
                article=article, qn_g=100.0, t1_g=95.5, t2_g=91.0, first_bin_g=96.0, bin_g=1.0,
                counts=[1, 4, 30, 120, 300, 250, 100, 40, 7],
            )
        ],
    )  # fmt: skip


def _marks(svg: str) -> int:
    return len(re.findall(r"<rect ", svg))


def test_every_chart_of_a_line_day_has_marks() -> None:
    day = line_day()
    assert _marks(charts.hourly_packs(day.hours)) == 2 * len(day.hours)
    assert _marks(charts.weights(day.weights[0])) == len(day.weights[0].counts)
    assert _marks(charts.timeline(day.timeline, day.start, day.end)) == len(day.timeline)
    assert _marks(charts.pareto(day.downtime)) == len(day.downtime)
    # planned, one bar per stop category, micro-stops, speed, quality, fully productive
    assert _marks(charts.waterfall(day.losses)) == 1 + 2 + 3 + 1


def test_the_weight_chart_draws_qn_t1_and_t2() -> None:
    svg = charts.weights(line_day().weights[0])
    assert "Qn 100 g" in svg
    assert "T1 95.5 g" in svg
    assert "T2 91 g" in svg


def test_the_waterfall_ends_at_fully_productive_time() -> None:
    losses = line_day().losses
    svg = charts.waterfall(losses)
    assert f"{losses.fully_productive_seconds / 3600:.2f} h" in svg


def test_a_day_without_figures_says_so_instead_of_an_empty_chart() -> None:
    empty = OeeLosses(
        planned_seconds=0.0, excluded_seconds=0.0, stop_seconds={}, no_data_seconds=0.0,
        micro_stop_seconds=0.0, speed_loss_seconds=0.0, quality_loss_seconds=0.0,
        fully_productive_seconds=0.0,
    )  # fmt: skip
    assert "No planned time in this day." in charts.waterfall(empty)
    assert "No packs in this day." in charts.hourly_packs([])


def test_names_from_the_registry_are_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    html = draw_line_day(line_day(machine=hostile, article=hostile))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_the_line_page_shows_the_headline_figures_as_the_api_states_them() -> None:
    html = draw_line_day(line_day())
    assert '<dd data-field="oee">75.1 %</dd>' in html
    assert '<dd data-field="good_packs">828</dd>' in html
    assert "complies" in html


def test_the_overview_shows_each_line_with_its_figures() -> None:
    summary = LineSummary(
        line="l1", name="Line 1", good_packs=12_345, total_packs=12_500, plan_packs=20_000,
        kg=1234.5, giveaway_pct=0.012, reject_pct=0.0124, oee=0.8534, availability=0.9,
        performance=0.95, quality=0.99, completeness=1.0,
    )  # fmt: skip
    html = overview([summary], date(2026, 3, 2))
    assert '<dd data-field="good_packs">12\u202f345</dd>' in html
    assert '<dd data-field="oee">85.3 %</dd>' in html
    assert 'href="/dashboard/lines/l1?day=2026-03-02"' in html
    assert "<meter" in html


def test_a_page_has_a_skip_link_and_labelled_pickers() -> None:
    picker = Picker(action="/dashboard", sites=[("p1", "Kempten")], site="p1", day=None)
    html = page("Kempten", "<p>x</p>", picker=picker, csrf_token="t0ken")
    assert html.index('class="skip"') < html.index("<header>")
    assert '<label for="site-picker">' in html
    assert '<label for="day-picker">' in html
    assert '<meta name="csrf-token" content="t0ken">' in html


def test_a_live_line_names_its_state_beside_its_colour() -> None:
    summary = LineSummary(
        line="l1", name="Line 1", good_packs=1, total_packs=1, plan_packs=None, kg=0.1,
        giveaway_pct=None, reject_pct=None, oee=None, availability=None, performance=None,
        quality=None, completeness=1.0,
    )  # fmt: skip
    live = LiveLine(
        site="p1", line="l1", name="Line 1", state="Held", category="equipment_failure",
        since=START, day=date(2026, 3, 2), figures=summary, updated_at=START,
    )  # fmt: skip
    html = overview([summary], date(2026, 3, 2), [live])
    assert 'class="state cat-equipment_failure"' in html
    assert 'Held <span class="category">equipment failure since 06:00</span>' in html


def test_what_the_charts_show_is_also_in_words() -> None:
    html = draw_line_day(line_day())
    # The hours as a table, and the timeline's colours named with their time.
    assert "<summary>The hours as a table</summary>" in html
    assert '<th scope="row">06:00</th><td>100</td>' in html
    assert "running 4.00 h" in html
    assert "equipment failure 1.00 h" in html
