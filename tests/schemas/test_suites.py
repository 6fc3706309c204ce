"""Expectation suites and report settings: the bundled ones load, bad ones fail naming file and key."""

import shutil

import pytest

from crm_etl.schemas import SCHEMAS_DIR, ConfigError, load_config
from crm_etl.schemas.suites import batch_table, load_report_settings, load_suites


@pytest.fixture
def schemas(tmp_path):
    target = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def _by_name(suites):
    return {s.name: s for s in suites}


def test_bundled_suites_cover_tables_and_every_source_kind():
    config = load_config()
    suites = _by_name(load_suites(config))
    assert {"customers", "contacts", "run"} <= set(suites)
    for source in config.sources:
        suite = suites[f"raw_{source.name}"]
        assert suite.source == source.name
        assert batch_table(suite, config) == f"raw_{source.record_type}"
    for suite in suites.values():
        assert {e.severity for e in suite.expectations} <= {"critical", "warning"}


# The seeds' completeness thresholds: 客户名称 100%, 联系方式 95%, the rest 90%.
SEED_THRESHOLDS = {
    "customer_name": (1.0, "critical"),
    "contact": (0.95, "warning"),
    "industry": (0.90, "warning"),
    "customer_type": (0.90, "warning"),
    "first_contact_date": (0.90, "warning"),
    "source_channel": (0.90, "warning"),
    "owner": (0.90, "warning"),
}


@pytest.mark.parametrize(("column", "expected"), SEED_THRESHOLDS.items(), ids=list(SEED_THRESHOLDS))
def test_customers_suite_has_the_seed_completeness_thresholds(column, expected):
    suite = _by_name(load_suites(load_config()))["customers"]
    found = [
        (e.kwargs.get("mostly", 1.0), e.severity)
        for e in suite.expectations
        if e.type == "expect_column_values_to_not_be_null" and e.column == column
    ]
    assert found == [expected]


def test_customers_suite_checks_formats_keys_and_accepted_values():
    suite = _by_name(load_suites(load_config()))["customers"]
    kinds = {(e.type, e.column): e for e in suite.expectations}
    assert kinds[("expect_column_values_to_match_regex", "mobile")].kwargs["regex"] == r"^\+861\d{10}$"
    assert ("expect_column_values_to_be_unique", "customer_id") in kinds
    assert kinds[("expect_column_values_to_be_between", "first_contact_date")].kwargs["max_value"] == {
        "$PARAMETER": "as_of"
    }
    assert set(kinds[("expect_column_values_to_be_in_set", "customer_type")].kwargs["value_set"]) == {
        "prospect",
        "customer",
        "churned",
    }
    assert len(kinds[("expect_column_values_to_be_in_set", "industry_code")].kwargs["value_set"]) == 20


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "expectations/customers.yaml",
            "column: customer_id, severity: critical}",
            "column: customer_id, severity: fatal}",
            r"customers\.yaml: expectations\.0\.severity",
        ),
        (
            "expectations/customers.yaml",
            "type: expect_column_values_to_not_be_null, column: customer_id",
            "type: column_values_to_not_be_null, column: customer_id",
            r"customers\.yaml: expectations\.0\.type",
        ),
        (
            "expectations/customers.yaml",
            "regex: {$PARAMETER: customer_id_pattern}",
            "regex: {$PARAMETER: id_pattern}",
            r"customers\.yaml: expectations\.2: unknown parameter 'id_pattern'",
        ),
        (
            "expectations/raw_web_form.yaml",
            "source: web_form",
            "source: web_forms",
            r"raw_web_form\.yaml: source: 'web_forms' is not a source kind",
        ),
        (
            "expectations/contacts.yaml",
            "table: contacts",
            "table: people",
            r"contacts\.yaml: table: .*'people' is not one of",
        ),
        (
            "expectations/run.yaml",
            "table: row_placements",
            "table: row_placements\nsource: web_form",
            r"run\.yaml: \(top level\): .*exactly one of `table`",
        ),
        (
            "expectations/contacts.yaml",
            "name: contacts",
            "name: customers",
            r"customers\.yaml: name 'customers' is already used by .*contacts\.yaml",
        ),
        (
            "expectations/contacts.yaml",
            "  primaries_of_customer:",
            "  primaries of customer:",
            r"contacts\.yaml: columns: .*not a plain identifier",
        ),
    ],
    ids=[
        "bad-severity",
        "bad-type",
        "unknown-parameter",
        "unknown-source",
        "unknown-table",
        "table-and-source",
        "duplicate-name",
        "bad-derived-name",
    ],
)
def test_bad_suite_names_file_and_key(schemas, file, old, new, message):
    _edit(schemas / file, old, new)
    with pytest.raises(ConfigError, match=message):
        load_suites(load_config(schemas))


def test_a_folder_without_suites_is_an_error(schemas):
    shutil.rmtree(schemas / "expectations")
    (schemas / "expectations").mkdir()
    with pytest.raises(ConfigError, match="no expectation suites"):
        load_suites(load_config(schemas))


def test_report_settings_load_and_reject_bad_keys(schemas):
    settings = load_report_settings()
    assert settings.follow_up.alarm_above == 10
    assert settings.audit_sample.share == 0.10
    _edit(schemas / "report.yaml", "  share: 0.10", "  share: 1.5")
    with pytest.raises(ConfigError, match=r"report\.yaml: audit_sample\.share"):
        load_report_settings(schemas)


def test_report_settings_refuse_a_second_overdue_rule(schemas):
    # Who is overdue is customer_features.follow_up_overdue (segments.yaml), counted by kpis.yaml:
    # report.yaml's former rule would be a second definition of 跟进超时.
    _edit(schemas / "report.yaml", "  alarm_above: 10", "  alarm_above: 10\n  overdue_days: 30")
    with pytest.raises(ConfigError, match=r"report\.yaml: follow_up\.overdue_days"):
        load_report_settings(schemas)
