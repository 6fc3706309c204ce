"""End-to-end: the real Prefect flow over data/samples/ into a real DuckDB file."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from crm_etl.flows.migrate import migrate
from crm_etl.flows.tasks import RunCheckFailed
from crm_etl.schemas import SCHEMAS_DIR
from tests import samples_truth as truth
from tests.flows.conftest import write_ledger

AS_OF = dt.date.fromisoformat(truth.AS_OF_DATE)

# The output contract (../shared/ARCHITECTURE.md): table -> key columns.
CONTRACT = {
    "customers": [
        "customer_id",
        "customer_name",
        "contact_name",
        "contact_title",
        "mobile",
        "phone",
        "email",
        "industry",
        "industry_code",
        "customer_type",
        "first_contact_date",
        "source_channel",
        "owner",
        "tags",
        "tag_line",
        "tier",
        "completeness",
    ],
    "contacts": ["contact_id", "customer_id", "name", "title", "mobile", "email", "is_primary"],
    "customer_sources": [
        "run_id",
        "source_system",
        "source_file",
        "source_sheet",
        "source_row",
        "source_key",
        "customer_id",
        "match_score",
        "match_reason",
    ],
    "quarantine": ["run_id", "source_file", "source_sheet", "source_row", "reason", "raw"],
    "interactions": [
        "customer_id",
        "date",
        "channel",
        "participants",
        "content",
        "feedback",
        "todo",
        "owner",
    ],
    "orders": ["customer_id", "order_date", "amount_cny"],
    "runs": ["run_id", "started_at", "finished_at", "status"],
    "validation_results": ["run_id", "suite", "expectation", "column", "success", "observed", "threshold"],
}
EXACT_GROUPS = [g for g in truth.DUPLICATE_GROUPS if g["evidence"] != "fuzzy"]
GARBAGE_REASON = {
    "blank": "blank_row",
    "totals": "totals_row",
    "note": "note_row",
    "invalid_json": "invalid_json",
}


def _customer_of(con, ref) -> str | None:
    row = con.execute(
        "SELECT customer_id FROM customer_sources WHERE source_file = ? AND source_sheet = ? AND source_row = ?",
        list(ref),
    ).fetchone()
    return row[0] if row else None


@pytest.mark.parametrize("table", sorted(CONTRACT))
def test_contract_tables_and_columns_exist(sample_run, table):
    _, con, _ = sample_run
    columns = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    assert set(CONTRACT[table]) <= columns


def test_every_input_row_is_placed_exactly_once(sample_run):
    summary, con, _ = sample_run
    placed = con.execute(
        """SELECT source_file, source_sheet, source_row, count(*) FROM (
               SELECT source_file, source_sheet, source_row FROM customer_sources
               UNION ALL SELECT source_file, source_sheet, source_row FROM quarantine
               UNION ALL SELECT source_file, source_sheet, source_row FROM orders
               UNION ALL SELECT source_file, source_sheet, source_row FROM interactions)
           GROUP BY ALL"""
    ).fetchall()
    assert all(n == 1 for *_, n in placed)
    per_sheet: dict[tuple[str, str], int] = {}
    for file, sheet, _, _ in placed:
        per_sheet[(file, sheet)] = per_sheet.get((file, sheet), 0) + 1
    assert per_sheet == truth.DATA_ROW_COUNTS
    assert summary.rows_read == sum(truth.DATA_ROW_COUNTS.values())
    assert summary.rows_loaded + summary.rows_quarantined == summary.rows_read


@pytest.mark.parametrize("group", EXACT_GROUPS, ids=[g["name"] for g in EXACT_GROUPS])
def test_known_duplicates_share_one_customer(sample_run, group):
    _, con, _ = sample_run
    ids = {_customer_of(con, ref) for ref in group["rows"]}
    assert None not in ids
    assert len(ids) == 1


@pytest.mark.parametrize("pair", truth.HARD_NEGATIVES, ids=[p["name"] for p in truth.HARD_NEGATIVES])
def test_hard_negatives_stay_apart(sample_run, pair):
    _, con, _ = sample_run
    first, second = (_customer_of(con, ref) for ref in pair["rows"])
    assert first is not None and second is not None
    assert first != second, pair["why"]


@pytest.mark.parametrize(
    "garbage", truth.GARBAGE_ROWS, ids=[f"{g['kind']}-{g['row']}" for g in truth.GARBAGE_ROWS]
)
def test_garbage_rows_are_quarantined_with_reason(sample_run, garbage):
    _, con, _ = sample_run
    row = con.execute(
        "SELECT reason, raw FROM quarantine WHERE source_file = ? AND source_sheet = ? AND source_row = ?",
        list(garbage["row"]),
    ).fetchone()
    assert row is not None
    assert row[0] == GARBAGE_REASON[garbage["kind"]]
    json.loads(row[1])


@pytest.mark.parametrize("orphan", truth.ORPHANS, ids=[o["kind"] for o in truth.ORPHANS])
def test_orphan_orders_and_interactions_are_quarantined(sample_run, orphan):
    _, con, _ = sample_run
    row = con.execute(
        "SELECT reason, detail FROM quarantine WHERE source_file = ? AND source_sheet = ? AND source_row = ?",
        list(orphan["row"]),
    ).fetchone()
    assert row is not None and row[0] == "unknown_customer"
    assert "references no loaded customer" in row[1]


def test_orders_and_interactions_are_linked(sample_run):
    summary, con, _ = sample_run
    assert summary.orders > 0 and summary.interactions > 0
    for table in ("orders", "interactions"):
        unlinked = con.execute(
            f"SELECT count(*) FROM {table} t LEFT JOIN customers c USING (customer_id) WHERE c.customer_id IS NULL"
        ).fetchone()[0]
        assert unlinked == 0
    seed_orders = con.execute(
        """SELECT count(*) FROM orders o JOIN customers c USING (customer_id)
           WHERE c.customer_id = 'C20240501001' AND o.product = '产品A'"""
    ).fetchone()[0]
    assert seed_orders == 2


def test_contacts_have_one_primary_per_customer(sample_run):
    _, con, _ = sample_run
    bad = con.execute(
        """SELECT c.customer_id FROM customers c LEFT JOIN contacts p
           ON p.customer_id = c.customer_id AND p.is_primary GROUP BY ALL HAVING count(p.contact_id) > 1"""
    ).fetchall()
    assert bad == []
    multi = con.execute(
        "SELECT count(*) FROM (SELECT customer_id FROM contacts GROUP BY ALL HAVING count(*) > 1)"
    )
    assert multi.fetchone()[0] >= 1


def test_runs_and_validation_results_recorded(sample_run):
    summary, con, out = sample_run
    run = con.execute(
        "SELECT status, rows_read, customers FROM runs WHERE run_id = ?", [summary.run_id]
    ).fetchone()
    assert run == ("published", summary.rows_read, summary.customers)
    checks = con.execute(
        "SELECT count(*) FROM validation_results WHERE run_id = ?", [summary.run_id]
    ).fetchone()
    assert checks[0] >= 3
    report = Path(summary.report)
    assert report.is_file() and (out / "reports" / "latest" / "index.html").is_file()
    assert summary.run_id in report.read_text(encoding="utf-8")


def test_report_shows_no_full_phone_number(sample_run):
    summary, _, _ = sample_run
    html = Path(summary.report).read_text(encoding="utf-8")
    assert not re.search(r"1[3-9]\d{9}", html)


def test_report_lists_unmapped_values_with_counts(sample_run):
    summary, _, _ = sample_run
    html = Path(summary.report).read_text(encoding="utf-8")
    unmapped = [m for m in truth.MESSY_VALUES if m["reason"] == "industry_unmapped"]
    assert unmapped
    for messy in unmapped:
        assert re.search(rf"<td>{re.escape(str(messy['raw']))}</td><td class=\"n\">\d+</td>", html)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_failed_run_leaves_existing_database_unchanged(prefect_harness, tmp_path, inbox):
    write_ledger(inbox / "a.xlsx", [["上海甲公司", "张三", "13800138000", dt.date(2024, 5, 1), "张伟"]])
    db = tmp_path / "crm.duckdb"
    migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=AS_OF)
    before = _sha(db)
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    rules = schemas / "tag_rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("industry_code = 'C'", "no_such_column = 'C'"),
        encoding="utf-8",
    )
    write_ledger(inbox / "b.xlsx", [["杭州乙公司", "李四", "13900139000", dt.date(2024, 5, 2), "王芳"]])
    with pytest.raises(
        RunCheckFailed, match=r"tag rule '制造业' \(.*tag_rules.yaml:\d+\) has an invalid predicate"
    ):
        migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=AS_OF, schemas_dir=schemas)
    assert _sha(db) == before
    assert not [p for p in tmp_path.iterdir() if "staging" in p.name]


def test_unreadable_files_are_reported_and_the_rest_loads(prefect_harness, tmp_path, inbox):
    write_ledger(
        inbox / "good.xlsx",
        [
            ["上海甲公司", "张三", "13800138000", dt.date(2024, 5, 1), "张伟"],
            ["杭州乙公司", "李四", "13900139000", dt.date(2024, 5, 2), "王芳"],
        ],
    )
    (inbox / "corrupt.xlsx").write_bytes(b"PK\x03\x04" + b"\x00garbage" * 50)
    (inbox / "wrong_encoding.csv").write_bytes(b"Account Name,Mobile\n" + bytes(range(0x80, 0x100)) * 4)
    (inbox / "notes.docx").write_bytes(b"not an export")
    db = tmp_path / "crm.duckdb"
    summary = migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=AS_OF)
    messages = " | ".join(summary.failed_inputs)
    assert "corrupt.xlsx: not a readable Excel workbook" in messages
    assert "wrong_encoding.csv: cannot decode the text" in messages
    assert summary.customers == 2
    with duckdb.connect(str(db), read_only=True) as con:
        statuses = dict(con.execute("SELECT source_file, status FROM run_files").fetchall())
    assert statuses == {
        "good.xlsx": "loaded",
        "corrupt.xlsx": "failed",
        "wrong_encoding.csv": "failed",
        "notes.docx": "skipped",
    }


@pytest.mark.parametrize(
    "messy", truth.MESSY_VALUES, ids=[f"{m['field']}-{m['raw']}" for m in truth.MESSY_VALUES]
)
def test_messy_values_come_out_clean(sample_run, messy):
    _, con, _ = sample_run
    row = con.execute(
        """SELECT record, issues FROM customer_sources
           WHERE source_file = ? AND source_sheet = ? AND source_row = ?""",
        list(messy["row"]),
    ).fetchone()
    assert row is not None, "the record was not loaded"
    record, issues = json.loads(row[0]), row[1]
    if messy["reason"] is not None:
        # A rejected or doubted value leaves its machine-readable reason in the lineage.
        assert messy["reason"] in {issue.split(":", 1)[1] for issue in issues}, issues
    value = record[messy["field"]]
    if messy["field"] == "email" and record.get("email_suggestion"):
        # A domain typo is flagged with its likely correction, never silently rewritten.
        assert value == str(messy["raw"]).strip().lower()
        value = record["email_suggestion"]
    assert value == messy["expected"]
