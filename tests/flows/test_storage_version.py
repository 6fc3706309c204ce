"""The published file's DuckDB storage version: chosen in schemas/runs.yaml, kept, converted, read by 1.x clients."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from crm_etl.flows.load import StagedDatabase
from crm_etl.flows.migrate import migrate
from crm_etl.flows.snapshots import SnapshotStore, restore_snapshot
from crm_etl.flows.storage_version import copy_database, storage_version_of
from crm_etl.schemas import SCHEMAS_DIR, load_config
from tests.flows.conftest import write_ledger
from tests.flows.processes import contents, sha256

# The newest DuckDB CLI on PyPI when the storage version was chosen; it reads storage 64-68 only.
DUCKDB_CLI = "duckdb-cli==1.5.6"
CONFIGURED = load_config().runs.duckdb_storage_version


def newest_format_database(path: Path) -> Path:
    """A database as DuckDB 2.0 writes it by default (storage v2.0.0), with rows, comments and a view."""
    with duckdb.connect(str(path)) as con:
        con.execute((SCHEMAS_DIR / "tables.sql").read_text(encoding="utf-8"))
        con.execute(
            "INSERT INTO runs (run_id, started_at, status) VALUES ('R1', TIMESTAMPTZ '2024-06-30 08:00:00+00', 'ok')"
        )
        con.execute("INSERT INTO customers (customer_id, customer_name) VALUES ('C1', '上海甲公司')")
        con.execute("CREATE VIEW v_客户 AS SELECT customer_id AS 客户编号 FROM customers")
        con.execute("COMMENT ON COLUMN v_客户.客户编号 IS 'customer id'")
    assert storage_version_of(path) == "v2.0.0+"
    return path


def catalogue(path: Path) -> tuple[list[tuple], list[tuple]]:
    """Every column of every table and view with its type and comment, and every view's SQL."""
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            "SELECT table_name, column_name, data_type, comment, column_default, is_nullable "
            "FROM duckdb_columns() WHERE NOT internal ORDER BY ALL"
        ).fetchall()
        views = con.execute(
            "SELECT view_name, sql, comment FROM duckdb_views() WHERE NOT internal ORDER BY ALL"
        ).fetchall()
    return columns, views


@pytest.mark.parametrize("version", ["v1.2.0", "v1.4.0"])
def test_a_first_run_publishes_a_new_file_in_the_configured_version(tmp_path, version):
    db = tmp_path / "crm.duckdb"
    with StagedDatabase(db, storage_version=version) as staged:
        staged.connection.execute("INSERT INTO customers (customer_id) VALUES ('C1')")
        staged.publish()
    assert storage_version_of(db) == f"{version}+"
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT customer_id FROM customers").fetchall() == [("C1",)]


def test_a_file_in_the_newest_format_is_converted_with_everything_it_holds(tmp_path):
    db = newest_format_database(tmp_path / "crm.duckdb")
    before_rows, before_catalogue = contents(db), catalogue(db)
    published = sha256(db)
    with StagedDatabase(db, storage_version="v1.4.0") as staged:
        assert staged.converted_from == "v2.0.0+"
        assert staged.published_run_id == "R1"
        assert sha256(db) == published  # the published file is only read
        staged.publish()
    assert storage_version_of(db) == "v1.4.0+"
    assert contents(db) == before_rows
    assert catalogue(db) == before_catalogue
    # The next working copy is a plain copy: the file stays in the version it was converted to.
    with StagedDatabase(db, storage_version="v1.4.0") as staged:
        assert staged.converted_from is None
        staged.connection.execute("INSERT INTO customers (customer_id) VALUES ('C2')")
        staged.publish()
    assert storage_version_of(db) == "v1.4.0+"


def test_a_file_already_in_the_version_is_copied_byte_for_byte(tmp_path):
    source = tmp_path / "published.duckdb"
    copy_database(newest_format_database(tmp_path / "newest.duckdb"), source, "v1.4.0")
    assert copy_database(source, tmp_path / "copy.duckdb", "v1.4.0") is None
    assert sha256(tmp_path / "copy.duckdb") == sha256(source)
    assert copy_database(source, tmp_path / "older.duckdb", "v1.2.0") == "v1.4.0+"
    assert storage_version_of(tmp_path / "older.duckdb") == "v1.2.0+"


