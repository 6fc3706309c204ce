"""Running a migration's heavy stages on a Dask cluster: the plan, the work folder, the fan-out.

A run is one process unless `--workers N` (a local Dask cluster of N worker processes) or
`--dask ADDRESS` (a running scheduler) or schemas/runs.yaml `cluster:` asks for a cluster. On
a cluster, Prefect's `DaskTaskRunner` runs the fanned-out tasks (flows/cluster_tasks.py) on the
workers: a task per input file to read it, per file to clean it, per chunk of candidate pairs
to compare and score them, and one to fit the match model. Tasks hand each other Parquet files
in the run's work folder (`<work folder>/<run_id>/`), never frames pickled over the network;
what goes over the network is a path, a file's outcome, or the fitted model's few numbers.

Everything else (combining the inputs, blocking, clustering, golden records, IDs, the checks,
the report and the one atomic publish) stays in the process that holds the DuckDB file.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import polars as pl

if TYPE_CHECKING:
    from prefect.task_runners import TaskRunner

    from crm_etl.schemas.config import ClusterSettings

# Environment handed to every local worker process: Prefect's API (the CLI's temporary server or
# a configured one), no telemetry, and Dask's own INFO lines (a worker started, a worker stopped)
# kept off the console.
_WORKER_ENVIRONMENT = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DASK_LOGGING__DISTRIBUTED": "warning",
}


T = TypeVar("T")


class ClusterError(RuntimeError):
    """The cluster or its work folder cannot be used: the run stops before any task runs."""


class ClusterTaskFailed(RuntimeError):
    """A fanned-out task failed on every attempt: the run stops, nothing is published."""


@dataclass(frozen=True)
class WorkFolder:
    """Where the fanned-out tasks exchange Parquet files: a local path or any fsspec URL.

    Picklable (a task receives it), so it holds the URL only and opens its file system on use.
    """

    url: str

    @classmethod
    def beside(cls, db: Path) -> WorkFolder:
        """The default: `<db>.work/` next to the database file."""
        return cls(str(db.with_name(db.name + ".work").absolute()))

    def child(self, name: str) -> WorkFolder:
        return WorkFolder(f"{self.url.rstrip('/')}/{name}")

    def path(self, name: str) -> str:
        return f"{self.url.rstrip('/')}/{name}"

    def _fs(self) -> tuple[Any, str]:
        from fsspec.core import url_to_fs

        fs, root = url_to_fs(self.url)
        return fs, root

    def check_writable(self) -> None:
        """Create the folder and write, read and delete a file in it; ClusterError says why not."""
        probe = self.path(f".probe-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            fs, root = self._fs()
            fs.makedirs(root, exist_ok=True)
            with fs.open(probe, "wb") as handle:
                handle.write(b"crm-etl")
            with fs.open(probe, "rb") as handle:
                if handle.read() != b"crm-etl":
                    raise OSError("a file written there reads back different")
            fs.rm(probe)
        except (OSError, ValueError, ImportError) as exc:
            raise ClusterError(
                f"work folder {self.url}: cannot be written ({type(exc).__name__}: {exc}); "
                "every worker writes its results there (schemas/runs.yaml cluster.work_folder)"
            ) from exc

    def write(self, name: str, frame: pl.DataFrame) -> str:
        """Write `frame` as `<folder>/<name>.parquet` (zstd) and return its URL."""
        target = self.path(f"{name}.parquet")
        fs, root = self._fs()
        fs.makedirs(root, exist_ok=True)  # on object stores a no-op
        with fs.open(target, "wb") as handle:
            frame.write_parquet(handle, compression="zstd", statistics=False)
        return target

    def read(self, url: str) -> pl.DataFrame:
        fs, _ = self._fs()
        with fs.open(url, "rb") as handle:
            return pl.read_parquet(handle)

    def size(self) -> int:
        """Bytes the folder holds now."""
        fs, root = self._fs()
        with contextlib.suppress(FileNotFoundError):
            return int(fs.du(root, total=True))
        return 0

    def remove(self) -> None:
        fs, root = self._fs()
        if fs.exists(root):
            fs.rm(root, recursive=True)

    def remove_if_empty(self) -> None:
        """Remove the folder if nothing is left in it (another run may be using it)."""
        fs, root = self._fs()
        with contextlib.suppress(OSError):
            if fs.isdir(root) and not fs.ls(root):
                fs.rmdir(root)


@dataclass(frozen=True)
class ClusterPlan:
    """Where one run's work is done: `workers` local processes, or the cluster at `address`."""

    workers: int
    address: str | None
    work: WorkFolder
    pair_chunk_size: int

    @classmethod
    def resolve(
        cls,
        settings: ClusterSettings,
        db: Path,
        workers: int | None = None,
        address: str | None = None,
    ) -> ClusterPlan | None:
        """The plan from the flags (`workers`, `address`) over schemas/runs.yaml; None: one process.

        `--workers 0` asks for one process whatever the configuration says.
        """
        address = address if address is not None else (settings.dask_address if workers is None else None)
        count = workers if workers is not None else settings.workers
        if not address and count == 0:
            return None
        work = WorkFolder(settings.work_folder) if settings.work_folder else WorkFolder.beside(db)
        return cls(count, address or None, work, settings.pair_chunk_size)

    def describe(self) -> str:
        where = (
            f"the Dask cluster at {self.address}" if self.address else f"{self.workers} local Dask workers"
        )
        return f"{where}, work folder {self.work.url}"

    def task_runner(self) -> TaskRunner[Any]:
        """Prefect's Dask task runner for this plan (a LocalCluster is started when it is entered)."""
        from prefect.settings import PREFECT_API_URL
        from prefect_dask import DaskTaskRunner

        if self.address:
            return DaskTaskRunner(address=self.address)
        environment = dict(_WORKER_ENVIRONMENT)
        api = PREFECT_API_URL.value()
        if api:  # the temporary server of a test harness is in Prefect's settings, not in os.environ
            environment["PREFECT_API_URL"] = api
        return DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={
                "n_workers": self.workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
                "env": environment,
            },
        )


