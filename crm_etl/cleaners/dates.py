"""Parse raw date cells from Chinese B2B customer exports into dates."""

from __future__ import annotations

import datetime
import logging
import re
import warnings
import zoneinfo

import polars as pl
from dateutil import parser as dateutil_parser

logger = logging.getLogger(__name__)

DATE_REASONS: frozenset[str] = frozenset(
    {
        "date_placeholder",
        "date_invalid",
        "date_unparseable",
        "date_ambiguous_dmy",
        "date_two_digit_year",
        "date_incomplete",
        "date_out_of_range",
    }
)

# Excel's 1900 system counts from 1899-12-30 because it treats 1900 as a leap year (a Lotus
# 1-2-3 quirk): serial 60 is the fictitious 1900-02-29 and serials below it are off by one.
_EXCEL_1900_DAYS_TO_UNIX = 25569
_EXCEL_1904_DAYS_TO_UNIX = 24107
_EXCEL_FICTITIOUS_LEAP_DAY = 60
_EXCEL_MAX_SERIAL = 109574  # 2199-12-31: anything larger is not a plausible serial
_MIN_YEAR = 1000
_MAX_FALLBACK_CHARS = 64

# Compared after full-width folding, stripping and lower-casing.
_PLACEHOLDERS = [
    "无", "暂无", "没有", "空", "不详", "未知", "未填", "待定", "-", "--", "---", "/", "?", "n/a",
    "na", "n.a.", "none", "null", "nil", "nan", "nat", "#n/a", "#value!", "unknown", "tbd",
]  # fmt: skip
_ZEROS = r"^0+(?:[-/. ]0+)*$"

# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space, as typed with a Chinese IME.
_FULL_WIDTH = {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)} | {"\u3000": " "}

_TIME = (
    r"(?:t| )+(?P<hh>[0-9]{1,2})[:时](?P<mi>[0-9]{2})"
    r"(?:[:分](?P<ss>[0-9]{2})(?:[.,][0-9]+)?秒?)?"
)
_ZONE = r" ?(?P<zone>z|utc|gmt|[+-][0-9]{2}(?::?[0-9]{2})?)?"
_YMD = (
    r"^(?P<y>[0-9]{4})(?:[-/.]|年) ?(?P<m>[0-9]{1,2})(?:[-/.]|月) ?(?P<d>[0-9]{1,2})[日号]?"
    rf"(?:{_TIME}{_ZONE})?$"
)
_NUMBER = r"^(?P<n>[0-9]{1,19})(?:\.(?P<frac>[0-9]*))?$"
_DMY = rf"^(?P<a>[0-9]{{1,2}})[-/.](?P<b>[0-9]{{1,2}})[-/.](?P<y>[0-9]{{4}})(?:{_TIME})?$"
_MONTH_NAME = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_MONTH = rf"(?P<mon>{_MONTH_NAME})"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,? )?"
_ORDINAL = r"(?:st|nd|rd|th)?"
_MONTH_FIRST = rf"^{_WEEKDAY}{_MONTH}[ /-]?(?P<d>[0-9]{{1,2}}){_ORDINAL},?[ /-]?(?P<y>[0-9]{{4}})$"
_DAY_FIRST = rf"^{_WEEKDAY}(?P<d>[0-9]{{1,2}}){_ORDINAL}[ /-]?(?:of )?{_MONTH}[ ,/-]*(?P<y>[0-9]{{4}})$"
_MONTHS = {
    "jan": "1", "feb": "2", "mar": "3", "apr": "4", "may": "5", "jun": "6",
    "jul": "7", "aug": "8", "sep": "9", "oct": "10", "nov": "11", "dec": "12",
}  # fmt: skip
_TWO_DIGIT_YEAR = (
    r"^[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2}$"
    r"|^[0-9]{2}(?:[-/.]|年)[0-9]{1,2}(?:[-/.]|月)[0-9]{1,2}[日号]?$"
    rf"|^[0-9]{{1,2}}{_ORDINAL}[ /-]?{_MONTH_NAME}[ ,/-]*[0-9]{{2}}$"
    rf"|^{_MONTH_NAME}[ /-]?[0-9]{{1,2}}{_ORDINAL},?[ /-][0-9]{{2}}$"
)
_INCOMPLETE = (
    r"^(?:19|20)[0-9]{2}(?:(?:[-/.]|年) ?[0-9]{1,2}月?|年)$"
    rf"|^{_MONTH_NAME}[ ,/-]*[0-9]{{4}}$|^[0-9]{{4}}[ ,/-]*{_MONTH_NAME}$"
)
_FOUR_DIGITS = re.compile(r"[0-9]{4}")

