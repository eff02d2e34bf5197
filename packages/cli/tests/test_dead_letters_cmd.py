"""Dead letters can be listed and replayed to their original subject, then are gone."""

from __future__ import annotations

import secrets

import pytest

from tally.cli._dead_letters_cmd import replay
from tally.sdk import DEAD_LETTER_STREAM, NatsBroker, StoredMessage, Stream, dead_letters

pytestmark = pytest.mark.integration


class _Delivery:
    """A message as a consumer gave up on it."""

    def __init__(self, subject: str, data: bytes, seq: int) -> None:
        self.subject, self.data, self.stream_seq = subject, data, seq
        self.headers: dict[str, str] = {}
        self.delivered = 5

    async def nak(self, delay: float) -> None:
        return None

    async def in_progress(self) -> None:
        return None


async def test_a_replayed_dead_letter_returns_to_its_subject_and_leaves_the_stream(
    nats_url: str,
) -> None:
    suffix = secrets.token_hex(4)
    stream = Stream(f"REPLAY{suffix}".upper(), (f"replay{suffix}.>",))
    consumer = f"c{suffix}"
    broker = await NatsBroker.connect(nats_url)
    try:
        await broker.ensure_stream(stream)
        await broker.ensure_stream(DEAD_LETTER_STREAM)
        original = await broker.publish_bytes(f"replay{suffix}.acme.m1", b'{"n": 1}')
        await broker.dead_letter(
            _Delivery(f"replay{suffix}.acme.m1", b'{"n": 1}', original.seq),
            consumer=consumer,
            tenant="acme",
            reason="database schema was missing a column",
        )
        letters = await dead_letters(broker, consumer, "acme")
        assert [letter.data for letter in letters] == [b'{"n": 1}']
        [letter] = letters
        assert (letter.tenant, letter.consumer, letter.subject) == (
            "acme",
            consumer,
            f"replay{suffix}.acme.m1",
        )
        assert letter.reason == "database schema was missing a column"

        await replay(broker, letters[0])

        again: list[StoredMessage] = await broker.browse(stream, f"replay{suffix}.>")
        assert [m.data for m in again] == [b'{"n": 1}', b'{"n": 1}']
        assert await broker.browse(DEAD_LETTER_STREAM, f"deadletter.acme.{consumer}") == []
    finally:
        await broker.close()
