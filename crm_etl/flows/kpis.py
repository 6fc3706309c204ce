"""Run the report's figures (schemas/kpis.yaml) on a DuckDB connection, as run_kpis rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import polars as pl

from crm_etl.schemas.kpis import Kpi, KpiDefinitions

KPI_SCHEMA = {"kpi": pl.String, "dimension": pl.String, "value": pl.Float64}
# Headline figures have no dimension; per-field, per-reason and per-owner figures name theirs
# (an unassigned owner is stored as '' too).
HEADLINE = ""


class KpiError(ValueError):
    """A figure of schemas/kpis.yaml cannot be computed on the data."""


def kpi_rows(
    con: duckdb.DuckDBPyConnection, kpi: Kpi, parameters: Mapping[str, Any]
) -> list[tuple[str, float]]:
    """(dimension, value) of one figure: one row with dimension '' for a headline figure."""
    where = f"{kpi.name!r} of schemas/kpis.yaml"
    try:
        rows = con.execute(kpi.sql, {name: parameters[name] for name in kpi.parameters}).fetchall()
    except duckdb.Error as exc:
        raise KpiError(f"figure {where} failed: {str(exc).strip().splitlines()[0]}") from exc
    width = 2 if kpi.by else 1
    if rows and len(rows[0]) != width:
        raise KpiError(f"figure {where} returns {len(rows[0])} column(s), expected {width}")
    if kpi.by is None:
        if len(rows) != 1:
            raise KpiError(f"figure {where} returns {len(rows)} rows, expected one")
        return [(HEADLINE, float(rows[0][0] or 0))]
    return [("" if d is None else str(d), float(v or 0)) for d, v in rows]


def measure_kpis(
    con: duckdb.DuckDBPyConnection, definitions: KpiDefinitions, completeness_fields: Sequence[str]
) -> pl.DataFrame:
    """Every figure of `definitions` on the tables and views of `con`, as (kpi, dimension, value)."""
    parameters = {"completeness_fields": list(completeness_fields)}
    rows = [
        {"kpi": kpi.name, "dimension": dimension, "value": value}
        for kpi in definitions.kpis
        for dimension, value in kpi_rows(con, kpi, parameters)
    ]
    return pl.DataFrame(rows, schema=KPI_SCHEMA)
