"""Damaged text files (CSV, JSON Lines): every physical line is accounted for, by a record or by quarantine.

An unclosed quote must not swallow the lines after it into one cell while the accounting, which
counted parsed records, passes; a real multi-line cell must still be one record; a JSON object
printed over lines must be one record, not lost nor a row of garbage per line.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from crm_etl.flows.cli import app
from crm_etl.flows.extract import extract_file
from crm_etl.schemas import load_config

CONFIG = load_config()
HEADER = "客户名称,联系人,手机,地址"
GOOD = [
    "上海甲科技有限公司,张三,13800138001,上海",
    "杭州乙贸易有限公司,李四,13800138002,杭州",
    "南京丙机械有限公司,赵六,13800138004,南京",
    "苏州丁电子有限公司,钱七,13800138005,苏州",
    "无锡戊化工有限公司,孙八,13800138006,无锡",
    "宁波己纺织有限公司,周九,13800138007,宁波",
    "合肥庚食品有限公司,吴十,13800138008,合肥",
    "厦门辛物流有限公司,郑一,13800138009,厦门",
    "福州壬建材有限公司,王二,13800138010,福州",
]
# Line 4 of the file: a quote opens the first cell and is never closed.
DAMAGED = '"华东科技,王五,13800138003'


def unclosed_quote_csv(path: Path, encoding: str = "utf-8") -> Path:
    """A header and ten data lines; the third data line (line 4) opens a quote it never closes."""
    lines = [HEADER, *GOOD[:2], DAMAGED, *GOOD[2:]]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def _customers(path: Path) -> tuple[pl.DataFrame, object]:
    result = extract_file(path, path.name, CONFIG)
    (sheet,) = result.outcome.sheets
    return result.records["customers"], sheet


def test_an_unclosed_quote_quarantines_its_line_and_the_lines_around_it_load(tmp_path):
    records, sheet = _customers(unclosed_quote_csv(tmp_path / "ledger.csv"))
    assert records["source_row"].to_list() == list(range(2, 12))  # every data line, once
    assert sheet.lines_read == sheet.rows_read == 10
    good = records.filter(pl.col("extract_reason").is_null())
    assert good["customer_name"].to_list() == [line.split(",")[0] for line in GOOD]
    damaged = records.filter(pl.col("extract_reason").is_not_null()).row(0, named=True)
    assert (damaged["source_row"], damaged["extract_reason"]) == (4, "unbalanced_quote")
    assert "lines 4–11" in damaged["extract_detail"]
    raw = json.loads(damaged["raw"])
    assert raw["(line)"] == DAMAGED  # the line as written
    assert (raw["客户名称"], raw["联系人"], raw["手机"]) == ('"华东科技', "王五", "13800138003")


def test_a_multiline_quoted_address_is_one_record_and_no_quarantine(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text(
        f'{HEADER}\n{GOOD[0]}\n上海宏达机械有限公司,陈明,13900139000,"上海市浦东新区\n张江路88号\n3号楼"\n{GOOD[1]}\n',
        encoding="utf-8",
    )
    records, sheet = _customers(path)
    assert records["source_row"].to_list() == [2, 3, 6]
    assert records["extract_reason"].null_count() == 3
    assert records["address"][1] == "上海市浦东新区\n张江路88号\n3号楼"
    assert (sheet.rows_read, sheet.lines_read) == (3, 5)


def test_a_gb18030_file_with_a_damaged_line_and_a_real_multiline_cell_after_it(tmp_path):
    path = tmp_path / "旧系统导出.csv"
    lines = [
        HEADER,
        GOOD[0],
        DAMAGED,
        GOOD[1],
        '深圳庚电子有限公司,刘备,13700137000,"深圳市南山区\n科技园"',
        GOOD[2],
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    records, sheet = _customers(path)
    assert sheet.encoding == "gb18030"
    assert records["source_row"].to_list() == [2, 3, 4, 5, 7]
    assert dict(zip(records["source_row"], records["extract_reason"], strict=True)) == {
        2: None,
        3: "unbalanced_quote",
        4: None,
        5: None,
        7: None,
    }
    assert records["address"][3] == "深圳市南山区\n科技园"
    assert json.loads(records["raw"][1])["(line)"] == DAMAGED
    assert sheet.lines_read == 6


def test_a_stray_quote_on_a_line_that_still_splits_right_loads_as_text(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text(
        f'{HEADER}\n{GOOD[0]}\n"华东科技有限公司,王五,13800138003,上海\n{GOOD[1]}\n', encoding="utf-8"
    )
    records, sheet = _customers(path)
    assert records["extract_reason"].null_count() == 3
    assert records["customer_name"][1] == '"华东科技有限公司'
    assert sheet.note is not None and sheet.note.startswith("line 3: a quote opened and never closed")


def test_a_quote_that_swallows_past_the_csv_field_limit_does_not_fail_the_file(tmp_path):
    path = tmp_path / "big.csv"
    good = [f"公司{i:05d}有限公司,联系人,138{i:08d},城市" for i in range(5000)]  # > 131,072 characters
    path.write_text("\n".join([HEADER, DAMAGED, *good]) + "\n", encoding="utf-8")
    records, sheet = _customers(path)
    assert records.height == 5001 and sheet.status == "loaded"
    assert records.filter(pl.col("extract_reason") == "unbalanced_quote")["source_row"].to_list() == [2]


def test_a_pretty_printed_json_object_in_the_middle_is_one_record(tmp_path):
    path = tmp_path / "forms.jsonl"
    pretty = json.dumps({"company": "杭州丙网络有限公司", "name": "王五", "mobile": "13700137000"}, indent=2)
    lines = [
        json.dumps(
            {"company": "上海甲科技有限公司", "name": "张三", "mobile": "13800138001"}, ensure_ascii=False
        ),
        pretty,  # lines 2-6
        '{"company": "杭州',  # truncated: its own line
        json.dumps(
            {"company": "南京丙机械有限公司", "name": "赵六", "mobile": "13800138004"}, ensure_ascii=False
        ),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records, sheet = _customers(path)
    assert records["source_row"].to_list() == [1, 2, 7, 8]
    assert records["extract_reason"].to_list() == [None, None, "invalid_json", None]
    assert records["customer_name"][1] == "杭州丙网络有限公司"
    assert (sheet.rows_read, sheet.lines_read) == (4, 8)


def test_a_header_cell_over_two_lines_is_the_header_not_a_lost_line(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(f'"客户\n名称",联系人,手机,地址\n{GOOD[0]}\n{GOOD[1]}\n', encoding="utf-8")
    records, sheet = _customers(path)
    assert sheet.status == "loaded" and sheet.header_row == 1
    assert records["source_row"].to_list() == [3, 4]
    assert records["customer_name"].to_list() == [GOOD[0].split(",")[0], GOOD[1].split(",")[0]]


@pytest.mark.slow
def test_a_run_accounts_for_every_line_of_damaged_text_files(prefect_harness, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    unclosed_quote_csv(inbox / "ledger.csv")
    (inbox / "forms.jsonl").write_text(
        json.dumps({"company": "杭州丙网络有限公司", "name": "王五", "mobile": "13700137000"}, indent=2)
        + "\n",
        encoding="utf-8",
    )
    db = tmp_path / "crm.duckdb"
    args = ["run", "--inbox", str(inbox), "--db", str(db), "--reports", str(tmp_path / "reports")]
    result = CliRunner().invoke(app, [*args, "--as-of", "2024-06-30"])
    assert result.exit_code == 0, result.output  # quarantined lines are a published run, as documented
    flat = " ".join(result.output.split())
    assert "unbalanced_quote" in flat and "1 (5 lines)" in flat
    with duckdb.connect(str(db), read_only=True) as con:
        placed = con.execute(
            """SELECT source_row, 'loaded' FROM customer_sources WHERE source_file = 'ledger.csv'
               UNION ALL SELECT source_row, reason FROM quarantine WHERE source_file = 'ledger.csv'"""
        ).fetchall()
        raw = con.execute("SELECT raw FROM quarantine WHERE reason = 'unbalanced_quote'").fetchone()[0]
        customers = {r[0] for r in con.execute("SELECT customer_name FROM customers").fetchall()}
    assert sorted(row for row, _ in placed) == list(range(2, 12))  # each line exactly once
    assert dict(placed)[4] == "unbalanced_quote"
    assert json.loads(raw)["(line)"] == DAMAGED
    assert "杭州丙网络有限公司" in customers and len(customers) == 10
