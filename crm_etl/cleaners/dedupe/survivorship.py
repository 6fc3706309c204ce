"""Build one golden record per cluster: per field, the value its rules rank first, and why it won."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from crm_etl.cleaners.dedupe.settings import FieldSurvivorship, Survivorship, SurvivorshipRule

# Fields whose golden value is chosen by survivorship rules (schemas/pipeline.yaml `survivorship`).
GOLDEN_FIELDS = [
    "customer_name",
    "company_key",
    "contact_name",
    "contact_key",
    "contact_title",
    "mobile",
    "phone",
    "email",
    "industry",
    "industry_code",
    "customer_type",
    "customer_stage",
    "source_channel",
    "owner",
    "city",
    "address",
    "employees",
    "employee_count",
    "core_need",
    "first_contact_date",
]
_GROUP = "customer_id"
# Clusters numbered 0 … n - 1 in customer_id order.
_ID = "_id"
# Rules whose key ranks the largest value first (the others: the smallest first).
_LARGEST_FIRST: frozenset[SurvivorshipRule] = frozenset(
    {"recency", "frequency", "quality", "verbatim", "preferred"}
)
# Spellings shorter than this are not compared at all, and a shorter spelling is only compared with
# the start of a longer one from this length on: 中联 is no typo of 中国联通.
_MIN_SPELLING = 2
_MIN_PREFIX = 3


def trust_rank(source_system: pl.Expr, trust_order: Sequence[str]) -> pl.Expr:
    """0 for the most trusted source system; systems not listed rank last."""
    ranks = {name: index for index, name in enumerate(trust_order)}
    return source_system.replace_strict(ranks, default=len(ranks), return_dtype=pl.Int32)


def record_lineage() -> pl.Expr:
    """Where a record sits: `file#sheet!row`."""
    return (
        pl.col("source_file")
        + pl.lit("#")
        + pl.col("source_sheet")
        + pl.lit("!")
        + pl.col("source_row").cast(pl.String)
    )


def one_edit_typos(records: pl.DataFrame, group: str, spelling: str) -> pl.Series:
    """Per record: whether its `spelling` is one edit away from a spelling more records of its group carry.

    One edit is a character substituted, inserted or deleted (技树 for 技术); a spelling shorter than
    another is also one edit away when it is one edit from the other's start (宏达机戒制造 of a
    more frequent 宏达机械). Spellings carried by equally many records are no typos of each other.
    """
    keys = records.select(pl.col(group), pl.col(spelling).alias("_spelling"))
    counts = (
        keys.filter(pl.col("_spelling").str.len_chars() >= _MIN_SPELLING)
        .group_by(group, "_spelling")
        .agg(pl.len().alias("_n"))
    )
    pairs = counts.join(counts, on=group, suffix="_more").filter(pl.col("_n_more") > pl.col("_n"))
    length, more_length = pl.col("_spelling").str.len_chars(), pl.col("_spelling_more").str.len_chars()
    shorter = pl.min_horizontal(length, more_length)
    pairs = pairs.with_columns(
        pl.when(length <= more_length).then("_spelling").otherwise("_spelling_more").alias("_short"),
        pl.when(length <= more_length)
        .then(pl.col("_spelling_more").str.slice(0, shorter))
        .otherwise(pl.col("_spelling").str.slice(0, shorter))
        .alias("_start"),
        ((length != more_length) & (shorter >= _MIN_PREFIX)).alias("_prefix"),
    )

    def distance(a: str, b: str) -> pl.Series:
        scores = process.cpdist(
            pairs[a].to_list(), pairs[b].to_list(), scorer=Levenshtein.distance, workers=-1
        )
        return pl.Series(scores, dtype=pl.Int64)

    if pairs.is_empty():
        return pl.Series(spelling, [False] * records.height, dtype=pl.Boolean)
    typo = (distance("_spelling", "_spelling_more") == 1) | (
        pairs["_prefix"] & (distance("_short", "_start") == 1)
    )
    typos = (
        pairs.filter(typo).select(group, "_spelling").unique().with_columns(pl.lit(value=True).alias("_typo"))
    )
    flagged = keys.join(typos, on=[group, "_spelling"], how="left", maintain_order="left")
    return flagged.get_column("_typo").fill_null(value=False).alias(spelling)


def _key_columns(field: str, rule: SurvivorshipRule, spec: FieldSurvivorship) -> list[str]:
    """The columns a rule ranks a field's records by, in order (`_same`, `_freq`, `_typo`: made here)."""
    if rule == "frequency":
        # With `agree_on`, records agree on the variant first and then on how they write it.
        return ["_freq", "_same"] if spec.agree_on else ["_same"]
    columns: dict[SurvivorshipRule, str | None] = {
        "trust": "_trust",
        "recency": "_recency",
        "earliest": field,
        "quality": spec.quality,
        "no_typo": "_typo",
        "verbatim": spec.verbatim,
        "preferred": spec.preferred,
    }
    column = columns[rule]
    assert column is not None  # FieldSurvivorship checks that each rule has its column
    return [column]


