"""Spec of record cleaning where it decides about IDs: a source ID that lost digits as a spreadsheet
number is a doubt on the record and never a key, a merge or a link."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from crm_etl.cleaners.customers import resolve_customers
from crm_etl.cleaners.records import clean_customers, clean_orders
from crm_etl.flows.extract import empty_records
from crm_etl.flows.tasks import cleaning_tables
from crm_etl.schemas import load_config

CONFIG = load_config()
AS_OF = dt.date(2024, 6, 30)
TABLES = cleaning_tables(CONFIG, AS_OF)
PREVIOUS = pl.DataFrame(
    schema={"source_system": pl.String, "source_key": pl.String, "customer_id": pl.String}
)


def _raw(record_type: str, *rows: dict[str, Any]) -> pl.DataFrame:
    template = empty_records(CONFIG, record_type)  # type: ignore[arg-type]
    lineage = {
        "source_system": "legacy_crm",
        "source_spec": f"legacy_crm_{record_type}",
        "source_file": f"{record_type}.csv",
        "source_sheet": "",
        "excel_1904": False,
        "sheet_kind": record_type,
        "raw": "{}",
    }
    records = [{**lineage, "source_row": row, **cells} for row, cells in enumerate(rows, start=2)]
    return pl.DataFrame(records, schema=template.schema)


# Two companies whose 18-digit IDs a spreadsheet rounded to the same six digits.
TWO_ACCOUNTS = (
    {"legacy_id": "1.10105E+17", "customer_name": "杭州云帆网络科技有限公司", "mobile": "13957160001"},
    {"legacy_id": "1.10105E+17", "customer_name": "宁波海通国际贸易有限公司", "mobile": "13957160002"},
)


def test_a_lossy_legacy_id_is_a_doubt_and_no_value() -> None:
    cleaned = clean_customers(_raw("customers", *TWO_ACCOUNTS), TABLES)
    assert cleaned["legacy_id"].to_list() == [None, None]
    assert cleaned["issues"].to_list() == [["legacy_id:id_lossy_number"]] * 2
    assert cleaned["reject_reason"].to_list() == [None, None]


def test_records_sharing_a_lossy_id_are_neither_keyed_nor_merged_by_it() -> None:
    resolved = resolve_customers(
        clean_customers(_raw("customers", *TWO_ACCOUNTS), TABLES),
        PREVIOUS,
        CONFIG.pipeline.customer_id_pattern,
        CONFIG.pipeline.completeness_fields,
        AS_OF,
        CONFIG.dedupe,
    )
    assert resolved.golden.height == 2
    # The source key falls back to where the record sits, as for a record without an ID.
    assert resolved.records.sort("source_row")["source_key"].to_list() == [
        "customers.csv#!2",
        "customers.csv#!3",
    ]


def test_a_lossy_account_reference_is_no_account() -> None:
    contact = {"account_ref": "1.10105E+17", "customer_name": "云帆网络", "contact_name": "李强"}
    cleaned = clean_customers(_raw("customers", contact), TABLES)
    assert cleaned["account_ref"].to_list() == [None]
    assert cleaned["issues"].to_list() == [["account_ref:id_lossy_number"]]


def test_an_order_whose_lossy_customer_id_is_all_it_has_is_quarantined_with_that_reason() -> None:
    orders = _raw(
        "orders",
        {"order_id": "1.10105E+17", "customer_ref": "1.3E+10", "order_date": "2024-03-25", "amount_cny": "9000"},
        {"order_id": "SO-2", "customer_ref": "1.3E+10", "customer_name": "云帆网络", "order_date": "2024-03-25",
         "amount_cny": "9000"},
    )  # fmt: skip
    cleaned = clean_orders(orders, TABLES)
    assert cleaned["order_id"].to_list() == [None, "SO-2"]
    assert cleaned["customer_ref"].to_list() == [None, None]
    # The second names its company: it links by name, later, and is not rejected here.
    assert cleaned["reject_reason"].to_list() == ["id_lossy_number", None]
    assert cleaned["reject_detail"][0] == "customer_ref: 1.3E+10 lost digits as a spreadsheet number"
