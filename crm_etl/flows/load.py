"""Stage a run's result in a copy of the DuckDB file and publish it by an atomic rename."""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import polars as pl

from crm_etl.flows.pause import pause_point
from crm_etl.flows.stages import RunCheckFailed
from crm_etl.flows.storage_version import copy_database, create_database, storage_version_of
from crm_etl.schemas import SCHEMAS_DIR, RunSettings

log = logging.getLogger(__name__)

# The storage version of a working copy made without a configuration (schemas/runs.yaml gives the reason).
DEFAULT_STORAGE_VERSION: str = RunSettings.model_fields["duckdb_storage_version"].default

# Rebuilt by every run (the current state); the other tables keep history.
CURRENT_STATE_TABLES = [
    "customers",
    "contacts",
    "customer_sources",
    "quarantine",
    "orders",
    "interactions",
    "match_pairs",
    "match_review",
]


def arrow_view(frame: pl.DataFrame) -> Any:
    """The frame as Arrow for DuckDB to scan, without copying: polars' string views pass as they are
    (the oldest Arrow level would copy every string into a large_string column first)."""
    return frame.to_arrow(compat_level=pl.CompatLevel.newest())


class PublishError(RuntimeError):
    """The staged result could not be written or published; the published file is untouched."""


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable (best effort where unsupported)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# Every file this process has published, so an error after a publish is not reported as "nothing published".
_PUBLISHED: list[Path] = []


def published_in_this_process() -> list[Path]:
    """The database files this process has replaced with a new run (the last error report says so)."""
    return list(_PUBLISHED)