def test_restoring_a_snapshot_in_the_newest_format_converts_it(tmp_path):
    db = tmp_path / "crm.duckdb"
    store = SnapshotStore(db, keep=5)
    store.directory.mkdir()
    snapshot = newest_format_database(store.path_for("R1"))
    restored = restore_snapshot(db, "R1", store, "v1.4.0")
    assert restored.changed
    assert storage_version_of(db) == "v1.4.0+"
    assert contents(db) == contents(snapshot) and catalogue(db) == catalogue(snapshot)
    assert storage_version_of(snapshot) == "v2.0.0+"  # the snapshot itself is kept as it was


@pytest.mark.slow
def test_a_run_converts_a_file_an_earlier_release_published(prefect_harness, tmp_path, inbox):
    # The earlier release is played by the same program with runs.yaml asking for DuckDB 2.0's format.
    newest = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, newest, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    runs = newest / "runs.yaml"
    runs.write_text(
        runs.read_text(encoding="utf-8").replace(
            f"duckdb_storage_version: {CONFIGURED}", "duckdb_storage_version: v2.0.0"
        ),
        encoding="utf-8",
    )
    db = tmp_path / "crm.duckdb"
    as_of = dt.date(2024, 6, 30)
    write_ledger(inbox / "a.xlsx", [["上海甲公司", "张三", "13800138000", dt.date(2024, 5, 1), "张伟"]])
    first = migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=as_of, schemas_dir=newest)
    assert storage_version_of(db) == "v2.0.0+"
    write_ledger(inbox / "b.xlsx", [["杭州乙公司", "李四", "13900139000", dt.date(2024, 5, 2), "王芳"]])
    second = migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=as_of)
    assert storage_version_of(db) == f"{CONFIGURED}+"
    assert second.customers_before == first.customers == 1 and second.customers == 2
    # The snapshot of the replaced file is that file as it was, in its own version.
    assert second.snapshot is not None and storage_version_of(Path(second.snapshot)) == "v2.0.0+"


@pytest.fixture(scope="session")
def duckdb_cli(request) -> Path:
    """The `duckdb` binary of the PyPI package duckdb-cli, installed once into its own venv (cached)."""
    venv = Path(request.config.cache.mkdir("duckdb-cli")) / DUCKDB_CLI.replace("==", "-")
    binary = venv / ("Scripts" if os.name == "nt" else "bin") / "duckdb"
    if not binary.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = subprocess.run(
            [
                str(binary.with_name("python")),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                DUCKDB_CLI,
            ],
            capture_output=True,
            text=True,
        )
        # No registry is a failure, not a skip: the claim is that this client opens the file.
        assert pip.returncode == 0, f"cannot install {DUCKDB_CLI}:\n{pip.stdout}\n{pip.stderr}"
    return binary


def cli_query(binary: Path, db: Path, sql: str) -> list[dict[str, str]]:
    """The rows the DuckDB CLI prints for `sql` on `db` opened read-only, as CSV records."""
    done = subprocess.run(
        [str(binary), "-readonly", "-csv", str(db), "-c", sql],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return list(csv.DictReader(io.StringIO(done.stdout)))


@pytest.mark.slow
def test_the_duckdb_cli_from_pypi_opens_the_published_file(duckdb_cli, sample_db):
    _, db = sample_db
    version = subprocess.run([str(duckdb_cli), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v1.5.6")
    with duckdb.connect(str(db), read_only=True) as con:
        customers = con.execute("SELECT count(*) FROM customers").fetchone()[0]
        tiers = con.execute("SELECT 客户分层, count(*) FROM v_客户分层 GROUP BY ALL ORDER BY 1").fetchall()
    assert customers > 0
    assert cli_query(duckdb_cli, db, "SELECT count(*) AS n FROM customers") == [{"n": str(customers)}]
    assert cli_query(
        duckdb_cli, db, "SELECT 客户分层, count(*) AS n FROM v_客户分层 GROUP BY ALL ORDER BY 1"
    ) == [{"客户分层": tier, "n": str(n)} for tier, n in tiers]
    # The comments an analyst browses in a client come through as well.
    bare = cli_query(
        duckdb_cli,
        db,
        "SELECT count(*) AS n FROM duckdb_columns() WHERE NOT internal AND coalesce(comment, '') = ''",
    )
    assert bare == [{"n": "0"}]
