"""Typed read queries of the weighing figures, served from `weighing_lots` (never from the raw
weighings): a machine's or a line's day per article, the ℮ verdict per hour-lot of an article,
and the weight distribution. Sums are exact integers in SQL; grams, means and σ are made from
them here.

Periods are of lots: a lot belongs to the period holding its start (FIGURES.md: "a lot belongs
to the production day holding its start"), so a day of a site whose day starts on a whole
local hour holds exactly the weighings of the day.

Callers run these in a transaction scoped to the tenant (row-level security); the tenant is
also given explicitly, for the indexes.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import msgspec

from tally.calendar import LocalHour
from tally.figures._weighings_figures import (
    ArticleWeights,
    LineDayWeights,
    LotVerdict,
    WeightBin,
    WeightDistribution,
)
from tally.registry import RegistrySnapshot
from tally.sdk import Tx, query

DG_PER_KG = 10_000
MICROS_PER_UNIT = 1_000_000


class ArticleSumsRow(msgspec.Struct, frozen=True):
    article: str
    catch_weight: bool
    nominal_dg: int | None
    packs: int
    accepted: int
    rejected: int
    net_dg: int
    net_sq_dg: int
    min_dg: int | None
    max_dg: int | None
    fixed_accepted: int
    below_t1: int
    below_t2: int
    declared_dg: int
    giveaway_dg: int
    giveaway_micros: int
    lots: int
    lots_compliant: int
    compliant: bool | None


@query(
    ArticleSumsRow,
    """
    SELECT article, bool_and(catch_weight) AS catch_weight,
           (array_agg(nominal_dg ORDER BY hour_start DESC))[1] AS nominal_dg,
           sum(packs)::bigint AS packs, sum(accepted)::bigint AS accepted,
           sum(rejected)::bigint AS rejected, sum(net_dg)::bigint AS net_dg,
           sum(net_sq_dg)::bigint AS net_sq_dg, min(min_dg) AS min_dg, max(max_dg) AS max_dg,
           sum(fixed_accepted)::bigint AS fixed_accepted, sum(below_t1)::bigint AS below_t1,
           sum(below_t2)::bigint AS below_t2, sum(declared_dg)::bigint AS declared_dg,
           sum(giveaway_dg)::bigint AS giveaway_dg,
           sum(giveaway_micros)::bigint AS giveaway_micros,
           count(compliant) AS lots, count(*) FILTER (WHERE compliant) AS lots_compliant,
           bool_and(compliant) AS compliant
    FROM weighing_lots
    WHERE tenant = $1 AND machine = $2 AND hour_start >= $3 AND hour_start < $4
    GROUP BY article
    ORDER BY article
    """,
)
def article_sums(tenant: str, machine: str, start: datetime, end: datetime) -> None: ...


class ReasonRow(msgspec.Struct, frozen=True):
    article: str
    reason: str
    packs: int


@query(
    ReasonRow,
    """
    SELECT l.article, r.key AS reason, sum(r.value::bigint)::bigint AS packs
    FROM weighing_lots l, jsonb_each_text(l.rejects_by_reason) AS r
    WHERE l.tenant = $1 AND l.machine = $2 AND l.hour_start >= $3 AND l.hour_start < $4
    GROUP BY l.article, r.key
    ORDER BY l.article, r.key
    """,
)
def reject_reasons(tenant: str, machine: str, start: datetime, end: datetime) -> None: ...


class LotRow(msgspec.Struct, frozen=True):
    article: str
    machine: str
    hour_start: datetime
    hour_end: datetime
    local_hour: datetime
    utc_offset_minutes: int
    nominal_dg: int | None
    t1_dg: int | None
    t2_dg: int | None
    packs: int
    rejected: int
    fixed_accepted: int
    net_dg: int
    net_sq_dg: int
    accepted: int
    below_t1: int
    below_t2: int
    giveaway_dg: int
    compliant: bool | None


# Keyset paging: lots after (hour_start, machine) = ($5, $6), in that order.
@query(
    LotRow,
    """
    SELECT article, machine, hour_start, hour_end, local_hour, utc_offset_minutes, nominal_dg,
           t1_dg, t2_dg, packs, rejected, fixed_accepted, net_dg, net_sq_dg, accepted, below_t1,
           below_t2, giveaway_dg, compliant
    FROM weighing_lots
    WHERE tenant = $1 AND article = $2 AND hour_start >= $3 AND hour_start < $4
      AND ($5::timestamptz IS NULL OR (hour_start, machine) > ($5, $6::text))
    ORDER BY hour_start, machine
    LIMIT $7
    """,
)
def article_lots(
    tenant: str,
    article: str,
    start: datetime,
    end: datetime,
    after_start: datetime | None,
    after_machine: str | None,
    limit: int,
) -> None: ...


class BinRow(msgspec.Struct, frozen=True):
    article: str
    bin_dg: int
    low_dg: int
    accepted: int
    rejected: int


@query(
    BinRow,
    """
    SELECT l.article, l.hist_bin_dg::integer AS bin_dg, b.low AS low_dg,
           sum(b.accepted)::bigint AS accepted, sum(b.rejected)::bigint AS rejected
    FROM weighing_lots l,
         unnest(l.hist_bins, l.hist_accepted, l.hist_rejected) AS b(low, accepted, rejected)
    WHERE l.tenant = $1 AND l.machine = $2 AND l.hour_start >= $3 AND l.hour_start < $4
    GROUP BY l.article, l.hist_bin_dg, b.low
    ORDER BY l.article, l.hist_bin_dg, b.low
    """,
)
def weight_bins(tenant: str, machine: str, start: datetime, end: datetime) -> None: ...


class LimitsRow(msgspec.Struct, frozen=True):
    article: str
    nominal_dg: int | None
    t1_dg: int | None
    t2_dg: int | None


@query(
    LimitsRow,
    """
    SELECT DISTINCT ON (article) article, nominal_dg, t1_dg, t2_dg
    FROM weighing_lots
    WHERE tenant = $1 AND machine = $2 AND hour_start >= $3 AND hour_start < $4
    ORDER BY article, hour_start DESC
    """,
)
def latest_limits(tenant: str, machine: str, start: datetime, end: datetime) -> None: ...


async def article_weights(
    tx: Tx, tenant: str, machine: str, start: datetime, end: datetime
) -> list[ArticleWeights]:
    """The machine's weighings per article over the lots starting in [start, end)."""
    reasons: dict[str, dict[str, int]] = {}
    for row in await tx.fetch(reject_reasons(tenant, machine, start, end)):
        reasons.setdefault(row.article, {})[row.reason] = row.packs
    return [
        _article(row, reasons.get(row.article, {}))
        for row in await tx.fetch(article_sums(tenant, machine, start, end))
    ]


