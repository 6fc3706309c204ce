"""Benchmark validation + report: the GX suites, the KPIs and the HTML report, on the samples and on 100,000 records.

Run: .venv/bin/python bench/bench_validation.py [--records 100000] [--skip-samples]

The samples dataset is the real flow's result on data/samples/ (run once through `crm-etl run`);
the large one is a generated staged database (customers, contacts, lineage, raw rows, follow-ups)
with realistic gaps. Each phase is timed on the same open database the flow validates:

  validate        every suite of schemas/expectations/ with Great Expectations (Data Docs included)
  validate-nodocs the same without building Data Docs
  measure         the report's figures (schemas/kpis.yaml) into run_kpis
  report          the self-contained HTML report (run folder + latest/)
  handouts        per-owner worklists and the audit sample (xlsx)
  peer            plain polars: the customers suite's null, format, uniqueness and set checks

Importing Great Expectations and instantiating the suites happen once per process and are shown apart.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import polars as pl

from crm_etl.cleaners.dedupe.survivorship import completeness
from crm_etl.cleaners.quality import field_completeness
from crm_etl.flows.extract import empty_records, extract_inbox
from crm_etl.flows.load import StagedDatabase, create_row_placements
from crm_etl.flows.report import write_report_from
from crm_etl.schemas import load_config
from crm_etl.schemas.suites import load_report_settings, load_suites

REPO = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2024, 6, 30)
OWNERS = [f"销售{i:02d}" for i in range(1, 21)]
INDUSTRIES = [("制造业", "C"), ("批发和零售业", "F"), ("信息传输、软件和信息技术服务业", "I"), ("教育", "P")]
STAGES = [("prospect", "lead"), ("prospect", "intent"), ("customer", "deal"), ("churned", "churned")]


def _timed(figures: dict[str, float], label: str, run: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = run()
    figures[label] = time.perf_counter() - started
    return result


def _maybe(rng: random.Random, share: float, value: Any) -> Any:
    return value if rng.random() < share else None


def generated_records(n: int, seed: int = 5) -> dict[str, pl.DataFrame]:
    """A staged run of `n` customers: golden rows, contacts, lineage, quarantine, follow-ups and raw rows."""
    rng = random.Random(seed)
    start = dt.date(2019, 1, 1)
    rows = []
    for i in range(n):
        industry, code = rng.choice(INDUSTRIES)
        ctype, stage = rng.choice(STAGES)
        first = start + dt.timedelta(days=rng.randrange((AS_OF - start).days))
        rows.append(
            {
                "customer_id": f"C{first:%Y%m%d}{i:06d}",
                "customer_name": f"上海{i}号科技有限公司",
                "company_key": f"{i}号科技",
                "contact_name": _maybe(rng, 0.93, "张三"),
                "contact_title": _maybe(rng, 0.5, "经理"),
                "mobile": _maybe(rng, 0.86, f"+861{rng.randrange(3, 10)}{rng.randrange(10**9):09d}"),
                "phone": _maybe(rng, 0.25, f"+8621{rng.randrange(10**8):08d}"),
                "email": _maybe(rng, 0.6, f"user{i}@example.com"),
                "industry": _maybe(rng, 0.93, industry),
                "industry_code": code,
                "customer_type": _maybe(rng, 0.9, ctype),
                "customer_stage": stage,
                "first_contact_date": _maybe(rng, 0.97, first),
                "source_channel": _maybe(rng, 0.92, rng.choice(["展会", "官网", "转介绍"])),
                "owner": _maybe(rng, 0.94, rng.choice(OWNERS)),
            }
        )
    customers = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.when(pl.col("industry").is_null())
        .then(None)
        .otherwise(pl.col("industry_code"))
        .alias("industry_code"),
        pl.when(pl.col("customer_type").is_null())
        .then(None)
        .otherwise(pl.col("customer_stage"))
        .alias("customer_stage"),
    )
    customers = completeness(customers, load_config().pipeline.completeness_fields)
    contacts = customers.select(
        (pl.col("customer_id") + "-01").alias("contact_id"),
        "customer_id",
        pl.col("contact_name").alias("name"),
        pl.col("contact_title").alias("title"),
        "mobile",
        "email",
        pl.lit(True).alias("is_primary"),
    )
    extra = max(n // 10, 1)
    raw_customers = pl.DataFrame(
        {
            "source_system": ["excel_ledger"] * (n + extra),
            "source_spec": [
                rng.choice(["excel_ledger", "legacy_crm_accounts", "web_form"]) for _ in range(n + extra)
            ],
            "source_file": [f"ledger_{i % 50:02d}.xlsx" for i in range(n + extra)],
            "source_sheet": ["客户"] * (n + extra),
            "source_row": [i // 50 + 3 for i in range(n + extra)],
            "customer_name": [_maybe(rng, 0.97, f"上海{i}号科技有限公司") for i in range(n + extra)],
            "contact_name": [_maybe(rng, 0.93, "张三") for _ in range(n + extra)],
            "mobile": [
                _maybe(rng, 0.9, rng.choice(["138 0013 8000", "+86 139-1234-5678", "无"]))
                for _ in range(n + extra)
            ],
            "first_contact_date": [_maybe(rng, 0.95, "2024/5/1") for _ in range(n + extra)],
        }
    )
    loaded = raw_customers.head(n + extra - extra // 5)
    sources = loaded.select(
        "source_system",
        "source_spec",
        "source_file",
        "source_sheet",
        "source_row",
        pl.Series("customer_id", [rows[i % n]["customer_id"] for i in range(loaded.height)]),
        pl.Series(
            "issues",
            [["mobile:phone_invalid_length"] if rng.random() < 0.03 else [] for _ in range(loaded.height)],
            dtype=pl.List(pl.String),
        ),
    )
    quarantine = raw_customers.tail(extra // 5).select(
        "source_file",
        "source_sheet",
        "source_row",
        pl.lit("blank_row").alias("reason"),
        pl.lit("customer").alias("record_type"),
    )
    m = n // 2
    raw_interactions = pl.DataFrame(
        {
            "source_system": ["legacy_crm"] * m,
            "source_spec": ["legacy_crm_interactions"] * m,
            "source_file": ["activities.csv"] * m,
            "source_sheet": [""] * m,
            "source_row": list(range(2, m + 2)),
            "customer_ref": [f"L{i}" for i in range(m)],
            "customer_name": [None] * m,
            "date": ["2024-05-01"] * m,
            "channel": ["电话"] * m,
            "owner": [rng.choice(OWNERS) for _ in range(m)],
        }
    )
    interactions = raw_interactions.select(
        pl.Series("customer_id", [rows[rng.randrange(n)]["customer_id"] for _ in range(m)]),
        pl.Series("date", [AS_OF - dt.timedelta(days=rng.randrange(120)) for _ in range(m)]),
        "channel",
        "source_file",
        "source_sheet",
        "source_row",
    )
    return {
        "customers": customers,
        "contacts": contacts,
        "customer_sources": sources,
        "quarantine": quarantine,
        "interactions": interactions,
        "raw_customers": raw_customers,
        "raw_interactions": raw_interactions,
    }


def _stage_generated(staged: StagedDatabase, records: int) -> str:
    frames = generated_records(records)
    for table in ("customers", "contacts", "customer_sources", "quarantine", "interactions"):
        staged.insert(table, frames[table])
    con = staged.connection
    config = load_config()
    for record_type in ("customers", "interactions"):
        # Every column extraction gives a raw frame, the generated ones filled in.
        full = pl.concat(
            [empty_records(config, record_type), frames[f"raw_{record_type}"]], how="diagonal_relaxed"
        )
        con.register(f"raw_{record_type}", full.to_arrow())
    con.register("raw_orders", empty_records(config, "orders").to_arrow())
    lineage = pl.concat(
        [
            f.select("source_file", "source_sheet", "source_row")
            for f in (frames["raw_customers"], frames["raw_interactions"])
        ]
    )
    con.register("_rows_read", lineage.to_arrow())
    run_id = "RBENCH-generated"
    con.execute("UPDATE customer_sources SET run_id = ?", [run_id])
    con.execute("UPDATE quarantine SET run_id = ?", [run_id])
    con.execute(
        """INSERT INTO runs (run_id, started_at, finished_at, status, as_of, rows_read, rows_loaded, rows_quarantined,
                             customers_before, customers, records_merged, files_failed)
           VALUES (?, now(), now(), 'published', ?, ?, ?, ?, 0, ?, ?, 0)""",
        [
            run_id,
            AS_OF,
            lineage.height,
            lineage.height - frames["quarantine"].height,
            frames["quarantine"].height,
            records,
            frames["customer_sources"].height - records,
        ],
    )
    return run_id


def _stage_samples(staged: StagedDatabase) -> str:
    config = load_config()
    extracted = extract_inbox(REPO / "data" / "samples", config)
    con = staged.connection
    for record_type, frame in extracted.records.items():
        con.register(f"raw_{record_type}", frame.to_arrow())
    con.register(
        "_rows_read",
        pl.concat(
            [f.select("source_file", "source_sheet", "source_row") for f in extracted.records.values()]
        ).to_arrow(),
    )
    run_id = con.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()[0]
    con.execute("DELETE FROM validation_results WHERE run_id = ?", [run_id])
    con.execute("DELETE FROM run_kpis WHERE run_id = ?", [run_id])
    return run_id


def _peer(staged: StagedDatabase, fields: list[str]) -> None:
    """The customers suite's checks in plain polars: completeness, formats, uniqueness, accepted values."""
    customers = staged.query("SELECT * EXCLUDE (tags, field_sources, other_phones) FROM customers")
    field_completeness(customers, fields)
    customers.select(
        pl.col("customer_id").is_duplicated().sum(),
        (~pl.col("mobile").str.contains(r"^\+861\d{10}$")).sum(),
        (~pl.col("customer_type").is_in(["prospect", "customer", "churned"])).sum(),
        ((pl.col("first_contact_date") < dt.date(1980, 1, 1)) | (pl.col("first_contact_date") > AS_OF)).sum(),
        pl.col("completeness").mean(),
    )


