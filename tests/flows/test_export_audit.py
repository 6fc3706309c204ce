"""The audit line every export stores in the DuckDB file (export_log)."""

from __future__ import annotations

import datetime as dt
import json

import duckdb

from crm_etl.flows.export import export_database
from crm_etl.flows.export_audit import os_user
from tests.flows.crafted import load_crafted, new_database


def test_a_file_published_before_the_audit_table_gets_it_with_every_column_commented(tmp_path):
    db = tmp_path / "crm.duckdb"
    con = new_database(db)
    load_crafted(con, {"C1": {}, "C2": {}})
    con.execute("DROP TABLE export_log")
    con.close()
    before = dt.datetime.now(dt.UTC)
    export_database(db, tmp_path / "all", "csv", ["customers", "orders"])
    export_database(db, tmp_path / "one", "csv", owners=["张伟"])
    with duckdb.connect(str(db), read_only=True) as con:
        lines = con.execute(
            "SELECT exported_at, exported_by, owners, format, out_dir, tables, table_rows, masked_columns "
            "FROM export_log ORDER BY exported_at"
        ).fetchall()
        comments = con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'export_log'"
        ).fetchall()
        table_comment = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = 'export_log'"
        ).fetchone()
    assert table_comment[0] and all(comment for _, comment in comments)
    (at, by, owners, fmt, out, tables, rows, masked), second = lines
    assert at >= before and by == os_user() and owners is None and fmt == "csv"
    assert out == str((tmp_path / "all").resolve()) and tables == ["customers", "orders"]
    assert json.loads(rows) == {"customers": 2, "orders": 0} and masked == []
    assert second[2] == ["张伟"] and json.loads(second[6])["customers"] == 2


def test_a_line_that_cannot_be_stored_now_waits_beside_the_file_and_is_stored_once_later(tmp_path):
    from crm_etl.flows.export_audit import pending_path

    db = tmp_path / "crm.duckdb"
    con = new_database(db)
    load_crafted(con, {"C1": {}})
    con.close()
    reader = duckdb.connect(str(db), read_only=True)  # a BI tool holding the file open
    try:
        export_database(db, tmp_path / "a", "csv", ["customers"])
        assert pending_path(db).is_file()
    finally:
        reader.close()
    export_database(db, tmp_path / "b", "csv", ["orders"])
    assert not pending_path(db).exists()
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute("SELECT tables FROM export_log ORDER BY exported_at").fetchall()
    assert stored == [(["customers"],), (["orders"],)]
