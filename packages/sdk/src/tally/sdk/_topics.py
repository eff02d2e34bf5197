"""Typed topics: a subject pattern bound to one contract type.

A `Topic[T]` is the only way services name a subject. The pattern's placeholders are field
names of the contract, so the subject of a message is computed from the message itself and can
never disagree with it (a machine cannot publish under another tenant's subject). Every pattern
carries `{tenant}`: tenancy is part of the address, not an afterthought.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import msgspec

from tally.sdk._errors import ContractError

T = TypeVar("T", bound=msgspec.Struct)

_PLACEHOLDER = re.compile(r"^\{([a-z_][a-z0-9_]*)\}$")
_LITERAL = re.compile(r"^[a-z][a-z0-9_-]*$")
# A subject token taken from message data must not change the subject's shape.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Stream:
    """A JetStream stream: its name, the subjects it stores and how long it keeps them."""

    name: str
    subjects: tuple[str, ...]
    max_age_seconds: float = 7 * 24 * 3600.0
    duplicate_window_seconds: float = 120.0
    replicas: int = 1


@dataclass(frozen=True)
class Topic(Generic[T]):
    """A subject pattern such as ``telemetry.{tenant}.{machine}`` carrying messages of type T.

    ``identity`` returns the message id used for de-duplication by the broker; without it,
    every publish is a new message.
    """

    pattern: str
    type: type[T]
    stream: Stream
    identity: Callable[[T], str] | None = None
    version: int = 1
    keys: tuple[str, ...] = field(init=False)
    # The pattern parsed once, as (text, is_placeholder) per token: subjects are built and
    # read for every message, so no regex runs on that path.
    _parts: tuple[tuple[str, bool], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts: list[tuple[str, bool]] = []
        for token in self.pattern.split("."):
            placeholder = _PLACEHOLDER.match(token)
            if placeholder:
                parts.append((placeholder.group(1), True))
            elif _LITERAL.match(token):
                parts.append((token, False))
            else:
                raise ContractError(
                    f"topic pattern {self.pattern!r}: token {token!r} is neither a literal "
                    "(lower-case letters, digits, '_' or '-') nor a {field} placeholder"
                )
        keys = [text for text, is_key in parts if is_key]
        if "tenant" not in keys:
            raise ContractError(f"topic pattern {self.pattern!r} must contain {{tenant}}")
        fields = set(self.type.__struct_fields__)
        missing = [key for key in keys if key not in fields]
        if missing:
            raise ContractError(
                f"topic pattern {self.pattern!r} names {missing} which are not fields of "
                f"{self.type.__name__}"
            )
        object.__setattr__(self, "keys", tuple(keys))
        object.__setattr__(self, "_parts", tuple(parts))

    @property
    def name(self) -> str:
        """A stable name for the topic: its pattern with placeholders, plus the version."""
        return f"{self.pattern}@v{self.version}"

    def subject(self, message: T) -> str:
        """The concrete subject of one message, e.g. ``telemetry.acme.slicer-1``."""
        tokens = []
        for text, is_key in self._parts:
            if not is_key:
                tokens.append(text)
                continue
            value = getattr(message, text)
            if not isinstance(value, str) or not _TOKEN.match(value):
                raise ContractError(
                    f"{self.type.__name__}.{text} = {value!r} cannot be a subject token: use "
                    "1-64 letters, digits, '_' or '-'"
                )
            tokens.append(value)
        return ".".join(tokens)

    def filter(self, **fixed: str) -> str:
        """A subscription filter: the pattern with wildcards, or fixed values for some keys."""
        unknown = set(fixed) - set(self.keys)
        if unknown:
            raise ContractError(f"topic {self.pattern!r} has no keys {sorted(unknown)}")
        return ".".join(fixed.get(text, "*") if is_key else text for text, is_key in self._parts)

    def tenant_of(self, subject: str) -> str | None:
        """The tenant named by a concrete subject of this topic, or None if it does not match."""
        tokens = subject.split(".")
        if len(tokens) != len(self._parts):
            return None
        tenant = None
        for token, (text, is_key) in zip(tokens, self._parts, strict=True):
            if not is_key and token != text:
                return None
            if is_key and text == "tenant":
                tenant = token
        return tenant

    def message_id(self, message: T) -> str | None:
        return None if self.identity is None else self.identity(message)