# Tried in this order; each cell goes to the first shape it matches.
_SHAPES = (
    ("ymd", _YMD),
    ("number", _NUMBER),
    ("dmy", _DMY),
    ("month_first", _MONTH_FIRST),
    ("day_first", _DAY_FIRST),
    ("incomplete", _INCOMPLETE),
    ("two_digit_year", _TWO_DIGIT_YEAR),
)
_RESULT_SCHEMA = pl.Schema({"raw": pl.String(), "date": pl.Date(), "date_reason": pl.String()})


def parse_dates(
    values: pl.Series,
    *,
    day_first: bool | None = None,
    excel_1904: bool = False,
    tz: str = "Asia/Shanghai",
    min_date: datetime.date | None = None,
    max_date: datetime.date | None = None,
) -> pl.DataFrame:
    """Parse raw date cells into a DATE column with a reason for every value that was rejected or doubted.

    Returns one row per input value, in order, with columns `date` (pl.Date) and `date_reason`
    (one of DATE_REASONS, null when the cell was empty or parsed). `day_first=None` infers the
    order of dd/mm/yyyy vs mm/dd/yyyy from the unambiguous values of the same call; values it
    cannot decide are rejected with `date_ambiguous_dmy`. Instants (epoch numbers, ISO values
    with a zone) are converted to `tz` before taking the date; naive values are taken as local.
    Dates outside [min_date, max_date] are rejected with `date_out_of_range`: the pipeline
    passes min_date=1980-01-01 and max_date=today for first-contact dates.
    """
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"parse_dates: unknown time zone {tz!r}") from exc
    if values.dtype == pl.Date or isinstance(values.dtype, pl.Datetime):
        parsed = _from_temporal(values, tz)
    else:
        try:
            text = values.cast(pl.String, strict=False)
        except pl.exceptions.PolarsError:
            # Nested or object columns cannot hold a date; reject them without guessing.
            return (
                values.is_null()
                .to_frame("missing")
                .select(
                    pl.lit(None, pl.Date).alias("date"),
                    pl.when(pl.col("missing"))
                    .then(None)
                    .otherwise(pl.lit("date_unparseable"))
                    .alias("date_reason"),
                )
            )
        lookup = _parse_unique(text.unique(maintain_order=True).drop_nulls(), day_first, excel_1904, tz)
        parsed = (
            text.alias("raw").to_frame().join(lookup, on="raw", how="left", maintain_order="left").drop("raw")
        )
    return _check_range(parsed, min_date, max_date)


def _from_temporal(values: pl.Series, tz: str) -> pl.DataFrame:
    """Dates pass through; datetimes with a zone are converted to `tz` before taking the date."""
    if isinstance(values.dtype, pl.Datetime):
        if values.dtype.time_zone is not None:
            values = values.dt.convert_time_zone(tz)
        values = values.dt.date()
    return values.alias("date").to_frame().with_columns(pl.lit(None, pl.String).alias("date_reason"))


def _check_range(
    parsed: pl.DataFrame, min_date: datetime.date | None, max_date: datetime.date | None
) -> pl.DataFrame:
    """Reject dates outside [min_date, max_date] and years no export can mean."""
    date = pl.col("date")
    impossible = date.dt.year() < _MIN_YEAR
    out_of_range = pl.lit(False)
    if min_date is not None:
        out_of_range = out_of_range | (date < min_date)
    if max_date is not None:
        out_of_range = out_of_range | (date > max_date)
    return parsed.select(
        pl.when(impossible | out_of_range).then(None).otherwise(date).alias("date"),
        pl.when(impossible)
        .then(pl.lit("date_invalid"))
        .when(out_of_range)
        .then(pl.lit("date_out_of_range"))
        .otherwise(pl.col("date_reason"))
        .alias("date_reason"),
    )


