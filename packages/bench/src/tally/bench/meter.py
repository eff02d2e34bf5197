"""CPU time and peak memory of groups of processes over a stretch of a run.

A group is a process and all its descendants (a service and its workers; PostgreSQL's
postmaster and every backend; nats-server). CPU is user + system time per process, counted
from when it was first seen to when it was last seen; a process that ends between two samples
loses at most one sampling period of CPU. Memory is the summed RSS of the group, sampled.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

import psutil

SAMPLE_SECONDS = 0.2
MIB = 2**20


@dataclass
class _Group:
    roots: list[int]
    first_cpu: dict[int, float] = field(default_factory=dict)
    last_cpu: dict[int, float] = field(default_factory=dict)
    peak_rss: int = 0


@dataclass
class Usage:
    """Filled in when the `measure` block ends."""

    cpu_seconds: dict[str, float] = field(default_factory=dict)
    peak_rss_mib: dict[str, float] = field(default_factory=dict)
    # (wall-clock time, CPU seconds per group since the start) at every sample.
    timeline: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def cpu_between(self, start: float, end: float) -> dict[str, float]:
        """CPU per group between two wall-clock times, interpolated between samples."""
        return {
            name: _at(self.timeline, name, end) - _at(self.timeline, name, start)
            for name in self.cpu_seconds
        }


def _at(timeline: list[tuple[float, dict[str, float]]], name: str, when: float) -> float:
    before = [(t, c[name]) for t, c in timeline if t <= when]
    after = [(t, c[name]) for t, c in timeline if t >= when]
    if not before:
        return after[0][1] if after else 0.0
    if not after:
        return before[-1][1]
    (t0, c0), (t1, c1) = before[-1], after[0]
    return c0 if t1 == t0 else c0 + (c1 - c0) * (when - t0) / (t1 - t0)


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _sample(group: _Group, *, first: bool) -> None:
    rss = 0
    for root in group.roots:
        for process in _tree(root):
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    cpu = times.user + times.system
                    rss += process.memory_info().rss
            except psutil.Error:
                continue
            if first:
                group.first_cpu.setdefault(process.pid, cpu)
            else:
                # A process born during the run counts from zero.
                group.first_cpu.setdefault(process.pid, 0.0)
            group.last_cpu[process.pid] = cpu
    group.peak_rss = max(group.peak_rss, rss)


def rss_mib(pids: list[int]) -> float:
    """Summed RSS of the processes and their descendants, now."""
    total = 0
    for pid in pids:
        for process in _tree(pid):
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
    return total / MIB


@contextlib.asynccontextmanager
async def measure(groups: Mapping[str, list[int]]) -> AsyncIterator[Usage]:
    """CPU and peak RSS of each named group of process trees while the block runs."""
    state = {name: _Group(list(pids)) for name, pids in groups.items() if pids}
    for group in state.values():
        _sample(group, first=True)
    usage = Usage()

    def note() -> None:
        usage.timeline.append(
            (
                time.time(),
                {
                    name: sum(g.last_cpu[p] - g.first_cpu.get(p, 0.0) for p in g.last_cpu)
                    for name, g in state.items()
                },
            )
        )

    note()

    async def sampler() -> None:
        while True:
            await asyncio.sleep(SAMPLE_SECONDS)
            for group in state.values():
                _sample(group, first=False)
            note()

    task = asyncio.create_task(sampler())
    try:
        yield usage
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for group in state.values():
            _sample(group, first=False)
        note()
        for name, group in state.items():
            usage.cpu_seconds[name] = sum(
                group.last_cpu[pid] - group.first_cpu.get(pid, 0.0) for pid in group.last_cpu
            )
            usage.peak_rss_mib[name] = round(group.peak_rss / MIB, 1)
