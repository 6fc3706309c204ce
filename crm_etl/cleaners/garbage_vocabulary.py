"""The vocabulary of rows that are no record (schemas/garbage_rows.yaml), validated on load and
compiled once into the polars regexes `cleaners/rows.py` matches cells with."""

from __future__ import annotations

import re
import unicodedata
from functools import cached_property
from typing import Annotated

import polars as pl
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

_REGEX_META = set(r"\.+*?()|[]{}^$#&-~")
# Spaces, hyphens and underscores inside a vocabulary entry match any run of them.
_ENTRY_GAP = re.compile(r"[\s\-_]+")
_CJK = re.compile(r"[\u3400-\u9fff]")

# Number as written in a totals row: -1,234.50, ¥-12 345, 1.5e+06, 35%.
_NUMBER = r"[-+−]?\s*[¥￥$€£]?\s*[-+−]?\s*\d[\d,，.\s]*(?:e[-+]?\d+)?\s*%?"
# A short bracketed qualifier after a label: (CNY), （元）, 【含税】.
_BRACKET = r"[(（\[【][^()（）\[\]【】]{1,12}[)）\]】]"
# What follows a footer label: end of cell or punctuation; Chinese labels also take a space.
_FOOTER_END = r"(?:$|[:：,，.。;；!！\-–—_|/()（）【】\[\]*★])"
_FOOTER_END_CJK = r"(?:$|[\s:：,，.。;；!！\-–—_|/()（）【】\[\]*★])"
# Decoration around a marker name: 【测试】, "test", *demo*; index after it: 测试1, test_01, 测试甲.
_OPEN = r"[\s【\[(（<《\"'“‘「*#]*"
_CLOSE = r"[\s】\])）>》\"'”’」*#!！.。]*"
_SEP = r"[\s\-_·.:：/|]*"
# A letter index needs a separator: "test a" is an index, "testa" a surname.
_INDEX = r"(?:\d+|[甲乙丙丁一二三四五六七八九十]+|[\s\-_#.]+(?:[a-z]|\d+))?"
_BRACKET_OPEN = r"[【\[(（<《「]"
_BRACKET_CLOSE = r"[】\])）>》」]"


def normalise_entry(text: str) -> str:
    """A vocabulary entry or a cell as compared: NFKC, lower-case, outer spaces removed."""
    return unicodedata.normalize("NFKC", text).strip().lower()


def _literal(entry: str, spaced_cjk: bool = False) -> str:
    """Regex for one entry: metacharacters escaped, inner gaps loose; `合计` also matches `合 计`."""
    parts = []
    for word in _ENTRY_GAP.split(normalise_entry(entry)):
        chars = ["\\" + c if c in _REGEX_META else c for c in word]
        parts.append((r"\s*" if spaced_cjk and _CJK.search(word) else "").join(chars))
    return r"[\s\-_]*".join(parts)


def _any_of(entries: tuple[str, ...], spaced_cjk: bool = False) -> str:
    # Longest first, so `有限公司` wins over `公司` and `strictly confidential` over `confidential`.
    ordered = sorted({normalise_entry(e) for e in entries}, key=len, reverse=True)
    return "(?:" + "|".join(_literal(e, spaced_cjk) for e in ordered) + ")"


def _polars_regex(pattern: str) -> str:
    """Check a pattern compiles in polars (Rust regex), which lacks look-around and back-references."""
    try:
        pl.select(pl.lit("").str.contains(pattern))
    except Exception as exc:  # polars reports a bad pattern with several error types
        raise ValueError(f"not a valid regex for polars (Rust syntax): {pattern!r}: {exc}") from exc
    return pattern


Entries = tuple[str, ...]


def _non_empty_entries(value: Entries) -> Entries:
    for entry in value:
        if not normalise_entry(entry):
            raise ValueError("an entry is empty")
    return value


def _compiling_patterns(value: Entries) -> Entries:
    for pattern in value:
        _polars_regex(pattern)
    return value


# Words compared after normalisation (none may normalise to nothing), and regexes polars can run.
Words = Annotated[Entries, AfterValidator(_non_empty_entries)]
Patterns = Annotated[Entries, AfterValidator(_compiling_patterns)]


