"""The figures API's declarations (handlers: `figures_api`), for a tenant's users and API keys.

Every answer is a contract of `tally.contracts.figures`; the OpenAPI document shows their
schemas. Days are the site's production days named by their local start date (ISO), times
carry the site's UTC offset, ratios are fractions (0.853), null where a denominator is zero.
"""

from __future__ import annotations

from typing import Any

from tally.api import figures_api
from tally.api.admin import ApiDeps
from tally.api.figure_paths import (
    ArticlePath,
    ComplianceQuery,
    LineDayPath,
    LinePath,
    LiveQuery,
    ProductionQuery,
    SiteDayPath,
)
from tally.api.ranges import LONGEST, LONGEST_LOTS
from tally.contracts.figures import Compliance, LineDay, Live, Production, SiteDay, Sites
from tally.sdk import AnyEndpoint, Auth, Endpoint

_NO_STORE = {"Cache-Control": "no-store"}
_LIMITS = ", ".join(f"{bucket.value} {span.days} days" for bucket, span in LONGEST.items())
_DAY = "422: a `day` that is no ISO date (2026-03-01), or an id of the wrong shape."


def endpoints(tenant: Auth[ApiDeps, Any]) -> list[AnyEndpoint[ApiDeps]]:
    """The figures endpoints, callable with `tenant` (a session or an API key of the tenant)."""
    return [
        Endpoint(
            "GET", "/v1/sites", figures_api.sites_and_lines, auth=tenant, response=Sites,
            headers=_NO_STORE, summary="The tenant's sites and their lines",
        ),
        Endpoint(
            "GET", "/v1/sites/{site}/days/{day}", figures_api.get_site_day, auth=tenant,
            params=SiteDayPath, response=SiteDay, headers=_NO_STORE,
            summary="Every line of a site on a production day",
            errors={404: "The tenant has no such site; `field` names it.", 422: _DAY},
        ),
        Endpoint(
            "GET", "/v1/lines/{line}/days/{day}", figures_api.get_line_day, auth=tenant,
            params=LineDayPath, response=LineDay, headers=_NO_STORE,
            summary="One line's production day: headline figures, machines, articles, "
            "shifts, hours, downtime Pareto, timeline, OEE losses and weights",
            errors={404: "The tenant has no such line; `field` names it.", 422: _DAY},
        ),
        Endpoint(
            "GET", "/v1/lines/{line}/production", figures_api.get_production, auth=tenant,
            params=LinePath, query=ProductionQuery, response=Production, headers=_NO_STORE,
            summary="A line's figures per minute, hour, shift or day over [from, to)",
            description="The buckets starting in [from, to) (an hour's, shift's or day's "
            "start may lie before `from`); by default the site's current production day. "
            f"One request spans at most: {_LIMITS}. `from` and `to` without an offset are the "
            "site's local time. Pages of `limit` buckets; `next` is the `from` of the "
            "following page.",
            errors={
                404: "The tenant has no such line; `field` names it.",
                422: "A bad `from`, `to`, `bucket` or `limit`, or a range longer than the "
                "bucket allows; `field` names it.",
            },
        ),
        Endpoint(
            "GET", "/v1/articles/{article:path}/compliance", figures_api.get_compliance,
            auth=tenant, params=ArticlePath, query=ComplianceQuery, response=Compliance,
            headers=_NO_STORE, summary="The ℮ verdict of each hour-lot of an article",
            description=f"Lots starting in [from, to), at most {LONGEST_LOTS.days} days; by "
            "default the last 24 hours; without an offset, UTC. Pages end at a whole hour; "
            "`next` continues.",
            errors={
                404: "The tenant has no such article; `field` names it.",
                422: "A bad `from`, `to` or `limit`, or too long a range.",
            },
        ),
        Endpoint(
            "GET", "/v1/live", figures_api.get_live, auth=tenant, query=LiveQuery,
            response=Live, headers=_NO_STORE,
            summary="Every line's state right now and its production day so far",
            errors={404: "The tenant has no such site (`site`)."},
        ),
    ]  # fmt: skip
