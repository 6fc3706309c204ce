"""One writer per database file: a lock file next to it that names the holder.

`crm.duckdb.lock` holds the holder's PID, host, start time and purpose as JSON and
is locked with `flock`, so the kernel releases it the moment the holder dies, even
by SIGKILL. A lock file that is present but not locked was left by a process that
is gone: it is stale, and the next run clears it and says so. Re-entrant within a
process (the CLI takes the lock before starting Prefect so a second run is refused
at once; the flow then takes it again).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from flows.load import PublishError

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


# Locks this process holds: path -> [fd, depth].
_HELD: dict[Path, list[int]] = {}


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
            held[1] += 1
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LockFileError(
                f"cannot create the folder of {self.db}: {exc.strerror or exc}; the published database is unchanged"
            ) from exc
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise LockFileError(
                    f"cannot create the lock file {self.path}: {exc.strerror or exc} "
                    "(the database's folder must be writable); the published database is unchanged"
                ) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _read_holder(fd) or LockHolder(None, None, None, None)
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise DatabaseLocked(self.db, holder) from None
                raise LockFileError(f"cannot lock {self.path}: {exc.strerror or exc}") from exc
            # The holder before us may have removed the file between our open and our flock.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        self.stale = _read_holder(fd)
        if self.stale is not None:
            log.warning(
                "cleared a stale lock on %s left by %s, which is no longer running",
                self.db,
                self.stale.describe(),
            )
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
            os.close(fd)
            raise LockFileError(f"cannot write the lock file {self.path}: {exc.strerror or exc}") from exc
        _HELD[self.path] = [fd, 1]

    def release(self) -> None:
        held = _HELD.get(self.path)
        if held is None:
            return
        held[1] -= 1
        if held[1] > 0:
            return
        del _HELD[self.path]
        # Unlink while still holding the lock: whoever opened the old file sees it is gone and retries.
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(held[0])

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def current_holder(db: Path) -> LockHolder | None:
    """The live process holding the database's lock, or None (no lock, a stale one, or this process)."""
    path = lock_path(db).absolute()
    if path in _HELD:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return _read_holder(fd) or LockHolder(None, None, None, None)
        return None
    finally:
        os.close(fd)
