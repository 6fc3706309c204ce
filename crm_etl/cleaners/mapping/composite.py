"""Build one field from several columns: 姓 + 名 or First + Last Name, 省 + 市 + 区 + 详细地址."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from crm_etl.cleaners.mapping.headers import CJK_CHARACTERS, STR_WHITESPACE


def composed(field: str, parts: Sequence[tuple[str, pl.Expr]]) -> pl.Expr:
    """Per row, one cell of a composite field from its (part, text) columns; blank texts are skipped.

    Chinese names join without a space, family name first (张 + 伟 -> 张伟); Latin
    names join given name first (John + Smith -> John Smith). Address parts join in
    order, skipping a part the next one already starts with (广东省 + 广东省深圳市… ->
    广东省深圳市…). `city` takes the city part, else the province.
    """
    filled = [(part, _filled(text)) for part, text in parts]
    values: dict[str, pl.Expr] = {}
    for part, text in filled:
        # The last filled cell of a part counts, as in dict(parts) of the filled ones.
        values[part] = pl.coalesce(text, values[part]) if part in values else text
    if field == "contact_name":
        family, given = (values.get(p, pl.lit(None, dtype=pl.String)) for p in ("family", "given"))
        chinese = pl.concat_str([family, given], ignore_nulls=True)
        latin = pl.concat_str([given, family], separator=" ", ignore_nulls=True)
        return _non_empty(pl.when(chinese.str.contains(CJK_CHARACTERS)).then(chinese).otherwise(latin))
    if field == "city":
        return pl.coalesce(
            [values[p] for p in ("city", "province") if p in values] + [pl.lit(None, dtype=pl.String)]
        )
    if field == "address":
        joined: pl.Expr = pl.lit("")
        for part in ("province", "city", "district", "street"):
            if part not in values:
                continue
            text = values[part]
            joined = (
                pl.when(text.is_null() | joined.str.contains(text, literal=True))
                .then(joined)
                .when((joined != "") & text.str.starts_with(joined))
                .then(text)
                .otherwise(joined + text)
            )
        return _non_empty(joined)
    return _non_empty(pl.concat_str([text for _, text in filled], separator=" ", ignore_nulls=True))


def compose_field(field: str, parts: Sequence[tuple[str, str]]) -> str | None:
    """One cell of a composite field from its (part, text) cells: `composed` of a single row."""
    row = [(part, pl.lit(text, dtype=pl.String)) for part, text in parts]
    value: str | None = pl.select(composed(field, row)).item()
    return value


def _filled(text: pl.Expr) -> pl.Expr:
    stripped = text.str.strip_chars(STR_WHITESPACE)
    return pl.when(stripped != "").then(stripped)


def _non_empty(text: pl.Expr) -> pl.Expr:
    return pl.when(text != "").then(text)
