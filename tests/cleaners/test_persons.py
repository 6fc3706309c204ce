"""Spec of cleaners/persons.py: names, honorifics, the cross-script pinyin key, reasons."""

from __future__ import annotations

from functools import cache

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_etl.cleaners.persons import OUTPUT_SCHEMA, PERSON_REASONS, clean_person_names

FRAGMENTS = [
    "张", "王", "李", "欧阳", "伟", "先生", "女士", "总", "工", "经理", "Mr.", "Ms ", "zhang", "WEI",
    " ", "　", "(", ")", "（经理）", "无", "test", "1", "@", "·", "-", "'", "張", "曾",
]  # fmt: skip
NAMES = st.one_of(
    st.text(max_size=12),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=2), max_size=6).map("".join),
)
CELLS = st.lists(st.none() | NAMES, max_size=12)

NAME_CASES: dict[str, tuple[str, str, str | None]] = {
    "plain": ("张伟", "张伟", None),
    "spaces-inside": ("  张 伟 ", "张伟", None),
    "traditional": ("張偉", "张伟", None),
    "xiansheng": ("张先生", "张", "先生"),
    "zong": ("王总", "王", "总"),
    "jingli": ("李经理", "李", "经理"),
    "nvshi": ("刘女士", "刘", "女士"),
    "xiaojie": ("陈小姐", "陈", "小姐"),
    "gong": ("赵工", "赵", "工"),
    "compound-surname-gong": ("欧阳工", "欧阳", "工"),
    "laoshi": ("孙老师", "孙", "老师"),
    "zhuren": ("周主任", "周", "主任"),
    "dongshizhang": ("吴董事长", "吴", "董事长"),
    "zongjingli": ("郑总经理", "郑", "总经理"),
    "full-name-and-xiansheng": ("张伟先生", "张伟", "先生"),
    "title-in-brackets": ("张三（经理）", "张三", "经理"),
    "given-name-ending-gong": ("王建工", "王建工", None),
    "latin-lower": ("zhang wei", "Zhang Wei", None),
    "latin-upper": ("ZHANG WEI", "Zhang Wei", None),
    "latin-mixed-case-kept": ("McDonald", "McDonald", None),
    "latin-each-word-cased": ("zhao LEI", "Zhao Lei", None),
    "latin-mixed-word-kept-beside-cased-one": ("ronald McDONALD", "Ronald McDONALD", None),
    "mr": ("Mr. Zhang", "Zhang", "Mr."),
    "mrs": ("mrs li", "Li", "Mrs."),
    "dr-no-space": ("Dr.Wang", "Wang", "Dr."),
    "hyphen-apostrophe": ("anne-marie o'neil", "Anne-Marie O'Neil", None),
}
REASON_CASES = [
    pytest.param("无", "person_placeholder", id="wu"),
    pytest.param("暂无", "person_placeholder", id="zanwu"),
    pytest.param("未知", "person_placeholder", id="weizhi"),
    pytest.param("test", "person_placeholder", id="test"),
    pytest.param("测试1", "person_placeholder", id="ceshi-numbered"),
    pytest.param("先生", "person_placeholder", id="honorific-only"),
    pytest.param("N/A", "person_placeholder", id="n-a"),
    pytest.param("---", "person_placeholder", id="dashes"),
    pytest.param("13800138000", "person_not_a_name", id="phone"),
    pytest.param("zhang@qq.com", "person_not_a_name", id="email"),
    pytest.param("张" * 60, "person_not_a_name", id="too-long"),
    pytest.param(None, None, id="null"),
    pytest.param("   ", None, id="blank"),
]


@cache
def _table_results() -> dict[str | None, dict[str, str | None]]:
    """All single values of this module's tables, cleaned in one call."""
    values = [
        *(raw for raw, _, _ in NAME_CASES.values()),
        *(case.values[0] for case in REASON_CASES),
        *("张伟", "张威威", "John Smith", "Anne-Marie"),
    ]
    rows = clean_person_names(pl.Series(values, dtype=pl.String)).rows(named=True)
    return dict(zip(values, rows, strict=True))


