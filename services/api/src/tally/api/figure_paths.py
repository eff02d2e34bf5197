"""What the figures endpoints take: the ids in their paths, typed as the registry types them
(a malformed id is a 422 naming it, like a bad date), and their query parameters."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from tally.registry import ArticleId, Id


class Bucket(StrEnum):
    """The size of a production bucket: a UTC minute, a local clock hour, a shift of the
    site's plan, a production day."""

    MINUTE = "minute"
    HOUR = "hour"
    SHIFT = "shift"
    DAY = "day"


class SitePath(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    site: Id


class SiteDayPath(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    site: Id
    # The production day's name: the local date it starts on (ISO, 2026-03-01).
    day: date


class LinePath(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    line: Id


class LineDayPath(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    line: Id
    day: date


class ArticlePath(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    article: ArticleId


# A page holds at most this many buckets (or lots); `next` continues from where it stopped.
PAGE_LIMIT = 1500


class ProductionQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """[from, to) with an offset (2026-03-01T06:00:00+01:00), or without one for the site's
    local time; by default the site's current production day. `limit` buckets per page."""

    from_: datetime | None = msgspec.field(default=None, name="from")
    to: datetime | None = None
    bucket: Bucket = Bucket.HOUR
    limit: Annotated[int, msgspec.Meta(ge=1, le=PAGE_LIMIT)] = 500


class ComplianceQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The hour-lots starting in [from, to) (at most 31 days; by default the last 24 hours),
    `limit` lots per page."""

    from_: datetime | None = msgspec.field(default=None, name="from")
    to: datetime | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=PAGE_LIMIT)] = 500


class LiveQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Only the lines of one site (every site of the tenant when left out)."""

    site: Id | None = None
