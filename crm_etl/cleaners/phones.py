"""Classify and normalise raw phone cells from Chinese B2B customer exports."""

from __future__ import annotations

import logging
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
import polars as pl
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberType, ValidationResult

from crm_etl.cleaners.lossy_numbers import is_lossy_number, lossy_cells

logger = logging.getLogger(__name__)

PHONE_REASONS: frozenset[str] = frozenset(
    {
        "phone_placeholder",
        "phone_invalid_length",
        "phone_invalid_prefix",
        "phone_all_same_digits",
        "phone_no_area_code",
        "phone_unparseable",
        "phone_partially_invalid",
        # A number cell a spreadsheet wrote with digits lost ('1.39123E+10'): the real number is unknown.
        "phone_lossy_number",
    }
)

OUTPUT_SCHEMA: dict[str, pl.DataType] = {
    "mobile": pl.String(),
    "mobile_national": pl.String(),
    "landline": pl.String(),
    "phone_kind": pl.String(),
    "other_phones": pl.List(pl.String()),
    "phone_reason": pl.String(),
}

# A phone cell longer than this is pasted text (notes, a whole address book), not a phone.
_MAX_CELL_CHARS = 1000
# "00" + the 15 digits E.164 allows + a stray trunk "0" after the country code.
_MAX_NUMBER_DIGITS = 18
_MAX_EXT_DIGITS = 6

_MOBILE_PREFIX = re.compile(r"1[3-9]")
# Assigned mainland mobile ranges, from the metadata phonenumbers ships, so the fast path
# and the phonenumbers path agree on which prefixes exist (120… and 140… do not).
_CN_MOBILE_RANGES: str = (
    getattr(getattr(PhoneMetadata.metadata_for_region("CN"), "mobile", None), "national_number_pattern", None)
    or r"1[3-9]\d{9}"
)
_CN_MOBILE_RANGES_RE = re.compile(_CN_MOBILE_RANGES)

_SERVICE_TYPES = frozenset(
    {
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.UAN,
    }
)
_LENGTH_PROBLEMS = frozenset(
    {ValidationResult.TOO_SHORT, ValidationResult.TOO_LONG, ValidationResult.INVALID_LENGTH}
)
_PARSE_ERROR_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "phone_invalid_prefix",
    NumberParseException.TOO_SHORT_AFTER_IDD: "phone_invalid_length",
    NumberParseException.TOO_SHORT_NSN: "phone_invalid_length",
    NumberParseException.TOO_LONG: "phone_invalid_length",
}

# Compared after NFKC and lower-casing; "0" and "00" are what Excel shows for an empty number.
_PLACEHOLDERS = frozenset(
    {
        "无", "暂无", "没有", "空", "空号", "不详", "未知", "未提供", "保密", "无电话", "暂无电话",
        "无号码", "none", "null", "nil", "na", "n/a", "n.a.", "nan", "#n/a", "-", "--", "---",
        "/", "//", "\\", "0", "00", "?", "??", "x", "xx", "xxx", "*", "**", "***", ".", "。",
    }
)  # fmt: skip
_PLACEHOLDER_SPLIT = re.compile(r"[\s,;、/|]+")
_ONLY_PUNCTUATION = re.compile(r"[\W_]+")
_ASCII_DIGIT = re.compile(r"[0-9]")
_DASH_CHARS = "‐‑‒–—―−﹘ー"
_DASHES = str.maketrans(dict.fromkeys(_DASH_CHARS, "-"))
_QUOTES = "'\"`‘’“”"
_EXCEL_INTEGRAL_FLOAT = re.compile(r"([0-9]+)\.0+")
_EXCEL_SCIENTIFIC = re.compile(r"[0-9](?:\.[0-9]+)?e\+?[0-9]{1,2}")

