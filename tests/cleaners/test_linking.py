import polars as pl
import pytest

from crm_etl.cleaners.linking import BY_CUSTOMER_ID, BY_FOREIGN_REF, BY_NAME, BY_REF, link_to_customers

LOADED = pl.DataFrame(
    {
        "source_system": [
            "legacy_crm",
            "excel_ledger",
            "excel_ledger",
            "web_form",
            "legacy_crm",
            "excel_ledger",
        ],
        "legacy_id": ["ACC-1", "C20240501001", "ACC-1", None, "ACC-9", None],
        "company_key": ["宏达机械制造", "宏达机械制造", "明远五金工具", "宏达机械", "华强电子", "华强电子"],
        "customer_id": ["C1", "C1", "C2", "C1", "C3", "C4"],
    }
)
GOLDEN = pl.DataFrame(
    {
        "customer_id": ["C1", "C2", "C3", "C4"],
        "company_key": ["宏达机械制造", "明远五金工具", "华强电子", "华强电子"],
    }
)


def rows(*refs: tuple[str, str | None, str | None, str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source_system": [r[0] for r in refs],
            "customer_ref": [r[1] for r in refs],
            "customer_name": [r[2] for r in refs],
            "company_key": [r[3] for r in refs],
            "reject_reason": [None] * len(refs),
            "reject_detail": [None] * len(refs),
        },
        schema={
            "source_system": pl.String,
            "customer_ref": pl.String,
            "customer_name": pl.String,
            "company_key": pl.String,
            "reject_reason": pl.String,
            "reject_detail": pl.String,
        },
    )


@pytest.mark.parametrize(
    ("row", "customer", "reason"),
    [
        # ACC-1 names different customers in the two systems: the row's own system decides.
        (("legacy_crm", "ACC-1", None, None), "C1", BY_REF),
        (("excel_ledger", "ACC-1", None, None), "C2", BY_REF),
        (("excel_ledger", "C2", None, None), "C2", BY_CUSTOMER_ID),
        (("excel_ledger", "ACC-9", None, None), "C3", BY_FOREIGN_REF),
        # The web form's short name links too: any record's key counts.
        (("excel_ledger", None, "上海宏达机械", "宏达机械"), "C1", BY_NAME),
        (("legacy_crm", "ACC-404", "宏达机械制造（上海）有限公司", "宏达机械制造"), "C1", BY_NAME),
    ],
    ids=[
        "same-system-id",
        "same-id-other-system",
        "our-customer-id",
        "unique-foreign-id",
        "short-name",
        "name-after-bad-id",
    ],
)
def test_links_through_the_referenced_record(row, customer, reason):
    linked = link_to_customers(rows(row), LOADED, GOLDEN)
    assert linked.select("customer_id", "link_reason", "reject_reason").row(0) == (customer, reason, None)


def test_unknown_and_ambiguous_references_are_rejected_with_reason():
    linked = link_to_customers(
        rows(
            ("legacy_crm", "ACC-404", None, None),
            ("excel_ledger", None, "远景贸易", "远景贸易"),
            ("excel_ledger", None, "华强电子", "华强电子"),
        ),
        LOADED,
        GOLDEN,
    )
    assert linked["customer_id"].to_list() == [None, None, None]
    assert linked["reject_reason"].to_list() == ["unknown_customer", "unknown_customer", "ambiguous_customer"]
    assert linked["reject_detail"].to_list() == [
        "references no loaded customer (ID ACC-404)",
        "references no loaded customer (name 远景贸易)",
        "name 华强电子 fits 2 customers; add the customer ID to link it",
    ]


def test_rows_rejected_earlier_keep_their_reason():
    frame = rows(("legacy_crm", None, None, None)).with_columns(
        pl.lit("blank_row").alias("reject_reason"), pl.lit("empty").alias("reject_detail")
    )
    linked = link_to_customers(frame, LOADED, GOLDEN)
    assert linked.select("reject_reason", "reject_detail").row(0) == ("blank_row", "empty")


def test_a_contact_records_own_id_links_no_order() -> None:
    # CON-7 is a person's ID in a contacts export; the order that names it names no customer.
    loaded = pl.concat(
        [
            LOADED.with_columns(pl.lit("account").alias("record_role")),
            pl.DataFrame(
                {
                    "source_system": ["legacy_crm"],
                    "legacy_id": ["CON-7"],
                    "company_key": ["华强电子"],
                    "customer_id": ["C3"],
                    "record_role": ["contact"],
                }
            ),
        ]
    )
    linked = link_to_customers(rows(("legacy_crm", "CON-7", None, None)), loaded, GOLDEN)
    assert linked["customer_id"].to_list() == [None]
    assert linked["reject_reason"].to_list() == ["unknown_customer"]
