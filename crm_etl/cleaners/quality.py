"""Validation results as values: one CheckResult per expectation per run, with readable figures."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl


@dataclass(frozen=True)
class CheckResult:
    """One expectation checked in one run (a row of `validation_results`)."""

    suite: str
    expectation: str
    column: str | None
    success: bool
    observed: str
    threshold: str
    severity: str  # critical: the run must not publish; warning: published and flagged
    unexpected_count: int | None = None
    element_count: int | None = None
    samples: str = "[]"  # JSON list of up to N sample rows, personal data masked
    notes: str | None = None

    def as_row(self, run_id: str) -> dict[str, object]:
        return {"run_id": run_id, **self.__dict__}


def field_completeness(customers: pl.DataFrame, fields: Sequence[str]) -> dict[str, float]:
    """Share of customers with each required field present (`contact` = mobile or landline)."""
    if customers.is_empty():
        return {f: 0.0 for f in fields}
    exprs = [
        (
            (pl.col("mobile").is_not_null() | pl.col("phone").is_not_null())
            if f == "contact"
            else pl.col(f).is_not_null()
        )
        .mean()
        .alias(f)
        for f in fields
    ]
    row = customers.select(exprs).row(0, named=True)
    return {f: float(row[f] or 0.0) for f in fields}


def _short(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple | set):
        items = [_short(v) for v in value]
        shown = ", ".join(items[:8]) + (f", … ({len(items)})" if len(items) > 8 else "")
        return "{" + shown + "}"
    if isinstance(value, Mapping) and set(value) == {"$PARAMETER"}:
        return f"${value['$PARAMETER']}"
    return str(value)


def threshold_text(kwargs: Mapping[str, Any], per_row: bool = True) -> str:
    """What an expectation asks for, in one line: `mostly 0.95`, `between 1980-01-01 and 2024-06-30` …

    `per_row` is true for expectations checked row by row (they take `mostly`), false for
    aggregates such as a column mean.
    """
    parts: list[str] = []
    if "regex" in kwargs:
        parts.append(f"matches {_short(kwargs['regex'])}")
    if "value_set" in kwargs:
        parts.append(f"in {_short(kwargs['value_set'])}")
    if "value" in kwargs:
        parts.append(f"= {_short(kwargs['value'])}")
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and high is not None:
        parts.append(f"between {_short(low)} and {_short(high)}")
    elif low is not None:
        parts.append(f"≥ {_short(low)}")
    elif high is not None:
        parts.append(f"≤ {_short(high)}")
    if per_row:
        mostly = kwargs.get("mostly")
        parts.append(f"mostly {_short(mostly)}" if mostly is not None and mostly < 1 else "all rows")
    return "; ".join(parts)


def observed_text(result: Mapping[str, Any]) -> str:
    """An expectation's observed figure: the aggregate it measured, or the share of rows that passed."""
    if "observed_value" in result:
        value = result["observed_value"]
        return (
            f"{float(value):.4f}"
            if isinstance(value, float | int) and not isinstance(value, bool)
            else _short(value)
        )
    if result.get("unexpected_percent") is not None:
        return f"{1 - float(result['unexpected_percent']) / 100:.4f}"
    if result.get("element_count") == 0:
        return "no rows"
    return ""


def sample_json(rows: Sequence[Mapping[str, Any]]) -> str:
    """Sample rows as JSON text for `validation_results.samples` (dates as ISO text)."""
    return json.dumps([dict(r) for r in rows], ensure_ascii=False, default=_short)
