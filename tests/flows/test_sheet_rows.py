"""Rows built column by column (flows/sheet_rows.py) read back exactly like rows written cell by cell."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from crm_etl.flows.handouts import _Sheet
from crm_etl.flows.sheet_rows import fits

FRAME = pl.DataFrame(
    {
        "text": [
            "上海甲精密机械有限公司",
            "=cmd|' /C calc'!A0",
            "+1+1",
            "  leading and trailing  ",
            "tab\tand\nnewline",
            "bell\x07 and _x0041_ kept literal",
            "A & B <c> \"q\" 'a'",
            "",
            None,
            "\u3000全角空格",
        ],
        "day": [
            dt.date(2024, 6, 30),
            dt.date(1900, 1, 1),
            dt.date(1900, 2, 28),
            dt.date(1900, 3, 1),
            None,
            dt.date(1899, 12, 31),
            dt.date(2000, 2, 29),
            dt.date(1970, 1, 1),
            dt.date(2024, 1, 1),
            None,
        ],
        "share": [0.875, 0.1 + 0.2, 1.0, 0.0, None, 1 / 3, 2.5e-10, 123456789.123, -0.5, 0.625],
        "count": [1, None, 3, 0, -7, 10**12, 5, 6, 7, 8],
        "fill": [True, False, True, False, True, False, True, True, False, False],
    }
)
COLUMNS = ["text", "day", "share", "count"]


def _write(path: Path, cell_by_cell: bool, to_fill_column: int | None) -> None:
    sheet = _Sheet(path, "s", "title", ["文本", "日期", "比例", "数量"])
    formats = {2: "0%"}
    if cell_by_cell:
        for row in FRAME.iter_rows(named=True):
            to_fill = {to_fill_column} if to_fill_column is not None and row["fill"] else set()
            sheet.write_row([row[c] for c in COLUMNS], to_fill, formats)
    else:
        to_fill = {} if to_fill_column is None else {to_fill_column: pl.col("fill")}
        sheet.write_rows(FRAME, COLUMNS, to_fill, formats)
    sheet.choices(1, ["a", "b"])
    sheet.close(protect=True)


def _cells(path: Path) -> list[tuple[object, ...]]:
    ws = openpyxl.load_workbook(path)["s"]
    return [
        (
            c.coordinate,
            c.value,
            c.fill.fgColor.rgb if c.fill.fill_type else None,
            c.protection.locked,
            c.number_format,
            c.quotePrefix,
            c.font.b,
        )
        for row in ws.iter_rows()
        for c in row
    ] + [(ws.dimensions, [str(v.sqref) for v in ws.data_validations.dataValidation])]


@pytest.mark.parametrize("to_fill_column", [None, 0, 1, 2], ids=["none", "text", "date", "number"])
def test_rows_read_back_as_written_cell_by_cell(tmp_path, to_fill_column):
    assert fits(FRAME, COLUMNS)
    _write(tmp_path / "cells.xlsx", cell_by_cell=True, to_fill_column=to_fill_column)
    _write(tmp_path / "rows.xlsx", cell_by_cell=False, to_fill_column=to_fill_column)
    assert _cells(tmp_path / "rows.xlsx") == _cells(tmp_path / "cells.xlsx")


def test_text_xlsxwriter_would_change_is_written_cell_by_cell(tmp_path):
    long = pl.DataFrame({"text": ["x" * 40_000, "<r>raw</r>"]})
    assert not fits(long, ["text"])
    sheet = _Sheet(tmp_path / "long.xlsx", "s", "title", ["文本", "备注"])
    sheet.write_rows(long, ["text"], {})
    written = sheet.close(protect=False)
    values = [c.value for c in openpyxl.load_workbook(tmp_path / "long.xlsx")["s"]["A"]]
    # Cut to Excel's limit where a reader sees it was cut, and counted.
    assert values[2] == "x" * 32_742 + "…[truncated 7,258 chars]"
    assert written.cells_truncated == 1
