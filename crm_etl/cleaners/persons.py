"""Contact person names: clean name, honorific moved out, and a pinyin key across scripts."""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import polars as pl
from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT
from pypinyin.pinyin_dict import pinyin_dict

from crm_etl.cleaners.text import clean_text

PERSON_REASONS: frozenset[str] = frozenset({"person_placeholder", "person_not_a_name"})

OUTPUT_SCHEMA: dict[str, pl.DataType] = {
    "name": pl.String(),
    "honorific": pl.String(),
    "name_pinyin_key": pl.String(),
    "person_reason": pl.String(),
}

# Forms of address and titles reps write after a surname (张先生, 王总, 李工): longest first.
HONORIFICS_ZH: tuple[str, ...] = (
    "副总经理", "总工程师", "总经理", "副总裁", "董事长", "工程师", "总工", "总裁", "总监", "经理", "主任", "主管",
    "老师", "教授", "博士", "律师", "医生", "先生", "女士", "小姐", "老板", "老总", "副总", "董事",
    "总", "工", "姐", "哥",
)  # fmt: skip
HONORIFICS_LATIN: dict[str, str] = {
    "mr": "Mr.", "mrs": "Mrs.", "ms": "Ms.", "miss": "Miss", "dr": "Dr.", "prof": "Prof.",
}  # fmt: skip
COMPOUND_SURNAMES: tuple[str, ...] = (
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "司徒", "夏侯", "尉迟", "公孙",
    "长孙", "宇文", "轩辕", "端木", "独孤", "南宫", "西门", "呼延", "澹台", "万俟", "钟离", "闻人",
)  # fmt: skip
# Surnames whose reading differs from the character's everyday reading pypinyin picks.
SURNAME_READINGS: dict[str, str] = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "区": "ou", "朴": "piao", "查": "zha",
    "乐": "yue", "缪": "miao", "覃": "qin", "翟": "zhai", "种": "chong", "薄": "bo", "盖": "ge",
    "繁": "po", "句": "gou", "召": "shao", "员": "yun", "隗": "wei", "冼": "xian",
}  # fmt: skip
PLACEHOLDER_NAMES: frozenset[str] = frozenset(
    {
        "无", "暂无", "没有", "未知", "不详", "不知道", "待定", "未填", "空", "测试", "test", "客户",
        "联系人", "负责人", "本人", "某某", "匿名", "na", "n/a", "none", "null", "nil", "nan", "x",
        "xx", "xxx", "-", "--", "---", "/", "?", "??", ".", "。", "*",
        *HONORIFICS_ZH,
    }
)  # fmt: skip

_SINGLE_CHAR_HONORIFICS = tuple(h for h in HONORIFICS_ZH if len(h) == 1)
_LONG_HONORIFICS = tuple(h for h in HONORIFICS_ZH if len(h) > 1)
_SURNAME = rf"(?:{'|'.join(COMPOUND_SURNAMES)}|\p{{Han}})"
# 王总 / 欧阳工: a one-character title only after a bare surname; 张伟先生: longer ones after
# up to three characters, so that names ending in 总 or 工 are left whole.
_HONORIFIC_ZH = (
    rf"^({_SURNAME})({'|'.join(_SINGLE_CHAR_HONORIFICS)})$"
    rf"|^(\p{{Han}}{{1,3}})({'|'.join(_LONG_HONORIFICS)})$"
    rf"|^(\p{{Han}}{{1,4}}) ?\(({'|'.join(HONORIFICS_ZH)})\)$"
)
_HONORIFIC_LATIN = rf"(?i)^({'|'.join(HONORIFICS_LATIN)})(?:\. *| +)(\S.*)$"
_NOT_A_NAME = r"[0-9@]|https?:|www\."
# Longer cells are notes or pasted rows, not a person's name.
_MAX_NAME_CHARS = 40
_MAX_ROUNDS = 3
# Four syllables of up to six letters: a longer run is no name written in pinyin.
_MAX_PINYIN_TOKEN = 24


def _split_honorific(frame: pl.DataFrame) -> pl.DataFrame:
    """Move one leading (Mr.) or trailing (先生) form of address from `name` to `honorific`."""
    zh = pl.col("name").str.extract_groups(_HONORIFIC_ZH).struct
    latin = pl.col("name").str.extract_groups(_HONORIFIC_LATIN).struct
    latin_title = latin["1"].str.to_lowercase().replace_strict(HONORIFICS_LATIN, default=None)
    return frame.with_columns(
        pl.coalesce(zh["1"], zh["3"], zh["5"], latin["2"], pl.col("name")).alias("name"),
        # 王总先生: peeled one at a time, kept together (总先生) in reading order.
        pl.concat_str(
            pl.coalesce(zh["2"], zh["4"], zh["6"], latin_title), pl.col("honorific"), ignore_nulls=True
        )
        .replace("", None)
        .alias("honorific"),
    )


def _without_han_spaces(name: pl.Expr) -> pl.Expr:
    # Twice, because matches do not overlap: 张 伟 明 → 张伟 明 → 张伟明.
    for _ in range(2):
        name = name.str.replace_all(r"(\p{Han}) (\p{Han})", "${1}${2}")
    return name


def _title_cased(name: pl.Expr) -> pl.Expr:
    """Non-Han words written all-lower or all-upper title-cased (zhao LEI → Zhao Lei); mixed case
    (McDonald, DeLuca) is the writer's choice and kept."""
    word = pl.element()
    one_case = (word == word.str.to_lowercase()) | (word == word.str.to_uppercase())
    cased = (
        name.str.split(" ")
        .list.eval(pl.when(one_case).then(word.str.to_titlecase()).otherwise(word))
        .list.join(" ")
    )
    return pl.when(name.str.contains(r"\p{Han}")).then(name).otherwise(cased)