def _parse_unique(uniques: pl.Series, day_first: bool | None, excel_1904: bool, tz: str) -> pl.DataFrame:
    """Parse distinct raw cells: route each to the first shape it matches, parse each shape vectorised."""
    routed = (
        uniques.alias("raw")
        .to_frame()
        .with_columns(
            pl.col("raw")
            .str.replace_many(_FULL_WIDTH)
            .str.strip_chars()
            .str.strip_chars_start("'")
            .str.to_lowercase()
            .str.replace_all(r"\s+", " ")
            .alias("t")
        )
        .with_columns(_shape().alias("shape"))
    )
    parsed: list[pl.LazyFrame] = []
    for (shape,), part in routed.partition_by("shape", as_dict=True, include_key=False).items():
        if shape == "fallback":
            logger.debug("dates: %d distinct cells left for the python fallback", part.height)
            parsed.append(_fallback_stage(part, day_first, tz).lazy())
        else:
            stage = _parse_shape(str(shape), part.lazy(), day_first, excel_1904, tz)
            parsed.append(stage.select(*_RESULT_SCHEMA).cast(_RESULT_SCHEMA))
    if not parsed:
        return pl.DataFrame(schema=_RESULT_SCHEMA)
    return pl.concat(parsed, how="vertical").collect()


def _shape() -> pl.Expr:
    """Name of the first shape the normalised text `t` matches, 'fallback' when none does."""
    text = pl.col("t")
    shape: pl.Expr = pl.lit("fallback")
    for name, pattern in reversed(_SHAPES):
        shape = pl.when(text.str.contains(pattern)).then(pl.lit(name)).otherwise(shape)
    blank = (text == "") | text.is_in(_PLACEHOLDERS) | text.str.contains(_ZEROS)
    return pl.when(blank).then(pl.lit("blank")).otherwise(shape)


def _parse_shape(
    shape: str, parts: pl.LazyFrame, day_first: bool | None, excel_1904: bool, tz: str
) -> pl.LazyFrame:
    """Parse the cells routed to one shape."""
    if shape == "blank":
        placeholder = pl.when(pl.col("t") == "").then(None).otherwise(pl.lit("date_placeholder"))
        return parts.select("raw", pl.lit(None, pl.Date).alias("date"), placeholder.alias("date_reason"))
    if shape in ("incomplete", "two_digit_year"):
        return parts.select(
            "raw", pl.lit(None, pl.Date).alias("date"), pl.lit(f"date_{shape}").alias("date_reason")
        )
    parts = parts.with_columns(pl.col("t").str.extract_groups(dict(_SHAPES)[shape]).alias("parts")).unnest(
        "parts"
    )
    if shape == "ymd":
        return _ymd_stage(parts, tz)
    if shape == "number":
        return _number_stage(parts, excel_1904, tz)
    if shape == "dmy":
        return _dmy_stage(parts, day_first)
    return _month_name_stage(parts)


def _naive_datetime(
    year: pl.Expr,
    month: pl.Expr,
    day: pl.Expr,
    hour: pl.Expr | None = None,
    minute: pl.Expr | None = None,
    second: pl.Expr | None = None,
) -> pl.Expr:
    """Datetime from text components; null when the components name no real instant."""
    text = pl.concat_str(
        year,
        pl.lit("-"),
        month.str.zfill(2),
        pl.lit("-"),
        day.str.zfill(2),
        pl.lit(" "),
        (pl.lit("0") if hour is None else hour.fill_null("0")).str.zfill(2),
        pl.lit(":"),
        pl.lit("00") if minute is None else minute.fill_null("00"),
        pl.lit(":"),
        pl.lit("00") if second is None else second.fill_null("00"),
    )
    return text.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="ms")


def _instant_date(utc: pl.Expr, tz: str) -> pl.Expr:
    """Local date in tz of a naive UTC datetime."""
    return utc.dt.replace_time_zone("UTC").dt.convert_time_zone(tz).dt.date()


def _date_or_invalid(parts: pl.LazyFrame) -> pl.LazyFrame:
    """Select raw, date and date_invalid where the components named no real day."""
    return parts.select(
        "raw",
        "date",
        pl.when(pl.col("date").is_null()).then(pl.lit("date_invalid")).alias("date_reason"),
    )


