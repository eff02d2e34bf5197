"""The rolling-deploy rules for a contract change, applied to two JSON Schemas of one topic.

During a rolling deploy old and new producers and consumers run side by side, so a change is
compatible only when each side still reads what the other writes:

    breaking    field removed or renamed, type changed, new field without a default, field
                became required or optional, default changed (contracts omit default values on
                the wire, so the reader's default *is* the value), constraint changed, enum
                value removed, union variant removed, tag changed
    compatible  new field with a default; new enum value or union variant; a struct that
                starts or stops refusing unknown fields. Readers refuse what they do not know
                (a field dropped by an old reader would be lost for good), so whatever is new
                needs its consumers deployed before any producer sends it; an old consumer
                dead-letters it meanwhile, to be replayed once it is upgraded

A difference none of the rules explains is reported as breaking: better a false alarm than a
silent break.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]

_CONSTRAINTS = (
    "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "minProperties", "maxProperties",
)  # fmt: skip
_DOCUMENTATION = ("title", "description", "examples")


@dataclass(frozen=True)
class Change:
    path: str
    rule: str
    detail: str
    breaking: bool

    def __str__(self) -> str:
        return f"{self.path}: {self.detail} [rule: {self.rule}]"


def diff(old: Schema, new: Schema) -> list[Change]:
    """The changes from `old` to `new`, each with the rule it falls under."""
    differ = _Differ(old.get("$defs", {}), new.get("$defs", {}))
    differ.node("", old, new)
    if not differ.changes and _plain(old) != _plain(new):
        differ.add("", "unclassified change", "the schema changed in a way no rule covers", True)
    return differ.changes


class _Differ:
    def __init__(self, old_defs: dict[str, Schema], new_defs: dict[str, Schema]) -> None:
        self.old_defs, self.new_defs = old_defs, new_defs
        self.changes: list[Change] = []
        self._seen: set[tuple[str, str]] = set()

    def add(self, path: str, rule: str, detail: str, breaking: bool) -> None:
        self.changes.append(Change(path or "(message)", rule, detail, breaking))

    def node(self, path: str, old: Schema, new: Schema, skip: str | None = None) -> None:
        old_ref, new_ref = old.get("$ref"), new.get("$ref")
        if old_ref is not None and new_ref is not None:
            key = (str(old_ref), str(new_ref))
            if key in self._seen:  # recursive types: each pair of definitions once
                return
            self._seen.add(key)
            name = str(new_ref).rsplit("/", 1)[-1]
            path = name if not path else f"{path}<{name}>"
        old, new = _resolve(old, self.old_defs), _resolve(new, self.new_defs)
        if "properties" in old and "properties" in new:
            self.struct(path, old, new, skip)
        elif "discriminator" in old and "discriminator" in new:
            self.tagged(path, old, new)
        elif "anyOf" in old and "anyOf" in new:
            self.union(path, old, new)
        elif "enum" in old and "enum" in new:
            self.enum(path, old, new)
        else:
            self.leaf(path, old, new)

    def struct(self, path: str, old: Schema, new: Schema, skip: str | None) -> None:
        old_fields, new_fields = old["properties"], new["properties"]
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        added = [f for f in new_fields if f not in old_fields]
        for name in old_fields:
            if name == skip:
                continue
            where = f"{path}.{name}"
            if name not in new_fields:
                hint = f" (renamed to {added[0]}?)" if len(added) == 1 else ""
                self.add(where, "field removed or renamed", f"field {name} is gone{hint}", True)
                continue
            self.field(where, old_fields[name], new_fields[name])
            if (name in old_required) != (name in new_required):
                now = "required" if name in new_required else "optional"
                self.add(where, f"field became {now}", f"field {name} is now {now}", True)
        strict = new.get("additionalProperties") is False
        if (old.get("additionalProperties") is False) != strict:
            detail = "unknown fields are now " + ("refused" if strict else "ignored")
            self.add(path, "unknown fields", detail, False)
        for name in added:
            where = f"{path}.{name}"
            if name in new_required:
                self.add(
                    where, "new field without default", f"new field {name} has no default", True
                )
            else:
                detail = f"new field {name} has a default" + ("; deploy consumers first" * strict)
                self.add(where, "new field with default", detail, False)

    def field(self, path: str, old: Schema, new: Schema) -> None:
        if "default" in old and "default" in new and old["default"] != new["default"]:
            detail = f"default {old['default']!r} became {new['default']!r}"
            self.add(path, "default changed", detail, True)
        self.node(path, old, new)

    def tagged(self, path: str, old: Schema, new: Schema) -> None:
        old_tag, new_tag = old["discriminator"], new["discriminator"]
        if old_tag["propertyName"] != new_tag["propertyName"]:
            detail = f"tag field {old_tag['propertyName']!r} became {new_tag['propertyName']!r}"
            self.add(path, "tag changed", detail, True)
            return
        old_map, new_map = old_tag["mapping"], new_tag["mapping"]
        by_ref = {ref: tag for tag, ref in new_map.items()}
        for tag, ref in old_map.items():
            if tag in new_map:
                skip = str(old_tag["propertyName"])
                self.node(path, {"$ref": ref}, {"$ref": new_map[tag]}, skip)
            elif ref in by_ref:
                detail = f"{_name(ref)} is tagged {by_ref[ref]!r}, was {tag!r}"
                self.add(path, "tag changed", detail, True)
            else:
                self.add(path, "variant removed", f"variant {tag!r} ({_name(ref)}) is gone", True)
        for tag, ref in new_map.items():
            if tag not in old_map and ref not in old_map.values():
                detail = f"new variant {tag!r} ({_name(ref)}); deploy consumers first"
                self.add(path, "variant added", detail, False)

    def union(self, path: str, old: Schema, new: Schema) -> None:
        old_members = {_kind(_resolve(m, self.old_defs)): m for m in old["anyOf"]}
        new_members = {_kind(_resolve(m, self.new_defs)): m for m in new["anyOf"]}
        if set(old_members) != set(new_members):
            detail = f"{' | '.join(old_members)} became {' | '.join(new_members)}"
            self.add(path, "type changed", detail, True)
        for kind in old_members.keys() & new_members.keys():
            self.node(path, old_members[kind], new_members[kind])

    def enum(self, path: str, old: Schema, new: Schema) -> None:
        for value in old["enum"]:
            if value not in new["enum"]:
                self.add(path, "enum value removed", f"value {value!r} is gone", True)
        for value in new["enum"]:
            if value not in old["enum"]:
                detail = f"new value {value!r}; deploy consumers first"
                self.add(path, "enum value added", detail, False)

    def leaf(self, path: str, old: Schema, new: Schema) -> None:
        if _kind(old) != _kind(new):
            self.add(path, "type changed", f"{_kind(old)} became {_kind(new)}", True)
            return
        for key in _CONSTRAINTS:
            if old.get(key) != new.get(key):
                detail = f"{key} {old.get(key)!r} became {new.get(key)!r}"
                self.add(path, "constraint changed", detail, True)
        for key, suffix in (("items", "[]"), ("additionalProperties", "{}")):
            if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
                self.node(path + suffix, old[key], new[key])


def _resolve(schema: Schema, defs: dict[str, Schema]) -> Schema:
    ref = schema.get("$ref")
    return schema if ref is None else defs.get(_name(str(ref)), {})


def _kind(schema: Schema) -> str:
    """A short name of a schema's shape: 'string (date-time)', 'array', 'object', 'null'."""
    # Not the class name: renaming a class changes nothing on the wire.
    if "properties" in schema:
        return "object"
    if "discriminator" in schema or "anyOf" in schema:
        return "union"
    if "enum" in schema:
        return "enum"
    kind = str(schema.get("type", "any"))
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _plain(schema: Any) -> Any:
    """`schema` without documentation, which no reader depends on."""
    if isinstance(schema, dict):
        return {k: _plain(v) for k, v in schema.items() if k not in _DOCUMENTATION}
    if isinstance(schema, list):
        return [_plain(v) for v in schema]
    return schema
