"""tally.reports: the daily production report of a line or a site, as PDF and CSV.

    pdf = line_pdf(day, tenant="alpenwerk", produced_at=now, version=1)     # LineDay → bytes
    text = line_csv(day, tenant="alpenwerk", produced_at=now, version=1)    # → str (UTF-8)
    site_pdf(site_day, line_days, ...), site_csv(site_day, line_days, ...)
    ReportStore().produce_line(scoped_database, tenant, day, now)  # a new version if it changed

The reports draw only from the figures API's contracts (`tally.contracts.figures`), so they
show exactly the API's figures; `formats` rounds them for the PDF the same way every time
(see its docstring), the CSV keeps full precision (layout: `tally.reports._csv_layout`).
"""

from tally.reports import _formats as formats
from tally.reports._csv_layout import line_csv, site_csv
from tally.reports._line_report import completeness_text, line_pdf, site_pdf
from tally.reports._store import ReportStore, StoredFile, figures_digest

__all__ = [
    "ReportStore",
    "StoredFile",
    "completeness_text",
    "figures_digest",
    "formats",
    "line_csv",
    "line_pdf",
    "site_csv",
    "site_pdf",
]