@cache
def _pinyin_syllables() -> frozenset[str]:
    """Toneless pinyin syllables (zhang, wei, lv …) from pypinyin's own dictionary."""
    # One pass over the whole dictionary: tone marks dropped, ü written v (what to_normal does per reading).
    text = unicodedata.normalize("NFD", ",".join(pinyin_dict.values())).replace("u\u0308", "v")
    readings = set(re.sub("[\u0300-\u036f]", "", text).split(","))
    interjections = {"m", "n", "ng", "hm", "hng"}
    return frozenset(r for r in readings if re.fullmatch("[a-z]+", r) and r not in interjections)


@lru_cache(maxsize=65_536)
def _segment(token: str) -> tuple[str, ...] | None:
    """Run-together pinyin (zhangwei) as its fewest syllables (zhang, wei); None if not pinyin."""
    if len(token) > _MAX_PINYIN_TOKEN:
        return None
    syllables = _pinyin_syllables()
    best: list[tuple[str, ...] | None] = [()] + [None] * len(token)
    for end in range(1, len(token) + 1):
        for start in range(max(0, end - 6), end):
            prefix = best[start]
            # Pinyin writes xi'an, not xian, for a syllable starting with a vowel after another.
            if start > 0 and token[start] in "aoe":
                continue
            if prefix is not None and token[start:end] in syllables:
                candidate = (*prefix, token[start:end])
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[-1]


def _latin_tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFD", text.lower().replace("ü", "v"))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [t for t in re.split(r"[^a-z0-9]+", folded) if t]


# The CJK blocks pypinyin's dictionary covers for names (Unified Ideographs and Extension A).
_HAN_ONLY = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")


@cache
def _char_reading(char: str) -> str:
    return str(lazy_pinyin(char, style=Style.NORMAL)[0])


def han_pinyin(name: str) -> list[str]:
    """`lazy_pinyin(name, style=NORMAL)`, ten times faster for the usual name.

    pypinyin reads a run of Han characters phrase by phrase and any character no phrase covers on
    its own. A name of Han characters no two of which form a phrase of its dictionary is read
    character by character, each reading cached; any other name goes to pypinyin whole.
    """
    if _HAN_ONLY.fullmatch(name) and not any(
        name[i:j] in PHRASES_DICT for i in range(len(name)) for j in range(i + 2, len(name) + 1)
    ):
        return [_char_reading(char) for char in name]
    return list(lazy_pinyin(name, style=Style.NORMAL))


def _pinyin_key(name: str) -> str | None:
    """Sorted toneless pinyin syllables of a name: 张伟, Zhang Wei, zhangwei → "wei zhang"."""
    parts = han_pinyin(name)
    if parts and len(name) <= 4 and name[0] in SURNAME_READINGS:
        parts[0] = SURNAME_READINGS[name[0]]
    tokens = [t for part in parts for t in _latin_tokens(part)]
    segments = [_segment(t) for t in tokens]
    # Split run-together pinyin only when the whole name is pinyin: Anne-Marie stays whole.
    if all(seg is not None for seg in segments):
        tokens = [s for seg in segments if seg is not None for s in seg]
    return " ".join(sorted(tokens)) or None


def _is_placeholder(text: pl.Expr) -> pl.Expr:
    compact = text.str.to_lowercase().str.replace_all(r"\s+", "")
    return compact.is_in(list(PLACEHOLDER_NAMES)) | compact.str.contains(r"^(?:测试|test)\d*$")


def clean_person_names(s: pl.Series) -> pl.DataFrame:
    """Clean contact names into `name`, `honorific`, `name_pinyin_key` and `person_reason`."""
    cleaned = clean_text(s)
    unique = cleaned.drop_nulls().unique()
    frame = pl.DataFrame(
        {"v": unique, "name": unique, "honorific": None},
        schema={"v": pl.String, "name": pl.String, "honorific": pl.String},
    ).with_columns(_without_han_spaces(pl.col("name")).alias("name"))
    for _ in range(_MAX_ROUNDS):
        frame = _split_honorific(frame)
    frame = frame.with_columns(_title_cased(pl.col("name")).alias("name"))
    reason = (
        pl.when(_is_placeholder(pl.col("v")) | _is_placeholder(pl.col("name")))
        .then(pl.lit("person_placeholder"))
        .when(
            pl.col("name").str.contains(_NOT_A_NAME)
            | ~pl.col("name").str.contains(r"[\p{Han}\p{L}]")
            | (pl.col("name").str.len_chars() > _MAX_NAME_CHARS)
        )
        .then(pl.lit("person_not_a_name"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    frame = frame.with_columns(reason.alias("person_reason")).with_columns(
        pl.when(pl.col("person_reason").is_null()).then(pl.col(c)).alias(c) for c in ("name", "honorific")
    )
    names = frame["name"].drop_nulls().unique()
    keys = pl.Series([_pinyin_key(name) for name in names.to_list()], dtype=pl.String)
    frame = frame.with_columns(
        pl.col("name")
        .replace_strict(names, keys, default=None, return_dtype=pl.String)
        .alias("name_pinyin_key")
    )
    joined = pl.DataFrame({"v": cleaned}).join(frame, on="v", how="left", maintain_order="left")
    return joined.select(list(OUTPUT_SCHEMA)).cast(pl.Schema(OUTPUT_SCHEMA))
