"""Dead letters read back: what a consumer gave up on, why, and where it came from."""

from __future__ import annotations

from dataclasses import dataclass

from tally.sdk._broker import (
    CONSUMER_HEADER,
    DEAD_LETTER_STREAM,
    REASON_HEADER,
    SUBJECT_HEADER,
    Broker,
    StoredMessage,
)


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered message: the original bytes and subject, why, and who gave up on it.

    `seq` is its sequence in the dead-letter stream (to delete it once replayed), `tenant` the
    tenant it was dead-lettered for."""

    reason: str
    consumer: str
    subject: str
    data: bytes
    seq: int = 0
    tenant: str = ""

    @classmethod
    def of(cls, stored: StoredMessage) -> DeadLetter:
        """The dead letter a message of the dead-letter stream holds."""
        headers = stored.headers
        return cls(
            reason=headers.get(REASON_HEADER, ""),
            consumer=headers.get(CONSUMER_HEADER, "?"),
            subject=headers.get(SUBJECT_HEADER, "?"),
            data=stored.data,
            seq=stored.seq,
            # The dead-letter subject is deadletter.<tenant>.<consumer>.
            tenant=stored.subject.split(".")[1] if stored.subject.count(".") >= 2 else "",
        )


async def dead_letters(broker: Broker, consumer: str = "*", tenant: str = "*") -> list[DeadLetter]:
    """The dead letters of `consumer` (every one's: "*") for `tenant`, oldest first."""
    stored = await broker.browse(DEAD_LETTER_STREAM, f"deadletter.{tenant}.{consumer}")
    return [DeadLetter.of(message) for message in stored]
