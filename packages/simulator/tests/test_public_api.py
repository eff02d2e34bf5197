"""The front door: changing the public surface must show up in review."""

from __future__ import annotations

import tally.simulator


def test_all_is_pinned() -> None:
    assert tally.simulator.__all__ == [
        "ArticleDayTruth",
        "ArticleSpec",
        "DeliveryFailed",
        "Fleet",
        "GatewayRejected",
        "HttpSender",
        "LineDayTruth",
        "LineSpec",
        "LossesTruth",
        "LotTruth",
        "MachineDayTruth",
        "MachineSpec",
        "MachineType",
        "MemorySender",
        "OeeTruth",
        "Placement",
        "RetryPolicy",
        "SendResult",
        "Sender",
        "SentUpload",
        "Simulation",
        "SimulatorError",
        "SiteSpec",
        "StopTruth",
        "TenantSpec",
        "TenantStats",
        "TenantTruth",
        "Tokens",
        "TransportProfile",
        "Truth",
        "TruthFile",
        "UploadTooLarge",
        "WeighingsTruth",
        "build_fleet",
        "peak_datapoints_per_second",
        "provision",
        "read_truth",
        "write_truth",
    ]


def test_all_is_sorted_and_importable() -> None:
    names = tally.simulator.__all__
    assert names == sorted(names, key=lambda n: (not n[0].isupper(), n))
    for name in names:
        assert getattr(tally.simulator, name) is not None
