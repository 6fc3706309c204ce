import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_etl.cleaners.dates import DATE_REASONS, parse_dates

MAY_1 = dt.date(2024, 5, 1)


def parsed(date: dt.date | None = MAY_1, reason: str | None = None) -> dict[str, object]:
    return {"date": date, "date_reason": reason}


def rejected(reason: str | None) -> dict[str, object]:
    return {"date": None, "date_reason": reason}


CASES = [
    # Excel serials, as text and as Excel's float rendering
    ("45413", parsed(), "excel-serial"),
    ("45413.0", parsed(), "excel-serial-float"),
    ("45413.5", parsed(), "excel-serial-noon"),
    ("1", parsed(dt.date(1900, 1, 1)), "excel-serial-1"),
    ("61", parsed(dt.date(1900, 3, 1)), "excel-serial-after-lotus-leap-day"),
    ("60", rejected("date_invalid"), "excel-fictitious-1900-02-29"),
    ("999999", rejected("date_unparseable"), "excel-serial-too-large"),
    # year first
    ("2024-05-01", parsed(), "iso"),
    ("2024/5/1", parsed(), "slashes-short"),
    ("2024.05.01", parsed(), "dots"),
    ("2024-5-1", parsed(), "dashes-short"),
    ("2024年5月1日", parsed(), "chinese"),
    ("2024年05月01号", parsed(), "chinese-hao"),
    ("２０２４－０５－０１", parsed(), "full-width"),
    ("'2024-05-01", parsed(), "leading-apostrophe"),
    (" 2024-05-01 ", parsed(), "padded"),
    ("20240501", parsed(), "yyyymmdd"),
    ("2024/5/1 14:30", parsed(), "excel-datetime-text"),
    # instants and naive datetimes
    ("2024-05-01T10:00:00+08:00", parsed(), "iso-offset"),
    ("2024-04-30T18:30:00Z", parsed(), "iso-utc-crosses-midnight"),
    ("2024-04-30T15:59:59Z", parsed(dt.date(2024, 4, 30)), "iso-utc-just-before-midnight"),
    ("2024-05-01T02:00:00-05:00", parsed(), "iso-negative-offset"),
    ("2024-05-01 10:00:00", parsed(), "naive-space"),
    ("2024-05-01T23:30:00", parsed(), "naive-t-stays-local"),
    ("1714528800", parsed(), "epoch-seconds"),
    ("1714496400", parsed(), "epoch-seconds-utc-evening"),
    ("1714528800000", parsed(), "epoch-millis"),
    # English month names
    ("May 1, 2024", parsed(), "month-day-year"),
    ("1 May 2024", parsed(), "day-month-year"),
    ("01-May-2024", parsed(), "oracle-style"),
    ("Wednesday, May 1, 2024", parsed(), "with-weekday"),
    ("1st May 2024", parsed(), "ordinal"),
    ("Wed, 01 May 2024 10:00:00 +0800", parsed(), "rfc-2822-fallback"),
    # day or month first; a lone value proves its own order
    ("13/05/2024", parsed(dt.date(2024, 5, 13)), "day-first-proven-by-value"),
    ("05/13/2024", parsed(dt.date(2024, 5, 13)), "month-first-proven-by-value"),
    ("05/05/2024", parsed(dt.date(2024, 5, 5)), "equal-parts-not-ambiguous"),
    ("01/05/2024", rejected("date_ambiguous_dmy"), "ambiguous-alone"),
    ("1-5-2024", rejected("date_ambiguous_dmy"), "ambiguous-dashes"),
    # rejections
    ("无", rejected("date_placeholder"), "placeholder-wu"),
    ("-", rejected("date_placeholder"), "placeholder-dash"),
    ("N/A", rejected("date_placeholder"), "placeholder-na"),
    ("不详", rejected("date_placeholder"), "placeholder-buxiang"),
    ("0", rejected("date_placeholder"), "placeholder-zero"),
    ("0000-00-00", rejected("date_placeholder"), "placeholder-zero-date"),
    ("2024-02-30", rejected("date_invalid"), "february-30"),
    ("2023-02-29", rejected("date_invalid"), "not-a-leap-year"),
    ("2024-13-01", rejected("date_invalid"), "month-13"),
    ("2024-05-01 25:00:00", rejected("date_invalid"), "hour-25"),
    ("20240230", rejected("date_invalid"), "yyyymmdd-impossible"),
    ("0201-05-01", rejected("date_invalid"), "year-before-1000"),
    ("24年5月1日", rejected("date_two_digit_year"), "two-digit-year-chinese"),
    ("24/05/01", rejected("date_two_digit_year"), "two-digit-year-slashes"),
    ("01-May-24", rejected("date_two_digit_year"), "two-digit-year-month-name"),
    ("May 2024", rejected("date_incomplete"), "month-year"),
    ("2024年5月", rejected("date_incomplete"), "month-year-chinese"),
    ("2024-05", rejected("date_incomplete"), "month-year-iso"),
    ("2024", rejected("date_incomplete"), "year-only"),
    ("2024.5", rejected("date_incomplete"), "year-dot-month-not-a-serial"),
    ("10:30", rejected("date_unparseable"), "time-only"),
    ("hello", rejected("date_unparseable"), "text"),
    ("下周一", rejected("date_unparseable"), "relative-chinese"),
    ("", rejected(None), "empty"),
    ("   ", rejected(None), "blank"),
    (None, rejected(None), "null"),
]