def _ranked(ordered: pl.DataFrame, field: str, spec: FieldSurvivorship) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The records that have `field` where others of their cluster have it too, with the rules' keys,
    sorted best first within each cluster; and (`_id`, `_row`) of those that alone have it."""
    agree = spec.agree_on or field
    wanted = [_ID, "_row", field, agree, "_trust", "_recency", *spec.columns]
    ranked = ordered.select(list(dict.fromkeys(wanted))).filter(pl.col(field).is_not_null())
    # Clusters are runs of `_id`: a record alone in its run has nothing to be ranked against.
    ids = pl.col(_ID)
    alone = ids.ne_missing(ids.shift(1)) & ids.ne_missing(ids.shift(-1))
    ranked = ranked.with_columns(alone.alias("_alone"))
    singles = ranked.filter("_alone").select(_ID, "_row")
    ranked = ranked.filter(~pl.col("_alone")).drop("_alone")
    if "frequency" in spec.rules:
        ranked = ranked.with_columns(
            pl.len().over(_ID, field).alias("_same"), pl.len().over(_ID, agree).alias("_freq")
        )
    if "no_typo" in spec.rules and spec.spelling is not None:
        ranked = ranked.with_columns(one_edit_typos(ranked, _ID, spec.spelling).alias("_typo"))
    keys = [(c, rule in _LARGEST_FIRST) for rule in spec.rules for c in _key_columns(field, rule, spec)]
    ranked = ranked.sort(
        [_ID, *[c for c, _ in keys], "_row"],
        descending=[False, *[d for _, d in keys], False],
        nulls_last=True,
    )
    return ranked, singles


def _reason(
    field: str,
    spec: FieldSurvivorship,
    ranked: pl.DataFrame,
    won: pl.Series,
    other: pl.Series,
    present: pl.Series,
) -> pl.Series:
    """Per cluster: the first rule that ranks the winner above `other` (positions in `ranked`), in words."""

    def text(rule: SurvivorshipRule, column: str, winner: pl.Series) -> pl.Expr:
        if column == "_same" and spec.agree_on:
            return pl.format("most records write it so ({} of {})", pl.lit(winner), pl.lit(present))
        if rule == "frequency":
            return pl.format("most records ({} of {})", pl.lit(winner), pl.lit(present))
        if rule == "trust":
            return pl.lit("most trusted source ") + pl.lit(ranked["source_system"].gather(won))
        if rule == "quality" and spec.quality_label is not None:
            return pl.lit(ranked[spec.quality_label].gather(won).cast(pl.String))
        phrases: dict[SurvivorshipRule, str] = {
            "recency": "most recent record",
            "earliest": "earliest",
            "quality": "higher quality",
            "no_typo": "typo of a more frequent variant rejected",
            "verbatim": "written as shown in its source",
            "preferred": spec.preferred_label,
        }
        return pl.lit(phrases[rule])

    reason: pl.Expr = pl.lit("first in file order")
    for rule, column in reversed([(r, c) for r in spec.rules for c in _key_columns(field, r, spec)]):
        winner, runner_up = ranked[column].gather(won), ranked[column].gather(other)
        reason = (
            pl.when(pl.lit(~winner.eq_missing(runner_up))).then(text(rule, column, winner)).otherwise(reason)
        )
    return pl.select(pl.when(pl.lit(other).is_not_null()).then(reason)).to_series()


def _field_winner(
    ordered: pl.DataFrame, field: str, spec: FieldSurvivorship, clusters: int
) -> tuple[pl.Series, pl.Series]:
    """Per cluster (`_id` 0 … clusters - 1): the `_row` of the winning record of `field`, and why it won.

    Why: against the best record that disagrees (another `agree_on` variant, or another value), and
    with `agree_on`, then against the best that agrees but writes the value otherwise.
    """
    ranked, singles = _ranked(ordered, field, spec)
    if ranked.is_empty():  # no cluster has two records with the field: nothing to rank
        rows = pl.repeat(None, clusters, dtype=pl.UInt32, eager=True).scatter(singles[_ID], singles["_row"])
        return rows, pl.select(
            pl.when(pl.lit(rows).is_not_null()).then(pl.lit("only record with a value"))
        ).to_series()
    if "trust" in spec.rules:
        ranked = ranked.with_columns(ordered["source_system"].gather(ranked["_row"]).alias("source_system"))
    agree = spec.agree_on or field
    first = pl.col(_ID).is_first_distinct()
    ranked = ranked.with_columns(pl.when(first).then(pl.int_range(pl.len())).forward_fill().alias("_won"))
    best = pl.col("_won")

    def firsts(among: pl.Expr) -> pl.Series:
        """Per cluster: the position in `ranked` of the best record where `among` holds, else null."""
        found = ranked.with_row_index("_at").filter(among).filter(first)
        return pl.repeat(None, clusters, dtype=pl.UInt32, eager=True).scatter(
            found[_ID], found["_at"].cast(pl.UInt32)
        )

    won = firsts(pl.lit(value=True))
    disagree = firsts(pl.col(agree).ne_missing(pl.col(agree).gather(best)))
    present = (
        pl.repeat(0, clusters, dtype=pl.UInt32, eager=True)
        .scatter(*ranked.group_by(_ID).len().select(_ID, pl.col("len").cast(pl.UInt32)).get_columns())
        .scatter(singles[_ID], 1)
    )
    agreed = pl.select(
        pl.when(pl.lit(present) == 1)
        .then(pl.lit("only record with a value"))
        .otherwise(pl.format("all {} records with a value agree", pl.lit(present)))
    ).to_series()
    why = _reason(field, spec, ranked, won, disagree, present).fill_null(agreed)
    if spec.agree_on:
        spelled = firsts(
            pl.col(agree).eq_missing(pl.col(agree).gather(best))
            & (pl.col(field) != pl.col(field).gather(best))
        )
        spelling = _reason(field, spec, ranked, won, spelled, present)
        why = pl.select(
            pl.when(pl.lit(spelling).is_not_null())
            .then(pl.lit(why) + ", then " + pl.lit(spelling))
            .otherwise(pl.lit(why))
        ).to_series()
    rows = ranked["_row"].gather(won).scatter(singles[_ID], singles["_row"])
    return rows, pl.select(pl.when(pl.lit(rows).is_not_null()).then(pl.lit(why))).to_series()


def _other_phones(ordered: pl.DataFrame, golden: pl.DataFrame) -> pl.Series:
    """Per cluster: its records' numbers (mobile, landline, then other numbers) except the golden two."""
    numbers = pl.concat(
        [
            ordered.select(_ID, pl.lit(0).alias("_part"), pl.concat_list("mobile", "phone").alias("_n")),
            ordered.select(_ID, pl.lit(1).alias("_part"), pl.col("other_phones").alias("_n")),
        ]
    ).explode("_n")
    golden_numbers = golden.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias(_ID), "mobile", "phone")
    kept = (
        numbers.drop_nulls("_n")
        .sort(_ID, "_part", maintain_order=True)
        .unique([_ID, "_n"], keep="first", maintain_order=True)
        .join(golden_numbers, on=_ID, how="left", maintain_order="left")
        .filter(pl.col("_n").ne_missing(pl.col("mobile")) & pl.col("_n").ne_missing(pl.col("phone")))
        .group_by(_ID, maintain_order=True)
        .agg("_n")
    )
    listed = golden_numbers.select(_ID).join(kept, on=_ID, how="left", maintain_order="left")
    return listed["_n"].fill_null(pl.lit([], pl.List(pl.String))).alias("other_phones")


