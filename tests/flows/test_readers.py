import datetime as dt
import json

import pytest

from crm_etl.flows.readers import InputFileError, decode_text, raw_text, read_csv, read_jsonl, read_workbook
from tests.flows.conftest import write_ledger


def test_workbook_rows_keep_spreadsheet_row_numbers(tmp_path):
    path = write_ledger(tmp_path / "a.xlsx", [["甲公司", "张三", 13800138000, dt.date(2024, 5, 1), "张伟"]])
    (sheet,) = read_workbook(path, "a.xlsx")
    assert sheet.source_sheet == "客户台账"
    assert sheet.row_numbers[:3] == [1, 2, 3]
    assert sheet.rows[1][0] == "客户名称"
    assert sheet.rows[2][2] == 13800138000
    assert sheet.rows[2][3] == dt.date(2024, 5, 1)
    assert sheet.excel_1904 is False


def test_workbook_declaring_1904_dates_is_flagged(tmp_path):
    path = write_ledger(tmp_path / "mac.xlsx", [["甲公司", "张三", "1", 45000, "x"]], date1904=True)
    (sheet,) = read_workbook(path, "mac.xlsx")
    assert sheet.excel_1904 is True


def test_corrupt_workbook_names_the_file(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive" * 10)
    with pytest.raises(InputFileError, match=r"broken\.xlsx: not a readable Excel workbook"):
        read_workbook(path, "broken.xlsx")


def test_gb18030_csv_with_multiline_field_keeps_start_lines(tmp_path):
    text = 'Record Id,Account Name,Title\nACC-1,上海宏达机械,"经理\n（华东区）"\nACC-2,杭州华鼎,总监\n'
    path = tmp_path / "accounts.csv"
    path.write_bytes(text.encode("gb18030"))
    sheet = read_csv(path, "accounts.csv")
    assert sheet.encoding == "gb18030"
    assert sheet.row_numbers == [1, 2, 4]
    assert sheet.rows[1] == ["ACC-1", "上海宏达机械", "经理\n（华东区）"]
    assert sheet.rows[2][1] == "杭州华鼎"


def test_blank_lines_inside_a_csv_are_rows(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("a,b\n1,2\n\n3,4\n\n", encoding="utf-8")
    sheet = read_csv(path, "a.csv")
    assert sheet.row_numbers == [1, 2, 3, 4]
    assert sheet.rows == [["a", "b"], ["1", "2"], [], ["3", "4"]]


def test_big5_is_not_mistaken_for_gb18030():
    text = "公司名稱,聯繫人,手機\n深圳市華強電子有限公司,張偉,13800138000\n" * 3
    decoded, encoding = decode_text(text.encode("big5"), "tw.csv")
    assert decoded == text
    assert encoding.lower().replace("_", "") in {"big5", "cp950", "big5hkscs"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"name,phone\n\x00\x01\x02\x00", "binary content"),
        (b"name,phone\n" + bytes(range(0x80, 0x100)) * 3, "cannot decode the text"),
    ],
    ids=["empty", "binary", "undecodable"],
)
def test_undecodable_text_names_the_file(data, message):
    with pytest.raises(InputFileError, match=rf"bad\.csv: .*{message}"):
        decode_text(data, "bad.csv")


def test_jsonl_invalid_and_blank_lines_are_kept_as_rows(tmp_path):
    path = tmp_path / "forms.jsonl"
    lines = [
        json.dumps({"company": "甲", "phone": 13800138000}, ensure_ascii=False),
        "",
        '{"company": "杭州',
        json.dumps({"company": "乙", "email": "a@b.cn"}, ensure_ascii=False),
        "[1, 2]",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sheet = read_jsonl(path, "forms.jsonl")
    assert sheet.header == ["company", "phone", "email"]
    assert sheet.row_numbers == [1, 2, 3, 4, 5]
    assert sheet.rows[0] == ["甲", 13800138000, None]
    assert sheet.rows[1] == [None, None, None]
    assert set(sheet.row_errors) == {2, 4}
    assert sheet.row_errors[2][0] == "invalid_json"


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (13800138000.0, "13800138000"),
        (1.5, "1.5"),
        (dt.date(2024, 5, 1), "2024-05-01"),
        (dt.datetime(2024, 5, 1, 0, 0), "2024-05-01"),
        (dt.datetime(2024, 5, 1, 9, 30), "2024-05-01 09:30:00"),
        ("  ", None),
        (None, None),
        (True, "TRUE"),
        (float("nan"), None),
    ],
    ids=["integral-float", "float", "date", "midnight-datetime", "datetime", "spaces", "none", "bool", "nan"],
)
def test_raw_text(cell, text):
    assert raw_text(cell) == text


@pytest.mark.parametrize(
    ("cell", "text", "lossy"),
    [
        (999_999_999_999_999.0, "999999999999999", False),  # 15 digits: Excel keeps them all
        (1_234_567_890_123_456.0, "1234567890123456.0", True),  # a 16-digit order number typed as a number
        (110_105_199_001_011_000.0, "1.10105199001011e+17", True),  # an ID card number, last digits zeroed
        (13_800_138_000.0, "13800138000", False),
    ],
    ids=["15-digits", "16-digits", "id-card", "mobile"],
)
def test_a_number_cell_past_15_digits_stays_a_float_the_lossy_check_sees(cell, text, lossy):
    from crm_etl.cleaners.lossy_numbers import is_lossy_number
    from crm_etl.flows.cells import cell_columns

    assert raw_text(cell) == text
    assert cell_columns([[cell]], 1)[0].text.to_list() == [text]  # the vectorised reading agrees
    assert is_lossy_number(text) is lossy
