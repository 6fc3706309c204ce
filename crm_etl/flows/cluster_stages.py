"""The fanned-out stages as the run's own process drives them: cleaning per file, pairs per chunk.

Each splits its input into jobs, stores the jobs' inputs in the work folder, maps a task of
flows/cluster_tasks.py over them (flows/cluster.py FanOut) and puts the results back together
in the jobs' order, which is the order the single-process run works in: the same tables come out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from crm_etl.cleaners.dedupe.comparison import record_term_frequencies
from crm_etl.cleaners.dedupe.model import MatchModel, PairSummary, u_sample
from crm_etl.cleaners.dedupe.scoring import ScoredPairs, records_of_pairs
from crm_etl.cleaners.dedupe.settings import LinkageSettings
from crm_etl.cleaners.records import CleaningTables
from crm_etl.flows.cluster import FanOut, WorkFolder
from crm_etl.flows.cluster_tasks import (
    CLEANERS,
    CleanJob,
    ComparedChunk,
    PairChunk,
    ScoredChunk,
    UModelSample,
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
            else CLEANERS[kind](extracted.records[kind], tables)
        )
    return Cleaned(cleaned["customers"], cleaned["orders"], cleaned["interactions"])


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
        self._u_sample: UModelSample | None = None
        self._population = 0
        self._compared: list[ComparedChunk] = []

    def compare(
        self, pairs: pl.DataFrame, records: pl.DataFrame, settings: LinkageSettings, id_column: str
    ) -> PairSummary:
        """Each chunk is stored with just the records its pairs name, and those records carry their
        values' term frequencies in the whole population: a worker's memory is bounded by the chunk."""
        read = [id_column, *(c for c in settings.columns if c in records.columns and c != id_column)]
        features = records.select(read)
        self._population = features.height
        tf = record_term_frequencies(features, settings.comparisons, settings.model.tf_minimum_population)
        with_tf = features.with_columns(tf.values())
        del tf
        chunks = []
        for number, start in enumerate(range(0, max(pairs.height, 1), self.chunk_size)):
            part = pairs.slice(start, self.chunk_size)
            named = records_of_pairs(with_tf, part, id_column)
            chunks.append(
                PairChunk(
                    number,
                    self.work.write(f"pairs-{number:05d}", part),
                    self.work.write(f"records-{number:05d}", named),
                )
            )
        del with_tf
        # u's random record pairs are drawn here, from every record; the fitting task gets only theirs.
        sample = u_sample(features, settings.model, id_column)
        self._u_sample = UModelSample(
            self.work.write("u-pairs", sample),
            self.work.write("u-records", records_of_pairs(features, sample, id_column)),
        )
        self._compared = self.fan.map(
            compare_pairs_chunk, chunks, settings=settings, id_column=id_column, work=self.work
        )
        return PairSummary.combined([c.summary for c in self._compared], settings.model_comparisons)

    def fit(
        self, records: pl.DataFrame, summary: PairSummary, settings: LinkageSettings, id_column: str
    ) -> MatchModel:
        if self._u_sample is None:
            raise RuntimeError("fit() before compare()")
        fitted: list[MatchModel] = self.fan.map(
            fit_match_model,
            [self._u_sample],
            summary=summary,
            settings=settings,
            id_column=id_column,
            population=self._population,
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