class Shared(Generic[T]):
    """A value every task of a fan-out receives, opaque to Prefect (`.value` inside the task).

    Prefect walks every argument of every task it submits, element by element, looking for futures
    to resolve: the configuration's vocabularies, for each task again. It does not look inside this.
    """

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value


class FanOut:
    """Runs a task over many inputs: on Dask workers when there is a plan, else here.

    Used as a context manager for the run: entering starts the plan's task runner (a
    LocalCluster, or a connection to the scheduler at the plan's address), leaving stops it. The
    run's flow keeps Prefect's default task runner: only these tasks go to the cluster, so a
    scheduled run (`crm-etl serve`), a CLI run and `migrate(workers=2)` called from Python fan
    out alike. Without a plan, `task.fn` is called directly: the single-process run makes no
    task runs of these.
    """

    def __init__(
        self, plan: ClusterPlan | None, work: WorkFolder | None = None, runner: TaskRunner[Any] | None = None
    ) -> None:
        self.plan = plan
        self.work = work
        self._runner = runner if runner is not None or plan is None else plan.task_runner()
        # Per task name, the seconds each of its runs took by its own clock (results with `seconds`).
        self.task_seconds: dict[str, list[float]] = {}

    def __enter__(self) -> FanOut:
        if self._runner is not None:
            try:
                self._runner.__enter__()
                # Prefect's Dask runner connects on its first task: connect now, before any work.
                getattr(self._runner, "client", None)
            except Exception as exc:  # an address nobody answers at, a cluster that cannot start
                where = self.plan.describe() if self.plan else "the cluster"
                raise ClusterError(f"cannot start or reach {where}: {type(exc).__name__}: {exc}") from exc
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            self._runner.__exit__(*exc)

    @property
    def distributed(self) -> bool:
        return self.plan is not None

    def map(
        self,
        task: Any,
        items: Sequence[Any],
        *,
        done: Callable[[int, Any], None] | None = None,
        **constant: Any,
    ) -> list[Any]:
        """`task(item, **constant)` for every item, results in the items' order; each constant
        reaches the task as `Shared(value)`.

        `done(index, result)` is called as each one finishes (progress). A task that fails after
        its retries raises its error here, after the others have finished.
        """
        if not items:
            return []
        constant = {key: Shared(value) for key, value in constant.items()}
        if self.plan is None:
            results = []
            for index, item in enumerate(items):
                results.append(task.fn(item, **constant))
                if done:
                    done(index, results[-1])
            return results
        from prefect import unmapped
        from prefect.context import TaskRunContext
        from prefect.futures import as_completed

        if self._runner is None:
            raise RuntimeError("FanOut.map() on a cluster outside `with FanOut(...)`")
        first = next(iter(inspect.signature(task.fn).parameters))
        parameters = {first: list(items), **{key: unmapped(value) for key, value in constant.items()}}
        # Submitted as the flow submits them, whoever calls: a task submitted inside a task run
        # carries that run's serialised context, its parameters (every record of a stage) included.
        outer = TaskRunContext.__var__.set(None)  # type: ignore[arg-type]  # get() reads None as "no task run"
        try:
            futures = self._runner.map(task, parameters)
        finally:
            TaskRunContext.__var__.reset(outer)
        position = {future.task_run_id: index for index, future in enumerate(futures)}
        for future in as_completed(futures):
            with contextlib.suppress(Exception):  # raised in order below
                result = future.result()
                if done:
                    done(position[future.task_run_id], result)
        results = []
        for item, future in zip(items, futures, strict=True):
            try:
                results.append(future.result())
                if hasattr(results[-1], "seconds"):
                    self.task_seconds.setdefault(task.name, []).append(float(results[-1].seconds))
            except Exception as exc:
                attempts = 1 + int(getattr(task, "retries", 0) or 0)
                raise ClusterTaskFailed(
                    f"task {task.name} for {getattr(item, 'label', item)} failed "
                    f"{attempts} time(s): {type(exc).__name__}: {exc}"
                ) from exc
        return results
