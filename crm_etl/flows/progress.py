"""What a person watching a run sees: one line per stage, live on a terminal, plain when piped.

On a terminal (rich): each stage gets a line with a spinner while it runs, its count and rate
as it advances, and its final count, rate and time when it ends. Piped or redirected, nothing
moves: one plain line per stage as it ends (`stage clean: 154 rows, 600 rows/s, 0.3 s, peak
512 MiB`), which a log file or a benchmark reads well.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from crm_etl.flows.stages import StageTiming


def _rate(items: int | None, seconds: float, unit: str) -> str:
    if items is None:
        return ""
    rate = f", {items / seconds:,.0f} {unit}/s" if seconds > 0.05 else ""
    return f"{items:,} {unit}{rate}"


def stage_line(timing: StageTiming) -> str:
    """`stage clean: 154 rows, 600 rows/s, 0.3 s, peak 512 MiB`."""
    counted = _rate(timing.items, timing.seconds, timing.unit)
    return (
        f"stage {timing.stage}: {counted + ', ' if counted else ''}{timing.seconds:.1f} s, "
        f"peak {timing.peak_rss_mb:,.0f} MiB"
    )


class StageLines:
    """Piped output: one line per finished stage."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def started(self, stage: str, unit: str, total: int | None) -> None:
        return None

    def advanced(self, stage: str, done: int, total: int | None, note: str) -> None:
        return None

    def finished(self, timing: StageTiming) -> None:
        self.console.print(stage_line(timing), markup=False, highlight=False, soft_wrap=True)

    def __enter__(self) -> StageLines:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class LiveStages:
    """A terminal's live display: a spinner line per stage, with counts and rates as it goes."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("[bold]{task.fields[stage]:<9}[/]"),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.units: dict[str, str] = {}
        self.started_at: dict[str, float] = {}

    def started(self, stage: str, unit: str, total: int | None) -> None:
        self.units[stage] = unit
        self.started_at[stage] = time.perf_counter()
        self.tasks[stage] = self.progress.add_task(stage, total=None, stage=stage, info="")

    def advanced(self, stage: str, done: int, total: int | None, note: str) -> None:
        task = self.tasks.get(stage)
        if task is None:
            return
        seconds = time.perf_counter() - self.started_at[stage]
        info = _rate(done, seconds, self.units[stage])
        self.progress.update(task, info=escape(info + (f" · {note}" if note else "")))

    def finished(self, timing: StageTiming) -> None:
        task = self.tasks.get(timing.stage)
        if task is None:
            return
        info = _rate(timing.items, timing.seconds, timing.unit)
        self.progress.update(task, total=1, completed=1, info=escape(info))
        self.progress.stop_task(task)

    def __enter__(self) -> LiveStages:
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.progress.stop()


def stage_display(console: Console) -> LiveStages | StageLines:
    """Live on a terminal, one line per stage otherwise."""
    return LiveStages(console) if console.is_terminal else StageLines(console)


__all__ = ["LiveStages", "StageLines", "stage_display", "stage_line"]
