"""An inbox with one good ledger, to which each hostile case adds its bad file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.flows.conftest import write_ledger
from tests.flows.processes import kill_leftovers


@pytest.fixture
def api_url(prefect_harness) -> Iterator[str]:
    """The test Prefect API, for `crm-etl` subprocesses (tests/flows/processes.py start_cli)."""
    from prefect.settings import PREFECT_API_URL

    yield str(PREFECT_API_URL.value())
    kill_leftovers()


@pytest.fixture
def ledger_inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_ledger(
        inbox / "a.xlsx",
        [
            ["上海甲公司", "张三", "13800138000", dt.date(2024, 5, 1), "张伟"],
            ["上海甲公司", "张三", "138 0013 8000", "2024/5/1", "张伟"],
        ],
    )
    return inbox
