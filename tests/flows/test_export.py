"""`crm-etl export`: real DuckDB file in, real Parquet / CSV / XLSX files out, read back."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal

import duckdb
import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from crm_etl.cleaners.spreadsheet import restore_formulas
from crm_etl.flows.cli import EXIT_CHECK_FAILED, EXIT_INPUT, EXIT_OK, app
from crm_etl.flows.export import ExportError, export_database, exportable
from tests.flows.crafted import load_crafted, new_database, profile_and_tag

runner = CliRunner()

# Values a spreadsheet would run as formulas, and some that merely look odd.
HOSTILE = {
    "f1": '=HYPERLINK("http://evil.example","点我")',
    "f2": "@SUM(1+1)*cmd|' /C calc'!A0",
    "f3": "+8613800138000",
    "f4": "-2+3",
    "f5": "'=already marked",
    "f6": "\t=tab first",
    "ok": "上海宏达机械制造有限公司",
}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "crm.duckdb"
    con = new_database(path)
    load_crafted(
        con,
        {
            cid: {"buyer": True, "orders": [(dt.date(2024, 6, 1), 1234.5, "产品A")]} if cid == "ok" else {}
            for cid in HOSTILE
        },
    )
    for cid, name in HOSTILE.items():
        con.execute(
            "UPDATE customers SET customer_name = ?, contact_name = ? WHERE customer_id = ?",
            [name, name, cid],
        )
    profile_and_tag(con)
    con.execute("UPDATE customers SET tags = list_append(tags, '=1+1') WHERE customer_id = 'ok'")
    con.execute(
        "INSERT INTO runs (run_id, started_at, status, as_of, input_files) VALUES "
        "('R1', TIMESTAMPTZ '2024-06-30 10:00:00+08', 'published', DATE '2024-06-30', '[{\"file\": \"=a.xlsx\"}]')"
    )
    con.close()
    return path


def test_exportable_lists_tables_then_views(db):
    with duckdb.connect(str(db), read_only=True) as con:
        names = exportable(con)
    views = ["v_客户互动跟进记录", "v_客户分层", "v_客户基本信息", "v_客户需求与标签"]
    assert names[-4:] == sorted(views)
    assert {"customers", "customer_features", "orders", "interactions", "tag_rules", "runs"} <= set(
        names[:-4]
    )


def test_parquet_round_trip_keeps_every_value_and_type(db, tmp_path):
    with duckdb.connect(str(db), read_only=True) as con:
        audited = con.execute("SELECT * FROM export_log ORDER BY ALL").fetchall()
    files = [f.path for f in export_database(db, tmp_path, "parquet")]
    with duckdb.connect(str(db), read_only=True) as con:
        assert len(files) == len(exportable(con))
        for path in files:
            name = path.stem
            # The export's own audit line is written after its files.
            original = (
                audited
                if name == "export_log"
                else con.execute(f'SELECT * FROM "{name}" ORDER BY ALL').fetchall()
            )
            again = con.execute(f"SELECT * FROM read_parquet('{path}') ORDER BY ALL").fetchall()
            assert again == original, name
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{tmp_path / 'customers.parquet'}')")
        types = {row[0]: row[1] for row in described.fetchall()}
    assert types["tags"] == "VARCHAR[]" and types["first_contact_date"] == "DATE"


def _csv_rows(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_is_injection_safe_and_round_trips(db, tmp_path):
    export_database(db, tmp_path, "csv", ["customers", "orders", "runs", "v_客户基本信息"])
    assert (tmp_path / "customers.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    rows = {r["customer_id"]: r for r in _csv_rows(tmp_path / "customers.csv")}
    for cid, name in HOSTILE.items():
        cell = rows[cid]["customer_name"]
        # Nothing a spreadsheet would evaluate: every risky value carries the text mark.
        assert not cell.startswith(("=", "+", "-", "@", "\t"))
        assert restore_formulas(pl.Series([cell]))[0] == name
    assert rows["f3"]["customer_name"] == "'+8613800138000"
    assert rows["ok"]["customer_name"] == HOSTILE["ok"]
    assert json.loads(rows["ok"]["tags"])[-1] == "=1+1"
    assert rows["ok"]["first_contact_date"] == "2023-05-27"
    assert rows["ok"]["completeness"] == "1.0"
    (order,) = _csv_rows(tmp_path / "orders.csv")
    assert Decimal(order["amount_cny"]) == Decimal("1234.50")
    (run,) = _csv_rows(tmp_path / "runs.csv")
    assert dt.datetime.fromisoformat(run["started_at"]) == dt.datetime(2024, 6, 30, 2, tzinfo=dt.UTC)
    assert json.loads(run["input_files"]) == [{"file": "=a.xlsx"}]
    view = {r["客户编号"]: r for r in _csv_rows(tmp_path / "v_客户基本信息.csv")}
    assert view["f1"]["客户名称"] == "'" + HOSTILE["f1"]


def test_xlsx_writes_risky_values_as_text_cells(db, tmp_path):
    export_database(db, tmp_path, "xlsx", ["customers", "orders", "runs"])
    sheet = openpyxl.load_workbook(tmp_path / "customers.xlsx").active
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["customer_id", "customer_name"]
    cells = {row[0].value: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)}
    for cid, name in HOSTILE.items():
        cell = cells[cid]["customer_name"]
        assert cell.value == name  # unchanged text ...
        assert cell.data_type == "s"  # ... stored as a string, never a formula
    assert cells["f1"]["customer_name"].quotePrefix
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    first_contact = cells["ok"]["first_contact_date"]
    assert first_contact.is_date and first_contact.value.date() == dt.date(2023, 5, 27)
    assert json.loads(cells["ok"]["tags"].value)[-1] == "=1+1"
    order = next(
        openpyxl.load_workbook(tmp_path / "orders.xlsx").active.iter_rows(min_row=2, values_only=True)
    )
    assert Decimal(str(order[3])) == Decimal("1234.5")
    run = openpyxl.load_workbook(tmp_path / "runs.xlsx").active
    run_header = [c.value for c in run[1]]
    started = dict(zip(run_header, next(run.iter_rows(min_row=2, values_only=True)), strict=True))[
        "started_at"
    ]
    assert started == dt.datetime(2024, 6, 30, 2, 0)  # UTC; Excel has no time zones


def test_unknown_table_and_format_are_refused(db, tmp_path):
    with pytest.raises(ExportError, match="no table or view nope"):
        export_database(db, tmp_path, "csv", ["nope"])
    with pytest.raises(ExportError, match="unknown format"):
        export_database(db, tmp_path, "json")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("fmt", ["parquet", "csv", "xlsx"])
def test_cli_export_writes_one_file_per_table(db, tmp_path, fmt):
    out = tmp_path / "bi"
    result = runner.invoke(app, ["export", "--db", str(db), "--out", str(out), "--format", fmt])
    assert result.exit_code == EXIT_OK, result.output
    with duckdb.connect(str(db), read_only=True) as con:
        expected = {f"{name}.{fmt}" for name in exportable(con)}
    assert {p.name for p in out.iterdir()} == expected | {"README.md"}
    assert f"customers.{fmt}" in result.output


def test_cli_export_selected_tables(db, tmp_path):
    result = runner.invoke(
        app,
        [
            "export",
            "--db",
            str(db),
            "--out",
            str(tmp_path),
            "-f",
            "csv",
            "-t",
            "orders",
            "--table",
            "v_客户分层",
        ],
    )
    assert result.exit_code == EXIT_OK, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "orders.csv", "v_客户分层.csv"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--format", "json"], EXIT_INPUT, "json"),
        (["--table", "nope"], EXIT_INPUT, "no table or view nope"),
        ([], EXIT_INPUT, "Missing option '--out'"),
    ],
    ids=["bad-format", "unknown-table", "no-out"],
)
def test_cli_export_usage_errors(db, tmp_path, args, code, message):
    base = ["export", "--db", str(db)] + (
        [] if message.startswith("Missing") else ["--out", str(tmp_path / "x")]
    )
    result = runner.invoke(app, base + args)
    assert result.exit_code == code
    assert message in result.output


def test_cli_export_needs_a_database(tmp_path):
    result = runner.invoke(app, ["export", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path)])
    assert result.exit_code == EXIT_INPUT
    assert "does not exist" in " ".join(result.output.split())


def test_cli_export_reports_a_file_it_cannot_write(db, tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    result = runner.invoke(app, ["export", "--db", str(db), "--out", str(blocker / "sub"), "-f", "csv"])
    assert result.exit_code == EXIT_CHECK_FAILED
    assert "export failed" in result.output


def test_cli_export_help():
    result = runner.invoke(app, ["export", "--help"])
    assert result.exit_code == EXIT_OK
    for option in ("--out", "--format", "--db", "--table", "--owner"):
        assert option in result.output


@pytest.fixture
def sample_copy(sample_db, tmp_path):
    """The sample run's file, copied: exports append their audit lines to it."""
    import shutil

    _, source = sample_db
    path = tmp_path / "crm.duckdb"
    shutil.copy2(source, path)
    return path


