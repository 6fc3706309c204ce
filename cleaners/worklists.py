"""What a sales rep's worklist (补录清单) holds: which customers, which columns, which cells to fill."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

# Worklist columns: customer field -> header. The headers are the aliases of
# schemas/sources/worklist.yaml, so a filled-in worklist is read back as that source.
WORKLIST_COLUMNS: dict[str, str] = {
    "customer_id": "系统客户编号",
    "customer_name": "客户名称",
    "contact_name": "联系人",
    "contact_title": "职位",
    "mobile": "手机",
    "phone": "联系电话",
    "email": "邮箱",
    "industry": "所属行业",
    "customer_type": "客户类型",
    "first_contact_date": "首次接触时间",
    "source_channel": "客户来源",
    "owner": "负责人",
    "missing_fields": "待补录字段",
}
# A required field that is satisfied by either of several columns (联系方式 = mobile or landline).
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {"contact": ("mobile", "phone")}
# Customer stages written as the words reps use; customer_types.yaml maps them back.
STAGE_LABELS: dict[str, str] = {
    "lead": "潜在客户",
    "intent": "意向客户",
    "deal": "成交客户",
    "churned": "流失客户",
}
# Excel and LibreOffice start a formula with these; such text is written as text, never as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def columns_to_fill(missing_fields: Sequence[str]) -> list[str]:
    """The worklist columns a rep fills for a customer's missing required fields."""
    columns: list[str] = []
    for field in missing_fields:
        for column in FIELD_COLUMNS.get(field, (field,)):
            if column in WORKLIST_COLUMNS and column not in columns:
                columns.append(column)
    return columns


def filled_by(column: str) -> set[str]:
    """The missing required fields that make a rep fill in this worklist column (`columns_to_fill`)."""
    fields = {column} if column not in FIELD_COLUMNS else set()
    return fields | {field for field, columns in FIELD_COLUMNS.items() if column in columns}


def worklist_customers(customers: pl.DataFrame) -> pl.DataFrame:
    """Customers missing a required field, with their values as a rep reads them, by owner then ID."""
    stage = pl.col("customer_stage").replace_strict(STAGE_LABELS, default=None, return_dtype=pl.String)
    return (
        customers.filter(pl.col("missing_fields").list.len() > 0)
        .with_columns(pl.coalesce(stage, pl.col("customer_type")).alias("customer_type"))
        .sort("owner", "customer_id", nulls_last=True)
    )


def looks_like_formula(value: object) -> bool:
    """Text a spreadsheet would take for a formula (`=cmd|…`, `+1+1`, `@SUM(…)`)."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)
