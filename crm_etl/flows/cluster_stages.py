"""The fanned-out stages as the run's own process drives them: cleaning per file, pairs per chunk.

Each splits its input into jobs, stores the jobs' inputs in the work folder, maps a task of
flows/cluster_tasks.py over them (flows/cluster.py FanOut) and puts the results back together
in the jobs' order, which is the order the single-process run works in: the same tables come out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from crm_etl.cleaners.dedupe.model import MatchModel, PairSummary
from crm_etl.cleaners.dedupe.scoring import ScoredPairs
from crm_etl.cleaners.dedupe.settings import LinkageSettings
from crm_etl.cleaners.records import CleaningTables
from crm_etl.flows.cluster import FanOut, WorkFolder
from crm_etl.flows.cluster_tasks import (
    CleanJob,
    ComparedChunk,
    PairChunk,
    ScoredChunk,
    clean_file,
    compare_pairs_chunk,
    fit_match_model,
    score_pairs_chunk,
)
from crm_etl.flows.extract import ExtractResult, RecordType

if TYPE_CHECKING:
    from crm_etl.flows.tasks import Cleaned


def file_runs(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """The frame cut where `source_file` changes: one part per file, in the frame's order."""
    if frame.is_empty():
        return []
    run = (pl.col("source_file") != pl.col("source_file").shift()).fill_null(value=True).cum_sum()
    return frame.with_columns(run.alias("_run")).partition_by("_run", maintain_order=True, include_key=False)


def clean_on_cluster(extracted: ExtractResult, tables: CleaningTables, fan: FanOut) -> Cleaned:
    """Clean every file's records of every type in a task of its own (cleaning is per row and sheet)."""
    from crm_etl.flows.tasks import Cleaned

    work = _work(fan)
    cleaned: dict[RecordType, pl.DataFrame] = {}
    kinds: list[RecordType] = ["customers", "orders", "interactions"]
    jobs: list[CleanJob] = []
    for kind in kinds:
        for part, frame in enumerate(file_runs(extracted.records[kind])):
            jobs.append(CleanJob(kind, part, work.write(f"raw-{kind}-{part:05d}", frame)))
    urls = fan.map(clean_file, jobs, tables=tables, work=work)
    for kind in kinds:
        parts = [work.read(url) for job, url in zip(jobs, urls, strict=True) if job.record_type == kind]
        cleaned[kind] = (
            pl.concat(parts, how="vertical_relaxed")
            if parts
            else _clean_empty(extracted.records[kind], kind, tables)
        )
    return Cleaned(cleaned["customers"], cleaned["orders"], cleaned["interactions"])


def _clean_empty(frame: pl.DataFrame, kind: RecordType, tables: CleaningTables) -> pl.DataFrame:
    from crm_etl.flows.cluster_tasks import CLEANERS

    return CLEANERS[kind](frame, tables)


def _work(fan: FanOut) -> WorkFolder:
    if fan.work is None:
        raise RuntimeError("a fanned-out stage needs the run's work folder")
    return fan.work


class ClusterScoring:
    """Candidate pairs compared and scored in chunks of `chunk_size` by tasks on the workers.

    A chunk is a run of consecutive rows of the run's candidate pairs (blocking's order), so the
    same inputs give the same chunks; the scored chunks are read back in their order.
    """

    def __init__(self, fan: FanOut, chunk_size: int) -> None:
        self.fan = fan
        self.work = _work(fan).child("match")
        self.chunk_size = chunk_size
        self._records: str | None = None
        self._compared: list[ComparedChunk] = []
        self.chunks = 0

    def compare(
        self, pairs: pl.DataFrame, records: pl.DataFrame, settings: LinkageSettings, id_column: str
    ) -> PairSummary:
        read = [id_column, *(c for c in settings.columns if c in records.columns and c != id_column)]
        self._records = self.work.write("records", records.select(read))
        chunks = [
            PairChunk(number, self.work.write(f"pairs-{number:05d}", pairs.slice(start, self.chunk_size)))
            for number, start in enumerate(range(0, max(pairs.height, 1), self.chunk_size))
        ]
        self.chunks = len(chunks)
        self._compared = self.fan.map(
            compare_pairs_chunk,
            chunks,
            records=self._records,
            settings=settings,
            id_column=id_column,
            work=self.work,
        )
        return PairSummary.combined([c.summary for c in self._compared], settings.model_comparisons)

    def fit(
        self, records: pl.DataFrame, summary: PairSummary, settings: LinkageSettings, id_column: str
    ) -> MatchModel:
        if self._records is None:
            raise RuntimeError("fit() before compare()")
        fitted: list[MatchModel] = self.fan.map(
            fit_match_model,
            [self._records],
            summary=summary,
            settings=settings,
            id_column=id_column,
            work=self.work,
        )
        return fitted[0]

    def score(self, model: MatchModel, decided: pl.DataFrame, settings: LinkageSettings) -> ScoredPairs:
        decisions = self.work.write("decided", decided)
        scored: list[ScoredChunk] = self.fan.map(
            score_pairs_chunk,
            self._compared,
            model=model,
            settings=settings,
            decided=decisions,
            work=self.work,
        )
        self._compared = []
        pairs = pl.concat([self.work.read(s.pairs) for s in scored])
        conflicts = pl.concat([self.work.read(s.conflicts) for s in scored])
        return ScoredPairs(pairs, conflicts)
