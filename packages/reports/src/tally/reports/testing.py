"""Production days for tests of whatever shows the figures (the reports, the api): a busy line
day with every part filled in (a catch-weight article, null ratios, a silent machine, a gap) and
an empty one, as the figures API answers with them.

    day = busy_line_day()                       # line l1 of site plant-1, 2026-03-02, Berlin
    day = busy_line_day(line="l7", site="s2")   # the same figures on another line
    site = site_day_of([day, empty_line_day()])
    book = DayBook(); book.put("alpenwerk", day)   # figures by tenant, line and day, for an
                                                   # api under test (the api's ReportDays)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from tally.contracts.figures import (
    ArticleDay,
    Completeness,
    DowntimeEntry,
    HourFigures,
    LineDay,
    LineSummary,
    MachineDay,
    OeeLosses,
    ShiftFigures,
    SiteDay,
    TimelineSpan,
    WeightDistribution,
)
from tally.sdk import Problem, Rejected, Tx

__all__ = [
    "PRODUCED",
    "DayBook",
    "busy_line_day",
    "empty_line_day",
    "site_day_of",
    "summary_of",
]

BERLIN = timezone(timedelta(hours=1))
START = datetime(2026, 3, 2, 6, 0, tzinfo=BERLIN)
END = START + timedelta(days=1)
PRODUCED = datetime(2026, 3, 3, 7, 15, tzinfo=UTC)


def _losses(planned: float, run: float) -> OeeLosses:
    return OeeLosses(
        planned_seconds=planned, excluded_seconds=0.0,
        stop_seconds={"changeover": 1800.0, "equipment failure": planned - run - 2400.0},
        no_data_seconds=600.0, micro_stop_seconds=300.0, speed_loss_seconds=1200.0,
        quality_loss_seconds=150.0, fully_productive_seconds=run - 1650.0,
    )  # fmt: skip


def _hours() -> list[HourFigures]:
    hours = []
    for n in range(16):
        good = 5400 + 37 * n
        hours.append(HourFigures(
            hour=START + timedelta(hours=n), good_packs=good, total_packs=good + 12,
            kg=good * 0.1013, mean_g=101.3 + (n % 4) * 0.1, rejects=12,
        ))  # fmt: skip
    hours.append(HourFigures(hour=START + timedelta(hours=16), good_packs=0, total_packs=0,
                             kg=0.0, mean_g=None, rejects=0))  # fmt: skip
    return hours


def busy_line_day(*, site: str = "plant-1", line: str = "l1") -> LineDay:
    planned, run = 16 * 3600.0, 13.25 * 3600.0
    salami = ArticleDay(
        article="salami-100", name="Salami 100 g", batch="B-0302", catch_weight=False,
        packs=70512, rejects={"metal": 12, "underweight": 180}, kg=7123.456, kg_declared=7032.0,
        qn_g=100.0, t1_g=95.5, t2_g=91.0, mean_g=101.31, sd_g=1.874, below_t1=41, below_t2=0,
        giveaway_g=92136.4, giveaway_pct=0.0131, giveaway_value=1372.83, compliant=True,
        speed_ratio=0.912,
    )  # fmt: skip
    ham = ArticleDay(
        article="ham-var", name="Ham (catch weight)", batch=None, catch_weight=True,
        packs=18000, rejects={"seal": 16}, kg=4210.05, kg_declared=None, qn_g=None, t1_g=None,
        t2_g=None, mean_g=233.9, sd_g=21.4, below_t1=0, below_t2=0, giveaway_g=None,
        giveaway_pct=None, giveaway_value=None, compliant=None, speed_ratio=None,
    )  # fmt: skip
    machines = [
        MachineDay(machine="l1-slicer", kind="slicer", packs_total=88720, packs_good=88720,
                   state_seconds={"running": 46800.0, "changeover": 1800.0},
                   planned_seconds=planned, run_seconds=run, oee=0.7712, availability=0.8281,
                   performance=0.9411, quality=0.9896),
        MachineDay(machine="l1-cw", kind="checkweigher", packs_total=88512, packs_good=88304,
                   state_seconds={"running": 47700.0}, planned_seconds=planned,
                   run_seconds=run, oee=0.7705, availability=0.8281, performance=0.9402,
                   quality=0.9976),
    ]  # fmt: skip
    timeline = [
        TimelineSpan(machine="l1-slicer", start=START, end=START + timedelta(hours=8),
                     state="Execute", category="running"),
        TimelineSpan(machine="l1-slicer", start=START + timedelta(hours=8),
                     end=START + timedelta(hours=8, minutes=30), state="Held",
                     category="changeover"),
        TimelineSpan(machine="l1-cw", start=START, end=START + timedelta(hours=16),
                     state="Execute", category="running"),
        TimelineSpan(machine="l1-cw", start=START + timedelta(hours=16), end=END,
                     state="no_data", category="no data"),
    ]  # fmt: skip
    return LineDay(
        site=site, line=line, name="Line 1", day=date(2026, 3, 2), timezone="Europe/Berlin",
        start=START, end=END, good_packs=88304, total_packs=88512,
        rejects={"metal": 12, "underweight": 180, "seal": 16}, kg=11333.506, kg_declared=7032.0,
        giveaway_g=92136.4, giveaway_pct=0.0131, giveaway_value=1372.83, oee=0.7705,
        availability=0.8281, performance=0.9402, quality=0.9976, planned_seconds=planned,
        run_seconds=run,
        completeness=Completeness(fraction=0.9896, silent_machines=["l1-labeller"],
                                  gap_seconds=600.0),
        machines=machines, articles=[salami, ham],
        shifts=[
            ShiftFigures(shift="early", start=START, end=START + timedelta(hours=8),
                         planned_seconds=28800.0, run_seconds=25200.0, good_packs=47000,
                         total_packs=47100, oee=0.8012, availability=0.875, performance=0.918,
                         quality=0.9979),
            ShiftFigures(shift="late", start=START + timedelta(hours=8),
                         end=START + timedelta(hours=16), planned_seconds=28800.0,
                         run_seconds=22500.0, good_packs=41304, total_packs=41412, oee=None,
                         availability=0.7813, performance=None, quality=0.9974),
        ],
        hours=_hours(),
        downtime=[
            DowntimeEntry(category="changeover", reason=None, count=1, seconds=1800.0),
            DowntimeEntry(category="equipment failure", reason="E042 blade jam", count=4,
                          seconds=5700.0),
        ],
        timeline=timeline, losses=_losses(planned, run),
        weights=[WeightDistribution(article="salami-100", qn_g=100.0, t1_g=95.5, t2_g=91.0,
                                    first_bin_g=95.0, bin_g=0.5, counts=[3, 38, 900, 60000])],
        plan_packs=90000,
    )  # fmt: skip


def empty_line_day(*, site: str = "plant-1", line: str = "l2") -> LineDay:
    """A day without production or data: no planned time, every ratio null."""
    return LineDay(
        site=site, line=line, name="Line 2", day=date(2026, 3, 1), timezone="Europe/Berlin",
        start=START - timedelta(days=1), end=START, good_packs=0, total_packs=0, rejects={},
        kg=0.0, kg_declared=None, giveaway_g=None, giveaway_pct=None, giveaway_value=None,
        oee=None, availability=None, performance=None, quality=None, planned_seconds=0.0,
        run_seconds=0.0,
        completeness=Completeness(fraction=0.0, silent_machines=["l2-cw"], gap_seconds=0.0),
        machines=[], articles=[], shifts=[], hours=[], downtime=[], timeline=[],
        losses=OeeLosses(planned_seconds=0.0, excluded_seconds=0.0, stop_seconds={},
                         no_data_seconds=0.0, micro_stop_seconds=0.0, speed_loss_seconds=0.0,
                         quality_loss_seconds=0.0, fully_productive_seconds=0.0),
        weights=[],
    )  # fmt: skip


def summary_of(day: LineDay) -> LineSummary:
    rejects = sum(day.rejects.values())
    return LineSummary(
        line=day.line, name=day.name, good_packs=day.good_packs, total_packs=day.total_packs,
        plan_packs=day.plan_packs, kg=day.kg, giveaway_pct=day.giveaway_pct,
        reject_pct=rejects / day.total_packs if day.total_packs else None, oee=day.oee,
        availability=day.availability, performance=day.performance, quality=day.quality,
        completeness=day.completeness.fraction,
    )  # fmt: skip


def site_day_of(lines: list[LineDay]) -> SiteDay:
    return SiteDay(site=lines[0].site, name="Kempten", day=lines[0].day, timezone="Europe/Berlin",
                   start=lines[0].start, end=lines[0].end,
                   lines=[summary_of(day) for day in lines])  # fmt: skip


class DayBook:
    """The figures of each tenant's line days as a test sets them, served as the api's figures
    builders serve theirs (a line or site the tenant has no day of is 404, naming it)."""

    def __init__(self) -> None:
        self.lines: dict[tuple[str, str, date], LineDay] = {}

    def put(self, tenant: str, day: LineDay) -> None:
        self.lines[(tenant, day.line, day.day)] = day

    async def line_day(self, tx: Tx, tenant: str, line: str, day: date) -> LineDay:
        found = self.lines.get((tenant, line, day))
        if found is None:
            raise _missing("line", line)
        return found

    async def site_day(self, tx: Tx, tenant: str, site: str, day: date) -> SiteDay:
        mine = [d for (t, _, on), d in sorted(self.lines.items()) if (t, on) == (tenant, day)]
        mine = [d for d in mine if d.site == site]
        if not mine:
            raise _missing("site", site)
        return site_day_of(mine)


def _missing(field: str, value: str) -> Rejected:
    detail = f"there is no {field} {value!r}"
    return Rejected(404, Problem(error="not_found", detail=detail, field=field, value=value))
