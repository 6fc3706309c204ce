"""Header normalisation and header-row detection over raw sheet rows."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Decorations people add to headers: required-field stars, colons, brackets, units.
_HEADER_NOISE = re.compile(r"[\s*＊:：_\-–—/\\.。·()（）\[\]【】<>《》\"'`]+")


def normalise_header(text: Any) -> str:
    """Reduce a header cell to a comparison key: NFKC, lower-case, decorations removed."""
    if text is None:
        return ""
    value = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return _HEADER_NOISE.sub("", value)


@dataclass(frozen=True)
class HeaderMatch:
    """The best header row found in a sheet for one source spec."""

    row_index: int  # 0-based index into the rows given
    spec_index: int
    field_by_column: dict[int, str]  # column index -> canonical field

    @property
    def matched_fields(self) -> int:
        return len(set(self.field_by_column.values()))


def map_header_row(cells: Sequence[Any], lookup: Mapping[str, str]) -> dict[int, str]:
    """Map the columns of one header row to canonical fields; the first column claiming a field wins."""
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, cell in enumerate(cells):
        field = lookup.get(normalise_header(cell))
        if field is not None and field not in taken:
            mapping[index] = field
            taken.add(field)
    return mapping


def find_header(
    rows: Sequence[Sequence[Any]],
    lookups: Sequence[Mapping[str, str]],
    min_matched: Sequence[int],
    scan_rows: int = 30,
) -> HeaderMatch | None:
    """Find the row and source spec whose aliases match the most distinct fields.

    Title rows above the header (merged banners, export notes) match nothing and
    are passed over; ties go to the earlier row, then to the earlier spec.
    """
    best: HeaderMatch | None = None
    for row_index, cells in enumerate(rows[:scan_rows]):
        if not any(str(c).strip() for c in cells if c is not None):
            continue
        for spec_index, lookup in enumerate(lookups):
            mapping = map_header_row(cells, lookup)
            matched = len(mapping)
            if matched < min_matched[spec_index]:
                continue
            if best is None or matched > best.matched_fields:
                best = HeaderMatch(row_index, spec_index, mapping)
    return best
