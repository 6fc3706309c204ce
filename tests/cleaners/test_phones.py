import random
import re

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_etl.cleaners import phones
from crm_etl.cleaners.phones import OUTPUT_SCHEMA, PHONE_REASONS, normalise_phones

MOBILE = "+8613800138000"
MOBILE_2 = "+8613900139000"
BEIJING = "+861012345678"
SHENZHEN = "+8675588886666"


def mobile(
    e164: str = MOBILE,
    *,
    landline: str | None = None,
    others: tuple[str, ...] = (),
    reason: str | None = None,
) -> dict[str, object]:
    national = e164[3:] if e164.startswith("+86") else None
    return {
        "mobile": e164,
        "mobile_national": national,
        "landline": landline,
        "phone_kind": "mobile",
        "other_phones": list(others),
        "phone_reason": reason,
    }


def landline(
    e164: str = BEIJING, *, kind: str = "landline", others: tuple[str, ...] = (), reason: str | None = None
) -> dict[str, object]:
    return {
        "mobile": None,
        "mobile_national": None,
        "landline": e164,
        "phone_kind": kind,
        "other_phones": list(others),
        "phone_reason": reason,
    }


def rejected(reason: str | None) -> dict[str, object]:
    return {
        "mobile": None,
        "mobile_national": None,
        "landline": None,
        "phone_kind": None,
        "other_phones": [],
        "phone_reason": reason,
    }


