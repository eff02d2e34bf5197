"""py-spy profiles of the processes a stage measures, and what they say in a few lines.

With `tally bench --profile DIR`, the first turn of the gateway, the recorder, each peer and the
end-to-end run is sampled by py-spy (`record --nonblocking --subprocesses --format raw`: the
target is never paused; py-spy's own CPU is not in any measured group, but it shares the cores).
Profile in a run of its own, not in the one whose numbers you keep. Idle threads are not
sampled, so the shares are of the time the process was running Python or native code.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

RATE = 250


@contextlib.asynccontextmanager
async def profiled(folder: Path | None, label: str, pid: int) -> AsyncIterator[None]:
    """Sample `pid` (and its children) while the block runs into `folder/label.txt`."""
    spy = shutil.which("py-spy")
    if folder is None or spy is None:
        yield
        return
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        spy,
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--nonblocking",
        "--rate",
        str(RATE),
        "--format",
        "raw",
        "--output",
        str(folder / f"{label}.txt"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        # SIGINT makes py-spy write what it sampled and exit.
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 30)
        if process.returncode is None:
            process.kill()
            await process.wait()


def summarise(path: Path, top: int = 12) -> dict[str, list[tuple[str, float]]]:
    """From py-spy's raw (collapsed) stacks: the functions with the most samples on top of the
    stack ("self"), and the most samples anywhere in the stack ("inclusive"), as shares."""
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(frame) for frame in stack.split(";")]
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            anywhere[frame] += count
    if samples == 0:
        return {"self": [], "inclusive": []}
    return {
        "self": [(f, round(n / samples, 3)) for f, n in own.most_common(top)],
        "inclusive": [(f, round(n / samples, 3)) for f, n in anywhere.most_common(top * 3)],
    }


def _short(frame: str) -> str:
    # "record_batch (tally/recorder/service.py:52)" → "record_batch (tally/recorder/service.py)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/", "python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})" if where else name