@pytest.mark.parametrize(("raw", "expected"), [c[:2] for c in CASES], ids=[c[2] for c in CASES])
def test_parse_dates(raw: str | None, expected: dict[str, object]) -> None:
    out = parse_dates(pl.Series([raw], dtype=pl.String))
    assert out.row(0, named=True) == expected


def test_output_schema_and_reasons_are_declared() -> None:
    out = parse_dates(pl.Series([c[0] for c in CASES], dtype=pl.String))
    assert out.schema == pl.Schema({"date": pl.Date, "date_reason": pl.String})
    assert set(out["date_reason"].drop_nulls()) <= DATE_REASONS


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (["01/05/2024", "13/05/2024"], [MAY_1, dt.date(2024, 5, 13)]),
        (["05/01/2024", "05/13/2024"], [MAY_1, dt.date(2024, 5, 13)]),
        (["01/05/2024", "02/05/2024"], [None, None]),
        (["01/05/2024", "13/05/2024", "05/13/2024"], [None, dt.date(2024, 5, 13), dt.date(2024, 5, 13)]),
        (["1.5.2024", "25.12.2023"], [MAY_1, dt.date(2023, 12, 25)]),
    ],
    ids=["day-first-inferred", "month-first-inferred", "neither-proven", "both-proven", "dotted"],
)
def test_day_first_is_inferred_per_call(column: list[str], expected: list[dt.date | None]) -> None:
    out = parse_dates(pl.Series(column))
    assert out["date"].to_list() == expected
    for date, reason in out.iter_rows():
        assert (reason == "date_ambiguous_dmy") == (date is None)


@pytest.mark.parametrize(
    ("day_first", "expected"),
    [(True, [MAY_1, None]), (False, [dt.date(2024, 1, 5), dt.date(2024, 5, 13)])],
    ids=["day-first", "month-first"],
)
def test_day_first_argument_wins(day_first: bool, expected: list[dt.date | None]) -> None:
    out = parse_dates(pl.Series(["01/05/2024", "05/13/2024"]), day_first=day_first)
    assert out["date"].to_list() == expected
    assert out["date_reason"].to_list() == [None, "date_invalid" if day_first else None]


def test_excel_1904_system() -> None:
    out = parse_dates(pl.Series(["43951", "1", "60"]), excel_1904=True)
    assert out["date"].to_list() == [MAY_1, dt.date(1904, 1, 2), dt.date(1904, 3, 1)]


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        ("Asia/Shanghai", [MAY_1, MAY_1, MAY_1]),
        ("UTC", [dt.date(2024, 4, 30), dt.date(2024, 4, 30), dt.date(2024, 4, 30)]),
        ("America/New_York", [dt.date(2024, 4, 30), dt.date(2024, 4, 30), dt.date(2024, 4, 30)]),
    ],
    ids=["shanghai", "utc", "new-york"],
)
def test_instants_take_the_date_in_tz(tz: str, expected: list[dt.date]) -> None:
    instants = ["2024-04-30T18:30:00Z", "1714501800", "1714501800000"]
    assert parse_dates(pl.Series(instants), tz=tz)["date"].to_list() == expected


def test_naive_values_are_not_shifted_by_tz() -> None:
    out = parse_dates(pl.Series(["2024-05-01 23:30:00", "45413.99"]), tz="America/New_York")
    assert out["date"].to_list() == [MAY_1, MAY_1]


