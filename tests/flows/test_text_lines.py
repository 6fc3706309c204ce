import json

import pytest

from crm_etl.flows.text_lines import (
    first_damaged,
    fits_header,
    last_filled_line,
    line_label,
    line_ranges,
    physical_lines,
    split_delimited,
    split_json_lines,
    unaccounted_lines,
)

HEADER = ["客户名称", "联系人", "手机"]


def _split(text: str, header: list[str] | None = HEADER, header_line: int = 1):
    return split_delimited(physical_lines(text), ",", header, header_line)


def test_physical_lines_split_where_csv_counts_lines_only():
    assert physical_lines("a\r\nb\rc\nd\x0be\u2028f") == ["a\r\n", "b\r", "c\n", "d\x0be\u2028f"]


@pytest.mark.parametrize(
    ("cells", "fits"),
    [
        (["甲", "张三", "138"], True),
        (["甲", "张三", "138", "", " "], True),  # empty fields beyond the header
        (["甲", "张三\n李四"], False),  # a field short
        (["甲", "张三", "138", "x"], False),  # a filled field beyond the header
    ],
    ids=["exact", "trailing-empty", "short", "beyond"],
)
def test_fits_header(cells, fits):
    assert fits_header(cells, HEADER) is fits


def test_a_header_with_empty_trailing_cells_takes_records_without_them():
    assert fits_header(["甲", "张三", "138"], [*HEADER, "", ""])


def test_without_the_header_a_quote_may_span_any_lines():
    found = _split('h1,h2,h3\n"甲,张三,138\n乙,李四,139\n', header=None)
    assert found.starts == [1, 2] and found.ends == [1, 3]
    assert found.suspects == [1] and not found.errors
    assert first_damaged(found.rows, found.starts, found.suspects, found.errors, HEADER, 1) == 1


def test_a_real_multiline_cell_is_no_damage_and_rows_above_the_header_are_not_judged():
    found = _split('"标题\n说明"\nh1,h2,h3\n甲,"上海市\n浦东",138\n', header=None)
    assert found.suspects == [0, 2]
    assert first_damaged(found.rows, found.starts, found.suspects, found.errors, HEADER, 3) is None


def test_reading_again_from_a_line_gives_the_rows_from_there():
    text = 'h1,h2,h3\n甲,张三,138\n"乙,李四\n丙,王五,137\n'
    whole, tail = _split(text), split_delimited(physical_lines(text), ",", HEADER, 1, from_line=3)
    assert (tail.rows, tail.starts, tail.ends) == (whole.rows[2:], whole.starts[2:], whole.ends[2:])
    assert tail.errors == {0: whole.errors[2]}


def test_a_real_multiline_cell_is_one_record_covering_its_lines():
    found = _split('h1,h2,h3\n甲,"上海市\n浦东新区",138\n乙,李四,139\n')
    assert found.rows[1] == ["甲", "上海市\n浦东新区", "138"]
    assert (found.starts, found.ends) == ([1, 2, 4], [1, 3, 4])
    assert not found.errors and not found.stray_quotes


def test_a_swallowing_quote_is_read_on_its_own_and_reading_resumes_after_it():
    text = 'h1,h2,h3\n甲,张三,138\n"乙,李四\n丙,王五,137\n丁,"赵\n六",136\n'
    found = _split(text)
    assert found.starts == [1, 2, 3, 4, 5]
    assert found.ends == [1, 2, 3, 4, 6]  # the real multi-line cell after the damage still reads
    assert found.rows[2] == ['"乙', "李四"]
    assert found.errors[2][0] == "unbalanced_quote"
    assert "line 3" in found.errors[2][1] and "lines 3–5" in found.errors[2][1]  # to the quote on line 5
    assert found.texts[2] == '"乙,李四'
    assert found.rows[4] == ["丁", "赵\n六", "136"]


def test_a_line_that_still_splits_right_keeps_its_stray_quote_as_text():
    found = _split('h1,h2,h3\n"华东科技,王五,138\n乙,李四,139\n')
    assert found.rows[1] == ['"华东科技', "王五", "138"]
    assert found.stray_quotes == [2] and not found.errors


def test_a_quote_left_open_on_the_last_line_is_damage_too():
    found = _split('h1,h2,h3\n甲,张三,138\n"乙,李四')
    assert found.errors[2][0] == "unbalanced_quote"
    assert "the rest of the file" not in found.errors[2][1]


def test_a_quote_over_the_field_size_limit_is_read_on_its_own():
    rest = "".join(f"公司{i:05d},联系人,13800{i:06d}\n" for i in range(6000))  # > 131,072 characters
    found = _split(f'h1,h2,h3\n"乙,李四\n{rest}')
    assert found.errors[1][0] == "unbalanced_quote"
    assert len(found.rows) == 2 + 6000 and found.ends[-1] == 6002


def test_a_malformed_line_without_a_quote_still_fails_the_file():
    with pytest.raises(ValueError, match="malformed CSV at line 2: field larger than field limit"):
        split_delimited(["h1,h2\n", "a" * 200_000 + ",c\n"], ",", None, 0)


def test_a_pretty_printed_object_is_one_record_and_a_broken_line_its_own():
    lines = [
        json.dumps({"company": "甲"}, ensure_ascii=False),
        '{"company": "杭州',
        *json.dumps({"company": "乙", "tags": ["a", "b"]}, ensure_ascii=False, indent=2).split("\n"),
        json.dumps({"company": "丙"}, ensure_ascii=False),
    ]
    objects, found = split_json_lines(physical_lines("\n".join(lines) + "\n"))
    assert objects == [{"company": "甲"}, None, {"company": "乙", "tags": ["a", "b"]}, {"company": "丙"}]
    assert found.starts == [1, 2, 3, 10] and found.ends == [1, 2, 9, 10]
    assert found.errors[1][0] == "invalid_json"


def test_an_unclosed_object_does_not_take_the_lines_after_it():
    objects, found = split_json_lines(
        physical_lines('{"company": "甲",\n  "phone": "138"\n{"company": "乙"}\n')
    )
    assert objects == [None, None, {"company": "乙"}]
    assert set(found.errors) == {0, 1}


@pytest.mark.parametrize(
    ("starts", "ends", "missing", "twice"),
    [
        ([1, 2, 3, 4], [1, 2, 3, 5], [], []),
        ([1, 2, 4], [1, 2, 5], [3], []),
        ([1, 2, 3, 3], [1, 3, 4, 5], [], [3, 4]),
        ([1, 2], [1, 2], [3, 4, 5], []),
    ],
    ids=["covered", "gap", "overlap", "lines-after-the-last-record"],
)
def test_unaccounted_lines(starts, ends, missing, twice):
    lines = ["h\n", "a\n", "b\n", "c\n", "d\n", "\n", "  \n"]  # blank lines at the end need no record
    assert last_filled_line(lines) == 5
    assert unaccounted_lines(starts, ends, last_filled_line(lines), header_line=1) == (missing, twice)


def test_lines_above_the_header_are_not_data():
    assert unaccounted_lines([3, 4], [3, 4], 4, header_line=3) == ([], [])


def test_line_ranges():
    assert line_ranges([4, 7, 8, 9, 12]) == "4, 7–9, 12"


def test_line_label():
    assert (line_label([4]), line_label([4, 5, 9])) == ("line 4", "lines 4–5, 9")
