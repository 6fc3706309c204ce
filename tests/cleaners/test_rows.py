import polars as pl
import pytest

from cleaners.rows import garbage_reason

COLUMNS = ["customer_name", "contact_name", "mobile"]


def _frame(rows: list[tuple[str | None, ...]], extra: list[str | None] | None = None) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=COLUMNS, orient="row")
    return frame.with_columns(pl.Series("extra", extra or [None] * len(rows), dtype=pl.String))


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ((None, None, None), "blank_row"),
        (("合计", "共22家", None), "totals_row"),
        (("总计：", None, "35"), "totals_row"),
        (("Total", None, None), "totals_row"),
        (("备注：以上客户信息由张伟整理", None, None), "note_row"),
        (("以上数据截至六月底，如有变动请及时更新。", None, None), "note_row"),
        (("上海宏达机械制造有限公司", None, None), None),
        (("上海宏达机械制造有限公司", "张伟", "13800138000"), None),
        (("合计科技有限公司", "李四", None), None),
        ((None, None, "13800138000"), None),
    ],
    ids=[
        "blank",
        "totals",
        "totals-colon",
        "total-en",
        "note-prefix",
        "note-sentence",
        "name-only",
        "full-record",
        "company-containing-heji",
        "mobile-only",
    ],
)
def test_garbage_reason(row, reason):
    assert garbage_reason(_frame([row]), COLUMNS).to_list() == [reason]


def test_unmapped_cells_make_a_row_non_blank():
    frame = _frame([(None, None, None)], extra=['{"备用": "x"}'])
    assert garbage_reason(frame, COLUMNS).to_list() == [None]
