"""Expectation suites as data (schemas/expectations/*.yaml): what each run's result must satisfy."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crm_etl.schemas.config import SCHEMAS_DIR, Config, ConfigError, _load_model

Severity = Literal["critical", "warning"]

# What a suite can validate: the staged tables of the run, the rows each source kind produced
# before cleaning (`raw_<record type>`), and where every input row went (`row_placements`).
BATCH_TABLES = {
    "customers",
    "contacts",
    "raw_customers",
    "raw_orders",
    "raw_interactions",
    "row_placements",
}
# Values a suite may refer to as `{$PARAMETER: name}`; the run supplies them.
PARAMETERS = {
    "as_of",
    "first_contact_min_date",
    "customer_id_pattern",
    "completeness_target",
    "completeness_alarm",
}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ExpectationSpec(BaseModel):
    """One expectation: a Great Expectations type, its severity, and its arguments (every other key)."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(pattern=r"^expect_[a-z0-9_]+$")
    severity: Severity
    notes: str | None = None

    @property
    def kwargs(self) -> dict[str, Any]:
        """The arguments passed to the expectation (column, mostly, regex, value_set …)."""
        return dict(self.model_extra or {})

    @property
    def column(self) -> str | None:
        value = self.kwargs.get("column")
        return str(value) if value is not None else None


class SuiteSpec(BaseModel):
    """A named expectation suite over one batch of the run's data."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    # Either a table of the staged run, or a source kind whose raw rows are validated.
    table: str | None = None
    source: str | None = None
    # Derived columns added to the batch: name -> DuckDB SQL expression over the table's columns.
    columns: dict[str, str] = Field(default_factory=dict)
    # Columns shown (masked) for the sample rows of a failing expectation.
    sample_columns: list[str] = Field(default_factory=list)
    expectations: list[ExpectationSpec] = Field(min_length=1)
    path: Path | None = None

    @field_validator("table")
    @classmethod
    def _known_table(cls, value: str | None) -> str | None:
        if value is not None and value not in BATCH_TABLES:
            raise ValueError(f"{value!r} is not one of {', '.join(sorted(BATCH_TABLES))}")
        return value

    @field_validator("columns")
    @classmethod
    def _column_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _IDENTIFIER.match(name):
                raise ValueError(f"derived column name {name!r} is not a plain identifier")
        return value

    @model_validator(mode="after")
    def _table_or_source(self) -> SuiteSpec:
        if (self.table is None) == (self.source is None):
            raise ValueError("give exactly one of `table` (a staged table) or `source` (a source kind)")
        return self


def _parameters_used(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            yield str(value["$PARAMETER"])
        else:
            for item in value.values():
                yield from _parameters_used(item)
    elif isinstance(value, list):
        for item in value:
            yield from _parameters_used(item)


def load_suites(config: Config, directory: Path | None = None) -> list[SuiteSpec]:
    """Load every suite in schemas/expectations/, checking names, sources and parameters."""
    folder = directory or config.directory / "expectations"
    sources = {s.name: s for s in config.sources}
    suites: list[SuiteSpec] = []
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.yaml")):
        suite: SuiteSpec = _load_model(SuiteSpec, path, {"path": path})
        if suite.name in seen:
            raise ConfigError(f"{path}: name {suite.name!r} is already used by {seen[suite.name]}")
        seen[suite.name] = path
        if suite.source is not None and suite.source not in sources:
            raise ConfigError(
                f"{path}: source: {suite.source!r} is not a source kind in schemas/sources/ "
                f"(known: {', '.join(sorted(sources))})"
            )
        for index, expectation in enumerate(suite.expectations):
            for name in _parameters_used(expectation.kwargs):
                if name not in PARAMETERS:
                    raise ConfigError(
                        f"{path}: expectations.{index}: unknown parameter {name!r} "
                        f"(known: {', '.join(sorted(PARAMETERS))})"
                    )
        suites.append(suite)
    if not suites:
        raise ConfigError(f"{folder}: no expectation suites (*.yaml) found")
    return suites


def batch_table(suite: SuiteSpec, config: Config) -> str:
    """The table a suite's batch is read from (a source kind reads `raw_<its record type>`)."""
    if suite.table is not None:
        return suite.table
    spec = next(s for s in config.sources if s.name == suite.source)
    return f"raw_{spec.record_type}"


class FollowUpSettings(BaseModel):
    """When the report raises the alarm on overdue follow-ups (跟进超时).

    Which customer is overdue is customer_features.follow_up_overdue (segments.yaml follow_up),
    counted by schemas/kpis.yaml: one definition for the report and the analysts.
    """

    model_config = ConfigDict(extra="forbid")
    alarm_above: int = Field(ge=0)


class AuditSettings(BaseModel):
    """The monthly accuracy check's random sample."""

    model_config = ConfigDict(extra="forbid")
    share: float = Field(gt=0, le=1)


class OwnerExportSettings(BaseModel):
    """What `crm-etl export --owner` (and a run's per-owner handouts) show of a rep's own customers."""

    model_config = ConfigDict(extra="forbid")
    masked_columns: list[str] = Field(default_factory=list)
    # After publishing, a run writes reports/<run_id>/owners/<owner>/ with each rep's handout (xlsx).
    per_owner_folders: bool = False


class ReportSettings(BaseModel):
    """Report, worklist and audit-sample settings (schemas/report.yaml)."""

    model_config = ConfigDict(extra="forbid")
    follow_up: FollowUpSettings
    audit_sample: AuditSettings
    owner_exports: OwnerExportSettings = Field(default_factory=OwnerExportSettings)
    sample_rows: int = Field(default=10, ge=0, le=100)
    default_language: Literal["zh-CN", "en"] = "zh-CN"


def load_report_settings(directory: Path | None = None) -> ReportSettings:
    """Load and validate schemas/report.yaml."""
    path = (directory or SCHEMAS_DIR) / "report.yaml"
    settings: ReportSettings = _load_model(ReportSettings, path)
    return settings
