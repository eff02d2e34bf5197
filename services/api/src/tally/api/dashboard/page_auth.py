"""Pages ask for a session like the API does, but a browser without one is sent to the login
page (303 to /login?next=...) rather than shown a JSON 401."""

from __future__ import annotations

from typing import Any, Generic, TypeVar
from urllib.parse import quote

from starlette.requests import Request

from tally.sdk import Auth, Problem, Rejected

D = TypeVar("D", contravariant=True)
C = TypeVar("C", covariant=True)


class PageSession(Auth[D, C], Generic[D, C]):
    """The session scheme `inner`, with its 401 turned into a redirect to the login page."""

    def __init__(self, inner: Auth[D, C]) -> None:
        self._inner = inner
        self.caller = inner.caller
        self.refusals = {
            303: "No session, or an expired one: to the login page.",
            **{status: text for status, text in inner.refusals.items() if status != 401},
        }

    async def authenticate(self, deps: D, request: Request) -> C:
        try:
            return await self._inner.authenticate(deps, request)
        except Rejected as rejected:
            if rejected.status != 401:
                raise
            back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            location = f"/login?next={quote(back, safe='')}"
            problem = Problem(error="unauthorized", detail=rejected.problem.detail)
            raise Rejected(303, problem, {"Location": location}) from None

    def offered(self, request: Request) -> bool:
        return self._inner.offered(request)

    def schemes(self) -> dict[str, dict[str, Any]]:
        return self._inner.schemes()
