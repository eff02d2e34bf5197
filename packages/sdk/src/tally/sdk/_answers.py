"""What an endpoint answers besides JSON: HTML pages, files, redirects and event streams.

    async def page(deps: Deps, call: Call[TenantCaller]) -> Html:
        return Html(render(...))
    async def report(deps: Deps, call: Call[TenantCaller, DayPath]) -> File:
        return File(pdf, "application/pdf", filename="line-1-2026-03-01.pdf")
    async def live(deps: Deps, call: Call[TenantCaller]) -> EventStream:
        return EventStream(updates(deps, call.caller.tenant))      # an async iterator of Event

An endpoint declares one of these classes as its response, and its handler returns an
instance; any other response type is encoded as JSON. Each answer makes its own starlette
`Response`; the endpoint adds the headers it declares.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

import msgspec
from starlette.responses import Response, StreamingResponse

from tally.sdk._errors import ContractError

Headers = Sequence[tuple[str, str]]
_JSON = msgspec.json.Encoder()


class Answer:
    """An answer that makes its own response; `media_types` are what it may be sent as
    (for the OpenAPI document; a `File` names its own)."""

    media_types: ClassVar[tuple[str, ...]] = ()

    def response(self, status: int, headers: Mapping[str, str]) -> Response:
        raise NotImplementedError


def is_answer(kind: object) -> bool:
    """Whether a declared response type is an `Answer` (else it is encoded as JSON)."""
    return isinstance(kind, type) and issubclass(kind, Answer)


def _with(response: Response, declared: Mapping[str, str], own: Headers) -> Response:
    for name, value in declared.items():
        response.headers[name] = value
    for name, value in own:
        # append, not set: a page may set several cookies
        response.headers.append(name, value)
    return response


@dataclass(frozen=True, slots=True)
class Html(Answer):
    """An HTML page (UTF-8)."""

    text: str
    headers: Headers = ()
    media_types: ClassVar[tuple[str, ...]] = ("text/html",)

    def response(self, status: int, headers: Mapping[str, str]) -> Response:
        answer = Response(self.text, status_code=status, media_type="text/html; charset=utf-8")
        return _with(answer, headers, self.headers)


@dataclass(frozen=True, slots=True)
class File(Answer):
    """Bytes of a media type, such as a PDF or CSV report; with `filename`, a download."""

    content: bytes
    media_type: str
    filename: str | None = None
    headers: Headers = ()

    def response(self, status: int, headers: Mapping[str, str]) -> Response:
        answer = Response(self.content, status_code=status, media_type=self.media_type)
        if self.filename is not None:
            answer.headers["Content-Disposition"] = _attachment(self.filename)
        return _with(answer, headers, self.headers)


def _attachment(filename: str) -> str:
    # The quoted form for old clients (ASCII, no quotes or backslashes), RFC 6266's filename*
    # for the real name.
    plain = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


@dataclass(frozen=True, slots=True)
class Redirect(Answer):
    """Send the client elsewhere, with the endpoint's status (303 See Other unless it declares
    another 3xx: after a form, GET the location).

    `location` must be a path on this service ("/login?next=%2F"): a location taken from the
    request could otherwise send users to any site. `external=True` allows a full URL.
    """

    location: str
    external: bool = False
    headers: Headers = ()

    def __post_init__(self) -> None:
        local = self.location.startswith("/") and not self.location.startswith(("//", "/\\"))
        if not (local or self.external):
            raise ContractError(
                f"redirect to {self.location!r}: only paths of this service ('/...') unless "
                "external=True"
            )

    def response(self, status: int, headers: Mapping[str, str]) -> Response:
        answer = Response(status_code=status, headers={"Location": self.location})
        return _with(answer, headers, self.headers)


@dataclass(frozen=True, slots=True)
class Event:
    """One server-sent event: `data` as text, or JSON for anything else (a Struct, a dict)."""

    data: Any
    event: str | None = None
    id: str | None = None
    # How long the browser waits before reconnecting, in milliseconds.
    retry: int | None = None

    def encode(self) -> bytes:
        text = self.data if isinstance(self.data, str) else _JSON.encode(self.data).decode()
        lines = [f"event: {_one_line(self.event)}"] if self.event is not None else []
        if self.id is not None:
            lines.append(f"id: {_one_line(self.id)}")
        if self.retry is not None:
            lines.append(f"retry: {self.retry}")
        lines.extend(f"data: {line}" for line in text.splitlines() or [""])
        return ("\n".join(lines) + "\n\n").encode()


def _one_line(text: str) -> str:
    # A line break would end the field and start a forged one.
    return text.replace("\r", " ").replace("\n", " ")


@dataclass(frozen=True, slots=True)
class EventStream(Answer):
    """Server-sent events (text/event-stream) from an async iterator, until it ends or the
    client goes away (the iterator is closed then). A comment line every `ping_seconds` keeps
    proxies from closing a quiet stream and notices a client that left."""

    events: AsyncIterator[Event]
    ping_seconds: float = 15.0
    headers: Headers = ()
    media_types: ClassVar[tuple[str, ...]] = ("text/event-stream",)

    def response(self, status: int, headers: Mapping[str, str]) -> Response:
        answer = StreamingResponse(
            _stream(self.events, self.ping_seconds),
            status_code=status,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        return _with(answer, headers, self.headers)


async def _stream(events: AsyncIterator[Event], ping_seconds: float) -> AsyncIterator[bytes]:
    # The next event is awaited in a task of its own: cancelling a generator's __anext__ on a
    # ping's timeout would end the generator.
    pending: asyncio.Future[Event] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            done, _ = await asyncio.wait({pending}, timeout=ping_seconds)
            if not done:
                yield b": ping\n\n"
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield event.encode()
    finally:
        if pending is not None:
            pending.cancel()
            # Settled before the generator is closed (aclose refuses a running generator);
            # `wait` raises nothing of the task's own.
            await asyncio.wait({pending})
            if not pending.cancelled():
                pending.exception()
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
