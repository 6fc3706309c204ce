"""A database folder that cannot be written: clear errors, and the published file stays as it was.

Root ignores file permissions, so when the tests run as root a read-only folder and a
full disk are made for real inside a private user+mount namespace (`unshare -Urm`):
a read-only bind mount of the folder, and a tmpfs too small for the run. Both exist
only inside that namespace and vanish with it; nothing on the machine is remounted.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crm_etl.flows.cli import EXIT_CHECK_FAILED, app
from crm_etl.flows.migrate import migrate
from crm_etl.flows.snapshots import snapshot_dir
from tests.flows.conftest import write_ledger
from tests.flows.processes import CLI, sha256

AS_OF = "2024-06-30"
runner = CliRunner()


def _namespaces_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-Urm", "true"], capture_output=True, check=False)
    return probe.returncode == 0


needs_namespaces = pytest.mark.skipif(
    not _namespaces_available(), reason="needs unprivileged user+mount namespaces (unshare -Urm)"
)


@pytest.fixture
def published(prefect_harness, tmp_path, inbox):
    """A database published by one run, and an inbox with one more export for the next run."""
    write_ledger(inbox / "a.xlsx", [["上海甲公司", "张三", "13800138000", dt.date(2024, 5, 1), "张伟"]])
    db = tmp_path / "data" / "crm.duckdb"
    migrate(inbox=inbox, db=db, reports=tmp_path / "reports", as_of=dt.date.fromisoformat(AS_OF))
    write_ledger(inbox / "b.xlsx", [["杭州乙公司", "李四", "13900139000", dt.date(2024, 5, 2), "王芳"]])
    return inbox, db


def _run_args(inbox: Path, db: Path, reports: Path) -> list[str]:
    return ["run", "--inbox", str(inbox), "--db", str(db), "--reports", str(reports), "--as-of", AS_OF]


def _in_namespace(script: str, api_url: str, **variables: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PREFECT_API_URL": api_url, "CLI": str(CLI), **variables}
    return subprocess.run(
        ["unshare", "-Urm", "sh", "-c", script], capture_output=True, text=True, env=environment, check=False
    )


def _api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


def test_a_file_where_the_snapshot_folder_should_be_fails_clearly(published, tmp_path):
    inbox, db = published
    before = sha256(db)
    snapshot_dir(db).write_text("in the way")
    result = runner.invoke(app, _run_args(inbox, db, tmp_path / "reports"))
    assert result.exit_code == EXIT_CHECK_FAILED
    message = " ".join(result.output.split())
    assert "cannot write the database" in message and "cannot keep a snapshot" in message
    assert "nothing was published" in message
    assert sha256(db) == before
    assert sorted(p.name for p in db.parent.iterdir() if p.name.startswith(".")) == []


READ_ONLY = """
set -e
mount --bind "$DIR" "$DIR"
mount -o remount,bind,ro "$DIR"
set +e
"$CLI" run --inbox "$INBOX" --db "$DIR/crm.duckdb" --reports "$REPORTS" --as-of 2024-06-30
echo "exit=$?"
"""


def test_a_read_only_database_folder_is_a_clear_error(published, tmp_path):
    inbox, db = published
    before = sha256(db)
    if os.geteuid() != 0:
        db.parent.chmod(0o555)
        try:
            result = runner.invoke(app, _run_args(inbox, db, tmp_path / "reports"))
        finally:
            db.parent.chmod(0o755)
        exit_code, output = result.exit_code, result.output
    else:
        if not _namespaces_available():
            pytest.skip("running as root without user+mount namespaces: no way to make a folder read-only")
        done = _in_namespace(
            READ_ONLY, _api_url(), DIR=str(db.parent), INBOX=str(inbox), REPORTS=str(tmp_path / "reports")
        )
        assert "exit=" in done.stdout, done.stderr
        exit_code = int(done.stdout.rsplit("exit=", 1)[1])
        output = done.stdout + done.stderr
    assert exit_code == EXIT_CHECK_FAILED, output
    message = " ".join(output.split())
    assert "cannot create the lock file" in message
    assert "Read-only file system" in message or "Permission denied" in message
    assert "the published database is unchanged" in message
    assert sha256(db) == before


DISK_FULL = """
set -e
mount -t tmpfs -o size="$SIZE_K"k tmpfs "$DIR"
cp "$PUBLISHED" "$DIR/crm.duckdb"
set +e
"$CLI" run --inbox "$INBOX" --db "$DIR/crm.duckdb" --reports "$REPORTS" --as-of 2024-06-30
echo "exit=$?"
echo "after=$(sha256sum "$DIR/crm.duckdb" | cut -d' ' -f1)"
echo "left=$(ls -A "$DIR" | grep -c staging)"
"""


@needs_namespaces
def test_a_full_disk_is_a_clear_error_and_the_published_file_stays(published, tmp_path):
    inbox, db = published
    full = tmp_path / "full"
    full.mkdir()
    # Room for the published file and the run's working copy (and the small extraction cache), not
    # for what DuckDB then writes into the copy: every table gets new blocks.
    size_k = db.stat().st_size * 2 // 1024 + 256
    done = _in_namespace(
        DISK_FULL,
        _api_url(),
        DIR=str(full),
        PUBLISHED=str(db),
        SIZE_K=str(size_k),
        INBOX=str(inbox),
        REPORTS=str(tmp_path / "reports"),
    )
    assert "exit=" in done.stdout, done.stderr
    output = done.stdout + done.stderr
    assert int(done.stdout.split("exit=", 1)[1].split()[0]) == EXIT_CHECK_FAILED, output
    message = " ".join(output.split())
    assert "cannot write the database: cannot write the run's working copy" in message
    assert "No space left on device" in message and "is unchanged" in message
    assert done.stdout.split("after=", 1)[1].split()[0] == sha256(db)
    assert done.stdout.split("left=", 1)[1].split()[0] == "0"
