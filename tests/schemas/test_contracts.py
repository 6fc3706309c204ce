"""Every contract of schemas/ loaded once, checked before any data or heavy library is touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crm_etl.schemas import SCHEMAS_DIR, ConfigError
from crm_etl.schemas.contracts import gx_expectation_types, load_contracts

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def schemas(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_bundled_contracts_load_with_every_part():
    contracts = load_contracts()
    assert contracts.config.directory == SCHEMAS_DIR
    assert contracts.suites and contracts.tag_rules.rules and contracts.channels
    assert contracts.industries.names and contracts.kpis["overdue_followups"].sql


def test_loaded_once_per_file_state(schemas: Path):
    first = load_contracts(schemas)
    assert load_contracts(schemas) is first
    report = schemas / "report.yaml"
    report.write_text(report.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    os.utime(report, ns=(report.stat().st_atime_ns, report.stat().st_mtime_ns + 1_000_000))
    assert load_contracts(schemas) is not first


def test_the_installed_gx_names_the_expectations_the_suites_use():
    used = {e.type for s in load_contracts().suites for e in s.expectations}
    assert used <= gx_expectation_types()


@pytest.mark.parametrize(
    ("file", "broken", "message"),
    [
        ("report.yaml", "follow_up: [\n", "report.yaml: not valid YAML"),
        ("tag_rules.yaml", "rules: 3\n", "tag_rules.yaml"),
        ("industries.yaml", "sections: nope\n", "industries.yaml"),
        ("channels.yaml", "channels: [a]\n", "channels.yaml"),
        ("segments.yaml", "rfm: 1\n", "segments.yaml"),
    ],
    ids=["yaml", "tag-rules", "code-table", "channels", "segments"],
)
def test_a_broken_file_of_any_part_names_itself(schemas: Path, file: str, broken: str, message: str):
    (schemas / file).write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_contracts(schemas)


def test_an_unknown_expectation_is_refused_without_importing_gx_or_prefect(schemas: Path):
    suite = schemas / "expectations" / "customers.yaml"
    suite.write_text(
        suite.read_text(encoding="utf-8")
        + "  - {type: expect_column_values_to_be_wonderful, column: customer_id, severity: warning}\n",
        encoding="utf-8",
    )
    # A fresh interpreter, so that what the check imports is all that is imported.
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from crm_etl.schemas import ConfigError
        from crm_etl.schemas.contracts import load_contracts
        try:
            load_contracts(Path({str(schemas)!r}))
        except ConfigError as exc:
            print("refused:", exc)
        print("gx imported:", "great_expectations" in sys.modules)
        print("prefect imported:", "prefect" in sys.modules)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True, timeout=120
    )
    assert "customers.yaml: expectations." in result.stdout
    assert "'expect_column_values_to_be_wonderful' is not a Great Expectations expectation" in result.stdout
    assert "gx imported: False" in result.stdout and "prefect imported: False" in result.stdout
