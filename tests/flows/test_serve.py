"""`crm-etl serve`: the migration flow served on a schedule by a real Prefect Runner."""

from __future__ import annotations

import asyncio
import datetime as dt

import duckdb
import pytest
from typer.testing import CliRunner

from crm_etl.flows.cli import EXIT_INPUT, app
from crm_etl.flows.serve import schedule_for, serve_migration
from tests.flows.conftest import write_ledger

runner = CliRunner()


@pytest.mark.slow
@pytest.mark.parametrize("workers", [None, 1], ids=["one-process", "one-dask-worker"])
def test_served_flow_runs_once_on_a_short_schedule(prefect_harness, tmp_path, inbox, workers):
    write_ledger(inbox / "a.xlsx", [["上海甲公司", "张三", "13800138000", dt.date(2024, 5, 1), "张伟"]])
    db = tmp_path / "crm.duckdb"
    parameters = {
        "inbox": str(inbox),
        "db": str(db),
        "reports": str(tmp_path / "reports"),
        "move_processed_files": True,
        "workers": workers,
    }
    outcome = serve_migration(
        parameters, schedule_for(None, 5, "UTC"), name=f"serve-test-{workers}", max_runs=1, poll_seconds=2
    )

    assert outcome.finished == ["Completed"]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (1,)
        assert con.execute("SELECT customer_name FROM customers").fetchall() == [("上海甲公司",)]
    # The scheduled run got the served parameters: it moved its input after publishing.
    assert [p.name for p in (inbox / "processed").rglob("*.xlsx")] == ["a.xlsx"]
    assert outcome.deployment_id is not None
    deployment = asyncio.run(_read_deployment(outcome.deployment_id))
    assert deployment.name == f"serve-test-{workers}"
    assert [s.schedule.interval for s in deployment.schedules] == [dt.timedelta(seconds=5)]
    # With a worker, the scheduled run read its file in a task on the Dask cluster.
    names = asyncio.run(_task_run_names(outcome.deployment_id))
    assert ("read-file" in names) == (workers is not None)


async def _task_run_names(deployment_id) -> set[str]:
    """The task names of the deployment's flow runs (a task run is named `<task>-<3 hex>`)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterDeploymentId

    served = FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]))
    async with get_client() as client:
        return {run.name.rsplit("-", 1)[0] for run in await client.read_task_runs(flow_run_filter=served)}


async def _read_deployment(deployment_id):
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return await client.read_deployment(deployment_id)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([], "give exactly one of --cron and --interval"),
        (["--cron", "0 2 * * *", "--interval", "60"], "give exactly one of --cron and --interval"),
        (["--cron", "every night"], "Invalid cron"),
        (["--cron", "0 2 * * *", "--timezone", "Mars/Olympus"], "Mars/Olympus"),
    ],
    ids=["no-schedule", "two-schedules", "bad-cron", "bad-timezone"],
)
def test_serve_usage_errors(tmp_path, options, message):
    result = runner.invoke(
        app, ["serve", "--inbox", str(tmp_path), "--db", str(tmp_path / "c.duckdb"), *options]
    )
    assert result.exit_code == EXIT_INPUT
    assert message in " ".join(result.output.split())


def test_serve_needs_an_inbox(tmp_path):
    result = runner.invoke(app, ["serve", "--cron", "0 2 * * *", "--inbox", str(tmp_path / "none")])
    assert result.exit_code == EXIT_INPUT and "is not a directory" in " ".join(result.output.split())
