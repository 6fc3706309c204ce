"""Real `crm-etl run` processes killed with SIGKILL at named points, run concurrently, fed a file mid-copy.

Each subprocess talks to the session's Prefect test API (PREFECT_API_URL), so none
of them starts a Prefect server of its own. A run pauses at a named point only when
CRM_ETL_PAUSE_AT says so (flows/pause.py); the test then kills it there, or lets it go.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from crm_etl.flows.cli import EXIT_LOCKED, app
from crm_etl.flows.lock import lock_path
from crm_etl.flows.migrate import migrate
from tests.flows.conftest import write_ledger
from tests.flows.processes import (
    HISTORY_TABLES,
    contents,
    kill_leftovers,
    release,
    run_ids,
    sha256,
    start_cli,
    wait_until_paused,
)

AS_OF = "2024-06-30"
HOUR_AGO = time.time() - 3600


def _settled(path: Path) -> Path:
    """Files that have been in the inbox for an hour: no settle retry."""
    os.utime(path, (HOUR_AGO, HOUR_AGO))
    return path


def _current_state(tables: dict) -> dict:
    return {t: rows for t, rows in tables.items() if t not in HISTORY_TABLES}


@pytest.fixture(scope="module", autouse=True)
def _no_process_left_behind():
    yield
    kill_leftovers()


@pytest.fixture(scope="module")
def api_url(prefect_harness) -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url
    return str(url)


@pytest.fixture(scope="module")
def databases(prefect_harness, tmp_path_factory):
    """OLD: the database after a first run. NEW: after a second run that adds a third export."""
    base = tmp_path_factory.mktemp("crash")
    inbox = base / "inbox"
    inbox.mkdir()
    _settled(
        write_ledger(
            inbox / "east.xlsx",
            [
                ["上海甲公司", "张三", "13800138000", dt.date(2024, 5, 1), "张伟"],
                ["南京乙公司", "李四", "13900139000", dt.date(2024, 5, 2), "张伟"],
            ],
        )
    )
    _settled(
        write_ledger(
            inbox / "south.xlsx", [["广州丙公司", "王五", "13700137000", dt.date(2024, 5, 3), "李娜"]]
        )
    )
    old_db = base / "old" / "crm.duckdb"
    old_db.parent.mkdir()
    day = dt.date.fromisoformat(AS_OF)
    migrate(inbox=inbox, db=old_db, reports=base / "reports", as_of=day)
    _settled(
        write_ledger(
            inbox / "north.xlsx",
            [
                ["北京丁公司", "赵六", "13600136000", dt.date(2024, 5, 4), "王芳"],
                ["上海甲公司", "张三", "13800138000", dt.date(2024, 5, 1), "王芳"],
            ],
        )
    )
    new_db = base / "new" / "crm.duckdb"
    new_db.parent.mkdir()
    shutil.copyfile(old_db, new_db)
    migrate(inbox=inbox, db=new_db, reports=base / "reports", as_of=day)
    return inbox, old_db, new_db, contents(old_db), contents(new_db)


def _run_args(inbox: Path, db: Path, reports: Path) -> list[str]:
    return ["run", "--inbox", str(inbox), "--db", str(db), "--reports", str(reports), "--as-of", AS_OF]


# Where a run is killed, and which published state the database must then hold.
KILL_POINTS = {
    "extract": "old",  # inside a Prefect read task, nothing staged yet
    "load": "old",  # rows written into the staging copy, transaction not committed
    "publish": "old",  # staging copy complete and synced, snapshot taken, rename not yet done
    "published": "new",  # renamed into place; processed files, cache and lock not yet dealt with
}


@dataclass
class Killed:
    """A run killed at a point: its database and what the database was before."""

    db: Path
    pid: int
    before: str


@dataclass
class Refused:
    """What a second run and a restore said while another run held the database."""

    holder_pid: int
    run: Any
    restore: Any
    before: str
    after: str


@pytest.fixture(scope="module")
def killed(databases, api_url, tmp_path_factory) -> tuple[dict[str, Killed], Refused]:
    """One real `crm-etl run` per kill point, started together, each SIGKILLed once paused at its point.

    While they are paused, a second run and a restore are tried against the run paused
    in the middle of loading (its lock held, its transaction open).
    """
    inbox, old_db, *_ = databases
    started = {}
    for point in KILL_POINTS:
        folder = tmp_path_factory.mktemp(f"kill-{point}")
        db = folder / "crm.duckdb"
        shutil.copyfile(old_db, db)
        cli = start_cli(_run_args(inbox, db, folder / "reports"), folder / "process", api_url, pause_at=point)
        started[point] = (folder, db, cli, sha256(db))
    for point, (folder, _, cli, _) in started.items():
        assert wait_until_paused(cli, point, folder / "process") == cli.process.pid
    folder, db, holder, before = started["load"]
    refused = Refused(
        holder.process.pid,
        CliRunner().invoke(app, _run_args(inbox, db, folder / "reports2")),
        CliRunner().invoke(app, ["restore", "R0", "--db", str(db)]),
        before,
        sha256(db),
    )
    result = {}
    for point, (_, db, cli, before) in started.items():
        cli.kill()
        result[point] = Killed(db, cli.process.pid, before)
    return result, refused


@pytest.mark.slow
@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkill_leaves_old_or_new_tables_and_the_next_run_succeeds(databases, killed, tmp_path, point):
    inbox, _, new_db, old, new = databases
    killed_runs, _ = killed
    db = killed_runs[point].db

    # Published tables are the old ones or the new ones, never a mix.
    assert contents(db) == (old if KILL_POINTS[point] == "old" else new)
    if KILL_POINTS[point] == "old":
        assert sha256(db) == killed_runs[point].before
    # The dead run's lock is still there, naming it.
    assert json.loads(lock_path(db).read_text())["pid"] == killed_runs[point].pid

    summary = migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=dt.date.fromisoformat(AS_OF))

    assert _current_state(contents(db)) == _current_state(new)
    assert run_ids(db)[-1] == summary.run_id
    recorded, reference = contents(db, summary.run_id), contents(new_db, run_ids(new_db)[-1])
    assert {t: recorded[t] for t in HISTORY_TABLES} == {t: reference[t] for t in HISTORY_TABLES}
    assert not lock_path(db).exists()
    assert not list(db.parent.glob(".crm.duckdb.staging-*"))


@pytest.mark.slow
def test_second_run_is_refused_at_once_while_one_is_running(killed):
    _, refused = killed
    assert refused.run.exit_code == EXIT_LOCKED, refused.run.output
    message = " ".join(refused.run.output.split())
    assert f"in use by another crm-etl process: PID {refused.holder_pid}, started " in message
    assert "(crm-etl run)" in message and "nothing was changed" in message
    assert refused.restore.exit_code == EXIT_LOCKED, refused.restore.output
    # Refused before touching anything: the database is as the paused run found it.
    assert refused.after == refused.before


@pytest.mark.slow
def test_a_file_still_being_copied_is_read_again_until_complete(api_url, tmp_path, inbox):
    complete = write_ledger(
        tmp_path / "complete.xlsx",
        [
            ["上海甲公司", "张三", "13800138000", dt.date(2024, 5, 1), "张伟"],
            ["南京乙公司", "李四", "13900139000", dt.date(2024, 5, 2), "张伟"],
        ],
    ).read_bytes()
    target = inbox / "east.xlsx"
    target.write_bytes(complete[: len(complete) // 2])
    db = tmp_path / "crm.duckdb"
    work = tmp_path / "process"
    cli = start_cli(_run_args(inbox, db, tmp_path / "reports"), work, api_url, pause_at="read,read.retry")

    wait_until_paused(cli, "read", work)
    target.write_bytes(complete[: len(complete) // 2])  # the copy is still going on
    release("read", work)
    wait_until_paused(cli, "read.retry", work)  # Prefect retries the read task
    target.write_bytes(complete)  # the copy has finished
    release("read.retry", work)

    assert cli.wait() == 0, cli.output()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM customers").fetchone() == (2,)
        assert con.execute("SELECT sha256 FROM input_files").fetchall() == [(sha256(target),)]
