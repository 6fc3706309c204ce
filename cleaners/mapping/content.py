"""What a column's values look like: the share of mobiles, landlines, e-mails, dates, amounts, names.

The content profile breaks ties between fields a header could mean, maps columns
whose header matches nothing, and refuses a header match the values contradict (a
"phone" column full of dates). Kinds are recognised by shape only, so the profile
needs no lookup table and is cheap: it looks at each distinct value once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

# Kinds whose shape is unmistakable: a header match they contradict is refused.
STRONG_KINDS: tuple[str, ...] = ("mobile", "landline", "email", "date", "amount")

_MOBILE = r"^(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}$"
_LANDLINE = (
    r"^(?:\+?86[\s-]?)?(?:\(?0\d{2,3}\)?[\s-]?)?[2-9]\d{6,7}(?:\s*(?:转|ext\.?|x|-|#)\s*\d{1,6})?$"
    r"|^(?:400|800)[\s-]?\d{3}[\s-]?\d{4}$"
)
_EMAIL = r"(?i)^(?:mailto:)?[^@\s<>]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+$|<[^@\s<>]+@[^>\s]+>"
_DATE = (
    r"^(?:19|20)\d{2}(?:[-/.年]\s?\d{1,2}(?:[-/.月]\s?\d{1,2}[日号]?)?)(?:[ T]\d{1,2}[:时]\d{2}(?::\d{2})?)?"
    r"|^\d{1,2}[-/.]\d{1,2}[-/.](?:19|20)\d{2}"
    r"|^(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$"
)
_AMOUNT = (
    r"(?i)^[(（-]?\s*(?:[¥￥]|rmb|cny)?\s*-?\d{1,3}(?:[,，]\d{3})*(?:\.\d+)?\s*(?:万元|万|元|千元|rmb|cny)?\s*[)）]?$"
    r"|^[(（-]?\s*(?:[¥￥]|rmb|cny)?\s*-?\d+(?:\.\d+)?\s*(?:万元|万|元|千元)?\s*[)）]?$"
)
_COMPANY = (
    r"(?i)(?:有限公司|有限责任公司|股份公司|公司|集团|厂|研究院|研究所|事务所|中心|商行|工作室|合作社|学校|大学|医院|银行)"
    r"[)）]?$|\b(?:ltd|limited|inc|corp|corporation|co|gmbh|llc|plc|group|company)\.?$"
)
_PERSON = r"^[\u4e00-\u9fff]{2,4}$|^[A-Z][a-z]+(?: [A-Z][a-z]+){1,2}$"


@dataclass(frozen=True)
class ContentProfile:
    """Shares (0-1) of a column's non-empty sampled values that are of each kind."""

    values: int  # non-empty values sampled
    distinct: int
    shares: dict[str, float]

    def share(self, kind: str) -> float:
        return self.shares.get(kind, 0.0)

    def dominant(self, min_share: float) -> str | None:
        """The strong kind that at least `min_share` of the values are, if any."""
        best = max(STRONG_KINDS, key=self.share)
        return best if self.share(best) >= min_share else None


EMPTY_PROFILE = ContentProfile(0, 0, {})


def profile_column(values: Sequence[str | None]) -> ContentProfile:
    """The content profile of one column's cells (as text); empty cells are not counted."""
    series = pl.Series("v", list(values), dtype=pl.String).str.strip_chars()
    series = series.filter(series.is_not_null() & (series != ""))
    if series.is_empty():
        return EMPTY_PROFILE
    counts = series.str.normalize("NFKC").value_counts(name="n")
    text = pl.col("v")
    compact = text.str.replace_all(r"[\s\-()（）]", "")
    kinds = counts.select(
        "n",
        (compact.str.contains(_MOBILE) & ~text.str.contains(_DATE)).alias("mobile"),
        (compact.str.contains(_LANDLINE) & ~compact.str.contains(_MOBILE) & ~text.str.contains(_DATE)).alias(
            "landline"
        ),
        text.str.contains(_EMAIL).alias("email"),
        text.str.contains(_DATE).alias("date"),
        (
            text.str.contains(_AMOUNT)
            & ~compact.str.contains(_MOBILE)
            & ~compact.str.contains(_LANDLINE)
            & ~text.str.contains(r"^0\d")
            & ~text.str.contains(_DATE)
        ).alias("amount"),
        text.str.contains(_COMPANY).alias("company"),
        (text.str.contains(_PERSON) & ~text.str.contains(_COMPANY)).alias("person"),
    )
    total = int(kinds["n"].sum())
    shares = {
        kind: float(kinds.filter(pl.col(kind))["n"].sum()) / total
        for kind in ("mobile", "landline", "email", "date", "amount", "company", "person")
    }
    return ContentProfile(total, counts.height, {k: v for k, v in shares.items() if v > 0})
