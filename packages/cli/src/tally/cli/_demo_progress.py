"""The demo's live view: throughput, lag, duplicates, retried uploads and memory, once a second.

On a terminal the block is redrawn in place; into a file or pipe it prints a line every few
seconds instead, so logs of CI runs stay readable.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Sequence

import httpx

from tally.simulator import TenantStats
from tally.supervisor import ServiceProcess, scrape, total

_CURSOR_UP = "\x1b[{n}F\x1b[J"


class Progress:
    def __init__(
        self,
        client: httpx.AsyncClient,
        stats: Callable[[], dict[str, TenantStats]],
        gateway: ServiceProcess,
        recorder: ServiceProcess,
        started: float,
        others: Sequence[ServiceProcess] = (),
    ) -> None:
        self._client = client
        self._stats = stats
        self._services = (gateway, recorder)
        # Services shown by their memory only (the rollup, the api): sampled for their peak too.
        self._others = tuple(others)
        self._started = started
        self._tty = sys.stdout.isatty()
        self._drawn = 0
        self._last: tuple[float, float, float] | None = None

    async def run(self) -> None:
        interval = 1.0 if self._tty else 5.0
        while True:
            await asyncio.sleep(interval)
            self._show(await self._lines())

    async def _lines(self) -> list[str]:
        gateway, recorder = self._services
        g = await scrape(self._client, gateway.ops_url)
        r = await scrape(self._client, recorder.ops_url)
        now = time.monotonic()
        accepted = total(g, "tally_gateway_datapoints_total")
        stored = total(r, "tally_recorder_datapoints_stored_total")
        # Rates need two samples; until then the totals since the start stand in.
        then, accepted_then, stored_then = self._last or (self._started, 0.0, 0.0)
        rate_in = (accepted - accepted_then) / (now - then)
        rate_out = (stored - stored_then) / (now - then)
        self._last = (now, accepted, stored)
        stats = self._stats().values()
        duplicates = sum(s.duplicates for s in stats) + total(
            r, "tally_recorder_duplicates_dropped_total"
        )
        lag = total(r, "tally_consumer_lag", consumer="recorder")
        # Told to wait (429 over budget, 503) or to send smaller (413): the simulator obliged.
        retried = sum(s.retries for s in stats)
        watched = (*self._services, *self._others)
        memory = "  ".join(f"{s.name} {s.rss() / 2**20:.0f} MB" for s in watched)
        return [
            f"[{now - self._started:6.0f} s]  accepted {rate_in:9,.0f} datapoints/s   "
            f"stored {rate_out:9,.0f} datapoints/s",
            f"           total accepted {accepted:,.0f}  stored {stored:,.0f}  "
            f"duplicates dropped {duplicates:,.0f}  recorder lag {lag:,.0f} msgs  "
            f"uploads retried {retried:,}",
            f"           memory: {memory}",
        ]

    def interrupted(self) -> None:
        """Something else was printed: draw the next view below it, not over it."""
        self._drawn = 0

    def _show(self, lines: list[str]) -> None:
        if self._tty:
            prefix = _CURSOR_UP.format(n=self._drawn) if self._drawn else ""
            sys.stdout.write(prefix + "\n".join(lines) + "\n")
            self._drawn = len(lines)
        else:
            sys.stdout.write(" | ".join(line.strip() for line in lines) + "\n")
        sys.stdout.flush()
