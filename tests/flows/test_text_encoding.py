"""Text encodings are never silently wrong: real CSV and JSON Lines files read through flows/readers.py."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_etl.flows.readers import InputFileError, RawSheet, decode_text, read_csv, read_jsonl

ORDERS = 2000
HEADER = ["order_id", "customer", "amount"]
BIG5_FAMILY = {"big5", "cp950", "big5hkscs"}

Specials = dict[int, tuple[str, str]]


def orders(specials: Specials) -> list[list[str]]:
    """2,000 ASCII orders; `specials` gives some rows (by index) their own customer and amount."""
    rows = [[f"ORD-{i:05d}", "Acme Trading Co", f"{i * 37 % 9999}.50"] for i in range(ORDERS)]
    for index, (customer, amount) in specials.items():
        rows[index][1:] = [customer, amount]
    return rows


def as_csv(rows: list[list[str]]) -> str:
    return "".join(",".join(row) + "\r\n" for row in [HEADER, *rows])


def as_jsonl(rows: list[list[str]]) -> str:
    return "".join(json.dumps(dict(zip(HEADER, row, strict=True)), ensure_ascii=False) + "\n" for row in rows)


def write_orders(
    tmp_path: Path, kind: str, specials: Specials, encode: Callable[[str], bytes]
) -> tuple[Path, str]:
    """An orders export as `kind` ("csv" or "jsonl") in tmp_path, and the text it holds."""
    text = (as_csv if kind == "csv" else as_jsonl)(orders(specials))
    path = tmp_path / f"orders.{kind}"
    path.write_bytes(encode(text))
    return path, text


def read(path: Path) -> RawSheet:
    return (read_csv if path.suffix == ".csv" else read_jsonl)(path, path.name)


def expected_rows(kind: str, specials: Specials) -> list[list[str]]:
    return [HEADER, *orders(specials)] if kind == "csv" else orders(specials)


def family(encoding: str | None) -> str:
    """The codec of an encoding name: `cp1252 (invalid as GB18030 and Big5)` is cp1252."""
    return (encoding or "").split(" ")[0]


def line_of(kind: str, index: int) -> int:
    """The file line of order `index`: CSV has a header line first."""
    return index + 2 if kind == "csv" else index + 1


def as_seen_in_cp1252(data: bytes) -> str:
    """What a Windows tool shows for bytes read as cp1252: its five undefined bytes as C1 controls."""
    return "".join(bytes([byte]).decode("cp1252", "ignore") or chr(byte) for byte in data)


ENCODERS: dict[str, Callable[[str], bytes]] = {
    "gb18030": lambda text: text.encode("gb18030"),
    "gbk": lambda text: text.encode("gbk"),
    "big5": lambda text: text.encode("big5"),
    "utf-16-le-bom": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16-be-bom": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    "utf-16-le-no-bom": lambda text: text.encode("utf-16-le"),
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8-bom": lambda text: text.encode("utf-8-sig"),
}
YEN_AMOUNTS: Specials = {
    17: ("Acme Trading Co", "￥120.00"),
    640: ("Acme Trading Co", "￥88.00"),
    1999: ("Beta", "￥5.00"),
}
ONE_COMPANY: Specials = {1000: ("上海宏达机械有限公司", "300.00")}
TRADITIONAL: Specials = {1000: ("臺北市華強電子股份有限公司", "300.00"), 1500: ("張偉", "12.00")}

MOSTLY_ASCII = [
    pytest.param("gb18030", YEN_AMOUNTS, {"gb18030"}, id="gb18030-yen-amounts"),
    pytest.param("gb18030", ONE_COMPANY, {"gb18030"}, id="gb18030-one-company"),
    pytest.param("gbk", YEN_AMOUNTS | ONE_COMPANY, {"gb18030"}, id="gbk-company-and-yen"),
    pytest.param("big5", TRADITIONAL, BIG5_FAMILY, id="big5-traditional-names"),
    pytest.param("utf-16-le-bom", YEN_AMOUNTS | ONE_COMPANY, {"utf-16-le"}, id="utf-16-le-bom"),
    pytest.param("utf-16-be-bom", YEN_AMOUNTS | ONE_COMPANY, {"utf-16-be"}, id="utf-16-be-bom"),
    pytest.param("utf-16-le-no-bom", YEN_AMOUNTS | ONE_COMPANY, {"utf-16-le"}, id="utf-16-le-nul-pattern"),
    pytest.param("utf-8", YEN_AMOUNTS | ONE_COMPANY, {"utf-8"}, id="utf-8"),
    pytest.param("utf-8-bom", YEN_AMOUNTS | ONE_COMPANY, {"utf-8-sig"}, id="utf-8-bom"),
]


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
@pytest.mark.parametrize(("encoding", "specials", "families"), MOSTLY_ASCII)
def test_mostly_ascii_export_decodes_exactly(tmp_path, kind, encoding, specials, families):
    path, text = write_orders(tmp_path, kind, specials, ENCODERS[encoding])
    data = path.read_bytes()
    assert sum(byte >= 0x80 for byte in data) <= len(data) / 1000  # at most 0.1% non-ASCII bytes
    sheet = read(path)
    assert family(sheet.encoding) in families
    assert sheet.rows == expected_rows(kind, specials)
    assert decode_text(data, path.name) == (text, sheet.encoding)


BIG5_NAMES: Specials = {
    3: ("臺北市華強電子股份有限公司", "120.00"),
    800: ("聯發科技股份有限公司", "99.00"),
    1200: ("陳美玲", "12.00"),
    1900: ("張偉", "8.00"),
}


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_big5_traditional_names_read_as_big5_not_gb18030(tmp_path, kind):
    path, text = write_orders(tmp_path, kind, BIG5_NAMES, ENCODERS["big5"])
    path.read_bytes().decode("gb18030")  # the trap: the bytes are valid GB18030 too
    sheet = read(path)
    assert family(sheet.encoding) in BIG5_FAMILY
    assert sheet.rows == expected_rows(kind, BIG5_NAMES)
    assert decode_text(path.read_bytes(), path.name) == (text, sheet.encoding)


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
@pytest.mark.parametrize(
    "symbol", ["¥", "€", "°", "①"], ids=["half-width-yen", "euro", "degree", "circled-one"]
)
def test_symbols_alone_keep_a_gb18030_export_gb18030(tmp_path, kind, symbol):
    """No hanzi at all, a symbol on every row: GB18030's ¥ is four bytes, its € is Big5's Ｕ."""
    specials = {i: ("Acme Trading Co", f"{symbol}{i}.00") for i in range(ORDERS)}
    path, _ = write_orders(tmp_path, kind, specials, ENCODERS["gb18030"])
    sheet = read(path)
    assert sheet.encoding == "gb18030"
    assert sheet.rows == expected_rows(kind, specials)


WESTERN = [
    pytest.param(
        {5: ("Café Müller GmbH", "12.00"), 700: ("Société Générale", "3.00"), 1400: ("Zoë Bäckerei", "9.90")},
        False,
        "cp1252 (invalid as GB18030 and Big5)",
        id="bytes-invalid-as-gb18030-and-big5",
    ),
    pytest.param(
        {5: ("Müller GmbH", "12.00"), 700: ("Björk Jönsson", "3.00"), 1400: ("Schröder AG", "9.90")},
        True,
        "cp1252 (the gb18030 reading is nonsense)",
        id="gb18030-reading-is-nonsense",
    ),
    pytest.param(
        {700: ("Björk Jönsson", "3.00")},
        True,
        "cp1252 (the gb18030 and big5 readings are nonsense)",
        id="gb18030-and-big5-readings-are-nonsense",
    ),
]


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
@pytest.mark.parametrize(("specials", "valid_gb18030", "encoding"), WESTERN)
def test_western_cp1252_export_still_reads_as_cp1252(tmp_path, kind, specials, valid_gb18030, encoding):
    path, _ = write_orders(tmp_path, kind, specials, lambda text: text.encode("cp1252"))
    try:
        path.read_bytes().decode("gb18030")
        decodes = True
    except UnicodeDecodeError:
        decodes = False
    assert decodes is valid_gb18030  # `ü` + `l` is a (rare) GBK character: M黮ler
    sheet = read(path)
    assert sheet.encoding == encoding
    assert sheet.rows == expected_rows(kind, specials)


MOJIBAKE = [
    pytest.param(
        {999: (as_seen_in_cp1252("北京新公司".encode()), "1.00")},
        # cp1252 leaves byte 0x8F undefined: the message shows the C1 control it became escaped.
        r"read as utf-8, 'åŒ—äº¬æ–°å…¬å\\x8f¸' at line {line} is UTF-8 text that was once read as "
        r"cp1252/latin-1 \(it would read '北京新公司'\)",
        id="utf-8-once-read-as-cp1252",
    ),
    pytest.param(
        {999: ("M" + as_seen_in_cp1252("ü".encode()) + "ller GmbH", "1.00")},
        r"'Ã¼' at line {line} is UTF-8 text that was once read as cp1252/latin-1 \(it would read 'ü'\)",
        id="western-utf-8-once-read-as-cp1252",
    ),
    pytest.param(
        {999: ("上海宏达机械".encode("gb18030").decode("latin-1"), "1.00")},
        r"'ÉÏº£ºê´ï»úÐµ' at line {line} is GB18030 text that was once read as latin-1/cp1252 "
        r"\(it would read '上海宏达机械'\)",
        id="gb18030-once-read-as-latin-1",
    ),
    pytest.param(
        {999: ("上海宏达".encode("gbk").decode("utf-8", "replace"), "1.00")},
        r"replacement characters \(U\+FFFD\) at line {line} \(\d+ in all\): an earlier decode, "
        r"e\.g\. GBK read as UTF-8, already destroyed the characters",
        id="gbk-once-read-as-utf-8",
    ),
    pytest.param(
        {999: ("\ue4c6\ue5e6\ue000公司", "1.00"), 1500: ("\ue816\ue817", "2.00")},
        r"\d+% of its non-ASCII characters are private-use ones \(U\+E4C6 at line {line}\)",
        id="private-use-characters",
    ),
]


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
@pytest.mark.parametrize(("specials", "problem"), MOJIBAKE)
def test_mojibake_is_refused_with_the_reason(tmp_path, kind, specials, problem):
    path, _ = write_orders(tmp_path, kind, specials, ENCODERS["utf-8"])
    message = re.escape(f"orders.{kind}: the text looks mis-decoded (mojibake), so it is not loaded: ")
    with pytest.raises(InputFileError, match=message + ".*" + problem.format(line=line_of(kind, 999))):
        read(path)


def _gb2312_hanzi() -> list[str]:
    hanzi = []
    for lead in range(0xB0, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                hanzi.append(bytes([lead, trail]).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # D7FA-D7FE are unassigned
    return hanzi


# Mainland text: both levels of GB2312 (6,763 hanzi) and the punctuation that goes with them.
CHINESE = st.text(
    alphabet=st.sampled_from([*_gb2312_hanzi(), *"，。、；：？！（）《》“”￥"]), min_size=1, max_size=12
)


@settings(max_examples=150, deadline=None)
@given(names=st.lists(st.tuples(st.integers(0, 399), CHINESE), min_size=1, max_size=5))
def test_chinese_in_a_mostly_ascii_gb18030_csv_always_round_trips(tmp_path_factory, names):
    rows = [[f"ORD-{i:05d}", "Acme Trading Co", f"{i * 37 % 9999}.50"] for i in range(400)]
    for index, name in names:
        rows[index][1] = name
    text = as_csv(rows)
    path = tmp_path_factory.mktemp("gb18030") / "orders.csv"
    path.write_bytes(text.encode("gb18030"))
    sheet = read_csv(path, "orders.csv")
    assert (sheet.encoding, sheet.rows) == ("gb18030", [HEADER, *rows])
    assert decode_text(path.read_bytes(), "orders.csv") == (text, "gb18030")