# The stages below materialise intermediate columns step by step: a flat plan is much cheaper
# to run than one deep expression that repeats its sub-expressions.


def _ymd_stage(parts: pl.LazyFrame, tz: str) -> pl.LazyFrame:
    """yyyy-mm-dd, yyyy/m/d, yyyy.mm.dd, yyyy年m月d日, optionally with a time and zone."""
    zone = pl.col("zone").str.replace(":", "", literal=True)
    sign = pl.when(zone.str.starts_with("-")).then(-1).otherwise(1)
    hours = zone.str.slice(1, 2).cast(pl.Int64, strict=False)
    minutes = zone.str.pad_end(5, "0").str.slice(3, 2).cast(pl.Int64, strict=False)
    return _date_or_invalid(
        parts.with_columns(
            _naive_datetime(
                pl.col("y"), pl.col("m"), pl.col("d"), pl.col("hh"), pl.col("mi"), pl.col("ss")
            ).alias("naive"),
            pl.when(zone.is_in(["z", "utc", "gmt"]))
            .then(0)
            .otherwise(sign * (hours * 60 + minutes))
            .alias("offset"),
        ).with_columns(
            pl.when(pl.col("offset").is_null())
            .then(pl.col("naive").dt.date())
            .otherwise(_instant_date(pl.col("naive") - pl.duration(minutes=pl.col("offset")), tz))
            .alias("date")
        )
    )


