import pytest

from crm_etl.flows.mojibake import find_mojibake


def marks(text: str) -> str | None:
    return find_mojibake(text, [(0, len(text))])


@pytest.mark.parametrize(
    "text",
    ["Café Müller GmbH", "„Fuß“ und Straße", "MÜLLER’S", "上海宏达机械有限公司", "¥18000", "Zoë · 5 €"],
    ids=[
        "accents",
        "german-quotes-after-sharp-s",
        "capital-umlaut-and-apostrophe",
        "chinese",
        "yen",
        "symbols",
    ],
)
def test_real_text_carries_no_marks(text):
    assert marks(text) is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (
            "Caf\u00c3\u00a9",
            "'Ã©' at line 1 is UTF-8 text that was once read as cp1252/latin-1 (it would read 'é')",
        ),
        ("x\nâ€™s", "'â€™' at line 2 is UTF-8 text that was once read as cp1252/latin-1 (it would read '’')"),
        (
            "ÐŸÑ€Ð¸Ð²ÐµÑ‚",
            "'ÐŸÑ€Ð¸Ð²ÐµÑ‚' at line 1 is UTF-8 text that was once read as cp1252/latin-1 (it would read 'Привет')",
        ),
        (
            "ÉÏº£ºê´ï",
            "'ÉÏº£ºê´ï' at line 1 is GB18030 text that was once read as latin-1/cp1252 (it would read '上海宏达')",
        ),
        ("a\ufffd\ufffdb", "it has replacement characters (U+FFFD) at line 1 (2 in all)"),
        ("a\x85b", "it has C1 control characters (U+0080-U+009F) at line 1"),
    ],
    ids=[
        "utf-8-e-acute",
        "utf-8-apostrophe",
        "utf-8-cyrillic",
        "gb18030-as-latin-1",
        "replacement",
        "c1-control",
    ],
)
def test_marks_of_an_earlier_wrong_decode_are_named(text, found):
    assert (marks(text) or "").startswith(found)
