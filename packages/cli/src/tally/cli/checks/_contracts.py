"""Contract compatibility: every topic's JSON Schema in the code against contracts.lock.json.

The lock holds, per topic name (`pattern@vN`), the contract type, the stream and the JSON Schema
msgspec derives from the type. A breaking change fails with the field and the rule (see
`_schema_diff`); it needs a new topic version running beside the old one. Compatible changes
pass and are reported. `tally lock` records the code's schemas deliberately.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from tally.cli.checks._outcome import Outcome
from tally.cli.checks._schema_diff import diff
from tally.sdk import Topic

CONTRACTS_LOCK = "contracts.lock.json"
_FORMAT = 1


class LockedTopic(msgspec.Struct, frozen=True, kw_only=True):
    type: str
    stream: str
    schema: dict[str, Any]


class ContractsLock(msgspec.Struct, frozen=True, kw_only=True):
    format: int = _FORMAT
    topics: dict[str, LockedTopic] = {}


def current_contracts(topics: Iterable[Topic[Any]]) -> ContractsLock:
    """What the code says about every topic, in the lock's shape."""
    return ContractsLock(
        topics={
            topic.name: LockedTopic(
                type=f"{topic.type.__module__}.{topic.type.__qualname__}",
                stream=topic.stream.name,
                schema=msgspec.json.schema(topic.type),
            )
            for topic in sorted(topics, key=lambda t: t.name)
        }
    )


def read_contracts_lock(path: Path) -> ContractsLock | None:
    if not path.is_file():
        return None
    return msgspec.json.decode(path.read_bytes(), type=ContractsLock)


def write_contracts_lock(path: Path, lock: ContractsLock) -> None:
    path.write_text(render_lock(lock))


def render_lock(lock: msgspec.Struct) -> str:
    """Stable, reviewable JSON: sorted keys, two-space indent, a final newline."""
    return (
        json.dumps(msgspec.to_builtins(lock), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )


def check_contracts(current: ContractsLock, locked: ContractsLock | None) -> Outcome:
    """Breaking changes against the lock are errors; compatible ones are notes."""
    outcome = Outcome(summary=f"{len(current.topics)} topics")
    if locked is None:
        outcome.errors.append(f"{CONTRACTS_LOCK} is missing; run `tally lock` and commit it")
        return outcome
    for name in locked.topics:
        if name not in current.topics:
            outcome.errors.append(
                f"topic {name}: in {CONTRACTS_LOCK} but no longer in the code "
                "[rule: topic removed]; a running service may still use it. Once none does, "
                "run `tally lock` to retire it"
            )
    for name, new in current.topics.items():
        old_topic = locked.topics.get(name)
        if old_topic is None:
            outcome.notes.append(f"topic {name} ({new.type}) is new; `tally lock` records it")
            continue
        if old_topic.stream != new.stream:
            outcome.errors.append(
                f"topic {name}: stream {old_topic.stream} became {new.stream} "
                "[rule: stream changed]; publish a new topic version to the new stream"
            )
        for change in diff(old_topic.schema, new.schema):
            if change.breaking:
                outcome.errors.append(
                    f"topic {name}: {change}; breaking during a rolling deploy: keep the "
                    "contract, or publish a new topic version beside this one"
                )
            else:
                outcome.notes.append(
                    f"topic {name}: {change} (compatible; `tally lock` records it)"
                )
    return outcome