_CJK_LABELS = (
    "手机号码|手机号|手机|移动电话|联系电话|联系方式|电话号码|固定电话|办公电话|公司电话|"
    "单位电话|家庭电话|电话|座机|固话|宅电|传真|号码|微信同号|同微信|微信"
)
_LABEL = re.compile(
    rf"(?:{_CJK_LABELS}"
    r"|(?<![a-z])(?:telephone|tel|phone|mobile|mob|cell|fax|hp|no)(?![a-z])\.?"
    r"|(?<![a-z])[mtfhpo](?![a-z])\s*(?=:))\s*:?"
)
_TOKEN = re.compile(
    r"(?P<ext>(?:;\s*ext\s*=|ext(?:ension)?\.?|分机号?|转|(?<![a-z])x|\#)\s*[:.]?\s*(?=[0-9]))"
    r"|(?P<digits>[0-9]+)"
    r"|(?P<plus>\+)"
    r"|(?P<open>\()"
    r"|(?P<close>\))"
    r"|(?P<hard>[,;、|\r\n]|或|及|和)"
    r"|(?P<soft>(?:[^\S\r\n]|[-./])+)"
    r"|(?P<junk>.)",
    re.DOTALL,
)


class _Number(NamedTuple):
    """One classified number: either e164 and kind are set, or reason is."""

    e164: str | None
    kind: str | None
    national: str | None
    reason: str | None


class _Group(NamedTuple):
    """A run of digits and what stood right before it."""

    digits: str
    plus: bool
    ext: bool
    dash: bool


class _Cell(NamedTuple):
    mobile: str | None
    mobile_national: str | None
    landline: str | None
    phone_kind: str | None
    other_phones: list[str]
    phone_reason: str | None


_EMPTY_CELL = _Cell(None, None, None, None, [], None)


def _rejected_cell(reason: str) -> _Cell:
    return _Cell(None, None, None, None, [], reason)


def _rejected(reason: str) -> _Number:
    return _Number(None, None, None, reason)


def _all_same_digits(digits: str) -> bool:
    return len(digits) >= 3 and digits.count(digits[0]) == len(digits)


def normalise_phones(values: pl.Series, region: str = "CN") -> pl.DataFrame:
    """Classify and normalise raw phone cells; one output row per input row, same order."""
    region = region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"normalise_phones: unknown region {region!r}")
    try:
        text = values.cast(pl.String, strict=False)
    except pl.exceptions.PolarsError:
        # Nested or object columns cannot be phone cells; reject them without guessing.
        return (
            values.is_null()
            .to_frame("missing")
            .select(
                *(pl.lit(None, OUTPUT_SCHEMA[name]).alias(name) for name in _Cell._fields[:4]),
                pl.lit([], OUTPUT_SCHEMA["other_phones"]).alias("other_phones"),
                pl.when(pl.col("missing"))
                .then(None)
                .otherwise(pl.lit("phone_unparseable"))
                .alias("phone_reason"),
            )
        )
    lookup = _normalise_unique(text.unique(maintain_order=True).drop_nulls(), region)
    return (
        text.alias("raw")
        .to_frame()
        .join(lookup, on="raw", how="left", maintain_order="left")
        .select(
            pl.col(name).fill_null(pl.lit([], dtype)) if name == "other_phones" else pl.col(name)
            for name, dtype in OUTPUT_SCHEMA.items()
        )
    )


