"""cleaners/file_names.py: file names built from user data, safe, short in bytes and never shared."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_etl.cleaners.file_names import MAX_NAME_BYTES, is_plain_file_name, name_hash, safe_file_name, slug

WINDOWS_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("张伟", "张伟"),
        ("销售/华东:张伟", "销售_华东_张伟"),
        ("销售_华东_张伟", "销售_华东_张伟"),
        ("..", "_"),
        (".", "_"),
        ("", "_"),
        ("  王芳 ", "王芳"),
        (".hidden", "hidden"),
        ("CON", "_CON"),
        ("lpt1", "_lpt1"),
        ("台账.xlsx", "台账_xlsx"),
        ("COM²", "_COM²"),
        ("a\u202eb", "a_b"),  # a right-to-left override would show the name reversed
        ("e\u0301", "é"),  # macOS writes names decomposed (NFD); the slug is composed
        ("\udcff\udcfeabc", "abc"),  # a file name that was not UTF-8
        ("Zhang Wei (华东)", "Zhang_Wei_华东"),
    ],
    ids=[
        "chinese",
        "separators",
        "already-safe",
        "dot-dot",
        "dot",
        "empty",
        "spaces",
        "leading-dot",
        "windows-reserved",
        "reserved-lower-case",
        "dots",
        "reserved-superscript",
        "bidi-override",
        "decomposed",
        "not-utf8",
        "latin-and-brackets",
    ],
)
def test_slug(name, stem):
    assert slug(name) == stem
    assert safe_file_name(name, "xlsx") == f"{stem}-{name_hash(name)}.xlsx"


def test_names_that_slug_alike_get_two_files():
    a, b = safe_file_name("销售/华东:张伟", "xlsx"), safe_file_name("销售_华东_张伟", "xlsx")
    assert a != b and a.startswith("销售_华东_张伟-") and b.startswith("销售_华东_张伟-")
    # Case-insensitive file systems (Windows, macOS) would merge these without the hash.
    assert safe_file_name("Zhang", "xlsx").lower() != safe_file_name("zhang", "xlsx").lower()


def test_a_300_byte_name_is_cut_between_characters_within_the_byte_limit():
    name = "张" * 100  # 300 bytes in UTF-8
    file_name = safe_file_name(name, "xlsx")
    assert len(file_name.encode("utf-8")) <= MAX_NAME_BYTES
    stem = file_name.removesuffix(f"-{name_hash(name)}.xlsx")
    assert set(stem) == {"张"} and len(stem) == (MAX_NAME_BYTES - len("-12345678.xlsx")) // 3


def test_hash_of_names_the_file_apart_from_its_readable_part():
    assert safe_file_name("未分配", "xlsx", hash_of="") != safe_file_name("未分配", "xlsx")


@pytest.mark.parametrize(
    ("name", "plain"),
    [("customers", True), ("v_客户基本信息", True), ("a-b", False), ("con", False), ("x" * 200, False)],
    ids=["table", "chinese-view", "dash", "reserved", "too-long"],
)
def test_plain_names(name, plain):
    assert is_plain_file_name(name, "parquet") is plain


names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200) | st.text(max_size=60)


@settings(max_examples=400, deadline=None)
@given(names, st.sampled_from(["xlsx", "yaml", "parquet", "csv"]))
def test_any_name_gives_a_safe_short_file_name(name, suffix):
    file_name = safe_file_name(name, suffix)
    assert len(file_name.encode("utf-8")) <= MAX_NAME_BYTES
    assert file_name.endswith(f"-{name_hash(name)}.{suffix}")
    assert not WINDOWS_UNSAFE.search(file_name)
    assert file_name not in {".", ".."} and not file_name.startswith((".", " "))
    stem = slug(name)
    assert stem and slug(stem) == stem  # what is kept is kept as it is


@settings(max_examples=100, deadline=None)
@given(st.sets(names, min_size=2, max_size=30))
def test_distinct_names_never_share_a_file_name(sample):
    assert len({safe_file_name(n, "xlsx") for n in sample}) == len(sample)


@settings(max_examples=100, deadline=None)
@given(st.sets(st.from_regex(r"[a-z_\u4e00-\u9fff]{1,20}", fullmatch=True), min_size=1, max_size=20))
def test_plain_names_never_equal_a_hashed_one(tables):
    plain = {f"{t}.csv" for t in tables if is_plain_file_name(t, "csv")}
    hashed = {safe_file_name(t, "csv") for t in tables}
    assert not plain & hashed
