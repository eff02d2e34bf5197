"""MemorySender answers like the gateway: a seen identity is a duplicate."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tally.contracts import Counter, MachineMessage, Upload
from tally.simulator import HttpSender, MemorySender, Sender, build_fleet

MACHINE = build_fleet(1).placements()[0].machine


def upload(*seqs: int) -> Upload:
    return Upload(
        messages=[
            MachineMessage(
                boot_id="b1",
                seq=seq,
                ts=datetime(2025, 6, 2, 8, tzinfo=UTC),
                signals=[Counter(name="cycles", value=seq)],
            )
            for seq in seqs
        ]
    )


async def test_duplicates_are_counted_per_machine() -> None:
    sender = MemorySender(clock=lambda: 5.0)
    first = await sender.send("alpenwerk", MACHINE, upload(0, 1))
    second = await sender.send("alpenwerk", MACHINE, upload(1, 2))
    other = await sender.send("nordslice", MACHINE, upload(1))
    assert (first.accepted, first.duplicates) == (2, 0)
    assert (second.accepted, second.duplicates) == (1, 1)
    assert (other.accepted, other.duplicates) == (1, 0)
    assert [m.seq for m in sender.messages("alpenwerk")] == [0, 1, 1, 2]
    assert sender.uploads[0].received_at == 5.0


async def test_both_senders_answer_alike_through_the_protocol() -> None:
    # mypy checks that both are `Sender`s; running them checks they agree on the answer.
    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"accepted": 2, "duplicates": 0})

    tokens = {("alpenwerk", MACHINE.id): "tok"}
    async with httpx.AsyncClient(transport=httpx.MockTransport(gateway)) as client:
        senders: list[Sender] = [
            MemorySender(),
            HttpSender("http://gateway", tokens, client=client),
        ]
        results = [await sender.send("alpenwerk", MACHINE, upload(0, 1)) for sender in senders]
    assert [(r.accepted, r.duplicates, r.retries) for r in results] == [(2, 0, 0)] * 2
