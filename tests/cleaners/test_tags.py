from dataclasses import dataclass

import duckdb

from cleaners.tags import predicate_check_sql, tag_update_sql


@dataclass
class Rule:
    tag: str
    group: str
    when: str
    priority: int = 0


RULES = [
    Rule("制造业", "行业", "industry_code = 'C'", 10),
    Rule("大型客户", "规模", "employee_count >= 1000", 10),
    Rule("中小客户", "规模", "employee_count < 1000", 5),
    Rule("资料待补全", "状态", "completeness < 0.9", 1),
    Rule("O'Brien", "状态", "false", 0),
]


def test_tags_and_tag_line_in_duckdb():
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE customers (id INT, industry_code VARCHAR, employee_count INT, completeness DOUBLE,"
        " tags VARCHAR[], tag_line VARCHAR)"
    )
    con.execute(
        "INSERT INTO customers VALUES (1, 'C', 80, 1.0, NULL, NULL), (2, 'I', 5000, 0.5, NULL, NULL),"
        " (3, NULL, NULL, 1.0, NULL, NULL)"
    )
    con.execute(tag_update_sql(RULES, ["行业", "规模", "状态"]))
    rows = con.execute("SELECT id, tags, tag_line FROM customers ORDER BY id").fetchall()
    assert rows == [
        (1, ["制造业", "中小客户"], "制造业-中小客户"),
        (2, ["大型客户", "资料待补全"], "大型客户-资料待补全"),
        (3, [], None),
    ]


def test_predicate_check_sql_fails_on_broken_predicate():
    con = duckdb.connect()
    con.execute("CREATE TABLE customers (x INT)")
    con.execute(predicate_check_sql(Rule("ok", "g", "x > 1")))
    try:
        con.execute(predicate_check_sql(Rule("bad", "g", "no_such_column = 1")))
    except duckdb.Error as exc:
        assert "no_such_column" in str(exc)
    else:
        raise AssertionError("a broken predicate must fail")
