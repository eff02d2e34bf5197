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
from tally.sdk import DEAD_LETTER_STREAM, NatsBroker, StoredMessage
from tally.sdk._broker import CONSUMER_HEADER, REASON_HEADER, SUBJECT_HEADER


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
        letters = await broker.browse(
            DEAD_LETTER_STREAM, f"deadletter.{args.tenant}.{args.consumer}"
        )
        for letter in letters:
            if args.replay:
                await replay(broker, letter)
            else:
                print(_describe(letter))
        print(f"{'replayed ' if args.replay else ''}{len(letters)} dead letter(s)")
        return 0
    finally:
        await broker.close()


async def replay(broker: NatsBroker, letter: StoredMessage) -> None:
    """Publish the original again, then delete the dead letter (in that order)."""
    await broker.publish_bytes(letter.headers[SUBJECT_HEADER], letter.data)
    await broker.client.jetstream().delete_msg(DEAD_LETTER_STREAM.name, letter.seq)


def _describe(letter: StoredMessage) -> str:
    _, tenant, _ = letter.subject.split(".", 2)
    return (
        f"{letter.seq:>8}  {tenant:<16}{letter.headers.get(CONSUMER_HEADER, '?'):<16}"
        f"{letter.headers.get(SUBJECT_HEADER, '?'):<40}{letter.headers.get(REASON_HEADER, '')}"
    )
