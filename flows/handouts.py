"""Excel files handed to people: per-owner worklists (补录清单) and the monthly audit sample (抽检样本)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from cleaners.kpis import stratified_sample
from cleaners.worklists import (
    STAGE_LABELS,
    WORKLIST_COLUMNS,
    columns_to_fill,
    file_safe,
    looks_like_formula,
    worklist_customers,
)
from flows.texts import messages
from schemas import Config
from schemas.contracts import Contracts, load_contracts

UNASSIGNED = "未分配"
TO_FILL = "#FFF2CC"
HEADER = "#D9E2EC"
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


class _Sheet:
    """One streamed sheet (rows written in order): a merged title row, a header row, then data rows."""

    def __init__(self, path: Path, name: str, title: str, headers: Sequence[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Strings are never turned into formulas, numbers or links: what a cell held is what is written.
        self.book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        self.formats: dict[tuple[bool, bool, str | None], Format] = {}
        self.ws: Worksheet = self.book.add_worksheet(name)
        for index, header in enumerate(headers):
            self.ws.set_column(index, index, max(12, min(28, len(header) * 2 + 6)))
        self.ws.freeze_panes(2, 2)
        self.ws.merge_range(
            0, 0, 0, len(headers) - 1, title, self.book.add_format({"bold": True, "font_size": 12})
        )
        header_format = self.book.add_format({"bold": True, "bg_color": HEADER})
        for index, header in enumerate(headers):
            self.ws.write_string(1, index, header, header_format)
        self.row = 2

    def _format(self, to_fill: bool, quote: bool, number_format: str | None) -> Format | None:
        key = (to_fill, quote, number_format)
        if key == (False, False, None):
            return None
        if key not in self.formats:
            properties: dict[str, Any] = {}
            if to_fill:
                properties |= {"bg_color": TO_FILL, "locked": False}
            if quote:
                # Shown and kept as text when the cell is edited (=, +, -, @ would start a formula).
                properties["quote_prefix"] = True
            if number_format:
                properties["num_format"] = number_format
            self.formats[key] = self.book.add_format(properties)
        return self.formats[key]

    def write_row(
        self, values: Sequence[Any], to_fill: Collection[int] = (), formats: dict[int, str] | None = None
    ) -> None:
        for column, value in enumerate(values):
            number_format = (formats or {}).get(column)
            if isinstance(value, list):
                value = "、".join(str(v) for v in value)
            if isinstance(value, dt.date):
                fmt = self._format(column in to_fill, False, number_format or "yyyy-mm-dd")
                self.ws.write_datetime(self.row, column, dt.datetime.combine(value, dt.time()), fmt)
            elif isinstance(value, bool):
                self.ws.write_boolean(self.row, column, value, self._format(column in to_fill, False, None))
            elif isinstance(value, int | float):
                self.ws.write_number(
                    self.row, column, value, self._format(column in to_fill, False, number_format)
                )
            elif value is None or value == "":
                fmt = self._format(column in to_fill, False, number_format)
                if fmt is not None:
                    self.ws.write_blank(self.row, column, None, fmt)
            else:
                text = str(value)
                fmt = self._format(column in to_fill, looks_like_formula(text), number_format)
                self.ws.write_string(self.row, column, text, fmt)
        self.row += 1

    def choices(self, column: int, values: Sequence[str]) -> None:
        """A drop-down of `values` on a column's data rows (other values are warned about, not refused)."""
        if self.row > 2:
            self.ws.data_validation(
                2,
                column,
                self.row - 1,
                column,
                {"validate": "list", "source": list(values), "error_type": "warning"},
            )

    def close(self, protect: bool) -> None:
        if protect:
            # Without a password: it guards against slips, not against the rep.
            self.ws.protect("", {"format_columns": True, "autofilter": True})
        self.book.close()


def _customers(con: duckdb.DuckDBPyConnection, columns: Collection[str]) -> pl.DataFrame:
    """The customers with only the columns a handout shows or chooses by (and customer_stage, shown as a type)."""
    wanted = ", ".join(f'"{c}"' for c in dict.fromkeys(["customer_id", "owner", "customer_stage", *columns]))
    frame = pl.from_arrow(con.sql(f"SELECT {wanted} FROM customers").arrow().read_all())
    assert isinstance(frame, pl.DataFrame)
    return frame


