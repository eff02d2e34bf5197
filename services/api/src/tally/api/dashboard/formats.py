"""How the dashboard writes figures: the same rounding everywhere, so that a page and the
API's JSON can be compared figure by figure (a test does), and "—" where a figure is null."""

from __future__ import annotations

from html import escape

NONE = "—"


def ratio(value: float | None) -> str:
    """A ratio 0..1 as a percentage with one decimal (OEE 0.8534 → 85.3 %)."""
    return NONE if value is None else f"{value * 100:.1f} %"


def count(value: float | None) -> str:
    """Packs: whole numbers with thin-space thousands, as plant managers read them."""
    return NONE if value is None else f"{round(value):,}".replace(",", "\u202f")


def kilograms(value: float | None) -> str:
    return NONE if value is None else f"{value:,.1f} kg".replace(",", "\u202f")


def grams(value: float | None) -> str:
    return NONE if value is None else f"{value:.1f} g"


def money(value: float | None) -> str:
    return NONE if value is None else f"{value:,.2f}".replace(",", "\u202f")


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h"


def text(value: object) -> str:
    """Any value from the figures or a tenant's registry, escaped for HTML."""
    return escape(str(value))
