"""A packing line stepped through simulated time, one second at a time while it produces.

The line follows its timeline segment by segment. On entering a segment it reports states,
alarms and context changes; while it runs, every second yields whole packs at the segment's rate
(a fractional remainder carries over) and every machine counts them — the four machines are
coupled without buffers, so they make the same packs in the same second, except that the
labeller only sees what the checkweigher accepted. Idle stretches only cost their gauge and
counter heartbeats, so a night without shifts is cheap.
"""

from __future__ import annotations

import random

from tally.contracts import ContextEvent, Weighing
from tally.simulator._fleet import LineSpec, Placement, SiteSpec, TenantSpec
from tally.simulator._machines import Machine
from tally.simulator._outbox import Outbox
from tally.simulator._states import line_states
from tally.simulator._timeline import Job, Segment, SegmentKind, Timeline
from tally.simulator._transport import Link, Outages, TransportProfile
from tally.simulator._truth import ArticleTally, DayTally, Truth
from tally.simulator._weights import Portions

GAUGE_SECONDS = 10
HEARTBEAT_SECONDS = 60
PACKS_PER_CYCLE = 4  # the thermoformer forms and seals a 2×2 format per cycle


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
        self._portions = Portions(articles[0], self._weights_rng)  # replaced at the first boot
        self._phase = 0.0
        self._formed = 0
        outages = Outages(random.Random(f"outages:{key}"), profile, start)
        gauge_rng = random.Random(f"gauges:{key}")
        prefix = f"s{seed}-{start}"
        self.machines: list[Machine] = []
        for machine in spec.machines:
            tally = truth.machine(Placement(tenant, site, spec, machine), site.calendar())
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
            self.machines.append(Machine(machine, outbox, tally, gauge_rng, prefix, start))
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
            machine.account(until)
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

    def _announce(self, job: Job, t: int) -> None:
        """Boot at the first segment; report an article or batch change after that."""
        previous, self._job = self._job, job
        if previous is None:
            self._portions = Portions(job.article, self._weights_rng)
            for machine in self.machines:
                machine.boot(t, job)
            return
        if job.article is not previous.article:
            self._portions = Portions(job.article, self._weights_rng)
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
            if packs:
                phase -= packs
                self._produce(t, packs)
        self._phase = phase

    def _produce(self, t: int, packs: int) -> None:
        slicer, former, weigher, labeller = self.machines
        done = t + 1
        slicer.add(0, packs)
        _count(slicer.tally.day(t), packs, packs, ("cycles", packs))
        slicer.sample(done)
        formed = self._formed + packs
        cycles, self._formed = divmod(formed, PACKS_PER_CYCLE)
        former.add(0, cycles)
        former.add(1, packs)
        _count(former.tally.day(t), packs, packs, ("cycles", cycles), ("packs_total", packs))
        former.sample(done)
        good = self._weigh(t, packs, weigher)
        weigher.sample(done)
        labeller.add(0, good)
        _count(labeller.tally.day(t), good, good, ("packs_total", good))
        labeller.sample(done)

    def _weigh(self, t: int, packs: int, weigher: Machine) -> int:
        """Weigh `packs` packs made in second t; returns how many were accepted."""
        portions = self._portions
        article = portions.article
        nominal = article.nominal_g
        t1, t2 = portions.t1_g, portions.t2_g
        day = weigher.tally.day(t)
        tally = day.articles.get(article.id)
        if tally is None:
            tally = day.articles[article.id] = ArticleTally(article.nominal_g)
        outbox = weigher.outbox
        good = 0
        for i in range(packs):
            net, reason = portions.next()
            ts = outbox.at(t + (i + 0.5) / packs)
            outbox.add(
                Weighing(
                    article=article.id,
                    net_g=net,
                    accepted=reason is None,
                    reject_reason=reason,
                    ts=ts,
                )
            )
            kg = net / 1000.0
            day.kg += kg
            tally.kg += kg
            if net < t1:
                tally.below_t1 += 1
                if net < t2:
                    tally.below_t2 += 1
            if reason is None:
                good += 1
                day.kg_good += kg
                if nominal is not None:
                    day.giveaway_g += net - nominal
                    tally.giveaway_g += net - nominal
            else:
                key = reason.value
                day.rejects_by_reason[key] = day.rejects_by_reason.get(key, 0) + 1
        rejects = packs - good
        tally.packs += packs
        tally.packs_good += good
        day.rejects += rejects
        _count(day, packs, good, ("packs_total", packs), ("packs_good", good), ("rejects", rejects))
        weigher.add(0, packs)
        weigher.add(1, good)
        weigher.add(2, rejects)
        return good


def _count(day: DayTally, packs: int, good: int, *increases: tuple[str, int]) -> None:
    day.packs_total += packs
    day.packs_good += good
    counters = day.counters
    for name, n in increases:
        counters[name] = counters.get(name, 0) + n
