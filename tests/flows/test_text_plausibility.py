import pytest

from crm_etl.flows.text_plausibility import cjk_plausibility, cjk_run_plausibility, run_word_plausibility


@pytest.mark.parametrize(
    ("text", "standard", "low", "high"),
    [
        ("上海宏达机械有限公司", "gb2312", 0.9, 1.0),
        ("臺北市華強電子股份有限公司", "big5", 0.9, 1.0),
        ("￥，。（）", "gb2312", 1.0, 1.0),
        ("奻漆粽湛儂迮", "big5", 0.2, 0.7),  # GB18030 bytes of 上海宏达机械 read as Big5
        ("そ\ue677\ue6bd嘿", "gb2312", -1.0, 0.0),  # Big5 bytes of 公司名稱 read as GB18030
        ("發財", "gb2312", -0.3, -0.3),  # traditional forms are outside GB2312: rare in a mainland reading
        ("黮", "gb2312", -0.3, -0.3),  # `ül` of Müller read as GBK
        ("\ue000\ufffd", "any", -1.0, -1.0),
    ],
    ids=[
        "simplified",
        "traditional",
        "cjk-punctuation",
        "gb-read-as-big5",
        "big5-read-as-gb",
        "traditional-in-gb",
        "rare",
        "private-use",
    ],
)
def test_cjk_plausibility(text, standard, low, high):
    assert low <= cjk_plausibility(text, standard) <= high


@pytest.mark.parametrize(
    ("runs", "score"),
    [
        ([("鞍", "M", "l")], 0.0),
        ([("手机", "e", "P")], 1.0),
        ([("鞍", ",", ",")], 0.6),
        ([("黮", "M", "l")], -0.3),
    ],
    ids=["common-wedged-in-a-latin-word", "frequent-wedged", "common-alone", "rare-wedged"],
)
def test_cjk_runs_wedged_between_latin_letters_count_only_frequent_characters(runs, score):
    assert cjk_run_plausibility(runs, "gb2312") == score


@pytest.mark.parametrize(
    ("run", "before", "after", "low", "high"),
    [
        ("ü", "M", "l", 1.0, 1.0),
        ("é", "f", ",", 0.9, 0.9),
        ("Ü", " ", "b", 0.8, 0.8),
        ("£", ",", "1", 0.8, 0.8),
        ("Иван", " ", ",", 0.8, 0.8),
        ("ÉÏº£", ",", ",", 0.0, 0.5),  # 上海 in GBK read as cp1252
        ("пС", ",", ",", 0.3, 0.3),  # mixed case: two GBK bytes read as cp1251
        ("ҡӣ", ",", ",", 0.3, 0.3),  # archaic/minority letters: 摇樱 read as UTF-8
        ("Èâàí", " ", " ", 0.1, 0.1),  # Иван in cp1251 read as cp1252: no Western word has four
    ],
    ids=[
        "inside-a-word",
        "word-final",
        "capital-initial",
        "symbol-with-number",
        "cyrillic-word",
        "symbol-soup",
        "mixed-case",
        "archaic-cyrillic",
        "accent-run",
    ],
)
def test_run_word_plausibility(run, before, after, low, high):
    assert low <= run_word_plausibility(run, before, after) <= high
