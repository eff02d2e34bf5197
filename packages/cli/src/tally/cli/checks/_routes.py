"""The HTTP routes of a service, read from its endpoint declarations: method, path (as OpenAPI
writes it) and who may call, plus the /openapi.json the SDK serves beside them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tally.sdk import Service


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str
    # The authentication scheme(s) by name ("machineToken", "apiKey or userSession", "public").
    auth: str

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.auth})"


def declared_routes(service: Service[Any, Any]) -> list[HttpRoute]:
    """Every route the service serves on its public port, in declaration order."""
    routes = [HttpRoute(e.method, e.openapi_path, e.auth.name) for e in service.endpoints]
    if routes:
        routes.append(HttpRoute("GET", "/openapi.json", "public"))
    return routes
