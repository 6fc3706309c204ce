"""Entries of the inbox that are not plain, well-named files: links, FIFOs, hidden files, odd names."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from crm_etl.flows.cli import EXIT_INPUT, app
from crm_etl.flows.inbox import inbox_file, source_name
from tests.flows.processes import run_args

runner = CliRunner()


def test_the_inbox_is_a_boundary(prefect_harness, tmp_path, ledger_inbox):
    """Links are refused, not followed; a FIFO is never opened; hidden files are skipped with a line; ..csv is read."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text(
        "客户名称,联系人,手机\n外部泄露有限公司,赵六,13700001111\n", encoding="utf-8"
    )
    (ledger_inbox / "linked.csv").symlink_to(outside / "secret.csv")
    (ledger_inbox / "linked_folder").symlink_to(outside, target_is_directory=True)
    os.mkfifo(ledger_inbox / "pipe.csv")
    (ledger_inbox / ".DS_Store").write_bytes(b"\x00\x01")
    (ledger_inbox / "..csv").write_text(
        "客户名称,联系人,手机\n无名导出有限公司,钱七,13600002222\n", encoding="utf-8"
    )
    result = runner.invoke(app, run_args(ledger_inbox, tmp_path))
    assert result.exit_code == EXIT_INPUT, result.output  # the refused inputs are failures a script sees
    flat = " ".join(result.output.split())
    assert "linked.csv: a symbolic link: not followed" in flat
    assert "linked_folder: a symbolic link: not followed" in flat
    assert "pipe.csv: not a regular file" in flat
    with duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True) as con:
        names = {r[0] for r in con.execute("SELECT customer_name FROM customers").fetchall()}
        statuses = dict(con.execute("SELECT source_file, status FROM run_files").fetchall())
    assert not any("外部泄露" in n for n in names)  # nothing outside the inbox was read
    assert any("无名导出" in n for n in names)  # an export saved without a name is a file, not hidden
    assert statuses[".DS_Store"] == "skipped" and statuses["pipe.csv"] == "failed"
    assert statuses["linked.csv"] == "failed" and statuses["..csv"] == "loaded"


# 客户 written in GBK, as an old Windows archiver leaves it on a Linux disk: not valid UTF-8.
GBK_NAME = "客户".encode("gbk") + b"\xff.csv"


def test_a_name_that_is_not_utf8_keeps_its_bytes_in_lineage(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    path = Path(os.fsdecode(os.fsencode(inbox / "sub") + b"/" + GBK_NAME))
    path.write_text("客户名称\n", encoding="utf-8")
    name = source_name(inbox, path)
    # Bytes that are not UTF-8 are written \\xNN; `cd bb` happens to be valid UTF-8 (U+037B) and stays.
    assert name == "sub/\\xbf\u037b\\xa7\\xff.csv"
    assert name.encode("utf-8")  # valid UTF-8 (the name Python read held lone surrogates)
    assert inbox_file(inbox, name) == path and inbox_file(inbox, name).is_file()
    plain = inbox / "普通.csv"
    assert source_name(inbox, plain) == "普通.csv" and inbox_file(inbox, "普通.csv") == plain


def test_a_run_over_a_file_whose_name_is_not_utf8(prefect_harness, tmp_path, ledger_inbox):
    path = Path(os.fsdecode(os.fsencode(ledger_inbox) + b"/" + GBK_NAME))
    path.write_text("客户名称,联系人,手机\n苏州丁精密有限公司,周九,13512340000\n", encoding="utf-8")
    result = runner.invoke(app, run_args(ledger_inbox, tmp_path, "--move-processed"))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "\\xbf\u037b\\xa7\\xff.csv" in result.output
    with duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT s.source_file FROM customer_sources s JOIN customers c USING (customer_id) "
            "WHERE c.customer_name LIKE '%丁精密%'"
        ).fetchall()
    assert rows == [("\\xbf\u037b\\xa7\\xff.csv",)]
    assert not path.exists()  # moved to processed/ under its own bytes
    moved = [p for p in (ledger_inbox / "processed").rglob("*.csv")]
    assert [os.fsencode(p.name) for p in moved] == [GBK_NAME]
