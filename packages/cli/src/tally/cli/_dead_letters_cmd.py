"""`tally dead-letters`: see what consumers gave up on, and send it back once it is fixed.

    tally dead-letters                          list: seq, tenant, consumer, subject, reason
    tally dead-letters --consumer recorder --tenant alpenwerk
    tally dead-letters --replay [--consumer C] [--tenant T]

A dead letter holds the original bytes and subject. Replaying publishes them to that subject
again (consumers are idempotent, so a message stored meanwhile changes nothing) and only then
deletes the dead letter: a crash in between leaves it to replay once more, never lost.
"""

from __future__ import annotations

import argparse
import asyncio

from tally.cli._endpoints import endpoints
from tally.sdk import DEAD_LETTER_STREAM, DeadLetter, NatsBroker, dead_letters


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("dead-letters", help="list or replay dead-lettered messages")
    parser.add_argument("--consumer", default="*", help="only this consumer's dead letters")
    parser.add_argument("--tenant", default="*", help="only this tenant's dead letters")
    parser.add_argument(
        "--replay",
        action="store_true",
        help="publish them to their original subjects again, then delete them",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with endpoints() as found:
        return asyncio.run(_dead_letters(found.nats_url, args))


async def _dead_letters(nats_url: str, args: argparse.Namespace) -> int:
    broker = await NatsBroker.connect(nats_url, name="tally-dead-letters")
    try:
        await broker.ensure_stream(DEAD_LETTER_STREAM)
        letters = await dead_letters(broker, args.consumer, args.tenant)
        for letter in letters:
            if args.replay:
                await replay(broker, letter)
            else:
                print(_describe(letter))
        print(f"{'replayed ' if args.replay else ''}{len(letters)} dead letter(s)")
        return 0
    finally:
        await broker.close()


async def replay(broker: NatsBroker, letter: DeadLetter) -> None:
    """Publish the original again, then delete the dead letter (in that order)."""
    await broker.publish_bytes(letter.subject, letter.data)
    await broker.client.jetstream().delete_msg(DEAD_LETTER_STREAM.name, letter.seq)


def _describe(letter: DeadLetter) -> str:
    return (
        f"{letter.seq:>8}  {letter.tenant:<16}{letter.consumer:<16}{letter.subject:<40}"
        f"{letter.reason}"
    )
