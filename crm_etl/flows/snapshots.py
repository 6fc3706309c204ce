"""Copies of the published database file taken before each publish, and bringing one back.

A snapshot is named after the run whose result it holds: `crm.duckdb.snapshots/<run_id>.duckdb`
is the database exactly as that run published it. Only the newest `keep` are kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from crm_etl.flows.load import DEFAULT_STORAGE_VERSION, PublishError, fsync_dir
from crm_etl.flows.storage_version import copy_database

log = logging.getLogger(__name__)

SUFFIX = ".duckdb"


@dataclass(frozen=True)
class Snapshot:
    """One kept copy of the database file."""

    run_id: str
    path: Path
    size_bytes: int
    taken_at: dt.datetime


def snapshot_dir(db: Path) -> Path:
    """Where a database file's snapshots live: `<db>.snapshots/` next to it."""
    return db.with_name(db.name + ".snapshots")


def _durable_copy(source: Path, target: Path, storage_version: str | None = None) -> None:
    """Copy `source` to `target` so that `target` is either absent or complete, even after a crash.

    With `storage_version`, a database written in another storage version is converted to it.
    """
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        if storage_version is None:
            shutil.copyfile(source, partial)
        else:
            copy_database(source, partial, storage_version)
        with partial.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
        fsync_dir(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def latest_run_id(db: Path) -> str | None:
    """The newest run recorded in a database file (None if it has no runs table or no run)."""
    with duckdb.connect(str(db), read_only=True) as con:
        try:
            rows = con.execute(
                "SELECT run_id FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1"
            ).fetchall()
        except duckdb.CatalogException:
            return None
    return rows[0][0] if rows else None


class SnapshotStore:
    """The snapshots of one database file."""

    def __init__(self, db: Path, keep: int) -> None:
        self.db = db
        self.directory = snapshot_dir(db)
        self.keep = keep

    def path_for(self, run_id: str) -> Path:
        return self.directory / f"{run_id}{SUFFIX}"

    def take(self, source: Path, run_id: str) -> Path | None:
        """Keep a copy of `source` (the published file, holding `run_id`'s result); None when keep is 0."""
        if self.keep == 0:
            return None
        target = self.path_for(run_id)
        if target.exists():
            return target
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _durable_copy(source, target)
        except OSError as exc:
            raise PublishError(
                f"cannot keep a snapshot of {source} in {self.directory}: {exc.strerror or exc}; "
                f"nothing was published and {source} is unchanged"
            ) from exc
        return target

    def snapshots(self) -> list[Snapshot]:
        """Kept snapshots, newest first."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in self.directory.glob(f"*{SUFFIX}"):
            if path.name.startswith("."):
                continue
            stat = path.stat()
            found.append(
                Snapshot(
                    path.name[: -len(SUFFIX)],
                    path,
                    stat.st_size,
                    dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC),
                )
            )
        return sorted(found, key=lambda s: (s.taken_at, s.run_id), reverse=True)

    def prune(self) -> list[Path]:
        """Delete all but the newest `keep` snapshots; returns what was deleted."""
        removed = []
        for old in self.snapshots()[self.keep :]:
            try:
                old.path.unlink()
                removed.append(old.path)
            except OSError as exc:
                log.warning("cannot delete old snapshot %s: %s", old.path, exc.strerror or exc)
        return removed

    def remove_leftovers(self) -> None:
        """Delete half-written copies left by a process that died while copying."""
        if self.directory.is_dir():
            for partial in self.directory.glob(".*.tmp"):
                with contextlib.suppress(FileNotFoundError):
                    partial.unlink()


class RestoreError(LookupError):
    """The asked-for snapshot does not exist or is not a database of that run."""


@dataclass(frozen=True)
class Restored:
    """What a restore did."""

    changed: bool  # False: the file already held that run
    kept: Path | None  # the snapshot taken of the file that was replaced


def restore_snapshot(
    db: Path, run_id: str, store: SnapshotStore, storage_version: str = DEFAULT_STORAGE_VERSION
) -> Restored:
    """Make the snapshot of `run_id` the published file, written in `storage_version`.

    The caller holds the database's lock. The file being replaced is kept as a
    snapshot first (under its own latest run), so a restore can itself be undone.
    A snapshot taken before the published file changed storage version is converted.
    """
    source = store.path_for(run_id)
    if not source.is_file():
        available = ", ".join(s.run_id for s in store.snapshots()) or "none"
        raise RestoreError(f"no snapshot of run {run_id!r} for {db} (available: {available})")
    try:
        holds = latest_run_id(source)
    except duckdb.Error as exc:
        raise RestoreError(f"{source} is not a readable DuckDB file: {exc}") from exc
    if holds != run_id:
        raise RestoreError(f"{source} holds run {holds!r}, not {run_id!r}; not restoring it")
    kept: Path | None = None
    if db.exists():
        current = latest_run_id(db)
        if current == run_id:
            return Restored(False, None)
        kept = store.take(db, current or f"replaced-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}")
    try:
        _durable_copy(source, db, storage_version)
    except (OSError, duckdb.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
        raise PublishError(f"cannot restore {db} from {source}: {reason}") from exc
    return Restored(True, kept)
