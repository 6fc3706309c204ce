"""Fixtures that write real input files (xlsx via openpyxl, GB18030 CSV, JSON Lines) into tmp_path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import openpyxl
import pytest

from tests import samples_truth as truth
from tests.conftest import SAMPLES


def write_ledger(
    path: Path,
    rows: list[list[object]],
    title: str | None = "华东区客户台账（2024年）",
    header: list[str] | None = None,
    sheet: str = "客户台账",
    date1904: bool = False,
) -> Path:
    """An Excel ledger like a sales rep keeps: optional merged title row, a header, data rows."""
    header = header or ["客户名称", "联系人", "手机", "首次接触时间", "负责人"]
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = sheet
    if date1904:
        workbook.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(header)
    for row in rows:
        ws.append(row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    workbook.save(path)
    return path


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture(scope="session")
def sample_run(prefect_harness, tmp_path_factory):
    """One real run of the flow over data/samples/, shared by every test that only reads its output."""
    from crm_etl.flows.migrate import migrate

    out = tmp_path_factory.mktemp("sample_run")
    summary = migrate(
        inbox=SAMPLES,
        db=out / "crm.duckdb",
        reports=out / "reports",
        as_of=dt.date.fromisoformat(truth.AS_OF_DATE),
    )
    con = duckdb.connect(str(out / "crm.duckdb"), read_only=True)
    yield summary, con, out
    con.close()


@pytest.fixture(scope="session")
def sample_db(sample_run) -> tuple[object, Path]:
    """The same sample run as (summary, DuckDB file), for tests that open the file themselves."""
    summary, _, out = sample_run
    return summary, out / "crm.duckdb"