class TotalsVocabulary(BaseModel):
    """Labels of totals and subtotal lines (garbage_rows.yaml `totals`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    labels: Words = Field(min_length=1)
    qualifiers: Words = ()
    units: Words = ()

    @cached_property
    def regex(self) -> str:
        """A cell that is a totals label as a whole, with qualifiers, brackets and figures."""
        label = _any_of(self.labels, spaced_cjk=True)
        # English labels take a plural: totals, subtotals.
        label = rf"{label}s?"
        qualifier = rf"(?:{_any_of(self.qualifiers, spaced_cjk=True)}\s*)*" if self.qualifiers else ""
        unit = _any_of(self.units) if self.units else "(?:)"
        figure = rf"(?:共|计|约)?\s*(?:{unit}\s*)?{_NUMBER}\s*{unit}?"
        figures = rf"(?:{figure}(?:\s*[,，;；/、]?\s*{figure})*)?"
        return rf"^\s*{qualifier}{label}\s*(?:{_BRACKET})?\s*[:：=]?\s*{figures}\s*(?:{_BRACKET})?\s*$"


class FooterVocabulary(BaseModel):
    """Report footers: confidentiality notes, copyright, export stamps, page numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    labels: Words = Field(min_length=1)
    patterns: Patterns = ()

    @cached_property
    def regex(self) -> str:
        """A cell that starts with a footer label, or matches a footer pattern."""
        cjk = tuple(e for e in self.labels if _CJK.search(e))
        latin = tuple(e for e in self.labels if not _CJK.search(e))
        starts = [rf"^\s*{_any_of(cjk)}\s*{_FOOTER_END_CJK}" if cjk else None]
        starts.append(rf"^\s*{_any_of(latin)}\s*{_FOOTER_END}" if latin else None)
        return "|".join([*(s for s in starts if s), *(f"(?:{p})" for p in self.patterns)])

    @cached_property
    def bare_label_regex(self) -> str:
        """A cell that is only a footer label (制表人：), its value standing in the next cell."""
        return rf"^\s*{_any_of(self.labels)}\s*[:：]?\s*$"


class PlaceholderPhones(BaseModel):
    """Phone numbers people type when they have none (digits only, country code removed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    numbers: Entries = ()
    patterns: Patterns = ()

    @field_validator("numbers", mode="before")
    @classmethod
    def _quoted_digits(cls, value: object) -> object:
        for number in value if isinstance(value, list | tuple) else []:
            if not isinstance(number, str) or not number.isdigit():
                raise ValueError(
                    f"{number!r} is not a quoted string of digits (YAML reads 00000000000 as 0: quote numbers)"
                )
        return value

    @cached_property
    def regex(self) -> str:
        """Digits of a placeholder number."""
        parts = [f"^(?:{'|'.join(self.numbers)})$"] if self.numbers else []
        parts += [f"(?:{p})" for p in self.patterns]
        return "|".join(parts) or "$^"


class MarkerVocabulary(BaseModel):
    """Markers of test and sample records and the columns they are looked for in."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    markers: Words = Field(min_length=1)
    suffixes: Words = ()
    placeholder_tokens: Words = ()
    company_words: Words = ()
    name_columns: Entries = Field(min_length=1)
    company_column: str
    phone_columns: Entries = ()
    email_columns: Entries = ()
    placeholder_phones: PlaceholderPhones = Field(default_factory=PlaceholderPhones)
    placeholder_email_domains: Entries = ()
    reserved_tlds: Entries = ()

    @cached_property
    def marker_core(self) -> str:
        """A marker as a whole name: 测试, 测试客户, 客户测试, test company, demo demo."""
        markers = _any_of(self.markers)
        marks = rf"{markers}(?:{_SEP}{markers})*"
        if not self.suffixes:
            return marks
        suffix = _any_of(self.suffixes)
        return rf"(?:{marks}(?:{_SEP}{suffix})?|{suffix}{_SEP}{marks})"

    @cached_property
    def name_regex(self) -> str:
        """A name cell that is a test marker: whole, decorated, or tagged with a bracketed marker."""
        core = self.marker_core
        whole = rf"^{_OPEN}{core}{_INDEX}{_CLOSE}$"
        tagged = rf"{_BRACKET_OPEN}\s*{core}\s*{_BRACKET_CLOSE}"
        return f"{whole}|{tagged}"

    @cached_property
    def company_regex(self) -> str:
        """A company name made of placeholder letters: xxx公司, 某某公司, XX科技有限公司."""
        if not self.placeholder_tokens or not self.company_words:
            return "$^"
        tokens = _any_of(self.placeholder_tokens)
        return rf"^{_OPEN}{tokens}+\s*[\u3400-\u9fff]{{0,6}}?{_any_of(self.company_words)}{_CLOSE}$"

    @cached_property
    def email_regex(self) -> str:
        """An email whose local part is a marker (test123@, demo.user@) or whose domain is for examples."""
        parts = []
        latin_tokens = tuple(t for t in self.placeholder_tokens if t.isascii())
        local = _any_of(self.markers + latin_tokens)
        suffix = f"|{_any_of(self.suffixes)}" if self.suffixes else ""
        parts.append(rf"^{local}(?:[._+\-]?(?:\d+{suffix}))*@")
        if self.placeholder_email_domains:
            parts.append(rf"@(?:[a-z0-9\-]+\.)*{_any_of(self.placeholder_email_domains)}$")
        if self.reserved_tlds:
            parts.append(rf"\.{_any_of(self.reserved_tlds)}$")
        return "|".join(parts)


class GarbageVocabulary(BaseModel):
    """Everything schemas/garbage_rows.yaml declares."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    totals: TotalsVocabulary
    footers: FooterVocabulary
    test_records: MarkerVocabulary