async def line_day_weights(
    tx: Tx, snapshot: RegistrySnapshot, line: str, day: date
) -> LineDayWeights | None:
    """A line's production day from its end-of-line machine (as set at the day's start); None
    when the registry has no such line."""
    view = snapshot.line(line)
    if view is None:
        return None
    span = view.site.calendar.day(day)
    start, end = _instant(span.start), _instant(span.end)
    machine = snapshot.end_of_line_machine(line, span.start)
    articles = (
        [] if machine is None else await article_weights(tx, snapshot.tenant, machine, start, end)
    )
    reasons: dict[str, int] = {}
    for article in articles:
        for reason, packs in article.rejects_by_reason.items():
            reasons[reason] = reasons.get(reason, 0) + packs
    declared = sum(round(a.kg_declared * DG_PER_KG) for a in articles)
    giveaway = sum(a.giveaway_dg for a in articles)
    net = sum(a.net_dg for a in articles)
    return LineDayWeights(
        line=line,
        day=day,
        machine=machine,
        day_start=start,
        day_end=end,
        packs=sum(a.packs for a in articles),
        accepted=sum(a.accepted for a in articles),
        rejects=sum(a.rejects for a in articles),
        rejects_by_reason=dict(sorted(reasons.items())),
        net_dg=net,
        kg=net / DG_PER_KG,
        kg_declared=declared / DG_PER_KG,
        giveaway_dg=giveaway,
        giveaway_g=giveaway / 10,
        giveaway_pct=100 * giveaway / declared if declared else None,
        giveaway_value=round(sum(a.giveaway_value for a in articles), 6),
        articles=articles,
    )


