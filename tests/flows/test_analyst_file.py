"""The analyst-ready DuckDB file of the sample run: seeds' tag lines, tiers, views, comments, README queries."""

from __future__ import annotations

import re

import duckdb
import pytest
from typer.testing import CliRunner

from crm_etl.flows.cli import EXIT_OK, app
from tests import samples_truth as truth
from tests.conftest import REPO

VIEWS = {
    "v_客户基本信息": [
        "客户编号",
        "客户名称",
        "联系人",
        "职位",
        "联系方式",
        "所属行业",
        "客户类型",
        "首次接触时间",
        "客户来源",
    ],
    "v_客户互动跟进记录": ["日期", "方式", "参与人员", "沟通内容", "客户反馈", "待办事项", "负责人"],
    "v_客户需求与标签": ["客户编号", "核心需求", "历史购买记录", "标签组合"],
    "v_客户分层": ["客户编号", "客户分层", "最近购买天数R", "年购买频次F", "年购买金额M", "流失风险"],
}


def readme_queries() -> list[str]:
    """Every SQL statement in the README's ```sql blocks."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    statements = [s.strip() for block in blocks for s in block.split(";\n")]
    return [
        s.rstrip(";") for s in statements if s and not all(line.startswith("--") for line in s.splitlines())
    ]


@pytest.fixture(scope="module")
def con(sample_db):
    _, path = sample_db
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def customer_of(con, ref) -> str:
    row = con.execute(
        "SELECT customer_id FROM customer_sources WHERE source_file = ? AND source_sheet = ? AND source_row = ?",
        list(ref),
    ).fetchone()
    assert row is not None, ref
    return row[0]


def entity_customer(con, entity: str) -> str:
    ref = next(r for r, e in truth.ENTITY_OF_ROW.items() if e == entity)
    return customer_of(con, ref)


@pytest.mark.parametrize(
    ("seed", "line"),
    [
        ("sme_manufacturer", "制造业-中小客户-高价值-价格敏感"),
        ("large_service_new", "服务业-大型客户-新客户-需求明确"),
    ],
)
def test_seed_tag_lines_come_out_exactly(con, seed, line):
    ids = {customer_of(con, ref) for ref in truth.SEED_CUSTOMERS[seed]["customers"]}
    assert len(ids) == 1
    (customer_id,) = ids
    tag_line, tags = con.execute(
        "SELECT tag_line, tags FROM customers WHERE customer_id = ?", [customer_id]
    ).fetchone()
    assert tag_line == line
    assert set(line.split("-")) <= set(tags)


def test_seed_tiers_and_features(con):
    sme = customer_of(con, truth.SEED_CUSTOMERS["sme_manufacturer"]["customers"][0])
    row = con.execute(
        "SELECT tier, orders_12m, revenue_12m, price_mentions, lifecycle_stage FROM customer_features WHERE customer_id = ?",
        [sme],
    ).fetchone()
    # Two 产品A orders worth 192,000 in the last 12 months, but the last one 104 days ago: not tier A.
    assert row == ("C", 2, 192_000, 2, "老客户")
    large = customer_of(con, truth.SEED_CUSTOMERS["large_service_new"]["customers"][0])
    row = con.execute(
        "SELECT is_new, employee_band, need_mentions > 0, follow_up_status FROM customer_features WHERE customer_id = ?",
        [large],
    ).fetchone()
    assert row == (True, "大型", True, "跟进中")


def test_sample_tiers(con):
    # data/README.md: 华亿纺织 has four orders in the 12 months (A), 港城物流 two (B), the rest C.
    tiers = dict(con.execute("SELECT customer_id, tier FROM customers").fetchall())
    assert tiers[entity_customer(con, "huayi")] == "A"
    assert tiers[entity_customer(con, "gangcheng")] == "B"
    assert sorted(set(tiers.values())) == ["A", "B", "C"]


@pytest.mark.parametrize("row", truth.FOLLOW_UPS, ids=[str(f["entity"]) for f in truth.FOLLOW_UPS])
def test_excel_follow_up_log_rows_are_linked_or_quarantined(con, row):
    ref = list(row["row"])
    linked = con.execute(
        "SELECT customer_id, link_reason FROM interactions WHERE source_file = ? AND source_sheet = ? AND source_row = ?",
        ref,
    ).fetchone()
    quarantined = con.execute(
        "SELECT reason FROM quarantine WHERE source_file = ? AND source_sheet = ? AND source_row = ?", ref
    ).fetchone()
    if row["entity"] is None:
        assert linked is None and quarantined == ("unknown_customer",)
    else:
        assert quarantined is None
        assert linked == (entity_customer(con, row["entity"]), "customer name")


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_views_are_queryable_by_their_chinese_names(con, view):
    columns = ", ".join(VIEWS[view])
    rows = con.execute(f"SELECT {columns} FROM {view}").fetchall()
    assert rows
    source = "interactions" if view == "v_客户互动跟进记录" else "customers"
    assert len(rows) == con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
    assert con.execute("SELECT comment FROM duckdb_views() WHERE view_name = ?", [view]).fetchone()[0]


def test_every_table_and_column_has_a_comment(con):
    tables = con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main'"
    ).fetchall()
    assert {"customers", "customer_features", "tag_rules", "orders", "interactions", "quarantine"} <= {
        t for t, _ in tables
    }
    assert [t for t, comment in tables if not comment] == []
    bare = con.execute(
        """SELECT c.table_name || '.' || c.column_name FROM duckdb_columns() c
           JOIN duckdb_tables() t USING (table_oid) WHERE c.comment IS NULL OR c.comment = ''"""
    ).fetchall()
    assert bare == []


def test_every_column_of_every_view_has_a_comment(con):
    # The views are what analysts browse in a SQL client: each column says what it means and its unit.
    views = con.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall()
    assert set(VIEWS) <= {v for v, _ in views}
    assert [v for v, comment in views if not comment] == []
    bare = con.execute(
        """SELECT c.table_name || '.' || c.column_name FROM duckdb_columns() c
           JOIN duckdb_views() v ON v.view_oid = c.table_oid
           WHERE NOT v.internal AND coalesce(trim(c.comment), '') = ''"""
    ).fetchall()
    assert bare == []


def test_readme_has_the_analyst_questions():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### Questions analysts ask", 1)[1]
    assert len(re.findall(r"^-- \d+\. ", section, flags=re.M)) >= 10
    for topic in (
        "tier counts by industry",
        "overdue follow-ups",
        "churn-risk",
        "most sources",
        "completeness by source",
    ):
        assert topic in section


@pytest.mark.parametrize("sql", readme_queries(), ids=lambda s: s.splitlines()[0][:60])
def test_readme_query_is_answered_by_the_sample_run(con, sql):
    assert con.execute(sql).fetchall(), "the sample run gives no rows"


def test_export_of_the_sample_run(sample_db, tmp_path):
    _, path = sample_db
    result = CliRunner().invoke(
        app, ["export", "--db", str(path), "--out", str(tmp_path), "-f", "xlsx", "-t", "v_客户分层"]
    )
    assert result.exit_code == EXIT_OK, result.output
    import openpyxl

    sheet = openpyxl.load_workbook(tmp_path / "v_客户分层.xlsx").active
    assert [c.value for c in sheet[1]][:5] == ["客户编号", "客户名称", "所属行业", "负责人", "客户分层"]
    with duckdb.connect(str(path), read_only=True) as con:
        assert sheet.max_row == 1 + con.execute("SELECT count(*) FROM customers").fetchone()[0]
