"""`python -m tally.<service>`'s settings: what every service reads from TALLY_*."""

from __future__ import annotations

import pytest

from tally.sdk import RuntimeSettings, SettingsError, load_settings
from tally.sdk._main import with_ack_wait

from .test_host import SERVICE


def test_an_ack_wait_from_the_environment_replaces_every_consumers_own() -> None:
    runtime = load_settings(
        RuntimeSettings,
        "TALLY_",
        {"TALLY_NATS_URL": "nats://127.0.0.1:4222", "TALLY_ACK_WAIT_SECONDS": "1.5"},
    )
    assert runtime.ack_wait_seconds == 1.5
    assert [c.ack_wait for c in SERVICE.consumers] == [30.0]
    assert [c.ack_wait for c in with_ack_wait(SERVICE, 1.5).consumers] == [1.5]


def test_a_zero_ack_wait_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match="TALLY_ACK_WAIT_SECONDS='0'"):
        load_settings(
            RuntimeSettings,
            "TALLY_",
            {"TALLY_NATS_URL": "nats://127.0.0.1:4222", "TALLY_ACK_WAIT_SECONDS": "0"},
        )