CASES = [
    # well-formed mainland mobiles (the vectorised fast path)
    ("13800138000", mobile(), "plain-mobile"),
    ("+86 138 0013 8000", mobile(), "plus86-spaces"),
    ("+86-13800138000", mobile(), "plus86-dash"),
    ("8613800138000", mobile(), "86-no-plus"),
    ("0086-138-0013-8000", mobile(), "0086-dashes"),
    ("138-0013-8000", mobile(), "dashes"),
    ("13333333333", mobile("+8613333333333"), "repeated-but-valid"),
    # mobiles that need the python path
    ("(86)13800138000", mobile(), "paren-86"),
    ("+86 (0)138 0013 8000", mobile(), "plus86-trunk-zero"),
    ("１３８００１３８０００", mobile(), "full-width-digits"),
    ("＋８６－１３８－００１３－８０００", mobile(), "full-width-punctuation"),
    ("13800138000.0", mobile(), "excel-float"),
    ("1.3800138E10", mobile(), "excel-scientific"),
    # Excel's General format kept 6 digits of the number: the rest is lost, not zeros
    ("1.39123E+10", rejected("phone_lossy_number"), "excel-general-lossy"),
    ("1.39123e10", rejected("phone_lossy_number"), "excel-general-lossy-lower"),
    ("7.55889E+10", rejected("phone_lossy_number"), "excel-general-lossy-landline"),
    ("13912300000.0", mobile("+8613912300000"), "exact-float-trailing-zeros"),
    ("1.3912345678E+10", mobile("+8613912345678"), "exponent-all-11-digits"),
    ("1.3800138e+10", mobile(), "excel-scientific-plus"),
    ("'13800138000", mobile(), "leading-apostrophe"),
    ("138.0013.8000", mobile(), "dots"),
    ("手机:13800138000", mobile(), "label-shouji-colon"),
    ("手机：13800138000", mobile(), "label-full-width-colon"),
    ("tel:13800138000", mobile(), "label-tel"),
    ("Tel. 138 0013 8000", mobile(), "label-tel-dot"),
    ("mobile 13800138000", mobile(), "label-mobile"),
    ("M: 13800138000", mobile(), "label-m"),
    ("13800138000 (手机)", mobile(), "label-after"),
    ("13800138000(微信同号)", mobile(), "wechat-note"),
    # landlines, extensions, service numbers
    ("电话 010-12345678", landline(), "label-dianhua-landline"),
    ("T: 010-12345678", landline(), "label-t-landline"),
    ("(010)12345678", landline(), "paren-area-code"),
    ("(10)12345678", landline(), "paren-area-code-no-zero"),
    ("(0755) 8888 6666", landline(SHENZHEN), "paren-area-spaced"),
    ("0755-8888-6666", landline(SHENZHEN), "dashed-groups"),
    ("010/12345678", landline(), "slash-inside-number"),
    ("+86 21 6123 4567", landline("+862161234567"), "plus86-landline"),
    ("Tel: +86 (0)21 6123 4567", landline("+862161234567"), "plus86-paren-trunk"),
    ("010-12345678转8001", landline(BEIJING + ";ext=8001"), "ext-zhuan"),
    ("010-12345678-8001", landline(BEIJING + ";ext=8001"), "ext-dash"),
    ("010-12345678 ext. 12", landline(BEIJING + ";ext=12"), "ext-dot"),
    ("010-12345678 ext12", landline(BEIJING + ";ext=12"), "ext-glued"),
    ("010-12345678 x12", landline(BEIJING + ";ext=12"), "ext-x"),
    ("010-12345678#12", landline(BEIJING + ";ext=12"), "ext-hash"),
    ("010-12345678分机12", landline(BEIJING + ";ext=12"), "ext-fenji"),
    ("(021) 6123-4567 转 205", landline("+862161234567;ext=205"), "ext-spaced-zhuan"),
    ("400-812-3456", landline("+864008123456", kind="service"), "400-dashed"),
    ("4008123456", landline("+864008123456", kind="service"), "400-plain"),
    ("800 810 8888", landline("+868008108888", kind="service"), "800-spaced"),
    # several numbers in one cell
    ("13800138000/13900139000", mobile(others=(MOBILE_2,)), "two-mobiles-slash"),
    ("13800138000、010-12345678", mobile(landline=BEIJING), "mobile-and-landline-dunhao"),
    ("13800138000,13900139000", mobile(others=(MOBILE_2,)), "comma"),
    ("13800138000，13900139000", mobile(others=(MOBILE_2,)), "full-width-comma"),
    ("13800138000;13900139000", mobile(others=(MOBILE_2,)), "semicolon"),
    ("13800138000；010-12345678", mobile(landline=BEIJING), "full-width-semicolon"),
    ("13800138000 13900139000", mobile(others=(MOBILE_2,)), "whitespace"),
    ("13800138000或13900139000", mobile(others=(MOBILE_2,)), "huo"),
    ("13800138000及13900139000", mobile(others=(MOBILE_2,)), "ji"),
    ("13800138000\n010-12345678", mobile(landline=BEIJING), "newline"),
    ("010-12345678/13800138000/13900139000", mobile(landline=BEIJING, others=(MOBILE_2,)), "three-numbers"),
    ("021-61234567-13800138000", mobile(landline="+862161234567"), "dash-between-numbers"),
    ("13800138000/13800138000", mobile(), "duplicate-dropped"),
    ("13800138000/123", mobile(reason="phone_partially_invalid"), "partially-invalid"),
    ("12345678、010-12345678", landline(reason="phone_partially_invalid"), "partially-no-area-code"),
    # placeholders and rejections
    ("无", rejected("phone_placeholder"), "placeholder-wu"),
    ("-", rejected("phone_placeholder"), "placeholder-dash"),
    ("N/A", rejected("phone_placeholder"), "placeholder-na"),
    ("暂无", rejected("phone_placeholder"), "placeholder-zanwu"),
    ("none", rejected("phone_placeholder"), "placeholder-none"),
    ("空", rejected("phone_placeholder"), "placeholder-kong"),
    ("/", rejected("phone_placeholder"), "placeholder-slash"),
    ("0", rejected("phone_placeholder"), "placeholder-zero"),
    ("无/无", rejected("phone_placeholder"), "placeholder-twice"),
    ("00000000000", rejected("phone_all_same_digits"), "all-zeros"),
    ("11111111111", rejected("phone_all_same_digits"), "all-ones"),
    ("8888-8888", rejected("phone_all_same_digits"), "all-eights-landline"),
    ("12345678", rejected("phone_no_area_code"), "no-area-code-8"),
    ("8888 6666", rejected("phone_no_area_code"), "no-area-code-spaced"),
    ("6123456", rejected("phone_no_area_code"), "no-area-code-7"),
    ("1380013800", rejected("phone_invalid_length"), "mobile-too-short"),
    ("138001380001", rejected("phone_invalid_length"), "mobile-too-long"),
    ("123", rejected("phone_invalid_length"), "far-too-short"),
    ("12012345678", rejected("phone_invalid_prefix"), "mobile-prefix-120"),
    ("14000000000", rejected("phone_invalid_prefix"), "mobile-prefix-140-unassigned"),
    ("abc", rejected("phone_unparseable"), "letters"),
    ("", rejected(None), "empty"),
    ("   ", rejected(None), "blank"),
    (None, rejected(None), "null"),
    # other regions
    ("+1 650-253-0000", landline("+16502530000"), "us-number"),
    ("+852 2123 4567", landline("+85221234567"), "hk-landline"),
    ("+852 9123 4567", {**mobile("+85291234567"), "mobile_national": "91234567"}, "hk-mobile"),
    # our own outputs fed back in
    ("+861012345678;ext=8001", landline(BEIJING + ";ext=8001"), "e164-ext-roundtrip"),
    ("+864008123456", landline("+864008123456", kind="service"), "e164-service-roundtrip"),
]


