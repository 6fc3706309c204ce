"""The report's figures (schemas/kpis.yaml) run by flows/kpis.py on a real DuckDB file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from crm_etl.flows.kpis import KpiError, measure_kpis
from crm_etl.schemas.kpis import KpiDefinitions, load_kpis

FIELDS = ["customer_name", "contact", "owner"]


@pytest.fixture
def con(tmp_path: Path):
    """The tables the figures read, with the columns they read, as the published file has them."""
    con = duckdb.connect(str(tmp_path / "crm.duckdb"))
    con.execute(
        """CREATE TABLE customers (customer_id VARCHAR, owner VARCHAR, mobile VARCHAR, phone VARCHAR,
               first_contact_date DATE, completeness DOUBLE, missing_fields VARCHAR[]);
           CREATE TABLE customer_sources (source_system VARCHAR, issues VARCHAR[], customer_id VARCHAR, record JSON);
           CREATE TABLE quarantine (reason VARCHAR);
           CREATE TABLE customer_features (customer_id VARCHAR, follow_up_overdue BOOLEAN);"""
    )
    yield con
    con.close()


def _values(con, definitions: KpiDefinitions | None = None) -> dict[tuple[str, str], float]:
    frame = measure_kpis(con, definitions or load_kpis(), FIELDS)
    return {(r["kpi"], r["dimension"]): r["value"] for r in frame.iter_rows(named=True)}


def _sources(con, rows) -> None:
    con.executemany(
        "INSERT INTO customer_sources VALUES (?, ?, ?, ?)",
        [(system, issues, cid, json.dumps({"record_role": role})) for system, issues, cid, role in rows],
    )


def test_headline_field_and_owner_figures(con):
    con.executemany(
        "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            ("C1", "张伟", "+8613800138000", None, "2024-06-01", 1.0, []),
            ("C2", "张伟", None, None, None, 0.5, ["contact", "first_contact_date"]),
            ("C3", None, None, "+862162345678", "2023-01-01", 0.75, ["owner"]),
        ],
    )
    _sources(
        con,
        [
            ("excel_ledger", ["mobile:phone_invalid_length"], "C1", "account"),
            ("excel_ledger", [], "C1", "account"),
            (
                "web_form",
                ["first_contact_date:date_unparseable", "phone:phone_no_area_code"],
                "C2",
                "account",
            ),
            ("legacy_crm", [], "C3", "account"),
            ("worklist", [], "C3", "account"),
        ],
    )
    con.executemany(
        "INSERT INTO quarantine VALUES (?)", [("blank_row",), ("blank_row",), ("unknown_customer",)]
    )
    con.executemany(
        "INSERT INTO customer_features VALUES (?, ?)", [("C1", False), ("C2", True), ("C3", True)]
    )
    values = _values(con)
    assert values[("customers", "")] == 3
    assert values[("completeness", "")] == pytest.approx(0.75)
    assert values[("records_loaded", "")] == 5
    assert values[("duplicates_merged", "")] == 1  # C1 twice; the worklist row restates C3
    assert values[("phones_invalid", "")] == 2
    assert values[("phones_missing", "")] == 1
    assert values[("dates_invalid", "")] == 1
    assert values[("dates_missing", "")] == 1
    assert values[("quarantined", "")] == 3
    assert values[("quarantined_by_reason", "blank_row")] == 2
    assert values[("overdue_followups", "")] == 2
    assert values[("needs_backfill", "")] == 2
    assert values[("field_completeness", "customer_name")] == 1
    assert values[("field_completeness", "contact")] == pytest.approx(2 / 3)
    assert values[("field_completeness", "owner")] == pytest.approx(2 / 3)
    assert values[("owner_customers", "张伟")] == 2
    assert values[("owner_needs_backfill", "张伟")] == 1
    assert values[("owner_overdue", "张伟")] == 1
    # The unassigned owner is stored as ''.
    assert values[("owner_customers", "")] == 1
    assert values[("owner_completeness", "")] == pytest.approx(0.75)
    assert values[("owner_overdue", "")] == 1


def test_people_of_a_contacts_export_are_no_duplicates(con):
    # C1: an account twice (one duplicate) and a person at it; C2: known only through two people.
    _sources(
        con,
        [
            ("legacy_crm", [], "C1", "account"),
            ("excel_ledger", [], "C1", "account"),
            ("legacy_crm", [], "C1", "contact"),
            ("legacy_crm", [], "C2", "contact"),
            ("legacy_crm", [], "C2", "contact"),
        ],
    )
    assert _values(con)[("duplicates_merged", "")] == 1


def test_figures_of_an_empty_run(con):
    values = _values(con)
    assert values[("customers", "")] == 0 and values[("completeness", "")] == 0
    assert values[("overdue_followups", "")] == 0
    assert {d for k, d in values if k == "field_completeness"} == set(FIELDS)
    assert not [k for k, _ in values if k.startswith("owner_")]


@pytest.mark.parametrize(
    ("kpi", "message"),
    [
        (
            {"name": "broken", "sql": "SELECT count(*) FROM no_such_table"},
            "figure 'broken' of schemas/kpis.yaml failed",
        ),
        ({"name": "wide", "sql": "SELECT 1, 2"}, "returns 2 column(s), expected 1"),
        ({"name": "many", "sql": "SELECT * FROM range(3)"}, "returns 3 rows, expected one"),
        ({"name": "flat", "by": "owner", "sql": "SELECT 1"}, "returns 1 column(s), expected 2"),
    ],
    ids=["unknown-table", "two-columns", "three-rows", "dimension-without-value"],
)
def test_a_figure_that_cannot_be_computed_is_named(con, kpi, message):
    with pytest.raises(KpiError, match=message.replace("(", r"\(").replace(")", r"\)")):
        measure_kpis(con, KpiDefinitions(kpis=[kpi]), FIELDS)
