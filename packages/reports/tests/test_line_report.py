"""The PDF's text holds the day's figures, formatted as `formats` formats the API's numbers."""

from __future__ import annotations

import io
from datetime import timedelta

import msgspec
import pytest
from pypdf import PdfReader

from tally.contracts.figures import LineDay
from tally.reports import completeness_text, formats, line_pdf, site_pdf
from tally.reports.testing import PRODUCED, busy_line_day, empty_line_day, site_day_of


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    # Extracted text keeps the layout's line breaks; figures never span two lines.
    return "\n".join(page.extract_text() for page in reader.pages)


def headline_texts(day: LineDay) -> list[str]:
    """What the headline tiles must show: each figure of GET /v1/lines/{line}/days/{day}."""
    rejects = sum(day.rejects.values())
    return [
        formats.count(day.good_packs),
        formats.count(day.total_packs),
        formats.kg(day.kg),
        formats.kg(day.kg_declared),
        formats.percent(day.giveaway_pct),
        formats.money(day.giveaway_value),
        formats.share(rejects, day.total_packs),
        f"OEE\n{formats.percent(day.oee)}",
        f"Availability\n{formats.percent(day.availability)}",
        f"Performance\n{formats.percent(day.performance)}",
        f"Quality\n{formats.percent(day.quality)}",
        f"Run hours\n{formats.hours(day.run_seconds)}",
        f"Planned hours\n{formats.hours(day.planned_seconds)}",
    ]


def test_the_headline_tiles_show_the_days_figures(busy: LineDay) -> None:
    text = text_of(line_pdf(busy, tenant="alpenwerk", produced_at=PRODUCED, version=3))
    for figure in headline_texts(busy):
        assert figure in text, figure
    # The values as this day has them, so a wrong format fails here too.
    for shown in ("Good packs\n88304", "Kg actual\n11333.5", "Giveaway %\n1.3 %", "77.1 %"):
        assert shown in text


def test_the_header_names_the_day_and_states_its_completeness(busy: LineDay) -> None:
    text = text_of(line_pdf(busy, tenant="alpenwerk", produced_at=PRODUCED, version=3))
    assert "Tenant alpenwerk · site plant-1 · line l1 · production day 2026-03-02" in text
    assert "version 3, produced 2026-03-03T07:15:00+00:00" in text
    assert completeness_text(busy.completeness) in text.replace("\n", " ")
    assert "silent machines: l1-labeller; gaps: 0.17 h" in text


def test_the_tables_show_articles_shifts_machines_and_downtime(busy: LineDay) -> None:
    text = text_of(line_pdf(busy, tenant="alpenwerk", produced_at=PRODUCED))
    assert "Salami 100 g B-0302 70512 192 7123.5 101.3 100.0 1.9" in text
    assert "early 06:00 +01:00 14:00 +01:00 8.00 h 7.00 h 47000 47100 80.1 %" in text
    assert "l1-cw checkweigher 88512 88304" in text
    assert "E042 blade jam" in text
    # The charts' labels are text too: the limits and the waterfall's steps.
    for label in ("Qn 100.0 g", "T1 95.5 g", "T2 91.0 g", "fully productive 12.79 h"):
        assert label in text


def test_a_catch_weight_article_and_null_ratios_show_a_dash(busy: LineDay) -> None:
    text = text_of(line_pdf(busy, tenant="alpenwerk", produced_at=PRODUCED))
    # Catch weight: no Qn, no giveaway, no verdict; kg and mean all the same.
    assert "Ham (catch weight) – 18000 16 4210.1 233.9 – 21.4 0.0 % 0 – – – –" in text
    # The late shift's OEE and performance are null.
    assert "late 14:00 +01:00 22:00 +01:00 8.00 h 6.25 h 41304 41412 – 78.1 % – 99.7 %" in text


def test_an_empty_day_renders_with_dashes_and_says_there_is_nothing(empty: LineDay) -> None:
    text = text_of(line_pdf(empty, tenant="alpenwerk", produced_at=PRODUCED))
    for tile in ("Good packs\n0", "OEE\n–", "Giveaway %\n–", "Reject %\n–", "Kg declared\n–"):
        assert tile in text
    assert "no packs in this day" in text
    assert "no planned time in this day" in text
    assert "silent machines: l2-cw" in text


def test_the_same_figures_make_the_same_bytes(busy: LineDay) -> None:
    first = line_pdf(busy, tenant="alpenwerk", produced_at=PRODUCED, version=1)
    assert line_pdf(busy, tenant="alpenwerk", produced_at=PRODUCED, version=1) == first
    assert first.startswith(b"%PDF-")
    changed = line_pdf(busy, tenant="alpenwerk", produced_at=PRODUCED, version=2)
    assert changed != first


@pytest.mark.parametrize("hours", [23, 25])
def test_a_dst_day_draws_its_timeline(busy: LineDay, hours: int) -> None:
    day = msgspec.structs.replace(busy, end=busy.start + timedelta(hours=hours))
    assert "State timeline per machine" in text_of(
        line_pdf(day, tenant="alpenwerk", produced_at=PRODUCED)
    )


def test_a_site_report_has_its_lines_table_and_each_lines_pages(busy: LineDay) -> None:
    other = empty_line_day()
    site = site_day_of([busy, other])
    text = text_of(site_pdf(site, [busy, other], tenant="alpenwerk", produced_at=PRODUCED))
    assert "Daily production report - site Kempten" in text
    assert "l1 Line 1 88304 90000 88512 11333.5 1.3 % 0.2 % 77.1 %" in text
    assert "l2 Line 2 0 – 0 0.0 – – –" in text
    assert "silent machines: l1-labeller, l2-cw" in text
    assert text.count("Daily production report - Line") == 2
    for figure in headline_texts(busy):
        assert figure in text


def test_names_outside_the_pdf_fonts_are_replaced_not_refused(busy: LineDay) -> None:
    day = msgspec.structs.replace(busy, name="Linia Łódź σ ℮")
    text = text_of(line_pdf(day, tenant="alpenwerk", produced_at=PRODUCED))
    assert "Linia ?ód? sd e" in text
    assert busy_line_day() == busy
