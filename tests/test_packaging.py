"""crm-etl as a Python package: every import declared, a wheel that carries what the program reads,
installed from the lock on each interpreter this machine has, and the demo run from it."""

from __future__ import annotations

import ast
import glob
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLES

PACKAGES = ("crm_etl",)
UV = Path(sys.executable).parent / "uv"
# Python versions pyproject's requires-python promises; each one this machine has is tested.
PYTHONS = ("3.11", "3.12", "3.13")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_normalise(re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]) for spec in project["dependencies"]}


def _imported_modules() -> dict[str, str]:
    """Top-level module -> the first file that imports it, over the pipeline's packages."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(REPO)))
    return found


def test_every_imported_library_is_declared():
    distributions = packages_distributions()
    declared = _declared()
    undeclared = []
    for module, where in sorted(_imported_modules().items()):
        if module in sys.stdlib_module_names or module in PACKAGES:
            continue
        owners = {_normalise(d) for d in distributions.get(module, [])}
        if not owners:
            undeclared.append(f"{module} (imported by {where}) is not installed")
        elif not owners & declared:
            undeclared.append(f"{module} (imported by {where}) comes from {', '.join(sorted(owners))}")
    assert not undeclared, "add to pyproject.toml [project] dependencies: " + "; ".join(undeclared)


def test_the_scan_sees_imports_that_only_a_dependency_brings():
    # numpy arrives through polars and pandas; the pipeline imports it itself, so it must be declared.
    assert "numpy" in _imported_modules() and "numpy" in _declared()


def _interpreter(version: str) -> str | None:
    """A working `python3.X`: on PATH, else pyenv's (its shim on PATH fails for a version not selected)."""
    pyenv = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    for candidate in [shutil.which(f"python{version}"), *reversed(pyenv)]:
        if candidate is None:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def _clean_env(tmp: Path) -> dict[str, str]:
    """No PYTHONPATH (nothing may come from the source tree) and a Prefect home of its own."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["PREFECT_HOME"] = str(tmp / "prefect-home")
    env.pop("PREFECT_API_URL", None)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the working tree (setuptools writes build/ and egg-info where it builds)."""
    if not UV.exists():
        pytest.skip(f"uv is not installed beside {sys.executable} (make setup installs it)")
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in PACKAGES:
        shutil.copytree(REPO / folder, source / folder, ignore=ignore)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([str(UV), "build", "--wheel", "--quiet", "--out-dir", str(out), str(source)], check=True)
    (built,) = out.glob("crm_etl-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_carries_every_file_the_program_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    needed = {
        path.relative_to(REPO).as_posix()
        for folder in PACKAGES
        for path in (REPO / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert {"crm_etl/reports/templates/report.html.j2", "crm_etl/reports/templates/messages.yaml"} <= needed
    assert sorted(needed - names) == []


@pytest.mark.slow
@pytest.mark.parametrize("version", PYTHONS)
def test_installed_from_the_lock_and_the_wheel_the_demo_runs(wheel, tmp_path, version):
    interpreter = _interpreter(version)
    if interpreter is None:
        pytest.skip(f"Python {version} is not on this machine (PATH or ~/.pyenv)")
    env = _clean_env(tmp_path)
    venv = tmp_path / "venv"
    uv = [str(UV), "--quiet"]
    subprocess.run([*uv, "venv", "--python", interpreter, str(venv)], check=True, env=env)
    python = str(venv / "bin" / "python")
    # The lock first, then the wheel without dependencies: exactly the pins CI tests with.
    lock = [*uv, "pip", "install", "--python", python]
    subprocess.run([*lock, "-r", str(REPO / "requirements.lock")], check=True, env=env)
    subprocess.run([*lock, "--no-deps", str(wheel)], check=True, env=env)
    cli = str(venv / "bin" / "crm-etl")
    work = tmp_path / "elsewhere"  # not the repository: nothing can be read from the source tree
    work.mkdir()

    shown = subprocess.run([cli, "--version"], cwd=work, env=env, capture_output=True, text=True, check=False)
    assert shown.returncode == 0 and shown.stdout.strip() == "crm-etl 0.1.0", shown.stderr
    where = subprocess.run(
        [
            python,
            "-c",
            "import crm_etl.flows, crm_etl.schemas; print(crm_etl.flows.__file__); print(crm_etl.schemas.__file__)",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert all(str(venv) in line for line in where.stdout.splitlines()), where.stdout

    demo = subprocess.run(
        [
            cli,
            "run",
            "--inbox",
            str(SAMPLES),
            "--db",
            "crm.duckdb",
            "--reports",
            "reports",
            "--as-of",
            "2024-06-30",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-3000:]
    assert (work / "crm.duckdb").is_file()
    assert (work / "reports" / "latest" / "index.html").is_file()
    assert len(list((work / "reports").glob("R*/index.html"))) == 1
