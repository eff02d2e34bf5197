"""One machine's controller: its state, counters, boot and gauges, as it reports them.

Counters wrap at the machine's rollover (value = count mod (rollover + 1)), start from zero at a
boot and at an operator reset. The machine samples its counters on every state change, after
every second it produced something, and once a minute otherwise — so between two samples it was
in one state, and splitting an increase in proportion to time is exact.
"""

from __future__ import annotations

import random

from tally.contracts import Alarm, Context, ContextEvent, Counter, Gauge, State
from tally.simulator._alarms import AlarmSpec
from tally.simulator._fleet import MachineSpec, MachineType
from tally.simulator._machine_tally import MachineTally
from tally.simulator._outbox import Outbox
from tally.simulator._states import MachineState
from tally.simulator._timeline import Job

COUNTERS: dict[MachineType, tuple[str, ...]] = {
    "slicer": ("cycles",),
    "thermoformer": ("cycles", "packs_total"),
    "checkweigher": ("packs_total", "packs_good", "rejects"),
    "labeller": ("packs_total",),
}
# type → (gauge name, unit, mean, standard deviation) of the machine's temperature.
TEMPERATURES: dict[MachineType, tuple[str, str, float, float]] = {
    "slicer": ("product_temp", "degC", -3.0, 0.6),
    "thermoformer": ("seal_temp", "degC", 145.0, 1.5),
    "checkweigher": ("ambient_temp", "degC", 8.0, 0.8),
    "labeller": ("ambient_temp", "degC", 9.0, 0.8),
}


class Machine:
    """A machine of a line; the line drives it, the outbox carries what it says."""

    __slots__ = (
        "_boot_prefix",
        "_gauge_rng",
        "_modulus",
        "_temperature",
        "counters",
        "outbox",
        "spec",
        "state",
        "tally",
        "values",
    )

    def __init__(
        self,
        spec: MachineSpec,
        outbox: Outbox,
        tally: MachineTally,
        gauge_rng: random.Random,
        boot_prefix: str,
    ) -> None:
        self.spec = spec
        self.outbox = outbox
        self.tally = tally
        self.counters = COUNTERS[spec.type]
        self.values = [0] * len(self.counters)
        self.state: MachineState | None = None
        self._modulus = spec.counter_rollover + 1
        self._gauge_rng = gauge_rng
        self._temperature = TEMPERATURES[spec.type]
        self._boot_prefix = boot_prefix

    def add(self, index: int, n: int) -> None:
        """Count n more on counter `index`, wrapping at the rollover."""
        self.values[index] = (self.values[index] + n) % self._modulus

    def sample(self, t: float) -> None:
        """Report every counter's value at true time t."""
        outbox = self.outbox
        ts = outbox.at(t)
        for name, value in zip(self.counters, self.values, strict=True):
            outbox.add(Counter(name=name, value=value, ts=ts))

    def set_state(self, t: int, state: MachineState) -> None:
        """Enter a state at t (reported only if it changed), with a counter sample."""
        if state == self.state:
            return
        self.state = state
        self.tally.enter(t, state)
        ts = self.outbox.at(t)
        self.outbox.add(
            State(
                name=state.name,
                model=self.spec.state_model,
                mode=state.mode,
                sub_state=state.sub_state,
                code=state.code,
                ts=ts,
            )
        )
        self.sample(t)

    def boot(self, t: int, job: Job) -> None:
        """Start a (new) boot at t: sequence 0, counters 0, the job announced again. The state
        is reported by the next `set_state`, as a controller does after start-up."""
        if self.state is not None:
            self.tally.reboot(t)
        self.outbox.reboot(t, f"{self._boot_prefix}-{t}")
        self.state = None
        self.values = [0] * len(self.counters)
        self.context(t, ContextEvent.ARTICLE_CHANGE, job)
        self.sample(t)

    def reset(self, t: int) -> None:
        """The operator zeroes the counters (shift or job start)."""
        self.values = [0] * len(self.counters)
        self.tally.reset(t)
        # The last count before the reset may carry this same instant: the zeros go in a
        # message of their own, whose higher sequence number orders them after it (samples
        # of equal time are ordered by message, never by their place inside one).
        self.outbox.finish()
        self.sample(t)

    def context(self, t: int, event: ContextEvent, job: Job, shift: str | None = None) -> None:
        """Report a context event about the job (or a shift start)."""
        ts = self.outbox.at(t)
        self.outbox.add(
            Context(
                event=event,
                article=job.article.id,
                batch=job.batch,
                order=job.order,
                shift=shift,
                ts=ts,
            )
        )

    def alarm(self, t: int, alarm: AlarmSpec, *, raised: bool) -> None:
        """Raise or clear a first-out alarm."""
        if raised:
            self.tally.alarm(t, alarm.code, alarm.text)
        ts = self.outbox.at(t)
        self.outbox.add(
            Alarm(
                code=alarm.code,
                raised=raised,
                category=alarm.category,
                first_out=True,
                text=alarm.text,
                ts=ts,
            )
        )

    def gauges(self, t: int, speed_ppm: float) -> None:
        """Report speed and temperature."""
        name, unit, mean, spread = self._temperature
        outbox = self.outbox
        ts = outbox.at(t)
        outbox.add(Gauge(name="speed", value=speed_ppm, unit="ppm", ts=ts))
        value = round(self._gauge_rng.gauss(mean, spread), 1)
        outbox.add(Gauge(name=name, value=value, unit=unit, ts=ts))
