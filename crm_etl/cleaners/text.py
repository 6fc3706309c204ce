"""Normalise free text from Chinese exports: width, invisible characters, spacing, script.

Traditional → simplified conversion follows OpenCC's `t2s` conversion, through
opencc-python-reimplemented: OpenCC is the maintained reference for Chinese script
conversion (phrase-aware, so 乾隆 stays 乾隆 while 乾燥 becomes 干燥), and the
reimplementation is a pure-Python port of its dictionaries — no native build, wheels for
every platform. Being pure Python it costs ~50 µs a value, so it only sees the few values
that hold one of OpenCC's phrases. Values that only hold characters OpenCC converts one by
one are translated with OpenCC's own character table (`str.translate`), and values without
any such character — nearly all of them — are not touched at all."""

from __future__ import annotations

import re
from functools import cache
from pathlib import PurePath

import polars as pl
from opencc import OpenCC

# Format characters (zero-width space/joiners U+200B-U+200D, word joiner U+2060, BOM U+FEFF,
# soft hyphen, bidi marks) and controls that are not whitespace: removed outright. Removed
# before NFKC so that NFKC can compose what they separated, which keeps cleaning idempotent.
_INVISIBLE = r"[\p{Cf}[\p{Cc}--\s]]"
# Tabs, newlines and every Unicode space (incl. U+3000 ideographic space): one plain space.
_SPACES = r"[\s\p{Cc}]+"
# Bound for re-applying t2s: one OpenCC entry (薴 → 苧) maps onto another key (苧 → 苎).
_MAX_T2S_ROUNDS = 3


def normalise_text(expr: pl.Expr) -> pl.Expr:
    """Width-fold (NFKC), drop invisible characters, collapse whitespace, strip; "" → null."""
    return (
        expr.cast(pl.String)
        .str.replace_all(_INVISIBLE, "")
        .str.normalize("NFKC")
        .str.replace_all(_SPACES, " ")
        .str.strip_chars(" ")
        .replace("", None)
    )


@cache
def _opencc() -> OpenCC:
    return OpenCC("t2s")


def _dictionary(name: str) -> dict[str, str]:
    """One of the dictionaries the t2s converter loaded (TSCharacters, TSPhrases): key → first."""
    for path, (_, _, mapping) in _opencc().dict_cache.items():
        if PurePath(path).stem == name:
            return {key: value.split(" ")[0] for key, value in mapping.items()}
    raise LookupError(f"OpenCC t2s has no dictionary {name}")


@cache
def _t2s_tables() -> tuple[dict[int, str], list[str], str]:
    """OpenCC t2s as (character translation closed under itself, phrase keys, their characters)."""
    characters = {k: v for k, v in _dictionary("TSCharacters").items() if k != v}
    closed: dict[int, str] = {}
    for key, value in characters.items():
        for _ in range(_MAX_T2S_ROUNDS):
            value = "".join(characters.get(ch, ch) for ch in value)
        closed[ord(key)] = value
    phrases = _dictionary("TSPhrases")
    # A value without any of these characters is left as it is by OpenCC: the characters it
    # converts, and for phrases that change without holding one (一目瞭然), what they change.
    touched = {chr(code) for code in closed}
    for phrase, converted in phrases.items():
        if phrase != converted and not touched.intersection(phrase):
            same_length = len(phrase) == len(converted)
            touched.update(ch for i, ch in enumerate(phrase) if not same_length or ch != converted[i])
    character_class = "[" + "".join(re.escape(ch) for ch in sorted(touched)) + "]"
    return closed, sorted(phrases), character_class


def _opencc_fixpoint(value: str) -> str:
    converter = _opencc()
    for _ in range(_MAX_T2S_ROUNDS):
        converted = converter.convert(value)
        if converted == value:
            break
        value = converted
    return value


def to_simplified(s: pl.Series) -> pl.Series:
    """Traditional Chinese → simplified (OpenCC t2s), converting each distinct value once."""
    s = s.cast(pl.String)
    characters, phrases, touched = _t2s_tables()
    unique = s.drop_nulls().unique()
    candidates = unique.filter(unique.str.contains(touched))
    if candidates.is_empty():
        return s
    with_phrase = candidates.str.contains_any(phrases)
    by_character = candidates.filter(~with_phrase)
    by_phrase = candidates.filter(with_phrase)
    old = pl.concat([by_character, by_phrase])
    new = pl.concat(
        [
            pl.Series([v.translate(characters) for v in by_character.to_list()], dtype=pl.String),
            pl.Series([_opencc_fixpoint(v) for v in by_phrase.to_list()], dtype=pl.String),
        ]
    )
    changed = old != new
    if not changed.any():
        return s
    return s.replace(old.filter(changed), new.filter(changed))


def clean_text(s: pl.Series) -> pl.Series:
    """Normalise text (see `normalise_text`) and convert it to simplified Chinese."""
    normalised = pl.DataFrame({"v": s.cast(pl.String)}).select(normalise_text(pl.col("v")))
    return to_simplified(normalised.to_series().alias(s.name))
