"""Crafted customers, orders and follow-ups in a real DuckDB file built from schemas/tables.sql."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from crm_etl.flows.profile import apply_tag_rules, build_customer_features, create_views
from crm_etl.schemas import SCHEMAS_DIR
from crm_etl.schemas.codes import load_industry_table
from crm_etl.schemas.config import TagRules, load_tag_rules
from crm_etl.schemas.segments import Segments, load_segments

AS_OF = dt.date(2024, 6, 30)
BROAD_GROUPS = load_industry_table(SCHEMAS_DIR / "industries.yaml").broad_groups


def ago(days: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days)


CUSTOMER_SCHEMA = {
    "customer_id": pl.String,
    "customer_name": pl.String,
    "industry_code": pl.String,
    "customer_type": pl.String,
    "customer_stage": pl.String,
    "first_contact_date": pl.Date,
    "employee_count": pl.Int64,
    "core_need": pl.String,
    "completeness": pl.Float64,
    "owner": pl.String,
}


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("_frame", frame.to_arrow())
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _frame")
    con.unregister("_frame")


def load_crafted(con: duckdb.DuckDBPyConnection, customers: dict[str, dict[str, Any]]) -> None:
    """Insert crafted customers with their orders and interactions into a tables.sql database."""
    rows, orders, interactions = [], [], []
    for cid, spec in customers.items():
        buyer = spec.get("buyer", False)
        rows.append(
            {
                "customer_id": cid,
                "customer_name": f"{cid} 有限公司",
                "industry_code": spec.get("industry_code"),
                "customer_type": spec.get("customer_type", "customer" if buyer else "prospect"),
                "customer_stage": spec.get("customer_stage", "deal" if buyer else "lead"),
                "first_contact_date": spec.get("first_contact_date", ago(400)),
                "employee_count": spec.get("employee_count"),
                "core_need": spec.get("core_need"),
                "completeness": spec.get("completeness", 1.0),
                "owner": "张伟",
            }
        )
        for n, (day, amount, product) in enumerate(spec.get("orders", []), start=1):
            orders.append(
                {
                    "order_id": f"{cid}-O{n}",
                    "customer_id": cid,
                    "order_date": day,
                    "amount_cny": amount,
                    "product": product,
                }
            )
        for n, (day, content, feedback) in enumerate(spec.get("interactions", []), start=1):
            interactions.append(
                {
                    "customer_id": cid,
                    "date": day,
                    "channel": "电话",
                    "content": content,
                    "feedback": feedback,
                    "source_file": "crafted.xlsx",
                    "source_sheet": "跟进记录",
                    "source_row": n,
                }
            )
    _insert(con, "customers", pl.DataFrame(rows, schema=CUSTOMER_SCHEMA))
    if orders:
        schema = {
            "order_id": pl.String,
            "customer_id": pl.String,
            "order_date": pl.Date,
            "amount_cny": pl.Float64,
            "product": pl.String,
        }
        _insert(con, "orders", pl.DataFrame(orders, schema=schema))
    if interactions:
        schema = {
            "customer_id": pl.String,
            "date": pl.Date,
            "channel": pl.String,
            "content": pl.String,
            "feedback": pl.String,
            "source_file": pl.String,
            "source_sheet": pl.String,
            "source_row": pl.Int64,
        }
        _insert(con, "interactions", pl.DataFrame(interactions, schema=schema))


def new_database(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute((SCHEMAS_DIR / "tables.sql").read_text(encoding="utf-8"))
    return con


def profile_and_tag(
    con: duckdb.DuckDBPyConnection, rules: TagRules | None = None, segments: Segments | None = None
) -> None:
    build_customer_features(con, segments or load_segments(), BROAD_GROUPS, AS_OF)
    apply_tag_rules(con, rules or load_tag_rules())
    create_views(con)
