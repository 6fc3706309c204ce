from dataclasses import dataclass

import duckdb
import pytest

from crm_etl.cleaners.tags import (
    TAG_INPUT,
    ordered_rules,
    predicate_check_sql,
    predicate_type_sql,
    tag_input_sql,
    tag_update_sql,
)


@dataclass
class Rule:
    tag: str
    group: str
    when: str
    priority: int = 0
    slot: str | None = None


GROUPS = ["属性", "行为", "价值", "状态"]
SLOTS = ["行业", "规模", "价值", "关注点"]
RULES = [
    Rule("资料待补全", "状态", "completeness < 0.9", 1),
    Rule("制造业", "属性", "industry_code = 'C'", 10, "行业"),
    Rule("大型客户", "属性", "employee_count >= 1000", 10, "规模"),
    Rule("中小客户", "属性", "employee_count < 1000", 10, "规模"),
    Rule("高价值", "价值", "revenue >= 100000", 40, "价值"),
    Rule("新客户", "状态", "is_new", 20, "价值"),
    Rule("价格敏感", "行为", "price_mentions > 0", 20, "关注点"),
    Rule("流失风险", "状态", "churn_risk", 50, "关注点"),
    # The same tag from a second condition is listed once.
    Rule("价格敏感", "行为", "note LIKE '%贵%'", 20, "关注点"),
    Rule("O'Brien", "状态", "false", 0),
]


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE customers (customer_id VARCHAR, industry_code VARCHAR, employee_count INT,"
        " completeness DOUBLE, tags VARCHAR[], tag_line VARCHAR, tier VARCHAR)"
    )
    con.execute(
        "CREATE TABLE customer_features (customer_id VARCHAR, revenue DOUBLE, is_new BOOLEAN,"
        " price_mentions INT, churn_risk BOOLEAN, note VARCHAR)"
    )
    con.execute(
        """INSERT INTO customers VALUES
           ('a', 'C', 80, 1.0, NULL, NULL, NULL),
           ('b', 'I', 5000, 0.5, NULL, NULL, NULL),
           ('c', NULL, NULL, 1.0, NULL, NULL, NULL),
           ('d', 'C', 200, 1.0, NULL, NULL, NULL)"""
    )
    con.execute(
        """INSERT INTO customer_features VALUES
           ('a', 192000, false, 2, false, NULL),
           ('b', 0, true, 0, false, NULL),
           ('c', NULL, NULL, NULL, NULL, NULL),
           ('d', 120000, false, 0, true, '太贵了')"""
    )
    con.execute(tag_input_sql())
    return con


def test_tags_by_group_and_tag_line_by_slot(con):
    con.execute(tag_update_sql(RULES, GROUPS, SLOTS))
    rows = con.execute("SELECT customer_id, tags, tag_line FROM customers ORDER BY 1").fetchall()
    assert rows == [
        ("a", ["制造业", "中小客户", "价格敏感", "高价值"], "制造业-中小客户-高价值-价格敏感"),
        ("b", ["大型客户", "新客户", "资料待补全"], "大型客户-新客户"),
        ("c", [], None),
        # Within a slot the higher priority wins: 流失风险 (50) over 价格敏感 (20).
        ("d", ["制造业", "中小客户", "价格敏感", "高价值", "流失风险"], "制造业-中小客户-高价值-流失风险"),
    ]


def test_rules_order_by_group_then_priority_then_file_order():
    ordered = ordered_rules(RULES, GROUPS)
    assert [r.tag for r in ordered][:4] == ["制造业", "大型客户", "中小客户", "价格敏感"]
    assert [r.tag for r in ordered][-3:] == ["新客户", "资料待补全", "O'Brien"]


def test_predicate_type_and_check(con):
    ok = Rule("ok", "属性", "employee_count > 1")
    assert con.execute(predicate_type_sql(ok)).fetchall()[0][1] == "BOOLEAN"
    assert con.execute(predicate_check_sql(ok)).fetchone() == (3,)
    not_boolean = Rule("count", "属性", "employee_count")
    assert con.execute(predicate_type_sql(not_boolean)).fetchall()[0][1] == "INTEGER"
    with pytest.raises(duckdb.Error, match="no_such_column"):
        con.execute(predicate_type_sql(Rule("bad", "属性", "no_such_column = 1")))
    # Binds, but fails on the data: only evaluating it on every row finds out.
    failing = Rule("cast", "属性", "CAST(industry_code AS INTEGER) > 1")
    assert con.execute(predicate_type_sql(failing)).fetchall()[0][1] == "BOOLEAN"
    with pytest.raises(duckdb.Error):
        con.execute(predicate_check_sql(failing)).fetchall()


def test_tag_input_joins_customers_and_features(con):
    columns = [r[0] for r in con.execute(f"DESCRIBE {TAG_INPUT}").fetchall()]
    assert columns.count("customer_id") == 1
    assert {"industry_code", "employee_count", "revenue", "churn_risk"} <= set(columns)
    assert not {"tags", "tag_line", "tier"} & set(columns)


def test_tags_set_inside_a_transaction_on_a_keyed_table_keep_its_shape():
    # The flow tags customers (a primary key, column comments) inside the run's transaction.
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE customers (customer_id VARCHAR PRIMARY KEY, industry_code VARCHAR, employee_count INT,"
        " completeness DOUBLE, tags VARCHAR[], tag_line VARCHAR, tier VARCHAR)"
    )
    con.execute("COMMENT ON COLUMN customers.tags IS '标签'")
    con.execute(
        "CREATE TABLE customer_features (customer_id VARCHAR, revenue DOUBLE, is_new BOOLEAN,"
        " price_mentions INT, churn_risk BOOLEAN, note VARCHAR)"
    )
    con.execute("BEGIN")
    con.execute(
        "INSERT INTO customers VALUES ('a', 'C', 80, 1.0, NULL, NULL, NULL), ('b', NULL, NULL, 0.5, NULL, NULL, NULL)"
    )
    con.execute("INSERT INTO customer_features VALUES ('a', 192000, false, 0, false, NULL)")
    con.execute(tag_input_sql())
    con.execute(tag_update_sql(RULES, GROUPS, SLOTS))
    con.execute("COMMIT")
    rows = con.execute("SELECT customer_id, tags, tag_line FROM customers ORDER BY 1").fetchall()
    # 'b' has no features row: its tags are left as they were.
    assert rows == [("a", ["制造业", "中小客户", "高价值"], "制造业-中小客户-高价值"), ("b", None, None)]
    columns = con.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'customers'"
    ).fetchall()
    assert [c for c, _ in columns] == [
        "customer_id",
        "industry_code",
        "employee_count",
        "completeness",
        "tags",
        "tag_line",
        "tier",
    ]
    assert dict(columns)["tags"] == "标签"
    assert (
        "PRIMARY KEY"
        in con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'customers'").fetchone()[0]
    )