class StagedDatabase:
    """A private copy of the target DuckDB file; `publish()` swaps it in, anything else discards it.

    The published file is never opened for writing, so a run that fails or is
    killed at any point leaves it byte for byte as it was.
    """

    def __init__(
        self, target: Path, memory_limit: str | None = None, storage_version: str = DEFAULT_STORAGE_VERSION
    ) -> None:
        self.target = target
        self.memory_limit = memory_limit
        self.storage_version = storage_version
        self.path = target.with_name(f".{target.name}.staging-{uuid.uuid4().hex[:8]}")
        self.con: duckdb.DuckDBPyConnection | None = None
        self.existed = target.exists()
        # The run whose result the published file holds (None: no file yet, or no run in it).
        self.published_run_id: str | None = None
        # The storage version the published file was in when the working copy had to convert it.
        self.converted_from: str | None = None

    def __enter__(self) -> StagedDatabase:
        # DuckDB's allocator (jemalloc) keeps what a big insert freed unless told to give it back:
        # background threads return it to the system within a second or two.
        settings: dict[str, str | bool | int | float | list[str]] = {
            "allocator_background_threads": True,
            "allocator_flush_threshold": "64MB",
        }
        if self.memory_limit:
            settings["memory_limit"] = self.memory_limit
        published_version: str | None = None
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            if self.existed:
                wal = self.target.with_name(self.target.name + ".wal")
                if wal.exists():
                    # A writer died before checkpointing: let DuckDB fold its log in first.
                    duckdb.connect(str(self.target)).close()
                published_version = storage_version_of(self.target)
        except OSError as exc:
            raise self._not_prepared(exc) from exc
        except duckdb.Error as exc:
            self._cleanup()
            raise PublishError(f"{self.target} is not a readable DuckDB file: {exc}") from exc
        try:
            # A file published in another storage version (an older release's default) is converted.
            if published_version is not None:
                self.converted_from = copy_database(
                    self.target, self.path, self.storage_version, settings, published_version
                )
            else:
                create_database(self.path, self.storage_version)
        except OSError as exc:
            raise self._not_prepared(exc) from exc
        except duckdb.Error as exc:
            self._cleanup()
            raise PublishError(_write_failure(self.target, self.path, exc)) from exc
        try:
            self.con = duckdb.connect(str(self.path), config=settings)
            self.con.execute((SCHEMAS_DIR / "tables.sql").read_text(encoding="utf-8"))
            latest = self.con.execute(
                "SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1"
            ).fetchall()
        except duckdb.IOException as exc:
            self._cleanup()
            raise PublishError(_write_failure(self.target, self.path, exc)) from exc
        except duckdb.Error as exc:
            self._cleanup()
            raise PublishError(f"{self.target}: cannot open as a DuckDB database: {exc}") from exc
        self.published_run_id = latest[0][0] if latest else None
        return self

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self.con is None:
            raise PublishError("staging database is closed")
        return self.con

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """The run's writes as one transaction: committed when the block ends, rolled back if it raises."""
        con = self.connection
        con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    def insert(self, table: str, frame: pl.DataFrame) -> None:
        """Append a frame to a table, matching columns by name."""
        con = self.connection
        view = f"_frame_{table}"
        con.register(view, arrow_view(frame))
        try:
            columns = ", ".join(f'"{c}"' for c in frame.columns)
            con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {view}")
        finally:
            con.unregister(view)

    def columns(self, table: str) -> list[str]:
        """The columns of a table of the working copy, in order."""
        return [row[0] for row in self.connection.execute(f'DESCRIBE "{table}"').fetchall()]

    def query(self, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
        """Run a query on the staged data and return the result as a polars frame."""
        relation = self.connection.sql(sql, params=params or None)
        if relation is None:
            raise ValueError(f"query returned no result set: {sql[:80]}")
        frame = pl.from_arrow(relation.to_arrow_table())
        assert isinstance(frame, pl.DataFrame)
        return frame

    def publish(self, before_replace: Callable[[], object] | None = None) -> None:
        """Make the staged file the published one, atomically.

        `before_replace` runs once the staged file is complete on disk and before it
        takes the published file's place (the snapshot of the file it replaces).
        """
        con = self.connection
        try:
            con.execute("CHECKPOINT")
            con.close()
            self.con = None
            with self.path.open("rb+") as handle:
                os.fsync(handle.fileno())
        except (OSError, duckdb.Error) as exc:
            self._cleanup()
            raise PublishError(_write_failure(self.target, self.path, exc)) from exc
        if before_replace is not None:
            before_replace()
        pause_point("publish")
        try:
            os.replace(self.path, self.target)
            _PUBLISHED.append(self.target)
            fsync_dir(self.target.parent)
        except OSError as exc:
            self._cleanup()
            raise PublishError(f"cannot publish {self.target}: {exc}") from exc

    def _not_prepared(self, exc: OSError) -> PublishError:
        """The working copy could not be made: it is removed, and the published file was not touched."""
        self._cleanup()
        return PublishError(
            f"cannot prepare {self.target}: {exc.strerror or exc}; nothing was published and it is unchanged"
        )

    def _cleanup(self) -> None:
        if self.con is not None:
            with contextlib.suppress(duckdb.Error):
                self.con.close()
            self.con = None
        for leftover in (self.path, self.path.with_name(self.path.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._cleanup()
        # A file the run writes beside the database (its report folder) that cannot be written:
        # the run stops unpublished, and the message names that file, not the working copy.
        own = {str(self.path), str(self.path.with_name(self.path.name + ".wal"))}
        if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) not in own:
            raise RunCheckFailed(
                f"cannot write {exc.filename}: {exc.strerror or exc}; "
                f"nothing was published and {self.target} is unchanged"
            ) from exc
        # A full disk or a read-only folder surfaces as an I/O error in whichever write hit it first.
        if isinstance(exc, OSError | duckdb.IOException | duckdb.FatalException) and not isinstance(
            exc, PublishError
        ):
            raise PublishError(_write_failure(self.target, self.path, exc)) from exc


def _write_failure(target: Path, working: Path, exc: BaseException) -> str:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
    return (
        f"cannot write the run's working copy {working} ({reason}); "
        f"nothing was published and {target} is unchanged"
    )


def remove_leftovers(target: Path) -> list[Path]:
    """Delete working copies and partial files left next to `target` by runs that died.

    Only call this while holding the database's lock: then no live run owns them.
    """
    removed = []
    for pattern in (f".{target.name}.staging-*", f".{target.name}.*.tmp"):
        for leftover in target.parent.glob(pattern):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
                removed.append(leftover)
    return removed


def previous_assignments(staged: StagedDatabase) -> pl.DataFrame:
    """The (source_system, source_key) -> customer_id map of the last published run."""
    return staged.query(
        "SELECT DISTINCT source_system, source_key, customer_id FROM customer_sources "
        "WHERE source_key IS NOT NULL AND customer_id IS NOT NULL"
    )


def create_row_placements(staged: StagedDatabase, run_id: str) -> None:
    """A temporary view `row_placements`: each input row (registered as `_rows_read`) and how often it was placed.

    Input rows are data rows and the answered rows of review files, placed in `match_decisions`.

    The accounting invariant holds when every row has `times_placed` = 1 and `was_read`;
    the `run` expectation suite checks it.
    """
    run = run_id.replace("'", "''")  # a view takes no parameters
    staged.connection.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW row_placements AS
        WITH placed AS (
            SELECT source_file, source_sheet, source_row FROM customer_sources WHERE run_id = '{run}'
            UNION ALL SELECT source_file, source_sheet, source_row FROM quarantine WHERE run_id = '{run}'
            UNION ALL SELECT source_file, source_sheet, source_row FROM orders
            UNION ALL SELECT source_file, source_sheet, source_row FROM interactions
            -- the answered rows of returned review files (flows/review.py)
            UNION ALL SELECT reviewer_file, reviewer_sheet, reviewer_row FROM match_decisions WHERE run_id = '{run}'
        ), counted AS (
            SELECT source_file, source_sheet, source_row, count(*) AS times_placed FROM placed GROUP BY ALL
        )
        SELECT coalesce(r.source_file, c.source_file) AS source_file,
               coalesce(r.source_sheet, c.source_sheet) AS source_sheet,
               coalesce(r.source_row, c.source_row) AS source_row,
               coalesce(c.times_placed, 0) AS times_placed,
               r.source_row IS NOT NULL AS was_read
        FROM _rows_read r
        FULL OUTER JOIN counted c USING (source_file, source_sheet, source_row)
        """
    )


_HEADERS = {"source_file": pl.String, "source_sheet": pl.String, "header": pl.String}


def headers_before(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> pl.DataFrame:
    """The headers (source_file, source_sheet, header) the run before `run_id` mapped, or before any
    run to come when `run_id` is None: what schema drift compares a run's headers with."""
    since = "WHERE started_at < (SELECT started_at FROM runs WHERE run_id = $run)" if run_id else ""
    relation = con.sql(
        f"""SELECT source_file, source_sheet, header FROM column_mappings
            WHERE run_id = (SELECT run_id FROM runs {since} ORDER BY started_at DESC LIMIT 1)""",
        params={"run": run_id} if run_id else None,
    )
    frame = pl.from_arrow(relation.arrow().read_all())
    assert isinstance(frame, pl.DataFrame)
    return frame.cast(_HEADERS) if frame.height else pl.DataFrame(schema=_HEADERS)  # type: ignore[arg-type]
