"""`tally run SERVICE`: one service in the foreground, on the configured or embedded servers.

    uv run tally run recorder --workers 2

Like `python -m tally.<service>`, but when TALLY_NATS_URL / TALLY_DATABASE_URL are unset it
starts the embedded servers (and migrates) first, and stops them when the service ends.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import signal
import subprocess
import sys

from tally.cli._endpoints import endpoints, ensure_database
from tally.cli._paths import migrations_dir
from tally.sdk import SettingsError, migrate
from tally.sdk._processes import parent_death_hook


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("run", help="run one service (embedded servers if no URLs)")
    parser.add_argument("service", help="e.g. gateway, recorder, api")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=None, help="the public HTTP port")
    parser.add_argument("--ops-port", type=int, default=None, help="/healthz, /readyz, /metrics")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    module = f"tally.{args.service.replace('-', '_')}"
    try:
        found_service = importlib.util.find_spec(f"{module}.service") is not None
    except ModuleNotFoundError:
        found_service = False
    if not found_service:
        raise SettingsError(f"no service {args.service!r}: expected a module {module}.service")
    with endpoints() as found:
        asyncio.run(_migrate(found.database_url))
        command = [sys.executable, "-m", module, "--workers", str(args.workers)]
        if args.port is not None:
            command += ["--port", str(args.port)]
        if args.ops_port is not None:
            command += ["--ops-port", str(args.ops_port)]
        env = {
            **os.environ,
            "TALLY_NATS_URL": found.nats_url,
            "TALLY_DATABASE_URL": found.database_url,
        }
        process = subprocess.Popen(command, env=env, preexec_fn=parent_death_hook())
        # Pass stop requests on and wait for the graceful stop. (From a terminal the service
        # gets Ctrl-C twice, directly and from here; a stop request is idempotent.)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda number, _: process.send_signal(number))
        return process.wait()


async def _migrate(url: str) -> None:
    await ensure_database(url)
    await migrate(url, migrations_dir())