def _normalise_unique(uniques: pl.Series, region: str) -> pl.DataFrame:
    """Normalise distinct raw cells: common mainland shapes vectorised, the rest one by one."""
    if region == "CN":
        # Bare mainland mobiles, the bulk of any export, skip even the vectorised parsing.
        bare = uniques.str.contains(rf"^(?:{_CN_MOBILE_RANGES})$")
        plain = (
            uniques.filter(bare)
            .alias("raw")
            .to_frame()
            .select(
                "raw",
                ("+86" + pl.col("raw")).alias("mobile"),
                pl.col("raw").alias("mobile_national"),
                pl.lit(None, pl.String).alias("landline"),
                pl.lit("mobile").alias("phone_kind"),
                pl.lit([], OUTPUT_SCHEMA["other_phones"]).alias("other_phones"),
                pl.lit(None, pl.String).alias("phone_reason"),
            )
        )
        rest = uniques.filter(~bare)
        fast = pl.concat([plain, _fast_cells(rest)], how="vertical")
        slow_raw = rest.filter(~rest.is_in(fast.get_column("raw").implode())).to_list()
    else:
        fast, slow_raw = _fast_cells(uniques.clear()), uniques.to_list()
    cells = [_normalise_cell(raw, region) for raw in slow_raw]
    columns: dict[str, list[str | None]] = {"raw": slow_raw}
    for name in ("mobile", "mobile_national", "landline", "phone_kind", "phone_reason"):
        columns[name] = [getattr(cell, name) for cell in cells]
    # Joined and split again: building a list column from Python lists is slow in polars.
    columns["other_phones"] = [",".join(cell.other_phones) for cell in cells]
    slow = (
        pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
        .with_columns(
            pl.when(pl.col("other_phones") == "")
            .then(pl.lit([], OUTPUT_SCHEMA["other_phones"]))
            .otherwise(pl.col("other_phones").str.split(","))
            .alias("other_phones")
        )
        .select("raw", *OUTPUT_SCHEMA)
    )
    logger.debug("phones: %d distinct cells vectorised, %d parsed one by one", fast.height, slow.height)
    return pl.concat([fast, slow], how="vertical")


# The vectorised path. It accepts a cell only when every number in it is valid on its own and
# unambiguous; anything it is unsure of (placeholders, invalid or partial numbers, foreign numbers,
# odd separators) goes to `_normalise_cell`, which stays the reference. A test checks that both paths
# agree on every cell the vectorised one accepts.
_RUST_DIGIT = re.compile(r"\\d")


def _desc_pattern(name: str) -> tuple[str, tuple[int, ...]] | None:
    """A CN number-type pattern from phonenumbers' metadata, anchored, ASCII digits only."""
    desc = getattr(PhoneMetadata.metadata_for_region("CN"), name, None)
    if desc is None or not desc.national_number_pattern:
        return None
    pattern = _RUST_DIGIT.sub("[0-9]", desc.national_number_pattern)
    return f"^(?:{pattern})$", tuple(length for length in desc.possible_length if length > 0)


# Checked in phonenumbers' own order (`number_type`): the first matching type wins.
_CN_TYPES: list[tuple[str, str, tuple[int, ...]]] = [
    (kind, *found)
    for name, kind in (
        ("premium_rate", "service"),
        ("toll_free", "service"),
        ("shared_cost", "service"),
        ("voip", "landline"),
        ("personal_number", "landline"),
        ("pager", "landline"),
        ("uan", "service"),
        ("voicemail", "landline"),
        ("fixed_line", "landline"),
    )
    if (found := _desc_pattern(name)) is not None
]
_CN_GENERAL = _desc_pattern("general_desc") or (r"^[0-9]+$", ())
_CJK_LABEL_RUN = rf"(?:{_CJK_LABELS})\s*:?"
_ASCII_LEADING_LABEL = r"^(?:(?:telephone|tel|phone|mobile|mob|cell|fax|hp|no)\.?|[mtfhpo]\s*(?::))\s*:?\s*"
_LEADING_MOBILE = rf"^((?:\+86|0086|86)?\s*(?:{_CN_MOBILE_RANGES}))\s+([0-9(+])"
_HARD_SPLIT = r"[,;、|\r\n/]|或|及|和"
_EXT_SPLIT = r"^(.*?[0-9)])\s*(?:(?:转|分机号?|ext(?:ension)?\.?|x|#)\s*[:.]?\s*|-\s*)([0-9]{1,6})$"


def _matches(expr: pl.Expr, pattern: str, lengths: tuple[int, ...]) -> pl.Expr:
    length_ok = expr.str.len_chars().is_in(list(lengths)) if lengths else pl.lit(value=True)
    return length_ok & expr.str.contains(pattern)


