"""Contract compatibility: each breaking change names the topic, the field and the rule."""

from __future__ import annotations

import enum
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Annotated

import msgspec
import pytest

from tally.cli.checks._contracts import (
    CONTRACTS_LOCK,
    ContractsLock,
    check_contracts,
    current_contracts,
    read_contracts_lock,
)
from tally.cli.checks._workspace import load_workspace
from tally.contracts import TELEMETRY
from tally.sdk import Stream, Topic

ROOT = Path(__file__).resolve().parents[3]
STREAM = Stream("ORDERS", ("orders.>",))
NAME = "orders.{tenant}@v1"


def lock_of(*kinds: type[msgspec.Struct], pattern: str = "orders.{tenant}") -> ContractsLock:
    return current_contracts(Topic(pattern, kind, STREAM) for kind in kinds)


def compare(old: type[msgspec.Struct], new: type[msgspec.Struct]) -> tuple[list[str], list[str]]:
    outcome = check_contracts(lock_of(new), lock_of(old))
    return outcome.errors, outcome.notes


def order(**changes: object) -> type[msgspec.Struct]:
    """`Order` as in version 1, with some fields' annotations (or defaults) changed."""
    fields: dict[str, object] = {"tenant": str, "quantity": int, "note": (str, "")}
    fields.update(changes)
    spec = [
        (name, *value) if isinstance(value, tuple) else (name, value)
        for name, value in fields.items()
        if value is not None
    ]
    return msgspec.defstruct("Order", spec, frozen=True, kw_only=True)


def test_an_unchanged_contract_passes() -> None:
    assert compare(order(), order()) == ([], [])


@pytest.mark.parametrize(
    ("new", "field", "rule"),
    [
        (order(note=None), "Order.note", "field removed or renamed"),
        (order(quantity=str), "Order.quantity", "type changed"),
        (order(quantity=int | None), "Order.quantity", "type changed"),
        (order(priority=int), "Order.priority", "new field without default"),
        (order(note=(str, "-")), "Order.note", "default changed"),
        (order(note=str), "Order.note", "field became required"),
        (
            order(tenant=Annotated[str, msgspec.Meta(max_length=8)]),
            "Order.tenant",
            "constraint changed",
        ),
    ],
)
def test_a_breaking_change_names_topic_field_and_rule(
    new: type[msgspec.Struct], field: str, rule: str
) -> None:
    errors, _ = compare(order(), new)
    assert errors, f"{rule} passed"
    assert errors[0].startswith(f"topic {NAME}: {field}: ")
    assert f"[rule: {rule}]" in errors[0]


def test_a_rename_is_named_as_one() -> None:
    errors, _ = compare(order(), order(note=None, remark=(str, "")))
    assert any("field note is gone (renamed to remark?)" in e for e in errors)


def test_a_new_field_with_a_default_passes_and_is_reported() -> None:
    errors, notes = compare(order(), order(priority=(int, 0)))
    assert errors == []
    assert notes == [
        f"topic {NAME}: Order.priority: new field priority has a default "
        "[rule: new field with default] (compatible; `tally lock` records it)"
    ]


def strict_order(**changes: object) -> type[msgspec.Struct]:
    """`order(...)`, refusing unknown fields as the contracts do."""
    loose = order(**changes)
    fields = [
        (f.name, f.type) if f.required else (f.name, f.type, f.default)
        for f in msgspec.structs.fields(loose)
    ]
    return msgspec.defstruct("Order", fields, frozen=True, kw_only=True, forbid_unknown_fields=True)


def test_refusing_unknown_fields_passes_and_is_reported() -> None:
    errors, notes = compare(order(), strict_order())
    assert errors == []
    assert notes == [
        f"topic {NAME}: Order: unknown fields are now refused "
        "[rule: unknown fields] (compatible; `tally lock` records it)"
    ]


