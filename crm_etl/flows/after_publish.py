"""The steps of a run after its result is published: each guarded, a failure reported as what it is.

Once the database file is replaced the run has succeeded; a step after it (the reports/latest/
copy, pruning snapshots and the cache, moving processed files) that fails must neither hide
that nor be hidden by it. The CLI prints each failure as `published; <step> failed: <reason>`
and exits 4 (flows/cli.py); each is logged as a warning, its traceback at debug level.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


def reason(exc: BaseException) -> str:
    """What went wrong, in one line: `<file>: <OS reason>` for a file-system error."""
    if isinstance(exc, OSError) and exc.strerror:
        where = exc.filename if exc.filename is not None else ""
        return f"{where}: {exc.strerror}" if where != "" else exc.strerror
    return f"{type(exc).__name__}: {exc}"


class AfterPublish:
    """Runs the post-publish steps one by one and keeps, in order, the ones that failed."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Run the block as step `name`; an exception is logged and recorded, not raised."""
        try:
            yield
        except Exception as exc:  # anything: the database is published, the run goes on to the next step
            self.fail(name, reason(exc))
            log.debug("%s failed after publishing", name, exc_info=True)

    def fail(self, name: str, why: str) -> None:
        """Record a step that failed (or part of one, such as a file that could not be moved)."""
        self.failures.append(f"{name} failed: {why}")
        log.warning("published; %s failed: %s", name, why)
