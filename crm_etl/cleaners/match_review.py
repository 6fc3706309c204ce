"""The customer review queue in a steward's words: both records side by side, the evidence per field, answers.

The generic selection is `cleaners/dedupe/review.py`; this module knows customer records, the
Chinese labels of the review file (reports/<run>/review.xlsx) and how its answers read back.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from crm_etl.cleaners.customers import record_identity
from crm_etl.cleaners.dedupe.review import decided_pairs, review_queue, uncertainty, with_pair_ids
from crm_etl.cleaners.dedupe.settings import Comparison, DedupeSettings

REVIEW_SHEET = "配对审核"
INSTRUCTIONS_SHEET = "说明"
# The columns a returned file is recognised and read back by (with the sheet name).
PAIR_ID = "配对编号"
ANSWER = "是否同一客户"
LEFT_SYSTEM, LEFT_KEY = "A来源系统", "A记录键"
RIGHT_SYSTEM, RIGHT_KEY = "B来源系统", "B记录键"
MARKER_HEADERS = (PAIR_ID, ANSWER, LEFT_SYSTEM, LEFT_KEY, RIGHT_SYSTEM, RIGHT_KEY)
YES, NO = "是", "否"
# Answers besides 是/否 that mean the same; anything else is an invalid answer, reported, not guessed.
ANSWERS = {
    "是": "must_link",
    "同一": "must_link",
    "y": "must_link",
    "yes": "must_link",
    "否": "cannot_link",
    "不是": "cannot_link",
    "n": "cannot_link",
    "no": "cannot_link",
}
# Record fields shown side by side: field -> label (A … / B … in the file).
RECORD_COLUMNS: dict[str, str] = {
    "customer_name": "客户名称",
    "contact_name": "联系人",
    "mobile": "手机",
    "email": "邮箱",
    "phone": "座机",
    "city": "城市",
    "industry": "行业",
    "lineage": "来源",
    "customer_id": "本次客户编号",
}
# Comparison names of schemas/dedupe.yaml in the steward's words.
COMPARISON_LABELS: dict[str, str] = {
    "company": "公司名称",
    "contact": "联系人",
    "mobile": "手机",
    "email": "邮箱",
    "email_domain": "邮箱域名",
    "landline": "座机",
    "legacy_id": "原系统编号",
    "industry": "行业",
    "city": "城市",
}
_SIDE_COLUMNS = [
    "source_system",
    "source_key",
    "source_file",
    "source_sheet",
    "source_row",
    "customer_id",
    "customer_name",
    "contact_name",
    "mobile",
    "email",
    "phone",
    "city",
    "industry",
]


# Returned rows that cannot become a decision go to quarantine with one of these reasons.
REVIEW_REASONS: frozenset[str] = frozenset({"review_answer_invalid", "review_row_damaged"})
# The hidden cells of a returned row (header -> column of the returned frame) that name its pair.
IDENTITY_CELLS: dict[str, str] = {
    PAIR_ID: "pair_id",
    LEFT_SYSTEM: "left_source_system",
    LEFT_KEY: "left_source_key",
    RIGHT_SYSTEM: "right_source_system",
    RIGHT_KEY: "right_source_key",
}


def parse_answer(value: str | None) -> str | None:
    """`是` -> must_link, `否` -> cannot_link, blank -> None, anything else -> `invalid`."""
    if value is None or not value.strip():
        return None
    return ANSWERS.get(value.strip().lower(), "invalid")


def check_returned_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """The rows of a returned review file with their `decision` (null: left blank, the pair stays
    open) or, where they cannot be read, `reject_reason` and `reject_detail`.

    `rows`: one row per non-empty row of the sheet, the IDENTITY_CELLS columns and `answer` as text
    (null when empty). A row whose hidden cells were emptied names no pair: `review_row_damaged`.
    An answer neither 是 nor 否 (nor a synonym) is `review_answer_invalid`, not guessed.
    """
    emptied = pl.concat_str(
        [pl.when(pl.col(column).is_null()).then(pl.lit(header)) for header, column in IDENTITY_CELLS.items()],
        separator=", ",
        ignore_nulls=True,
    )
    damaged = emptied != ""
    decision = pl.Series("decision", [parse_answer(a) for a in rows["answer"]], dtype=pl.String)
    invalid = pl.col("decision") == "invalid"
    return rows.with_columns(decision).with_columns(
        pl.when(damaged)
        .then(pl.lit("review_row_damaged"))
        .when(invalid)
        .then(pl.lit("review_answer_invalid"))
        .alias("reject_reason"),
        pl.when(damaged)
        .then(pl.lit("hidden cells emptied: ") + emptied)
        .when(invalid)
        .then(pl.format(f"answer {{}} is neither {YES} nor {NO}", pl.col("answer")))
        .alias("reject_detail"),
        pl.when(~damaged & ~invalid.fill_null(value=False)).then(pl.col("decision")).alias("decision"),
    )


def evidence(comparisons: Sequence[Comparison]) -> pl.Expr:
    """`公司名称 相似 0.93；手机 相同；邮箱 缺失` from a pair's `<name>_level` and `<name>_sim`."""
    parts = []
    for c in comparisons:
        label = COMPARISON_LABELS.get(c.name, c.label or c.name)
        level, sim = pl.col(f"{c.name}_level"), pl.col(f"{c.name}_sim")
        similar = (
            pl.lit(f"{label} 相差 ") + sim.cast(pl.Int32).cast(pl.String) + pl.lit(" 位")
            if c.metric == "levenshtein"
            else pl.lit(f"{label} 相似 ") + sim.round(2).cast(pl.String)
        )
        parts.append(
            pl.when(level < 0)
            .then(pl.lit(f"{label} 缺失"))
            .when(level == c.levels - 1)
            .then(pl.lit(f"{label} 相同"))
            .when(level == 0)
            .then(pl.lit(f"{label} 不同"))
            .otherwise(similar)
        )
    return pl.concat_str(parts, separator="；", ignore_nulls=True)


