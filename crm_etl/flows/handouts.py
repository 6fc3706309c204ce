"""Excel files handed to people: per-owner worklists (补录清单) and the monthly audit sample (抽检样本)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from crm_etl.cleaners.file_names import safe_file_name
from crm_etl.cleaners.kpis import stratified_sample
from crm_etl.cleaners.spreadsheet import truncate_cell, truncate_cells
from crm_etl.cleaners.worklists import (
    AUDIT_ANSWERS,
    AUDIT_COLUMNS,
    FLAGGED_CELLS_SCHEMA,
    FORMULA_PREFIXES,
    NOTE_COLUMNS,
    STAGE_LABELS,
    UNASSIGNED,
    WORKLIST_COLUMNS,
    cells_per_owner,
    cells_to_fix,
    filled_by,
    looks_like_formula,
    problems,
    worklist_customers,
)
from crm_etl.flows.sheet_rows import DATE_FORMAT, Style, fits, insert_rows, rows_xml
from crm_etl.flows.texts import messages
from crm_etl.schemas.contracts import Contracts

log = logging.getLogger(__name__)

# The worklists' folder inside a run's report folder.
WORKLISTS = "worklists"
# Rows built as one piece of XML at a time (bounds the memory they take).
_ROWS_AT_ONCE = 20_000
TO_FILL = "#FFF2CC"
HEADER = "#D9E2EC"


def worklist_file_name(owner: str | None) -> str:
    """`张伟-1a2b3c4d.xlsx` (cleaners/file_names.py); customers with no owner go to `未分配-e3b0c442.xlsx`.

    The hash of no owner is that of "", so an owner actually named 未分配 keeps a file of their own.
    """
    return safe_file_name(owner or UNASSIGNED, "xlsx", hash_of=owner or "")


@dataclass(frozen=True)
class HandoutFile:
    """An xlsx file written for people, and how many of its cells were cut to Excel's limit."""

    path: Path
    cells_truncated: int = 0
    rows: int = 0


