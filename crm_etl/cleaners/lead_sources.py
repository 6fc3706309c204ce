"""Lead-source cells (客户来源): one canonical channel per value, from a vocabulary in schemas/."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from crm_etl.cleaners.codes import code_lookup_keys
from crm_etl.cleaners.text import clean_text

LEAD_SOURCE_REASONS: frozenset[str] = frozenset({"source_channel_unknown"})

OUTPUT_SCHEMA: dict[str, pl.DataType] = {
    "source_channel": pl.String(),
    "source_channel_text": pl.String(),
    "source_channel_reason": pl.String(),
}


@dataclass(frozen=True)
class LeadSourceVocabulary:
    """Canonical channels with their exact spellings and regex patterns (schemas/lead_sources.yaml).

    `spellings` maps the lookup form of a spelling (`lead_source_keys`) to its channel; `patterns`
    holds each channel's regular expressions (Rust `regex` syntax, as polars runs them), searched
    in the cleaned, lower-cased value. A spelling wins over every pattern; among patterns, the
    first channel in `channels` order with a match wins. `unknown` is the channel of a value
    neither knows (其他), so `source_channel` only ever holds a channel; None keeps such a value as
    it is.
    """

    channels: tuple[str, ...]
    spellings: Mapping[str, str]
    patterns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unknown: str | None = None


def lead_source_keys(s: pl.Series) -> pl.Series:
    """Lookup form of a value or spelling: cleaned, simplified, lower-case, letters and digits only."""
    return code_lookup_keys(s)


def _pattern_channel(text: pl.Expr, vocabulary: LeadSourceVocabulary) -> pl.Expr:
    """The first channel one of whose patterns is found in `text`, else null."""
    channel: pl.Expr = pl.lit(None, dtype=pl.String)
    # Built from the last channel up, so that the first channel's test is the outermost.
    for name in reversed(vocabulary.channels):
        regexes = vocabulary.patterns.get(name, ())
        if regexes:
            found = text.str.contains("|".join(f"(?:{r})" for r in regexes))
            channel = pl.when(found).then(pl.lit(name)).otherwise(channel)
    return channel


def normalise_lead_source(values: pl.Series, vocabulary: LeadSourceVocabulary) -> pl.DataFrame:
    """Lead-source cells → canonical `source_channel`, the cleaned cell `source_channel_text` and a reason.

    A value no spelling or pattern knows gets the vocabulary's `unknown` channel (its text
    itself when there is none) and the reason `source_channel_unknown`: its text stays in
    `source_channel_text`, so the report can list it as a spelling to add.
    """
    cleaned = clean_text(values)
    unique = cleaned.drop_nulls().unique()
    lookup = pl.DataFrame({"v": unique, "key": lead_source_keys(unique)}).select(
        "v",
        pl.coalesce(
            pl.col("key").replace_strict(dict(vocabulary.spellings), default=None, return_dtype=pl.String),
            _pattern_channel(pl.col("v").str.to_lowercase(), vocabulary),
        ).alias("channel"),
    )
    joined = pl.DataFrame({"v": cleaned}).join(lookup, on="v", how="left", maintain_order="left")
    return joined.select(
        pl.when(pl.col("v").is_not_null())
        .then(pl.coalesce("channel", pl.lit(vocabulary.unknown, dtype=pl.String), "v"))
        .alias("source_channel"),
        pl.col("v").alias("source_channel_text"),
        pl.when(pl.col("v").is_not_null() & pl.col("channel").is_null())
        .then(pl.lit("source_channel_unknown"))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("source_channel_reason"),
    )
