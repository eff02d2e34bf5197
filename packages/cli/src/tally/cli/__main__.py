"""The `tally` command.

tally demo [--duration S] [--speed X] [--tenants N] [--seed N] [--report FILE]
tally run SERVICE          one service in the foreground
tally migrate [--status]
tally admin ...            tenants, sites, lines, machines, articles, machine tokens
tally dead-letters         list (or --replay) what consumers gave up on
tally report               a line's or site's daily production report, PDF and CSV, over the API
tally check / tally lock   prove the workspace fits together / record what it proved
tally new service NAME     scaffold a service that passes `tally check`
tally rollup rebuild --tenant T [--from DAY --to DAY]   the figures again from raw rows
tally bench [--quick]      tally against the hardware's ceilings and its peers, in one run
"""

from __future__ import annotations

import argparse
import sys

from tally.cli import (
    _admin_cmd,
    _bench_cmd,
    _check_cmd,
    _dead_letters_cmd,
    _demo_cmd,
    _migrate_cmd,
    _new_cmd,
    _report_cmd,
    _rollup_cmd,
    _run_cmd,
)
from tally.sdk import TallyError

_COMMANDS = (
    _demo_cmd,
    _run_cmd,
    _migrate_cmd,
    _admin_cmd,
    _dead_letters_cmd,
    _report_cmd,
    _check_cmd,
    _new_cmd,
    _rollup_cmd,
    _bench_cmd,
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tally", description="tally: packing-line figures")
    commands = parser.add_subparsers(title="commands", required=True)
    for command in _COMMANDS:
        command.add_parser(commands)
    args = parser.parse_args(argv)
    try:
        code = args.run(args)
    except TallyError as error:
        print(f"tally: {error}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    raise SystemExit(code)


if __name__ == "__main__":
    main()