class _Sheet:
    """One streamed sheet (rows written in order): a merged title row, a header row, then data rows."""

    def __init__(self, path: Path, name: str, title: str, headers: Sequence[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.columns = len(headers)
        # The workbook is built in memory; close() writes it, with the rows write_rows built.
        self.package = io.BytesIO()
        self.rows: list[pl.Series] = []
        # Strings are never turned into formulas, numbers or links: what a cell held is what is written.
        self.book = xlsxwriter.Workbook(
            self.package,
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
        title_format = self.book.add_format({"bold": True, "font_size": 12})
        self.ws.merge_range(0, 0, 0, len(headers) - 1, title, title_format)
        header_format = self.book.add_format({"bold": True, "bg_color": HEADER})
        # Title and header styles first in the workbook's style table, as when rows were written cell by cell.
        title_format._get_xf_index()
        header_format._get_xf_index()
        for index, header in enumerate(headers):
            self.ws.write_string(1, index, header, header_format)
        self.row = 2
        self.truncated = 0

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

    def _style_index(self, style: Style) -> int | None:
        fmt = self._format(*style)
        return None if fmt is None else int(fmt._get_xf_index())

    def write_rows(
        self,
        frame: pl.DataFrame,
        columns: Sequence[str],
        to_fill: Mapping[int, pl.Expr],
        formats: Mapping[int, str] | None = None,
    ) -> None:
        """Write a frame's `columns` (in sheet order) as `write_row` would, built column by column.

        `to_fill`: per column index, an expression over `frame`: whether a row's cell is one to fill in.
        """
        formats = dict(formats or {})
        # Cut to Excel's limit with a visible marker (xlsxwriter would cut silently); the database keeps it all.
        for name in dict.fromkeys(columns):
            if frame.schema[name] == pl.String:
                fitted, cut = truncate_cells(frame[name])
                if cut:
                    frame = frame.with_columns(fitted)
                    self.truncated += cut
        if not fits(frame, columns):  # text xlsxwriter truncates or passes through, NaN: cell by cell
            names = [f"_fill_{i}" for i in to_fill]
            flags = [e.fill_null(value=False).alias(n) for n, e in zip(names, to_fill.values(), strict=True)]
            for row in frame.with_columns(flags).select(*columns, *names).iter_rows():
                fill = {i for i, f in zip(to_fill, row[len(columns) :], strict=True) if f}
                self.write_row(row[: len(columns)], fill, formats)
            return
        for offset in range(0, frame.height, _ROWS_AT_ONCE):
            part = frame.slice(offset, _ROWS_AT_ONCE)
            first = self.row + 1  # 1-based
            self.rows.append(
                rows_xml(part, columns, first, to_fill, formats, self._style_index, FORMULA_PREFIXES)
            )
            self.row += part.height

    def write_row(
        self, values: Sequence[Any], to_fill: Collection[int] = (), formats: dict[int, str] | None = None
    ) -> None:
        assert not self.rows, "a sheet's rows are written by write_rows or by write_row, not both"
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
                original = str(value)
                text = truncate_cell(original)  # the same object when it fits
                self.truncated += text is not original
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

    def close(self, protect: bool) -> HandoutFile:
        """Write the workbook to its path; a cell cut to Excel's limit is logged with the file."""
        if protect:
            # Without a password: it guards against slips, not against the rep.
            self.ws.protect("", {"format_columns": True, "autofilter": True})
        self.book.close()
        self.package.seek(0)
        if self.rows:
            last = xl_rowcol_to_cell(self.row - 1, self.columns - 1)
            insert_rows(self.package, self.path, "xl/worksheets/sheet1.xml", self.rows, last)
        else:
            self.path.write_bytes(self.package.getvalue())
        if self.truncated:
            log.warning(
                "%s: %d cell(s) cut to Excel's 32,767 characters (the database keeps the full values)",
                self.path.name,
                self.truncated,
            )
        return HandoutFile(self.path, self.truncated, self.row - 2)


def _customers(con: duckdb.DuckDBPyConnection, columns: Collection[str]) -> pl.DataFrame:
    """The customers with only the columns a handout shows or chooses by (and customer_stage, shown as a type)."""
    wanted = ", ".join(f'"{c}"' for c in dict.fromkeys(["customer_id", "owner", "customer_stage", *columns]))
    frame = pl.from_arrow(con.sql(f"SELECT {wanted} FROM customers").arrow().read_all())
    assert isinstance(frame, pl.DataFrame)
    return frame


# Each flagged cell of a loaded record, with the cell as typed: the record's raw JSON is keyed by the
# file's headers, so the header mapped to the flagged field (column_mappings) finds it (a JSON
# pointer: a header may hold `/` or `~`). Cells of one field from several columns (a name in
# family and given columns) are shown together; no mapping left, the value the cleaner kept.
_FLAGGED_CELLS = """
WITH flagged AS (
    SELECT row_number() OVER () AS k, s.run_id, s.source_file, s.source_sheet, s.customer_id, s.raw, s.record,
           split_part(i, ':', 1) AS field, split_part(i, ':', 2) AS reason
    FROM customer_sources s, unnest(s.issues) AS t(i)
    WHERE len(s.issues) > 0 AND s.customer_id IS NOT NULL
)
SELECT any_value(f.customer_id) AS customer_id, any_value(f.field) AS field, any_value(f.reason) AS reason,
       coalesce(
           string_agg(json_extract_string(f.raw, '/' || replace(replace(m.header, '~', '~0'), '/', '~1')), ' '
                      ORDER BY m."column"),
           any_value(json_extract_string(f.record, '$.' || f.field))
       ) AS original,
       any_value(json_extract_string(f.record, '$.' || f.field)) AS flagged_value
FROM flagged f
LEFT JOIN column_mappings m
  ON m.run_id = f.run_id AND m.source_file = f.source_file
 AND coalesce(m.source_sheet, '') = coalesce(f.source_sheet, '') AND m.field = f.field
GROUP BY f.k
"""


def flagged_cells(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every cell a cleaner flagged in a loaded record (customer_sources.issues), with the cell as typed."""
    frame = pl.from_arrow(con.sql(_FLAGGED_CELLS).arrow().read_all())
    assert isinstance(frame, pl.DataFrame)
    return frame.select(pl.col(c).cast(t) for c, t in FLAGGED_CELLS_SCHEMA.items())


@dataclass(frozen=True)
class WorklistWords:
    """What a worklist says in the rep's words: field labels (手机 …) and each problem (号码位数不对 …)."""

    fields: Mapping[str, str]
    reasons: Mapping[str, str]


def worklist_words(contracts: Contracts) -> WorklistWords:
    """Field labels from schemas/customer.yaml and messages.yaml, problems from messages.yaml (zh-CN)."""
    labels = {f: d.label for f, d in contracts.config.canonical.record_types["customers"].items()}
    texts = messages()
    labels |= {f: t["zh-CN"] for f, t in texts["fields"].items() if f == "contact" or f not in labels}
    return WorklistWords(labels, {r: t["zh-CN"] for r, t in texts["reasons"].items()})


def pending_worklists(con: duckdb.DuckDBPyConnection, words: WorklistWords | None = None) -> pl.DataFrame:
    """The worklists' rows: customers missing a required field or holding a flagged value to correct."""
    words = words or WorklistWords({}, {})
    customers = _customers(con, [c for c in WORKLIST_COLUMNS if c != "problems"])
    to_fix = problems(cells_to_fix(flagged_cells(con), customers), words.fields, words.reasons)
    return worklist_customers(customers, to_fix)


def worklist_cells(con: duckdb.DuckDBPyConnection, pending: pl.DataFrame | None = None) -> dict[str, int]:
    """Per owner ('' for none): how many cells their worklist asks them to fill or correct."""
    counted = cells_per_owner(pending_worklists(con) if pending is None else pending)
    return {owner or "": int(n) for owner, n in counted.iter_rows()}


def write_worklist(
    path: Path, owner: str | None, rows: pl.DataFrame, run_id: str, labels: Mapping[str, str] | None = None
) -> HandoutFile:
    """One rep's worklist: cells to fill or correct yellow and editable, every other cell read-only context.

    `labels` names the missing fields in the rep's words (field -> 客户名称 …); `problems` says,
    beside each flagged cell as it was typed, what is wrong with it.
    """
    fields = list(WORKLIST_COLUMNS)
    sheet = _Sheet(
        path,
        "补录清单",
        f"补录清单 · {owner or UNASSIGNED} · 运行 {run_id} · 请只填写或更正黄色单元格，填好后放回收件箱",
        [WORKLIST_COLUMNS[f] for f in fields],
    )
    dates = {fields.index("first_contact_date"): DATE_FORMAT}
    missing = pl.col("missing_fields")
    if "fix_fields" not in rows.columns:
        rows = rows.with_columns(pl.lit([], dtype=pl.List(pl.String)).alias("fix_fields"))
    if "problems" not in rows.columns:
        rows = rows.with_columns(pl.lit(None, dtype=pl.String).alias("problems"))
    flags = [
        (
            missing.list.eval(pl.element().is_in(sorted(filled_by(c)))).list.any()
            | pl.col("fix_fields").list.contains(c)
        ).alias(f"_fill_{c}")
        for c in fields
        if c not in NOTE_COLUMNS
    ]
    shown = rows.with_columns(*flags).with_columns(
        missing.list.eval(pl.element().replace(dict(labels or {}))).list.join("、").alias("missing_fields")
    )
    to_fill = {i: pl.col(f"_fill_{c}") for i, c in enumerate(fields) if c not in NOTE_COLUMNS}
    sheet.write_rows(shown, fields, to_fill, dates)
    sheet.choices(fields.index("customer_type"), list(STAGE_LABELS.values()))
    return sheet.close(protect=True)


def write_worklists(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    run_id: str,
    labels: Mapping[str, str] | None = None,
    words: WorklistWords | None = None,
    owners: Collection[str | None] | None = None,
    pending: pl.DataFrame | None = None,
) -> list[HandoutFile]:
    """`<folder>/<owner>-<hash>.xlsx` for every owner (or only `owners`) with a cell to fill or correct.

    `pending`: the worklists' rows (`pending_worklists`) when the caller already has them.
    """
    words = words or WorklistWords(labels or {}, {})
    if pending is None:
        pending = pending_worklists(con, words)
    if owners is not None:
        chosen = pl.col("owner").is_in([o for o in owners if o is not None])
        pending = pending.filter(chosen | pl.col("owner").is_null() if None in owners else chosen)
    written: dict[Path, str | None] = {}
    files = []
    for (owner,), rows in pending.group_by("owner", maintain_order=True):
        path = folder / worklist_file_name(owner)
        if path in written:  # two names with one SHA-256 prefix: refuse rather than overwrite a rep's list
            raise ValueError(f"owners {written[path]!r} and {owner!r} would share the worklist {path.name}")
        written[path] = owner
        files.append(write_worklist(path, owner, rows, run_id, labels or words.fields))
    return files


def audit_seed(run_id: str) -> int:
    """The audit sample's seed: fixed by the run id, so a run's sample can always be drawn again."""
    return int(hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:8], 16)


def write_audit_sample(con: duckdb.DuckDBPyConnection, path: Path, run_id: str, share: float) -> HandoutFile:
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
    stage = pl.col("customer_stage").replace_strict(STAGE_LABELS, default=None, return_dtype=pl.String)
    blanks = [f"_answer_{i}" for i in range(len(AUDIT_ANSWERS))]
    shown = sample.with_columns(
        pl.coalesce(stage, pl.col("customer_type")).alias("customer_type"),
        *(pl.lit(None, dtype=pl.String).alias(b) for b in blanks),
    )
    answers = {i: pl.lit(value=True) for i in range(len(fields), len(fields) + len(AUDIT_ANSWERS))}
    sheet.write_rows(shown, fields + blanks, answers, {fields.index("completeness"): "0%"})
    sheet.choices(len(fields), ["正确", "有误"])
    return sheet.close(protect=False)


def write_handouts(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    run_id: str,
    contracts: Contracts,
    pending: pl.DataFrame | None = None,
) -> list[HandoutFile]:
    """Write a run's per-owner worklists and its audit sample into its report folder."""
    words = worklist_words(contracts)
    written = write_worklists(con, folder / WORKLISTS, run_id, words=words, pending=pending)
    written.append(
        write_audit_sample(con, folder / "audit-sample.xlsx", run_id, contracts.report.audit_sample.share)
    )
    return written