def _classify_columns(frame: pl.DataFrame, number: str, prefix: str) -> pl.DataFrame:
    """Add `<prefix>_nsn` and `<prefix>_kind` for the `+`/digits column `number`; kind null when unsure.

    Built in steps over materialised columns: polars does not share sub-expressions inside `when`.
    """
    nsn, kind = f"{prefix}_nsn", f"{prefix}_kind"
    digits = pl.col("_digits")
    plus = pl.col(number).str.starts_with("+")
    frame = frame.with_columns(pl.col(number).str.strip_prefix("+").alias("_digits"), plus.alias("_plus"))
    frame = frame.with_columns(
        pl.when(pl.col("_plus") & digits.str.starts_with("86"))
        .then(digits.str.slice(2))
        .when(~pl.col("_plus") & digits.str.starts_with("0086"))
        .then(digits.str.slice(4))
        .when(~pl.col("_plus") & digits.str.starts_with("86") & (digits.str.len_chars() >= 12))
        .then(digits.str.slice(2))
        .when(~pl.col("_plus") & ~digits.str.starts_with("00"))
        .then(digits)
        .alias(nsn)
    ).with_columns(pl.col(nsn).str.strip_prefix("0"))
    national = pl.col(nsn)
    # A string is one digit repeated exactly when dropping its first or its last character gives the same.
    same_digits = national.str.slice(1) == national.str.head(-1)
    usable = (
        (national.str.len_chars() >= 9)
        & (digits.str.len_chars() <= _MAX_NUMBER_DIGITS)
        & ~same_digits
        & ~national.str.starts_with("0")
        & _matches(national, *_CN_GENERAL)
    )
    # Mobile ranges first, then phonenumbers' type order; the first match wins.
    typed = pl.when(~usable).then(None).when(national.str.contains(rf"^(?:{_CN_MOBILE_RANGES})$"))
    chained = typed.then(pl.lit("mobile")).when(national.str.contains("^1[3-9]")).then(None)
    for type_kind, pattern, lengths in _CN_TYPES:
        chained = chained.when(_matches(national, pattern, lengths)).then(pl.lit(type_kind))
    return frame.with_columns(chained.otherwise(None).alias(kind)).drop("_digits", "_plus")


def _reason_expr(digits: pl.Expr) -> pl.Expr:
    """Why a bare run of ASCII digits is not a mainland number, as `_classify` says; null when unsure."""
    length = digits.str.len_chars()
    mobile_shaped = digits.str.contains("^1[3-9]")
    return (
        pl.when(digits.is_null())
        .then(None)
        .when(length > _MAX_NUMBER_DIGITS)
        .then(pl.lit("phone_invalid_length"))
        .when(length < 3)
        .then(None)
        .when(digits.str.slice(1) == digits.str.head(-1))
        .then(pl.lit("phone_all_same_digits"))
        .when(digits.str.starts_with("0") | (digits.str.starts_with("86") & (length >= 12)))
        .then(None)
        .when(mobile_shaped & (length != 11))
        .then(pl.lit("phone_invalid_length"))
        .when(mobile_shaped & ~digits.str.contains(rf"^(?:{_CN_MOBILE_RANGES})$"))
        .then(pl.lit("phone_invalid_prefix"))
        .when(mobile_shaped)
        .then(None)
        .when(length.is_in([7, 8]))
        .then(pl.lit("phone_no_area_code"))
        .when(length < 7)
        .then(pl.lit("phone_invalid_length"))
        # No number type matched (else the cell would be valid): phonenumbers' possible-length verdict.
        .when(length.is_in(list(_CN_GENERAL[1])))
        .then(pl.lit("phone_invalid_prefix"))
        .otherwise(pl.lit("phone_invalid_length"))
    )


