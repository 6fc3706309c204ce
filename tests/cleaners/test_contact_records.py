"""Spec of contact records: a person at a company attaches to its customer, or creates one only when
no such company exists, and never speaks for the company over the account record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from crm_etl.cleaners import contact_records as attach
from crm_etl.cleaners.customers import ResolvedCustomers, resolve_customers
from crm_etl.cleaners.records import clean_customers
from crm_etl.flows.extract import empty_records
from crm_etl.flows.tasks import cleaning_tables
from crm_etl.schemas import load_config

CONFIG = load_config()
AS_OF = dt.date(2024, 6, 30)
TABLES = cleaning_tables(CONFIG, AS_OF)
PREVIOUS = pl.DataFrame(
    schema={"source_system": pl.String, "source_key": pl.String, "customer_id": pl.String}
)

ACCOUNT = {
    "legacy_id": "ACC-7",
    "customer_name": "杭州云帆网络科技有限公司",
    "contact_name": "周敏",
    "mobile": "13957160001",
    "industry": "软件",
    "owner": "王芳",
    "customer_type": "成交客户",
    "first_contact_date": "2023-03-01",
}
CONTACT = {
    "customer_name": "杭州云帆网络科技有限公司",
    "contact_name": "李强",
    "mobile": "18622334455",
    "contact_title": "采购经理",
    "owner": "赵磊",
    "industry": "互联网",
    "first_contact_date": "2022-01-05",
}


def _raw(*rows: tuple[str, dict[str, Any]]) -> pl.DataFrame:
    """Raw customer records as extraction builds them: (sheet kind, cells) per row, one sheet per kind."""
    template = empty_records(CONFIG, "customers")
    records = [
        {
            "source_system": "legacy_crm",
            "source_spec": "legacy_crm_accounts",
            "source_file": f"{kind}.csv",
            "source_sheet": "",
            "source_row": row,
            "excel_1904": False,
            "sheet_kind": kind,
            "raw": "{}",
            **cells,
        }
        for row, (kind, cells) in enumerate(rows, start=2)
    ]
    return pl.DataFrame(records, schema=template.schema)


def _resolve(*rows: tuple[str, dict[str, Any]]) -> ResolvedCustomers:
    return resolve_customers(
        clean_customers(_raw(*rows), TABLES),
        PREVIOUS,
        CONFIG.pipeline.customer_id_pattern,
        CONFIG.pipeline.completeness_fields,
        AS_OF,
        CONFIG.dedupe,
    )


def _reasons(resolved: ResolvedCustomers) -> list[str]:
    contacts = resolved.records.filter(pl.col("record_role") == "contact").sort("record_idx")
    return contacts["match_reason"].to_list()


ATTACHES = [
    pytest.param(ACCOUNT, CONTACT, attach.BY_REGISTERED_NAME, id="identical-registered-name"),
    pytest.param(
        ACCOUNT,
        {**CONTACT, "customer_name": "云帆网络科技", "account_ref": "ACC-7"},
        attach.BY_ACCOUNT_ID,
        id="account-id-whatever-the-name",
    ),
    pytest.param(
        {**ACCOUNT, "customer_name": "杭州云帆网络科技有限公司广州分公司"},
        {**CONTACT, "customer_name": None, "account_ref": "ACC-7"},
        attach.BY_ACCOUNT_ID,
        id="account-id-of-a-branch-without-a-name",
    ),
    pytest.param(
        {**ACCOUNT, "customer_name": "Yunfan Networks"},
        {**CONTACT, "customer_name": "Yunfan Networks"},
        attach.BY_COMPANY_NAME,
        id="identical-latin-display-name",
    ),
    pytest.param(
        {**ACCOUNT, "customer_name": "云帆网络科技"},
        {**CONTACT, "customer_name": "杭州云帆网络科技有限公司"},
        attach.BY_COMPANY_NAME,
        id="short-account-name-registered-contact-name",
    ),
]


@pytest.mark.parametrize(("account", "contact", "reason"), ATTACHES)
def test_a_contact_attaches_to_its_company(account: dict, contact: dict, reason: str) -> None:
    resolved = _resolve(("customers", account), ("contacts", contact))
    assert resolved.golden.height == 1
    assert _reasons(resolved) == [reason]
    assert sorted(resolved.contacts["name"].to_list()) == ["周敏", "李强"]


APART = [
    pytest.param({**CONTACT, "customer_name": "杭州云伟网络科技有限公司"}, id="look-alike-name"),
    pytest.param({**CONTACT, "customer_name": "云帆"}, id="short-shared-trade-name"),
    pytest.param(
        {**CONTACT, "customer_name": "上海云帆网络科技有限公司"}, id="same-name-registered-elsewhere"
    ),
    pytest.param(
        {**CONTACT, "customer_name": "杭州云帆网络科技有限公司广州分公司"}, id="branch-of-the-account"
    ),
]


@pytest.mark.parametrize("contact", APART)
def test_a_contact_at_another_company_creates_its_customer(contact: dict) -> None:
    resolved = _resolve(("customers", ACCOUNT), ("contacts", contact))
    assert resolved.golden.height == 2
    assert _reasons(resolved) == [attach.CREATED]


def test_a_contact_does_not_attach_by_a_name_two_registered_companies_share() -> None:
    resolved = _resolve(
        ("customers", {**ACCOUNT, "customer_name": "北京云帆网络科技有限公司"}),
        (
            "customers",
            {
                **ACCOUNT,
                "legacy_id": "ACC-8",
                "customer_name": "上海云帆网络科技有限公司",
                "contact_name": "钱进",
                "mobile": "15011112222",
            },
        ),
        ("contacts", {**CONTACT, "customer_name": "云帆网络科技"}),
    )
    assert resolved.golden.height == 3
    assert _reasons(resolved) == [attach.CREATED_AMBIGUOUS]


def test_people_of_a_company_no_account_names_make_one_customer() -> None:
    resolved = _resolve(
        ("contacts", CONTACT),
        ("contacts", {**CONTACT, "contact_name": "孙丽", "mobile": "17733221100"}),
    )
    assert resolved.golden.height == 1
    assert _reasons(resolved) == [attach.CREATED, attach.CREATED]
    assert resolved.contacts.height == 2
    # With no account to speak for it, the company's fields come from its people.
    assert resolved.golden["owner"].to_list() == ["赵磊"]


def test_a_contact_speaks_for_its_person_not_for_the_company() -> None:
    resolved = _resolve(("customers", ACCOUNT), ("contacts", CONTACT))
    golden = resolved.golden.row(0, named=True)
    assert (golden["contact_name"], golden["mobile"]) == ("周敏", "+8613957160001")
    assert golden["contact_title"] is None, "the account's contact has no title; the contact's is not his"
    assert (golden["owner"], golden["industry"]) == ("王芳", "信息传输、软件和信息技术服务业")
    assert golden["customer_type"] == "customer"
    assert golden["first_contact_date"] == dt.date(2023, 3, 1)
    primary = resolved.contacts.filter(pl.col("is_primary"))["name"].to_list()
    assert primary == ["周敏"]


def test_a_contact_fills_what_the_account_does_not_have() -> None:
    account = {k: v for k, v in ACCOUNT.items() if k not in {"contact_name", "mobile", "owner"}}
    resolved = _resolve(("customers", account), ("contacts", CONTACT))
    golden = resolved.golden.row(0, named=True)
    assert (golden["contact_name"], golden["contact_title"], golden["owner"]) == ("李强", "采购经理", "赵磊")
    assert golden["industry"] == "信息传输、软件和信息技术服务业"
    assert resolved.contacts.filter(pl.col("is_primary"))["name"].to_list() == ["李强"]


def test_a_contacts_own_id_is_not_an_account_id() -> None:
    resolved = _resolve(
        ("customers", ACCOUNT),
        ("contacts", {**CONTACT, "customer_name": "宁波海通国际贸易有限公司", "legacy_id": "ACC-7"}),
    )
    assert resolved.golden.height == 2


def test_a_contact_of_no_known_account_and_no_company_name_is_quarantined() -> None:
    resolved = _resolve(
        ("customers", ACCOUNT), ("contacts", {**CONTACT, "customer_name": None, "account_ref": "ACC-99"})
    )
    assert resolved.golden.height == 1
    assert resolved.rejected["reject_reason"].to_list() == ["missing_customer_name"]
