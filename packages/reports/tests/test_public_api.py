from __future__ import annotations

import tally.reports


def test_the_public_names_are_pinned() -> None:
    assert tally.reports.__all__ == [
        "completeness_text", "formats", "line_csv", "line_pdf", "site_csv", "site_pdf",
    ]  # fmt: skip
