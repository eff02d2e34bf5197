"""One fault scenario: a database of its own, the services as processes, load, and the verdict.

    run = FaultRun(...)                       # made by the `fault_run` fixture
    gateway, recorder = await run.start()
    async with run.load.running():
        await run.flowing()                   # stored data is flowing before the fault
        ...inject the fault...
        recovery = await run.recovery(since=fault_end)
    result = await run.finish("scenario name", recovery)

`finish` replays every machine's history, waits until the recorder has nothing left in hand,
reconciles, and adds the line to the session's reconciliation table.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from tally.contracts import TELEMETRY_STREAM
from tally.sdk import NatsBroker
from tally.sdk.processes import free_port
from tally.sdk.testing import eventually
from tally.supervisor import ServiceProcess, ServiceProcesses, scrape, total

from .load import Identity, Load, Machine, Verdicts
from .reconcile import Reconciliation, is_stored, reconcile, stored_count
from .report import ScenarioReport


def uploads_accepted(verdicts: Verdicts) -> int:
    return verdicts.answers["200"]


def requests_refused(verdicts: Verdicts) -> int:
    return verdicts.retried


async def unacknowledged(recorder: ServiceProcess) -> int:
    """Messages the recorder's handler stored or found stored already, less those it
    acknowledged after its handler returned: 0 when every batch it handled was settled."""
    async with httpx.AsyncClient() as client:
        samples = await scrape(client, recorder.ops_url)
    handled = total(samples, "tally_recorder_messages_stored_total") + total(
        samples, "tally_recorder_duplicates_dropped_total"
    )
    return round(handled - total(samples, "tally_messages_handled_total", consumer="recorder"))


# Every module of the suite is marked so. A failing scenario still reconciles (its line says
# what went wrong), which takes its waits out in full: hence the longer timeout.
FAULT_SUITE = [
    pytest.mark.faults,
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.timeout(240),
]

# Generous: the machine is shared, and every wait ends as soon as its outcome holds.
OUTCOME_SECONDS = 45.0
_POLL = 0.1
_FLOWING_MESSAGES = 400


@dataclass
class FaultRun:
    """The scenario's servers, services and load; see the module docstring."""

    database_url: str  # a superuser's: reconciliation reads past row-level security
    nats_url: str
    services: ServiceProcesses
    machines: list[Machine]
    report: ScenarioReport

    def __post_init__(self) -> None:
        # One port for the gateway's whole life: machines keep the address they were given.
        self.gateway_port = free_port()
        self.load = Load(lambda: self.gateway_url, self.machines)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    async def start(
        self, *, recorder_workers: int = 1, recorder_env: dict[str, str] | None = None
    ) -> tuple[ServiceProcess, ServiceProcess]:
        """Start the gateway and the recorder and wait until both are ready."""
        gateway = self.services.start("gateway", port=self.gateway_port)
        recorder = self.services.start("recorder", workers=recorder_workers, extra=recorder_env)
        await self.services.wait_ready(gateway)
        await self.services.wait_ready(recorder)
        return gateway, recorder

    def restart(self, service: ServiceProcess) -> float:
        """Start a dead service again as it was (same port, workers and settings); returns
        when it was started: the fault's end."""
        ended = time.monotonic()
        self.services.start(
            service.name, port=service.port, workers=service.workers, extra=service.extra
        )
        return ended

    async def flowing(self, messages: int = _FLOWING_MESSAGES) -> None:
        """Wait until `messages` are stored: the pipeline is busy when the fault comes."""

        async def enough() -> bool:
            return await stored_count(self.database_url) >= messages

        await eventually(enough, OUTCOME_SECONDS, interval=_POLL)

    async def meanwhile(self, count: Callable[[Verdicts], int], more: int) -> None:
        """Keep the fault on until `count` of the verdicts has grown by `more`: the load felt
        it (e.g. `more` requests refused, or accepted while the database is down)."""
        verdicts = self.load.verdicts
        target = count(verdicts) + more
        await eventually(lambda: count(verdicts) >= target, OUTCOME_SECONDS)

    async def recovery(self, since: float) -> float | None:
        """Seconds from `since` (the fault's end) until a message sent after it is answered
        200 and stored; None if that did not happen within `OUTCOME_SECONDS`."""
        canary = await self.load.canary()
        if canary is None:
            return None
        found: Identity = canary

        async def stored() -> bool:
            return await is_stored(self.database_url, found)

        try:
            await eventually(stored, OUTCOME_SECONDS, interval=_POLL)
        except AssertionError:
            return None
        return time.monotonic() - since

    async def finish(
        self,
        scenario: str,
        recovery_seconds: float | None,
        *,
        settled_by: ServiceProcess | None = None,
    ) -> Reconciliation:
        """Replay, drain, reconcile; the line also goes into the reconciliation table.

        With `settled_by` (a recorder that ran throughout), also count the messages its
        handler took care of that it never acknowledged."""
        await self.load.replay()
        # Reconciled even when the wait runs out: the table then says what is missing.
        with contextlib.suppress(AssertionError):
            await self.drained()
        verdicts = self.load.verdicts
        unsettled = None if settled_by is None else await unacknowledged(settled_by)
        result = await reconcile(scenario, self.database_url, verdicts, recovery_seconds, unsettled)
        self.report.add(result)
        # The load did what it is for: both tenants stored, and poisoned uploads refused.
        assert {tenant for tenant, *_ in verdicts.accepted} == {m.tenant for m in self.machines}
        assert verdicts.poisoned or verdicts.poison_not_refused, verdicts.answers
        return result

    async def drained(self) -> None:
        """Wait until every message answered 200 is stored and the recorder holds nothing."""
        accepted = len(self.load.verdicts.accepted)
        broker = await NatsBroker.connect(self.nats_url)
        try:
            jetstream = broker.client.jetstream()

            async def done() -> bool:
                if await stored_count(self.database_url) < accepted:
                    return False
                info = await jetstream.consumer_info(TELEMETRY_STREAM.name, "recorder")
                return not (info.num_pending or info.num_ack_pending)

            await eventually(done, OUTCOME_SECONDS, interval=_POLL)
        finally:
            await broker.close()
