"""A real PostgreSQL server, run from the binaries in the `pgserver` wheel on a free TCP port.

Its state lives under `<state_dir>/postgres`: the cluster in `data` (created by initdb once),
`postgres.log`, and `server.json` (pid, port, url), through which a later process attaches to a
server that is still running. Run by root, the server runs as a system user from places that
user can reach, and `data` links to the cluster kept there (see `_postgres_as_root`).
pgserver's own Python API is not used: it listens on a unix socket only and registers atexit
hooks; importing it even warns when XDG_RUNTIME_DIR is unset.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import shutil
import signal
import subprocess
from pathlib import Path

from tally.sdk._errors import InfrastructureError
from tally.sdk._extras import EMBEDDED_EXTRA, missing_extra
from tally.sdk._postgres_as_root import (
    cluster_data,
    reachable_install,
    remove_cluster,
    sweep_clusters,
    system_user,
)
from tally.sdk._server_process import (
    EmbeddedServer,
    ServerRecord,
    log_tail,
    pid_alive,
    spawn,
    stop_process,
    wait_until_ready,
)

_INITDB_TIMEOUT = 120.0
_SETTINGS = ("max_connections=200", "shared_buffers=128MB", "unix_socket_directories=")
# Losing the last transactions on a crash is fine for a test database, never for the demo.
_FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class EmbeddedPostgres(EmbeddedServer):
    """A PostgreSQL 16 server whose cluster is kept in `state_dir/postgres/data`.

    See `EmbeddedServer` for attaching. `fast=True` trades durability for speed (fsync off):
    for test fixtures only. `disposable=True` removes the cluster when the server it started
    stops (for a temporary state folder).
    """

    _folder = "postgres"
    # SIGINT is what `pg_ctl stop -m fast` sends; we hold the process, so we send it and reap it
    # ourselves. (SIGTERM would wait for every client to disconnect.)
    _stop_signal = signal.SIGINT
    _stop_timeout = 15.0

    def __init__(
        self,
        state_dir: Path,
        *,
        fast: bool = False,
        disposable: bool = False,
        startup_timeout: float = 20.0,
    ) -> None:
        super().__init__(state_dir, startup_timeout=startup_timeout)
        self._fast = fast
        self._disposable = disposable

    def stop(self) -> None:
        started = self.owned
        super().stop()
        if started and self._disposable:
            if self._data.is_symlink():
                remove_cluster(self._data)
            else:
                shutil.rmtree(self._data, ignore_errors=True)

    @property
    def _data(self) -> Path:
        """`data` in the state folder: the cluster itself, or (for root) a link to it."""
        return self.directory / "data"

    @property
    def _log_path(self) -> Path:
        return self.directory / "postgres.log"

    def _launch(self) -> tuple[subprocess.Popen[bytes], ServerRecord]:
        user = system_user()
        if user is None or (self._data.is_dir() and not self._data.is_symlink()):
            # Ours, or a cluster made in the state folder before clusters moved out for root.
            self._data.mkdir(mode=0o700, exist_ok=True)
            data = self._data
        else:
            sweep_clusters()
            data = cluster_data(self._data, user)
        self._initdb(data, user)
        return self._run_postgres(data, user)

    def _initdb(self, data: Path, user: str | None) -> None:
        if (data / "PG_VERSION").exists():
            return
        argv = [str(_binary("initdb")), "-D", str(data), "--auth=trust", "-U", "postgres"]
        argv += ["--encoding=UTF8", "--locale=C", *(["--no-sync"] if self._fast else [])]
        process, offset = spawn(
            argv,
            log_path=self._log_path,
            death_signal=signal.SIGTERM,
            cwd=data.parent,
            user=user,
        )
        code: int | None = None
        try:
            code = process.wait(_INITDB_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        finally:  # after a timeout or Ctrl-C too; initdb removes its half-made cluster itself
            stop_process(process, stop_signal=signal.SIGTERM, timeout=self._stop_timeout)
        if code != 0:
            outcome = f"failed with code {code}" if code else f"took over {_INITDB_TIMEOUT:.0f} s"
            raise InfrastructureError(
                f"initdb of {data} {outcome}; "
                f"last lines of {self._log_path}:\n{log_tail(self._log_path, offset)}"
            )

    def _run_postgres(
        self, data: Path, user: str | None
    ) -> tuple[subprocess.Popen[bytes], ServerRecord]:
        port = self._port()
        argv = [str(_binary("postgres")), "-D", str(data), "-h", "127.0.0.1", "-p", str(port)]
        for setting in _SETTINGS + (_FAST_SETTINGS if self._fast else ()):
            argv += ["-c", setting]
        # SIGINT is a fast shutdown: should we die, our clients are gone and nobody is waited for.
        process, offset = spawn(
            argv,
            log_path=self._log_path,
            death_signal=signal.SIGINT,
            cwd=data.parent,
            user=user,
        )
        wait_until_ready(
            lambda: _is_ready(port),
            process=process,
            what=f"postgres on port {port}",
            log_path=self._log_path,
            log_offset=offset,
            timeout=self._startup_timeout,
        )
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        return process, ServerRecord(process.pid, port, url)

    def kill(self) -> None:
        """SIGKILL the postmaster (see `EmbeddedServer.kill`), then wait for its backends.

        They outlive it until they notice it is gone, as after a real crash, and a new
        postmaster refuses to start while they still hold the old shared memory."""
        import psutil  # the embedded part's (tally-sdk[embedded]), needed only here

        try:
            backends = psutil.Process(self.pid).children()
        except psutil.Error:
            backends = []
        super().kill()
        _, left = psutil.wait_procs(backends, timeout=self._stop_timeout)
        for backend in left:
            with contextlib.suppress(psutil.Error):
                backend.kill()
        psutil.wait_procs(left, timeout=self._stop_timeout)

    def _is_ours(self, record: ServerRecord) -> bool:
        # A recorded pid may have been reused by another process, so postmaster.pid must name it
        # and the server on the recorded port must say that its data directory is ours.
        try:
            postmaster_pid = int((self._data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return False
        if postmaster_pid != record.pid or not pid_alive(record.pid):
            return False
        show = [str(_binary("psql")), "-X", "-w", "-h", "127.0.0.1", "-p", str(record.port)]
        show += ["-U", "postgres", "-d", "postgres", "-At", "-c", "SHOW data_directory"]
        try:
            answer = subprocess.run(show, capture_output=True, text=True, timeout=5, check=False)
        except subprocess.TimeoutExpired:
            return False
        return answer.returncode == 0 and Path(answer.stdout.strip()) == self._data.resolve()


def _binary(name: str) -> Path:
    path = _binaries() / name
    if not path.exists():
        raise InfrastructureError(f"{name} not found at {path}: the pgserver install is incomplete")
    return path


@functools.cache
def _binaries() -> Path:
    """The folder of PostgreSQL's programs: in the pgserver wheel, or for root a copy of it
    that the system user can reach wherever the wheel is installed."""
    # Found without importing pgserver, whose import has side effects (see the module docstring).
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise InfrastructureError(
            missing_extra(
                "pgserver", EMBEDDED_EXTRA, "set TALLY_OWNER_DATABASE_URL to a PostgreSQL server"
            )
        )
    site = Path(next(iter(spec.submodule_search_locations))).parent
    if system_user() is not None:
        site = reachable_install(site)
    return site / "pgserver" / "pginstall" / "bin"


def _is_ready(port: int) -> bool:
    check = [str(_binary("pg_isready")), "-q", "-h", "127.0.0.1", "-p", str(port), "-t", "1"]
    return subprocess.run(check, check=False).returncode == 0
