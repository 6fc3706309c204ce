"""Every contract of `schemas/`, loaded and checked once, before a run touches any data.

`load_contracts` reads the whole folder (fields, sources, pipeline, dedupe, mappings, code
tables, tag rules, segments, report settings and figures, expectation suites) into one `Contracts` value
that the run hands down to its stages. It is remembered per folder and file state, so the CLI's
check before the lock and the flow's own load (a deployment passes only the folder) read each
file once per process; a file edited in between is read again.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from crm_etl.schemas.codes import CustomerTypeTable, IndustryTable, load_customer_types, load_industry_table
from crm_etl.schemas.config import (
    SCHEMAS_DIR,
    Config,
    ConfigError,
    TagRules,
    load_channels,
    load_config,
    load_tag_rules,
)
from crm_etl.schemas.kpis import KpiDefinitions, load_kpis
from crm_etl.schemas.segments import Segments, load_segments
from crm_etl.schemas.suites import ReportSettings, SuiteSpec, load_report_settings, load_suites


@dataclass(frozen=True)
class Contracts:
    """The whole configuration of a run."""

    config: Config
    industries: IndustryTable
    customer_types: CustomerTypeTable
    channels: dict[str, str]
    tag_rules: TagRules
    segments: Segments
    report: ReportSettings
    kpis: KpiDefinitions
    suites: list[SuiteSpec]

    @property
    def directory(self) -> Path:
        return self.config.directory


def load_contracts(directory: Path | None = None) -> Contracts:
    """Load and check every file of `directory` (default: the bundled schemas/); ConfigError names the file."""
    root = Path(directory or SCHEMAS_DIR).resolve()
    return _load(root, _state(root))


def _state(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of every file under the folder: a change means a new load."""
    if not root.is_dir():
        raise ConfigError(f"{root}: configuration folder not found")
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return tuple((str(p.relative_to(root)), (s := p.stat()).st_size, s.st_mtime_ns) for p in files)


@cache
def _load(root: Path, state: tuple[tuple[str, int, int], ...]) -> Contracts:
    config = load_config(root)
    suites = load_suites(config)
    check_expectation_types(suites)
    return Contracts(
        config=config,
        industries=load_industry_table(root / "industries.yaml"),
        customer_types=load_customer_types(root / "customer_types.yaml"),
        channels=load_channels(root / "channels.yaml"),
        tag_rules=load_tag_rules(root / "tag_rules.yaml"),
        segments=load_segments(root / "segments.yaml"),
        report=load_report_settings(root),
        kpis=load_kpis(root / "kpis.yaml"),
        suites=suites,
    )


def gx_expectation_types() -> frozenset[str]:
    """The expectation types the installed Great Expectations has, without importing it (2 s).

    GX defines each core expectation in a module of its own name under `expectations/core/`.
    """
    spec = importlib.util.find_spec("great_expectations")
    if spec is None or spec.origin is None:
        return frozenset()
    folder = Path(spec.origin).parent / "expectations" / "core"
    return frozenset(p.stem for p in folder.glob("expect_*.py"))


def check_expectation_types(suites: list[SuiteSpec]) -> None:
    """Every suite names expectation types GX has (their arguments GX checks when the run builds them)."""
    known = gx_expectation_types()
    if not known:
        return
    for suite in suites:
        for index, item in enumerate(suite.expectations):
            if item.type not in known:
                raise ConfigError(
                    f"{suite.path}: expectations.{index}.type: {item.type!r} is not a Great Expectations expectation"
                )


__all__ = ["Contracts", "check_expectation_types", "gx_expectation_types", "load_contracts"]
