"""Parse money and count cells as people type them (¥56,000.00, 12.8万, RMB 3000元)."""

from __future__ import annotations

import polars as pl

_CURRENCY = r"(?i)(¥|￥|rmb|cny|人民币|元|圆|\s|,|，)"


def parse_amounts(values: pl.Series, scale: pl.Series | float | None = None) -> pl.DataFrame:
    """Amounts in CNY as Float64 with `amount_reason` for cells that are not a number.

    `scale` is the column's unit from its header (金额(万元) -> 10000): it multiplies plain numbers.
    """
    text = values.cast(pl.String).str.normalize("NFKC").str.strip_chars()
    scales = scale if isinstance(scale, pl.Series) else pl.Series([scale] * len(values), dtype=pl.Float64)
    frame = pl.DataFrame({"text": text, "scale": scales.cast(pl.Float64).fill_null(1.0)})
    wan = pl.col("text").str.contains("万")
    cleaned = pl.col("text").str.replace_all(_CURRENCY, "").str.replace("万$", "")
    number = cleaned.cast(pl.Float64, strict=False)
    amount = pl.when(wan).then(number * 10_000).otherwise(number * pl.col("scale"))
    result = frame.select(
        amount.alias("amount"),
        pl.when(pl.col("text").is_not_null() & (pl.col("text") != "") & amount.is_null())
        .then(pl.lit("amount_invalid"))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("amount_reason"),
    )
    return result


def parse_counts(values: pl.Series) -> pl.Series:
    """The first whole number in a cell (`200-500` -> 200, `1000+` -> 1000, `约80人` -> 80), else null."""
    text = values.cast(pl.String).str.normalize("NFKC").str.replace_all(",", "")
    return text.str.extract(r"(\d+)", 1).cast(pl.Int64, strict=False)
