"""The database lock file, with real processes holding it (no Prefect)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crm_etl.flows.lock import DatabaseLocked, LockFileError, RunLock, current_holder, lock_path

HOLD = """
import os, sys
from pathlib import Path
from crm_etl.flows.lock import RunLock
RunLock(Path(sys.argv[1]), sys.argv[2]).acquire()
print("held", flush=True)
if sys.argv[2] == "crashed run":
    os._exit(0)  # dies holding the lock, like a killed run
sys.stdin.read()
"""


def _holder(db: Path, purpose: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db), purpose],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_live_holder_refuses_another_lock_and_names_itself(tmp_path):
    db = tmp_path / "crm.duckdb"
    holder = _holder(db, "nightly run")
    try:
        with pytest.raises(DatabaseLocked, match=rf"PID {holder.pid}, started .*\(nightly run\)"):
            RunLock(db, "second run").acquire()
        live = current_holder(db)
        assert live is not None and live.pid == holder.pid
    finally:
        holder.communicate("")
    assert holder.returncode == 0


def test_a_stale_lock_from_a_dead_process_is_detected_and_cleared(tmp_path, caplog):
    db = tmp_path / "crm.duckdb"
    dead = _holder(db, "crashed run")
    dead.wait()
    assert json.loads(lock_path(db).read_text())["pid"] == dead.pid
    assert current_holder(db) is None

    lock = RunLock(db, "next run")
    with caplog.at_level("WARNING", logger="crm_etl.flows.lock"), lock:
        assert lock.stale is not None and lock.stale.pid == dead.pid
        assert json.loads(lock_path(db).read_text())["purpose"] == "next run"
    assert f"cleared a stale lock on {db} left by PID {dead.pid}" in caplog.text
    assert not lock_path(db).exists()


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    db = tmp_path / "crm.duckdb"
    with RunLock(db, "cli"), RunLock(db, "flow"):
        assert json.loads(lock_path(db).read_text())["purpose"] == "cli"
    assert not lock_path(db).exists()


def test_an_unwritable_folder_is_a_clear_error(tmp_path):
    # A file where the database's folder should be: no lock file can be created there.
    (tmp_path / "data").write_text("not a folder")
    with pytest.raises(LockFileError, match=r"cannot create the folder of .*data/crm.duckdb"):
        RunLock(tmp_path / "data" / "crm.duckdb", "run").acquire()