@pytest.mark.parametrize(("raw", "expected"), [c[:2] for c in CASES], ids=[c[2] for c in CASES])
def test_normalise_phones(raw: str | None, expected: dict[str, object]) -> None:
    out = normalise_phones(pl.Series([raw], dtype=pl.String))
    assert out.row(0, named=True) == expected


def test_whole_table_in_one_call_matches_cell_by_cell() -> None:
    raws = [c[0] for c in CASES]
    out = normalise_phones(pl.Series(raws, dtype=pl.String))
    assert out.to_dicts() == [c[1] for c in CASES]


def test_output_schema() -> None:
    out = normalise_phones(pl.Series(["13800138000", "010-12345678", None]))
    assert out.schema == pl.Schema(OUTPUT_SCHEMA)


def test_reasons_are_declared() -> None:
    raws = [c[0] for c in CASES]
    reasons = set(normalise_phones(pl.Series(raws, dtype=pl.String))["phone_reason"].drop_nulls())
    assert reasons <= PHONE_REASONS
    assert reasons == PHONE_REASONS


@pytest.mark.parametrize(
    ("values", "expected_mobile"),
    [
        (pl.Series([13800138000, None], dtype=pl.Int64), [MOBILE, None]),
        (pl.Series([13800138000.0, None], dtype=pl.Float64), [MOBILE, None]),
        (pl.Series(["13800138000"], dtype=pl.Categorical), [MOBILE]),
        (pl.Series([None, None], dtype=pl.Null), [None, None]),
    ],
    ids=["int64", "float64", "categorical", "null-dtype"],
)
def test_non_string_columns_are_cast(values: pl.Series, expected_mobile: list[str | None]) -> None:
    assert normalise_phones(values)["mobile"].to_list() == expected_mobile


def test_nested_column_is_rejected_not_raised() -> None:
    out = normalise_phones(pl.Series([[13800138000], None]))
    assert out["phone_reason"].to_list() == ["phone_unparseable", None]
    assert out["other_phones"].to_list() == [[], []]


def test_region_is_configurable() -> None:
    out = normalise_phones(pl.Series(["2123 4567", "9123 4567"]), region="HK")
    assert out["landline"].to_list() == ["+85221234567", None]
    assert out["mobile"].to_list() == [None, "+85291234567"]


def test_unknown_region_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="region"):
        normalise_phones(pl.Series(["13800138000"]), region="XX")


def test_one_megabyte_cell_does_not_raise() -> None:
    huge = "13800138000 " * (1_048_576 // 12)
    out = normalise_phones(pl.Series([huge, "13800138000"]))
    assert out["phone_reason"].to_list() == ["phone_unparseable", None]


# -- properties ---------------------------------------------------------------------------

E164 = re.compile(r"^\+\d{8,15}$")
MAINLAND_MOBILE = re.compile(r"^\+861[3-9]\d{9}$")
LANDLINE = re.compile(r"^\+\d{6,15}(;ext=\d{1,6})?$")

PHONE_ALPHABET = "0123456789" * 4 + "+-() /.,;、，；转#x或及\n０１８６：手机电话tel:"
phone_like = st.text(alphabet=PHONE_ALPHABET, max_size=40)


@st.composite
def formatted_numbers(draw: st.DrawFn) -> str:
    """A valid-looking number written the way people write them."""
    national = draw(
        st.one_of(
            st.from_regex(r"1(?:[38][0-9]|4[57]|[59][0-35-9]|6[25-7]|7[0-35-8])[0-9]{8}", fullmatch=True),
            st.builds(
                str.__add__,
                st.sampled_from(["010", "021", "020", "022", "025", "027", "028", "0755", "0571", "0512"]),
                # 400/800 after an area code are reserved for service numbers, not assigned to landlines.
                st.from_regex(r"[2-8][0-9]{7}", fullmatch=True).filter(
                    lambda n: not n.startswith(("400", "800"))
                ),
            ),
            st.from_regex(r"[48]00[0-9]{7}", fullmatch=True),
        )
    )
    prefix = draw(st.sampled_from(["", "+86 ", "0086-", "(86)", "手机:", "Tel. "]))
    separator = draw(st.sampled_from(["", " ", "-", "."]))
    cut = draw(st.integers(1, len(national) - 1))
    ext = draw(st.sampled_from(["", "转8001", " ext. 12", "#3"])) if national[0] == "0" else ""
    body = national[1:] if prefix in ("+86 ", "0086-", "(86)") and national[0] == "0" else national
    if separator == "." and set(body[cut:]) == {"0"}:
        # 17.000000000 is how a spreadsheet writes the number 17, not a phone: no one splits one so.
        separator = "-"
    return f"{prefix}{body[:cut]}{separator}{body[cut:]}{ext}"


cells = st.one_of(st.none(), st.text(max_size=60), phone_like, formatted_numbers())
# Every example runs the cleaner (a few ms each); these counts keep both test files under ~15 s.
PROPERTY_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIST_PROPERTY_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=80)


