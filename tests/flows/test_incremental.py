"""Reruns, new exports and corrected re-exports, with the real flow, real files and a real DuckDB file."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

from crm_etl.flows.migrate import migrate
from tests import samples_truth as truth
from tests.conftest import SAMPLES
from tests.flows.conftest import write_ledger
from tests.flows.processes import HISTORY_TABLES, contents, run_ids, tables

AS_OF = dt.date.fromisoformat(truth.AS_OF_DATE)
LEDGER_HEADER = ["客户编号", "客户名称", "联系人", "手机", "首次接触时间", "负责人"]


def _run(inbox: Path, db: Path, **options):
    return migrate(inbox=inbox, db=db, reports=db.parent / "reports", as_of=AS_OF, **options)


def _query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def rerun(prefect_harness, tmp_path_factory):
    """The samples run twice on the same inbox, with the database as it was after each run."""
    out = tmp_path_factory.mktemp("rerun")
    inbox = out / "inbox"
    shutil.copytree(SAMPLES, inbox)
    db = out / "crm.duckdb"
    first = _run(inbox, db)
    after_first = out / "after_first.duckdb"
    shutil.copyfile(db, after_first)
    second = _run(inbox, db)
    return first, second, after_first, db


def test_rerun_on_the_same_inbox_gives_identical_tables(rerun):
    first, second, after_first, db = rerun
    assert run_ids(db) == [first.run_id, second.run_id]
    assert set(tables(db)) == set(tables(after_first))
    # Current-state tables (everything but the history tables): the same rows, table by table.
    before, after = contents(after_first), contents(db)
    for table in sorted(set(before) - set(HISTORY_TABLES)):
        assert after[table] == before[table], table
        # The samples hold no pair the model is unsure about: match_review stays empty there;
        # export_log is written by `crm-etl export`, never by a run.
        assert before[table] or table in {"contacts", "match_review", "export_log"}, (
            f"{table} is empty: the comparison proves nothing"
        )
    # History tables: the second run recorded exactly what the first did, and the first run's rows are untouched.
    for table in HISTORY_TABLES:
        assert contents(db, second.run_id)[table] == contents(after_first, first.run_id)[table], table
        assert contents(db, first.run_id)[table] == contents(after_first, first.run_id)[table], table


def test_rerun_keeps_ids_and_adds_no_duplicates(rerun):
    first, second, _, db = rerun
    # Every file version is still the one the first run read.
    assert {r for (r,) in _query(db, "SELECT run_id FROM input_files")} == {first.run_id}
    assert second.customers_before == first.customers == second.customers
    duplicated = _query(
        db,
        """SELECT source_file, source_sheet, source_row, count(*) FROM customer_sources
           GROUP BY ALL HAVING count(*) > 1""",
    )
    assert duplicated == []
    assert _query(db, "SELECT count(*) FROM customers")[0][0] == first.customers


def test_unchanged_files_come_from_the_prefect_cache(rerun):
    first, second, _, _ = rerun
    assert first.files_cached == []
    every_file = sorted(str(p.relative_to(SAMPLES).as_posix()) for p in SAMPLES.rglob("*") if p.is_file())
    assert sorted(second.files_cached) == every_file


def test_a_changed_file_is_extracted_again_and_the_others_come_from_the_cache(
    prefect_harness, tmp_path, inbox
):
    write_ledger(inbox / "a.xlsx", [["上海甲公司", "张三", "13800138000", dt.date(2024, 5, 1), "张伟"]])
    write_ledger(inbox / "b.xlsx", [["杭州乙公司", "李四", "13900139000", dt.date(2024, 5, 2), "王芳"]])
    db = tmp_path / "crm.duckdb"
    assert _run(inbox, db).files_cached == []
    assert sorted(_run(inbox, db).files_cached) == ["a.xlsx", "b.xlsx"]
    write_ledger(inbox / "b.xlsx", [["杭州乙公司", "李四", "13900139001", dt.date(2024, 5, 2), "王芳"]])
    third = _run(inbox, db)
    assert third.files_cached == ["a.xlsx"]
    assert _query(db, "SELECT mobile FROM customers WHERE customer_name = '杭州乙公司'") == [
        ("+8613900139001",)
    ]


def _new_export(path: Path, known: tuple[str, str, str]) -> Path:
    """A ledger from another rep: one known customer (same contact and mobile, its name written
    with a different legal suffix), one new one."""
    name, contact, mobile = known
    return write_ledger(
        path,
        [
            [
                "",
                f"{name.removesuffix('有限公司')}股份有限公司",
                contact,
                mobile.removeprefix("+86"),
                dt.date(2024, 6, 1),
                "王芳",
            ],
            ["", "鲲鹏试验数据有限公司", "钱七", "15999990001", dt.date(2024, 6, 2), "王芳"],
        ],
        header=LEDGER_HEADER,
        title=None,
    )


LOADED_RECORDS = """SELECT source_file, source_sheet, source_row, source_key, customer_id, issues, record, raw
                    FROM customer_sources WHERE source_file <> 'rep_wang.xlsx' ORDER BY ALL"""


def test_new_export_merges_into_existing_customers_with_stable_ids(prefect_harness, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLES, inbox)
    db = tmp_path / "crm.duckdb"
    first = _run(inbox, db, move_processed_files=True)
    # Every sample file was loaded and moved out of the way, after the run published.
    assert sorted(first.files_moved) == sorted(
        p.relative_to(SAMPLES).as_posix() for p in SAMPLES.rglob("*") if p.is_file()
    )
    assert [p for p in inbox.rglob("*") if p.is_file() and "processed" not in p.parts] == []
    assert (inbox / "processed" / first.run_id / "web_forms.jsonl").is_file()
    before = contents(db)
    records_before = _query(db, LOADED_RECORDS)
    # A run with nothing new in the inbox (the nightly case) publishes the same state again.
    quiet = _run(inbox, db, move_processed_files=True)
    assert quiet.files_moved == [] and quiet.rows_read == first.rows_read
    assert {t: rows for t, rows in contents(db).items() if t not in HISTORY_TABLES} == {
        t: rows for t, rows in before.items() if t not in HISTORY_TABLES
    }
    known_id, *known = _query(
        db,
        """SELECT customer_id, customer_name, contact_name, mobile FROM customers
           WHERE mobile IS NOT NULL AND contact_name IS NOT NULL ORDER BY customer_id LIMIT 1""",
    )[0]

    _new_export(inbox / "rep_wang.xlsx", tuple(known))
    second = _run(inbox, db, move_processed_files=True)

    assert sorted(second.files_kept) == sorted(first.files_moved)
    assert second.customers_before == first.customers and second.customers == first.customers + 1
    after = contents(db)
    # Every record loaded before is still there, unchanged, with the same customer ID.
    # (Only match_score / match_reason may change: a record the new one matched now has a duplicate.)
    assert _query(db, LOADED_RECORDS) == records_before
    assert [r for r in after["input_rows"] if r[0] != "rep_wang.xlsx"] == before["input_rows"]
    # The known customer's new record joined it; the new customer got an ID of its own.
    ids = dict(
        _query(db, "SELECT source_row, customer_id FROM customer_sources WHERE source_file = 'rep_wang.xlsx'")
    )
    assert ids[2] == known_id
    old_ids = {r[0] for r in before["customers"]}
    assert ids[3] not in old_ids and ids[3].startswith("C20240602")
    assert old_ids < {r[0] for r in after["customers"]}


# A record as loaded; match_score / match_reason describe its duplicates, which the re-export changes.
SOUTH_RECORDS = """SELECT source_file, source_sheet, source_row, source_key, customer_id, issues, record, raw
                   FROM customer_sources WHERE source_file = 'south.xlsx' ORDER BY source_row"""


def _ledger(path: Path, rows: list[list[object]]) -> Path:
    return write_ledger(path, rows, header=LEDGER_HEADER, title=None)


def test_corrected_export_supersedes_only_its_own_records(prefect_harness, tmp_path, inbox):
    _ledger(
        inbox / "east.xlsx",
        [
            ["C20240101001", "上海甲公司", "张三", "13800138000", dt.date(2024, 1, 1), "张伟"],
            ["", "南京乙公司", "李四", "13900139000", dt.date(2024, 2, 1), "张伟"],
            ["", "苏州丙公司", "王五", "13700137000", dt.date(2024, 3, 1), "张伟"],
        ],
    )
    _ledger(
        inbox / "south.xlsx",
        [
            ["", "广州丁公司", "赵六", "13600136000", dt.date(2024, 4, 1), "李娜"],
            # The same company as east.xlsx's 苏州丙公司 (same mobile): it must survive that row's removal.
            ["", "苏州丙公司", "王五", "13700137000", dt.date(2024, 3, 1), "李娜"],
        ],
    )
    db = tmp_path / "crm.duckdb"
    first = _run(inbox, db, move_processed_files=True)
    south_before = _query(
        db,
        SOUTH_RECORDS,
    )
    ids_before = dict(_query(db, "SELECT customer_name, customer_id FROM customers"))

    # The rep re-exports east.xlsx: 上海甲公司's mobile corrected and moved to another row,
    # 南京乙公司 deleted, 苏州丙公司 deleted, a new customer added. south.xlsx is not in the inbox.
    _ledger(
        inbox / "east.xlsx",
        [
            ["", "杭州戊公司", "孙八", "13500135000", dt.date(2024, 5, 1), "张伟"],
            ["C20240101001", "上海甲公司", "张三", "13800138001", dt.date(2024, 1, 1), "张伟"],
        ],
    )
    second = _run(inbox, db)

    assert second.files_kept == ["south.xlsx"]
    east = _query(
        db,
        "SELECT source_row, customer_id, record->>'customer_name' FROM customer_sources WHERE source_file = 'east.xlsx' ORDER BY source_row",
    )
    assert [(row, name) for row, _, name in east] == [(2, "杭州戊公司"), (3, "上海甲公司")]
    # Matched by its own key (客户编号), the corrected record keeps its customer and brings its new mobile.
    assert east[1][1] == ids_before["上海甲公司"] == "C20240101001"
    assert _query(db, "SELECT mobile FROM customers WHERE customer_id = 'C20240101001'") == [
        ("+8613800138001",)
    ]
    names = {name for (name,) in _query(db, "SELECT customer_name FROM customers")}
    assert "南京乙公司" not in names
    # Records of the other file are untouched, down to their customer IDs.
    assert (
        _query(
            db,
            SOUTH_RECORDS,
        )
        == south_before
    )
    assert (
        dict(_query(db, "SELECT customer_name, customer_id FROM customers"))["苏州丙公司"]
        == ids_before["苏州丙公司"]
    )
    versions = dict(_query(db, "SELECT source_file, run_id FROM input_files"))
    assert versions == {"east.xlsx": second.run_id, "south.xlsx": first.run_id}


def test_unreadable_re_export_keeps_the_version_read_before(prefect_harness, tmp_path, inbox):
    _ledger(inbox / "east.xlsx", [["", "上海甲公司", "张三", "13800138000", dt.date(2024, 1, 1), "张伟"]])
    db = tmp_path / "crm.duckdb"
    first = _run(inbox, db)
    # The re-export has a second sheet nobody can recognise: a partial read never replaces a full one.
    workbook = openpyxl.Workbook()
    good = workbook.active
    good.title = "客户台账"
    good.append(LEDGER_HEADER)
    good.append(["", "另一家公司", "钱七", "13711112222", dt.date(2024, 6, 2), "张伟"])
    workbook.create_sheet("杂项").append(["随便", "写写"])
    workbook.save(inbox / "east.xlsx")

    second = _run(inbox, db)

    assert any("杂项" in message for message in second.failed_inputs)
    assert second.files_kept == ["east.xlsx"]
    assert _query(db, "SELECT customer_name FROM customers") == [("上海甲公司",)]
    assert _query(db, "SELECT source_file, run_id FROM input_files") == [("east.xlsx", first.run_id)]
