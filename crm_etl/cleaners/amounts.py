"""Parse money and count cells as people type them (¥56,000.00, 12.8万, RMB 3000元, (1,200))."""

from __future__ import annotations

import math

import polars as pl

AMOUNT_REASONS: frozenset[str] = frozenset({"amount_invalid"})

# Chinese magnitude words and their powers of ten. `k` (1.2k) and `w` (20w, the pinyin initial of
# 万 that sales reps write) are accepted: in a money cell neither means anything else. `m`/`M` is
# not: it is a million in English exports but a thousand in accounting (the Roman mille, MM = a
# million), so 1.2M stays amount_invalid.
MAGNITUDES: dict[str, int] = {"千": 3, "k": 3, "万": 4, "w": 4, "百万": 6, "千万": 7, "亿": 8}
# Words that name the unit 元. With a magnitude they make a cell carry its own unit (12万, 3000元),
# which wins over the unit a column header states. The currency alone (¥, RMB, CNY, 人民币) names
# the money, not its magnitude: `¥12` in a 金额(万元) column is 12万, as the header says.
_YUAN = r"元|圆|块钱|块"
_CURRENCY = r"¥|rmb|cny|人民币"
# Thousands grouping is strict: 1,200,000 and 1 200 000 group by three, anything else (1,20 or
# the European 1.200,50) is not a Chinese way of writing a number and is flagged, not guessed.
_NUMBER = r"(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,3}(?: [0-9]{3})+|[0-9]+)?(?:\.(?P<frac>[0-9]*))?"
_EXPONENT = r"(?:e(?P<exp>[-+]?[0-9]{1,3}))?"
_MAGNITUDE = "|".join(sorted(MAGNITUDES, key=len, reverse=True))
# One amount, whole cell. A negative is written -1,200, ¥-1,200, (1,200) as accountants do, or
# 1,200- as SAP and Kingdee print credits; at most one of these, and parentheses must pair.
_AMOUNT = (
    rf"^(?P<open1>\()?(?P<sign1>[-+])?(?:{_CURRENCY})?(?P<open2>\()?(?P<sign2>[-+])?"
    rf"{_NUMBER}{_EXPONENT}(?P<close1>\))?"
    rf"(?P<mag>{_MAGNITUDE})?(?P<yuan>{_YUAN})?(?:{_CURRENCY})?整?(?P<close2>\))?(?P<sign3>-)?$"
)
# Minus signs NFKC leaves alone: U+2212 minus, U+2012 figure dash, U+2013 en dash.
_MINUS = "[\u2212\u2012\u2013]"
# Exact powers of ten a mantissa is scaled by (10.0 ** k is not exact for every k).
_POWERS_OF_TEN: dict[int, float] = {k: float(10**k) for k in range(309)}

Scale = float | pl.Series | None


def _text(expr: pl.Expr) -> pl.Expr:
    """NFKC (full-width digits, ￥, （）, ，), lower-case, spaces kept only between digits."""
    return (
        expr.cast(pl.String)
        .str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace_all(_MINUS, "-")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .str.replace_all(r" ([^0-9])", "${1}")
        .str.replace_all(r"([^0-9]) ", "${1}")
    )


def _scale(scale: Scale, n: int) -> pl.Series:
    """The column unit per row as Float64; null where none is stated."""
    if scale is None:
        return pl.Series("scale", [None] * n, dtype=pl.Float64)
    if isinstance(scale, pl.Series):
        if scale.len() != n:
            raise ValueError(f"scale has {scale.len()} values for {n} amounts")
        series = scale.cast(pl.Float64).alias("scale")
        bad = series.filter(~series.is_finite() | (series <= 0))
        if not bad.is_empty():
            raise ValueError(f"scale must be a positive number, not {bad[0]}")
        return series
    if not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive number, not {scale}")
    return pl.Series("scale", [float(scale)] * n, dtype=pl.Float64)