def _fast_cells(uniques: pl.Series) -> pl.DataFrame:
    """Vectorised normalisation of the common mainland shapes; returns only the cells it is sure of."""
    text = (
        pl.col("raw")
        .str.normalize("NFKC")
        .str.replace_all(f"[{_DASH_CHARS}]", "-")
        .str.to_lowercase()
        .str.strip_chars()
        .str.strip_chars(_QUOTES)
        .str.strip_chars()
        .str.replace(r"^([0-9]+)\.0+$", "$1")
        .str.replace(r"^([0-9])\.([0-9]+)e\+?([0-9]{1,2})$", "$1$2\u0000$3")
        .str.replace_all(_CJK_LABEL_RUN, ",")
        .str.replace(_ASCII_LEADING_LABEL, ",")
    )
    # Excel's scientific rendering ('1.3800138e+10'), split above into mantissa digits and exponent.
    mantissa = pl.col("text").str.extract("^([0-9]+)\u0000", 1)
    zeros = pl.col("text").str.extract("\u0000([0-9]+)$", 1).cast(pl.Int32) - mantissa.str.len_chars() + 1
    # Digits a spreadsheet lost are not restored here: `_normalise_cell` names the loss.
    uniques = uniques.filter(~lossy_cells(uniques))
    pieces = (
        uniques.alias("raw")
        .to_frame()
        .filter(pl.col("raw").str.len_chars() <= _MAX_CELL_CHARS)
        .with_row_index("cell")
        .with_columns(text.alias("text"))
        .with_columns(
            pl.when(zeros >= 0)
            .then(mantissa + pl.lit("0").repeat_by(zeros.clip(0)).list.join(""))
            .otherwise("text")
            .alias("text")
        )
        # 'mobile landline' separated by spaces only: a full mobile first is a number of its own.
        .with_columns(pl.col("text").str.replace(_LEADING_MOBILE, "$1,$2"))
        .filter(pl.col("text").str.contains("[0-9]"))
        .with_columns(
            pl.col("text").str.replace_all(_HARD_SPLIT, "\u0000").str.split("\u0000").alias("piece")
        )
        .explode("piece")
        .with_columns(pl.col("piece").str.strip_chars())
        .filter(pl.col("piece") != "")
        .with_row_index("order")
    )
    # Dots stay: a dot inside a cell is too often a float artefact or a sentence to read it here.
    separators = r"[\s()-]"
    ext_parts = pl.col("piece").str.extract_groups(_EXT_SPLIT)
    pieces = pieces.with_columns(
        pl.col("piece").str.replace_all(separators, "").alias("_whole"),
        ext_parts.struct.field("1").str.replace_all(separators, "").alias("_body"),
        ext_parts.struct.field("2").alias("_ext"),
    ).with_columns(pl.col(c).str.extract(r"^(\+?[0-9]+)$", 1) for c in ("_whole", "_body"))
    pieces = _classify_columns(_classify_columns(pieces, "_whole", "whole"), "_body", "body")
    whole_ok = pl.col("whole_kind").is_not_null()
    # An extension only follows a landline or service number; a whole reading beats one with an extension.
    ext_ok = ~whole_ok & pl.col("body_kind").is_not_null() & (pl.col("body_kind") != "mobile")
    classified = pieces.select(
        "cell",
        "order",
        "raw",
        pl.col("piece").str.extract(r"^([0-9]+)$", 1).alias("piece_digits"),
        pl.when(whole_ok).then("whole_kind").when(ext_ok).then("body_kind").alias("kind"),
        pl.when(whole_ok).then("whole_nsn").when(ext_ok).then("body_nsn").alias("national"),
        (
            "+86"
            + pl.when(whole_ok)
            .then("whole_nsn")
            .when(ext_ok)
            .then(pl.col("body_nsn") + ";ext=" + pl.col("_ext"))
        ).alias("e164"),
    )
    classified = classified.with_columns(_reason_expr(pl.col("piece_digits")).alias("reason"))
    is_mobile = pl.col("kind") == "mobile"
    cells = (
        classified.group_by("cell", maintain_order=True)
        .agg(
            pl.col("raw").first(),
            pl.col("e164").filter(is_mobile).first().alias("mobile"),
            pl.col("national").filter(is_mobile).first().alias("mobile_national"),
            pl.col("e164").filter(~is_mobile).first().alias("landline"),
            pl.col("kind").filter(~is_mobile).first().alias("other_kind"),
            pl.col("kind").is_not_null().all().alias("valid"),
            # A cell that is one bare run of digits gets its rejection reason here.
            pl.when(pl.len() == 1).then(pl.col("reason").first()).alias("phone_reason"),
        )
        # Cells where any piece is unsure go to the one-by-one path whole.
        .filter(pl.col("valid") | pl.col("phone_reason").is_not_null())
    )
    others = (
        classified.join(cells.select("cell", "mobile", "landline"), on="cell")
        .filter(
            pl.col("e164").is_not_null()
            & (pl.col("e164") != pl.col("mobile")).fill_null(value=True)
            & (pl.col("e164") != pl.col("landline")).fill_null(value=True)
        )
        .sort("order")
        .group_by("cell")
        .agg(pl.col("e164").unique(maintain_order=True).alias("other_phones"))
    )
    return (
        cells.join(others, on="cell", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("mobile").is_not_null())
            .then(pl.lit("mobile"))
            .otherwise("other_kind")
            .alias("phone_kind"),
            pl.col("other_phones").fill_null(pl.lit([], OUTPUT_SCHEMA["other_phones"])),
            pl.when("valid").then(None).otherwise("phone_reason").alias("phone_reason"),
        )
        .select("raw", *(pl.col(name).cast(dtype) for name, dtype in OUTPUT_SCHEMA.items()))
    )


