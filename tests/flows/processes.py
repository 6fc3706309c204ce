"""Helpers for tests that drive `crm-etl` in real subprocesses and compare whole databases."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from crm_etl.flows.pause import PAUSE_AT_ENV, PAUSE_DIR_ENV

CLI = Path(sys.executable).parent / "crm-etl"
# Generous upper bounds so a stuck subprocess fails the test instead of hanging it; never asserted on.
START_LIMIT_S = 600

# Columns that name or time a run rather than describe the data: the only ones left out
# when two databases are compared. Run IDs, start and end times, and `runs.customers_before`
# (how many customers the database held before that run).
RUN_SPECIFIC: dict[str, set[str]] = {
    "customers": {"run_id"},
    "customer_sources": {"run_id"},
    "quarantine": {"run_id"},
    "input_files": {"run_id"},
    "runs": {"run_id", "started_at", "finished_at", "customers_before"},
    "run_files": {"run_id"},
    "validation_results": {"run_id"},
    "run_kpis": {"run_id"},
    "column_mappings": {"run_id"},
    "match_pairs": {"run_id"},
    "match_review": {"run_id"},
    "match_decisions": {"run_id"},
    # How long a stage took and the memory it peaked at change from run to run; its item count does not.
    "run_stages": {"run_id", "seconds", "peak_rss_mb"},
}
HISTORY_TABLES = (
    "runs",
    "run_files",
    "validation_results",
    "run_kpis",
    "column_mappings",
    "match_decisions",
    "run_stages",
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tables(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def contents(db: Path, run_id: str | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows without run-specific columns, in a canonical order.

    With `run_id`, history tables hold only that run's rows.
    """
    result: dict[str, list[tuple[Any, ...]]] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
            ).fetchall()
        ]
        for table in names:
            columns = [
                r[0]
                for r in con.execute(f'DESCRIBE "{table}"').fetchall()
                if r[0] not in RUN_SPECIFIC.get(table, set())
            ]
            where = ""
            params: list[Any] = []
            if run_id is not None and table in HISTORY_TABLES:
                where, params = " WHERE run_id = ?", [run_id]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'SELECT {select} FROM "{table}"{where}', params).fetchall()
            result[table] = sorted(rows, key=repr)
    return result


def run_ids(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY started_at, run_id").fetchall()]


@dataclass
class CliProcess:
    """A `crm-etl` subprocess with its output going to files (no pipe can fill up and block it)."""

    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    def wait(self) -> int:
        return self.process.wait(timeout=START_LIMIT_S)

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=60)


def start_cli(
    args: list[str],
    workdir: Path,
    api_url: str,
    pause_at: str | None = None,
    env: dict[str, str] | None = None,
) -> CliProcess:
    """Start `crm-etl ARGS` against the test Prefect API, optionally pausing at named points."""
    workdir.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "PREFECT_API_URL": api_url, **(env or {})}
    if pause_at:
        environment[PAUSE_AT_ENV] = pause_at
        environment[PAUSE_DIR_ENV] = str(workdir)
    stdout, stderr = workdir / "stdout.txt", workdir / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen([str(CLI), *args], stdout=out, stderr=err, env=environment)
    started = CliProcess(process, stdout, stderr)
    _STARTED.append(started)
    return started


_STARTED: list[CliProcess] = []


def kill_leftovers() -> None:
    """Kill every subprocess a test started that is still running (a failed test may leave one paused)."""
    while _STARTED:
        cli = _STARTED.pop()
        if cli.process.poll() is None:
            cli.kill()


def wait_until_paused(cli: CliProcess, point: str, workdir: Path) -> int:
    """Block until the subprocess reports it is paused at `point`; returns its PID."""
    marker = workdir / f"{point}.reached"
    deadline = time.monotonic() + START_LIMIT_S
    while not marker.exists():
        if cli.process.poll() is not None:
            raise AssertionError(
                f"crm-etl exited ({cli.process.returncode}) before pausing at {point}:\n{cli.output()}"
            )
        if time.monotonic() > deadline:
            cli.kill()
            raise AssertionError(f"crm-etl never reached {point}:\n{cli.output()}")
        time.sleep(0.1)
    return int(marker.read_text())


def release(point: str, workdir: Path) -> None:
    (workdir / f"{point}.release").write_text("go")


def run_args(inbox: Path, tmp_path: Path, *extra: str) -> list[str]:
    """`crm-etl run` over `inbox` into `tmp_path/crm.duckdb` and `tmp_path/reports`, as of 2024-06-30."""
    return [
        "run",
        "--inbox",
        str(inbox),
        "--db",
        str(tmp_path / "crm.duckdb"),
        "--reports",
        str(tmp_path / "reports"),
        "--as-of",
        "2024-06-30",
        *extra,
    ]
