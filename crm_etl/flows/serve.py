"""Serve the migration flow on a schedule with Prefect: a deployment plus a Runner in this process.

With `PREFECT_API_URL` set, the deployment is registered on that Prefect server and
shows in its UI. Without it, this process starts Prefect's local temporary API (the
same one `crm-etl run` uses) and keeps it for as long as it serves. That local API
runs no scheduler service, so this process also asks the API to materialise the
deployment's upcoming runs (`POST /deployments/{id}/schedule`) on every poll. The
call is idempotent, so it is harmless where a server's own scheduler does it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import anyio
import httpx
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.schedules import CronSchedule
from prefect.client.schemas.sorting import FlowRunSort
from prefect.runner import Runner
from prefect.schedules import Cron, Interval, Schedule
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.types.entrypoint import EntrypointType

from crm_etl.flows.migrate import migrate

log = logging.getLogger(__name__)

FINISHED = [StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED]


def schedule_for(cron: str | None, interval_seconds: float | None, timezone: str) -> Schedule:
    """A Prefect schedule from a cron expression or an interval; ValueError names what is wrong."""
    if (cron is None) == (interval_seconds is None):
        raise ValueError("give exactly one of --cron and --interval")
    if cron is not None:
        CronSchedule(cron=cron, timezone=timezone)  # validates the expression and the time zone
        return Cron(cron, timezone=timezone)
    assert interval_seconds is not None
    if interval_seconds <= 0:
        raise ValueError("--interval must be a positive number of seconds")
    return Interval(dt.timedelta(seconds=interval_seconds), timezone=timezone)


@dataclass
class ServeOutcome:
    """What a serve session ran (when it was told to stop after some runs)."""

    api_url: str
    deployment_id: UUID | None = None
    finished: list[str] = field(default_factory=list)  # final state name of each run, in order


@contextlib.contextmanager
def prefect_api() -> Iterator[str]:
    """The Prefect API to serve against: `PREFECT_API_URL`, else a local temporary one for this process."""
    configured = PREFECT_API_URL.value()
    if configured:
        yield configured
        return
    # What Prefect's local mode starts on demand; started here so that every flow-run
    # process the Runner spawns talks to this one API rather than starting its own.
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()
    previous = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous
        server.stop()


def serve_migration(
    parameters: dict[str, Any],
    schedule: Schedule,
    name: str,
    max_runs: int | None = None,
    poll_seconds: float = 10.0,
) -> ServeOutcome:
    """Register the `crm-migrate` deployment `name` and run it on `schedule` until stopped.

    `parameters` are the flow's (paths as absolute strings). With `max_runs`, return
    once that many runs have finished; otherwise serve until interrupted or SIGTERM.
    """
    with prefect_api() as api_url:
        outcome = ServeOutcome(api_url)
        asyncio.run(_serve(outcome, parameters, schedule, name, max_runs, poll_seconds))
        return outcome


async def _serve(
    outcome: ServeOutcome,
    parameters: dict[str, Any],
    schedule: Schedule,
    name: str,
    max_runs: int | None,
    poll_seconds: float,
) -> None:
    runner = Runner(name=name, query_seconds=poll_seconds, limit=1)
    outcome.deployment_id = await runner.aadd_flow(
        migrate,
        name=name,
        schedules=[schedule],
        parameters=parameters,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    async with get_client() as client:
        # Drop runs an earlier serve session scheduled but never started, rather than run them
        # all at once now, late: the next run reads everything new anyway.
        await _pause_dropping_scheduled_runs(client, outcome.deployment_id)
        await client.resume_deployment(outcome.deployment_id)
    log.info("serving deployment crm-migrate/%s against %s", name, outcome.api_url)
    async with anyio.create_task_group() as group:
        group.start_soon(runner.start)
        group.start_soon(_keep_scheduled, runner, outcome, max_runs, poll_seconds)


async def _keep_scheduled(
    runner: Runner, outcome: ServeOutcome, max_runs: int | None, poll_seconds: float
) -> None:
    """Materialise upcoming runs on every poll; with `max_runs`, stop once that many have run.

    Once `max_runs` runs have started, the deployment is paused (which drops its
    remaining scheduled runs), so the Runner starts no other run that stopping it
    would then have to cancel.
    """
    assert outcome.deployment_id is not None
    this_session = FlowRunFilterExpectedStartTime.model_validate({"after_": dt.datetime.now(dt.UTC)})
    deployment = DeploymentFilter(id=DeploymentFilterId(any_=[outcome.deployment_id]))
    enough_started = False
    async with get_client() as client:
        while True:
            try:
                if not enough_started:
                    await _schedule_upcoming(client, outcome.deployment_id)
                if max_runs is not None:
                    runs = await client.read_flow_runs(
                        deployment_filter=deployment,
                        flow_run_filter=FlowRunFilter(expected_start_time=this_session),
                        sort=FlowRunSort.EXPECTED_START_TIME_ASC,
                    )
                    started = [r for r in runs if r.state_type not in (None, StateType.SCHEDULED)]
                    if len(started) >= max_runs and not enough_started:
                        enough_started = True
                        await _pause_dropping_scheduled_runs(client, outcome.deployment_id)
                    finished = [r for r in started[:max_runs] if r.state_type in FINISHED]
                    if len(finished) >= max_runs:
                        outcome.finished = [r.state_name or "" for r in finished]
                        await runner.astop()
                        return
            except httpx.HTTPError as exc:
                # A busy or restarting API: serving goes on, the next poll tries again.
                log.warning("Prefect API call failed, trying again in %g s: %s", poll_seconds, exc)
            await asyncio.sleep(poll_seconds)


async def _schedule_upcoming(client: PrefectClient, deployment_id: UUID) -> None:
    """Ask the API to create the deployment's next scheduled runs (idempotent)."""
    response = await client.request(
        "POST", "/deployments/{id}/schedule", path_params={"id": deployment_id}, json={"max_runs": 3}
    )
    response.raise_for_status()


async def _pause_dropping_scheduled_runs(client: PrefectClient, deployment_id: UUID) -> None:
    """Pause a deployment through the API route that also deletes its not-yet-started scheduled runs.

    (`PrefectClient.pause_deployment` only sets the flag, which leaves them to run later.)
    """
    response = await client.request(
        "POST", "/deployments/{id}/pause_deployment", path_params={"id": deployment_id}
    )
    response.raise_for_status()
