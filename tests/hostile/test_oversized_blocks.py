"""Hostile inputs for deduplication: one record repeated far beyond any blocking rule's max_block_size.

A key shared by more records than `max_block_size` used to make no pairs at all, so 100,000 copies
of one row stayed 100,000 customers (and contact attachment joined every copy to every other).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import SAMPLES
from tests.flows.processes import kill_leftovers, start_cli

COPIES = 100_000
# No registered legal form (有限公司): no must-link rule joins the copies, only the engine itself.
ROW = "启明星电子,周志明,13962358817,zhouzm@qimingxing-elec.com,王芳"


@pytest.fixture(scope="module", autouse=True)
def _no_process_left_behind():
    yield
    kill_leftovers()


def _inbox(folder: Path) -> Path:
    """The sample inbox plus one CSV of COPIES identical lines."""
    folder.mkdir()
    for path in SAMPLES.rglob("*"):
        if path.is_file():
            target = folder / path.relative_to(SAMPLES)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    lines = "客户名称,联系人,手机,邮箱,负责人\n" + f"{ROW}\n" * COPIES
    (folder / "copies.csv").write_text(lines, encoding="utf-8")
    return folder


@pytest.mark.slow
def test_a_hundred_thousand_identical_rows_are_one_customer(prefect_harness, tmp_path):
    from prefect.settings import PREFECT_API_URL

    inbox = _inbox(tmp_path / "inbox")
    db = tmp_path / "crm.duckdb"
    args = ["run", "-q", "--inbox", str(inbox), "--db", str(db), "--reports", str(tmp_path / "reports"),
            "--as-of", "2024-06-30"]  # fmt: skip
    started = time.monotonic()
    cli = start_cli(args, tmp_path / "process", str(PREFECT_API_URL.value()))
    assert cli.wait() == 0, cli.output()
    seconds = time.monotonic() - started
    with duckdb.connect(str(db), read_only=True) as con:
        loaded, customers, reasons = con.execute(
            "SELECT count(*), count(DISTINCT customer_id), list(DISTINCT match_reason) "
            "FROM customer_sources WHERE source_file = 'copies.csv'"
        ).fetchone()
        golden = con.execute(
            "SELECT customer_name, mobile FROM customers WHERE customer_id IN "
            "(SELECT customer_id FROM customer_sources WHERE source_file = 'copies.csv')"
        ).fetchall()
        stage = dict(con.execute("SELECT stage, seconds FROM run_stages").fetchall())
    # Every line is accounted for, all in one customer, and each says why.
    assert loaded == COPIES and customers == 1
    assert golden == [("启明星电子", "+8613962358817")]
    assert f"one of {COPIES} identical records (every compared field equal)" in reasons
    # Linear, not quadratic: seconds, where the contact attachment alone used to run out of memory.
    assert stage["link"] + stage["dedupe"] < 20, stage
    assert seconds < 300, seconds