def _normalise_cell(raw: str, region: str) -> _Cell:
    """Classify one distinct raw cell."""
    if len(raw) > _MAX_CELL_CHARS:
        return _rejected_cell("phone_unparseable")
    if is_lossy_number(raw):
        return _rejected_cell("phone_lossy_number")
    text = unicodedata.normalize("NFKC", raw).translate(_DASHES).lower().strip().strip(_QUOTES)
    text = _excel_number(text.strip())
    if not text:
        return _EMPTY_CELL
    if not _ASCII_DIGIT.search(text) or text in _PLACEHOLDERS:
        return _rejected_cell("phone_placeholder" if _is_placeholder(text) else "phone_unparseable")
    numbers: list[_Number] = []
    reasons: list[str] = []
    for chunk in _chunks(_LABEL.sub(",", text)):
        for number, invalid_reason in _parse_chunk(chunk, region):
            if number is not None:
                numbers.append(number)
            else:
                reasons.append(invalid_reason)
    if not numbers:
        return _rejected_cell(reasons[0] if reasons else "phone_unparseable")
    return _assemble(numbers, "phone_partially_invalid" if reasons else None)


def _assemble(numbers: list[_Number], reason: str | None) -> _Cell:
    """Pick the primary mobile and landline; everything else valid goes to other_phones."""
    mobile = next((n for n in numbers if n.kind == "mobile"), None)
    landline = next((n for n in numbers if n.kind != "mobile"), None)
    seen = {n.e164 for n in (mobile, landline) if n is not None}
    others: list[str] = []
    for number in numbers:
        if number is not mobile and number is not landline and number.e164 not in seen:
            others.append(number.e164 or "")
            seen.add(number.e164)
    kind = "mobile" if mobile is not None else landline.kind if landline is not None else None
    return _Cell(
        mobile=mobile.e164 if mobile else None,
        mobile_national=mobile.national if mobile else None,
        landline=landline.e164 if landline else None,
        phone_kind=kind,
        other_phones=others,
        phone_reason=reason,
    )


def _is_placeholder(text: str) -> bool:
    """Whether a cell without a usable number just says 'no phone'."""
    if text in _PLACEHOLDERS:
        return True
    parts = [part for part in _PLACEHOLDER_SPLIT.split(text) if part]
    return all(part in _PLACEHOLDERS or _ONLY_PUNCTUATION.fullmatch(part) for part in parts)


