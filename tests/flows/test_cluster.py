"""Runs on a Dask cluster (flows/cluster.py): the same tables as one process, tasks retried alone,
a work folder that cannot be written refused before anything runs.

The cluster cases start a real `LocalCluster` of two worker processes under the test Prefect API
and compare every table of the published file with a single-process run of the same inbox.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from crm_etl.flows.cluster import ClusterError, ClusterPlan, ClusterTaskFailed, FanOut, WorkFolder
from crm_etl.flows.pause import FAIL_ONCE_ENV, PAUSE_DIR_ENV
from crm_etl.schemas.config import SCHEMAS_DIR, ClusterSettings
from crm_etl.schemas.overlay import overlay_schemas
from tests import samples_truth as truth
from tests.conftest import SAMPLES
from tests.flows.processes import CLI, contents, run_args

AS_OF = dt.date.fromisoformat(truth.AS_OF_DATE)


def _schemas(folder: Path, **cluster: object) -> Path:
    """An overlay folder whose runs.yaml is the bundled one with `cluster:` settings changed."""
    folder.mkdir(parents=True, exist_ok=True)
    runs = yaml.safe_load((SCHEMAS_DIR / "runs.yaml").read_text(encoding="utf-8"))
    runs["cluster"].update(cluster)
    (folder / "runs.yaml").write_text(yaml.safe_dump(runs, allow_unicode=True), encoding="utf-8")
    return folder


# The plan --------------------------------------------------------------------------------------


def test_one_process_unless_asked(tmp_path):
    db = tmp_path / "crm.duckdb"
    assert ClusterPlan.resolve(ClusterSettings(), db) is None
    assert ClusterPlan.resolve(ClusterSettings(workers=3), db, workers=0) is None  # the flag wins


def test_flags_win_over_the_configuration(tmp_path):
    db = tmp_path / "crm.duckdb"
    configured = ClusterSettings(workers=3, dask_address="tcp://10.0.0.5:8786", work_folder="s3://b/w")
    plan = ClusterPlan.resolve(configured, db)
    assert plan is not None and (plan.address, plan.work.url) == ("tcp://10.0.0.5:8786", "s3://b/w")
    local = ClusterPlan.resolve(configured, db, workers=2)
    assert local is not None and (local.workers, local.address) == (2, None)
    other = ClusterPlan.resolve(ClusterSettings(workers=2), db, address="tcp://h:1")
    assert other is not None and other.address == "tcp://h:1"
    assert other.work == WorkFolder(str(tmp_path / "crm.duckdb.work"))
    assert "tcp://h:1" in other.describe()


def test_a_work_folder_on_any_fsspec_file_system(tmp_path):
    """The same code writes a local folder and an fsspec URL (here fsspec's in-memory file system)."""
    import polars as pl

    for work in (WorkFolder(str(tmp_path / "work")), WorkFolder("memory://crm-etl-test/work")):
        work.check_writable()
        frame = pl.DataFrame({"a": [1, 2], "b": ["x", None]})
        url = work.child("run").write("part-00001", frame)
        assert work.read(url).equals(frame)
        assert work.size() > 0
        work.remove()
        assert work.size() == 0


def test_a_work_folder_that_cannot_be_written(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(ClusterError, match=r"a-file/work: cannot be written"):
        WorkFolder(str(blocker / "work")).check_writable()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any folder's permissions")
def test_a_work_folder_without_write_permission(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ClusterError, match="PermissionError"):
        WorkFolder(str(locked / "work")).check_writable()


def test_fan_out_in_one_process_calls_the_functions_themselves():
    from crm_etl.flows.cluster_tasks import CleanJob

    seen: list[tuple[object, object]] = []

    class Task:
        @staticmethod
        def fn(item: CleanJob, value: object) -> str:
            seen.append((item.part, value))
            return item.raw

    jobs = [CleanJob("customers", n, f"raw-{n}") for n in range(3)]
    done: list[int] = []
    results = FanOut(None).map(Task, jobs, done=lambda i, _: done.append(i), value=7)
    assert results == ["raw-0", "raw-1", "raw-2"]
    assert [part for part, _ in seen] == [0, 1, 2] and done == [0, 1, 2]
    assert all(getattr(v, "value", None) == 7 for _, v in seen)  # as a worker's task receives it


# The command line ------------------------------------------------------------------------------


def test_the_cli_refuses_an_unwritable_work_folder_before_any_task(tmp_path):
    blocker = tmp_path / "shared-drive"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    schemas = _schemas(tmp_path / "schemas", work_folder=str(blocker / "crm-etl"))
    result = subprocess.run(
        [str(CLI), *run_args(SAMPLES, tmp_path, "--workers", "2", "--schemas", str(schemas))],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"work folder {blocker / 'crm-etl'}: cannot be written" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "crm.duckdb").exists()
    assert not (tmp_path / "reports").exists()


def test_a_scheduler_nobody_answers_at(tmp_path):
    """`--dask` at an address with no scheduler: exit 2 before any work, nothing left behind."""
    result = subprocess.run(
        [str(CLI), *run_args(SAMPLES, tmp_path, "--dask", "tcp://127.0.0.1:9")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200", "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cluster error, nothing was published: cannot start or reach the Dask cluster at" in " ".join(
        result.stderr.split()
    )
    assert "tcp://127.0.0.1:9" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no database, no report, no work folder


def test_run_help_names_the_cluster_options():
    result = subprocess.run([str(CLI), "run", "--help"], capture_output=True, text=True, timeout=120)
    assert "--workers" in result.stdout and "--dask" in result.stdout


# Equal results on a real LocalCluster -----------------------------------------------------------


def test_the_single_process_run_uses_no_cluster(sample_run):
    summary, _, out = sample_run
    assert summary.cluster is None
    assert not (out / "crm.duckdb.work").exists()


def _cluster_run(inbox: Path, out: Path, schemas: Path | None = None, workers: int = 2):
    from crm_etl.flows.migrate import migrate

    return migrate(
        inbox=inbox,
        db=out / "crm.duckdb",
        reports=out / "reports",
        as_of=AS_OF,
        schemas_dir=schemas,
        workers=workers,
    )


@pytest.mark.slow
def test_two_workers_publish_the_tables_one_process_does_on_the_samples(prefect_harness, sample_db, tmp_path):
    _, single = sample_db
    summary = _cluster_run(SAMPLES, tmp_path)
    assert summary.cluster is not None and summary.cluster["where"].startswith("2 local Dask workers")
    assert summary.cluster["work_folder_bytes"] > 0
    assert contents(tmp_path / "crm.duckdb") == contents(single)
    assert not (tmp_path / "crm.duckdb.work").exists()  # the run's work folder is removed


@pytest.mark.slow
def test_a_killed_worker_and_a_failed_chunk_are_retried_alone(
    prefect_harness, sample_db, tmp_path, monkeypatch
):
    """The worker comparing chunk 0 dies mid-task, cleaning one file raises once: same tables."""
    _, single = sample_db
    markers = tmp_path / "markers"
    markers.mkdir()
    # Read by the worker processes, which the cluster starts with this environment.
    monkeypatch.setenv(FAIL_ONCE_ENV, "kill:compare-00000,clean-customers-00001")
    monkeypatch.setenv(PAUSE_DIR_ENV, str(markers))
    _cluster_run(SAMPLES, tmp_path / "out")
    assert sorted(p.name for p in markers.iterdir()) == [
        "clean-customers-00001.failed",
        "compare-00000.failed",
    ]
    assert contents(tmp_path / "out" / "crm.duckdb") == contents(single)


@pytest.mark.slow
def test_two_workers_publish_the_tables_one_process_does_on_50k_rows(prefect_harness, tmp_path):
    """A generated inbox of 50,000 rows, its candidate pairs in many chunks of 20,000."""
    from bench.inbox_data import write_inbox
    from crm_etl.flows.migrate import migrate

    inbox = tmp_path / "inbox"
    write_inbox(inbox, 50_000)
    migrate(
        inbox=inbox, db=tmp_path / "one" / "crm.duckdb", reports=tmp_path / "one" / "reports", as_of=AS_OF
    )
    schemas = overlay_schemas(_schemas(tmp_path / "schemas", pair_chunk_size=20_000))
    summary = _cluster_run(inbox, tmp_path / "two", schemas)
    assert summary.rows_read >= 50_000
    assert summary.cluster is not None and summary.cluster["pair_chunks"] >= 5
    assert contents(tmp_path / "two" / "crm.duckdb") == contents(tmp_path / "one" / "crm.duckdb")


def test_a_task_failing_every_attempt_names_its_input(prefect_harness, tmp_path):
    """Prefect's thread-pool task runner stands in for the workers: FanOut submits alike to both."""
    from prefect import flow, task
    from prefect.task_runners import ThreadPoolTaskRunner

    from crm_etl.flows.cluster_tasks import ReadJob

    @task(name="always-fails", retries=1, retry_delay_seconds=0)
    def always_fails(job: ReadJob, work: object) -> None:
        raise OSError(f"disk full writing {job.source_file}")

    @flow
    def fan_out() -> None:
        plan = ClusterPlan(2, None, WorkFolder(str(tmp_path)), 1_000)
        with FanOut(plan, plan.work, runner=ThreadPoolTaskRunner()) as fan:
            fan.map(always_fails, [ReadJob(1, tmp_path / "a.csv", "台账/a.csv")], work=1)

    with pytest.raises(
        ClusterTaskFailed, match=r"always-fails for 台账/a.csv failed 2 time\(s\): OSError: disk full"
    ):
        fan_out()


@pytest.mark.slow
def test_an_existing_cluster_by_its_address(prefect_harness, sample_db, tmp_path):
    """`--dask ADDRESS`: a scheduler started outside the run, with its own worker."""
    from distributed import LocalCluster
    from prefect.settings import PREFECT_API_URL

    _, single = sample_db
    environment = {"PREFECT_API_URL": PREFECT_API_URL.value(), "DO_NOT_TRACK": "1"}
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, env=environment
    ) as cluster:
        from crm_etl.flows.migrate import migrate

        summary = migrate(
            inbox=SAMPLES,
            db=tmp_path / "crm.duckdb",
            reports=tmp_path / "reports",
            as_of=AS_OF,
            dask_address=cluster.scheduler_address,
        )
        assert cluster.scheduler_info["workers"]  # the run left the cluster running
    assert summary.cluster is not None and cluster.scheduler_address in summary.cluster["where"]
    assert contents(tmp_path / "crm.duckdb") == contents(single)
