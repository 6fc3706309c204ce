import datetime as dt

import polars as pl
import pytest

from cleaners.worklists import (
    WORKLIST_COLUMNS,
    columns_to_fill,
    filled_by,
    looks_like_formula,
    worklist_customers,
)
from schemas import load_config


@pytest.mark.parametrize(
    ("missing", "columns"),
    [
        (["industry"], ["industry"]),
        (["contact"], ["mobile", "phone"]),
        (["contact", "owner", "contact"], ["mobile", "phone", "owner"]),
        ([], []),
    ],
    ids=["one-field", "contact-is-mobile-or-landline", "deduplicated", "none"],
)
def test_columns_to_fill(missing, columns):
    assert columns_to_fill(missing) == columns


@pytest.mark.parametrize(
    ("value", "formula"),
    [
        ('=HYPERLINK("http://x")', True),
        ("+8613800138000", True),
        ("-1+1", True),
        ("@SUM(A1)", True),
        ("\t=1", True),
        ("上海甲公司", False),
        ("a=b", False),
        (12, False),
        (None, False),
    ],
    ids=["equals", "plus", "minus", "at", "tab", "text", "equals-inside", "number", "null"],
)
def test_looks_like_formula(value, formula):
    assert looks_like_formula(value) is formula


def test_worklist_customers_are_those_missing_a_field_with_types_in_reps_words():
    customers = pl.DataFrame(
        {
            "customer_id": ["C2", "C1", "C3"],
            "owner": ["李娜", "张伟", "张伟"],
            "customer_type": ["prospect", "prospect", "customer"],
            "customer_stage": ["intent", "lead", "deal"],
            "first_contact_date": [dt.date(2024, 1, 1)] * 3,
            "missing_fields": [["industry"], ["contact"], []],
        }
    )
    rows = worklist_customers(customers)
    assert rows["customer_id"].to_list() == ["C1", "C2"]
    assert rows["customer_type"].to_list() == ["潜在客户", "意向客户"]


def test_worklist_headers_are_the_worklist_source_aliases():
    from cleaners.mapping.headers import normalise_header
    from cleaners.worklists import WORKLIST_COLUMNS

    spec = next(s for s in load_config().sources if s.name == "worklist")
    lookup = spec.header_lookup()
    mapped = {field: lookup.get(normalise_header(header)) for field, header in WORKLIST_COLUMNS.items()}
    assert mapped["customer_id"] == "legacy_id"
    assert all(value is not None for value in mapped.values())


@pytest.mark.parametrize("field", ["contact", "mobile", "phone", "industry", "owner", "not_a_column"])
def test_filled_by_inverts_columns_to_fill(field):
    for column in WORKLIST_COLUMNS:
        assert (field in filled_by(column)) == (column in columns_to_fill([field]))
