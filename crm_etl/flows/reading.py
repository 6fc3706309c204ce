"""Reading the inbox: one Prefect task per file, retried while the file is still being copied in,
and cached on the file's content so an unchanged file is not read again.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import inspect
import json
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import Task, get_run_logger, task
from prefect.context import TaskRunContext
from prefect.transactions import get_transaction

import crm_etl.cleaners.mapping
import crm_etl.cleaners.rows
import crm_etl.flows.cells
import crm_etl.flows.extract
import crm_etl.flows.mojibake
import crm_etl.flows.readers
import crm_etl.flows.text_encoding
import crm_etl.flows.text_lines
import crm_etl.flows.text_plausibility
from crm_etl.flows.cluster import FanOut
from crm_etl.flows.extract import (
    FileExtract,
    FileOutcome,
    _sha256,
    extract_file,
    refused_inputs,
)
from crm_etl.flows.inbox import discover_inputs, source_name
from crm_etl.flows.pause import pause_point
from crm_etl.flows.stages import advance
from crm_etl.schemas import Config

CACHE_KEY_PREFIX = "extract-"
# Libraries whose behaviour shapes what a file reads as: a new version invalidates the cache.
_READER_LIBRARIES = ("python-calamine", "charset-normalizer", "polars", "openpyxl")


class InputNotReady(RuntimeError):
    """The file is probably still being copied into the inbox: read it again later."""


def cache_dir_for(db: Path) -> Path:
    """Where extraction results are cached: `<db>.cache/` next to the database file."""
    return db.with_name(db.name + ".cache")


def extraction_fingerprint(config: Config) -> str:
    """Everything besides a file's bytes that decides what it extracts to: source specs, fields, code, libraries."""
    digest = hashlib.sha256()
    digest.update(json.dumps([s.model_dump(mode="json", exclude={"path"}) for s in config.sources]).encode())
    digest.update(json.dumps(config.canonical.model_dump(mode="json")).encode())
    digest.update(json.dumps(config.mapping.model_dump(mode="json")).encode())
    digest.update(config.runs.max_workbook_unpacked.encode())
    digest.update(
        json.dumps([o.model_dump(mode="json", exclude={"path"}) for o in config.overrides]).encode()
    )
    for module in (
        crm_etl.flows.extract,
        crm_etl.flows.cells,
        crm_etl.flows.readers,
        crm_etl.flows.text_encoding,
        crm_etl.flows.text_lines,
        crm_etl.flows.text_plausibility,
        crm_etl.flows.mojibake,
    ):
        digest.update(inspect.getsource(module).encode())
    digest.update(inspect.getsource(crm_etl.cleaners.rows).encode())
    # Every module of the mapping engine, so a new one cannot be forgotten here.
    for path in sorted(Path(crm_etl.cleaners.mapping.__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    for library in _READER_LIBRARIES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            digest.update(f"{library}=={importlib.metadata.version(library)}".encode())
    return digest.hexdigest()[:16]


def input_cache_key(context: Any, parameters: dict[str, Any]) -> str | None:
    """Cache key of a file's extraction: extraction fingerprint + file identity + SHA-256 of its bytes."""
    try:
        content = _sha256(Path(parameters["path"]))
    except OSError:
        return None
    identity = hashlib.sha256(parameters["source_file"].encode("utf-8")).hexdigest()[:16]
    return f"{CACHE_KEY_PREFIX}{parameters['fingerprint']}-{identity}-{content}"


def _retry_while_not_ready(task: Task[..., Any], task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except InputNotReady:
        return True
    except Exception:
        return False
    return False


@task(
    name="read-input",
    cache_key_fn=input_cache_key,
    persist_result=True,
    result_serializer="pickle",
    retry_condition_fn=_retry_while_not_ready,
)
def read_input(
    path: Path, source_file: str, config: Config, fingerprint: str, settle_seconds: float
) -> FileExtract:
    """Extract one file; raise InputNotReady while it is still being copied in (Prefect retries)."""
    context = TaskRunContext.get()
    attempt = context.task_run.run_count if context else 1
    pause_point("read.retry" if attempt > 1 else "read")
    before = path.stat()
    result = extract_file(path, source_file, config)
    after = path.stat()
    transaction = get_transaction()
    key = transaction.key if transaction else None
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or (
        key and not key.endswith(result.outcome.sha256)
    ):
        raise InputNotReady(f"{source_file}: changed while it was being read, probably still being copied")
    age = time.time() - after.st_mtime
    # A file that could not be read at all may be a partial copy; one that read but has a sheet no
    # mapping fits (no customer column, no header) is what it is and fails at once.
    if result.outcome.status == "failed" and not result.outcome.sheets and age < settle_seconds:
        raise InputNotReady(
            f"{result.outcome.error} (modified {age:.0f} s before it was read: probably still being copied)"
        )
    pause_point("extract")
    return result


@dataclass
class InboxRead:
    """Every file of the inbox, extracted, and which of them came from the cache."""

    extracts: list[FileExtract]
    cached: list[str]
    cache_keys: list[str]

    def take_extracts(self) -> list[FileExtract]:
        """The files' extracts, handed over: this object no longer holds their frames."""
        taken, self.extracts = self.extracts, []
        return taken


def read_one(
    path: Path, source_file: str, config: Config, fingerprint: str, cache_dir: Path
) -> tuple[FileExtract, bool, str | None]:
    """Read one file through the cached, retried read-input task: (its extract, from the cache?, cache key).

    Raises InputNotReady when the file was still being copied in after every retry.
    """
    settings = config.runs
    reader = read_input.with_options(
        retries=settings.read_retries,
        retry_delay_seconds=settings.read_retry_delay_seconds,
        result_storage=cache_dir,
    )
    state = reader(path, source_file, config, fingerprint, settings.settle_seconds, return_state=True)
    if not state.is_completed():
        state.result()  # raises the task's error: InputNotReady, or what went wrong
        raise RuntimeError(f"reading {source_file} ended in state {state.name}")
    key = input_cache_key(None, {"path": path, "source_file": source_file, "fingerprint": fingerprint})
    return state.result(), state.name == "Cached", key


def extract(
    inbox: Path, config: Config, cache_dir: Path, skip: Collection[str] = (), fan: FanOut | None = None
) -> InboxRead:
    """Read every file in the inbox, one cached and retried task per file; unreadable files are outcomes.

    `skip`: files (relative to the inbox) that are not data, such as returned review files.
    `fan`: on a cluster, each file is read by a task on a worker, which hands back its frames as
    Parquet in the work folder (flows/cluster_tasks.py); results are taken in the inbox's order.
    """
    logger = get_run_logger()
    fingerprint = extraction_fingerprint(config)
    paths = [p for p in discover_inputs(inbox) if source_name(inbox, p) not in skip]
    # Links, special and hidden files are outcomes of their own: listed in the summary, never opened.
    extracts: list[FileExtract] = [FileExtract(outcome) for outcome in refused_inputs(inbox)]
    cached: list[str] = []
    keys: list[str] = []
    read: Iterable[tuple[FileExtract, bool, str | None]]
    if fan is not None and fan.distributed and paths:
        read = _read_on_cluster(inbox, paths, config, fingerprint, cache_dir, fan)
    else:
        read = (_read_here(inbox, path, config, fingerprint, cache_dir) for path in paths)
    for number, (path, (result, was_cached, key)) in enumerate(zip(paths, read, strict=True), start=1):
        source_file = source_name(inbox, path)
        if was_cached:
            cached.append(source_file)
        if key:
            keys.append(key)
        extracts.append(result)
        if fan is None or not fan.distributed:
            advance(
                sum(f.height for f in result.records.values()),
                note=f"file {number}/{len(paths)} {source_file}",
            )
    for e in extracts:
        if e.outcome.status == "failed" and e.outcome.error:
            logger.error("input not readable: %s", e.outcome.error)
    logger.info(
        "read %d files (%d unchanged, from the cache), %d sheets",
        len(extracts),
        len(cached),
        sum(len(e.outcome.sheets) for e in extracts),
    )
    return InboxRead(extracts, cached, keys)


def _read_here(
    inbox: Path, path: Path, config: Config, fingerprint: str, cache_dir: Path
) -> tuple[FileExtract, bool, str | None]:
    source_file = source_name(inbox, path)
    try:
        return read_one(path, source_file, config, fingerprint, cache_dir)
    except InputNotReady as exc:
        return _not_ready(path, source_file, config.runs.read_retries, exc), False, None


def _read_on_cluster(
    inbox: Path, paths: list[Path], config: Config, fingerprint: str, cache_dir: Path, fan: FanOut
) -> list[tuple[FileExtract, bool, str | None]]:
    from crm_etl.flows.cluster_tasks import ReadJob, StoredExtract, read_file

    work = fan.work
    assert work is not None
    jobs = [ReadJob(number, path, source_name(inbox, path)) for number, path in enumerate(paths, start=1)]

    def done(index: int, stored: StoredExtract) -> None:
        advance(stored.rows, note=f"file {index + 1}/{len(paths)} {jobs[index].source_file}")

    stored: list[StoredExtract] = fan.map(
        read_file, jobs, done=done, config=config, fingerprint=fingerprint, cache_dir=cache_dir, work=work
    )
    results: list[tuple[FileExtract, bool, str | None]] = []
    for job, one in zip(jobs, stored, strict=True):
        if one.not_ready is not None:
            exc = InputNotReady(one.not_ready)
            results.append(
                (_not_ready(job.path, job.source_file, config.runs.read_retries, exc), False, None)
            )
        else:
            results.append((one.load(work), one.cached, one.cache_key))
    return results


def _not_ready(path: Path, source_file: str, retries: int, exc: InputNotReady) -> FileExtract:
    try:
        sha256, size = _sha256(path), path.stat().st_size
    except OSError:
        sha256, size = "", 0
    return FileExtract(
        FileOutcome(
            source_file,
            sha256,
            size,
            "failed",
            f"{exc}; tried {retries + 1} times, it is read again by the next run",
        )
    )


def prune_cache(cache_dir: Path, keep: list[str]) -> None:
    """Delete cached extractions other than `keep` (the files of the inbox just read)."""
    if not cache_dir.is_dir():
        return
    wanted = set(keep)
    for entry in cache_dir.glob(f"{CACHE_KEY_PREFIX}*"):
        if entry.name not in wanted:
            with contextlib.suppress(OSError):
                entry.unlink()
