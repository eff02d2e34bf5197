"""`--workers N`: N processes of one service, to use every core.

The processes share the service's durable consumers (JetStream spreads the messages across
them) and its HTTP and operations ports (SO_REUSEPORT; the kernel spreads the connections).
Their metrics are summed through a shared PROMETHEUS_MULTIPROC_DIR. The supervisor restarts a
worker that dies and forwards SIGTERM/SIGINT for a graceful stop.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from types import FrameType

from tally.sdk._processes import parent_death_hook

_log = logging.getLogger("tally.sdk.workers")
_MAX_RESTARTS_PER_MINUTE = 5


def worker_command(argv: list[str]) -> list[str]:
    """The command line of one worker: ours, with ``--workers 1``."""
    command: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            command.append(arg)
    return [*command, "--workers", "1"]


def supervise(name: str, workers: int, port: int, ops_port: int) -> int:
    """Run `workers` copies of this process's command and wait for them; returns an exit code."""
    metrics_dir = tempfile.mkdtemp(prefix=f"tally-{name}-metrics-")
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        "TALLY_HTTP_PORT": str(port),
        "TALLY_OPS_PORT": str(ops_port),
    }
    command = worker_command(list(sys.orig_argv))
    stopping = False

    def start(index: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            command, env={**env, "TALLY_WORKER": str(index)}, preexec_fn=parent_death_hook()
        )

    def request_stop(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    processes = [start(index) for index in range(workers)]
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    restarts: list[float] = []
    _log.info(
        "supervising %d workers of %s on ports %d (operations %d)", workers, name, port, ops_port
    )
    try:
        while not stopping:
            time.sleep(0.2)
            for index, process in enumerate(processes):
                if process.poll() is None or stopping:
                    continue
                restarts = [t for t in restarts if time.monotonic() - t < 60] + [time.monotonic()]
                if len(restarts) > _MAX_RESTARTS_PER_MINUTE:
                    _log.error("workers keep dying; giving up")
                    request_stop(signal.SIGTERM, None)
                    break
                _log.error("worker %d exited with %s; restarting", index, process.returncode)
                processes[index] = start(index)
        codes = [_wait(process) for process in processes]
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return max(codes, default=0)


def _wait(process: subprocess.Popen[bytes]) -> int:
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()
