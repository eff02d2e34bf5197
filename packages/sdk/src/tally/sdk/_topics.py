"""Typed topics (a subject pattern bound to one contract type) and the streams that store them.

A `Topic[T]` is the only way services name a subject. The pattern's placeholders are field
names of the contract, so the subject of a message is computed from the message itself and can
never disagree with it (a machine cannot publish under another tenant's subject). Every pattern
carries `{tenant}`: tenancy is part of the address, not an afterthought.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

import msgspec

from tally.sdk._errors import ContractError

T = TypeVar("T", bound=msgspec.Struct)

_PLACEHOLDER = re.compile(r"^\{([a-z_][a-z0-9_]*)\}$")
_LITERAL = re.compile(r"^[a-z][a-z0-9_-]*$")
# A subject token taken from message data must not change the subject's shape.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


Retention = Literal["limits", "interest"]


@dataclass(frozen=True)
class Stream:
    """A JetStream stream: its name, its subjects, and for whom and how long it keeps messages.

    `retention="limits"` keeps every message for `max_age_seconds`. `"interest"` keeps a
    message only until every durable consumer of the stream has acknowledged it (and at most
    `max_age_seconds`), so what is stored and acknowledged makes room while a consumer that is
    down keeps its backlog. A stream with interest retention drops a message published while
    it has no consumer at all, and still acknowledges the publish; so a stream lists its
    durable consumers in `consumers`, the broker creates them together with the stream, and the
    SDK refuses to run a `Consumer` its stream does not list.

    How many bytes a stream may hold and on how many servers it is replicated are properties
    of a deployment, not of the code: see `StreamLimits`.
    """

    name: str
    subjects: tuple[str, ...]
    max_age_seconds: float = 7 * 24 * 3600.0
    duplicate_window_seconds: float = 120.0
    retention: Retention = "limits"
    consumers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.retention == "interest" and not self.consumers:
            raise ContractError(
                f"stream {self.name}: interest retention drops every message while the stream "
                "has no consumer; list its durable consumers in `consumers`"
            )

    def require_consumer(self, durable: str) -> None:
        """Raise ContractError unless `durable` is one of the stream's declared consumers."""
        if durable not in self.consumers:
            raise ContractError(
                f"consumer {durable!r} reads stream {self.name}, which does not declare it "
                f"(it declares {list(self.consumers)}): add {durable!r} to the stream's "
                "`consumers`, so that the broker creates it with the stream and keeps every "
                "message for it from the start"
            )


@dataclass(frozen=True)
class StreamLimits:
    """What a deployment sets for every stream it declares (from TALLY_STREAM_*).

    `replicas`: on how many JetStream servers each stream is kept (1, or 3 / 5 in a cluster).
    `max_bytes`: how much each stream may hold; when full, a publish is refused (`BrokerFull`)
    rather than older messages dropped. None leaves the stream unbounded (the server's own
    store limit still applies).
    """

    replicas: int = 1
    max_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.replicas < 1 or (self.max_bytes is not None and self.max_bytes < 1):
            raise ContractError(
                f"stream limits: replicas must be ≥ 1 and max_bytes ≥ 1 or unset, got "
                f"replicas={self.replicas}, max_bytes={self.max_bytes}"
            )


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