def _levels(comparisons: Sequence[Comparison]) -> pl.Expr:
    fields = [
        pl.struct(
            pl.col(f"{c.name}_level").alias("level"), pl.col(f"{c.name}_sim").alias("similarity")
        ).alias(c.name)
        for c in comparisons
    ]
    return pl.struct(fields).struct.json_encode()


def _side(records: pl.DataFrame, prefix: str, id_column: str) -> pl.DataFrame:
    return records.select(
        pl.col("record_idx").alias(id_column), *[pl.col(c).alias(f"{prefix}_{c}") for c in _SIDE_COLUMNS]
    )


def match_review_rows(
    pairs: pl.DataFrame, records: pl.DataFrame, settings: DedupeSettings, run_id: str
) -> pl.DataFrame:
    """Rows of `match_review`: this run's queued pairs (ranked) and the pairs a steward decision settled.

    `pairs` are the linkage's scored pairs (l, r are `record_idx` of the loaded `records`).
    """
    queued = review_queue(pairs, settings.review).with_columns(
        pl.lit("queued").alias("status"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("queue_rank"),
        pl.col("queued_because").alias("decided_by"),
        pl.lit(None, pl.String).alias("decision"),
        pl.lit(None, pl.String).alias("decision_source"),
    )
    decided = decided_pairs(pairs).with_columns(
        pl.lit("decided").alias("status"),
        pl.lit(None, pl.Int64).alias("queue_rank"),
        uncertainty(pl.col("model_probability")).alias("uncertainty"),
        pl.lit("steward").alias("decided_by"),
        pl.coalesce("must_link_rule", "cannot_link_rule").alias("decision_source"),
    )
    columns = ["l", "r", "status", "queue_rank", "model_probability", "uncertainty", "decided_by"]
    both = pl.concat(
        [
            frame.select(
                *columns,
                "decision",
                "decision_source",
                evidence(settings.model_comparisons).alias("evidence"),
                _levels(settings.model_comparisons).alias("levels"),
            )
            for frame in (queued, decided)
        ]
    )
    joined = both.join(_side(records, "left", "l"), on="l").join(_side(records, "right", "r"), on="r")
    identified = joined.with_columns(
        record_identity(pl.col("left_source_system"), pl.col("left_source_key")).alias("left_identity"),
        record_identity(pl.col("right_source_system"), pl.col("right_source_key")).alias("right_identity"),
    )
    return (
        with_pair_ids(identified)
        .with_columns(
            pl.lit(run_id).alias("run_id"),
            pl.col("model_probability").alias("match_probability"),
            (pl.col("left_customer_id") == pl.col("right_customer_id")).alias("same_customer"),
        )
        .drop("l", "r", "left_identity", "right_identity", "model_probability")
        .sort("queue_rank", "pair_id", nulls_last=True)
    )