def _owners(db) -> dict[str, set[str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT owner, customer_id FROM customers WHERE owner IS NOT NULL").fetchall()
    owners: dict[str, set[str]] = {}
    for owner, cid in rows:
        owners.setdefault(owner, set()).add(cid)
    return owners


def test_an_owner_export_holds_none_of_another_reps_customers(sample_copy, tmp_path):
    import getpass

    owners = _owners(sample_copy)
    assert len(owners) >= 3
    rep = max(owners, key=lambda o: len(owners[o]))
    others = set().union(*(ids for o, ids in owners.items() if o != rep))
    out = tmp_path / "handout"
    from crm_etl.flows.storage_version import storage_version_of

    version = storage_version_of(sample_copy)
    result = runner.invoke(app, ["export", "--db", str(sample_copy), "--out", str(out), "--owner", rep])
    assert result.exit_code == EXIT_OK, result.output
    # The audit line is written in the storage version the file was published in (DuckDB 1.x clients read it).
    assert storage_version_of(sample_copy) == version
    names = {p.name for p in out.iterdir()}
    assert {
        "customers.parquet",
        "contacts.parquet",
        "interactions.parquet",
        "orders.parquet",
        "README.md",
    } <= names
    (worklist,) = [n for n in names if n.endswith(".xlsx")]
    exported: dict[str, int] = {}
    with duckdb.connect(str(sample_copy), read_only=True) as con:
        for table in ("customers", "contacts", "interactions", "orders"):
            ids = {
                r[0]
                for r in con.execute(
                    f"SELECT customer_id FROM read_parquet('{out / table}.parquet')"
                ).fetchall()
            }
            assert ids <= owners[rep] and not ids & others, table
            expected = con.execute(
                f"SELECT count(*) FROM {table} WHERE customer_id IN (SELECT customer_id FROM customers WHERE owner = ?)",
                [rep],
            ).fetchone()[0]
            exported[table] = con.execute(
                f"SELECT count(*) FROM read_parquet('{out / table}.parquet')"
            ).fetchone()[0]
            assert exported[table] == expected, table
        assert exported["customers"] == len(owners[rep]) and exported["interactions"] > 0
        ws = openpyxl.load_workbook(out / worklist).active
        listed = {ws.cell(r, 1).value for r in range(3, ws.max_row + 1)}
        assert listed and listed <= owners[rep]
        (audit,) = con.execute(
            "SELECT exported_by, owners, format, tables, table_rows, run_id FROM export_log"
        ).fetchall()
    by, scoped, fmt, tables, table_rows, run_id = audit
    assert by == getpass.getuser() and scoped == [rep] and fmt == "parquet"
    assert tables == ["customers", "contacts", "interactions", "orders", "worklist"]
    assert json.loads(table_rows) == {**exported, "worklist": len(listed)}
    assert run_id is not None


def test_the_customers_nobody_owns_are_exported_as_unassigned(sample_copy, tmp_path):
    """`--owner 未分配` hands the customers with no owner (and their worklist) to whoever takes them on."""
    with duckdb.connect(str(sample_copy), read_only=True) as con:
        nobodys = {
            r[0]
            for r in con.execute(
                "SELECT customer_id FROM customers WHERE coalesce(owner, '') = ''"
            ).fetchall()
        }
    assert nobodys  # the samples have customers no rep owns
    out = tmp_path / "unassigned"
    result = runner.invoke(app, ["export", "--db", str(sample_copy), "--out", str(out), "--owner", "未分配"])
    assert result.exit_code == EXIT_OK, result.output
    with duckdb.connect(str(sample_copy), read_only=True) as con:
        exported = {
            r[0]
            for r in con.execute(
                f"SELECT customer_id FROM read_parquet('{out / 'customers'}.parquet')"
            ).fetchall()
        }
        contacts = {
            r[0]
            for r in con.execute(
                f"SELECT customer_id FROM read_parquet('{out / 'contacts'}.parquet')"
            ).fetchall()
        }
    assert exported == nobodys and contacts <= nobodys
    (worklist,) = [p for p in out.iterdir() if p.suffix == ".xlsx"]
    assert worklist.name.startswith("未分配-")
    ws = openpyxl.load_workbook(worklist).active
    assert {ws.cell(r, 1).value for r in range(3, ws.max_row + 1)} <= nobodys


def test_an_owner_export_masks_the_configured_columns_and_leaves_the_worklist_out(sample_copy, tmp_path):
    owners = _owners(sample_copy)
    rep = max(owners, key=lambda o: len(owners[o]))
    export_database(
        sample_copy, tmp_path, "csv", owners=[rep], masked_columns=["mobile", "email", "other_phones"]
    )
    rows = _csv_rows(tmp_path / "customers.csv")
    mobiles = [r["mobile"] for r in rows if r["mobile"]]
    assert mobiles and all("****" in m for m in mobiles)
    assert all("***@" in r["email"] for r in rows if r["email"])
    assert rows[0]["customer_name"]  # other columns as stored
    assert not list(tmp_path.glob("*.xlsx"))
    assert "Masked: mobile, email, other_phones" in (tmp_path / "README.md").read_text(encoding="utf-8")
    with pytest.raises(ExportError, match="never masked"):
        export_database(sample_copy, tmp_path, "csv", ["worklist"], owners=[rep], masked_columns=["mobile"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--owner", "没有这个人"], "no customer of owner 没有这个人"),
        (["--owner", "张伟", "-t", "customer_sources"], "cannot be exported for one owner"),
    ],
    ids=["unknown-owner", "unscoped-table"],
)
def test_cli_owner_export_usage_errors(sample_copy, tmp_path, args, message):
    result = runner.invoke(app, ["export", "--db", str(sample_copy), "--out", str(tmp_path / "x"), *args])
    assert result.exit_code == EXIT_INPUT
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "x").exists()


def test_an_export_waits_for_no_run_it_is_refused_while_one_holds_the_database(db, tmp_path):
    from crm_etl.flows.cli import EXIT_LOCKED
    from tests.flows.test_lock import _holder

    holder = _holder(db, "crm-etl run")
    try:
        result = runner.invoke(app, ["export", "--db", str(db), "--out", str(tmp_path / "x")])
    finally:
        holder.communicate("")
    assert result.exit_code == EXIT_LOCKED
    assert "crm-etl run" in " ".join(result.output.split())
    assert not (tmp_path / "x").exists()


def test_owner_folders_hold_each_reps_handout_and_nobody_elses_customers(sample_copy, tmp_path):
    from crm_etl.flows.export import owner_folder_name, write_owner_folders

    owners = _owners(sample_copy)
    folder = tmp_path / "owners"
    written = write_owner_folders(sample_copy, folder)
    assert set(written) == set(owners)
    assert sorted(p.name for p in folder.iterdir()) == sorted(map(owner_folder_name, owners))
    for owner, ids in owners.items():
        sheet = openpyxl.load_workbook(folder / owner_folder_name(owner) / "customers.xlsx").active
        exported = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
        assert exported == ids, owner
    with duckdb.connect(str(sample_copy), read_only=True) as con:
        audited = con.execute("SELECT owners[1] FROM export_log").fetchall()
    assert sorted(o for (o,) in audited) == sorted(owners)