def test_unknown_tz_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="time zone"):
        parse_dates(pl.Series(["2024-05-01"]), tz="Mars/Olympus")


def test_out_of_range() -> None:
    # The pipeline's first-contact window: 1980-01-01 .. today.
    out = parse_dates(
        pl.Series(["1979-12-31", "1980-01-01", "2024-05-01", "2099-01-01", "无"]),
        min_date=dt.date(1980, 1, 1),
        max_date=dt.date(2025, 1, 1),
    )
    assert out.to_dicts() == [
        rejected("date_out_of_range"),
        parsed(dt.date(1980, 1, 1)),
        parsed(),
        rejected("date_out_of_range"),
        rejected("date_placeholder"),
    ]


@pytest.mark.parametrize(
    "values",
    [
        pl.Series([45413, None], dtype=pl.Int64),
        pl.Series([45413.5, None], dtype=pl.Float64),
        pl.Series([20240501, None], dtype=pl.Int64),
        pl.Series([MAY_1, None], dtype=pl.Date),
        pl.Series([dt.datetime(2024, 5, 1, 23, 0), None], dtype=pl.Datetime("us")),
        pl.Series([dt.datetime(2024, 4, 30, 18, 30), None], dtype=pl.Datetime("us", "UTC")),
        pl.Series(["2024-05-01", None], dtype=pl.Categorical),
    ],
    ids=[
        "int-serial",
        "float-serial",
        "int-yyyymmdd",
        "date",
        "naive-datetime",
        "utc-datetime",
        "categorical",
    ],
)
def test_non_string_columns(values: pl.Series) -> None:
    assert parse_dates(values).to_dicts() == [parsed(), rejected(None)]


def test_nested_column_is_rejected_not_raised() -> None:
    out = parse_dates(pl.Series([[1, 2], None]))
    assert out.to_dicts() == [rejected("date_unparseable"), rejected(None)]


def test_one_megabyte_cell_does_not_raise() -> None:
    huge = "2024-05-01 " * (1_048_576 // 11)
    assert parse_dates(pl.Series([huge, "2024-05-01"])).to_dicts() == [rejected("date_unparseable"), parsed()]


def test_repeated_values_map_back_in_order() -> None:
    values = ["2024-05-01", None, "无", "2024-05-01", "45413", "无"]
    out = parse_dates(pl.Series(values))
    assert out["date_reason"].to_list() == [None, None, "date_placeholder", None, None, "date_placeholder"]
    assert out["date"].to_list() == [MAY_1, None, None, MAY_1, MAY_1, None]


# -- properties ---------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIST_PROPERTY_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=80)
DATE_ALPHABET = "0123456789" * 3 + "-/. :年月日号tzTZ+一May Jan,'"
cells = st.one_of(st.none(), st.text(max_size=30), st.text(alphabet=DATE_ALPHABET, max_size=25))
dates = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31))
UNAMBIGUOUS_FORMATS = [
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y年%m月%d日",
    "%Y%m%d",
    "%d %b %Y",
    "%b %d, %Y",
    "%d-%b-%Y",
    "%Y-%m-%dT%H:%M:%S",
    "%B %d, %Y",
]


@PROPERTY_SETTINGS
@given(st.lists(cells, max_size=12))
def test_never_raises(raws: list[str | None]) -> None:
    out = parse_dates(pl.Series(raws, dtype=pl.String))
    assert out.height == len(raws)
    assert out.schema == pl.Schema({"date": pl.Date, "date_reason": pl.String})
    for date, reason in out.iter_rows():
        assert date is None or reason is None
        assert reason is None or reason in DATE_REASONS


@LIST_PROPERTY_SETTINGS
@given(st.lists(cells, max_size=12))
def test_idempotent(raws: list[str | None]) -> None:
    first = parse_dates(pl.Series(raws, dtype=pl.String))["date"]
    again = parse_dates(first.dt.to_string("%Y-%m-%d"))["date"]
    assert again.to_list() == first.to_list()


@PROPERTY_SETTINGS
@given(dates, st.sampled_from(UNAMBIGUOUS_FORMATS))
def test_written_dates_are_read_back(date: dt.date, fmt: str) -> None:
    text = dt.datetime(date.year, date.month, date.day, 9, 30).strftime(fmt)
    assert parse_dates(pl.Series([text])).row(0) == (date, None)
