import datetime as dt
import json

import openpyxl

from crm_etl.cleaners.mapping.headers import header_fingerprint
from crm_etl.flows.extract import extract_file, extract_inbox, map_raw_sheet
from crm_etl.flows.inbox import discover_inputs
from crm_etl.flows.readers import read_csv
from crm_etl.schemas import load_config
from crm_etl.schemas.config import MappingOverride
from tests.flows.conftest import write_ledger

CONFIG = load_config()


def test_ledger_below_a_title_row_is_recognised_and_unmapped_columns_kept(inbox):
    write_ledger(
        inbox / "ledger.xlsx",
        [["甲公司", "张三", 13800138000, dt.date(2024, 5, 1), "张伟", "VIP"]],
        header=["客户名称", "联系人", "手机", "首次接触时间", "负责人", "客户等级"],
    )
    result = extract_inbox(inbox, CONFIG)
    (sheet,) = result.sheets
    assert (sheet.spec, sheet.header_row, sheet.rows_read) == ("excel_ledger", 2, 1)
    assert sheet.unmapped_headers == ["客户等级"]
    row = result.records["customers"].row(0, named=True)
    assert row["source_row"] == 3
    assert row["mobile"] == "13800138000"
    assert row["first_contact_date"] == "2024-05-01"
    assert json.loads(row["extra"]) == {"客户等级": "VIP"}
    assert json.loads(row["raw"])["手机"] == 13800138000


def test_trade_show_sign_up_sheet_dates_the_first_contact_by_its_sign_up_time(inbox):
    write_ledger(
        inbox / "展会登记.xlsx",
        [["甲公司", "张三", "13800138000", dt.datetime(2024, 6, 20, 10, 30), "制造业"]],
        header=["公司名称", "联系人", "手机", "登记时间", "所属行业"],
        title=None,
    )
    result = extract_inbox(inbox, CONFIG)
    (sheet,) = result.sheets
    assert (sheet.spec, sheet.unmapped_headers) == ("excel_ledger", [])
    assert result.records["customers"]["first_contact_date"].to_list() == ["2024-06-20 10:30:00"]


def test_each_sheet_is_recognised_by_its_own_headers(inbox):
    workbook = openpyxl.Workbook()
    customers = workbook.active
    customers.title = "客户"
    customers.append(["公司名称", "对接人", "联系电话"])
    customers.append(["甲公司", "张三", "021-62345678"])
    followups = workbook.create_sheet("跟进记录")
    followups.append(["日期", "客户名称", "方式", "沟通内容", "客户反馈"])
    followups.append(["2024-05-02", "甲公司", "电话", "介绍产品", "价格偏高"])
    workbook.create_sheet("空白")
    workbook.save(inbox / "book.xlsx")
    result = extract_inbox(inbox, CONFIG)
    kinds = {s.source_sheet: (s.status, s.spec) for s in result.sheets}
    assert kinds == {
        "客户": ("loaded", "excel_ledger"),
        "跟进记录": ("loaded", "excel_followups"),
        "空白": ("empty", None),
    }
    assert result.records["interactions"]["content"].to_list() == ["介绍产品"]


def test_sheet_without_recognisable_header_fails_with_the_sheet_named(inbox):
    workbook = openpyxl.Workbook()
    workbook.active.title = "杂项"
    workbook.active.append(["foo", "bar"])
    workbook.active.append(["1", "2"])
    workbook.save(inbox / "misc.xlsx")
    result = extract_inbox(inbox, CONFIG)
    assert result.files[0].status == "failed"
    assert result.failed == [result.files[0].error]
    assert "misc.xlsx [sheet 杂项]: no recognisable header row" in result.failed[0]


def test_discovery_skips_hidden_and_processed_files(inbox):
    (inbox / ".hidden.csv").write_text("x")
    (inbox / "processed").mkdir()
    (inbox / "processed" / "old.csv").write_text("x")
    (inbox / "sub").mkdir()
    (inbox / "sub" / "new.csv").write_text("x")
    assert [p.relative_to(inbox).as_posix() for p in discover_inputs(inbox)] == ["sub/new.csv"]


def test_excel_lock_files_are_recorded_as_skipped(inbox):
    (inbox / "~$ledger.xlsx").write_bytes(b"lock")
    result = extract_inbox(inbox, CONFIG)
    assert (result.files[0].status, result.files[0].error) == (
        "skipped",
        "Excel lock file (the workbook is open in Excel)",
    )


CONTACTS_CSV = (
    "Record ID,First Name,Last Name,Company Name,Associated Company ID,Job Title,Email\n"
    "C-1,强,李,杭州云帆网络科技有限公司,ACC-1,采购经理,liqiang@yunfan.cn\n"
)


def test_a_contacts_export_keeps_its_kind_and_account_column_under_a_confirmed_mapping(inbox):
    path = inbox / "contacts.csv"
    path.write_text(CONTACTS_CSV, encoding="utf-8")
    found, _, _ = map_raw_sheet(read_csv(path, "contacts.csv"), CONFIG)
    assert found is not None and found.kind == "contacts"
    assert found.field_by_column == {
        0: "legacy_id",
        3: "customer_name",
        4: "account_ref",
        5: "contact_title",
        6: "email",
    }
    by_engine = extract_file(path, "contacts.csv", CONFIG).records["customers"]
    assert by_engine.select("sheet_kind", "legacy_id", "account_ref").row(0) == ("contacts", "C-1", "ACC-1")

    override = MappingOverride(
        file_pattern="contacts.csv",
        header_fingerprint=header_fingerprint(CONTACTS_CSV.splitlines()[0].split(",")),
        header_row=1,
        spec="legacy_crm_accounts",
        kind="contacts",
        columns={
            "Record ID": "legacy_id",
            "Company Name": "customer_name",
            "Associated Company ID": "account_ref",
        },
    )
    confirmed = CONFIG.model_copy(update={"overrides": [override]})
    records = extract_file(path, "contacts.csv", confirmed).records["customers"]
    assert records.select("sheet_kind", "account_ref").row(0) == ("contacts", "ACC-1")


def test_a_file_extract_pickles_its_frames_compressed_and_reads_them_back_unchanged():
    import pickle
    from pathlib import Path

    from polars.testing import assert_frame_equal

    samples = Path(__file__).resolve().parents[2] / "data" / "samples"
    path = samples / "web_forms.jsonl"
    extract = extract_file(path, "web_forms.jsonl", CONFIG)
    data = pickle.dumps(extract)
    back = pickle.loads(data)
    assert back.outcome == extract.outcome
    assert back.records.keys() == extract.records.keys()
    for record_type, frame in extract.records.items():
        assert_frame_equal(back.records[record_type], frame, check_exact=True)
    # Smaller than the frames as polars pickles them itself (uncompressed Arrow IPC).
    assert len(data) < sum(len(pickle.dumps(f)) for f in extract.records.values())
