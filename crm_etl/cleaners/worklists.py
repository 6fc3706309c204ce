"""What a sales rep's worklist (补录清单) holds: which customers, which columns, which cells to fill or correct."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

# How the worklists and the report name the customers no rep owns yet (their owner is empty).
UNASSIGNED = "未分配"

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
    "problems": "待更正内容",
}
# Worklist columns that are the rep's notes, not data: schemas/mapping.yaml ignores their headers
# when a filled-in worklist comes back (`待补录字段` is kept as the record's remark).
NOTE_COLUMNS = ("missing_fields", "problems")
# The audit sample: the fields an auditor checks against the source, under the worklist's headers
# (the customer ID under the label analysts know it by), then the record's completeness.
AUDIT_COLUMNS: dict[str, str] = {
    "customer_id": "客户编号",
    **{
        field: header
        for field, header in WORKLIST_COLUMNS.items()
        if field not in {"customer_id", "contact_title", *NOTE_COLUMNS}
    },
    "completeness": "完整度",
}
# What the auditor fills in beside each sampled customer.
AUDIT_ANSWERS = ["核对结果（正确/有误）", "有误的字段", "核对人", "核对日期", "备注"]
# Flagged values a rep corrects in the worklist (IDs and the owner are not theirs to change there).
CORRECTABLE_FIELDS: tuple[str, ...] = (
    "customer_name",
    "contact_name",
    "contact_title",
    "mobile",
    "phone",
    "email",
    "industry",
    "customer_type",
    "first_contact_date",
    "source_channel",
)
# One flagged cell of a loaded record: the customer, the field and reason of its `issues` entry,
# the cell as typed (`original`) and the value the cleaner kept for it (`flagged_value`, null when nulled).
FLAGGED_CELLS_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "field": pl.String(),
    "reason": pl.String(),
    "original": pl.String(),
    "flagged_value": pl.String(),
}
# Shown for a reason messages.yaml has no words for: a rep never reads a code.
UNKNOWN_PROBLEM = "取值有误，请核对"
# A required field that is satisfied by either of several columns (联系方式 = mobile or landline).
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {"contact": ("mobile", "phone")}
_FIELD_COLUMN_SETS = {field: "|".join(columns) for field, columns in FIELD_COLUMNS.items()}
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


def cells_to_fix(flagged: pl.DataFrame, customers: pl.DataFrame) -> pl.DataFrame:
    """The flagged cells a rep can still fix: a correctable field whose customer value is empty or the flagged one.

    A customer whose golden value came from a clean record (another file, a worklist sent back)
    has nothing left to fix in that field; the same cell loaded twice is listed once.
    """
    fields = [f for f in CORRECTABLE_FIELDS if f in customers.columns]
    current = customers.select("customer_id", *(pl.col(f).cast(pl.String) for f in fields)).unpivot(
        index="customer_id", variable_name="field", value_name="current"
    )
    return (
        flagged.filter(pl.col("field").is_in(fields))
        .join(current, on=["customer_id", "field"], how="inner")
        .filter(pl.col("current").is_null() | (pl.col("current") == pl.col("flagged_value")))
        .unique(["customer_id", "field", "reason", "original"], maintain_order=True)
        # In the sheet's column order, so the note reads left to right like the row.
        .with_columns(pl.col("field").replace_strict({f: i for i, f in enumerate(fields)}).alias("_column"))
        .sort("customer_id", "_column", "reason", "original", nulls_last=True)
        .select(*FLAGGED_CELLS_SCHEMA)
    )


def problems(
    cells: pl.DataFrame, field_labels: Mapping[str, str], reason_labels: Mapping[str, str]
) -> pl.DataFrame:
    """Per customer: the fields to correct and, in the rep's words, each problem beside the cell as typed.

    `手机「1380013800」：号码位数不对；邮箱「li@qq.con」：邮箱域名疑似写错…`
    """
    field = pl.col("field").replace_strict(
        dict(field_labels), default=pl.col("field"), return_dtype=pl.String
    )
    words = pl.col("reason").replace_strict(
        dict(reason_labels), default=pl.lit(UNKNOWN_PROBLEM), return_dtype=pl.String
    )
    shown = pl.when(pl.col("original").is_not_null() & (pl.col("original").str.strip_chars() != ""))
    text = pl.concat_str(
        shown.then(pl.concat_str(field, pl.lit("「"), pl.col("original"), pl.lit("」"))).otherwise(field),
        pl.lit("："),
        words,
    )
    return cells.group_by("customer_id", maintain_order=True).agg(
        pl.col("field").unique(maintain_order=True).alias("fix_fields"),
        text.str.join("；").alias("problems"),
    )


def worklist_customers(customers: pl.DataFrame, to_fix: pl.DataFrame | None = None) -> pl.DataFrame:
    """Customers missing a required field or holding a value to correct (`problems`), as a rep reads them.

    Sorted by owner then ID; `fix_fields` lists the columns to correct, `problems` says why.
    """
    if to_fix is None:
        to_fix = pl.DataFrame(
            schema={"customer_id": pl.String, "fix_fields": pl.List(pl.String), "problems": pl.String}
        )
    stage = pl.col("customer_stage").replace_strict(STAGE_LABELS, default=None, return_dtype=pl.String)
    return (
        customers.join(to_fix, on="customer_id", how="left", maintain_order="left")
        .with_columns(pl.col("fix_fields").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .filter((pl.col("missing_fields").list.len() > 0) | (pl.col("fix_fields").list.len() > 0))
        .with_columns(pl.coalesce(stage, pl.col("customer_type")).alias("customer_type"))
        .sort("owner", "customer_id", nulls_last=True)
    )


def cells_per_owner(rows: pl.DataFrame) -> pl.DataFrame:
    """Per owner of `worklist_customers` rows: how many cells to fill or correct.

    A missing field is one cell (联系方式 is mobile or landline: either fills it); a flagged
    field counts unless a missing field already asks for that column.
    """
    asked = pl.col("missing_fields").list.eval(
        pl.element()
        .replace(_FIELD_COLUMN_SETS)
        .str.split("|")
        .list.explode(keep_nulls=False, empty_as_null=False)
    )
    extra = pl.col("fix_fields").list.set_difference(asked)
    return rows.group_by("owner", maintain_order=True).agg(
        (pl.col("missing_fields").list.len() + extra.list.len()).sum().alias("cells")
    )


def looks_like_formula(value: object) -> bool:
    """Text a spreadsheet would take for a formula (`=cmd|…`, `+1+1`, `@SUM(…)`)."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)
