"""Run the expectation suites of schemas/expectations/ on a staged run with Great Expectations 1.x.

GX runs with an ephemeral context (in memory, no server, no network); each suite's batch is a
pandas frame read from the staged DuckDB file. Results become CheckResult values with masked
sample rows; GX's own Data Docs are written into the report folder when asked.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from crm_etl.cleaners.masking import mask_value
from crm_etl.cleaners.quality import CheckResult, observed_text, sample_json, threshold_text
from crm_etl.schemas import Config, ConfigError
from crm_etl.schemas.suites import SuiteSpec, batch_table

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.expectations.expectation import Expectation

# GX must not phone home: the pipeline runs where only the package registries are reachable.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

log = logging.getLogger(__name__)


@dataclass
class BuiltSuite:
    """A suite spec with its expectations instantiated (and so checked) by Great Expectations."""

    spec: SuiteSpec
    table: str
    expectations: list[Expectation]


def _gx_error_text(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            return "; ".join(
                f"{'.'.join(str(p) for p in e.get('loc', ())) or '(arguments)'}: {e.get('msg')}"
                for e in errors()
            )
        except (TypeError, AttributeError):
            pass
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def import_great_expectations() -> None:
    """Import GX and its core expectations (about 2 s); `build_suites` needs them."""
    import great_expectations  # noqa: F401


def build_suites(specs: Sequence[SuiteSpec], config: Config) -> list[BuiltSuite]:
    """Instantiate every expectation, so a typo in a suite fails before any data is read."""
    import great_expectations as gx  # noqa: F401  (registers the core expectations)
    from great_expectations.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.metadata_types import FailureSeverity
    from great_expectations.expectations.registry import get_expectation_impl

    built: list[BuiltSuite] = []
    for spec in specs:
        expectations = []
        for index, item in enumerate(spec.expectations):
            where = f"{spec.path}: expectations.{index}"
            try:
                cls = get_expectation_impl(item.type)
            except ExpectationNotFoundError:
                raise ConfigError(
                    f"{where}.type: {item.type!r} is not a Great Expectations expectation"
                ) from None
            try:
                expectation = cls(**item.kwargs, severity=FailureSeverity(item.severity), notes=item.notes)
            except Exception as exc:  # GX raises pydantic (v1) and its own errors for bad arguments
                raise ConfigError(f"{where} ({item.type}): {_gx_error_text(exc)}") from exc
            expectations.append(expectation)
        built.append(BuiltSuite(spec=spec, table=batch_table(spec, config), expectations=expectations))
    return built


def suite_parameters(config: Config, as_of: dt.date) -> dict[str, Any]:
    """The values suites refer to as `{$PARAMETER: name}`."""
    settings = config.pipeline
    return {
        "as_of": as_of,
        "first_contact_min_date": settings.first_contact_min_date,
        "customer_id_pattern": settings.customer_id_pattern,
        "completeness_target": settings.completeness_target,
        "completeness_alarm": settings.completeness_alarm,
    }


def _resolve(value: Any, parameters: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return parameters.get(value["$PARAMETER"], value)
        return {k: _resolve(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, parameters) for v in value]
    return value


def _columns_of(kwargs: Mapping[str, Any]) -> list[str]:
    names: list[str] = []
    for key in ("column", "column_A", "column_B"):
        if isinstance(kwargs.get(key), str):
            names.append(kwargs[key])
    for key in ("column_list", "column_set"):
        if isinstance(kwargs.get(key), list):
            names.extend(str(c) for c in kwargs[key])
    return names


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def batch_sql(suite: BuiltSuite, available: Sequence[str]) -> str:
    """The query that reads a suite's batch: the columns it checks or shows, plus its derived columns."""
    spec = suite.spec
    derived = spec.columns
    wanted: list[str] = []
    for index, item in enumerate(spec.expectations):
        for name in _columns_of(item.kwargs):
            if name not in derived and name not in available:
                raise ConfigError(
                    f"{spec.path}: expectations.{index}: no column {name!r} in {suite.table} "
                    f"(columns: {', '.join(available)}; or derive it under `columns`)"
                )
            wanted.append(name)
    for name in spec.sample_columns:
        if name not in derived and name not in available:
            raise ConfigError(f"{spec.path}: sample_columns: no column {name!r} in {suite.table}")
        wanted.append(name)
    base = [c for c in dict.fromkeys(wanted) if c not in derived]
    select = [_quote(c) for c in base] + [f"({expr}) AS {_quote(name)}" for name, expr in derived.items()]
    where = ""
    if spec.source is not None:
        where = " WHERE source_spec = '" + spec.source.replace("'", "''") + "'"
    return f"SELECT {', '.join(select) or '1 AS _row'} FROM {suite.table}{where}"


