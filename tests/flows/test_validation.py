"""Real Great Expectations validations over a real DuckDB database built from schemas/tables.sql."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from crm_etl.flows.validation import batch_sql, build_suites, run_suites, suite_parameters
from crm_etl.schemas import SCHEMAS_DIR, ConfigError, load_config
from crm_etl.schemas.suites import load_suites

AS_OF = dt.date(2024, 6, 30)


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module")
def customer_suites(config):
    return build_suites([s for s in load_suites(config) if s.name in {"customers", "contacts"}], config)


def _database(customers: list[tuple]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute((SCHEMAS_DIR / "tables.sql").read_text(encoding="utf-8"))
    con.executemany(
        """INSERT INTO customers (customer_id, customer_name, contact_name, mobile, phone, email, industry,
                                  industry_code, customer_type, first_contact_date, source_channel, owner,
                                  completeness)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        customers,
    )
    con.execute(
        """INSERT INTO contacts (contact_id, customer_id, name, mobile, email, is_primary)
           SELECT customer_id || '-01', customer_id, contact_name, mobile, email, true FROM customers"""
    )
    return con


GOOD = [
    (
        f"C20240501{i:03d}",
        f"上海甲{i}公司",
        "张三",
        f"+86138001380{i:02d}",
        None,
        f"z{i}@qq.com",
        "制造业",
        "C",
        "prospect",
        dt.date(2024, 5, 1),
        "展会",
        "张伟",
        1.0,
    )
    for i in range(1, 21)
]


def _checks(result):
    return {(c.suite, c.expectation, c.column): c for c in result.checks}


def test_clean_tables_pass_every_expectation(config, customer_suites, tmp_path):
    result = run_suites(_database(GOOD), customer_suites, suite_parameters(config, AS_OF), tmp_path / "docs")
    assert [c for c in result.checks if not c.success] == []
    assert result.critical_failures == []
    assert {c.suite for c in result.checks} == {"customers", "contacts"}
    # GX's own Data Docs: an index and a page per suite's validation.
    assert result.data_docs == tmp_path / "docs" / "index.html" and result.data_docs.is_file()
    assert (tmp_path / "docs" / "expectations" / "customers.html").is_file()


def test_data_docs_go_to_a_relative_folder_too(config, customer_suites, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_suites(
        _database(GOOD), customer_suites, suite_parameters(config, AS_OF), Path("reports/R1/docs")
    )
    assert (tmp_path / "reports" / "R1" / "docs" / "index.html").is_file()
    assert result.data_docs is not None and result.data_docs.resolve().is_file()


def test_two_primary_contacts_is_a_critical_failure_with_masked_samples(config, customer_suites):
    con = _database(GOOD)
    con.execute(
        """INSERT INTO contacts (contact_id, customer_id, name, mobile, email, is_primary)
           VALUES (?, ?, '李四', '+8613912345678', 'lisi@163.com', true)""",
        [GOOD[0][0] + "-02", GOOD[0][0]],
    )
    result = run_suites(con, customer_suites, suite_parameters(config, AS_OF))
    primaries = _checks(result)[("contacts", "expect_column_values_to_be_between", "primaries_of_customer")]
    assert not primaries.success and primaries.severity == "critical"
    assert primaries.unexpected_count == 2 and primaries.element_count == 21
    samples = json.loads(primaries.samples)
    assert {s["contact_id"] for s in samples} == {GOOD[0][0] + "-01", GOOD[0][0] + "-02"}
    assert {s["mobile"] for s in samples} == {"+86138****8001", "+86139****5678"}
    assert {s["name"] for s in samples} == {"张*", "李*"}
    assert {s["email"] for s in samples} == {"z***@qq.com", "l***@163.com"}
    assert primaries in result.critical_failures


def test_completeness_below_mostly_is_a_warning_with_its_share(config, customer_suites):
    rows = [(*r[:6], None if i % 4 == 0 else r[6], *r[7:]) for i, r in enumerate(GOOD)]
    result = run_suites(_database(rows), customer_suites, suite_parameters(config, AS_OF), samples=3)
    industry = _checks(result)[("customers", "expect_column_values_to_not_be_null", "industry")]
    assert not industry.success and industry.severity == "warning"
    assert industry.observed == "0.7500" and industry.threshold == "mostly 0.9"
    assert len(json.loads(industry.samples)) == 3
    assert result.critical_failures == []


@pytest.mark.parametrize(
    ("change", "expectation", "column"),
    [
        (lambda r: (*r[:3], "13800138000", *r[4:]), "expect_column_values_to_match_regex", "mobile"),
        (
            lambda r: (*r[:9], dt.date(2024, 7, 1), *r[10:]),
            "expect_column_values_to_be_between",
            "first_contact_date",
        ),
        (lambda r: (*r[:8], "lead", *r[9:]), "expect_column_values_to_be_in_set", "customer_type"),
        (lambda r: (*r[:7], "Z", *r[8:]), "expect_column_values_to_be_in_set", "industry_code"),
        (lambda r: ("X1", *r[1:]), "expect_column_values_to_match_regex", "customer_id"),
    ],
    ids=[
        "mobile-not-e164",
        "date-after-run-date",
        "unknown-customer-type",
        "unknown-industry-code",
        "bad-id",
    ],
)
def test_format_and_accepted_value_breaches_are_critical(
    config, customer_suites, change, expectation, column
):
    rows = [change(GOOD[0]), *GOOD[1:]]
    result = run_suites(_database(rows), customer_suites, suite_parameters(config, AS_OF))
    check = _checks(result)[("customers", expectation, column)]
    assert not check.success and check.severity == "critical"
    assert check.unexpected_count == 1


def test_mean_completeness_against_the_target(config, customer_suites):
    rows = [(*r[:12], 0.85) for r in GOOD]
    result = run_suites(_database(rows), customer_suites, suite_parameters(config, AS_OF))
    mean = _checks(result)[("customers", "expect_column_mean_to_be_between", "completeness")]
    assert not mean.success and mean.severity == "warning"
    assert mean.observed == "0.8500" and mean.threshold == "≥ 0.9"


def test_unknown_expectation_type_names_file_and_key(config, tmp_path):
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = schemas / "expectations" / "contacts.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("expect_column_values_to_be_unique", "expect_column_values_to_be_unicorns"))
    with pytest.raises(
        ConfigError, match=r"contacts\.yaml: expectations\.1\.type: 'expect_column_values_to_be_unicorns'"
    ):
        build_suites(load_suites(load_config(schemas)), config)


def test_bad_expectation_argument_names_file_key_and_argument(config, tmp_path):
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = schemas / "expectations" / "contacts.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("column: name, mostly: 0.80", "column: name, mostyl: 0.80"))
    with pytest.raises(ConfigError, match=r"contacts\.yaml: expectations\.6 .*mostyl"):
        build_suites(load_suites(load_config(schemas)), config)


def test_a_column_the_table_lacks_names_file_and_key(config, customer_suites):
    suite = next(s for s in customer_suites if s.spec.name == "contacts")
    with pytest.raises(
        ConfigError, match=r"contacts\.yaml: expectations\.0: no column 'contact_id' in contacts"
    ):
        batch_sql(suite, ["customer_id", "name"])


def test_batch_reads_only_the_columns_it_needs(customer_suites):
    suite = next(s for s in customer_suites if s.spec.name == "customers")
    sql = batch_sql(suite, [r[0] for r in _database(GOOD).execute("DESCRIBE customers").fetchall()])
    assert '"field_sources"' not in sql and '"tags"' not in sql
    assert '(coalesce(mobile, phone)) AS "contact"' in sql
