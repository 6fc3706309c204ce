"""Find a sheet's header row and its kind (customers, contacts, orders, follow-ups) by evidence.

Each row near the top is read as a possible header against every source spec;
the spec whose aliases and rules explain the most columns, weighted by how sure
each match is, wins. A sheet whose best kind is not clearly ahead of the
runner-up kind is reported as ambiguous rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from crm_etl.cleaners.mapping.columns import (
    EXACT_OTHER,
    Candidate,
    ColumnDecision,
    apply_content_fallback,
    composite_part,
    content_fit,
    decide_column,
    for_spec,
    is_ignored,
    name_candidates,
)
from crm_etl.cleaners.mapping.content import profile_columns
from crm_etl.cleaners.mapping.headers import ParsedHeader, has_cjk, parse_header
from crm_etl.cleaners.mapping.settings import COMPOSITE_PARTS, RecordTypeName
from crm_etl.cleaners.mapping.vocabulary import Vocabulary


@dataclass(frozen=True)
class SpecInfo:
    """What the sheet mapper needs of a source spec."""

    name: str
    record_type: RecordTypeName
    min_matched_fields: int = 2
    # Share of the spec's aliases written in Latin letters: an English export reads as the spec
    # written in English when no alias of its own decides (the source system matters downstream).
    latin_share: float = 0.0
    # File types this kind of export comes as (.jsonl for web forms): a small tie-breaker too.
    suffixes: tuple[str, ...] = ()


# The one date field of each record type, which a header's date-order hint applies to.
DATE_FIELDS: dict[str, str] = {
    "customers": "first_contact_date",
    "orders": "order_date",
    "interactions": "date",
}


@dataclass
class SheetMapping:
    """A sheet's header row, its spec and kind, and the decision for every column."""

    row_index: int  # 0-based index into the rows given
    spec_index: int
    record_type: RecordTypeName
    kind: str  # customers | contacts | orders | interactions
    score: float
    runner_up_kind: str | None
    runner_up_score: float
    columns: list[ColumnDecision]
    # field -> [(column index, part)] for fields built from several columns (姓 + 名, 省 + 市 + 区 + 地址).
    composites: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    @property
    def field_by_column(self) -> dict[int, str]:
        """Column index -> field, for columns that map one-to-one."""
        return {c.index: c.field for c in self.columns if c.field is not None and c.part is None}

    @property
    def matched_fields(self) -> int:
        return len({c.field for c in self.columns if c.field is not None})

    def hints(self, target: str) -> dict[str, object]:
        """The hints of the column that fills a field (date order, unit), empty when none."""
        for c in self.columns:
            if c.field == target and c.part is None:
                return c.hints.as_dict()
        return {}

    def day_first(self, default: bool | None) -> bool | None:
        """How slash dates read: the date column's header says (日/月/年, MM/DD/YYYY), else `default`."""
        order = self.hints(DATE_FIELDS[self.record_type]).get("date_order")
        return {"DMY": True, "MDY": False}.get(str(order), default)

    def amount_scale(self) -> float | None:
        """Multiplier to CNY that the amount column's header states (金额(万元) -> 10000), None when none."""
        scale = self.hints("amount_cny").get("scale")
        return float(scale) if isinstance(scale, int | float) else None


@dataclass
class AmbiguousSheet:
    """A header row that two kinds explain about equally well: reported, not guessed."""

    row_index: int
    kind: str
    score: float
    runner_up_kind: str
    runner_up_score: float


class _Scorer:
    """Header-only scores of rows, with candidates cached per header text and record type."""

    def __init__(self, vocabularies: Mapping[RecordTypeName, Vocabulary]) -> None:
        self.vocabularies = vocabularies
        self._parsed: dict[str, ParsedHeader] = {}
        self._candidates: dict[tuple[str, RecordTypeName], list[Candidate]] = {}

    def parsed(self, text: str | None) -> ParsedHeader:
        key = text or ""
        if key not in self._parsed:
            self._parsed[key] = parse_header(text)
        return self._parsed[key]

    def candidates(self, text: str | None, record_type: RecordTypeName) -> list[Candidate]:
        cache_key = (text or "", record_type)
        if cache_key not in self._candidates:
            parsed = self.parsed(text)
            vocab = self.vocabularies[record_type]
            found = name_candidates(parsed, vocab)
            ignored = is_ignored(parsed, vocab) and not (found and found[0].score >= EXACT_OTHER)
            self._candidates[cache_key] = [] if ignored else found
        return self._candidates[cache_key]

    def row_score(self, cells: Sequence[str | None], spec: SpecInfo) -> tuple[float, int]:
        """Sum of the best distinct-field scores of a row for one spec, and how many fields matched."""
        accept = self.vocabularies[spec.record_type].rules.thresholds.accept
        tops: list[tuple[float, int, list[Candidate]]] = []
        for index, cell in enumerate(cells):
            if cell is None or not cell.strip():
                continue
            found = for_spec(self.candidates(cell, spec.record_type), spec.name)
            if found and found[0].score >= accept:
                tops.append((found[0].score, index, found))
        taken: set[str] = set()
        total = 0.0
        for _, index, found in sorted(tops, key=lambda t: (-t[0], t[1])):
            for candidate in found:
                if candidate.score < accept:
                    break
                if candidate.field not in taken:
                    taken.add(candidate.field)
                    latin = not has_cjk(cells[index] or "")
                    same_script = latin == (spec.latin_share >= 0.5)
                    total += candidate.score + (SCRIPT_BONUS if same_script else 0.0)
                    break
        return total, len(taken)


