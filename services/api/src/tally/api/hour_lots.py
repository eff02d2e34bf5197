"""Weights per local hour of one machine, from the ℮ hour-lots of each article (the weighings'
finest grain): what the hourly figures and the production buckets show beside the packs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import tally.figures as figures
from tally.registry import RegistrySnapshot
from tally.sdk import Tx

_PAGE = 1000


@dataclass(frozen=True, slots=True)
class HourWeights:
    """One machine's weighings in one hour, every article together."""

    weighed: int
    rejects: int
    accepted: int
    kg: float
    giveaway_g: float | None

    @property
    def mean_g(self) -> float | None:
        return self.kg * 1000 / self.accepted if self.accepted else None


async def hour_weights(
    tx: Tx,
    snapshot: RegistrySnapshot,
    machine: str | None,
    articles: list[str],
    start: datetime,
    end: datetime,
) -> dict[datetime, HourWeights]:
    """The machine's lots starting in [start, end), summed per hour (keyed by the hour's
    start in UTC)."""
    if machine is None:
        return {}
    sums: dict[datetime, list[float]] = {}
    for article in articles:
        after: tuple[datetime, str] | None = None
        while True:
            lots = await figures.article_compliance(
                tx, snapshot, article, start, end, after=after, limit=_PAGE
            )
            for lot in lots:
                if lot.machine != machine:
                    continue
                accepted = lot.weighed - lot.rejects
                kg = (lot.mean_g or 0.0) * accepted / 1000
                giveaway = (
                    (lot.mean_g - lot.nominal_g) * lot.packs
                    if lot.mean_g is not None and lot.nominal_g is not None and lot.packs
                    else None
                )
                entry = sums.setdefault(lot.hour_start.astimezone(UTC), [0, 0, 0, 0.0, 0.0, 0])
                entry[0] += lot.weighed
                entry[1] += lot.rejects
                entry[2] += accepted
                entry[3] += kg
                if giveaway is not None:
                    entry[4] += giveaway
                    entry[5] = 1
            if len(lots) < _PAGE:
                break
            after = (lots[-1].hour_start, lots[-1].machine)
    return {
        hour: HourWeights(
            weighed=int(s[0]), rejects=int(s[1]), accepted=int(s[2]), kg=s[3],
            giveaway_g=s[4] if s[5] else None,
        )
        for hour, s in sums.items()
    }  # fmt: skip