def bench(label: str, db: Path, stage: Callable[[StagedDatabase], str], out: Path) -> dict[str, float]:
    """Time every phase of validation + report on one staged database."""
    from crm_etl.flows.handouts import write_audit_sample, write_worklists
    from crm_etl.flows.tasks import measure
    from crm_etl.flows.validation import build_suites, run_suites, suite_parameters

    config = load_config()
    settings = load_report_settings()
    figures: dict[str, float] = {}
    suites = _timed(figures, "build suites", lambda: build_suites(load_suites(config), config))
    with StagedDatabase(db) as staged:
        run_id = stage(staged)
        create_row_placements(staged, run_id)
        con = staged.connection
        customers = con.execute("SELECT count(*) FROM customers").fetchone()[0]
        params = suite_parameters(config, AS_OF)
        run_suites(con, suites[:1], params)  # warm GX's metric providers once
        result = _timed(figures, "validate", lambda: run_suites(con, suites, params, out / "docs", 10))
        _timed(figures, "validate-nodocs", lambda: run_suites(con, suites, params, None, 10))
        _timed(figures, "measure", lambda: measure.fn(staged, run_id, config, settings, AS_OF))
        rows = pl.DataFrame([c.as_row(run_id) for c in result.checks], infer_schema_length=None)
        _timed(figures, "record", lambda: staged.insert("validation_results", rows))
        _timed(
            figures, "report", lambda: write_report_from(con, out / "reports", run_id, config, "zh-CN", True)
        )
        _timed(
            figures,
            "handouts",
            lambda: (
                write_worklists(con, out / "reports" / run_id / "worklists", run_id),
                write_audit_sample(con, out / "reports" / run_id / "audit-sample.xlsx", run_id, 0.1),
            ),
        )
        _timed(figures, "peer", lambda: _peer(staged, config.pipeline.completeness_fields))
    checks = len(result.checks)
    failing = sum(not c.success for c in result.checks)
    critical = len(result.critical_failures)
    total = figures["validate"] + figures["measure"] + figures["record"] + figures["report"]
    print(
        f"\n{label}: {customers:,} customers, {len(suites)} suites, {checks} expectations ({failing} failing, {critical} critical)"
    )
    for phase in (
        "build suites",
        "validate",
        "validate-nodocs",
        "measure",
        "record",
        "report",
        "handouts",
        "peer",
    ):
        print(f"  {phase:<16} {figures[phase]:7.2f} s")
    print(f"  {'validation+report':<16} {total:7.2f} s  (validate + measure + record + report)")
    figures["total"] = total
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--skip-samples", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    import great_expectations  # noqa: F401

    print(f"import great_expectations: {time.perf_counter() - started:.2f} s (once per process)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if not args.skip_samples:
            # The samples' result as the flow publishes it (Prefect local mode, so this takes a while).
            subprocess.run(
                [
                    str(Path(sys.executable).parent / "crm-etl"),
                    "run",
                    "--inbox",
                    str(REPO / "data" / "samples"),
                    "--db",
                    str(root / "samples.duckdb"),
                    "--reports",
                    str(root / "flow-reports"),
                    "--as-of",
                    AS_OF.isoformat(),
                ],
                check=True,
                capture_output=True,
            )
            bench("samples", root / "samples.duckdb", _stage_samples, root / "samples")
        (root / "generated").mkdir()
        bench(
            f"generated ({args.records:,} customers)",
            root / "generated.duckdb",
            lambda staged: _stage_generated(staged, args.records),
            root / "generated",
        )
        shutil.rmtree(root / "generated", ignore_errors=True)
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