def assert_well_formed(out: pl.DataFrame) -> None:
    assert out.schema == pl.Schema(OUTPUT_SCHEMA)
    for row in out.iter_rows(named=True):
        if row["mobile"] is not None:
            assert E164.match(row["mobile"])
            if row["mobile"].startswith("+86"):
                assert MAINLAND_MOBILE.match(row["mobile"])
                assert row["mobile_national"] == row["mobile"][3:]
        if row["landline"] is not None:
            assert LANDLINE.match(row["landline"])
        for other in row["other_phones"]:
            assert LANDLINE.match(other)
        valid = row["mobile"] is not None or row["landline"] is not None
        assert (row["phone_kind"] is not None) == valid
        assert row["phone_reason"] is None or row["phone_reason"] in PHONE_REASONS


@LIST_PROPERTY_SETTINGS
@given(st.lists(cells, max_size=12))
def test_never_raises_and_keeps_length_and_shape(raws: list[str | None]) -> None:
    out = normalise_phones(pl.Series(raws, dtype=pl.String))
    assert out.height == len(raws)
    assert_well_formed(out)


@LIST_PROPERTY_SETTINGS
@given(st.lists(cells, min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_order_is_preserved(raws: list[str | None], rng: random.Random) -> None:
    order = list(range(len(raws)))
    rng.shuffle(order)
    together = normalise_phones(pl.Series(raws, dtype=pl.String)).to_dicts()
    shuffled = normalise_phones(pl.Series([raws[i] for i in order], dtype=pl.String)).to_dicts()
    assert shuffled == [together[i] for i in order]
    alone = normalise_phones(pl.Series(raws[-1:], dtype=pl.String)).to_dicts()
    assert alone == together[-1:]


@LIST_PROPERTY_SETTINGS
@given(st.lists(cells, max_size=12))
def test_idempotent(raws: list[str | None]) -> None:
    first = normalise_phones(pl.Series(raws, dtype=pl.String))
    again_mobile = normalise_phones(first["mobile"])
    again_landline = normalise_phones(first["landline"])
    assert again_mobile["mobile"].to_list() == first["mobile"].to_list()
    assert again_mobile["mobile_national"].to_list() == first["mobile_national"].to_list()
    assert again_landline["landline"].to_list() == first["landline"].to_list()
    others = first["other_phones"].explode().drop_nulls()
    again_others = normalise_phones(others)
    assert again_others.select(pl.coalesce("mobile", "landline")).to_series().to_list() == others.to_list()


@PROPERTY_SETTINGS
@given(formatted_numbers())
def test_formatted_numbers_are_understood(raw: str) -> None:
    row = normalise_phones(pl.Series([raw])).row(0, named=True)
    assert row["phone_reason"] is None, raw
    assert row["phone_kind"] is not None, raw


# -- the vectorised path agrees with the cell-by-cell reference ------------------------------


def _reference(raw: str) -> dict[str, object]:
    return phones._normalise_cell(raw, "CN")._asdict()


def _random_cell(rng: random.Random) -> str:
    """Cells mixing every shape the vectorised path claims, and near-misses it must hand over."""
    mobile = rng.choice(["13", "14", "15", "16", "17", "18", "19", "12", "11"]) + "".join(
        rng.choices("0123456789", k=rng.choice([9, 9, 9, 8, 10]))
    )
    area = rng.choice(["010", "021", "020", "022", "0755", "0571", "0512", "0898", "0999", "0311"])
    local = rng.choice("2345678") + "".join(rng.choices("0123456789", k=rng.choice([7, 7, 6, 8])))
    service = rng.choice(["400", "800", "950", "108"]) + "".join(rng.choices("0123456789", k=7))
    landline = rng.choice([f"{area}-{local}", f"({area}){local}", f"{area} {local}", area + local, local])
    number = rng.choice([mobile, mobile, landline, service, rng.choice("0123456789") * rng.randint(1, 12)])
    number = rng.choice(["", "", "+86", "+86 ", "0086", "86", "(86)", "+86 (0)", "+1 ", "00852"]) + number
    number += rng.choice(["", "", "", "转8001", "-8001", " ext. 12", "#3", "x12", ".0"])
    cell = rng.choice(["", "", "手机:", "Tel: ", "M: ", "电话：", "'", "联系电话 "]) + number
    if rng.random() < 0.3:
        cell += rng.choice(["/", "、", "，", ";", " ", "或", " / "]) + rng.choice([mobile, landline, service])
    if rng.random() < 0.05:
        cell = cell.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    return cell


def test_vectorised_path_agrees_with_the_reference_on_every_cell_it_takes() -> None:
    rng = random.Random(2024)
    raws = pl.Series([_random_cell(rng) for _ in range(20_000)]).unique(maintain_order=True)
    fast = phones._fast_cells(raws)
    # Not vacuous: a good share of these deliberately messy cells is taken (about a quarter).
    assert fast.height > raws.len() * 0.15
    disagreements = [
        (row["raw"], row, _reference(row["raw"]))
        for row in fast.iter_rows(named=True)
        if {k: v for k, v in row.items() if k != "raw"} != _reference(row["raw"])
    ]
    assert disagreements[:5] == []


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000/13900139000",
        "手机:13800138000 座机:010-62345678",
        "1.3800138E10",
        "13800138000 021-62345678",
    ],
)
def test_common_shapes_take_the_vectorised_path(raw: str) -> None:
    assert phones._fast_cells(pl.Series([raw])).height == 1