def write_worklist(
    path: Path, owner: str | None, rows: pl.DataFrame, run_id: str, labels: dict[str, str] | None = None
) -> Path:
    """One rep's worklist: missing cells yellow and editable, every other cell read-only context.

    `labels` names the missing fields in the rep's words (field -> 客户名称 …).
    """
    fields = list(WORKLIST_COLUMNS)
    sheet = _Sheet(
        path,
        "补录清单",
        f"补录清单 · {owner or UNASSIGNED} · 运行 {run_id} · 请只填写黄色单元格，填好后放回收件箱",
        [WORKLIST_COLUMNS[f] for f in fields],
    )
    dates = {fields.index("first_contact_date"): "yyyy-mm-dd"}
    for record in rows.iter_rows(named=True):
        missing = record["missing_fields"] or []
        to_fill = {fields.index(c) for c in columns_to_fill(missing)}
        record["missing_fields"] = [(labels or {}).get(f, f) for f in missing]
        sheet.write_row([record.get(f) for f in fields], to_fill, dates)
    sheet.choices(fields.index("customer_type"), list(STAGE_LABELS.values()))
    sheet.close(protect=True)
    return path


def write_worklists(
    con: duckdb.DuckDBPyConnection, folder: Path, run_id: str, labels: dict[str, str] | None = None
) -> list[Path]:
    """`<folder>/<owner>.xlsx` for every owner with customers missing a required field."""
    pending = worklist_customers(_customers(con, WORKLIST_COLUMNS))
    written = []
    for (owner,), rows in pending.group_by("owner", maintain_order=True):
        written.append(write_worklist(folder / worklist_file_name(owner), owner, rows, run_id, labels))
    return written


def audit_seed(run_id: str) -> int:
    """The audit sample's seed: fixed by the run id, so a run's sample can always be drawn again."""
    return int(hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:8], 16)


def write_audit_sample(con: duckdb.DuckDBPyConnection, path: Path, run_id: str, share: float) -> Path:
    """A seeded random `share` of customers per owner, with blank columns for the checker's verdict."""
    seed = audit_seed(run_id)
    sample = stratified_sample(_customers(con, AUDIT_COLUMNS), "owner", share, seed, "customer_id").sort(
        "owner", "customer_id", nulls_last=True
    )
    fields = list(AUDIT_COLUMNS)
    sheet = _Sheet(
        path,
        "抽检样本",
        f"抽检样本 · 运行 {run_id} · 每位负责人随机抽取 {share:.0%}（种子 {seed}）· 共 {sample.height} 个客户",
        [AUDIT_COLUMNS[f] for f in fields] + AUDIT_ANSWERS,
    )
    answers = set(range(len(fields), len(fields) + len(AUDIT_ANSWERS)))
    formats = {fields.index("completeness"): "0%"}
    for record in sample.iter_rows(named=True):
        if record.get("customer_stage") in STAGE_LABELS:
            record["customer_type"] = STAGE_LABELS[record["customer_stage"]]
        sheet.write_row([record.get(f) for f in fields] + [None] * len(AUDIT_ANSWERS), answers, formats)
    sheet.choices(len(fields), ["正确", "有误"])
    sheet.close(protect=False)
    return path


def write_handouts(
    con: duckdb.DuckDBPyConnection, folder: Path, run_id: str, contracts: Contracts
) -> list[Path]:
    """Write a run's per-owner worklists and its audit sample into its report folder."""
    config = contracts.config
    labels = {f: d.label for f, d in config.canonical.record_types["customers"].items()}
    labels["contact"] = messages()["fields"]["contact"]["zh-CN"]
    written = write_worklists(con, folder / "worklists", run_id, labels)
    written.append(
        write_audit_sample(con, folder / "audit-sample.xlsx", run_id, contracts.report.audit_sample.share)
    )
    return written


def handouts(db: Path, reports: Path, run_id: str, config: Config) -> list[Path]:
    """Write the per-owner worklists and the audit sample of a published run from its file."""
    with duckdb.connect(str(db), read_only=True) as con:
        return write_handouts(con, reports / run_id, run_id, load_contracts(config.directory))
