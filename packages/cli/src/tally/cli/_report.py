"""The demo's summary: what was sent, accepted, stored and dropped, per tenant."""

from __future__ import annotations

import msgspec


class TenantSummary(msgspec.Struct, kw_only=True):
    tenant: str
    messages_sent: int
    datapoints_sent: int
    accepted: int
    # Re-sent messages dropped by JetStream (gateway) or by the recorder's ledger.
    duplicates_dropped: int
    stored: int
    datapoints_stored: int
    dead_lettered: int
    unsent: int
    # accepted − duplicates dropped − stored − dead-lettered; anything but 0 is a bug.
    lost: int


class ServiceSummary(msgspec.Struct, kw_only=True):
    name: str
    peak_rss_mb: float


class DemoReport(msgspec.Struct, kw_only=True):
    seed: int
    speed: float
    wall_seconds: float
    simulated_seconds: float
    tenants: list[TenantSummary]
    services: list[ServiceSummary]
    datapoints_per_second_accepted: float
    datapoints_per_second_stored: float
    sent: int
    accepted: int
    duplicates_dropped: int
    stored: int
    dead_lettered: int
    lost: int
    truth_files: list[str]


def render(report: DemoReport) -> str:
    """The summary as a terminal table."""
    rows = [
        f"{'tenant':<12}{'sent':>10}{'accepted':>10}{'dups':>8}{'stored':>10}"
        f"{'datapoints':>12}{'dead':>6}{'lost':>6}"
    ]
    rows += [
        f"{t.tenant:<12}{t.messages_sent:>10}{t.accepted:>10}{t.duplicates_dropped:>8}"
        f"{t.stored:>10}{t.datapoints_stored:>12}{t.dead_lettered:>6}{t.lost:>6}"
        for t in report.tenants
    ]
    memory = ", ".join(f"{s.name} {s.peak_rss_mb:.0f} MB" for s in report.services)
    rows += [
        "",
        f"{report.wall_seconds:.0f} s wall, {report.simulated_seconds / 3600:.1f} h simulated; "
        f"{report.datapoints_per_second_stored:,.0f} datapoints/s stored",
        f"peak memory: {memory}",
        f"ground truth: {', '.join(report.truth_files)}",
        "nothing lost" if report.lost == 0 else f"LOST {report.lost} messages",
    ]
    if report.dead_lettered:
        rows.append(
            f"{report.dead_lettered} messages dead-lettered: `tally dead-letters` lists them, "
            "`tally dead-letters --replay` sends them again once the cause is fixed"
        )
    return "\n".join(rows)
