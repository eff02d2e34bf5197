"""`tally run SERVICE`: one service in the foreground, on the configured or embedded servers.

    uv run tally run recorder --workers 2

Like `python -m tally.<service>`, but on the owner's database (TALLY_OWNER_DATABASE_URL, or an
embedded server, started here with NATS when TALLY_NATS_URL is unset): it migrates first, gives
the service the login of its own role, and stops the embedded servers when the service ends.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys

from tally.cli._endpoints import endpoints
from tally.cli._migrate_cmd import migrate_database
from tally.sdk.processes import parent_death_hook
from tally.supervisor import database_role, service_environment


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("run", help="run one service (embedded servers if no URLs)")
    parser.add_argument("service", help="e.g. gateway, recorder, api")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=None, help="the public HTTP port")
    parser.add_argument("--ops-port", type=int, default=None, help="/healthz, /readyz, /metrics")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    database_role(args.service)  # an unknown service is named before any server starts
    with endpoints() as found:
        asyncio.run(migrate_database(found.database_url))
        module = f"tally.{args.service.replace('-', '_')}"
        command = [sys.executable, "-m", module, "--workers", str(args.workers)]
        if args.port is not None:
            command += ["--port", str(args.port)]
        if args.ops_port is not None:
            command += ["--ops-port", str(args.ops_port)]
        env = {
            **service_environment(args.service, found.database_url),
            "TALLY_NATS_URL": found.nats_url,
        }
        process = subprocess.Popen(command, env=env, preexec_fn=parent_death_hook())
        # Pass stop requests on and wait for the graceful stop. (From a terminal the service
        # gets Ctrl-C twice, directly and from here; a stop request is idempotent.)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda number, _: process.send_signal(number))
        return process.wait()
