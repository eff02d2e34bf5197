"""A page with a status of its own: the SDK's `Html` answers with the endpoint's status, and a
page for a line that does not exist must say 404 to the browser too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from starlette.responses import Response

from tally.sdk import Answer


@dataclass(frozen=True, slots=True)
class Page(Answer):
    text: str
    status: int = 200
    media_types: ClassVar[tuple[str, ...]] = ("text/html",)

    def response(self, status: int, headers: Mapping[str, str]) -> Response:
        answer = Response(self.text, status_code=self.status, media_type="text/html; charset=utf-8")
        for name, value in headers.items():
            answer.headers[name] = value
        # Figures change by the minute and are a tenant's own: never from a shared cache.
        answer.headers["Cache-Control"] = "no-store"
        return answer
