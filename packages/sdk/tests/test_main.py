"""`python -m tally.<service>` as a real process: start-up within the connect time or a clear
failure naming the server without its password; a schedule run once by `--workers 2` and caught
up after a restart; no secret in any log line."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from tally.sdk._server_process import free_port
from tally.sdk.testing import LoginUrl, eventually

PROBE = Path(__file__).with_name("probe_service.py")
PASSWORD = f"pw-{secrets.token_hex(6)}"
CONNECT_SECONDS = 1.0
# Starting Python and importing the SDK on a loaded machine, on top of the connect time.
START_UP_ALLOWANCE = 30.0


@contextmanager
def probe(env: dict[str, str], log: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """The probe service running with `env`, its output in `log`; stopped gracefully after."""
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, str(PROBE), *args],
            env={**os.environ, "TALLY_LOG_LEVEL": "debug", **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def failed_start(env: dict[str, str], log: Path) -> tuple[int | None, float]:
    """Run the probe until it exits on its own: its exit code and how long it took."""
    started = time.monotonic()
    with probe({"TALLY_CONNECT_SECONDS": str(CONNECT_SECONDS), **env}, log) as process:
        try:
            code: int | None = process.wait(CONNECT_SECONDS + START_UP_ALLOWANCE)
        except subprocess.TimeoutExpired:
            code = None  # still trying: the bug this guards against
    return code, time.monotonic() - started


def test_an_unreachable_nats_fails_start_up_in_time_naming_it_without_its_password(
    tmp_path: Path,
) -> None:
    port = free_port()  # nothing listens there
    log = tmp_path / "probe.log"
    code, seconds = failed_start(
        {"TALLY_NATS_URL": f"nats://probe:{PASSWORD}@127.0.0.1:{port}"}, log
    )
    text = log.read_text()
    assert code == 1, f"still running after {seconds:.1f} s:\n{text}"
    assert f"cannot reach NATS at nats://probe:***@127.0.0.1:{port} within 1 s" in text
    assert PASSWORD not in text


@pytest.mark.integration
def test_an_unreachable_postgresql_fails_start_up_in_time_naming_it_without_its_password(
    nats_url: str, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "probe.log"
    env = {
        "PROBE_DATABASE": "1",
        "TALLY_NATS_URL": nats_url,
        "TALLY_DATABASE_URL": f"postgresql://tally_app:{PASSWORD}@127.0.0.1:{port}/tally",
    }
    code, seconds = failed_start(env, log)
    text = log.read_text()
    assert code == 1, f"still running after {seconds:.1f} s:\n{text}"
    assert (
        f"cannot reach PostgreSQL at postgresql://tally_app:***@127.0.0.1:{port}/tally within 1 s"
        in text
    )
    assert PASSWORD not in text


@pytest.mark.integration
async def test_a_secret_repeated_in_an_error_never_reaches_the_log(
    nats_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "probe.log"
    leak = f"leak-{secrets.token_hex(8)}"
    nats_with_password = nats_url.replace("nats://", f"nats://probe:{PASSWORD}@")
    env = {
        "TALLY_NATS_URL": nats_with_password,
        "TALLY_PROBE_LEAK": leak,
        "TALLY_PROBE_BEAT_SECONDS": "0.2",
        "TALLY_SCHEDULES_TICK_SECONDS": "0.1",
    }
    ops_port = free_port()
    with probe(env, log, "--port", str(free_port()), "--ops-port", str(ops_port)):
        # The job failed a few times, each time with the secret in its error and traceback.
        await eventually(lambda: failed_runs(ops_port) >= 3, seconds=60)
    # The first failure in full; on stop, the count of its repeats (with the last one's text).
    text = log.read_text()
    assert leak not in text
    assert PASSWORD not in text
    assert "stop requested" in text
    assert text.count("the server said: bad secret ***") >= 2, text
    assert "more in the last" in text


def failed_runs(ops_port: int) -> float:
    try:
        metrics = httpx.get(f"http://127.0.0.1:{ops_port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return 0.0
    for line in metrics.splitlines():
        if line.startswith('tally_schedule_runs_total{outcome="failed",schedule="beats"}'):
            return float(line.rpartition(" ")[2])
    return 0.0


@pytest.fixture
async def beats_database(migrated_database_url: str, login_url: LoginUrl) -> str:
    """The probe's login to a migrated database with an empty `probe_beats`."""
    owner = await asyncpg.connect(migrated_database_url)
    try:
        await owner.execute("DROP TABLE IF EXISTS probe_beats")
        await owner.execute("DELETE FROM tally_schedule_runs WHERE service = 'probe'")
        await owner.execute("DELETE FROM tally_schedule_horizons WHERE service = 'probe'")
        await owner.execute("CREATE TABLE probe_beats (slot text NOT NULL, worker text NOT NULL)")
        await owner.execute("GRANT SELECT, INSERT ON probe_beats TO tally_app")
    finally:
        await owner.close()
    return login_url(migrated_database_url, "tally_app")


async def recorded(migrated_database_url: str) -> list[tuple[datetime, str]]:
    owner = await asyncpg.connect(migrated_database_url)
    try:
        rows = await owner.fetch("SELECT slot, worker FROM probe_beats ORDER BY slot")
    finally:
        await owner.close()
    return [(datetime.fromisoformat(r["slot"]), r["worker"]) for r in rows]


@pytest.mark.integration
@pytest.mark.slow
async def test_two_workers_run_each_beat_once_and_a_restart_catches_up_what_it_missed(
    beats_database: str, migrated_database_url: str, nats_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "probe.log"
    env = {
        "PROBE_DATABASE": "1",
        "TALLY_NATS_URL": nats_url,
        "TALLY_DATABASE_URL": beats_database,
        "TALLY_PROBE_BEAT_SECONDS": "0.5",
        "TALLY_SCHEDULES_TICK_SECONDS": "0.1",
    }
    ports = ["--port", str(free_port()), "--ops-port", str(free_port())]
    with probe(env, log, "--workers", "2", *ports):
        started = datetime.now(UTC)

        # Past the first start's catch-up (oldest first), which reaches further back than the
        # restart's look-back will: a beat it left undone would be out of reach, not missed.
        async def enough() -> bool:
            slots = [slot for slot, _ in await recorded(migrated_database_url)]
            return len(slots) >= 8 and max(slots) > started

        await eventually(enough, seconds=60)
    stopped = datetime.now(UTC)
    before = await recorded(migrated_database_url)
    # Down for three beats or more; then one process again.
    await eventually(lambda: datetime.now(UTC) > stopped + timedelta(seconds=2), seconds=10)
    with probe(env, log, *ports):
        restarted = datetime.now(UTC)

        async def caught_up() -> bool:
            return any(slot > restarted for slot, _ in await recorded(migrated_database_url))

        await eventually(caught_up, seconds=60)
    after = await recorded(migrated_database_url)
    slots = [slot for slot, _ in after]
    assert len(slots) == len(set(slots)), f"a beat ran twice: {after}"
    # Every beat from the first one recorded to the last, none missed: the ones that fell due
    # while nothing ran were caught up after the restart.
    step = timedelta(seconds=0.5)
    assert slots == [slots[0] + n * step for n in range(len(slots))], log.read_text()
    assert any(stopped < slot < restarted for slot in slots)
    assert len({worker for _, worker in before}) >= 1
