import polars as pl
import pytest

from cleaners.clustering import connected_components, key_edges
from cleaners.dedupe import cluster_customers

BASE = {
    "source_system": "excel_ledger",
    "legacy_id": None,
    "mobile": None,
    "email": None,
    "company_key": None,
    "phone": None,
}


def _records(*rows: dict) -> pl.DataFrame:
    frame = pl.DataFrame(
        [{**BASE, **r} for r in rows],
        schema={
            "source_system": pl.String,
            "legacy_id": pl.String,
            "mobile": pl.String,
            "email": pl.String,
            "company_key": pl.String,
            "phone": pl.String,
        },
    )
    return frame.with_row_index("record_idx").with_columns(pl.col("record_idx").cast(pl.Int64))


def _clusters(frame: pl.DataFrame) -> list[int]:
    return cluster_customers(frame)["cluster"].to_list()


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([{"mobile": "+8613800138000"}, {"mobile": "+8613800138000"}], [0, 0]),
        ([{"email": "a@qq.com"}, {"email": "a@qq.com"}], [0, 0]),
        (
            [
                {"legacy_id": "ACC-1", "source_system": "legacy_crm"},
                {"legacy_id": "ACC-1", "source_system": "legacy_crm"},
            ],
            [0, 0],
        ),
        (
            [
                {"legacy_id": "1", "source_system": "legacy_crm"},
                {"legacy_id": "1", "source_system": "web_form"},
            ],
            [0, 1],
        ),
        ([{"company_key": "宏达机械制造"}, {"company_key": "宏达机械制造"}], [0, 0]),
        (
            [
                {"phone": "+862162345678", "company_key": "甲"},
                {"phone": "+862162345678", "company_key": "乙"},
            ],
            [0, 1],
        ),
        ([{"company_key": "鹏程科技"}, {"company_key": "鹏程科技广州分公司"}], [0, 1]),
        ([{"mobile": "1", "company_key": "x"}, {"mobile": "1", "email": "e"}, {"email": "e"}], [0, 0, 0]),
    ],
    ids=[
        "mobile",
        "email",
        "legacy-id-same-system",
        "legacy-id-other-system-no-merge",
        "company-key",
        "shared-landline-no-merge",
        "branch-vs-hq-no-merge",
        "transitive",
    ],
)
def test_cluster_customers(rows, expected):
    assert _clusters(_records(*rows)) == expected


def test_match_reason_names_the_evidence():
    result = cluster_customers(_records({"mobile": "m", "email": "e"}, {"mobile": "m", "email": "e"}, {}))
    assert result["match_reason"].to_list() == ["email exact; mobile exact"] * 2 + ["no duplicate found"]
    assert result["match_score"].to_list() == [1.0, 1.0, None]


def test_connected_components_long_chain():
    n = 50
    ids = pl.Series(range(n), dtype=pl.Int64)
    frame = pl.DataFrame(
        {
            "record_idx": list(range(n)),
            "k": [f"{i // 2}" for i in range(n)],
            "j": [f"{(i + 1) // 2}" for i in range(n)],
        }
    )
    edges = key_edges(frame, {"k": pl.col("k"), "j": pl.col("j")})
    assert set(connected_components(ids, edges)["component"].to_list()) == {0}