def _excel_number(text: str) -> str:
    """Undo Excel's float rendering of a number cell: '13800138000.0', '1.3800138e+10'.

    Renderings that lost digits ('1.39123e+10') never get here: see cleaners/lossy_numbers.py.
    """
    integral = _EXCEL_INTEGRAL_FLOAT.fullmatch(text)
    if integral:
        return integral.group(1)
    if _EXCEL_SCIENTIFIC.fullmatch(text):
        try:
            value = Decimal(text)
        except InvalidOperation:
            return text
        if value == value.to_integral_value():
            return str(int(value))
    return text


def _chunks(text: str) -> list[list[_Group]]:
    """Split a cell into chunks at hard separators; each chunk is a list of digit groups."""
    chunks: list[list[_Group]] = [[]]
    plus = ext = dash = False
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.lastgroup
        if token == "digits":
            digits = match.group()
            # "(86)" in front of a number is the country code written without "+".
            plus = plus or (depth > 0 and digits == "86")
            short = len(digits) <= _MAX_EXT_DIGITS
            chunks[-1].append(_Group(digits, plus, ext and short, dash and short))
            plus = ext = dash = False
        elif token == "plus":
            plus = True
        elif token == "ext":
            ext = True
        elif token == "open":
            depth += 1
        elif token == "close":
            depth = max(0, depth - 1)
        elif token == "soft":
            dash = dash or "-" in match.group()
        else:
            if chunks[-1]:
                chunks.append([])
            plus = ext = dash = False
    return [chunk for chunk in chunks if chunk]


def _parse_chunk(groups: list[_Group], region: str) -> list[tuple[_Number | None, str]]:
    """Segment digit groups into numbers, preferring the reading where most digits are valid.

    Groups joined by spaces, dashes, dots, slashes or parentheses may be one number
    ("0755 8888 6666") or several ("13800138000 13900139000"); a dynamic programme picks
    the segmentation covering the most digits with valid numbers, then the fewest numbers.
    Returns, in cell order, valid numbers as (number, "") and invalid runs as (None, reason).
    """
    n = len(groups)
    # score[i]: best (valid digits, -numbers, -extensions) for groups[i:]
    score: list[tuple[int, int, int]] = [(0, 0, 0)] * (n + 1)
    pick: list[tuple[int, _Number | None, str]] = [(n, None, "")] * (n + 1)
    for i in range(n - 1, -1, -1):
        best = score[i + 1]
        best_pick: tuple[int, _Number | None, str] = (i + 1, None, "")
        if not groups[i].ext:
            digits = ""
            for j in range(i, n):
                if j > i and (groups[j].plus or groups[j].ext):
                    break
                digits += groups[j].digits
                if len(digits) > _MAX_NUMBER_DIGITS:
                    break
                number = _classify(digits, groups[i].plus, region)
                if number.e164 is None:
                    continue
                options = [(j + 1, "")]
                if j + 1 < n and number.kind != "mobile":
                    following = groups[j + 1]
                    if (following.ext or following.dash) and not following.plus:
                        options.append((j + 2, following.digits))
                for after, ext in options:
                    rest = score[after]
                    candidate = (rest[0] + len(digits) + len(ext), rest[1] - 1, rest[2] - bool(ext))
                    if candidate > best:
                        best, best_pick = candidate, (after, number, ext)
        score[i], pick[i] = best, best_pick

    parsed: list[tuple[_Number | None, str]] = []
    invalid_digits, invalid_plus = "", False
    i = 0
    while i < n:
        after, chosen, ext = pick[i]
        if chosen is not None or groups[i].plus:
            # An invalid run ends at a valid number or at a new "+".
            if invalid_digits:
                parsed.append((None, _invalid_reason(invalid_digits, invalid_plus, region)))
            invalid_digits = ""
        if chosen is None:
            if not invalid_digits:
                invalid_plus = groups[i].plus
            invalid_digits += groups[i].digits
        else:
            parsed.append((chosen._replace(e164=f"{chosen.e164};ext={ext}") if ext else chosen, ""))
        i = after
    if invalid_digits:
        parsed.append((None, _invalid_reason(invalid_digits, invalid_plus, region)))
    return parsed


