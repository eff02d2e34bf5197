"""Decoding request bodies: every way a body can be wrong becomes a `Rejected`, never a 500.

    UPLOAD = json_body(Upload, advice="send one Upload as JSON")
    upload = UPLOAD.decode(body)     # 400 unreadable, 422 naming the field that breaks Upload
    upload = UPLOAD.parse(body)      # the same verdicts as `BodyRefused`, for code that knows
                                     # no HTTP (its `problem.error`: "malformed" or "invalid")

Unreadable (400) is more than malformed syntax: a string whose bytes are not UTF-8 (msgspec
raises UnicodeDecodeError, not its DecodeError), and nesting deeper than the decoder's
recursion allows (RecursionError). A body that reads but breaks the type (422) names the field
and echoes what the body held there, read from the body as plain data (the "document"), which
fails in the same ways and then echoes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl

import msgspec

from tally.sdk._problems import Problem, Rejected, malformed
from tally.sdk._request_bodies import invalid_from

T = TypeVar("T")


class BodyRefused(ValueError):
    """A body that cannot be read (`problem.error` is "malformed") or that breaks its type
    ("invalid", with `field` and `value`); the same verdicts as HTTP's 400 and 422."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem

    @property
    def status(self) -> int:
        """The HTTP status of the verdict."""
        return 400 if self.problem.error == "malformed" else 422


class BodyFormat(Generic[T]):
    """One encoding of a request body (JSON or MessagePack) decoding into `T`."""

    def __init__(
        self,
        name: str,
        typed: Callable[[bytes], T],
        generic: Callable[[bytes], Any],
        *,
        advice: str,
    ) -> None:
        self.name = name
        self._typed = typed
        self._generic = generic
        self._advice = advice

    def decode(self, body: bytes) -> T:
        """`body` as a `T`; `Rejected` (400 or 422) saying what is wrong otherwise."""
        try:
            return self.parse(body)
        except BodyRefused as refused:
            raise Rejected(refused.status, refused.problem) from None

    def parse(self, body: bytes) -> T:
        """`body` as a `T`; `BodyRefused` saying what is wrong otherwise."""
        try:
            return self._typed(body)
        except msgspec.ValidationError as error:
            raise BodyRefused(invalid_from(error, self.document(body)).problem) from None
        except msgspec.DecodeError as error:
            raise self._unreadable(str(error)) from None
        except UnicodeDecodeError as error:
            raise self._unreadable(
                f"a string holds bytes that are not UTF-8: {error.reason}; send text as UTF-8"
            ) from None
        except RecursionError:
            raise self._unreadable("arrays or objects nest too deeply to be read") from None

    def document(self, body: bytes) -> object:
        """`body` as plain data, to find an offending value in; None when it cannot be read."""
        try:
            return self._generic(body)
        # Also a number JSON can write but no float holds, which only the typed decoder refuses.
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            return None

    def _unreadable(self, reason: str) -> BodyRefused:
        detail = f"the body is not well-formed {self.name} ({reason}); {self._advice}"
        return BodyRefused(malformed(detail).problem)


def json_body(kind: type[T], *, advice: str) -> BodyFormat[T]:
    """JSON bodies decoding into `kind`."""
    return BodyFormat(
        "JSON", msgspec.json.Decoder(kind).decode, msgspec.json.Decoder().decode, advice=advice
    )


def msgpack_body(kind: type[T], *, advice: str) -> BodyFormat[T]:
    """MessagePack bodies decoding into `kind`."""
    return BodyFormat(
        "MessagePack",
        msgspec.msgpack.Decoder(kind).decode,
        msgspec.msgpack.Decoder().decode,
        advice=advice,
    )


def form_body(kind: type[T], *, advice: str) -> BodyFormat[T]:
    """HTML form bodies (application/x-www-form-urlencoded) decoding into the Struct `kind`:
    each field once, its text converted as a query parameter's is ("3" for an int)."""

    def typed(body: bytes) -> T:
        return msgspec.convert(_form_fields(body), kind, strict=False)

    return BodyFormat("form", typed, _form_fields, advice=advice)


def _form_fields(body: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body.decode(), keep_blank_values=True):
        if name in fields:
            # A field sent twice has no one meaning; which one wins would be a guess.
            raise msgspec.DecodeError(f"the field {name!r} is sent more than once")
        fields[name] = value
    return fields
