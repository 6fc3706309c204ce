"""Named pause points, so a test can stop a real run at an exact step (and kill it there).

Inert unless `CRM_ETL_PAUSE_AT` names the point: the process then writes
`<CRM_ETL_PAUSE_DIR>/<point>.reached` (holding its PID) and waits until
`<point>.release` appears in the same folder. Nothing else changes: the run does
exactly what it would do without the pause.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_AT_ENV = "CRM_ETL_PAUSE_AT"
PAUSE_DIR_ENV = "CRM_ETL_PAUSE_DIR"

# The points a run passes, in order.
POINTS = ("read", "read.retry", "extract", "load", "publish", "published")


def pause_point(name: str) -> None:
    """Wait here if the environment asks to pause at `name`."""
    wanted = os.environ.get(PAUSE_AT_ENV, "")
    if name not in {p.strip() for p in wanted.split(",")}:
        return
    folder = Path(os.environ.get(PAUSE_DIR_ENV, "."))
    release = folder / f"{name}.release"
    if release.exists():
        return
    announced = folder / f".{name}.reached.{os.getpid()}"
    announced.write_text(str(os.getpid()), encoding="utf-8")
    announced.replace(folder / f"{name}.reached")
    while not release.exists():
        time.sleep(0.05)


FAIL_ONCE_ENV = "CRM_ETL_FAIL_ONCE"


class InjectedFailure(RuntimeError):
    """The failure a test asked for at a fail point (CRM_ETL_FAIL_ONCE)."""


def fail_point(name: str) -> None:
    """Fail here once if `CRM_ETL_FAIL_ONCE` names the point, so a test sees the task retried.

    The first process to pass writes `<CRM_ETL_PAUSE_DIR>/<name>.failed` and fails: with
    `CRM_ETL_FAIL_ONCE=kill:<name>` by ending its own process at once (a worker killed mid-task),
    otherwise by raising InjectedFailure. Every later pass finds the file and goes on.
    """
    for wanted in os.environ.get(FAIL_ONCE_ENV, "").split(","):
        kill = wanted.strip().startswith("kill:")
        if wanted.strip().removeprefix("kill:") != name:
            continue
        marker = Path(os.environ.get(PAUSE_DIR_ENV, ".")) / f"{name}.failed"
        try:
            with marker.open("x", encoding="utf-8") as handle:
                handle.write(str(os.getpid()))
        except FileExistsError:
            return
        if kill:
            os._exit(70)
        raise InjectedFailure(f"failure injected at {name} (CRM_ETL_FAIL_ONCE)")
