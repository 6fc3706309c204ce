import datetime as dt

import polars as pl
import pytest

from crm_etl.cleaners.worklists import (
    WORKLIST_COLUMNS,
    columns_to_fill,
    filled_by,
    looks_like_formula,
    worklist_customers,
)
from crm_etl.schemas import load_config


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
    from crm_etl.cleaners.mapping.headers import normalise_header
    from crm_etl.cleaners.worklists import WORKLIST_COLUMNS

    spec = next(s for s in load_config().sources if s.name == "worklist")
    lookup = spec.header_lookup()
    mapped = {field: lookup.get(normalise_header(header)) for field, header in WORKLIST_COLUMNS.items()}
    assert mapped["customer_id"] == "legacy_id"
    # The note beside the cells to correct is ignored on the way back (schemas/mapping.yaml).
    assert mapped.pop("problems") is None
    assert all(value is not None for value in mapped.values())


@pytest.mark.parametrize("field", ["contact", "mobile", "phone", "industry", "owner", "not_a_column"])
def test_filled_by_inverts_columns_to_fill(field):
    for column in WORKLIST_COLUMNS:
        assert (field in filled_by(column)) == (column in columns_to_fill([field]))


def _flagged(*rows):
    from crm_etl.cleaners.worklists import FLAGGED_CELLS_SCHEMA

    return pl.DataFrame(list(rows), schema=FLAGGED_CELLS_SCHEMA, orient="row")


CUSTOMERS = pl.DataFrame(
    {
        "customer_id": ["C1", "C2", "C3"],
        "owner": ["张伟", "张伟", "李娜"],
        "customer_stage": ["lead", "lead", "deal"],
        "customer_type": ["prospect", "prospect", "customer"],
        "missing_fields": [["contact"], [], []],
        "mobile": [None, "+8613912345678", "+8613800138000"],
        "phone": [None, None, None],
        "email": ["li@qq.con", None, "a@b.cn"],
        "first_contact_date": [dt.date(2024, 1, 1)] * 3,
    }
)


def test_cells_to_fix_are_flagged_values_the_customer_still_holds():
    from crm_etl.cleaners.worklists import cells_to_fix

    flagged = _flagged(
        ("C1", "mobile", "phone_invalid_length", "1391234567", None),  # nulled, still empty
        ("C1", "email", "email_domain_typo", "li@qq.con", "li@qq.con"),  # kept, still the value
        ("C1", "email", "email_domain_typo", "li@qq.con", "li@qq.con"),  # the same cell loaded twice
        ("C2", "mobile", "phone_invalid_length", "1391234567", None),  # another file gave a good number
        ("C3", "email", "email_domain_typo", "a@b.cm", "a@b.cm"),  # since corrected (worklist sent back)
        ("C3", "mobile", "phone_placeholder_number", "13800138000", "+8613800138000"),
        ("C3", "legacy_id", "id_lossy_number", "1.1E+17", None),  # not the rep's to fix in a worklist
    )
    cells = cells_to_fix(flagged, CUSTOMERS)
    assert cells.select("customer_id", "field").rows() == [
        ("C1", "mobile"),
        ("C1", "email"),
        ("C3", "mobile"),
    ]


def test_problems_are_in_the_reps_words_beside_the_cell_as_typed():
    from crm_etl.cleaners.worklists import UNKNOWN_PROBLEM, problems

    cells = _flagged(
        ("C1", "mobile", "phone_invalid_length", "1391234567", None),
        ("C1", "email", "a_reason_nobody_wrote_words_for", "li@qq.con", "li@qq.con"),
        ("C2", "mobile", "phone_placeholder", None, None),
    )
    out = problems(
        cells,
        {"mobile": "手机", "email": "邮箱"},
        {"phone_invalid_length": "号码位数不对", "phone_placeholder": "不是号码"},
    )
    assert out.rows() == [
        (
            "C1",
            ["mobile", "email"],
            f"手机「1391234567」：号码位数不对；邮箱「li@qq.con」：{UNKNOWN_PROBLEM}",
        ),
        ("C2", ["mobile"], "手机：不是号码"),
    ]


def test_worklist_customers_include_those_with_only_a_value_to_correct_and_cells_are_counted_per_owner():
    from crm_etl.cleaners.worklists import cells_per_owner

    to_fix = pl.DataFrame(
        {"customer_id": ["C1", "C3"], "fix_fields": [["mobile", "email"], ["mobile"]], "problems": ["…", "…"]}
    )
    rows = worklist_customers(CUSTOMERS, to_fix)
    assert rows["customer_id"].to_list() == ["C1", "C3"]  # by owner then ID; C2 has nothing to do
    # C1: 联系方式 (one cell, the mobile it asks for is the flagged one) + the e-mail; C3: the mobile.
    assert dict(cells_per_owner(rows).rows()) == {"张伟": 2, "李娜": 1}
