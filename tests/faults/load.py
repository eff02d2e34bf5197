"""Load through the gateway, with the verdict on every message identity kept.

Machines of two tenants upload at a fast cadence, each over its own connection. Every upload
holds new message identities, and besides, deliberately:
- duplicates: an upload answered 200 is sent again unchanged;
- replays: after a fault, a machine re-sends what it sent before it (`Load.replay`);
- poisoned uploads: good messages with one invalid signal among them, which the gateway must
  refuse whole (422): none of their messages may be stored, and they are never sent again.

Refusals a machine is not to blame for (429, 5xx, no answer in time, no connection) are retried
with the same messages until answered 200, as a machine buffers and re-sends; Retry-After is
honoured. Both tenants use the same machine ids, boot ids and sequence numbers, so a message
stored under the wrong tenant shows up as lost for one and as a stranger for the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import msgspec

from tally.contracts import Counter as CounterSignal
from tally.contracts import Gauge, MachineMessage, Upload

Identity = tuple[str, str, str, int]
"""(tenant, machine, boot_id, seq): what identifies a message."""

SIGNALS_PER_MESSAGE = 3
"""Two counters (which carry boot_id and seq into their rows) and one gauge (whose name
carries the boot and whose value is the seq)."""

_TOO_MANY_REQUESTS = 429
_ENCODER = msgspec.json.Encoder()
# A gauge far out of the contract's range (±1e12): the gateway must refuse the whole upload.
_POISON = Gauge(name="poison", value=1e15)


@dataclass(frozen=True)
class Machine:
    """A machine of a tenant and its bearer token."""

    tenant: str
    machine: str
    token: str


@dataclass
class Verdicts:
    """What the gateway answered, per message identity and per request."""

    accepted: set[Identity] = field(default_factory=set)
    # Good messages of poisoned uploads: refused whole, never sent again.
    poisoned: set[Identity] = field(default_factory=set)
    # Answers by status ("no answer" for timeouts and broken connections).
    answers: Counter[str] = field(default_factory=Counter)
    # 503s that said when to come back.
    retry_after: int = 0
    # Uploads that gave up without a 200 (the retry deadline passed), and poisoned uploads that
    # got anything but a 4xx: both must stay 0.
    undelivered: int = 0
    poison_not_refused: int = 0

    @property
    def retried(self) -> int:
        """Requests refused for reasons a machine retries (429, 5xx, no answer)."""
        return sum(n for status, n in self.answers.items() if _retried(status))


class Load:
    """Drives `machines` against the gateway at `url()`: `messages_per_upload` new messages
    per upload, an upload per machine every `interval` seconds at most (as a machine sends
    every few seconds; the fault suite plays a fleet at high speed)."""

    def __init__(
        self,
        url: Callable[[], str],
        machines: list[Machine],
        *,
        messages_per_upload: int = 20,
        interval: float = 0.05,
        timeout: float = 10.0,
        give_up_after: float = 45.0,
        give_up_when_stopped: float = 20.0,
    ) -> None:
        self.verdicts = Verdicts()
        self.boot_id = f"faults-{secrets.token_hex(4)}"
        self._url = url
        self._machines = machines
        self._per_upload = messages_per_upload
        self._interval = interval
        self._timeout = timeout
        # How long a machine retries an upload; once the load is stopping, only this long more.
        self._give_up_after = give_up_after
        self._give_up_when_stopped = give_up_when_stopped
        self._stopped_at: float | None = None
        self._next_seq: dict[tuple[str, str], int] = {}
        # What each machine got answered 200 for, oldest first: its duplicates and replays.
        self._history: dict[tuple[str, str], list[MachineMessage]] = {}
        self._in_history: set[Identity] = set()
        self._stopping = asyncio.Event()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Load]:
        """Load while inside; on leaving, machines finish delivering what they hold."""
        self._stopping.clear()
        self._stopped_at = None
        limits = httpx.Limits(max_connections=len(self._machines) + 4)
        async with httpx.AsyncClient(timeout=self._timeout, limits=limits) as client:
            tasks = [asyncio.create_task(self._machine(client, m)) for m in self._machines]
            try:
                yield self
            finally:
                self._stopping.set()
                self._stopped_at = time.monotonic()
                await asyncio.gather(*tasks)

    async def canary(self) -> Identity | None:
        """Send one new message, retrying every 0.1 s until answered 200; its identity, or
        None when the machine gave up."""
        machine = self._machines[0]
        message = self._new_messages(machine, 1)[0]
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            accepted = await self._deliver(client, machine, [message], retry_every=0.1)
        return _identity(machine, message) if accepted else None

    async def replay(self) -> None:
        """Every machine re-sends what it sent so far (up to 500 messages), as after an outage."""
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            await asyncio.gather(
                *(
                    self._deliver(client, m, self._history.get((m.tenant, m.machine), [])[-500:])
                    for m in self._machines
                    if self._history.get((m.tenant, m.machine))
                )
            )

    async def _machine(self, client: httpx.AsyncClient, machine: Machine) -> None:
        uploads = 0
        next_upload = time.monotonic()
        while not self._stopping.is_set():
            # The machine's cadence (not a wait for an outcome).
            await asyncio.sleep(max(0.0, next_upload - time.monotonic()))
            next_upload = time.monotonic() + self._interval
            uploads += 1
            history = self._history.get((machine.tenant, machine.machine), [])
            if uploads % 7 == 0 and history:
                await self._deliver(client, machine, history[-self._per_upload :])
            elif uploads % 11 == 3:
                await self._poisoned(client, machine)
            else:
                await self._deliver(client, machine, self._new_messages(machine, self._per_upload))

    def _new_messages(self, machine: Machine, count: int) -> list[MachineMessage]:
        key = (machine.tenant, machine.machine)
        first = self._next_seq.get(key, 1)
        self._next_seq[key] = first + count
        now = datetime.now(UTC)
        return [
            MachineMessage(
                boot_id=self.boot_id,
                seq=seq,
                ts=now,
                signals=[
                    CounterSignal(name="packs_total", value=seq),
                    CounterSignal(name="packs_good", value=seq),
                    Gauge(name=f"seq:{self.boot_id}", value=float(seq), unit=machine.tenant),
                ],
            )
            for seq in range(first, first + count)
        ]

    async def _poisoned(self, client: httpx.AsyncClient, machine: Machine) -> None:
        good = self._new_messages(machine, self._per_upload)
        bad = good[-1]
        poisoned = [*good[:-1], msgspec.structs.replace(bad, signals=[*bad.signals, _POISON])]
        status = await self._send_until_answered(client, machine, poisoned, retry_every=0.2)
        identities = {_identity(machine, m) for m in poisoned}
        if status is not None and 400 <= status < 500:
            self.verdicts.poisoned.update(identities)
        else:
            self.verdicts.poison_not_refused += 1

    async def _deliver(
        self,
        client: httpx.AsyncClient,
        machine: Machine,
        messages: list[MachineMessage],
        *,
        retry_every: float = 0.2,
    ) -> bool:
        """Send until answered 200 (True), or until the machine gives up (False)."""
        status = await self._send_until_answered(client, machine, messages, retry_every)
        if status != httpx.codes.OK:
            self.verdicts.undelivered += 1
            return False
        history = self._history.setdefault((machine.tenant, machine.machine), [])
        for message in messages:
            identity = _identity(machine, message)
            self.verdicts.accepted.add(identity)
            if identity not in self._in_history:
                self._in_history.add(identity)
                history.append(message)
        return True

    async def _send_until_answered(
        self,
        client: httpx.AsyncClient,
        machine: Machine,
        messages: list[MachineMessage],
        retry_every: float,
    ) -> int | None:
        """POST until an answer a machine does not retry; that status, or None on giving up."""
        body = _ENCODER.encode(Upload(messages=messages))
        headers = {"Authorization": f"Bearer {machine.token}", "Content-Type": "application/json"}
        deadline = time.monotonic() + self._give_up_after
        while time.monotonic() < self._until(deadline):
            try:
                response = await client.post(
                    f"{self._url()}/v1/telemetry", content=body, headers=headers
                )
            except httpx.TransportError:  # includes timeouts: no answer
                self.verdicts.answers["no answer"] += 1
                await asyncio.sleep(retry_every)
                continue
            status = response.status_code
            self.verdicts.answers[str(status)] += 1
            if status != _TOO_MANY_REQUESTS and status < 500:
                return status
            wait = _retry_after(response)
            if status == httpx.codes.SERVICE_UNAVAILABLE and wait is not None:
                self.verdicts.retry_after += 1
            await asyncio.sleep(min(wait, 5.0) if wait is not None else retry_every)
        return None

    def _until(self, deadline: float) -> float:
        if self._stopped_at is None:
            return deadline
        return min(deadline, self._stopped_at + self._give_up_when_stopped)


def _identity(machine: Machine, message: MachineMessage) -> Identity:
    return (machine.tenant, machine.machine, message.boot_id, message.seq)


def _retried(status: str) -> bool:
    return not status.isdigit() or int(status) == _TOO_MANY_REQUESTS or int(status) >= 500


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None
