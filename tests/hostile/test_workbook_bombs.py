"""Workbooks that unpack to far more than their size: refused before a sheet is read."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from crm_etl.flows.extract import extract_file
from crm_etl.flows.readers import InputFileError, read_workbook
from crm_etl.schemas import load_config
from crm_etl.schemas.config import RunSettings, size_bytes

CONFIG = load_config()


def _padded_workbook(path: Path, rows: int) -> Path:
    """A ledger whose sheet repeats one row: XML that compresses about a hundred times."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["客户名称", "联系人", "手机", "备注"])
    for _ in range(rows):
        sheet.append(["上海甲公司", "张三", "13800138000", "同上" * 20])
    workbook.save(path)
    return path


def _unpacked(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(m.file_size for m in archive.infolist())


def test_a_workbook_over_the_limit_fails_with_its_size_and_the_setting(tmp_path):
    path = _padded_workbook(tmp_path / "padded.xlsx", 20_000)
    unpacked = _unpacked(path)
    assert unpacked > 10 * path.stat().st_size  # the shape of a bomb: much more inside than outside
    with pytest.raises(InputFileError) as caught:
        read_workbook(path, "padded.xlsx", max_unpacked=unpacked // 2)
    message = str(caught.value)
    assert message.startswith("padded.xlsx: unpacks to") and "max_workbook_unpacked" in message
    assert len(read_workbook(path, "padded.xlsx", max_unpacked=unpacked)[0].rows) == 20_001


def test_the_limit_comes_from_runs_yaml_and_fails_only_that_file(tmp_path):
    path = _padded_workbook(tmp_path / "padded.xlsx", 5_000)
    runs = CONFIG.runs.model_copy(update={"max_workbook_unpacked": "1MB"})
    small = CONFIG.model_copy(update={"runs": runs})
    result = extract_file(path, "padded.xlsx", small)
    assert result.outcome.status == "failed" and "1 MB a workbook may" in (result.outcome.error or "")
    assert extract_file(path, "padded.xlsx", CONFIG).outcome.status == "read"  # the default is generous


@pytest.mark.parametrize(
    ("size", "expected"),
    [("2GB", 2 * 10**9), ("800MB", 8 * 10**8), ("1.5GiB", int(1.5 * 2**30)), ("64 KiB", 65_536)],
    ids=["GB", "MB", "GiB-fraction", "KiB-space"],
)
def test_sizes_read_as_duckdb_writes_them(size, expected):
    assert size_bytes(size) == expected
    RunSettings.model_validate(
        {
            "settle_seconds": 1,
            "read_retries": 0,
            "read_retry_delay_seconds": 0,
            "snapshots_keep": 0,
            "max_workbook_unpacked": size,
        }
    )
