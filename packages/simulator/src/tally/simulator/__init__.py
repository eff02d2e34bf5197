"""tally.simulator: the seeded machine fleet, with its ground truth.

    build_fleet     a deterministic fleet of vendors, sites, lines, machines and articles
    Simulation      runs it in real time, accelerated, or as a backfill of past days
    HttpSender      uploads to the gateway as machines do (MemorySender records, for tests)
    Truth           what was really generated, as docs/FIGURES.md's figures in device time:
                    per machine and day, per line and day, per ℮ lot (see _truth_file.py)
    peak_datapoints_per_second   what a tenant's lines send at most, to size its budget
    provision       registers the fleet in a database's registry; a token per machine (Tokens)

Errors: SimulatorError is the root; GatewayRejected (a 4xx: the simulator is wrong),
DeliveryFailed (an upload ran out of attempts) and UploadTooLarge (one message exceeds the
gateway's body limit).

A production day in two minutes, ending now, then the truth to compare the platform with::

    fleet = build_fleet(seed=1)
    tokens = await provision(fleet, owner_database_url)  # a token per machine
    async with HttpSender("http://localhost:8080", tokens) as sender:
        simulation = Simulation(fleet, seed=1, speed=720)
        stats = await simulation.run(sender, until_wall=120)
    write_truth(simulation.truth, "truth.json")

`Simulation.backfill(fleet, seed=1, days=3)` fills the past three days as fast as it can.
"""

from tally.simulator._errors import (
    DeliveryFailed,
    GatewayRejected,
    SimulatorError,
    UploadTooLarge,
)
from tally.simulator._fleet import (
    ArticleSpec,
    Fleet,
    LineSpec,
    MachineSpec,
    MachineType,
    Placement,
    SiteSpec,
    TenantSpec,
    build_fleet,
)
from tally.simulator._http import HttpSender
from tally.simulator._line import peak_datapoints_per_second
from tally.simulator._registration import Tokens, provision
from tally.simulator._retry import RetryPolicy
from tally.simulator._run import Simulation
from tally.simulator._senders import MemorySender, Sender, SendResult, SentUpload
from tally.simulator._stats import TenantStats
from tally.simulator._transport import TransportProfile
from tally.simulator._truth import Truth, read_truth, write_truth
from tally.simulator._truth_file import (
    ArticleDayTruth,
    LineDayTruth,
    LossesTruth,
    LotTruth,
    MachineDayTruth,
    OeeTruth,
    StopTruth,
    TenantTruth,
    TruthFile,
    WeighingsTruth,
)

__all__ = [
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