# Tie-breakers between specs that explain a header equally: far below any column's score.
SCRIPT_BONUS = 0.01
SUFFIX_BONUS = 0.05


def map_sheet(
    rows: Sequence[Sequence[str | None]],
    specs: Sequence[SpecInfo],
    vocabularies: Mapping[RecordTypeName, Vocabulary],
    scan_rows: int = 30,
    header_row: int | None = None,
    suffix: str = "",
) -> SheetMapping | AmbiguousSheet | None:
    """Map a sheet given as text cells (its first rows, header candidates and a sample of data rows).

    Returns None when no row looks like a header of any spec. `header_row` fixes the
    header row (JSON Lines: the keys; an override file) instead of searching for it.
    """
    scorer = _Scorer(vocabularies)
    rules = next(iter(vocabularies.values())).rules
    best: tuple[float, int, int] | None = None  # score, row, spec
    per_type_at: dict[int, dict[RecordTypeName, float]] = {}
    candidate_rows = [header_row] if header_row is not None else range(min(scan_rows, len(rows)))
    for row_index in candidate_rows:
        cells = rows[row_index]
        if not any(c is not None and c.strip() for c in cells):
            continue
        by_type: dict[RecordTypeName, float] = {}
        for spec_index, spec in enumerate(specs):
            score, matched = scorer.row_score(cells, spec)
            if matched < spec.min_matched_fields:
                continue
            if suffix and suffix in spec.suffixes:
                score += SUFFIX_BONUS
            by_type[spec.record_type] = max(by_type.get(spec.record_type, 0.0), score)
            if score >= rules.sheets.min_score and (best is None or score > best[0] + 1e-9):
                best = (score, row_index, spec_index)
        per_type_at[row_index] = by_type
    if best is None:
        return None
    score, row_index, spec_index = best
    spec = specs[spec_index]
    others = {t: s for t, s in per_type_at[row_index].items() if t != spec.record_type}
    ranked = sorted(others.items(), key=lambda item: -item[1])
    runner_up_type: RecordTypeName | None = ranked[0][0] if ranked else None
    runner_up_score = ranked[0][1] if ranked else 0.0
    if runner_up_type is not None and (score - runner_up_score) / score < rules.sheets.margin:
        return AmbiguousSheet(
            row_index,
            spec.record_type,
            round(score, 2),
            runner_up_type,
            round(runner_up_score, 2),
        )
    columns, composites = decide_columns(rows, row_index, spec, vocabularies[spec.record_type], scorer)
    kind: str = spec.record_type
    if spec.record_type == "customers" and _is_contacts_export(
        rows[row_index], columns, composites, scorer, vocabularies[spec.record_type].contacts_evidence
    ):
        kind = "contacts"
        _refer_to_account(columns, scorer, vocabularies[spec.record_type])
    return SheetMapping(
        row_index,
        spec_index,
        spec.record_type,
        kind,
        round(score, 3),
        runner_up_type,
        round(runner_up_score, 3),
        columns,
        composites,
    )


def _is_contacts_export(
    header: Sequence[str | None],
    columns: Sequence[ColumnDecision],
    composites: Mapping[str, list[tuple[int, str]]],
    scorer: _Scorer,
    patterns: Sequence[re.Pattern[str]],
) -> bool:
    """A customers sheet whose rows are persons with the company they work for (a CRM contacts export)."""
    has_person = "contact_name" in composites or any(c.field == "contact_name" for c in columns)
    if not has_person or not patterns:
        return False
    for cell in header:
        if cell is None:
            continue
        parsed = scorer.parsed(cell)
        if any(p.search(parsed.words) or p.search(parsed.key) for p in patterns):
            return True
    return False