def read_batch(con: duckdb.DuckDBPyConnection, suite: BuiltSuite) -> pd.DataFrame:
    """Read a suite's batch from the staged database as a pandas frame (dates stay `datetime.date`)."""
    available = [r[0] for r in con.execute(f"DESCRIBE {suite.table}").fetchall()]
    sql = batch_sql(suite, available)
    try:
        relation = con.sql(sql)
    except duckdb.Error as exc:
        raise ConfigError(f"{suite.spec.path}: columns: {str(exc).splitlines()[0]}") from exc
    # One chunk per column: GX filters the whole batch once per expectation, and pyarrow's take
    # over DuckDB's several chunks is four times slower.
    return relation.arrow().read_all().combine_chunks().to_pandas()


def _plain(value: Any) -> Any:
    """numpy/pandas scalars to plain Python values; missing values to None."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def sample_rows(
    batch: pd.DataFrame, result: Mapping[str, Any], columns: Sequence[str], limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` failing rows of a batch, showing `columns`, with personal data masked."""
    indices = result.get("partial_unexpected_index_list") or []
    positions = [i for i in indices if isinstance(i, int) and 0 <= i < len(batch)][:limit]
    shown = [c for c in columns if c in batch.columns]
    rows = []
    for position in positions:
        record = batch.iloc[position]
        rows.append({c: mask_value(c, _plain(record[c])) for c in shown})
    return rows


@dataclass
class ValidationRun:
    """Every expectation's result, and where GX's Data Docs were written (if they were)."""

    checks: list[CheckResult]
    data_docs: Path | None = None

    @property
    def critical_failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.severity == "critical" and not c.success]


def _check(
    suite: BuiltSuite,
    expectation: Expectation,
    outcome: Any,
    batch: pd.DataFrame,
    parameters: Mapping[str, Any],
    limit: int,
) -> CheckResult:
    result = dict(outcome.result or {})
    kwargs = _resolve(
        {k: v for k, v in expectation.configuration.kwargs.items() if k != "batch_id"}, parameters
    )
    exception = outcome.exception_info or {}
    raised = [v for v in exception.values() if isinstance(v, dict) and v.get("raised_exception")]
    if exception.get("raised_exception"):
        raised.append(exception)
    observed = observed_text(result)
    if raised:
        observed = "error: " + str(raised[0].get("exception_message") or "expectation raised")[:200]
    columns = _columns_of(kwargs)
    return CheckResult(
        suite=suite.spec.name,
        expectation=expectation.expectation_type,
        column=", ".join(columns) or None,
        success=bool(outcome.success) and not raised,
        observed=observed,
        threshold=threshold_text(kwargs, per_row=hasattr(expectation, "mostly")),
        severity=str(getattr(expectation.severity, "value", expectation.severity)),
        unexpected_count=_plain(result.get("unexpected_count")),
        element_count=_plain(result.get("element_count")),
        samples=sample_json(
            [] if outcome.success else sample_rows(batch, result, suite.spec.sample_columns, limit)
        ),
        notes=expectation.notes if isinstance(expectation.notes, str) else None,
    )


def run_suites(
    con: duckdb.DuckDBPyConnection,
    suites: Sequence[BuiltSuite],
    parameters: Mapping[str, Any],
    data_docs: Path | None = None,
    samples: int = 10,
) -> ValidationRun:
    """Validate each suite's batch; optionally build GX Data Docs into `data_docs`."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {}
    if data_docs is not None:
        sites["crm_etl"] = {
            "class_name": "SiteBuilder",
            # GX needs an absolute folder; the CLI's --reports is often relative (`reports`).
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(data_docs.resolve()),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    # In memory, no analytics, no temporary docs site: only the Data Docs asked for, where asked.
    context = gx.get_context(
        project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            data_docs_sites=sites,
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        ),
        mode="ephemeral",
    )
    source = context.data_sources.add_pandas("staged_run")
    gx_parameters = dict(parameters)
    checks: list[CheckResult] = []
    for suite in suites:
        batch = read_batch(con, suite)
        asset = source.add_dataframe_asset(suite.spec.name)
        definition = asset.add_batch_definition_whole_dataframe("run")
        gx_suite = context.suites.add(
            gx.ExpectationSuite(
                name=suite.spec.name,
                expectations=[e.copy(update={"id": None}) for e in suite.expectations],
                notes=suite.spec.description or None,
            )
        )
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.spec.name, data=definition, suite=gx_suite)
        )
        outcome = validation.run(
            batch_parameters={"dataframe": batch},
            expectation_parameters=gx_parameters,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": max(samples, 1)},
        )
        results = {r.expectation_config.id: r for r in outcome.results if r.expectation_config is not None}
        # In the suite's own order, which is the order its YAML file lists them in.
        for expectation in gx_suite.expectations:
            if expectation.id in results:
                checks.append(_check(suite, expectation, results[expectation.id], batch, parameters, samples))
    docs_index: Path | None = None
    if data_docs is not None:
        context.build_data_docs()
        docs_index = data_docs / "index.html"
    return ValidationRun(checks=checks, data_docs=docs_index)
