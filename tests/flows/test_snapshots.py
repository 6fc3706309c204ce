"""Snapshots taken before each publish, retention, and `crm-etl restore`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from typer.testing import CliRunner

from crm_etl.flows.cli import EXIT_INPUT, app
from crm_etl.flows.migrate import migrate
from crm_etl.flows.snapshots import snapshot_dir
from tests.flows.conftest import write_ledger
from tests.flows.processes import contents, run_ids, sha256

AS_OF = dt.date(2024, 6, 30)
runner = CliRunner()


def _run(inbox: Path, db: Path, **options):
    return migrate(inbox=inbox, db=db, reports=db.parent / "reports", as_of=AS_OF, **options)


def _flat(output: str) -> str:
    return " ".join(output.split())


def test_restore_brings_back_the_database_a_run_published(prefect_harness, tmp_path, inbox):
    db = tmp_path / "crm.duckdb"
    write_ledger(inbox / "a.xlsx", [["上海甲公司", "张三", "13800138000", dt.date(2024, 5, 1), "张伟"]])
    first = _run(inbox, db)
    after_first = sha256(db)
    assert first.snapshot is None  # nothing was published before
    write_ledger(inbox / "b.xlsx", [["杭州乙公司", "李四", "13900139000", dt.date(2024, 5, 2), "王芳"]])
    second = _run(inbox, db)
    after_second, second_tables = sha256(db), contents(db)
    assert second.snapshot == str(snapshot_dir(db) / f"{first.run_id}.duckdb")
    assert sha256(Path(second.snapshot)) == after_first

    listed = runner.invoke(app, ["restore", "--list", "--db", str(db)])
    assert listed.exit_code == 0 and first.run_id in listed.output

    restored = runner.invoke(app, ["restore", first.run_id, "--db", str(db)])
    assert restored.exit_code == 0, restored.output
    assert sha256(db) == after_first
    assert run_ids(db) == [first.run_id]
    # The replaced file was kept first, so the restore can be undone.
    assert f"{second.run_id}.duckdb" in _flat(restored.output)
    undone = runner.invoke(app, ["restore", second.run_id, "--db", str(db)])
    assert undone.exit_code == 0, undone.output
    assert sha256(db) == after_second and contents(db) == second_tables

    again = runner.invoke(app, ["restore", second.run_id, "--db", str(db)])
    assert again.exit_code == 0 and "already holds" in _flat(again.output)
    unknown = runner.invoke(app, ["restore", "R0", "--db", str(db)])
    assert unknown.exit_code == EXIT_INPUT
    assert "no snapshot of run 'R0'" in _flat(unknown.output) and first.run_id in unknown.output
    assert runner.invoke(app, ["restore", "--db", str(db)]).exit_code == EXIT_INPUT

    # The next run builds on the restored state as on any other.
    third = _run(inbox, db)
    assert third.customers_before == 2 and third.customers == 2


def test_only_the_newest_snapshots_are_kept(prefect_harness, tmp_path, inbox):
    db = tmp_path / "crm.duckdb"
    runs = []
    for day in range(1, 5):
        write_ledger(
            inbox / f"day{day}.xlsx",
            [[f"第{day}公司", "张三", f"1380013800{day}", dt.date(2024, 5, day), "张伟"]],
        )
        runs.append(_run(inbox, db, keep_snapshots=2).run_id)
    kept = sorted(p.name for p in snapshot_dir(db).iterdir())
    assert kept == [f"{runs[1]}.duckdb", f"{runs[2]}.duckdb"]


def test_no_snapshots_when_keep_is_zero(prefect_harness, tmp_path, inbox):
    db = tmp_path / "crm.duckdb"
    write_ledger(inbox / "a.xlsx", [["上海甲公司", "张三", "13800138000", dt.date(2024, 5, 1), "张伟"]])
    _run(inbox, db, keep_snapshots=0)
    assert _run(inbox, db, keep_snapshots=0).snapshot is None
    assert not snapshot_dir(db).exists()
