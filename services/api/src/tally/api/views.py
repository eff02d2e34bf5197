"""What the admin endpoints answer: the registry's records, articles with their ℮ limits,
listings, and a freshly issued machine token."""

from __future__ import annotations

import msgspec

from tally.registry import Article, Line, Machine, Site, Tenant, limits


class ArticleView(Article, frozen=True, kw_only=True):
    """An article with the limits of the weight law for its nominal quantity (all in g; null
    for catch-weight articles)."""

    tne_g: float | None
    t1_g: float | None
    t2_g: float | None


def article_view(article: Article) -> ArticleView:
    fields = msgspec.structs.asdict(article)
    if article.nominal_g is None:
        return ArticleView(**fields, tne_g=None, t1_g=None, t2_g=None)
    law = limits(article.nominal_g)
    return ArticleView(**fields, tne_g=law.tne_g, t1_g=law.t1_g, t2_g=law.t2_g)


class Tenants(msgspec.Struct, frozen=True, kw_only=True):
    tenants: list[Tenant]


class Sites(msgspec.Struct, frozen=True, kw_only=True):
    sites: list[Site]


class Lines(msgspec.Struct, frozen=True, kw_only=True):
    lines: list[Line]


class Machines(msgspec.Struct, frozen=True, kw_only=True):
    machines: list[Machine]


class Articles(msgspec.Struct, frozen=True, kw_only=True):
    articles: list[ArticleView]


class IssuedToken(msgspec.Struct, frozen=True, kw_only=True):
    """Shown once: only its SHA-256 is stored. Earlier tokens of the machine are revoked."""

    tenant: str
    machine: str
    token: str
