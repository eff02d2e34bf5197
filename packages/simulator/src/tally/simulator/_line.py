"""A packing line stepped through simulated time, one second at a time while it produces.

The line follows its timeline segment by segment. On entering a segment it reports states,
alarms and context changes; while it runs, every second yields whole packs at the segment's rate
(a fractional remainder carries over) and every machine counts them — the four machines are
coupled without buffers, so they make the same packs in the same second, except that the
labeller only sees what the checkweigher accepted. Idle stretches only cost their gauge and
counter heartbeats, so a night without shifts is cheap.

Now and then (`TransportProfile.silence_probability` of the long faults) one machine of the line
falls silent in the middle of the fault: what it says there is lost at the source, never sent.
The platform sees a data gap; the truth records one (its stops hold no state changes, so nothing
else is lost).
"""

from __future__ import annotations

import random

from tally.contracts import ContextEvent, Weighing
from tally.simulator._fleet import ArticleSpec, LineSpec, Placement, SiteSpec, TenantSpec
from tally.simulator._machines import COUNTERS, Machine
from tally.simulator._outbox import Outbox
from tally.simulator._states import line_states
from tally.simulator._timeline import Job, Segment, SegmentKind, Timeline
from tally.simulator._transport import Link, Outages, TransportProfile
from tally.simulator._truth import Truth
from tally.simulator._weights import Portions

GAUGE_SECONDS = 10
HEARTBEAT_SECONDS = 60
PACKS_PER_CYCLE = 4  # the thermoformer forms and seals a 2×2 format per cycle
# A silence leaves this much of its fault audible at each end, so the gap lies inside the stop.
SILENCE_MARGIN_SECONDS = 60
SILENCE_MIN_FAULT_SECONDS = 300


