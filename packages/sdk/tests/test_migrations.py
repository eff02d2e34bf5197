"""Migrations: order, idempotence, refusal of edited or misnamed files, concurrent migrators."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from pathlib import Path

import asyncpg
import pytest

from tally.sdk._errors import MigrationError
from tally.sdk._migrations import MigrationStatus, migrate, migration_status, read_migrations

_ROLES = Path(__file__).parents[3] / "db" / "migrations" / "0001_roles.sql"


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return directory


async def table_rows(url: str, sql: str) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(record) for record in await conn.fetch(sql)]
    finally:
        await conn.close()


_TWO = {
    "0001_machines.sql": "CREATE TABLE machines (machine text PRIMARY KEY);",
    # Depends on 0001: it only works when applied after it.
    "0002_slicer.sql": "INSERT INTO machines VALUES ('slicer-1');\n"
    "INSERT INTO machines VALUES ('s2');",
}


@pytest.mark.integration
async def test_applies_in_order_and_records_each(scratch_database_url: str, tmp_path: Path) -> None:
    directory = write(tmp_path, _TWO)
    assert await migrate(scratch_database_url, directory) == [
        "0001_machines.sql",
        "0002_slicer.sql",
    ]
    assert await table_rows(scratch_database_url, "SELECT machine FROM machines ORDER BY 1") == [
        ("s2",),
        ("slicer-1",),
    ]
    recorded = await table_rows(
        scratch_database_url,
        "SELECT version, name, checksum FROM tally_migrations ORDER BY version",
    )
    assert recorded == [
        (1, "0001_machines.sql", hashlib.sha256(_TWO["0001_machines.sql"].encode()).hexdigest()),
        (2, "0002_slicer.sql", hashlib.sha256(_TWO["0002_slicer.sql"].encode()).hexdigest()),
    ]


@pytest.mark.integration
async def test_second_run_applies_only_new_files(scratch_database_url: str, tmp_path: Path) -> None:
    directory = write(tmp_path, _TWO)
    assert await migration_status(scratch_database_url, directory) == [
        MigrationStatus("0001_machines.sql", applied=False),
        MigrationStatus("0002_slicer.sql", applied=False),
    ]
    await migrate(scratch_database_url, directory)
    assert await migrate(scratch_database_url, directory) == []
    write(directory, {"0003_more.sql": "INSERT INTO machines VALUES ('s3');"})
    assert await migration_status(scratch_database_url, directory) == [
        ("0001_machines.sql", True),
        ("0002_slicer.sql", True),
        ("0003_more.sql", False),
    ]
    assert await migrate(scratch_database_url, directory) == ["0003_more.sql"]


@pytest.mark.integration
async def test_edited_migration_is_refused(scratch_database_url: str, tmp_path: Path) -> None:
    directory = write(tmp_path, _TWO)
    await migrate(scratch_database_url, directory)
    write(directory, {"0002_slicer.sql": "INSERT INTO machines VALUES ('other');"})
    with pytest.raises(MigrationError, match=r"0002_slicer.sql was edited after it was applied"):
        await migrate(scratch_database_url, directory)


@pytest.mark.integration
async def test_failing_migration_rolls_back_alone(
    scratch_database_url: str, tmp_path: Path
) -> None:
    directory = write(tmp_path, {**_TWO, "0003_broken.sql": "INSERT INTO nowhere VALUES (1);"})
    with pytest.raises(MigrationError, match=r"0003_broken.sql failed: .*nowhere"):
        await migrate(scratch_database_url, directory)
    assert await migration_status(scratch_database_url, directory) == [
        ("0001_machines.sql", True),
        ("0002_slicer.sql", True),
        ("0003_broken.sql", False),
    ]


@pytest.mark.parametrize(
    "name", ["1_machines.sql", "0001-machines.sql", "0001_Machines.sql", "README.md"]
)
def test_bad_file_names_are_refused(tmp_path: Path, name: str) -> None:
    write(tmp_path, {name: "SELECT 1;"})
    with pytest.raises(MigrationError, match=name.replace(".", r"\.")):
        read_migrations(tmp_path)


def test_missing_number_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"0001_a.sql": "", "0003_c.sql": ""})
    with pytest.raises(MigrationError, match=r"0002 is missing: 0003_c.sql follows 0001_a.sql"):
        read_migrations(tmp_path)


def test_duplicate_number_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"0001_a.sql": "", "0002_b.sql": "", "0002_c.sql": ""})
    with pytest.raises(MigrationError, match=r"0002_c.sql repeats number 0002"):
        read_migrations(tmp_path)


async def test_bad_directory_is_refused_before_connecting(tmp_path: Path) -> None:
    write(tmp_path, {"0001_a.sql": "", "oops.sql": ""})
    with pytest.raises(MigrationError, match=r"oops\.sql"):
        await migrate("postgresql://nobody@127.0.0.1:1/none", tmp_path)


@pytest.mark.integration
async def test_concurrent_migrators_apply_each_file_once(
    scratch_database_url: str, tmp_path: Path
) -> None:
    directory = write(
        tmp_path,
        {
            # The pause keeps the first migrator inside the lock while the second one arrives.
            "0001_machines.sql": "SELECT pg_sleep(0.3); CREATE TABLE machines (machine text);",
            "0002_slicer.sql": "INSERT INTO machines VALUES ('slicer-1');",
        },
    )
    first, second = await asyncio.gather(
        migrate(scratch_database_url, directory), migrate(scratch_database_url, directory)
    )
    assert sorted([first, second]) == [[], ["0001_machines.sql", "0002_slicer.sql"]]
    assert await table_rows(scratch_database_url, "SELECT count(*) FROM machines") == [(1,)]
    assert await table_rows(scratch_database_url, "SELECT count(*) FROM tally_migrations") == [(2,)]


@pytest.mark.integration
async def test_roles_migration_works_on_a_cluster_that_has_the_role(
    scratch_database_url: str, tmp_path: Path
) -> None:
    shutil.copy(_ROLES, tmp_path / _ROLES.name)
    # The role may already exist from another database of this cluster; both cases must pass.
    assert await migrate(scratch_database_url, tmp_path) == ["0001_roles.sql"]
    # Whether it may log in depends on whether 0007 already ran in another database here.
    assert await table_rows(
        scratch_database_url,
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'tally_app'",
    ) == [(False, False)]