# -- numbers a spreadsheet wrote with digits lost (issue 14) ---------------------------------

mainland_mobiles = st.from_regex(
    r"1(?:[38][0-9]|4[57]|[59][0-35-9]|6[25-7]|7[0-35-8])[0-9]{8}", fullmatch=True
).filter(lambda n: phones._CN_MOBILE_RANGES_RE.fullmatch(n) is not None)
exponent_marks = st.sampled_from(["E+10", "e+10", "E10", "e10"])
LOSSY_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=60)


@pytest.mark.parametrize(
    ("values", "expected_mobile", "expected_reason"),
    [
        # openpyxl gives a number cell as a float; flows/readers.py raw_text writes it without ".0".
        (pl.Series([13912300000.0], dtype=pl.Float64), ["+8613912300000"], [None]),
        (pl.Series(["13912300000"]), ["+8613912300000"], [None]),
        # A CSV Excel saved: the text of what the cell showed.
        (pl.Series(["1.39123E+10"]), [None], ["phone_lossy_number"]),
    ],
    ids=["xlsx-float-cell", "xlsx-cell-as-raw-text", "csv-exponent-text"],
)
def test_a_number_cell_is_exact_and_its_lossy_rendering_is_flagged(
    values: pl.Series, expected_mobile: list[str | None], expected_reason: list[str | None]
) -> None:
    out = normalise_phones(values)
    assert out["mobile"].to_list() == expected_mobile
    assert out["phone_reason"].to_list() == expected_reason


@LOSSY_SETTINGS
@given(mainland_mobiles, exponent_marks)
def test_a_mobile_written_with_all_its_digits_in_exponent_form_cleans_to_itself(
    national: str, mark: str
) -> None:
    row = normalise_phones(pl.Series([f"{national[0]}.{national[1:]}{mark}"])).row(0, named=True)
    assert row["mobile"] == "+86" + national
    assert row["phone_reason"] is None


@LOSSY_SETTINGS
@given(mainland_mobiles, st.integers(1, 6), exponent_marks)
def test_a_mobile_excel_rounded_to_fewer_digits_is_flagged_never_a_number(
    national: str, digits: int, mark: str
) -> None:
    # What Excel's General format writes: the number rounded to `digits` significant digits,
    # trailing zeros of the mantissa dropped.
    mantissa = f"{int(national) / 10**10:.{digits - 1}f}".rstrip("0").rstrip(".")
    row = normalise_phones(pl.Series([mantissa + mark])).row(0, named=True)
    assert row["phone_reason"] == "phone_lossy_number", mantissa + mark
    assert (row["mobile"], row["landline"], row["other_phones"]) == (None, None, [])


def test_the_vectorised_path_leaves_lossy_numbers_to_the_reference() -> None:
    assert phones._fast_cells(pl.Series(["1.39123E+10", "1.3800138E10"]))["raw"].to_list() == ["1.3800138E10"]
