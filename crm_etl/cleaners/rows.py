"""Recognise rows that carry no record: blank, totals, footer, note and test rows, repeated headers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from crm_etl.cleaners.garbage_vocabulary import GarbageVocabulary
from crm_etl.cleaners.mapping.headers import header_may_match, normalise_header, normalised_headers

# Free-text notes typed under or between records (matched after NFKC and lower-casing).
NOTE_START = r"^\s*(备注|注意|注|说明|附注|提示|填表说明|note|notes|remark|remarks|ps)\s*[:：.、\s]"
NOTE_SENTENCE = r"[。！？!?；;]|[，,].*[，,。]"
NOTE_MIN_LENGTH = 40

REASONS: frozenset[str] = frozenset(
    {"blank_row", "totals_row", "footer_row", "note_row", "test_record", "repeated_header"}
)
# A repeated header row: at least this many cells, and this share of its filled cells, are the
# header's own cells in the same columns.
REPEATED_HEADER_MIN_CELLS = 2
REPEATED_HEADER_MIN_SHARE = 0.6

# One key/value pair of the flat JSON object in `extra` (unmapped cells).
_JSON_PAIR = r'"(?:[^"\\]|\\.)*"\s*:\s*(?:"(?:[^"\\]|\\.)*"|[^,}]+)'
_JSON_KEY = r'^"(?:[^"\\]|\\.)*"\s*:\s*'
# At least this many digits in a phone cell make the row reachable: a record, not a summary line.
_REACHABLE_DIGITS = 7


def _normalised_cells(text: pl.Expr) -> pl.Expr:
    """A cell as compared: NFKC, lower-case, outer spaces removed; blank becomes null."""
    value = text.cast(pl.String).str.normalize("NFKC").str.to_lowercase().str.strip_chars()
    return pl.when(value != "").then(value)


def _normalised(cells: pl.Series) -> pl.Series:
    return pl.select(_normalised_cells(pl.lit(cells))).to_series()


def _extra_cells() -> pl.Expr:
    """The values of the unmapped cells in `extra` (a flat JSON object), as text."""
    return (
        pl.col("extra")
        .str.extract_all(_JSON_PAIR)
        .list.eval(
            pl.element()
            .str.replace(_JSON_KEY, "")
            .str.strip_chars()
            .str.replace(r'^"(.*)"$', "$1")
            .str.replace_all(r'\\(["\\/])', "$1")
        )
    )


def _row_cells(frame: pl.DataFrame, value_columns: Sequence[str]) -> pl.Expr:
    """Per row, the normalised text of every filled cell, mapped columns first, then `extra`."""
    parts: list[pl.Expr] = [pl.col(c).cast(pl.String) for c in value_columns]
    if "extra" in frame.columns:
        parts.append(_extra_cells().fill_null([]))
    if not parts:
        return pl.repeat([], pl.len(), dtype=pl.List(pl.String))
    cells = pl.concat_list(parts)
    return cells.list.eval(_normalised_cells(pl.element())).list.drop_nulls()


def _phone_digits(cells: pl.Series) -> pl.Series:
    """The digits of a phone cell, a mainland country code (+86, 0086) before a mobile removed."""
    digits = cells.cast(pl.String).str.replace_all(r"\D", "")
    return digits.str.replace(r"^(?:0086|86)(1\d{10})$", "$1")


class _Evidence:
    """Per-row expressions the reasons are built from, for one frame and vocabulary.

    The normalised cells are materialised once (`cells`, `filled`, `name:*`, `digits:*`,
    `email:*` columns of `work`); every reason is an expression over them.
    """

    def __init__(self, frame: pl.DataFrame, value_columns: Sequence[str], vocabulary: GarbageVocabulary):
        present = [c for c in value_columns if c in frame.columns]
        markers = vocabulary.test_records
        self.vocabulary = vocabulary
        self.phones = [c for c in markers.phone_columns if c in present]
        self.emails = [c for c in markers.email_columns if c in present]
        self.names = [c for c in markers.name_columns if c in present]
        self.company = markers.company_column if markers.company_column in present else None
        company = [self.company] if self.company else []
        cells = frame.select(_row_cells(frame, present).alias("cells"))
        self.work = cells.with_columns(
            pl.col("cells").list.len().alias("filled"),
            *(_normalised(frame[c]).alias(f"name:{c}") for c in dict.fromkeys([*self.names, *company])),
            *(_phone_digits(frame[c]).alias(f"digits:{c}") for c in self.phones),
            *(_normalised(frame[c]).alias(f"email:{c}") for c in self.emails),
        )
        phone_regex = markers.placeholder_phones.regex
        self.placeholder_phone = [
            pl.col(f"digits:{c}").str.contains(phone_regex).fill_null(False) for c in self.phones
        ]
        phone_reachable = [
            (pl.col(f"digits:{c}").str.len_chars() >= _REACHABLE_DIGITS).fill_null(False) for c in self.phones
        ]
        self.real_phone = [r & ~p for r, p in zip(phone_reachable, self.placeholder_phone, strict=True)]
        self.placeholder_email = [
            pl.col(f"email:{c}").str.contains(markers.email_regex).fill_null(False) for c in self.emails
        ]
        email_reachable = [pl.col(f"email:{c}").str.contains("@").fill_null(False) for c in self.emails]
        self.real_email = [r & ~p for r, p in zip(email_reachable, self.placeholder_email, strict=True)]
        contacts = [*phone_reachable, *email_reachable]
        # A row carrying a phone number or an email address is someone to call, not a summary line.
        self.reachable = pl.any_horizontal(contacts) if contacts else pl.lit(False)
        self.filled = pl.col("filled")

    def _any_cell(self, pattern: str) -> pl.Expr:
        return pl.col("cells").list.eval(pl.element().str.contains(pattern)).list.any()

    def _every_cell(self, pattern: str) -> pl.Expr:
        return (self.filled > 0) & pl.col("cells").list.eval(pl.element().str.contains(pattern)).list.all()

    def is_totals(self) -> pl.Expr:
        return self._any_cell(self.vocabulary.totals.regex) & ~self.reachable

    def is_footer(self) -> pl.Expr:
        footers = self.vocabulary.footers
        labelled_pair = (self.filled == 2) & self._any_cell(footers.bare_label_regex)
        return (self._every_cell(footers.regex) | labelled_pair) & ~self.reachable

    def is_note(self) -> pl.Expr:
        only = pl.when(self.filled == 1).then(pl.col("cells").list.first())
        return (
            only.str.contains(NOTE_START)
            | only.str.contains(NOTE_SENTENCE)
            | (only.str.len_chars() >= NOTE_MIN_LENGTH)
        ).fill_null(False)

    def is_test_record(self) -> pl.Expr:
        markers = self.vocabulary.test_records
        marked = [pl.col(f"name:{c}").str.contains(markers.name_regex).fill_null(False) for c in self.names]
        company_filled = pl.lit(False)
        if self.company is not None:
            company = pl.col(f"name:{self.company}")
            marked.append(company.str.contains(markers.company_regex).fill_null(False))
            company_filled = company.is_not_null()
        placeholders = [*self.placeholder_phone, *self.placeholder_email]
        real = [*self.real_phone, *self.real_email]
        weak = pl.any_horizontal(placeholders) if placeholders else pl.lit(False)
        identified = company_filled | (pl.any_horizontal(real) if real else pl.lit(False))
        return (pl.any_horizontal(marked) if marked else pl.lit(False)) | (weak & ~identified)


def row_evidence(
    frame: pl.DataFrame, value_columns: Sequence[str], vocabulary: GarbageVocabulary
) -> _Evidence:
    """The normalised cells of every row, built once for `garbage_reason` and `placeholder_phone_issues`."""
    return _Evidence(frame, value_columns, vocabulary)


def garbage_reason(
    frame: pl.DataFrame,
    value_columns: Sequence[str],
    vocabulary: GarbageVocabulary,
    evidence: _Evidence | None = None,
) -> pl.Series:
    """Per row: `blank_row`, `totals_row`, `footer_row`, `note_row`, `test_record` or null.

    `value_columns` are the columns holding the row's cells as text; `extra` (JSON of
    unmapped cells) counts as cells too, so a totals label or a note typed in an unmapped
    column is seen. A row carrying a phone number or an email is never a totals or footer
    row. Placeholder phones and emails make a test record only on a row nothing else
    identifies (see schemas/garbage_rows.yaml, loaded into `Config.garbage_rows`).
    """
    evidence = evidence or _Evidence(frame, value_columns, vocabulary)
    reason = (
        pl.when(evidence.filled == 0)
        .then(pl.lit("blank_row"))
        .when(evidence.is_totals())
        .then(pl.lit("totals_row"))
        .when(evidence.is_footer())
        .then(pl.lit("footer_row"))
        .when(evidence.is_note())
        .then(pl.lit("note_row"))
        .when(evidence.is_test_record())
        .then(pl.lit("test_record"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return evidence.work.select(reason.alias("garbage_reason")).to_series()


def placeholder_phone_issues(
    frame: pl.DataFrame,
    value_columns: Sequence[str],
    vocabulary: GarbageVocabulary,
    evidence: _Evidence | None = None,
) -> pl.Series:
    """Per row, a `field:phone_placeholder_number` doubt for each placeholder phone (13800138000).

    Such a number is a valid mobile to cleaners/phones.py; on a row a company identifies it
    is no reason to quarantine, but a doubt for the row's issues. (Placeholder emails are
    already doubts: cleaners/emails.py reports `email_placeholder`.)
    """
    evidence = evidence or _Evidence(frame, value_columns, vocabulary)
    parts = [
        pl.when(flag).then(pl.lit(f"{column}:phone_placeholder_number"))
        for column, flag in zip(evidence.phones, evidence.placeholder_phone, strict=True)
    ]
    if not parts:
        return pl.Series("phone_issues", [[]] * frame.height, dtype=pl.List(pl.String))
    doubts = pl.concat_list(parts).list.drop_nulls()
    return evidence.work.select(doubts.alias("phone_issues")).to_series()


def repeated_header(cells: pl.DataFrame, header: Sequence[Any]) -> pl.Series:
    """Per data row: is it the header row again (a sheet pasted under another, a printed page)?

    `cells` holds the data rows column by column, each cell as `str(cell)` (null for an empty
    one). A row is the header repeated when at least REPEATED_HEADER_MIN_CELLS of its filled
    cells, and REPEATED_HEADER_MIN_SHARE of them, equal the header's cell in the same
    column after `normalise_header`.
    """
    header_keys = [normalise_header("" if cell is None else str(cell)) for cell in header]
    keyed = [(name, key) for name, key in zip(cells.columns, header_keys, strict=False) if key]
    repeated = pl.Series("repeated_header", [False] * cells.height, dtype=pl.Boolean)
    if len(keyed) < REPEATED_HEADER_MIN_CELLS:
        return repeated
    # Only rows with enough cells that may be their header cell are normalised.
    may_match = pl.DataFrame([header_may_match(cells[name], key) for name, key in keyed])
    rows = (may_match.sum_horizontal() >= REPEATED_HEADER_MIN_CELLS).arg_true()
    if rows.is_empty():
        return repeated
    # Those rows' cells normalised as one column, then split into the sheet's columns again.
    few = cells[rows].select(pl.all().cast(pl.String))
    keys = normalised_headers(pl.concat([few[name] for name in few.columns]))
    keys_of = pl.DataFrame({name: keys.slice(i * len(rows), len(rows)) for i, name in enumerate(few.columns)})
    filled = pl.sum_horizontal(pl.col(name) != "" for name in few.columns)
    same = pl.sum_horizontal(pl.col(name) == key for name, key in keyed)
    is_header = (same >= REPEATED_HEADER_MIN_CELLS) & (same >= REPEATED_HEADER_MIN_SHARE * filled)
    return repeated.scatter(rows, keys_of.select(is_header).to_series())