def golden_records(
    records: pl.DataFrame, survivorship: Survivorship, trust_order: Sequence[str]
) -> pl.DataFrame:
    """One row per `customer_id` with surviving values and `field_sources` (JSON: field -> record and why).

    Per field, the records with a value are ranked by the field's rules (`Survivorship.for_field`),
    ties go to the first record in file order, and the first record's value wins. `field_sources`
    holds `{"record": "file#sheet!row", "why": ...}` per field: the first rule that ranks the winner
    above the best record that disagrees ("most records (3 of 4)", "most trusted source legacy_crm"),
    or that all records agree. Each field is one sort of the records that have it: no per-cluster work.
    """
    specs = {f: survivorship.for_field(f) for f in GOLDEN_FIELDS}
    missing = sorted({c for spec in specs.values() for c in spec.columns} - set(records.columns))
    if missing:
        raise ValueError(f"survivorship rules read columns the records do not have: {missing}")
    ordered = (
        records.sort([_GROUP, "source_file", "source_sheet", "source_row"])
        .with_row_index("_row")
        .with_columns(
            pl.col(_GROUP).rle_id().alias(_ID),
            trust_rank(pl.col("source_system"), trust_order).alias("_trust"),
            pl.col("first_contact_date").alias("_recency"),
        )
    )
    sizes = ordered.group_by(_ID, maintain_order=True).agg(pl.first(_GROUP), pl.len().alias("source_count"))
    clusters = sizes.height
    lineage = record_lineage()
    winners: dict[str, tuple[pl.Series, pl.Series]] = {
        f: _field_winner(ordered, f, spec, clusters)
        for f, spec in specs.items()
        if spec.same_record_as is None
    }
    for f, spec in specs.items():
        if spec.same_record_as is not None:
            rows = winners[spec.same_record_as][0]
            has_value = ordered[f].gather(rows).is_not_null()
            why = pl.select(
                pl.when(pl.lit(has_value)).then(pl.lit(f"from the record chosen for {spec.same_record_as}"))
            ).to_series()
            winners[f] = (rows, why)
    values = ordered.select(
        *[pl.col(f).gather(pl.lit(winners[f][0])).alias(f) for f in GOLDEN_FIELDS],
        *[lineage.gather(pl.lit(winners[f][0])).alias(f"_src_{f}") for f in GOLDEN_FIELDS],
    )
    golden = pl.concat(
        [
            sizes.select(_GROUP),
            values,
            pl.DataFrame([winners[f][1].alias(f"_why_{f}") for f in GOLDEN_FIELDS]),
        ],
        how="horizontal",
    )
    golden = golden.with_columns(
        _other_phones(ordered, golden),
        sizes["source_count"],
        pl.struct(
            [
                pl.when(pl.col(f).is_not_null())
                .then(pl.struct(pl.col(f"_src_{f}").alias("record"), pl.col(f"_why_{f}").alias("why")))
                .alias(f)
                for f in GOLDEN_FIELDS
            ]
        )
        .struct.json_encode()
        .alias("field_sources"),
    )
    return golden.drop([c for c in golden.columns if c.startswith("_")])


def completeness(golden: pl.DataFrame, fields: Sequence[str]) -> pl.DataFrame:
    """Per customer: share of required fields present, and the list of those missing."""
    checks = {
        f: (pl.col("mobile").is_not_null() | pl.col("phone").is_not_null())
        if f == "contact"
        else pl.col(f).is_not_null()
        for f in fields
    }
    missing = pl.concat_list([pl.when(~expr).then(pl.lit(f)).otherwise(None) for f, expr in checks.items()])
    return golden.with_columns(
        (pl.sum_horizontal([e.cast(pl.Int32) for e in checks.values()]) / len(checks))
        .round(4)
        .alias("completeness"),
        missing.list.drop_nulls().alias("missing_fields"),
    )
