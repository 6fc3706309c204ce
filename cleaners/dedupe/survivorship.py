"""Build one golden record per cluster: per field, the value of the most trusted, most recent source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from cleaners.dedupe.settings import SURVIVORSHIP_RULES

# Fields whose golden value is chosen by source trust, then recency, then frequency.
TRUSTED_FIELDS = [
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
]


def trust_rank(source_system: pl.Expr, trust_order: Sequence[str]) -> pl.Expr:
    """0 for the most trusted source system; systems not listed rank last."""
    ranks = {name: index for index, name in enumerate(trust_order)}
    return source_system.replace_strict(ranks, default=len(ranks), return_dtype=pl.Int32)


def golden_records(
    records: pl.DataFrame,
    trust_order: Sequence[str],
    rules: Mapping[str, Sequence[str]] | None = None,
    default_rules: Sequence[str] = SURVIVORSHIP_RULES,
) -> pl.DataFrame:
    """One row per `customer_id` with surviving values and `field_sources` (JSON: field -> record).

    Per field, the non-null values are ranked by `rules[field]` (else `default_rules`): `trust`
    (source system order), `recency` (latest first-contact date: the most recently entered record)
    and `frequency` (the value most duplicates carry); the first value wins.
    """
    ordered = records.with_columns(
        trust_rank(pl.col("source_system"), trust_order).alias("_trust"),
        (
            pl.col("source_file")
            + pl.lit("#")
            + pl.col("source_sheet")
            + pl.lit("!")
            + pl.col("source_row").cast(pl.String)
        ).alias("_lineage"),
        pl.col("first_contact_date").alias("_recency"),
    ).sort(["customer_id", "source_file", "source_sheet", "source_row"])
    ordered = ordered.with_columns(
        [pl.col(f).count().over(["customer_id", f]).alias(f"_freq_{f}") for f in TRUSTED_FIELDS]
    )
    aggregations = []
    for f in TRUSTED_FIELDS:
        present = pl.col(f).is_not_null()
        order = (rules or {}).get(f, default_rules)
        keys = [
            pl.col({"trust": "_trust", "recency": "_recency", "frequency": f"_freq_{f}"}[rule]).filter(
                present
            )
            for rule in order
        ]
        descending = [rule != "trust" for rule in order]

        def best(
            column: str,
            keys: list[pl.Expr] = keys,
            descending: list[bool] = descending,
            present: pl.Expr = present,
        ) -> pl.Expr:
            return (
                pl.col(column)
                .filter(present)
                .sort_by(keys, descending=descending, nulls_last=True, maintain_order=True)
                .first()
            )

        aggregations.append(best(f).alias(f))
        aggregations.append(best("_lineage").alias(f"_src_{f}"))
    golden = ordered.group_by("customer_id", maintain_order=True).agg(
        *aggregations,
        pl.col("first_contact_date").min().alias("first_contact_date"),
        pl.col("_lineage")
        .filter(pl.col("first_contact_date") == pl.col("first_contact_date").min())
        .first()
        .alias("_src_first_contact_date"),
        pl.concat_list("mobile", "phone")
        .explode()
        .drop_nulls()
        .unique(maintain_order=True)
        .alias("_all_numbers"),
        pl.col("other_phones").explode().drop_nulls().unique(maintain_order=True).alias("_other"),
        pl.len().alias("source_count"),
    )
    golden = golden.with_columns(
        pl.concat_list("_all_numbers", "_other")
        .list.unique(maintain_order=True)
        .list.set_difference(pl.concat_list(pl.col("mobile").fill_null(""), pl.col("phone").fill_null("")))
        .alias("other_phones"),
        pl.struct([pl.col(f"_src_{f}").alias(f) for f in [*TRUSTED_FIELDS, "first_contact_date"]])
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
