"""The stages of a run, timed: wall time, items and peak memory of each, for the summary and the watcher.

A flow's stage is a Prefect task wrapped by `@timed_stage(name, unit, count)`: the wrapper times
the body, counts what it produced (`count(result)`), and tells every listener (the CLI's progress
display) when a stage starts, advances and ends. Inside a stage, `advance(n)` reports progress
(files read, say). The timings of a run land in `RunSummary.stages` and the `run_stages` table.
"""

from __future__ import annotations

import functools
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class RunCheckFailed(RuntimeError):
    """A critical run-level check failed; nothing was published."""

    def __init__(self, message: str, checks: list[Any] | None = None, report: Path | None = None) -> None:
        super().__init__(message)
        self.checks = checks or []
        self.report = report  # the report of the failed run, saying why


@dataclass
class StageTiming:
    """One stage of a run: how long it took, how many items it handled, the process's peak memory after it."""

    stage: str
    seconds: float
    items: int | None
    unit: str
    peak_rss_mb: float


class StageListener(Protocol):
    """Told about each stage as it runs (the CLI's progress display)."""

    def started(self, stage: str, unit: str, total: int | None) -> None: ...

    def advanced(self, stage: str, done: int, total: int | None, note: str) -> None: ...

    def finished(self, timing: StageTiming) -> None: ...


@dataclass
class _Running:
    name: str
    unit: str
    total: int | None = None
    done: int | None = None  # None: the stage counts nothing


@dataclass
class StageClock:
    """The stage timings of one run, in the order the stages ran."""

    timings: list[StageTiming] = field(default_factory=list)


_listeners: list[StageListener] = []
_clock: ContextVar[StageClock | None] = ContextVar("crm_etl_stage_clock", default=None)
_running: ContextVar[_Running | None] = ContextVar("crm_etl_stage_running", default=None)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def listening(listener: StageListener) -> Iterator[None]:
    """Tell `listener` about every stage run while the block runs."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


@contextmanager
def stage_clock() -> Iterator[StageClock]:
    """Collect the timings of the stages run inside the block (one run)."""
    clock = StageClock()
    token = _clock.set(clock)
    try:
        yield clock
    finally:
        _clock.reset(token)


def advance(done: int = 1, total: int | None = None, note: str = "") -> None:
    """Report progress inside the running stage: `done` more items (of `total`, when known)."""
    running = _running.get()
    if running is None:
        return
    running.done = (running.done or 0) + done
    if total is not None:
        running.total = total
    for listener in list(_listeners):
        listener.advanced(running.name, running.done, running.total, note)


@contextmanager
def measured(name: str, unit: str, total: int | None = None) -> Iterator[_Running]:
    """Time a block as the stage `name`; set `.done` on the yielded value to the items it handled."""
    running = _Running(name, unit, total)
    token = _running.set(running)
    for listener in list(_listeners):
        listener.started(name, unit, total)
    start = time.perf_counter()
    try:
        yield running
    finally:
        _running.reset(token)
    timing = StageTiming(name, time.perf_counter() - start, running.done, unit, peak_rss_mb())
    clock = _clock.get()
    if clock is not None:
        clock.timings.append(timing)
    for listener in list(_listeners):
        listener.finished(timing)


def timed_stage(
    name: str, unit: str, count: Callable[[Any], int] | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a stage's function: timed as `name`, its result counted in `unit` by `count`."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with measured(name, unit) as running:
                result = function(*args, **kwargs)
                if count is not None:
                    running.done = count(result)
            return result

        return wrapper

    return decorate


__all__ = [
    "RunCheckFailed",
    "StageClock",
    "StageListener",
    "StageTiming",
    "advance",
    "listening",
    "measured",
    "peak_rss_mb",
    "stage_clock",
    "timed_stage",
]