def _refer_to_account(columns: Sequence[ColumnDecision], scorer: _Scorer, vocab: Vocabulary) -> None:
    """In a contacts export, the column naming the company's ID is the person's account (account_ref).

    An accounts export's `Account ID` is the record's own key; beside a person it is the key of the
    company the person works at. The person's own ID (Contact ID, 联系人编号) stays `legacy_id`, and a
    column that lost `legacy_id` to the account's ID as a duplicate gets it back.
    """
    if "account_ref" not in vocab.fields or not vocab.contacts_account_ref:
        return
    for d in columns:
        parsed = scorer.parsed(d.header)
        if d.part is None and any(p.search(parsed.words) for p in vocab.contacts_account_ref):
            freed = d.field
            d.runner_up, d.runner_up_score = d.field, d.confidence or None
            d.field, d.method, d.confidence = "account_ref", "contacts export", 0.9
            d.note = "beside a person, the company's ID names the account the person works at"
            break
    else:
        return
    for other in columns:
        if freed is not None and other.method == "duplicate" and other.suggestion == freed:
            other.field, other.method, other.suggestion = freed, "contacts export", None
            other.note = "the person's own ID: the company's ID is account_ref"
            break


def decide_columns(
    rows: Sequence[Sequence[str | None]],
    row_index: int,
    spec: SpecInfo,
    vocab: Vocabulary,
    scorer: _Scorer | None = None,
) -> tuple[list[ColumnDecision], dict[str, list[tuple[int, str]]]]:
    """The decision for every column under the header row, using the rows below it as content."""
    scorer = scorer or _Scorer({vocab.record_type: vocab})
    header = rows[row_index]
    sample = rows[row_index + 1 : row_index + 1 + vocab.rules.thresholds.sample_rows]
    decisions: list[ColumnDecision] = []
    profiles = profile_columns(
        [[r[index] if index < len(r) else None for r in sample] for index in range(len(header))]
    )
    parts: dict[str, dict[str, int]] = {}
    for index, profile in enumerate(profiles):
        text = header[index]
        parsed = scorer.parsed(text)
        candidates = for_spec(scorer.candidates(text, vocab.record_type), spec.name) if text else []
        decision = decide_column(index, parsed, candidates, vocab, profile)
        decisions.append(decision)
        named = composite_part(parsed, vocab) if text else None
        if named is not None:
            parts.setdefault(named[0], {}).setdefault(named[1], index)
    composites: dict[str, list[tuple[int, str]]] = {}
    for target, found in parts.items():
        if len(found) < 2:
            continue
        order = COMPOSITE_PARTS[target]
        composites[target] = [(found[p], p) for p in order if p in found]
        for column, part in composites[target]:
            d = decisions[column]
            d.runner_up, d.runner_up_score = d.field, d.confidence or None
            d.field, d.part, d.method, d.confidence = target, part, "composite", 0.95

    # Each field is filled by one column: the claim whose values fit the field best wins (企业 over
    # 客户 when 客户 holds persons' names), then the surest, then the leftmost column.
    def claim(d: ColumnDecision) -> tuple[float, float, int]:
        fit = content_fit(d.field or "", profiles[d.index], vocab)
        return (-(fit if fit is not None else 0.0), -d.confidence, d.index)

    taken: dict[str, int] = {t: cols[0][0] for t, cols in composites.items()}
    for d in sorted((d for d in decisions if d.field and d.part is None), key=claim):
        assert d.field is not None
        if d.field in taken:
            d.note = f"{d.field} is already filled from column {taken[d.field] + 1}"
            d.suggestion, d.field, d.method = d.field, None, "duplicate"
        else:
            taken[d.field] = d.index
    if "address" in composites and "city" not in taken and "city" in vocab.fields:
        found = parts["address"]
        source = found.get("city", found.get("province"))
        if source is not None:
            composites["city"] = [(source, "city")]
            taken["city"] = source
    taken_fields = set(taken)
    for d, profile in zip(decisions, profiles, strict=True):
        if d.part is None:
            apply_content_fallback(d, profile, vocab, taken_fields)
    return decisions, composites


def missing_link(mapping: SheetMapping, vocab: Vocabulary) -> list[str] | None:
    """The first group of link fields (customer_ref or customer_name) the sheet maps none of, else None."""
    mapped = {c.field for c in mapping.columns if c.field is not None}
    for group in vocab.rules.link_fields.get(mapping.record_type, []):
        if not mapped.intersection(group):
            return group
    return None


def nearest_column(
    header: Sequence[str | None], mapping: SheetMapping, fields: Sequence[str], vocab: Vocabulary
) -> tuple[int, str, str, float] | None:
    """The unmapped column whose header comes nearest to one of `fields`: (index, header, field, score)."""
    best: tuple[int, str, str, float] | None = None
    for decision in mapping.columns:
        text = header[decision.index] if decision.index < len(header) else None
        if decision.field is not None or not text:
            continue
        for candidate in name_candidates(parse_header(text), vocab, with_floor=0.4):
            if candidate.field in fields and (best is None or candidate.score > best[3]):
                best = (decision.index, text, candidate.field, round(candidate.score, 2))
    return best
