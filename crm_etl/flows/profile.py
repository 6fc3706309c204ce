"""Run the customer-feature, tier and tag SQL on a DuckDB connection; (re)create the analyst views."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import duckdb
import polars as pl

from crm_etl.cleaners.features import (
    FEATURES_TABLE,
    customer_features_sql,
    feature_comments_sql,
    intent_check_sql,
)
from crm_etl.cleaners.tags import (
    TAG_INPUT,
    predicate_check_sql,
    predicate_type_sql,
    tag_input_sql,
    tag_update_sql,
)
from crm_etl.schemas import SCHEMAS_DIR
from crm_etl.schemas.config import TagRules
from crm_etl.schemas.segments import Segments

VIEWS_FILE = SCHEMAS_DIR / "views.sql"


class RuleError(ValueError):
    """A rule or predicate in schemas/ cannot be evaluated on the data."""


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def build_customer_features(
    con: duckdb.DuckDBPyConnection,
    segments: Segments,
    broad_groups: Mapping[str, str],
    as_of: dt.date,
) -> None:
    """(Re)create customer_features with its comments and copy each customer's tier to `customers`."""
    groups = pl.DataFrame(
        {"code": list(broad_groups), "broad_group": list(broad_groups.values())},
        schema={"code": pl.String, "broad_group": pl.String},
    )
    con.register("_industry_groups", groups.to_arrow())
    try:
        where = f"{segments.path}: lifecycle.intent_when {segments.lifecycle.intent_when!r}"
        try:
            types = {row[0] for row in con.execute(intent_check_sql(segments, as_of)).fetchall()}
        except duckdb.Error as exc:
            raise RuleError(f"{where} is not a valid predicate: {_first_line(exc)}") from exc
        if types - {"BOOLEAN", '"NULL"', "NULL"}:
            raise RuleError(f"{where} is {', '.join(sorted(types))}, not a true/false condition")
        con.execute(customer_features_sql(segments, as_of))
        for statement in feature_comments_sql(segments):
            con.execute(statement)
        con.execute(
            f"UPDATE customers SET tier = f.tier FROM {FEATURES_TABLE} f "
            "WHERE customers.customer_id = f.customer_id"
        )
    finally:
        con.unregister("_industry_groups")


def apply_tag_rules(con: duckdb.DuckDBPyConnection, rules: TagRules) -> None:
    """Check every predicate, then set customers.tags / tag_line and refresh the tag_rules table."""
    con.execute(tag_input_sql())
    matches: list[int] = []
    for rule in rules.rules:
        where = f"tag rule {rule.tag!r} ({rules.path}:{rule.line}) has an invalid predicate {rule.when!r}"
        try:
            kind = con.execute(predicate_type_sql(rule)).fetchall()[0][1]
            row = con.execute(predicate_check_sql(rule)).fetchone()
        except duckdb.Error as exc:
            raise RuleError(f"{where}: {_first_line(exc)}") from exc
        if kind not in ("BOOLEAN", '"NULL"', "NULL"):
            raise RuleError(f"{where}: it is {kind}, not a true/false condition")
        matches.append(int(row[0]) if row else 0)
    con.execute(tag_update_sql(rules.rules, rules.groups, rules.tag_line))
    con.execute(f"DROP VIEW IF EXISTS {TAG_INPUT}")
    con.execute("DELETE FROM tag_rules")
    catalogue = pl.DataFrame(
        {
            "tag": [r.tag for r in rules.rules],
            "tag_group": [r.group for r in rules.rules],
            "slot": [r.slot for r in rules.rules],
            "priority": [r.priority for r in rules.rules],
            "predicate": [r.when for r in rules.rules],
            "customers": matches,
            "rule_source": [
                f"{rules.path.name if rules.path else 'tag_rules.yaml'}:{r.line}" for r in rules.rules
            ],
        },
        schema={
            "tag": pl.String,
            "tag_group": pl.String,
            "slot": pl.String,
            "priority": pl.Int64,
            "predicate": pl.String,
            "customers": pl.Int64,
            "rule_source": pl.String,
        },
    )
    con.register("_tag_catalogue", catalogue.to_arrow())
    try:
        columns = ", ".join(catalogue.columns)
        con.execute(f"INSERT INTO tag_rules ({columns}) SELECT {columns} FROM _tag_catalogue")
    finally:
        con.unregister("_tag_catalogue")


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the analyst views with Chinese column names (schemas/views.sql)."""
    con.execute(VIEWS_FILE.read_text(encoding="utf-8"))
