"""The DuckDB storage version a database file is written in, and copies of a file in a chosen one.

DuckDB 2.0 writes its newest format unless a file is created with an explicit storage version;
the published file is written in the version of schemas/runs.yaml `duckdb_storage_version` so that
DuckDB 1.x clients open it. A file keeps the version it was created in when DuckDB reopens it.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import duckdb

Settings = dict[str, str | bool | int | float | list[str]]


def _sql_text(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def storage_version_of(path: Path) -> str:
    """The storage version DuckDB reports for the file at `path`, e.g. `v1.4.0+` (read-only)."""
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()
    return str(row[0]) if row and row[0] else ""


def create_database(target: Path, version: str) -> str:
    """Create an empty database file at `target` written in storage `version`; returns DuckDB's tag for it."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH {_sql_text(target)} AS created (STORAGE_VERSION {_sql_text(version)})")
        row = con.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = 'created'"
        ).fetchone()
        con.execute("DETACH created")
    return str(row[0]) if row and row[0] else ""


def copy_database(
    source: Path,
    target: Path,
    version: str,
    settings: Settings | None = None,
    source_version: str | None = None,
) -> str | None:
    """Write the database `source` holds to the new file `target` in storage `version`.

    A byte copy when `source` is already written in that version; otherwise every schema, table,
    view, sequence and comment is copied into a new file of that version (COPY FROM DATABASE).
    Returns the version `source` was converted from, or None when it was copied as it was.
    `source` is only read; `source_version` saves reading its version again.
    """
    wanted = create_database(target, version)
    found = source_version or storage_version_of(source)
    if found == wanted:
        shutil.copy2(source, target)
        return None
    try:
        # An in-memory connection would spill to ./.tmp; spill beside the new file as its own runs do.
        spill: Settings = {"temp_directory": str(target.with_name(target.name + ".tmp"))}
        with duckdb.connect(config={**spill, **(settings or {})}) as con:
            con.execute(f"ATTACH {_sql_text(source)} AS published (READ_ONLY)")
            con.execute(f"ATTACH {_sql_text(target)} AS converted")
            con.execute("COPY FROM DATABASE published TO converted")
            con.execute("DETACH converted")
    except BaseException:
        for partial in (target, target.with_name(target.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        raise
    return found
