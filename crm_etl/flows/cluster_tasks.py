"""The tasks a run fans out to Dask workers (flows/cluster.py), and what they hand back.

Each reads its input from the work folder and writes its output there as Parquet, returning the
file's URL and a few small facts (a file's outcome, a chunk's pair summary, the fitted model).
Every task is retried alone when it fails (`retries`), and writes its output under a name fixed
by its input (a file's position, a chunk's number), so a retried or repeated task overwrites
its own file and nothing else. This module imports no more than the tasks need: a worker
imports it to run them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from crm_etl.cleaners.dedupe.comparison import code_columns
from crm_etl.cleaners.dedupe.model import MatchModel, PairSummary
from crm_etl.cleaners.dedupe.scoring import compare_chunk, fit_model, score_chunk, summarise
from crm_etl.cleaners.dedupe.settings import LinkageSettings
from crm_etl.cleaners.records import CleaningTables, clean_customers, clean_interactions, clean_orders
from crm_etl.flows.cluster import Shared, WorkFolder
from crm_etl.flows.extract import FileExtract, FileOutcome, RecordType
from crm_etl.flows.logs import install_masking
from crm_etl.flows.pause import fail_point
from crm_etl.schemas import Config

RETRIES = 2
RETRY_DELAY_SECONDS = 1


def _task(name: str) -> Any:
    return task(name=name, cache_policy=NO_CACHE, retries=RETRIES, retry_delay_seconds=RETRY_DELAY_SECONDS)


# Reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadJob:
    """One inbox file to read: its position in the inbox's order, its path and its lineage name."""

    number: int
    path: Path
    source_file: str

    @property
    def label(self) -> str:
        return self.source_file


@dataclass
class StoredExtract:
    """A file read on a worker: its outcome, its record frames' Parquet URLs, whether it was cached."""

    outcome: FileOutcome
    records: dict[RecordType, str] = field(default_factory=dict)
    cached: bool = False
    cache_key: str | None = None
    not_ready: str | None = None  # still being copied in after every retry: the message
    rows: int = 0
    seconds: float = 0.0  # the task's own time, for the run's figures

    def load(self, work: WorkFolder) -> FileExtract:
        return FileExtract(self.outcome, {kind: work.read(url) for kind, url in self.records.items()})


@_task("read-file")
def read_file(
    job: ReadJob,
    config: Shared[Config],
    fingerprint: Shared[str],
    cache_dir: Shared[Path],
    work: Shared[WorkFolder],
) -> StoredExtract:
    """Read one file (through the cached, retried read-input task) and store its frames as Parquet."""
    from crm_etl.flows.reading import InputNotReady, read_one

    install_masking()
    start = time.perf_counter()
    try:
        result, cached, key = read_one(
            job.path, job.source_file, config.value, fingerprint.value, cache_dir.value
        )
    except InputNotReady as exc:
        return StoredExtract(FileOutcome(job.source_file, "", 0, "failed"), not_ready=str(exc))
    rows = sum(frame.height for frame in result.records.values())
    stored = StoredExtract(result.outcome, cached=cached, cache_key=key, rows=rows)
    for kind, frame in result.records.items():
        stored.records[kind] = work.value.write(f"read-{job.number:05d}-{kind}", frame)
    stored.seconds = time.perf_counter() - start
    return stored


# Cleaning ---------------------------------------------------------------------------------------

CLEANERS = {"customers": clean_customers, "orders": clean_orders, "interactions": clean_interactions}


@dataclass(frozen=True)
class CleanJob:
    """Raw records of one record type from one file (or a run of small files), stored as Parquet."""

    record_type: RecordType
    part: int
    raw: str

    @property
    def label(self) -> str:
        return f"{self.record_type} of input part {self.part}"


@_task("clean-file")
def clean_file(job: CleanJob, tables: Shared[CleaningTables], work: Shared[WorkFolder]) -> str:
    """Clean one file's records of one type; the cleaned frame's URL."""
    install_masking()
    fail_point(f"clean-{job.record_type}-{job.part:05d}")
    cleaned = CLEANERS[job.record_type](work.value.read(job.raw), tables.value)
    return work.value.write(f"clean-{job.record_type}-{job.part:05d}", cleaned)


# Matching ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairChunk:
    """One chunk of candidate pairs (consecutive rows of the run's pairs) and the records they name,
    each stored as Parquet; the records carry their values' term frequencies in the whole run."""

    number: int
    pairs: str
    records: str

    @property
    def label(self) -> str:
        return f"pair chunk {self.number}"


@dataclass
class ComparedChunk:
    chunk: PairChunk
    compared: str
    summary: PairSummary
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return self.chunk.label


@_task("compare-pairs")
def compare_pairs_chunk(
    chunk: PairChunk, settings: Shared[LinkageSettings], id_column: Shared[str], work: Shared[WorkFolder]
) -> ComparedChunk:
    """Compare one chunk's pairs; the compared pairs' URL and the chunk's summary for EM."""
    install_masking()
    start = time.perf_counter()
    fail_point(f"compare-{chunk.number:05d}")
    folder = work.value
    compared = compare_chunk(
        folder.read(chunk.pairs), folder.read(chunk.records), settings.value, id_column.value
    )
    summary = summarise(compared, settings.value)
    written = folder.write(f"compared-{chunk.number:05d}", compared)
    return ComparedChunk(chunk, written, summary, time.perf_counter() - start)


@dataclass(frozen=True)
class UModelSample:
    """The random record pairs u is measured on, drawn from every record, and the records they name."""

    pairs: str
    records: str

    @property
    def label(self) -> str:
        return "the match model"


@_task("fit-model")
def fit_match_model(
    sample: UModelSample,
    summary: Shared[PairSummary],
    settings: Shared[LinkageSettings],
    id_column: Shared[str],
    population: Shared[int],
    work: Shared[WorkFolder],
) -> MatchModel:
    """u on the random record pairs, m and the prior by EM on the chunks' summed summary."""
    install_masking()
    folder = work.value
    records = folder.read(sample.records)
    coded = code_columns(records, settings.value.comparisons)
    pairs = folder.read(sample.pairs)
    return fit_model(records, summary.value, settings.value, id_column.value, coded, pairs, population.value)


@dataclass
class ScoredChunk:
    number: int
    pairs: str
    conflicts: str
    seconds: float = 0.0


@_task("score-pairs")
def score_pairs_chunk(
    compared: ComparedChunk,
    model: Shared[MatchModel],
    settings: Shared[LinkageSettings],
    decided: Shared[str],
    work: Shared[WorkFolder],
) -> ScoredChunk:
    """Score one chunk's compared pairs; the scored pairs' and the conflicts' URLs."""
    install_masking()
    start = time.perf_counter()
    number = compared.chunk.number
    fail_point(f"score-{number:05d}")
    folder = work.value
    scored = score_chunk(
        folder.read(compared.compared), model.value, settings.value, folder.read(decided.value)
    )
    return ScoredChunk(
        number,
        folder.write(f"scored-{number:05d}", scored.pairs),
        folder.write(f"conflicts-{number:05d}", scored.conflicts),
        time.perf_counter() - start,
    )
