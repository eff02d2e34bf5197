"""GET /v1/articles/{article}/compliance: the ℮ verdict of each hour-lot of an article (on
every machine that weighed it) starting in [from, to), from `tally.figures.article_compliance`.

A page ends at a whole hour, so that `next` (the first hour not shown) continues without
repeating or skipping a lot of another machine in the same hour.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import tally.figures as figures
from tally.api.ranges import Range
from tally.contracts.figures import Compliance, LotVerdict
from tally.registry import RegistrySnapshot
from tally.sdk import Tx


async def compliance_view(
    tx: Tx, snapshot: RegistrySnapshot, article: str, within: Range, limit: int
) -> Compliance:
    lots = await figures.article_compliance(
        tx, snapshot, article, within.start, within.end, limit=limit + 1
    )
    following = None
    if len(lots) > limit:
        following = lots[limit].hour_start
        shown = [lot for lot in lots[:limit] if lot.hour_start < following]
        # Every lot of the page in one hour (more machines than `limit`): show that hour whole.
        lots = shown or [lot for lot in lots if lot.hour_start == following]
        if not shown:
            following = None
    return Compliance(
        article=article, lots=[_verdict(snapshot, lot) for lot in lots], next=following
    )


def _verdict(snapshot: RegistrySnapshot, lot: figures.LotVerdict) -> LotVerdict:
    view = snapshot.line(lot.line) if lot.line is not None else None
    hour = lot.hour_start.astimezone(ZoneInfo(view.site.timezone)) if view else lot.hour_start
    return LotVerdict(
        machine=lot.machine,
        line=lot.line,
        hour=hour,
        packs=lot.packs,
        qn_g=lot.nominal_g,
        t1_g=lot.t1_g,
        t2_g=lot.t2_g,
        mean_g=lot.mean_g,
        below_t1=lot.below_t1,
        below_t2=lot.below_t2,
        allowed_below_t1=lot.below_t1_allowed,
        mean_ok=lot.mean_ok,
        t1_ok=lot.below_t1_ok,
        t2_ok=lot.below_t2_ok,
        compliant=lot.compliant,
    )
