"""A run that is interrupted or meets an error nobody foresaw: one line, an exit code, nothing half-published."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from crm_etl.flows.cli import EXIT_INTERNAL, EXIT_INTERRUPTED
from tests.flows.processes import run_args, start_cli, wait_until_paused


@pytest.mark.slow
def test_ctrl_c_during_a_run_says_nothing_was_published(tmp_path, ledger_inbox, api_url):
    work = tmp_path / "process"
    run = start_cli(run_args(ledger_inbox, tmp_path), work, api_url, pause_at="load")
    pid = wait_until_paused(run, "load", work)
    os.kill(pid, signal.SIGINT)
    code = run.wait()
    output = run.output()
    assert code == EXIT_INTERRUPTED, output
    assert "interrupted: nothing was published" in " ".join(output.split())
    assert "Traceback" not in output
    assert not (tmp_path / "crm.duckdb").exists()


def test_an_unexpected_error_is_one_masked_line_and_a_log_file(tmp_path):
    """The top-level guard, around a command that fails with an error no code path expects."""
    script = (
        "import sys, pathlib, crm_etl.flows.cli as cli\n"
        "def broken(): raise KeyError('cell 13800138000 of a@example.com')\n"
        "cli.app = broken\n"
        f"cli._errors_beside(pathlib.Path({str(tmp_path / 'crm.duckdb')!r}))\n"
        "cli.main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == EXIT_INTERNAL, done.stderr
    line = " ".join(done.stderr.split())
    assert "internal error: KeyError:" in line and "nothing was published" in line
    assert "Traceback" not in done.stderr
    assert "13800138000" not in done.stderr and "a@example.com" not in done.stderr
    log = Path(re.search(r"the traceback is in (\S+\.log)", line).group(1))  # type: ignore[union-attr]
    assert log.parent == tmp_path / "crm-etl-errors"
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "138****8000" in text and "13800138000" not in text
