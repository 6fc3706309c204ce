"""Table and column comments carried by `crm-etl export`: Parquet metadata read back with pyarrow, and the README."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pyarrow.parquet as pq
import pytest

from crm_etl.flows.export import export_database
from tests.flows.crafted import load_crafted, new_database, profile_and_tag


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("export_docs") / "crm.duckdb"
    con = new_database(path)
    load_crafted(
        con,
        {"C1": {"buyer": True, "orders": [(dt.date(2024, 6, 1), 10.0, "A")]}, "C2": {}},
    )
    profile_and_tag(con)
    con.close()
    return path


def _comments(db, name):
    with duckdb.connect(str(db), read_only=True) as con:
        table = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = ? UNION ALL SELECT comment FROM duckdb_views() WHERE view_name = ?",
            [name, name],
        ).fetchone()[0]
        columns = dict(
            con.execute(
                "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ?", [name]
            ).fetchall()
        )
    return table, columns


@pytest.mark.parametrize("name", ["customers", "orders", "customer_sources", "v_客户基本信息"])
def test_parquet_files_carry_the_table_and_column_comments(db, tmp_path, name):
    export_database(db, tmp_path, "parquet", [name])
    schema = pq.read_schema(tmp_path / f"{name}.parquet")
    table, columns = _comments(db, name)
    assert table and schema.metadata[b"comment"].decode() == table
    commented = {c: text for c, text in columns.items() if text}
    assert commented, name
    for column, text in commented.items():
        assert schema.field(column).metadata[b"comment"].decode() == text, column
    # The footer's key-value metadata, as DuckDB itself reads it back.
    with duckdb.connect() as con:
        keys = {
            k
            for (k,) in con.execute(
                f"SELECT key FROM parquet_kv_metadata('{tmp_path / name}.parquet')"
            ).fetchall()
        }
    assert b"comment" in keys


def test_json_columns_stay_json_in_parquet(db, tmp_path):
    export_database(db, tmp_path, "parquet", ["customers"])
    with duckdb.connect() as con:
        types = dict(
            con.execute(
                f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '{tmp_path}/customers.parquet')"
            ).fetchall()
        )
    assert types["field_sources"] == "JSON" and types["tags"] == "VARCHAR[]"


@pytest.mark.parametrize("fmt", ["parquet", "csv", "xlsx"])
def test_the_readme_lists_each_file_with_its_rows_and_commented_columns(db, tmp_path, fmt):
    export_database(db, tmp_path, fmt, ["customers", "orders"])
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert f"| [customers.{fmt}](customers.{fmt}) | 2 |" in readme
    assert f"| [orders.{fmt}](orders.{fmt}) | 1 |" in readme
    _, columns = _comments(db, "customers")
    section = readme.split(f"## customers.{fmt}")[1].split("## ")[0]
    for column, text in columns.items():
        assert re.search(
            rf"^\| {re.escape(column)} \| [^|]+ \| {re.escape(' '.join((text or '').split()).replace('|', chr(92) + '|'))} \|$",
            section,
            re.M,
        ), column
