"""Prefect's temporary API server as a CLI run starts it: early, only when no server is configured, stopped after."""

from __future__ import annotations

import urllib.request

import pytest

from crm_etl.flows.prefect_api import LocalPrefectApi


def test_a_configured_server_is_used_as_it_is(prefect_harness):
    with LocalPrefectApi() as api:
        api.wait()
        assert api.process is None and api.url is None


@pytest.mark.slow
def test_without_a_server_one_is_started_answered_and_stopped(monkeypatch):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        _start_answer_stop()


def _start_answer_stop() -> None:
    from prefect.settings import PREFECT_API_URL

    api = LocalPrefectApi().start()
    try:
        process = api.process
        assert process is not None and api.url is not None
        api.wait()
        # Prefect itself now talks to the temporary server.
        assert PREFECT_API_URL.value() == api.url
        with urllib.request.urlopen(f"{api.url}/health", timeout=10) as response:
            assert response.status == 200
    finally:
        api.stop()
    assert process.poll() is not None
    assert PREFECT_API_URL.value() != api.url
