import datetime as dt
import json

import polars as pl
import pytest

from crm_etl.cleaners.quality import (
    CheckResult,
    field_completeness,
    observed_text,
    sample_json,
    threshold_text,
)


@pytest.mark.parametrize(
    ("kwargs", "per_row", "text"),
    [
        ({"column": "owner", "mostly": 0.9}, True, "mostly 0.9"),
        ({"column": "customer_name"}, True, "all rows"),
        ({"column": "mobile", "regex": r"^\+861\d{10}$"}, True, r"matches ^\+861\d{10}$; all rows"),
        (
            {"column": "d", "min_value": dt.date(1980, 1, 1), "max_value": dt.date(2024, 6, 30)},
            True,
            "between 1980-01-01 and 2024-06-30; all rows",
        ),
        ({"column": "completeness", "min_value": 0.9}, False, "≥ 0.9"),
        ({"column": "t", "value_set": ["a", "b"], "mostly": 0.95}, True, "in {a, b}; mostly 0.95"),
        ({"column": "x", "max_value": {"$PARAMETER": "as_of"}}, True, "≤ $as_of; all rows"),
    ],
    ids=["mostly", "all", "regex", "date-range", "aggregate", "set", "unresolved-parameter"],
)
def test_threshold_text(kwargs, per_row, text):
    assert threshold_text(kwargs, per_row) == text


@pytest.mark.parametrize(
    ("result", "text"),
    [
        ({"element_count": 81, "unexpected_count": 13, "unexpected_percent": 16.049382716}, "0.8395"),
        ({"observed_value": 0.95524}, "0.9552"),
        ({"observed_value": 12}, "12.0000"),
        ({"element_count": 0, "unexpected_count": 0}, "no rows"),
    ],
    ids=["share-passing", "aggregate", "integer-aggregate", "empty"],
)
def test_observed_text(result, text):
    assert observed_text(result) == text


def test_check_result_row_and_samples_json():
    check = CheckResult(
        "customers",
        "expect_column_values_to_not_be_null",
        "owner",
        False,
        "0.8",
        "mostly 0.9",
        "warning",
        samples=sample_json([{"customer_id": "C1", "first_contact_date": dt.date(2024, 5, 1)}]),
    )
    row = check.as_row("R1")
    assert row["run_id"] == "R1" and row["severity"] == "warning"
    assert json.loads(row["samples"]) == [{"customer_id": "C1", "first_contact_date": "2024-05-01"}]


def test_field_completeness_counts_contact_as_mobile_or_landline():
    frame = pl.DataFrame(
        {"mobile": ["+86138", None, None], "phone": [None, "+8621", None], "owner": ["a", None, "b"]}
    )
    assert field_completeness(frame, ["contact", "owner"]) == pytest.approx(
        {"contact": 2 / 3, "owner": 2 / 3}
    )