class Line:
    """One line's machines, driven by its timeline from `start` (epoch seconds) on."""

    def __init__(
        self,
        tenant: TenantSpec,
        site: SiteSpec,
        spec: LineSpec,
        *,
        seed: int,
        start: int,
        truth: Truth,
        profile: TransportProfile,
        historical: bool,
    ) -> None:
        key = f"{seed}:{tenant.id}:{spec.id}"
        articles = tuple(tenant.article(article_id) for article_id in spec.articles)
        self.tenant = tenant
        self.spec = spec
        self.t = start
        self._segments = iter(Timeline(site, spec, articles, random.Random(f"plan:{key}"), start))
        self._segment = next(self._segments)
        self._entered = False
        self._job: Job | None = None
        self._weights_rng = random.Random(f"weights:{key}")
        self._silence_rng = random.Random(f"silence:{key}")
        self._profile = profile
        weigher = next(m for m in spec.machines if m.type == "checkweigher")
        self._rejects_below = weigher.rejects_below
        self._portions = self._portions_of(articles[0])  # replaced at the first boot
        self._phase = 0.0
        self._formed = 0
        outages = Outages(random.Random(f"outages:{key}"), profile, start)
        gauge_rng = random.Random(f"gauges:{key}")
        prefix = f"s{seed}-{start}"
        self.machines: list[Machine] = []
        calendar = site.calendar()
        for machine in spec.machines:
            tally = truth.machine(Placement(tenant, site, spec, machine), calendar)
            link = Link(outages, random.Random(f"link:{key}:{machine.id}"), profile)
            outbox = Outbox(
                link,
                tally,
                profile,
                skew_s=machine.clock_skew_s,
                historical=historical,
                boot_id=f"{prefix}-{start}",
                start=start,
            )
            self.machines.append(Machine(machine, outbox, tally, gauge_rng, prefix))
        self.links = [machine.outbox.link for machine in self.machines]
        self.max_skew = max(0, *(machine.clock_skew_s for machine in spec.machines))

    def advance(self, until: int) -> None:
        """Generate everything up to true time `until` (exclusive for production)."""
        while self.t < until:
            segment = self._segment
            if not self._entered:
                self._enter(segment, self.t)
                self._entered = True
            end = min(segment.end, until)
            if segment.kind is SegmentKind.RUN:
                self._run(self.t, end, segment.rate_ppm)
            else:
                self._idle(self.t, end)
            self.t = end
            if end == segment.end:
                self._leave(segment)
                self._segment = next(self._segments)
                self._entered = False
        for machine in self.machines:
            machine.outbox.flush(until)

    def finish(self) -> None:
        """Close every machine's open message: the run ends here."""
        for machine in self.machines:
            machine.outbox.finish()

    def _enter(self, segment: Segment, t: int) -> None:
        machines = self.machines
        self._announce(segment.job, t)
        if segment.opens_shift is not None:
            for machine in machines:
                machine.context(t, ContextEvent.SHIFT_START, segment.job, segment.opens_shift)
                if machine.spec.resets_at_shift_start:
                    machine.reset(t)
        for machine, state in zip(machines, line_states(segment, len(machines)), strict=True):
            machine.set_state(t, state)
        if segment.alarm is not None:
            machines[segment.culprit].alarm(t, segment.alarm, raised=True)
        if segment.kind is SegmentKind.FAULT:
            self._maybe_silence(segment)

    def _maybe_silence(self, segment: Segment) -> None:
        rng = self._silence_rng
        if rng.random() >= self._profile.silence_probability:
            return
        if segment.end - segment.start < SILENCE_MIN_FAULT_SECONDS:
            return
        machine = self.machines[rng.randrange(len(self.machines))]
        margin = SILENCE_MARGIN_SECONDS
        machine.outbox.mute(segment.start + margin, segment.end - margin)

    def _portions_of(self, article: ArticleSpec) -> Portions:
        return Portions(article, self._weights_rng, self._rejects_below)

    def _announce(self, job: Job, t: int) -> None:
        """Boot at the first segment; report an article or batch change after that."""
        previous, self._job = self._job, job
        if previous is None:
            self._portions = self._portions_of(job.article)
            for machine in self.machines:
                machine.boot(t, job)
            return
        if job.article is not previous.article:
            self._portions = self._portions_of(job.article)
            event = ContextEvent.ARTICLE_CHANGE
        elif job.batch != previous.batch:
            event = ContextEvent.BATCH_CHANGE
        else:
            return
        for machine in self.machines:
            machine.context(t, event, job)

    def _leave(self, segment: Segment) -> None:
        if segment.alarm is not None:
            self.machines[segment.culprit].alarm(segment.end, segment.alarm, raised=False)
        if segment.severe:
            self.machines[segment.culprit].boot(segment.end, segment.job)

    def _idle(self, start: int, end: int) -> None:
        first = -(-start // GAUGE_SECONDS) * GAUGE_SECONDS
        for t in range(first, end, GAUGE_SECONDS):
            for machine in self.machines:
                machine.gauges(t, 0.0)
                if t % HEARTBEAT_SECONDS == 0:
                    machine.sample(t)

    def _run(self, start: int, end: int, rate_ppm: float) -> None:
        per_second = rate_ppm / 60.0
        phase = self._phase
        machines = self.machines
        for t in range(start, end):
            if t % GAUGE_SECONDS == 0:
                for machine in machines:
                    machine.gauges(t, rate_ppm)
            phase += per_second
            packs = int(phase)
            phase -= packs
            # Sampled after every producing second, even one that made nothing, so that every
            # counter increase covers exactly the second it was made in.
            self._produce(t, packs)
        self._phase = phase

    def _produce(self, t: int, packs: int) -> None:
        slicer, former, weigher, labeller = self.machines
        article = self._portions.article
        done = t + 1
        slicer.add(0, packs)
        slicer.tally.produce(t, article, packs, packs)
        slicer.tally.count(t, "cycles", packs)
        slicer.sample(done)
        formed = self._formed + packs
        cycles, self._formed = divmod(formed, PACKS_PER_CYCLE)
        former.add(0, cycles)
        former.add(1, packs)
        former.tally.produce(t, article, packs, packs)
        former.tally.count(t, "cycles", cycles)
        former.tally.count(t, "packs_total", packs)
        former.sample(done)
        good = self._weigh(t, packs, weigher)
        weigher.sample(done)
        labeller.add(0, good)
        labeller.tally.produce(t, article, good, good)
        labeller.tally.count(t, "packs_total", good)
        labeller.sample(done)

    def _weigh(self, t: int, packs: int, weigher: Machine) -> int:
        """Weigh `packs` packs made in second t; returns how many were accepted."""
        portions = self._portions
        article = portions.article
        outbox = weigher.outbox
        tally = weigher.tally
        good = 0
        for i in range(packs):
            net_dg, reason = portions.next()
            at = t + (i + 0.5) / packs
            outbox.add(
                Weighing(
                    article=article.id,
                    net_g=net_dg / 10,
                    accepted=reason is None,
                    reject_reason=reason,
                    ts=outbox.at(at),
                )
            )
            tally.weighing(at, article, net_dg, None if reason is None else reason.value)
            good += reason is None
        rejects = packs - good
        tally.produce(t, article, packs, good)
        for name, n in (("packs_total", packs), ("packs_good", good), ("rejects", rejects)):
            tally.count(t, name, n)
        weigher.add(0, packs)
        weigher.add(1, good)
        weigher.add(2, rejects)
        return good


def peak_datapoints_per_second(tenant: TenantSpec) -> float:
    """The datapoints per simulated second the tenant's lines make when all of them produce at
    once, each at its fastest article (a budget that fits the fleet at speed S is S times this):
    every machine samples its counters each second it produces, the checkweigher weighs every
    pack, and each machine reports two gauges every `GAUGE_SECONDS`. States, alarms and context
    changes come minutes apart and are left out."""
    total = 0.0
    for site in tenant.sites:
        for line in site.lines:
            slowest_machine = min(machine.ideal_rate_ppm for machine in line.machines)
            fastest_article = max(tenant.article(a).ideal_rate_ppm for a in line.articles)
            total += sum(len(COUNTERS[machine.type]) for machine in line.machines)
            total += min(slowest_machine, fastest_article) / 60.0
            total += len(line.machines) * 2 / GAUGE_SECONDS
    return total
