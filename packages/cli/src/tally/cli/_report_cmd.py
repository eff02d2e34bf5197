"""`tally report`: a line's or a site's daily production report, PDF and CSV, over the API.

    tally report --tenant alpenwerk --site plant-1 --line l1 --day 2026-03-02 \\
        --pdf l1.pdf --csv l1.csv --api https://tally.example.com      # key: TALLY_API_KEY
    tally report --tenant alpenwerk --site plant-1 --day 2026-03-02 --pdf site.pdf
    tally report ... --version 1                                       # a stored version

It fetches GET /v1/lines/{line}/days/{day}/report.pdf (and .csv), or the site's, with the
tenant's API key (`--key`, better TALLY_API_KEY: a command line shows in `ps`): the same
report the API serves, from the same figures. With a line, the line must be on the site.

Without `--api` (nor TALLY_API_URL) it works on the servers `tally admin` uses (embedded ones
when no URL is configured): it starts the api service there as a child process, makes a
viewer key of the tenant for the run, fetches the report through it, then revokes the key and
stops the api. The database must be migrated (`tally migrate`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

from tally.accounts import Accounts, Role
from tally.cli._endpoints import endpoints
from tally.cli._paths import state_dir
from tally.sdk import Database, Endpoints, InfrastructureError
from tally.supervisor import ServiceProcesses

_API_KEY = "TALLY_API_KEY"
_API_URL = "TALLY_API_URL"


class ReportError(InfrastructureError):
    """The API refused the report (its answer says why), or the arguments do not fit."""


@dataclass(frozen=True)
class ReportRequest:
    tenant: str
    site: str
    line: str | None
    day: date
    version: int | None

    @property
    def base(self) -> str:
        if self.line is None:
            return f"/v1/sites/{self.site}/days/{self.day.isoformat()}"
        return f"/v1/lines/{self.line}/days/{self.day.isoformat()}"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("report", help="a line's or site's daily report, PDF and CSV")
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--line", help="the line's report; without: the site's")
    parser.add_argument("--day", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("--version", type=int, help="a stored version (default: the latest)")
    parser.add_argument("--pdf", type=Path, help="write the PDF here")
    parser.add_argument("--csv", type=Path, help="write the CSV here")
    parser.add_argument("--api", help=f"the API's URL (default: ${_API_URL}; none: start one)")
    parser.add_argument("--key", help=f"the tenant's API key (better: ${_API_KEY})")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.pdf is None and args.csv is None:
        raise ReportError("give --pdf FILE, --csv FILE or both")
    request = ReportRequest(args.tenant, args.site, args.line, args.day, args.version)
    url = args.api or os.environ.get(_API_URL)
    if url:
        key = args.key or os.environ.get(_API_KEY)
        if not key:
            raise ReportError(f"give the tenant's API key in ${_API_KEY} (or --key)")
        files = asyncio.run(fetch(url, key, request, pdf=args.pdf is not None,
                                  csv=args.csv is not None))  # fmt: skip
    else:
        with endpoints() as found:
            files = asyncio.run(
                _embedded(found, request, args.pdf is not None, args.csv is not None)
            )
    for path, content in ((args.pdf, files.pdf), (args.csv, files.csv)):
        if path is not None and content is not None:
            path.write_bytes(content)
            print(f"{path}: {files.names[path.suffix]} ({len(content)} bytes)")
    return 0


@dataclass
class Files:
    pdf: bytes | None = None
    csv: bytes | None = None
    # The file names the API gave (they say which version), by suffix.
    names: dict[str, str] = field(default_factory=dict)


async def fetch(url: str, key: str, request: ReportRequest, *, pdf: bool, csv: bool) -> Files:
    """The report's files from the API at `url`, with the tenant's API key."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120.0) as client:
        await _check_site(client, request)
        files = Files()
        params = {} if request.version is None else {"version": str(request.version)}
        for kind, wanted in (("pdf", pdf), ("csv", csv)):
            if not wanted:
                continue
            answer = await client.get(f"{request.base}/report.{kind}", params=params)
            _raise_for(answer)
            setattr(files, kind, answer.content)
            files.names[f".{kind}"] = _filename(answer)
        return files


async def _check_site(client: httpx.AsyncClient, request: ReportRequest) -> None:
    # The versions list names the line's site: a report of a line on another site than the
    # one asked for would be a wrong answer, not a smaller one.
    answer = await client.get(f"{request.base}/reports")
    _raise_for(answer)
    site = answer.json()["site"]
    if site != request.site:
        raise ReportError(f"line {request.line!r} is on site {site!r}, not {request.site!r}")


def _raise_for(answer: httpx.Response) -> None:
    if answer.status_code == 200:
        return
    try:
        detail = answer.json().get("detail", answer.text)
    except ValueError:
        detail = answer.text
    raise ReportError(f"the API answered {answer.status_code}: {detail}")


def _filename(answer: httpx.Response) -> str:
    disposition = answer.headers.get("content-disposition", "")
    return disposition.partition('filename="')[2].partition('"')[0] or "report"


async def _embedded(found: Endpoints, request: ReportRequest, pdf: bool, csv: bool) -> Files:
    async with _temporary_key(found.database_url, request.tenant) as key:
        services = ServiceProcesses(
            env={"TALLY_NATS_URL": found.nats_url, "TALLY_LOG_LEVEL": "warning"},
            log_dir=state_dir() / "logs",
            owner_database_url=found.database_url,
        )
        try:
            # The api refuses to start without an administrators' token; this run needs none.
            # Its schedules stay off: producing every site's closed days is the deployed
            # api's work, not this command's.
            extra = {
                "TALLY_API_ADMIN_TOKEN": secrets.token_urlsafe(32),
                "TALLY_API_REPORT_SCHEDULES": "false",
            }
            api = services.start("api", extra=extra)
            await services.wait_ready(api)
            return await fetch(api.url, key, request, pdf=pdf, csv=csv)
        finally:
            services.stop_all()


@contextlib.asynccontextmanager
async def _temporary_key(database_url: str, tenant: str) -> AsyncIterator[str]:
    async with await Database.connect(database_url, max_size=1, switch_role=True) as database:
        accounts = Accounts(database)
        made = await accounts.create_key(tenant, "tally report", Role.VIEWER,
                                         created_by="tally report")  # fmt: skip
        try:
            yield made.key
        finally:
            await accounts.revoke_key(tenant, made.key_id)
