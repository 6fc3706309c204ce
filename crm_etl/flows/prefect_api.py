"""The Prefect API a CLI run records its flow and task runs in.

With `PREFECT_API_URL` set (a team's server, or Prefect Cloud) that server is used as it is.
Without it Prefect would start its temporary server itself, on the flow's first API call, after
every module is imported and while the run waits: about 2 s to import the server's code into
this process and 3 s for the server to come up. `LocalPrefectApi` starts the same server (the
same uvicorn command Prefect's `SubprocessASGIServer` runs, on the same local database) as a
subprocess the moment the configuration has been checked, so it comes up on the second core
while the pipeline's modules import on the first, and points `PREFECT_API_URL` at it.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

_PORTS = range(8000, 9000)


class PrefectApiError(RuntimeError):
    """The temporary Prefect API server did not come up."""


def _free_port() -> int:
    for _ in range(20):
        port = random.choice(_PORTS)
        with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise PrefectApiError("no free local port for Prefect's temporary API server")


def configured_api_url() -> str | None:
    """The API URL from the environment or the active Prefect profile, if any."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def _drain_workers() -> None:
    """Send the run's last logs and events before the server goes (as prefect_test_harness does)."""
    import inspect

    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.utilities.asyncutils import run_coro_as_sync

    async def drain() -> None:
        with contextlib.suppress(RuntimeError):  # a worker that never started
            result = APILogWorker.instance().drain()
            if inspect.isawaitable(result):
                await result
        drained = EventsWorker.drain_all()
        if inspect.isawaitable(drained):
            await drained

    run_coro_as_sync(drain())


class LocalPrefectApi:
    """Prefect's temporary API server, started early and stopped when the run ends.

    `start()` returns at once; `wait()` blocks until the server answers its health check.
    Does nothing when an API URL is configured or Prefect's ephemeral mode is switched off.
    """

    def __init__(self, startup_timeout: float | None = None) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.url: str | None = None
        self.timeout = startup_timeout or float(
            os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", 180)
        )
        self._ready = False
        self._settings = contextlib.ExitStack()

    def start(self) -> LocalPrefectApi:
        from prefect.settings import PREFECT_SERVER_ALLOW_EPHEMERAL_MODE, get_current_settings

        if configured_api_url() or not PREFECT_SERVER_ALLOW_EPHEMERAL_MODE.value():
            self._ready = True
            return self
        import prefect

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        environment = {
            **os.environ,
            # What Prefect's own temporary server runs with: no UI, ephemeral-server settings.
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
            **get_current_settings().to_environment_variables(exclude_unset=True),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(Path(prefect.__file__).parent.parent),
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        return self

    def wait(self) -> None:
        """Block until the server answers, then point Prefect at it; PrefectApiError when it exits or times out."""
        if self._ready or self.process is None or self.url is None:
            return
        self._wait_healthy()
        from prefect.settings import PREFECT_API_URL, temporary_settings

        self._settings.enter_context(temporary_settings(updates={PREFECT_API_URL: self.url}))
        self._ready = True

    def _wait_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                detail = (
                    self.process.stderr.read().decode(errors="replace")[-2000:] if self.process.stderr else ""
                )
                raise PrefectApiError(
                    f"Prefect's temporary API server exited with code {self.process.returncode}: {detail.strip()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise PrefectApiError(
            f"Prefect's temporary API server did not answer within {self.timeout:.0f} s "
            "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)"
        )

    def stop(self) -> None:
        if self.process is not None and self._ready:
            _drain_workers()
        self._settings.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> LocalPrefectApi:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
