"""One writer per database file: a lock file next to it that names the holder.

`crm.duckdb.lock` holds the holder's PID, host, start time and purpose as JSON and is
locked with `flock` through the `filelock` library, so the kernel releases it the moment
the holder dies, even by SIGKILL. A lock file that is present but not locked was left by a
process that is gone: it is stale, and the next run clears it and says so. Re-entrant
within a process (the CLI takes the lock before starting Prefect so a second run is refused
at once; the flow then takes it again).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import filelock

from crm_etl.flows.load import PublishError

log = logging.getLogger(__name__)


def lock_path(db: Path) -> Path:
    """The lock file of a database file: `<db>.lock` in the same folder."""
    return db.with_name(db.name + ".lock")


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or held) a database's lock."""

    pid: int | None
    host: str | None
    started_at: str | None
    purpose: str | None

    def describe(self) -> str:
        where = f" on {self.host}" if self.host and self.host != socket.gethostname() else ""
        since = f", started {self.started_at}" if self.started_at else ""
        what = f" ({self.purpose})" if self.purpose else ""
        return f"PID {self.pid if self.pid is not None else '?'}{where}{since}{what}"


class DatabaseLocked(RuntimeError):
    """Another live process is writing the same database file."""

    def __init__(self, db: Path, holder: LockHolder) -> None:
        super().__init__(
            f"{db} is in use by another crm-etl process: {holder.describe()}. "
            f"Wait for it to finish; nothing was changed. (Lock file: {lock_path(db)})"
        )
        self.db = db
        self.holder = holder


class LockFileError(PublishError):
    """The lock file cannot be created: the database's folder is not writable."""


def _read_holder(fd: int) -> LockHolder | None:
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    text = os.pread(fd, min(size, 4096), 0).decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return LockHolder(None, None, None, f"unreadable lock contents {text[:40]!r}")
    if not isinstance(data, dict):
        return LockHolder(None, None, None, None)
    pid = data.get("pid")
    return LockHolder(
        pid if isinstance(pid, int) else None, data.get("host"), data.get("started_at"), data.get("purpose")
    )


# Locks this process holds: path -> the filelock object (its own counter makes it re-entrant).
_HELD: dict[Path, filelock.FileLock] = {}


class RunLock:
    """Exclusive, re-entrant lock on a database file; `DatabaseLocked` if another process holds it."""

    def __init__(self, db: Path, purpose: str) -> None:
        self.db = db
        self.path = lock_path(db).absolute()
        self.purpose = purpose
        self.stale: LockHolder | None = None

    def acquire(self) -> None:
        held = _HELD.get(self.path)
        if held is not None:
            held.acquire()
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LockFileError(
                f"cannot create the folder of {self.db}: {exc.strerror or exc}; the published database is unchanged"
            ) from exc
        # timeout=0: a second run is refused at once, never queued. on_acquired reads the record a
        # dead holder left in the file and writes ours while the flock is held (filelock leaves the
        # contents of an existing lock file alone); no soft-lock fallback, the holder must be the kernel's.
        lock = filelock.FileLock(self.path, timeout=0, on_acquired=self._claim, fallback_to_soft=False)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise DatabaseLocked(
                self.db, _holder_of(self.path) or LockHolder(None, None, None, None)
            ) from None
        except OSError as exc:
            raise LockFileError(
                f"cannot create the lock file {self.path}: {exc.strerror or exc} "
                "(the database's folder must be writable); the published database is unchanged"
            ) from exc
        _HELD[self.path] = lock
        if self.stale is not None:
            log.warning(
                "cleared a stale lock on %s left by %s, which is no longer running",
                self.db,
                self.stale.describe(),
            )

    def _claim(self, fd: int) -> None:
        """Called by filelock with the locked descriptor: note a stale holder, write ours."""
        self.stale = _read_holder(fd)
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "purpose": self.purpose,
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
            os.fsync(fd)
        except OSError as exc:
            raise LockFileError(f"cannot write the lock file {self.path}: {exc.strerror or exc}") from exc

    def release(self) -> None:
        lock = _HELD.get(self.path)
        if lock is None:
            return
        if lock.lock_counter > 1:
            lock.release()
            return
        del _HELD[self.path]
        # Unlink while still holding the lock: no lock file is left beside the database, and a waiter
        # that opened the old file sees it is gone (filelock checks the link count) and retries.
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        lock.release()

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _holder_of(path: Path) -> LockHolder | None:
    """The record in a lock file, read without locking it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return _read_holder(fd)
    finally:
        os.close(fd)


def current_holder(db: Path) -> LockHolder | None:
    """The live process holding the database's lock, or None (no lock, a stale one, or this process)."""
    path = lock_path(db).absolute()
    if path in _HELD or not path.exists():
        return None
    probe = filelock.FileLock(path, timeout=0, fallback_to_soft=False, preserve_lock_file=True)
    try:
        probe.acquire()
    except filelock.Timeout:
        return _holder_of(path) or LockHolder(None, None, None, None)
    except OSError:
        return None
    probe.release()
    return None
