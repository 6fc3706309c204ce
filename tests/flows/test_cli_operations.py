"""The CLI options of incremental runs, and `crm-etl runs` after them."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from crm_etl.flows.cli import app
from crm_etl.flows.snapshots import snapshot_dir
from tests.flows.conftest import write_ledger
from tests.flows.processes import sha256

runner = CliRunner()


def _flat(output: str) -> str:
    return " ".join(output.split())


def test_move_processed_keep_snapshots_and_the_runs_listing(prefect_harness, tmp_path, inbox):
    db, reports = tmp_path / "crm.duckdb", tmp_path / "reports"
    a = write_ledger(inbox / "a.xlsx", [["上海甲公司", "张三", "13800138000", dt.date(2024, 5, 1), "张伟"]])
    a_sha = sha256(a)
    common = ["--inbox", str(inbox), "--db", str(db), "--reports", str(reports), "--as-of", "2024-06-30"]

    first = runner.invoke(app, ["run", *common, "--move-processed"])
    assert first.exit_code == 0, first.output
    assert "moved to processed/" in _flat(first.output)
    assert not (inbox / "a.xlsx").exists()
    [moved] = (inbox / "processed").rglob("a.xlsx")
    assert sha256(moved) == a_sha

    write_ledger(inbox / "b.xlsx", [["杭州乙公司", "李四", "13900139000", dt.date(2024, 5, 2), "王芳"]])
    second = runner.invoke(app, ["run", *common, "--keep-snapshots", "1"])
    assert second.exit_code == 0, second.output
    assert "kept from the database (not read in this run): a.xlsx" in _flat(second.output)
    assert len(list(snapshot_dir(db).iterdir())) == 1
    third = runner.invoke(app, ["run", *common, "--keep-snapshots", "1"])
    assert third.exit_code == 0, third.output
    assert "read from the cache): b.xlsx" in _flat(third.output)
    assert len(list(snapshot_dir(db).iterdir())) == 1

    listed = runner.invoke(app, ["runs", "--db", str(db)])
    assert listed.exit_code == 0, listed.output
    text = listed.output
    assert f"a.xlsx  {a_sha[:12]}" in text and f"{a_sha[:12]} kept from" in text
    assert "before 1 → after 2" in text and "read 1 · loaded 1 · quarantined 0" in text
    assert "read 2 · loaded 2 · quarantined 0" in text
    assert text.count("validation") == 3 and "passed" in text

    as_json = json.loads(runner.invoke(app, ["runs", "--db", str(db), "--json", "--limit", "2"]).output)
    assert len(as_json) == 2
    newest = as_json[0]
    assert (newest["customers_before"], newest["customers"]) == (2, 2)
    entries = {e["file"]: e for e in newest["input_files"]}
    assert entries["a.xlsx"]["sha256"] == a_sha and entries["a.xlsx"]["status"] == "kept"
    assert entries["b.xlsx"]["status"] == "read"
    assert newest["checks"] > 0 and newest["critical_failed"] == 0
