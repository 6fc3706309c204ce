"""A CRM's accounts export and its contacts export in one inbox, through the real flow: every person
is a contact of their company, and a company only the contacts export knows becomes a customer."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import openpyxl
import pytest

from crm_etl.cleaners import contact_records as attach
from crm_etl.flows.migrate import migrate

pytestmark = pytest.mark.slow
AS_OF = dt.date(2024, 6, 30)

ACCOUNTS_HEADER = ["Record Id", "Account Name", "Contact Name", "Title", "Mobile", "Industry", "Account Type",
                   "Created Time", "Account Owner"]  # fmt: skip
ACCOUNTS = [
    ["ACC-1", "杭州云帆网络科技有限公司", "周敏", "总经理", "13957160001", "Software", "Customer", "2023-01-10 09:00:00", "王芳"],
    ["ACC-2", "Northwind Robotics", "Anna Li", "CEO", "13957160002", "Manufacturing", "Prospect", "2023-02-11 09:00:00", "王芳"],
    ["ACC-3", "上海宏达机械制造有限公司", "陈建国", "厂长", "13816881234", "Manufacturing", "Customer", "2023-03-12 09:00:00", "张伟"],
    ["ACC-4", "深圳华瑞电子有限公司", "黄海", "经理", "13600000004", "Electronics", "Customer", "2023-04-13 09:00:00", "张伟"],
]  # fmt: skip
# A HubSpot-style contacts export of the same CRM: spellings no file under schemas/ lists.
CONTACTS_HEADER = ["Record ID", "First Name", "Last Name", "Company Name", "Job Title", "Mobile Phone Number",
                   "Email", "Contact owner", "Lifecycle Stage", "Create Date", "Associated Company ID"]  # fmt: skip
CONTACTS = [
    # (row, expected company, expected reason)
    (["C-9001", "强", "李", "杭州云帆网络科技有限公司", "采购经理", "18622334455", "liqiang@yunfan.cn", "赵磊",
      "Lead", "2022-05-01", None], "杭州云帆网络科技有限公司", attach.BY_REGISTERED_NAME),
    (["C-9002", "丽", "孙", "云帆科技", "工程师", "17733221100", None, "赵磊", "Lead", "2022-05-02", "ACC-1"],
     "杭州云帆网络科技有限公司", attach.BY_ACCOUNT_ID),
    (["C-9003", "Tom", "Baker", "Northwind Robotics", "CTO", "15011112222", "tom@northwind.io", "赵磊",
      "Customer", "2022-05-03", None], "Northwind Robotics", attach.BY_COMPANY_NAME),
    (["C-9004", "晓明", "陆", "上海宏达机械制造有限公司", "采购", "15800000007", None, "赵磊", "Lead",
      "2022-05-04", "ACC-3"], "上海宏达机械制造有限公司", attach.BY_ACCOUNT_ID),
    # 华锐 is not 华瑞: a look-alike name is another company.
    (["C-9005", "磊", "赵", "深圳华锐电子有限公司", "经理", "13500000005", None, "赵磊", "Lead", "2022-05-05",
      None], "深圳华锐电子有限公司", attach.CREATED),
    (["C-9006", "婷", "王", "苏州新界环保科技有限公司", "主管", "13300000006", None, "赵磊", "Lead",
      "2022-05-06", None], "苏州新界环保科技有限公司", attach.CREATED),
    (["C-9007", "芳", "钱", "苏州新界环保科技有限公司", "助理", "13300000008", None, "赵磊", "Lead",
      "2022-05-07", None], "苏州新界环保科技有限公司", attach.CREATED),
]  # fmt: skip
# A sheet of 联系人 a sales rep keeps beside the CRM: persons with the company they work at.
PEOPLE_HEADER = ["姓名", "所属公司", "手机", "职务"]
PEOPLE = [
    (["刘洋", "宏达机械制造（上海）有限公司", "13900000009", "技术员"], "上海宏达机械制造有限公司", attach.BY_REGISTERED_NAME),
]  # fmt: skip


def _write_inbox(inbox: Path) -> None:
    (inbox / "crm").mkdir(parents=True)
    with (inbox / "crm" / "accounts.csv").open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ACCOUNTS_HEADER)
        writer.writerows(ACCOUNTS)
    workbook = openpyxl.Workbook()
    contacts = workbook.active
    contacts.title = "Contacts"
    contacts.append(CONTACTS_HEADER)
    for row, _, _ in CONTACTS:
        contacts.append(row)
    people = workbook.create_sheet("联系人")
    people.append(PEOPLE_HEADER)
    for row, _, _ in PEOPLE:
        people.append(row)
    workbook.save(inbox / "crm" / "contacts_export.xlsx")


def test_contacts_export_attaches_people_to_their_companies(
    prefect_harness, tmp_path: Path, inbox: Path
) -> None:
    _write_inbox(inbox)
    db = tmp_path / "crm.duckdb"
    summary = migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=AS_OF)
    assert summary.failed_inputs == []
    con = duckdb.connect(str(db), read_only=True)
    kinds = dict(con.execute("SELECT source_sheet, kind FROM column_mappings GROUP BY ALL").fetchall())
    assert kinds == {"": "customers", "Contacts": "contacts", "联系人": "contacts"}

    # Four accounts and the two companies only the contacts export knows.
    names = {name for (name,) in con.execute("SELECT customer_name FROM customers").fetchall()}
    assert names == {a[1] for a in ACCOUNTS} | {"深圳华锐电子有限公司", "苏州新界环保科技有限公司"}

    reasons = dict(
        con.execute(
            """SELECT source_sheet || '!' || source_row, match_reason FROM customer_sources
               WHERE source_file = 'crm/contacts_export.xlsx'"""
        ).fetchall()
    )
    expected = {f"Contacts!{i}": reason for i, (_, _, reason) in enumerate(CONTACTS, start=2)}
    expected |= {f"联系人!{i}": reason for i, (_, _, reason) in enumerate(PEOPLE, start=2)}
    assert reasons == expected

    # Every person is a contact of the right company; the account's own contact stays primary.
    people = con.execute(
        """SELECT c.customer_name, k.mobile, k.is_primary FROM contacts k JOIN customers c USING (customer_id)"""
    ).fetchall()
    by_mobile = {mobile: (company, primary) for company, mobile, primary in people}
    for row, company, _ in [*CONTACTS, *PEOPLE]:
        mobile = row[5] if len(row) > 4 else row[2]
        assert by_mobile["+86" + mobile][0] == company, row
    for account in ACCOUNTS:
        assert by_mobile["+86" + account[4]] == (account[1], True)

    # Company fields stay the account's: owner, type and first contact are not the contacts'.
    yunfan = con.execute(
        """SELECT owner, customer_type, first_contact_date, contact_name FROM customers
           WHERE customer_name = '杭州云帆网络科技有限公司'"""
    ).fetchone()
    assert yunfan == ("王芳", "customer", dt.date(2023, 1, 10), "周敏")

    # Accounting: each input data row is loaded or quarantined exactly once.
    placed = con.execute(
        """SELECT source_file, source_sheet, source_row, count(*) FROM (
               SELECT source_file, source_sheet, source_row FROM customer_sources
               UNION ALL SELECT source_file, source_sheet, source_row FROM quarantine) GROUP BY ALL"""
    ).fetchall()
    assert len(placed) == len(ACCOUNTS) + len(CONTACTS) + len(PEOPLE)
    assert {n for *_, n in placed} == {1}
    failed = con.execute(
        "SELECT count(*) FROM validation_results WHERE NOT success AND suite = 'run'"
    ).fetchone()
    assert failed == (0,)
    con.close()

    # The next run takes the contacts export from the database (moved to processed/): still contacts.
    (inbox / "processed").mkdir()
    (inbox / "crm" / "contacts_export.xlsx").rename(inbox / "processed" / "contacts_export.xlsx")
    migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=AS_OF)
    with duckdb.connect(str(db), read_only=True) as again:
        kept = dict(
            again.execute(
                """SELECT source_sheet || '!' || source_row, match_reason FROM customer_sources
                   WHERE source_file = 'crm/contacts_export.xlsx'"""
            ).fetchall()
        )
        assert kept == expected
        assert again.execute("SELECT count(*) FROM customers").fetchone() == (len(names),)
