"""Decoding request bodies: every way a body can be wrong becomes a `Rejected`, never a 500.

    UPLOAD = json_body(Upload, advice="send one Upload as JSON")
    upload = UPLOAD.decode(body)     # 400 unreadable, 422 naming the field that breaks Upload

Unreadable (400) is more than malformed syntax: a string whose bytes are not UTF-8 (msgspec
raises UnicodeDecodeError, not its DecodeError), and nesting deeper than the decoder's
recursion allows (RecursionError). A body that reads but breaks the type (422) names the field
and echoes what the body held there, read from the body as plain data (the "document"), which
fails in the same ways and then echoes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import msgspec

from tally.sdk._problems import Rejected, malformed
from tally.sdk._request_bodies import invalid_from

T = TypeVar("T")


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
            return self._typed(body)
        except msgspec.ValidationError as error:
            raise invalid_from(error, self.document(body)) from None
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

    def _unreadable(self, reason: str) -> Rejected:
        return malformed(f"the body is not well-formed {self.name} ({reason}); {self._advice}")


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
