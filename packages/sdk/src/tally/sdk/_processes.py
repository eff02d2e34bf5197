"""Child processes that never outlive their parent."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def parent_death_hook(death_signal: signal.Signals = signal.SIGTERM) -> Callable[[], None] | None:
    """A `preexec_fn` by which, on Linux, the kernel sends `death_signal` to the child when we
    die, even by SIGKILL, so no server or worker is left running behind a crashed command.

    None (nothing to arrange) elsewhere, and off the main thread: the kernel sends the signal
    when the *thread* that forked exits, so a child started from a worker thread would die with
    that thread.
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    if not sys.platform.startswith("linux") or not in_main_thread:
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork: no dlopen in the child
    parent = os.getpid()

    def arrange() -> None:
        prctl(_PR_SET_PDEATHSIG, int(death_signal))
        if os.getppid() != parent:  # we died before prctl took effect
            os._exit(1)

    return arrange
