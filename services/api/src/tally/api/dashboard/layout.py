"""The page around every dashboard view: a skip link, the header with the site and day
pickers, and the one stylesheet and script (both served by the api, no build step).

Pickers are plain GET forms, so they work with the keyboard alone and without script; the
script only keeps figures current (live.js).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

ASSETS = "/dashboard/assets"


@dataclass(frozen=True, slots=True)
class Picker:
    """The header's GET form: the tenant's sites (id, name; none on a line's page, which
    links back to its site) with the one shown, and the day shown (None: today)."""

    action: str
    sites: Sequence[tuple[str, str]]
    site: str | None
    day: date | None


def page(
    title: str,
    main: str,
    *,
    picker: Picker | None = None,
    csrf_token: str | None = None,
    live: str | None = None,
) -> str:
    """A whole HTML document. `live` names what the page follows ("site:<id>" or
    "line:<id>:<day>"), for live.js; None for a page that does not change by itself."""
    meta = f'<meta name="csrf-token" content="{escape(csrf_token)}">' if csrf_token else ""
    follows = f' data-live="{escape(live)}"' if live else ""
    script = f'<script src="{ASSETS}/live.js" defer></script>' if csrf_token else ""
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · tally</title>{meta}"
        f'<link rel="stylesheet" href="{ASSETS}/dashboard.css">{script}</head>'
        f"<body{follows}>"
        '<a class="skip" href="#main">Skip to the figures</a>'
        f"{_header(picker, signed_in=csrf_token is not None)}"
        f'<main id="main" tabindex="-1"><h1>{escape(title)}</h1>{main}</main>'
        '<p class="status" role="status" aria-live="polite" id="live-status"></p>'
        "</body></html>"
    )


def _header(picker: Picker | None, *, signed_in: bool) -> str:
    parts = ['<header><a class="brand" href="/dashboard">tally</a>']
    if picker is not None:
        parts.append(_picker(picker))
    if signed_in:
        parts.append('<button type="button" id="logout" class="logout">Log out</button>')
    parts.append("</header>")
    return "".join(parts)


def _picker(picker: Picker) -> str:
    fields = []
    if picker.sites:
        options = "".join(
            f'<option value="{escape(site)}"{" selected" if site == picker.site else ""}>'
            f"{escape(name)}</option>"
            for site, name in picker.sites
        )
        fields.append(
            '<label for="site-picker">Site</label>'
            f'<select id="site-picker" name="site">{options}</select>'
        )
    day = picker.day.isoformat() if picker.day else ""
    fields.append(
        '<label for="day-picker">Day</label>'
        f'<input id="day-picker" type="date" name="day" value="{day}">'
    )
    return (
        f'<form class="picker" method="get" action="{escape(picker.action)}">'
        f'{"".join(fields)}<button type="submit">Show</button></form>'
    )
