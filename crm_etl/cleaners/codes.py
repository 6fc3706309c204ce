"""Map free-text industry and customer-type cells onto code tables loaded from schemas/."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TypeVar

import polars as pl

from crm_etl.cleaners.text import clean_text

CODE_REASONS: frozenset[str] = frozenset({"industry_unmapped", "customer_type_unmapped"})

# Shorter synonyms only match a whole value: "it" inside "capital" or "digital" is no industry.
_MIN_CONTAINED_HAN = 2
_MIN_CONTAINED_LATIN = 4
_HAN = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")

V = TypeVar("V")


def code_lookup_keys(s: pl.Series) -> pl.Series:
    """Lookup form of a value or synonym: cleaned, simplified, lower-case, only letters and digits."""
    cleaned = clean_text(s)
    key = cleaned.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", "")
    return key.replace("", None).alias(s.name)


def _can_be_contained(synonym: str) -> bool:
    minimum = _MIN_CONTAINED_HAN if _HAN.search(synonym) else _MIN_CONTAINED_LATIN
    return len(synonym) >= minimum


def matched_synonyms(keys: pl.Series, synonyms: Sequence[str]) -> pl.Series:
    """Per lookup key: itself if it is a synonym, else the longest (then leftmost) one it contains."""
    unique = keys.drop_nulls().unique()
    exact = unique.is_in(list(synonyms))
    contained = [s for s in synonyms if _can_be_contained(s)]
    # Matches refer to their value by position: exploding a long value would copy it per match.
    partial = pl.DataFrame({"key": unique.filter(~exact)}).with_row_index("row")
    if contained and not partial.is_empty():
        found = (
            partial.select(
                "row",
                pl.col("key").str.extract_many(contained, overlapping=True).alias("synonym"),
                pl.col("key").str.find_many(contained, overlapping=True).alias("at"),
            )
            .explode("synonym", "at")
            .drop_nulls("synonym")
            .sort(pl.col("synonym").str.len_chars(), "at", descending=[True, False])
            .unique("row", keep="first", maintain_order=True)
        )
        partial = partial.join(found.select("row", "synonym"), on="row", how="inner")
    else:
        partial = partial.with_columns(pl.lit(None, dtype=pl.String).alias("synonym"))
    lookup = pl.concat(
        [
            pl.DataFrame({"key": unique.filter(exact), "synonym": unique.filter(exact)}),
            partial.select("key", "synonym"),
        ]
    )
    return keys.replace_strict(lookup["key"], lookup["synonym"], default=None, return_dtype=pl.String)


def map_industry(s: pl.Series, synonyms: Mapping[str, str]) -> pl.DataFrame:
    """Industry cells → GB/T 4754 section `industry_code` (A–T) and `industry_reason`."""
    table = _normalised_table(synonyms)
    keys = code_lookup_keys(s)
    synonym = matched_synonyms(keys, list(table))
    code = synonym.replace_strict(table, default=None, return_dtype=pl.String)
    return pl.DataFrame({"industry_code": code, "industry_reason": _unmapped(keys, code, "industry")})


def map_customer_type(s: pl.Series, table: Mapping[str, tuple[str, str]]) -> pl.DataFrame:
    """Customer-type cells → `customer_type` (prospect/customer/churned), `customer_stage`, reason."""
    normalised = _normalised_table(table)
    keys = code_lookup_keys(s)
    synonym = matched_synonyms(keys, list(normalised))
    types = {k: v[0] for k, v in normalised.items()}
    stages = {k: v[1] for k, v in normalised.items()}
    customer_type = synonym.replace_strict(types, default=None, return_dtype=pl.String)
    return pl.DataFrame(
        {
            "customer_type": customer_type,
            "customer_stage": synonym.replace_strict(stages, default=None, return_dtype=pl.String),
            "customer_type_reason": _unmapped(keys, customer_type, "customer_type"),
        }
    )


def unmapped_counts(raw: pl.Series, mapped_reason: pl.Series) -> pl.DataFrame:
    """Raw values whose mapping left a reason, with how often each occurs, most frequent first."""
    values = pl.DataFrame({"value": clean_text(raw), "reason": mapped_reason})
    return (
        values.filter(pl.col("reason").is_not_null())
        .group_by("value", "reason")
        .agg(pl.len().alias("count"))
        .sort(["count", "value"], descending=[True, False])
        .with_columns(pl.col("count").cast(pl.Int64))
    )


def _normalised_table(table: Mapping[str, V]) -> dict[str, V]:
    """Table keys in lookup form (already so for tables loaded by schemas.codes)."""
    return dict(_normalised_items(tuple(table.items())))


@lru_cache(maxsize=16)
def _normalised_items(items: tuple[tuple[str, V], ...]) -> tuple[tuple[str, V], ...]:
    keys = code_lookup_keys(pl.Series([key for key, _ in items], dtype=pl.String)).to_list()
    return tuple((key, value) for key, (_, value) in zip(keys, items, strict=True) if key is not None)


def _unmapped(keys: pl.Series, mapped: pl.Series, field: str) -> pl.Series:
    reason = pl.when(keys.is_not_null() & mapped.is_null()).then(pl.lit(f"{field}_unmapped"))
    return pl.select(reason.otherwise(pl.lit(None, dtype=pl.String))).to_series()
