"""Time the tag, validate and report stages alone, on a copy of a published run's DuckDB file.

Run:
    .venv/bin/python bench/bench_stages.py PUBLISHED.duckdb OUT_FOLDER [--profile] [--only tag,validate,report]

The published file is never written: it is copied into a staging file (flows/load.py) that is
discarded at the end. The raw rows the `raw_*` suites validate are rebuilt from the file's
`input_rows` (every file as kept, flows/inputs.py). Each stage runs the same functions as its
task in flows/tasks.py; per stage it prints wall time, the memory it added above what the process
held when it started (sampled), and writes the staged result to OUT_FOLDER/crm.duckdb and the
report files to OUT_FOLDER/reports/<run_id>/, so bench/same_tables.py can compare two runs.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import pstats
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm_etl.flows.handouts import write_handouts
from crm_etl.flows.inputs import combine_inputs
from crm_etl.flows.load import StagedDatabase, create_row_placements
from crm_etl.flows.profile import apply_tag_rules, build_customer_features, create_views
from crm_etl.flows.report import render_run_report
from crm_etl.flows.review import REVIEW_FILE, write_review_file
from crm_etl.flows.tasks import Run, measure
from crm_etl.flows.validation import build_suites, run_suites, suite_parameters
from crm_etl.schemas.contracts import load_contracts

AS_OF = dt.date(2024, 6, 30)
PAGE = 4096


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE / 2**20


@contextmanager
def _stage(name: str, figures: dict[str, Any], profile: bool) -> Iterator[None]:
    start_rss = _rss_mb()
    peak = [start_rss]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.01):
            peak[0] = max(peak[0], _rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    try:
        yield
    finally:
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        peak[0] = max(peak[0], _rss_mb())
        figures[name] = {
            "seconds": round(seconds, 2),
            "added_mb": round(peak[0] - start_rss),
            "rss_mb": round(peak[0]),
        }
        print(
            f"{name:<10} {seconds:7.2f} s  +{peak[0] - start_rss:7.0f} MiB  (peak {peak[0]:,.0f} MiB)",
            flush=True,
        )
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(
                int(__import__("os").environ.get("NSTATS", "25"))
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("published", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--only", default="tag,validate,report")
    args = parser.parse_args(argv)
    stages = set(args.only.split(","))
    contracts = load_contracts()
    config = contracts.config
    suites = build_suites(contracts.suites, config)
    args.out.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {}
    with StagedDatabase(args.published) as staged:
        run_id = staged.published_run_id
        assert run_id is not None
        run = Run(
            run_id=run_id,
            started_at=dt.datetime.now(dt.UTC),
            as_of=AS_OF,
            inbox=Path("."),
            db=args.published,
            reports=args.out / "reports",
            lang=contracts.report.default_language,
            contracts=contracts,
        )
        con = staged.connection
        extracted, _ = combine_inputs(staged, [], config, run_id)
        import polars as pl

        rows_read = pl.concat(
            [f.select("source_file", "source_sheet", "source_row") for f in extracted.records.values()]
        )
        con.register("_rows_read", rows_read.to_arrow())
        del rows_read
        if "validate" in stages:  # measure writes this run's figures again
            con.execute("DELETE FROM run_kpis WHERE run_id = ?", [run_id])
        steps: list[tuple[str, Callable[[], Any]]] = []

        def tag() -> None:
            build_customer_features(con, contracts.segments, contracts.industries.broad_groups, run.as_of)
            apply_tag_rules(con, contracts.tag_rules)
            create_views(con)

        checks: list[Any] = []

        def validate() -> None:
            for record_type, frame in extracted.records.items():
                con.register(f"raw_{record_type}", frame.to_arrow())
            create_row_placements(staged, run_id)
            result = run_suites(
                con,
                suites,
                suite_parameters(config, run.as_of),
                run.folder / "gx-data-docs",
                contracts.report.sample_rows,
            )
            checks.extend(result.checks)
            measure(staged, run)

        def report() -> None:
            for name, step in (
                (
                    "  html",
                    lambda: render_run_report(con, run.reports, run_id, config, contracts.report, run.lang),
                ),
                ("  handouts", lambda: write_handouts(con, run.folder, run_id, contracts)),
                ("  review", lambda: write_review_file(con, run.folder / REVIEW_FILE, run_id, config)),
            ):
                started = time.perf_counter()
                step()
                print(f"{name:<10} {time.perf_counter() - started:7.2f} s", flush=True)

        steps = [("tag", tag), ("validate", validate), ("report", report)]
        with staged.transaction():
            for name, step in steps:
                if name in stages:
                    with _stage(name, figures, args.profile):
                        step()
        (args.out / "checks.json").write_text(
            json.dumps([c.__dict__ for c in checks], ensure_ascii=False, indent=1, default=str), "utf-8"
        )
        con.execute("CHECKPOINT")
        shutil.copy(staged.path, args.out / "crm.duckdb")
    (args.out / "figures.json").write_text(json.dumps(figures, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