def _clean(name: str | None) -> dict[str, str | None]:
    return _table_results()[name]


@pytest.mark.parametrize(("raw", "name", "honorific"), NAME_CASES.values(), ids=NAME_CASES.keys())
def test_name_and_honorific(raw: str, name: str, honorific: str | None) -> None:
    row = _clean(raw)
    assert (row["name"], row["honorific"], row["person_reason"]) == (name, honorific, None)


@pytest.mark.parametrize(
    "variants",
    [
        ["张伟", "Zhang Wei", "Wei Zhang", "zhangwei", "ZHANG WEI", "張偉", "张伟先生", "Mr. Zhang Wei"],
        ["欧阳娜娜", "Ouyang Nana", "ouyangnana", "Nana Ouyang"],
        ["曾小明", "Zeng Xiaoming"],
        ["吕布", "Lü Bu", "lv bu"],
    ],
    ids=["zhang-wei", "compound-surname", "surname-reading", "u-umlaut"],
)
def test_pinyin_key_matches_across_scripts(variants: list[str]) -> None:
    keys = clean_person_names(pl.Series(variants))["name_pinyin_key"].to_list()
    assert len(set(keys)) == 1 and keys[0] is not None


def test_pinyin_key_form() -> None:
    assert _clean("张伟")["name_pinyin_key"] == "wei zhang"
    assert _clean("John Smith")["name_pinyin_key"] == "john smith"
    # Only a name that is all pinyin is split into syllables.
    assert _clean("Anne-Marie")["name_pinyin_key"] == "anne marie"
    assert _clean("张伟")["name_pinyin_key"] != _clean("张威威")["name_pinyin_key"]


@pytest.mark.parametrize(("raw", "reason"), REASON_CASES)
def test_reasons(raw: str | None, reason: str | None) -> None:
    row = _clean(raw)
    assert row["person_reason"] == reason
    assert row["name"] is None and row["name_pinyin_key"] is None


def test_output_schema_and_one_megabyte_value() -> None:
    big = ("张伟先生 Zhang Wei, " * 60_000)[:1_000_000]
    out = clean_person_names(pl.Series([big, None, "李经理"]))
    assert out.schema == OUTPUT_SCHEMA
    assert out.row(2) == ("李", "经理", "li", None)
    assert out["person_reason"][0] == "person_not_a_name"


@settings(max_examples=60, deadline=None)
@given(CELLS)
def test_properties(values: list[str | None]) -> None:
    s = pl.Series(values, dtype=pl.String)
    # One call over the values and their reverse: same length, and order is kept row by row.
    both = clean_person_names(pl.concat([s, s.reverse()]))
    assert both.height == 2 * s.len() and both.schema == OUTPUT_SCHEMA
    out = both.head(s.len())
    assert both.tail(s.len()).rows() == out.reverse().rows()
    assert clean_person_names(out["name"])["name"].to_list() == out["name"].to_list()
    assert set(out["person_reason"].drop_nulls()) <= PERSON_REASONS


# Characters of names, many with more than one reading (重 长 乐 行 朝 单 曾 解 查 覃) and many that
# pair into dictionary phrases (长乐, 重阳, 朝阳, 建国), so both paths of han_pinyin are taken.
_NAME_CHARS = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国庆长乐重阳朝行单解查区朴仇翟缪种薄盖"


@settings(max_examples=2000, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=_NAME_CHARS, min_size=1, max_size=4),
        st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=4),
    )
)
def test_han_pinyin_reads_as_pypinyin_does(name: str):
    from pypinyin import Style, lazy_pinyin

    from crm_etl.cleaners.persons import han_pinyin

    assert han_pinyin(name) == lazy_pinyin(name, style=Style.NORMAL)