async def article_compliance(
    tx: Tx,
    snapshot: RegistrySnapshot,
    article: str,
    start: datetime,
    end: datetime,
    *,
    after: tuple[datetime, str] | None = None,
    limit: int = 1000,
) -> list[LotVerdict]:
    """The ℮ verdict of every lot of `article` starting in [start, end), across machines, by
    start then machine; at most `limit` of them, those after `after` (the last page's last
    lot's `(hour_start, machine)`)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    after_start, after_machine = after if after is not None else (None, None)
    rows = await tx.fetch(
        article_lots(snapshot.tenant, article, start, end, after_start, after_machine, limit)
    )
    return [_verdict(snapshot, row) for row in rows]


async def weight_distribution(
    tx: Tx, tenant: str, machine: str, start: datetime, end: datetime
) -> list[WeightDistribution]:
    """The machine's weighed packs per article by net weight over the lots starting in
    [start, end)."""
    limits = {
        row.article: row for row in await tx.fetch(latest_limits(tenant, machine, start, end))
    }
    found: dict[tuple[str, int], list[WeightBin]] = {}
    for row in await tx.fetch(weight_bins(tenant, machine, start, end)):
        found.setdefault((row.article, row.bin_dg), []).append(
            WeightBin(
                low_g=row.low_dg / 10,
                high_g=(row.low_dg + row.bin_dg) / 10,
                accepted=row.accepted,
                rejected=row.rejected,
            )
        )
    distributions = []
    for (article, bin_dg), bins in found.items():
        terms = limits.get(article)
        distributions.append(
            WeightDistribution(
                article=article,
                nominal_g=_grams(terms.nominal_dg if terms else None),
                t1_g=_grams(terms.t1_dg if terms else None),
                t2_g=_grams(terms.t2_dg if terms else None),
                bin_g=bin_dg / 10,
                bins=bins,
            )
        )
    return distributions


async def line_day_distribution(
    tx: Tx, snapshot: RegistrySnapshot, line: str, day: date
) -> list[WeightDistribution] | None:
    """The weight distribution of a line's production day at its end-of-line machine; None
    when the registry has no such line."""
    view = snapshot.line(line)
    if view is None:
        return None
    span = view.site.calendar.day(day)
    machine = snapshot.end_of_line_machine(line, span.start)
    if machine is None:
        return []
    start, end = _instant(span.start), _instant(span.end)
    return await weight_distribution(tx, snapshot.tenant, machine, start, end)


def _article(row: ArticleSumsRow, reasons: dict[str, int]) -> ArticleWeights:
    declared = row.declared_dg
    fixed = row.fixed_accepted
    return ArticleWeights(
        article=row.article,
        catch_weight=row.catch_weight,
        nominal_g=_grams(row.nominal_dg),
        packs=row.packs,
        accepted=row.accepted,
        rejects=row.rejected,
        rejects_by_reason=reasons,
        net_dg=row.net_dg,
        kg=row.net_dg / DG_PER_KG,
        kg_declared=declared / DG_PER_KG,
        mean_g=_mean_g(row.net_dg, row.accepted),
        sd_g=_sd_g(row.net_dg, row.net_sq_dg, row.accepted),
        min_g=_grams(row.min_dg),
        max_g=_grams(row.max_dg),
        below_t1=row.below_t1,
        below_t2=row.below_t2,
        giveaway_dg=row.giveaway_dg,
        giveaway_g=row.giveaway_dg / 10,
        giveaway_g_per_pack=row.giveaway_dg / fixed / 10 if fixed else None,
        giveaway_pct=100 * row.giveaway_dg / declared if declared else None,
        giveaway_value=round(row.giveaway_micros / MICROS_PER_UNIT, 6),
        lots=row.lots,
        lots_compliant=row.lots_compliant,
        compliant=row.compliant,
    )


def _verdict(snapshot: RegistrySnapshot, row: LotRow) -> LotVerdict:
    start = row.hour_start.timestamp()
    line = snapshot.line_at(row.machine, start)
    view = snapshot.line(line) if line is not None else None
    label = LocalHour(
        int(start), int(row.hour_end.timestamp()), row.local_hour, row.utc_offset_minutes
    ).label
    n = row.fixed_accepted
    judged = n > 0
    return LotVerdict(
        article=row.article,
        machine=row.machine,
        line=line,
        production_day=view.site.calendar.day_of(start).date if view is not None else None,
        hour_start=row.hour_start,
        hour_end=row.hour_end,
        local_hour=label,
        nominal_g=_grams(row.nominal_dg),
        t1_g=_grams(row.t1_dg),
        t2_g=_grams(row.t2_dg),
        weighed=row.packs,
        rejects=row.rejected,
        packs=n,
        mean_g=_mean_g(row.net_dg, row.accepted),
        sd_g=_sd_g(row.net_dg, row.net_sq_dg, row.accepted),
        below_t1=row.below_t1,
        below_t1_allowed=n // 40,
        below_t2=row.below_t2,
        mean_ok=row.giveaway_dg >= 0 if judged else None,
        below_t1_ok=40 * row.below_t1 <= n if judged else None,
        below_t2_ok=row.below_t2 == 0 if judged else None,
        compliant=row.compliant,
    )


def _instant(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _grams(dg: int | None) -> float | None:
    return None if dg is None else dg / 10


def _mean_g(net_dg: int, n: int) -> float | None:
    return net_dg / n / 10 if n else None


def _sd_g(net_dg: int, net_sq_dg: int, n: int) -> float | None:
    """Population σ in grams; n²·variance is exact in decigrams²."""
    if not n:
        return None
    return math.sqrt(n * net_sq_dg - net_dg * net_dg) / n / 10
