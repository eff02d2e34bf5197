"""The ids an admin path names, typed as the registry's records type them: a path parameter
is refused (422, naming it) exactly when the record would refuse the same id."""

from __future__ import annotations

import msgspec

from tally.registry import ArticleId, Id, TenantId


class TenantPath(msgspec.Struct, frozen=True, kw_only=True):
    tenant: TenantId


class SitePath(TenantPath, frozen=True, kw_only=True):
    site: Id


class LinePath(TenantPath, frozen=True, kw_only=True):
    line: Id


class MachinePath(TenantPath, frozen=True, kw_only=True):
    machine: Id


class ArticlePath(TenantPath, frozen=True, kw_only=True):
    # Any article number the registry takes, "/" included (sent as %2F).
    article: ArticleId
