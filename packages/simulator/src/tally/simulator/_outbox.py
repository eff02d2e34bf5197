"""A machine's outbox: timed signals become `MachineMessage`s with boot id and sequence number.

A message covers a window (t_end − message_seconds, t_end] of true time and is stamped t_end
(plus the machine's clock skew); a signal at exactly t_end carries no timestamp of its own, every
other one does. A window that fills up, or a reboot, closes the message early, stamped with its
last signal's time — so no message is ever stamped later than what has been generated.
A muted stretch (an injected silence) loses the messages closed in it: never sent, never
counted, their sequence numbers skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tally.contracts import MachineMessage, Signal
from tally.simulator._machine_tally import MachineTally
from tally.simulator._transport import Link, TransportProfile

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Outbox:
    """Collects one machine's signals and hands finished messages to its link."""

    __slots__ = (
        "_end",
        "_historical",
        "_last",
        "_max",
        "_muted",
        "_skew",
        "_tally",
        "_window",
        "boot_id",
        "link",
        "seq",
        "signals",
    )

    def __init__(
        self,
        link: Link,
        tally: MachineTally,
        profile: TransportProfile,
        *,
        skew_s: int,
        historical: bool,
        boot_id: str,
        start: int,
    ) -> None:
        self.link = link
        self._tally = tally
        self._window = profile.message_seconds
        self._max = profile.max_signals_per_message
        self._skew = skew_s
        self._historical = historical
        self._end = self._ceil(start)
        self._last = float(start)
        self._muted = (0.0, 0.0)
        self.boot_id = boot_id
        self.seq = 0
        self.signals: list[Signal] = []

    def at(self, t: float) -> datetime | None:
        """The timestamp for a signal at true time t (None: the message's own); moves the
        window on past t. Times must not decrease."""
        if t > self._end:
            self._close(self._end)
            self._end = self._ceil(t)
        self._last = t
        if t == self._end:
            return None
        return _EPOCH + timedelta(seconds=t + self._skew)

    def add(self, signal: Signal) -> None:
        """Append a signal stamped by `at`; a full window is sent at once."""
        signals = self.signals
        signals.append(signal)
        if len(signals) >= self._max:
            self._close(self._last)

    def flush(self, until: int) -> None:
        """Close the current window if it ends before `until` (signals at `until` itself may
        still come: the next step starts there)."""
        if self._end < until:
            self._close(self._end)

    def finish(self) -> None:
        """Send what is collected now, stamped with its last signal's time (the run ends)."""
        self._close(self._last)

    def reboot(self, t: int, boot_id: str) -> None:
        """Send what the old boot has, then start a new boot at sequence 0."""
        self._close(t)
        self.boot_id = boot_id
        self.seq = 0

    def mute(self, start: float, end: float) -> None:
        """Lose every message closed in [start, end) of true time."""
        self._muted = (start, end)

    def _close(self, t: float) -> None:
        signals = self.signals
        if not signals:
            return
        start, end = self._muted
        if start <= t < end:
            self.seq += 1
            self.signals = []
            return
        link = self.link
        historical = self._historical or link.offline_until(t) is not None
        message = MachineMessage(
            boot_id=self.boot_id,
            seq=self.seq,
            ts=_EPOCH + timedelta(seconds=t + self._skew),
            signals=signals,
            historical=historical,
        )
        self.seq += 1
        self.signals = []
        duplicated = link.submit(message, t)
        self._tally.message(t, len(signals), duplicated=duplicated)

    def _ceil(self, t: float) -> int:
        window = self._window
        return -int(-t // window) * window
