"""Services as processes: their environment, their role, and a start-up failure reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from tally.sdk import InfrastructureError, SettingsError
from tally.supervisor import ServiceProcesses, database_role, service_environment

OWNER = "postgresql://postgres:owner-secret@127.0.0.1:5432/tally"


def test_a_service_gets_its_roles_login_and_none_of_the_owners_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TALLY_OWNER_DATABASE_URL", OWNER)
    monkeypatch.setenv("TALLY_DATABASE_PASSWORD_TALLY_INGEST", "ingest-secret")
    monkeypatch.setenv("TALLY_DATABASE_PASSWORD_TALLY_APP", "app-secret")
    monkeypatch.setenv("TALLY_DATABASE_URL", "postgresql://somebody@elsewhere/x")
    env = service_environment("recorder", OWNER)
    assert "TALLY_OWNER_DATABASE_URL" not in env
    assert not [name for name in env if name.startswith("TALLY_DATABASE_PASSWORD_")]
    assert env["TALLY_DATABASE_URL"] == (
        "postgresql://tally_ingest:ingest-secret@127.0.0.1:5432/tally"
    )


def test_a_service_without_a_database_gets_no_database_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TALLY_DATABASE_URL", "postgresql://somebody@elsewhere/x")
    assert "TALLY_DATABASE_URL" not in service_environment("recorder", None)


def test_the_role_comes_from_the_services_declaration() -> None:
    assert database_role("recorder") == "tally_ingest"
    assert database_role("gateway") == "tally_gateway"
    with pytest.raises(SettingsError, match="no service 'nope': expected a module"):
        database_role("nope")


async def test_a_service_that_exits_at_start_up_is_reported_with_its_log(
    tmp_path: Path,
) -> None:
    processes = ServiceProcesses(
        env={"TALLY_NATS_URL": "nats://127.0.0.1:1", "TALLY_GATEWAY_RATE_SHARE": "plenty"},
        log_dir=tmp_path,
    )
    try:
        gateway = processes.start("gateway")
        with pytest.raises(InfrastructureError, match=r"gateway exited with \d+ at start-up") as e:
            await processes.wait_ready(gateway, within=60)
        assert "TALLY_GATEWAY_RATE_SHARE" in str(e.value)
    finally:
        processes.stop_all()
    assert gateway.process.returncode is not None