def _number_stage(parts: pl.LazyFrame, excel_1904: bool, tz: str) -> pl.LazyFrame:
    """Bare numbers: yyyymmdd, epoch seconds/milliseconds, Excel serials, a year alone."""
    length, value = pl.col("length"), pl.col("value")
    if excel_1904:
        serial_days = value - _EXCEL_1904_DAYS_TO_UNIX
        leap_day = pl.lit(False)
    else:
        serial_days = (
            pl.when(value < _EXCEL_FICTITIOUS_LEAP_DAY).then(value + 1).otherwise(value)
            - _EXCEL_1900_DAYS_TO_UNIX
        )
        leap_day = value == _EXCEL_FICTITIOUS_LEAP_DAY
    classified = parts.with_columns(
        pl.col("n").str.len_bytes().alias("length"),
        pl.col("n").cast(pl.Int64, strict=False).alias("value"),
        (pl.col("frac").fill_null("").str.strip_chars("0") == "").alias("whole"),
    ).with_columns(
        ((length == 4) & value.is_between(1900, 2100)).alias("year_only"),
        (
            (length == 6)
            & pl.col("frac").is_null()
            & (value // 100).is_between(1900, 2100)
            & (value % 100).is_between(1, 12)
        ).alias("year_month"),
        ((length == 8) & pl.col("whole")).alias("yyyymmdd"),
        ((length <= 6) & value.is_between(1, _EXCEL_MAX_SERIAL)).alias("serial"),
    )
    serial = pl.col("serial") & ~pl.col("year_only") & ~pl.col("year_month")
    # Each conversion sees only its own rows: when/then evaluates every branch on every row.
    ymd = pl.when(pl.col("yyyymmdd")).then(pl.col("n"))
    dated = classified.with_columns(
        _naive_datetime(ymd.str.slice(0, 4), ymd.str.slice(4, 2), ymd.str.slice(6, 2))
        .dt.date()
        .alias("from_ymd"),
        _instant_date(pl.from_epoch(pl.when(length == 10).then(value), time_unit="s"), tz).alias(
            "from_seconds"
        ),
        _instant_date(pl.from_epoch(pl.when(length == 13).then(value), time_unit="ms"), tz).alias(
            "from_millis"
        ),
        pl.when(serial & ~leap_day)
        .then(serial_days)
        .cast(pl.Int32, strict=False)
        .cast(pl.Date)
        .alias("from_serial"),
        (serial & leap_day).alias("leap_day"),
    ).with_columns(pl.coalesce("from_ymd", "from_seconds", "from_millis", "from_serial").alias("date"))
    reason = (
        pl.when(pl.col("date").is_not_null())
        .then(None)
        .when(value == 0)
        .then(pl.lit("date_placeholder"))
        .when(pl.col("year_only") | pl.col("year_month"))
        .then(pl.lit("date_incomplete"))
        .when(pl.col("yyyymmdd") | pl.col("leap_day"))
        .then(pl.lit("date_invalid"))
        .otherwise(pl.lit("date_unparseable"))
    )
    return dated.select("raw", "date", reason.alias("date_reason"))


def _dmy_stage(parts: pl.LazyFrame, day_first: bool | None) -> pl.LazyFrame:
    """dd/mm/yyyy or mm/dd/yyyy, the order given, proven by the value, or inferred per call."""
    first, second = pl.col("first"), pl.col("second")
    if day_first is None:
        saw_dmy = ((first > 12) & (first <= 31) & (second <= 12)).any()
        saw_mdy = ((second > 12) & (second <= 31) & (first <= 12)).any()
        # The column decides only when its unambiguous values all point the same way.
        column_order = pl.when(saw_dmy & ~saw_mdy).then(True).when(saw_mdy & ~saw_dmy).then(False)
        is_day_first = (
            pl.when(first > 12)
            .then(True)
            .when(second > 12)
            .then(False)
            .when(first == second)
            .then(True)
            .otherwise(column_order)
        )
    else:
        is_day_first = pl.lit(day_first)
    ordered = parts.with_columns(
        pl.col("a").cast(pl.Int64, strict=False).alias("first"),
        pl.col("b").cast(pl.Int64, strict=False).alias("second"),
    ).with_columns(is_day_first.alias("day_first"))
    day = pl.when("day_first").then(pl.col("a")).otherwise(pl.col("b"))
    month = pl.when("day_first").then(pl.col("b")).otherwise(pl.col("a"))
    naive = _naive_datetime(pl.col("y"), month, day, pl.col("hh"), pl.col("mi"), pl.col("ss"))
    return ordered.with_columns(naive.dt.date().alias("date")).select(
        "raw",
        pl.when(pl.col("day_first").is_null()).then(None).otherwise(pl.col("date")).alias("date"),
        pl.when(pl.col("day_first").is_null())
        .then(pl.lit("date_ambiguous_dmy"))
        .when(pl.col("date").is_null())
        .then(pl.lit("date_invalid"))
        .alias("date_reason"),
    )


def _month_name_stage(parts: pl.LazyFrame) -> pl.LazyFrame:
    """English month names: 'May 1, 2024', '1 May 2024', '01-May-2024'."""
    month = pl.col("mon").str.slice(0, 3).replace_strict(_MONTHS, default=None, return_dtype=pl.String)
    return _date_or_invalid(
        parts.with_columns(_naive_datetime(pl.col("y"), month, pl.col("d")).dt.date().alias("date"))
    )


def _fallback_stage(rest: pl.DataFrame, day_first: bool | None, tz: str) -> pl.DataFrame:
    """Leftover distinct cells, parsed one by one with dateutil under strict checks."""
    raws = rest.get_column("raw").to_list()
    texts = rest.get_column("t").to_list()
    results = [_parse_leftover(text, day_first, tz) for text in texts]
    return pl.DataFrame(
        {"raw": raws, "date": [r[0] for r in results], "date_reason": [r[1] for r in results]},
        schema=_RESULT_SCHEMA,
    )


def _parse_leftover(text: str, day_first: bool | None, tz: str) -> tuple[datetime.date | None, str | None]:
    """Parse one odd cell with dateutil, rejecting any reading it would have to guess."""
    if len(text) > _MAX_FALLBACK_CHARS or not _FOUR_DIGITS.search(text):
        return None, "date_unparseable"
    readings: set[datetime.date] = set()
    orders = (True, False) if day_first is None else (day_first,)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for order in orders:
                # Two different defaults: a field missing from the text shows up as a difference.
                first = dateutil_parser.parse(text, dayfirst=order, default=datetime.datetime(2000, 1, 1))
                second = dateutil_parser.parse(text, dayfirst=order, default=datetime.datetime(2001, 2, 2))
                if first.date() != second.date():
                    return None, "date_incomplete"
                if first.tzinfo is not None:
                    first = first.astimezone(zoneinfo.ZoneInfo(tz))
                readings.add(first.date())
    except (ValueError, OverflowError, TypeError, LookupError, ArithmeticError):
        return None, "date_unparseable"
    if len(readings) > 1:
        return None, "date_ambiguous_dmy"
    return readings.pop(), None
