"""Header cells as the mapping engine reads them: a comparison key, its words, and the hints it carries.

People write more into a header than the field's name: a date order (`(年/月/日)`,
`(MM/DD/YYYY)`), a unit (`(万元)`, `Amount (CNY)`), a required marker (`*`, `(必填)`), a
note that the system fills it (`(系统)`), or a clarification (`电话(手机)`). These are
parsed into `HeaderHints` instead of being deleted or kept as text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import polars as pl

DateOrder = Literal["YMD", "DMY", "MDY"]

# The characters `str.isspace()` calls whitespace: what `str.strip()` removes and `\s` matches.
STR_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)
# Decorations people add to headers: required-field stars, colons, brackets, units.
_NOISE = "*＊:：_-–—/\\.。·()（）[]【】<>《》\"'`,，、|?？#№"
_HEADER_NOISE = re.compile(rf"[\s{re.escape(_NOISE)}]+")
# The same for polars (whose `\s` leaves out U+001C-U+001F), every character written as `\x{..}`.
_HEADER_NOISE_POLARS = "[" + "".join(f"\\x{{{ord(c):X}}}" for c in STR_WHITESPACE + _NOISE) + "]+"
# Text of these blocks (ASCII and Latin, general punctuation, CJK symbols and ideographs, full-width
# forms) NFKC-normalises and lower-cases in polars exactly as in Python (tests/cleaners/mapping/
# test_headers.py checks every character); other text is left to Python, whose Unicode tables may
# be older than polars' ones.
_POLARS_BLOCKS = (
    (0x0, 0x24F),
    (0x2000, 0x2064),
    (0x2066, 0x206F),
    (0x3000, 0x303F),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xFF00, 0xFFEF),
)
_POLARS_CLASS = "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in _POLARS_BLOCKS)
_POLARS_NORMALISES_AS_PYTHON = f"^[{_POLARS_CLASS}]*$"
_BRACKETS = re.compile(r"[(（\[【<《{]([^()（）\[\]【】<>《》{}]*)[)）\]】>》}]")
_REQUIRED = re.compile(r"^\s*[*＊]|[*＊]\s*$")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[\u3400-\u9fff])|(?<=[\u3400-\u9fff])(?=[A-Za-z])")
_WORD_SPLIT = re.compile(r"[^0-9a-z\u00c0-\u024f\u3400-\u9fff\uf900-\ufaff]+")
# Chinese characters (the pattern reads the same in Python and polars).
CJK_CHARACTERS = r"[\u3400-\u9fff\uf900-\ufaff]"
_CJK = re.compile(CJK_CHARACTERS)
_ALTERNATIVES = re.compile(r"\s*(?:/|／|、|\||或|\bor\b)\s*")

# Units of money and shares: multiplier to CNY (None for a share).
_UNITS: dict[str, float | None] = {
    "元": 1.0,
    "人民币元": 1.0,
    "rmb": 1.0,
    "cny": 1.0,
    "¥": 1.0,
    "￥": 1.0,
    "人民币": 1.0,
    "千元": 1_000.0,
    "万元": 10_000.0,
    "万": 10_000.0,
    "百万元": 1_000_000.0,
    "亿元": 100_000_000.0,
    "%": None,
    "百分比": None,
    "percent": None,
}
# `单元`, `公元`, `美元` end in 元 but are no CNY unit.
_TRAILING_UNIT = re.compile(
    r"(千元|万元|百万元|亿元|人民币元|(?<![单公纪美港日欧])元|\brmb|\bcny)\s*$", re.IGNORECASE
)
_REQUIRED_WORDS = {"必填", "必须", "必填项", "required", "mandatory", "必需"}
_OPTIONAL_WORDS = {"选填", "可选", "optional", "非必填"}
_SYSTEM_WORDS = {"系统", "系统生成", "自动", "自动生成", "system", "auto", "readonly", "只读"}
_DATE_TOKEN = re.compile(r"(yyyy|yy|y|年|mm|m|月|dd|d|日|号)")
_DATE_HINT = re.compile(r"^[\symd年月日号/\-.]+$", re.IGNORECASE)
_DAY_FIRST_WORDS = re.compile(r"day\s*first|日在前|日期在前|欧洲格式", re.IGNORECASE)
_MONTH_FIRST_WORDS = re.compile(r"month\s*first|月在前|美国格式|美式", re.IGNORECASE)


def normalise_header(text: Any) -> str:
    """Reduce a header cell to a comparison key: NFKC, lower-case, decorations removed."""
    if text is None:
        return ""
    value = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return _HEADER_NOISE.sub("", value)


def normalised_headers(texts: pl.Series) -> pl.Series:
    """`normalise_header` of every text of a column ("" for null), by polars where it reads Unicode as Python does."""
    # NFKC leaves text of ASCII and ideographs as it is, and is the slowest step: others only.
    others = texts.str.contains(r"[^\x00-\x7F\x{4E00}-\x{9FFF}]").fill_null(False).arg_true()
    normalised = (
        texts.clone().scatter(others, texts.gather(others).str.normalize("NFKC")) if len(others) else texts
    )
    keys = normalised.str.to_lowercase().str.replace_all(_HEADER_NOISE_POLARS, "").fill_null("")
    left_to_python = ~texts.str.contains(_POLARS_NORMALISES_AS_PYTHON).fill_null(True)
    if left_to_python.any():
        positions = left_to_python.arg_true()
        unusual = texts.gather(positions).to_list()
        found = {text: normalise_header(text) for text in dict.fromkeys(unusual)}
        keys = keys.scatter(positions, list(map(found.__getitem__, unusual)))
    return keys


def header_may_match(texts: pl.Series, key: str) -> pl.Series:
    """Per text: could `normalise_header(text)` be the given key? False only where it surely is not.

    A cheap test of a whole column before the few texts that pass are normalised: a text whose key
    holds a letter, digit or ideograph holds a character that NFKC and lower-casing turn into it.
    """
    anchors = {c for c in key if _is_anchor(c)}
    if not anchors:
        return texts.is_not_null()
    # The rarest of them in text, so that the fewest texts pass (two when it is a letter or digit);
    # a text of other blocks always does.
    rarest = sorted(anchors, key=lambda c: -_COMMONNESS.get(c, len(_COMMONNESS)))
    rarest = rarest[: 1 if rarest[0] not in _COMMONNESS else 2]
    sources = _key_sources()
    carries = [
        texts.str.contains(f"[{_escaped(anchor)}{sources.get(anchor, '')}[^{_POLARS_CLASS}]]")
        for anchor in rarest
    ]
    return pl.select(pl.all_horizontal(carries)).to_series().fill_null(False)


# Characters of keys, commonest in text first (an ideograph, not listed, is rarer than all).
_COMMONNESS = {c: rank for rank, c in enumerate("0123456789etaoinshrdlcumwfgypbvkjxqz")}
_IDEOGRAPHS = (0x3400, 0x4DBF), (0x4E00, 0x9FFF)


def _is_anchor(char: str) -> bool:
    return (char.isascii() and char.isalnum()) or 0x4E00 <= ord(char) <= 0x9FFF


def _escaped(chars: Iterable[str]) -> str:
    return "".join(f"\\x{{{ord(c):X}}}" for c in chars)


@cache
def _key_sources() -> dict[str, str]:
    """For each ASCII letter and digit and each ideograph: the other characters (of the blocks
    polars normalises as Python does) whose compatibility decomposition, lower-cased, holds it.

    Composition never yields these characters, so a normalised text holds one only if the text
    holds it or one of its sources. (An ideograph decomposes to itself: those blocks are skipped.)
    """
    found: dict[str, set[str]] = {}
    for start, end in _POLARS_BLOCKS:
        if (start, end) in _IDEOGRAPHS:
            continue
        for code in range(start, end + 1):
            char = chr(code)
            for part in set(unicodedata.normalize("NFKD", char).lower()) - {char}:
                if _is_anchor(part):
                    found.setdefault(part, set()).add(char)
    return {part: _escaped(sorted(chars)) for part, chars in found.items()}


def header_fingerprint(header: Sequence[Any]) -> str:
    """A short hash of a header row's normalised cells: the identity of an export's layout."""
    keys = [normalise_header(c) for c in header]
    while keys and not keys[-1]:
        keys.pop()
    return hashlib.sha256("\x1f".join(keys).encode("utf-8")).hexdigest()[:16]


def header_words(text: str) -> str:
    """The words of a header, lower case, single spaces: `AccountOwner` / `account_owner` -> `account owner`."""
    value = unicodedata.normalize("NFKC", text)
    value = _CAMEL.sub(" ", value).lower()
    return " ".join(w for w in _WORD_SPLIT.split(value) if w)


def has_cjk(text: str) -> bool:
    """Whether a text holds Chinese characters (CJK headers compare by character, Latin by word)."""
    return _CJK.search(text) is not None


@dataclass(frozen=True)
class HeaderHints:
    """What a header says about its values besides naming the field."""

    date_order: DateOrder | None = None
    scale: float | None = None  # multiplier to CNY of a money unit (万元 -> 10000)
    unit: str | None = None  # the unit as written (元, 万元, %, CNY)
    required: bool = False
    optional: bool = False
    system: bool = False
    notes: tuple[str, ...] = ()  # bracketed text that is no hint: a clarification (电话(手机))

    def as_dict(self) -> dict[str, Any]:
        """The hints that are set, for lineage and the preview."""
        values: dict[str, Any] = {
            "date_order": self.date_order,
            "scale": self.scale,
            "unit": self.unit,
            "required": self.required or None,
            "optional": self.optional or None,
            "system": self.system or None,
            "notes": list(self.notes) or None,
        }
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class ParsedHeader:
    """A header cell: its text, comparison key (hints removed), words, hints and alternatives."""

    text: str
    key: str
    words: str
    hints: HeaderHints = field(default_factory=HeaderHints)
    # `手机/微信`, `电话或手机`: each alternative's key, in order.
    alternatives: tuple[str, ...] = ()
    # Bracketed clarifications as keys (`电话(手机)` -> `手机`).
    note_keys: tuple[str, ...] = ()


def date_order(hint: str) -> DateOrder | None:
    """The order of year, month and day a hint such as `年/月/日`, `DD/MM/YYYY` or `day first` states."""
    text = unicodedata.normalize("NFKC", hint).strip().lower()
    if _DAY_FIRST_WORDS.search(text):
        return "DMY"
    if _MONTH_FIRST_WORDS.search(text):
        return "MDY"
    if not _DATE_HINT.match(text):
        return None
    order = ""
    for token in _DATE_TOKEN.findall(text):
        letter = {"年": "y", "月": "m", "日": "d", "号": "d"}.get(token, token[0])
        if letter not in order:
            order += letter
    if sorted(order) != ["d", "m", "y"]:
        return None
    return {"ymd": "YMD", "dmy": "DMY", "mdy": "MDY"}.get(order)  # type: ignore[return-value]


def _classify_hint(content: str, hints: dict[str, Any], notes: list[str]) -> None:
    text = unicodedata.normalize("NFKC", content).strip()
    lowered = text.lower()
    if not text:
        return
    order = date_order(text)
    if order is not None:
        hints["date_order"] = order
        return
    compact = lowered.replace(" ", "")
    for word in (compact, compact.removeprefix("单位").removeprefix("单位:"), compact.removeprefix("in")):
        if word in _UNITS:
            hints["unit"] = text
            hints["scale"] = _UNITS[word]
            return
    if compact in _REQUIRED_WORDS or compact in {"*", "＊"}:
        hints["required"] = True
        return
    if compact in _OPTIONAL_WORDS:
        hints["optional"] = True
        return
    if compact in _SYSTEM_WORDS:
        hints["system"] = True
        return
    notes.append(text)


def parse_header(text: Any) -> ParsedHeader:
    """Parse a header cell into its key (hints removed), words, hints, alternatives and clarifications."""
    raw = "" if text is None else unicodedata.normalize("NFKC", str(text)).strip()
    hints: dict[str, Any] = {}
    notes: list[str] = []
    if _REQUIRED.search(raw):
        hints["required"] = True
    outside = raw
    for match in _BRACKETS.finditer(raw):
        _classify_hint(match.group(1), hints, notes)
    outside = _BRACKETS.sub(" ", raw).strip(" *＊:：")
    # A unit written without brackets at the end: `金额万元`, `Amount CNY`.
    trailing = _TRAILING_UNIT.search(outside)
    if trailing and "unit" not in hints and normalise_header(outside[: trailing.start()]):
        unit = trailing.group(1)
        hints["unit"], hints["scale"] = unit, _UNITS[unit.lower()]
        outside = outside[: trailing.start()]
    key = normalise_header(outside) or normalise_header(raw)
    parts = [normalise_header(p) for p in _ALTERNATIVES.split(outside)]
    alternatives = tuple(p for p in parts if p) if len([p for p in parts if p]) > 1 else ()
    return ParsedHeader(
        text=raw,
        key=key,
        words=header_words(outside) or header_words(raw),
        hints=HeaderHints(notes=tuple(notes), **hints),
        alternatives=alternatives,
        note_keys=tuple(k for k in (normalise_header(n) for n in notes) if k),
    )
