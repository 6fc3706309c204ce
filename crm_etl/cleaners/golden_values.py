"""Customer columns the golden-record rules read: a company name's variant and form, an industry's specificity.

The generic survivorship engine (`cleaners/dedupe/survivorship.py`) ranks records by columns that
`schemas/pipeline.yaml` names; this module computes the customer-specific ones:

    name_variant         records whose names are one registered name agree (上海宏达机械制造有限公司 =
                         宏达机械制造（上海）有限公司 = 上海市宏达机械制造有限公司); other names by their
                         normalised spelling
    name_form            3 complete legal form (place + registered legal form), 2 legal form without a
                         place, 1 place + name without a legal form, 0 short name; `name_form_label` says so
    name_registered_spelling  the spelling is the registered name as written in the register:
                         place first, no brackets
    name_as_written      the source cell reads as the display name (not traditional characters or
                         other brackets that cleaning converted)
    industry_specificity 2 an industry of the code table, 1 other text, 0 a generic word (其他, 未知);
                         `industry_specificity_label` says so
    <field>_unflagged    1 when the record's value of a field in UNFLAGGED_FIELDS carries no cleaning
                         doubt (`issues`), 0 when it does: a value kept but flagged (qq.con, the
                         placeholder 13800138000, an unknown lead source) loses to a clean one, so a
                         rep's correction sent back in a worklist wins; `<field>_unflagged_label` says so
"""

from __future__ import annotations

import polars as pl

from crm_etl.cleaners.company import LEADING_PLACE, company_spelling
from crm_etl.cleaners.customer_matching import legal_names

NAME_FORMS: tuple[str, ...] = (
    "short name",
    "name with place, no legal form",
    "legal form without place",
    "complete legal form",
)
INDUSTRY_SPECIFICITY: tuple[str, ...] = (
    "generic industry",
    "industry not in the code table",
    "specific industry",
)
# Industry cells that say nothing about the industry (after lower-casing, without spaces or punctuation).
GENERIC_INDUSTRIES: tuple[str, ...] = (
    "其他", "其它", "其他行业", "其它行业", "综合", "未知", "不详", "无", "暂无", "未分类", "待定", "other",
    "others", "unknown", "na", "n/a", "misc", "general",
)  # fmt: skip


def _name_columns(records: pl.DataFrame) -> pl.DataFrame:
    """`name_variant`, `name_form` and its label per distinct display name."""
    frame = records.select("customer_name", legal_names(records).alias("legal")).unique("customer_name")
    frame = frame.drop_nulls("customer_name")
    frame = frame.with_columns(company_spelling(frame["customer_name"]).alias("spelled"))
    registered = pl.col("legal").is_not_null()
    placed = pl.coalesce("legal", "spelled").str.contains(LEADING_PLACE)
    form = registered.cast(pl.Int8) * 2 + placed.cast(pl.Int8)
    return frame.select(
        "customer_name",
        pl.coalesce("legal", "spelled").alias("name_variant"),
        form.alias("name_form"),
        # Among spellings of one registered name, the one written as registered: place first, no
        # brackets (上海宏达机械有限公司 over 宏达机械（上海）有限公司, 宏达集团 over 宏达（集团）).
        (registered & (pl.col("spelled") == pl.col("legal"))).alias("name_registered_spelling"),
        form.replace_strict(dict(enumerate(NAME_FORMS)), return_dtype=pl.String).alias("name_form_label"),
    )


def _industry_specificity() -> pl.Expr:
    spelled = pl.col("industry").str.to_lowercase().str.replace_all(r"[\s\p{P}\p{S}&&[^/]]+", "")
    generic = spelled.is_in(list(GENERIC_INDUSTRIES))
    return (
        pl.when(pl.col("industry").is_null())
        .then(None)
        .when(pl.col("industry_code").is_not_null())
        .then(2)
        .when(generic)
        .then(0)
        .otherwise(1)
        .cast(pl.Int8)
    )


# Fields whose flagged value may be kept (not nulled) by its cleaner, so it must lose to a clean one.
UNFLAGGED_FIELDS: tuple[str, ...] = ("mobile", "phone", "email", "source_channel")
UNFLAGGED_LABELS: tuple[str, ...] = ("value with a cleaning doubt", "value without a cleaning doubt")


def _unflagged(records: pl.DataFrame) -> list[pl.Expr]:
    """Per field of UNFLAGGED_FIELDS: 1 when no `field:` issue is on the record, else 0 (and its label).

    Records without `issues` (built by hand, or from an older run) count as clean.
    """
    columns = []
    for field in UNFLAGGED_FIELDS:
        flagged = (
            pl.col("issues").list.eval(pl.element().str.starts_with(f"{field}:")).list.any()
            if "issues" in records.columns
            else pl.lit(value=False)
        )
        clean = (~flagged.fill_null(value=False)).cast(pl.Int8)
        columns += [
            clean.alias(f"{field}_unflagged"),
            clean.replace_strict(dict(enumerate(UNFLAGGED_LABELS)), return_dtype=pl.String).alias(
                f"{field}_unflagged_label"
            ),
        ]
    return columns


def golden_value_columns(records: pl.DataFrame) -> pl.DataFrame:
    """Customer records with the columns the survivorship rules of `schemas/pipeline.yaml` read."""
    names = _name_columns(records)
    # A record without its source cells (generated, or from an older run) counts as written so.
    as_written = (
        pl.col("raw").str.contains(pl.col("customer_name"), literal=True)
        if "raw" in records.columns
        else pl.lit(value=True)
    )
    specificity = _industry_specificity()
    return records.join(names, on="customer_name", how="left", maintain_order="left").with_columns(
        pl.when(pl.col("customer_name").is_not_null())
        .then(as_written.fill_null(value=True))
        .alias("name_as_written"),
        specificity.alias("industry_specificity"),
        specificity.replace_strict(
            dict(enumerate(INDUSTRY_SPECIFICITY)), default=None, return_dtype=pl.String
        ).alias("industry_specificity_label"),
        *_unflagged(records),
    )