def parse_amounts(values: pl.Series, *, scale: Scale = None) -> pl.DataFrame:
    """Amounts in CNY as Float64 with `amount_reason` for cells that are not a number.

    `scale` is the unit a column header states (金额(万元) → 10000), one number or one per value: a
    plain number is multiplied by it, a cell with its own unit (12万, ¥3,000元) keeps its own.
    """
    frame = pl.DataFrame({"v": values, "scale": _scale(scale, values.len())})
    parts = (
        frame.select(_text(pl.col("v")).alias("text"), "scale")
        .with_columns(pl.col("text").str.extract_groups(_AMOUNT).alias("m"))
        .unnest("m")
    )
    frac = pl.col("frac").fill_null("")
    opens = pl.col("open1").is_not_null().cast(pl.Int8) + pl.col("open2").is_not_null().cast(pl.Int8)
    closes = pl.col("close1").is_not_null().cast(pl.Int8) + pl.col("close2").is_not_null().cast(pl.Int8)
    parenthesised = opens == 1
    signs = (
        pl.col("sign1").is_not_null().cast(pl.Int8)
        + pl.col("sign2").is_not_null().cast(pl.Int8)
        + pl.col("sign3").is_not_null().cast(pl.Int8)
        + parenthesised.cast(pl.Int8)
    )
    negative = (
        (pl.col("sign1") == "-").fill_null(False)
        | (pl.col("sign2") == "-").fill_null(False)
        | pl.col("sign3").is_not_null()
        | parenthesised
    )
    grouped = pl.col("int").str.contains(r"[, ]").fill_null(False)
    well_formed = (
        (pl.col("int").is_not_null() | (frac != ""))
        & (opens == closes)
        & (opens <= 1)
        & (signs <= 1)
        # 1.2e5 is how a float cell reads; 1,200e3 or 1e3万 is nobody's way of writing money.
        & (pl.col("exp").is_null() | (~grouped & pl.col("mag").is_null()))
    )
    mantissa = (pl.col("int").fill_null("").str.replace_all(r"[, ]", "") + frac).cast(
        pl.Float64, strict=False
    )
    exponent = (
        pl.col("mag").replace_strict(MAGNITUDES, default=0, return_dtype=pl.Int64)
        + pl.col("exp").cast(pl.Int64, strict=False).fill_null(0)
        - frac.str.len_chars().cast(pl.Int64)
    )
    own_unit = pl.col("mag").is_not_null() | pl.col("yuan").is_not_null()
    multiplier = pl.when(own_unit).then(1.0).otherwise(pl.col("scale").fill_null(1.0))
    # 1.200 reads 1.2 here but 1200 in Europe, and in yuan a third decimal is a tenth of a 分: the
    # European reading is as likely, so it is flagged. Under a magnitude (1.200万, a 万元 column)
    # three decimals are ordinary.
    ambiguous = (
        pl.col("int").str.contains(r"^[1-9][0-9]{0,2}$").fill_null(False)
        & (frac.str.len_chars() == 3)
        & pl.col("exp").is_null()
        & pl.col("mag").is_null()
        & (multiplier == 1.0)
    )
    # Integer mantissa times the unit, then one exact power of ten: 12.8万 is 128 × 10³, not 12.8 × 10⁴.
    base = mantissa * multiplier
    power = exponent.abs().replace_strict(_POWERS_OF_TEN, default=None, return_dtype=pl.Float64)
    magnitude = pl.when(exponent >= 0).then(base * power).otherwise(base / power)
    signed = pl.when(negative).then(-magnitude).otherwise(magnitude)
    amount = pl.when(well_formed & ~ambiguous & signed.is_finite()).then(signed).otherwise(None)
    return parts.select(
        amount.alias("amount"),
        pl.when(pl.col("text").is_not_null() & (pl.col("text") != "") & amount.is_null())
        .then(pl.lit("amount_invalid"))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias("amount_reason"),
    )


def parse_counts(values: pl.Series) -> pl.Series:
    """The first whole number in a cell (`200-500` -> 200, `1000+` -> 1000, `约80人` -> 80), else null."""
    text = values.cast(pl.String).str.normalize("NFKC").str.replace_all(",", "")
    return text.str.extract(r"(\d+)", 1).cast(pl.Int64, strict=False)
