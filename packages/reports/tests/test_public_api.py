from __future__ import annotations

import tally.reports


def test_the_public_names_are_pinned() -> None:
    assert tally.reports.__all__ == [
        "ReportStore", "StoredFile", "completeness_text", "figures_digest", "formats",
        "line_csv", "line_pdf", "site_csv", "site_pdf",
    ]  # fmt: skip
