"""Excel files handed to people: per-owner worklists (补录清单) and the monthly audit sample (抽检样本)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from cleaners.kpis import stratified_sample
from cleaners.worklists import (
    STAGE_LABELS,
    WORKLIST_COLUMNS,
    columns_to_fill,
    file_safe,
    looks_like_formula,
    worklist_customers,
)

UNASSIGNED = "未分配"
TO_FILL = PatternFill("solid", fgColor="FFF2CC")
HEADER = PatternFill("solid", fgColor="D9E2EC")
AUDIT_COLUMNS = {
    "customer_id": "客户编号",
    "customer_name": "客户名称",
    "contact_name": "联系人",
    "mobile": "手机",
    "phone": "联系电话",
    "email": "邮箱",
    "industry": "所属行业",
    "customer_type": "客户类型",
    "first_contact_date": "首次接触时间",
    "source_channel": "客户来源",
    "owner": "负责人",
    "completeness": "完整度",
}
AUDIT_ANSWERS = ["核对结果（正确/有误）", "有误的字段", "核对人", "核对日期", "备注"]


def worklist_file_name(owner: str | None) -> str:
    """`张伟.xlsx`; customers with no owner go to `未分配.xlsx`."""
    return f"{file_safe(owner or UNASSIGNED)}.xlsx"


def _set(cell: Cell, value: Any) -> None:
    """Write a value; text a spreadsheet would run as a formula is stored as text."""
    if isinstance(value, list):
        value = "、".join(str(v) for v in value)
    cell.value = value
    if looks_like_formula(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    if isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"


def _title(ws: Worksheet, text: str, width: int) -> None:
    ws.append([text])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1).font = Font(bold=True, size=12)
    ws.cell(1, 1).alignment = Alignment(vertical="center")
    ws.row_dimensions[1].height = 24


def _header(ws: Worksheet, headers: Sequence[str]) -> None:
    ws.append(list(headers))
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
        cell.fill = HEADER
    ws.freeze_panes = f"C{ws.max_row + 1}"
    for index, header in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(index)].width = max(12, min(28, len(header) * 2 + 6))


def _customers(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    frame = pl.from_arrow(
        con.sql("SELECT * EXCLUDE (tags, field_sources, other_phones) FROM customers").arrow().read_all()
    )
    assert isinstance(frame, pl.DataFrame)
    return frame


def write_worklist(path: Path, owner: str | None, rows: pl.DataFrame, run_id: str) -> Path:
    """One rep's worklist: missing cells yellow and editable, every other cell read-only context."""
    fields = list(WORKLIST_COLUMNS)
    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = "补录清单"
    _title(
        ws,
        f"补录清单 · {owner or UNASSIGNED} · 运行 {run_id} · 请只填写黄色单元格，填好后放回收件箱",
        len(fields),
    )
    _header(ws, [WORKLIST_COLUMNS[f] for f in fields])
    type_column = get_column_letter(fields.index("customer_type") + 1)
    stages = DataValidation(
        type="list",
        formula1='"' + ",".join(STAGE_LABELS.values()) + '"',
        allow_blank=True,
        errorStyle="warning",
    )
    ws.add_data_validation(stages)
    for record in rows.iter_rows(named=True):
        ws.append([None] * len(fields))
        row = ws.max_row
        to_fill = set(columns_to_fill(record["missing_fields"] or []))
        for index, field in enumerate(fields, start=1):
            cell = ws.cell(row, index)
            _set(cell, record.get(field))
            if field in to_fill:
                cell.fill = TO_FILL
                cell.protection = Protection(locked=False)
                if field == "customer_type":
                    stages.add(f"{type_column}{row}")
                if field == "first_contact_date":
                    cell.number_format = "yyyy-mm-dd"
    # Protected without a password: it guards against slips, not against the rep.
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.autoFilter = False
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def write_worklists(con: duckdb.DuckDBPyConnection, folder: Path, run_id: str) -> list[Path]:
    """`<folder>/<owner>.xlsx` for every owner with customers missing a required field."""
    pending = worklist_customers(_customers(con))
    written = []
    for (owner,), rows in pending.group_by("owner", maintain_order=True):
        written.append(write_worklist(folder / worklist_file_name(owner), owner, rows, run_id))
    return written


def audit_seed(run_id: str) -> int:
    """The audit sample's seed: fixed by the run id, so a run's sample can always be drawn again."""
    return int(hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:8], 16)


def write_audit_sample(con: duckdb.DuckDBPyConnection, path: Path, run_id: str, share: float) -> Path:
    """A seeded random `share` of customers per owner, with blank columns for the checker's verdict."""
    seed = audit_seed(run_id)
    sample = stratified_sample(_customers(con), "owner", share, seed, "customer_id").sort(
        "owner", "customer_id", nulls_last=True
    )
    fields = list(AUDIT_COLUMNS)
    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = "抽检样本"
    _title(
        ws,
        f"抽检样本 · 运行 {run_id} · 每位负责人随机抽取 {share:.0%}（种子 {seed}）· 共 {sample.height} 个客户",
        len(fields) + len(AUDIT_ANSWERS),
    )
    _header(ws, [AUDIT_COLUMNS[f] for f in fields] + AUDIT_ANSWERS)
    verdicts = DataValidation(type="list", formula1='"正确,有误"', allow_blank=True, errorStyle="warning")
    ws.add_data_validation(verdicts)
    for record in sample.iter_rows(named=True):
        ws.append([None] * (len(fields) + len(AUDIT_ANSWERS)))
        row = ws.max_row
        for index, field in enumerate(fields, start=1):
            value = record.get(field)
            if field == "customer_type" and record.get("customer_stage") in STAGE_LABELS:
                value = STAGE_LABELS[record["customer_stage"]]
            _set(ws.cell(row, index), value)
        ws.cell(row, fields.index("completeness") + 1).number_format = "0%"
        for offset in range(len(AUDIT_ANSWERS)):
            ws.cell(row, len(fields) + 1 + offset).fill = TO_FILL
        verdicts.add(f"{get_column_letter(len(fields) + 1)}{row}")
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
