"""What one pair-chunk task of a cluster run costs: seconds and a worker's memory per chunk size.

Run (alone on the machine):
    .venv/bin/python bench/bench_pair_chunks.py [--records 1000000] [--sizes 250000,1000000,2000000]

Generated Chinese company records (bench/dedupe_data.py, 3.75 candidate pairs a record at 1M) are
blocked once; then, for each chunk size, the first chunk of the candidate pairs and the records it
names (with their term frequencies in the whole population) are written to Parquet exactly as a
cluster run writes them (flows/cluster_stages.py), and a fresh 'spawn' subprocess does what the
compare-pairs and score-pairs tasks do with them (flows/cluster_tasks.py): read, compare, summarise,
write; read, score, write. Its peak RSS (getrusage) is a worker's memory for one chunk of that size,
the process's memory after importing the same modules is given beside it. The model is fitted once
on all pairs. The peer is the same chunk compared and scored with every record in memory (what a
worker would hold if chunks were not given only their records). These figures are what the sizing
table in README "Running on a cluster" is derived from.
"""

from __future__ import annotations

import argparse
import multiprocessing
import pickle
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import polars as pl
from peak_rss import peak_rss_mb


def _task(folder: str, size: int, whole: bool) -> dict[str, Any]:
    """In a fresh process: one chunk compared and scored as a worker's two tasks do."""

    from crm_etl.cleaners.dedupe.scoring import compare_chunk, score_chunk, summarise
    from crm_etl.schemas import load_config

    settings = load_config().dedupe
    root = Path(folder)
    baseline = peak_rss_mb()
    start = time.perf_counter()
    records = pl.read_parquet(root / ("records-all.parquet" if whole else f"records-{size}.parquet"))
    pairs = pl.read_parquet(root / f"pairs-{size}.parquet")
    compared = compare_chunk(pairs, records, settings, "record_idx")
    summary = summarise(compared, settings)
    compared.write_parquet(root / f"compared-{size}.parquet", compression="zstd", statistics=False)
    del compared, records
    compare_seconds = time.perf_counter() - start
    start = time.perf_counter()
    model = pickle.loads((root / "model.pickle").read_bytes())
    decided = pl.DataFrame(schema={"l": pl.Int64, "r": pl.Int64, "decision": pl.String, "reason": pl.String})
    scored = score_chunk(pl.read_parquet(root / f"compared-{size}.parquet"), model, settings, decided)
    scored.pairs.write_parquet(root / f"scored-{size}.parquet", compression="zstd", statistics=False)
    return {
        "pairs": pairs.height,
        "summary_pairs": summary.pairs,
        "compare_s": compare_seconds,
        "score_s": time.perf_counter() - start,
        "peak_mb": peak_rss_mb(),
        "baseline_mb": baseline,
        "parquet_mb": sum(
            (root / f"{kind}-{size}.parquet").stat().st_size
            for kind in ("pairs", "records", "compared", "scored")
            if (root / f"{kind}-{size}.parquet").exists()
        )
        / 1e6,
    }


def _in_subprocess(folder: Path, size: int, whole: bool) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_task, (str(folder), size, whole))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--sizes", default="250000,1000000,2000000")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    from dedupe_data import generate

    from crm_etl.cleaners.customer_matching import customer_features
    from crm_etl.cleaners.dedupe.blocking import candidate_pairs
    from crm_etl.cleaners.dedupe.comparison import record_term_frequencies
    from crm_etl.cleaners.dedupe.scoring import InMemoryScoring, records_of_pairs
    from crm_etl.schemas import load_config

    settings = load_config().dedupe
    start = time.perf_counter()
    records = generate(args.records).drop("entity", "case", "true_name", "negative_of", "negative_kind")
    features = customer_features(records)
    read = ["record_idx", *(c for c in settings.columns if c in features.columns and c != "record_idx")]
    features = features.select(read)
    pairs = candidate_pairs(features, settings.blocking, "record_idx", identity_columns=read[1:])
    print(f"{features.height:,} records, {pairs.height:,} candidate pairs "
          f"({pairs.height / features.height:.2f} a record), prepared in {time.perf_counter() - start:.1f} s")  # fmt: skip
    scoring = InMemoryScoring()
    summary = scoring.compare(pairs, features, settings, "record_idx")
    model = scoring.fit(features, summary, settings, "record_idx")
    del scoring
    tf = record_term_frequencies(features, settings.comparisons, settings.model.tf_minimum_population)
    with_tf = features.with_columns(tf.values())
    with tempfile.TemporaryDirectory(prefix="bench-pair-chunks-") as folder:
        root = Path(folder)
        (root / "model.pickle").write_bytes(pickle.dumps(model))
        with_tf.write_parquet(root / "records-all.parquet", compression="zstd", statistics=False)
        rows = []
        for size in sizes:
            part = pairs.slice(0, size)
            named = records_of_pairs(with_tf, part, "record_idx")
            part.write_parquet(root / f"pairs-{size}.parquet", compression="zstd", statistics=False)
            named.write_parquet(root / f"records-{size}.parquet", compression="zstd", statistics=False)
            chunk = _in_subprocess(root, size, whole=False)
            peer = _in_subprocess(root, size, whole=True)
            rows.append((size, named.height, chunk, peer))
        print(f"\n## One pair chunk's tasks ({features.height:,} records, one fresh process each)\n")
        print("| chunk pairs | records named | compare s | score s | s per 1M pairs | peak RSS MiB "
              "(after imports) | Parquet MB | peer: every record in memory, peak MiB / s |")  # fmt: skip
        print("|---:|---:|---:|---:|---:|---:|---:|---|")
        for _size, named_rows, chunk, peer in rows:
            seconds = chunk["compare_s"] + chunk["score_s"]
            print(f"| {chunk['pairs']:,} | {named_rows:,} | {chunk['compare_s']:.2f} | {chunk['score_s']:.2f} | "
                  f"{seconds / chunk['pairs'] * 1e6:.2f} | {chunk['peak_mb']:,.0f} ({chunk['baseline_mb']:,.0f}) | "
                  f"{chunk['parquet_mb']:,.1f} | {peer['peak_mb']:,.0f} / {peer['compare_s'] + peer['score_s']:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
