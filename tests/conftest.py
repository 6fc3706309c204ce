"""Shared fixtures: one real Prefect test harness for the whole session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# CLI tests read what rich prints: a wide console keeps messages on one line, as in a real terminal.
os.environ.setdefault("COLUMNS", "200")

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A real Prefect API on a temporary database; flows run against it exactly as in production."""
    from prefect.testing.utilities import prefect_test_harness

    # A 2-core CI machine can take well over Prefect's default 30 s to start the server.
    with prefect_test_harness(server_startup_timeout=240):
        yield