def _invalid_reason(digits: str, plus: bool, region: str) -> str:
    """Reason code for a run of digits that did not form a valid number."""
    return _classify(digits, plus, region).reason or "phone_unparseable"


@lru_cache(maxsize=1 << 16)
def _classify(digits: str, plus: bool, region: str) -> _Number:
    """Validate one candidate number given as its digits and whether a '+' preceded it."""
    if len(digits) > _MAX_NUMBER_DIGITS:
        return _rejected("phone_invalid_length")
    if _all_same_digits(digits):
        return _rejected("phone_all_same_digits")
    if region == "CN" and not plus:
        if digits.startswith("00"):
            return _classify(digits[2:], True, region)
        if digits.startswith("86") and len(digits) >= 12:
            # "86 138…" / "(86)10…": mainland national numbers never start with 86.
            international = _classify(digits, True, region)
            if international.e164 is not None:
                return international
        return _classify_cn(digits[1:] if digits.startswith("0") else digits)
    if plus and digits.startswith("86"):
        nsn = digits[2:]
        # "+86 (0)21 …": the trunk prefix does not belong after the country code.
        return _classify_cn(nsn[1:] if nsn.startswith("0") else nsn)
    try:
        number = phonenumbers.parse(("+" if plus else "") + digits, region)
    except NumberParseException as exc:
        return _rejected(_PARSE_ERROR_REASONS.get(exc.error_type, "phone_unparseable"))
    if number.country_code == 86:
        return _classify_cn(phonenumbers.national_significant_number(number))
    return _from_phonenumber(number)


def _classify_cn(nsn: str) -> _Number:
    """Validate a mainland national significant number (no trunk '0', no '+86')."""
    if not nsn:
        return _rejected("phone_invalid_length")
    if _all_same_digits(nsn):
        return _rejected("phone_all_same_digits")
    if nsn[0] == "0":
        return _rejected("phone_invalid_prefix")
    looks_mobile = _MOBILE_PREFIX.match(nsn) is not None
    if looks_mobile and len(nsn) != 11:
        return _rejected("phone_invalid_length")
    if len(nsn) in (7, 8):
        # A local number without its area code: flag it, never guess the city.
        return _rejected("phone_no_area_code")
    if len(nsn) < 7:
        return _rejected("phone_invalid_length")
    if looks_mobile:
        if _CN_MOBILE_RANGES_RE.fullmatch(nsn):
            return _Number("+86" + nsn, "mobile", nsn, None)
        return _rejected("phone_invalid_prefix")
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(nsn))
    # 86 belongs to one region only, so a number with a known type is a valid one.
    number_type = phonenumbers.number_type(number)
    if number_type == PhoneNumberType.UNKNOWN:
        return _rejected(_invalid_number_reason(number))
    return _Number("+86" + nsn, _kind(number_type), nsn, None)


def _from_phonenumber(number: phonenumbers.PhoneNumber) -> _Number:
    """Classify a parsed number of any region with phonenumbers' metadata."""
    if not phonenumbers.is_valid_number(number):
        return _rejected(_invalid_number_reason(number))
    nsn = phonenumbers.national_significant_number(number)
    if _all_same_digits(nsn):
        return _rejected("phone_all_same_digits")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return _Number(e164, _kind(phonenumbers.number_type(number)), nsn, None)


def _invalid_number_reason(number: phonenumbers.PhoneNumber) -> str:
    if phonenumbers.is_possible_number_with_reason(number) in _LENGTH_PROBLEMS:
        return "phone_invalid_length"
    return "phone_invalid_prefix"


def _kind(number_type: int) -> str:
    if number_type == PhoneNumberType.MOBILE:
        return "mobile"
    if number_type in _SERVICE_TYPES:
        return "service"
    # FIXED_LINE_OR_MOBILE (North America), VOIP, pagers …: not provably a mobile.
    return "landline"
