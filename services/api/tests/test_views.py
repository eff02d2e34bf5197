"""Articles answer with the limits of the weight law."""

from __future__ import annotations

from tally.api.views import article_view
from tally.registry import Article


def test_an_article_carries_tne_t1_and_t2_of_its_nominal_quantity() -> None:
    article = Article(
        tenant="acme", article="salami-100", name="Salami", nominal_g=100.0, ideal_rate_ppm=120.0
    )

    view = article_view(article)

    assert (view.tne_g, view.t1_g, view.t2_g) == (4.5, 95.5, 91.0)
    assert (view.article, view.nominal_g, view.price_per_kg) == ("salami-100", 100.0, 0.0)


def test_a_catch_weight_article_has_no_limits() -> None:
    article = Article(tenant="acme", article="ham", name="Ham", nominal_g=None, ideal_rate_ppm=60)

    view = article_view(article)

    assert (view.tne_g, view.t1_g, view.t2_g) == (None, None, None)
