"""What a column's values look like: the share of mobiles, landlines, e-mails, dates, amounts, names.

The content profile breaks ties between fields a header could mean, maps columns
whose header matches nothing, and refuses a header match the values contradict (a
"phone" column full of dates). Kinds are recognised by shape only, so the profile
needs no lookup table and is cheap: it looks at each distinct value once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, repeat

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
    return profile_columns([values])[0]


def profile_columns(columns: Sequence[Sequence[str | None]]) -> list[ContentProfile]:
    """The content profile of each column's cells (as text), all columns in one query."""
    cells = pl.DataFrame(
        {
            "column": pl.Series(
                chain.from_iterable(repeat(i, len(c)) for i, c in enumerate(columns)), dtype=pl.Int64
            ),
            "v": pl.Series(chain.from_iterable(columns), dtype=pl.String),
        }
    )
    text = pl.col("v")
    compact = text.str.replace_all(r"[\s\-()（）]", "")
    kinds = {
        "mobile": compact.str.contains(_MOBILE) & ~text.str.contains(_DATE),
        "landline": compact.str.contains(_LANDLINE)
        & ~compact.str.contains(_MOBILE)
        & ~text.str.contains(_DATE),
        "email": text.str.contains(_EMAIL),
        "date": text.str.contains(_DATE),
        "amount": (
            text.str.contains(_AMOUNT)
            & ~compact.str.contains(_MOBILE)
            & ~compact.str.contains(_LANDLINE)
            & ~text.str.contains(r"^0\d")
            & ~text.str.contains(_DATE)
        ),
        "company": text.str.contains(_COMPANY),
        "person": text.str.contains(_PERSON) & ~text.str.contains(_COMPANY),
    }
    stripped = cells.with_columns(text.str.strip_chars()).filter(text.is_not_null() & (text != ""))
    # Each distinct value of a column is looked at once.
    counts = stripped.group_by("column", text.str.normalize("NFKC")).agg(n=pl.len()).with_columns(**kinds)
    n = pl.col("n")
    per_column = counts.group_by("column").agg(
        total=n.sum(), distinct=pl.len(), **{kind: n.filter(pl.col(kind)).sum() for kind in kinds}
    )
    profiles = [EMPTY_PROFILE] * len(columns)
    for row in per_column.iter_rows(named=True):
        total = int(row["total"])
        shares = {kind: float(row[kind]) / total for kind in kinds}
        profiles[row["column"]] = ContentProfile(
            total, row["distinct"], {k: v for k, v in shares.items() if v > 0}
        )
    return profiles
