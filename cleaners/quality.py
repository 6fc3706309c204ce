"""Run-level checks on the staged result: completeness per field, key uniqueness, accounting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


def completeness_checks(customers: pl.DataFrame, fields: Sequence[str], target: float) -> list[CheckResult]:
    """Warn for every required field whose completeness is below the target."""
    return [
        CheckResult(
            suite="customers",
            expectation="expect_column_values_to_not_be_null",
            column=f,
            success=share >= target,
            observed=f"{share:.4f}",
            threshold=f"mostly {target}",
            severity="warning",
        )
        for f, share in field_completeness(customers, fields).items()
    ]


def key_checks(customers: pl.DataFrame) -> list[CheckResult]:
    """customer_id unique and non-null, customer_name non-null: a publishable table needs both."""
    duplicated = customers.height - customers["customer_id"].n_unique() if customers.height else 0
    nameless = customers["customer_name"].null_count() if customers.height else 0
    return [
        CheckResult(
            "customers",
            "expect_column_values_to_be_unique",
            "customer_id",
            duplicated == 0,
            f"{duplicated} duplicated",
            "0",
            "critical",
        ),
        CheckResult(
            "customers",
            "expect_column_values_to_not_be_null",
            "customer_name",
            nameless == 0,
            f"{nameless} null",
            "0",
            "critical",
        ),
    ]


def accounting_check(rows_read: int, violations: int, detail: str = "") -> CheckResult:
    """Every input data row appears exactly once in the loaded tables or in quarantine."""
    observed = f"{violations} rows not placed exactly once of {rows_read} read"
    return CheckResult(
        "run",
        "every_row_loaded_or_quarantined_once",
        None,
        violations == 0,
        observed + (f": {detail}" if detail else ""),
        "0",
        "critical",
    )