def test_a_new_field_of_a_strict_contract_asks_for_consumers_first() -> None:
    errors, notes = compare(strict_order(), strict_order(priority=(int, 0)))
    assert errors == []
    assert notes == [
        f"topic {NAME}: Order.priority: new field priority has a default; deploy consumers "
        "first [rule: new field with default] (compatible; `tally lock` records it)"
    ]


class Colour(enum.StrEnum):
    RED = "red"
    GREEN = "green"


class FewerColours(enum.StrEnum):
    RED = "red"


class MoreColours(enum.StrEnum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


def test_an_enum_value_removed_breaks_and_one_added_is_reported() -> None:
    errors, _ = compare(order(colour=Colour), order(colour=FewerColours))
    assert any(
        "Order.colour" in e and "'green'" in e and "[rule: enum value removed]" in e for e in errors
    )
    errors, notes = compare(order(colour=Colour), order(colour=MoreColours))
    assert errors == []
    assert any("'blue'" in n and "[rule: enum value added]" in n for n in notes)


def tagged(tag: str) -> type[msgspec.Struct]:
    class Packed(msgspec.Struct, frozen=True, tag=tag):
        count: int

    class Weighed(msgspec.Struct, frozen=True, tag="weighed"):
        grams: float

    return order(event=Packed | Weighed)


def test_a_changed_tag_breaks() -> None:
    errors, _ = compare(tagged("packed"), tagged("pack"))
    assert any(
        "Packed is tagged 'pack', was 'packed'" in e and "[rule: tag changed]" in e for e in errors
    )


def test_a_topic_gone_from_the_code_breaks_and_a_new_one_is_reported() -> None:
    old = lock_of(order())
    new = lock_of(order(), pattern="orders.{tenant}.v2")
    outcome = check_contracts(new, old)
    assert outcome.errors[0].startswith(f"topic {NAME}: in {CONTRACTS_LOCK} but no longer")
    assert "[rule: topic removed]" in outcome.errors[0]
    assert any("orders.{tenant}.v2@v1" in note and "new" in note for note in outcome.notes)


REMOVED_FIELD = "    historical: bool = False\n\n    @property"
SEQ = "    seq: Seq\n    ts: Timestamp\n    signals"


def copied_contract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str
) -> ModuleType:
    """A copy of the real telemetry contract module with one planted edit."""
    source = ROOT / "packages/contracts/src/tally/contracts/_telemetry.py"
    text = source.read_text()
    assert old in text, "the planted edit no longer applies to the contract"
    path = tmp_path / "planted_telemetry.py"
    path.write_text(text.replace(old, new))
    spec = importlib.util.spec_from_file_location("planted_telemetry", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # msgspec resolves the module's string annotations through sys.modules.
    monkeypatch.setitem(sys.modules, "planted_telemetry", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("old", "new", "field", "rule"),
    [
        (REMOVED_FIELD, "\n    @property", "historical", "field removed or renamed"),
        (SEQ, SEQ.replace("Seq", "str"), "seq", "type changed"),
    ],
    ids=["removed field", "changed type"],
)
def test_a_fault_planted_in_a_copy_of_the_real_contract_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str, field: str, rule: str
) -> None:
    planted = copied_contract(tmp_path, monkeypatch, old, new)
    topic = Topic(TELEMETRY.pattern, planted.Telemetry, TELEMETRY.stream)
    outcome = check_contracts(
        current_contracts([topic]), read_contracts_lock(ROOT / CONTRACTS_LOCK)
    )
    assert any(
        e.startswith(f"topic {TELEMETRY.name}: Telemetry.{field}: ") and f"[rule: {rule}]" in e
        for e in outcome.errors
    ), outcome.errors


def test_the_workspace_matches_its_lock() -> None:
    current = current_contracts(load_workspace(ROOT).topics)
    outcome = check_contracts(current, read_contracts_lock(ROOT / CONTRACTS_LOCK))
    assert (outcome.errors, outcome.notes) == ([], [])
