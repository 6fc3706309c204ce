"""Features, RFM tiers, lifecycle, follow-up and every tag rule on crafted customers in a real DuckDB file.

Each threshold is checked with a customer just inside and one just outside it. The customers are
loaded into a DuckDB file built from schemas/tables.sql and run through the same functions the
flow calls, with the bundled schemas/segments.yaml and schemas/tag_rules.yaml.
"""

from __future__ import annotations

import datetime as dt
import shutil
from typing import Any

import pytest

from crm_etl.flows.profile import RuleError, apply_tag_rules, build_customer_features
from crm_etl.schemas import SCHEMAS_DIR
from crm_etl.schemas.config import load_tag_rules
from crm_etl.schemas.segments import Lifecycle, load_segments
from tests.flows.crafted import AS_OF, BROAD_GROUPS, ago, load_crafted, new_database, profile_and_tag

TWELVE_MONTHS_AGO = dt.date(2023, 6, 30)
THREE_MONTHS_AGO = dt.date(2024, 3, 30)
TWO_MONTHS_AGO = dt.date(2024, 4, 30)


# customer id -> customer fields (besides defaults), orders (date, amount, product), interactions
# (date, content, feedback).
CUSTOMERS: dict[str, dict[str, Any]] = {
    # RFM tier A: F >= 4, M >= 100,000, R <= 30.
    "A_edge": {"buyer": True, "orders": [(ago(d), 25_000, "产品A") for d in (30, 60, 90, 120)]},
    "A_late": {"buyer": True, "orders": [(ago(d), 25_000, "产品A") for d in (31, 60, 90, 120)]},
    "A_three": {
        "buyer": True,
        "orders": [(ago(30), 40_000, "产品A"), (ago(60), 30_000, "产品A"), (ago(90), 30_000, "产品A")],
    },
    "A_short": {
        "buyer": True,
        "orders": [
            (ago(d), a, "产品A") for d, a in ((30, 25_000), (60, 25_000), (90, 25_000), (120, 24_999.99))
        ],
    },
    # RFM tier B: F >= 2, M >= 50,000, R <= 30.
    "B_edge": {"buyer": True, "orders": [(ago(30), 25_000, "产品B"), (ago(200), 25_000, "产品B")]},
    "B_short": {"buyer": True, "orders": [(ago(30), 25_000, "产品B"), (ago(200), 24_999.99, "产品B")]},
    "B_once": {"buyer": True, "orders": [(ago(30), 50_000, "产品B")]},
    "B_late": {"buyer": True, "orders": [(ago(31), 25_000, "产品B"), (ago(200), 25_000, "产品B")]},
    # The 12-month window starts the day after as_of - 12 months; later orders do not count yet.
    "sleeping": {"buyer": True, "orders": [(TWELVE_MONTHS_AGO, 200_000, "产品A")]},
    "window_in": {"buyer": True, "orders": [(TWELVE_MONTHS_AGO + dt.timedelta(days=1), 200_000, "产品A")]},
    "future": {
        "buyer": True,
        "first_contact_date": ago(10),
        "orders": [(AS_OF + dt.timedelta(days=1), 500_000, "产品A")],
    },
    # Churn risk: a buying customer with no order and no interaction for more than 180 days.
    "churn_180": {"buyer": True, "orders": [(ago(180), 1_000, "产品A")]},
    "churn_181": {"buyer": True, "orders": [(ago(181), 1_000, "产品A")]},
    "churn_talked": {
        "buyer": True,
        "orders": [(ago(400), 1_000, "产品A")],
        "interactions": [(ago(100), "回访", None)],
    },
    "churn_no_orders": {"buyer": True, "first_contact_date": ago(181)},
    "churn_prospect": {"first_contact_date": ago(400)},
    "churn_churned": {
        "customer_type": "churned",
        "customer_stage": "churned",
        "orders": [(ago(400), 1_000, "产品A")],
    },
    # Lifecycle.
    "life_repeat": {"buyer": True, "orders": [(THREE_MONTHS_AGO - dt.timedelta(days=1), 1_000, "产品A")]},
    "life_deal_edge": {"buyer": True, "orders": [(THREE_MONTHS_AGO, 1_000, "产品A")]},
    "life_deal_typed": {"buyer": True, "first_contact_date": ago(10)},
    "life_churned": {"customer_type": "churned", "customer_stage": "churned"},
    "life_intent_stage": {"customer_stage": "intent"},
    "life_need_field": {"core_need": "仓储管理系统"},
    "life_need_words": {"interactions": [(ago(200), "上门拜访", "客户需求明确：采购10台")]},
    "life_lead": {},
    # Follow-up of leads: contact every 30 days; a new lead is contacted within 7 days.
    "fu_30": {"interactions": [(ago(30), "电话沟通", None)]},
    "fu_31": {"interactions": [(ago(31), "电话沟通", None)]},
    "fu_new_7": {"first_contact_date": ago(7)},
    "fu_new_8": {"first_contact_date": ago(8)},
    "fu_unknown": {"first_contact_date": None},
    # New customer: first contact within two months.
    "new_2m": {"first_contact_date": TWO_MONTHS_AGO},
    "old_2m": {"first_contact_date": TWO_MONTHS_AGO - dt.timedelta(days=1)},
    # Employee bands.
    **{f"band_{n}": {"employee_count": n} for n in (19, 20, 299, 300, 999, 1000)},
    "band_null": {"employee_count": None},
    # Industries (GB/T 4754 sections and their broad groups).
    **{f"ind_{code}": {"industry_code": code} for code in "ABCDEIL"},
    # Interactions in the last 90 days.
    "act_89": {"interactions": [(ago(89), "电话", None)]},
    "act_90": {"interactions": [(ago(90), "电话", None)]},
    "active_3": {"interactions": [(ago(d), "电话", None) for d in (1, 20, 89)]},
    "active_2": {"interactions": [(ago(d), "电话", None) for d in (1, 20, 90)]},
    # Keywords in content and feedback.
    "kw_price": {"interactions": [(ago(5), "报价", "觉得偏贵，希望打折")]},
    "kw_polite": {"interactions": [(ago(5), "感谢贵公司的宝贵意见", "贵州工厂下月投产")]},
    "kw_budget_ok": {"interactions": [(ago(5), "方案沟通", "预算已批，下季度采购")]},
    "kw_english": {"interactions": [(ago(5), "Call", "Asked for a DISCOUNT")]},
    "kw_no_plan": {"interactions": [(ago(5), "初次电话沟通", "暂无采购计划")]},
    "kw_empty": {"interactions": [(ago(5), None, None)]},
    # Product preference.
    "prod_orders": {
        "buyer": True,
        "orders": [(ago(5), 10_000, "产品A"), (ago(6), 10_000, "产品A"), (ago(7), 50_000, "产品B")],
    },
    "prod_tie": {"buyer": True, "orders": [(ago(5), 10_000, "产品A"), (ago(6), 20_000, "产品B")]},
    "prod_short": {"buyer": True, "orders": [(ago(5), 1_000, "X")]},
    "prod_mention": {
        "interactions": [
            (ago(5), "产品B报价 X", None),
            (ago(6), "寄产品B样品", None),
            (ago(7), "产品A资料", None),
        ]
    },
    "prod_need": {"core_need": "想了解产品A"},
    # Completeness.
    "complete": {"completeness": 0.9},
    "incomplete": {"completeness": 0.89},
    # The seeds' two examples.
    "seed_sme": {
        "buyer": True,
        "industry_code": "C",
        "employee_count": 80,
        "first_contact_date": ago(320),
        "orders": [(ago(290), 128_000, "产品A"), (ago(104), 64_000, "产品A")],
        "interactions": [(ago(81), "沟通二季度产品A补货", "客户反馈价格偏高，希望有折扣")],
    },
    "seed_large_new": {
        "industry_code": "L",
        "employee_count": 1000,
        "customer_stage": "intent",
        "first_contact_date": dt.date(2024, 5, 18),
        "interactions": [(dt.date(2024, 6, 12), "明确需求：为全国分支机构采购员工管理系统", "预算已批")],
    },
}


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    con = new_database(tmp_path_factory.mktemp("crafted") / "crafted.duckdb")
    load_crafted(con, CUSTOMERS)
    profile_and_tag(con)
    yield con
    con.close()


def feature(con, cid: str, column: str) -> Any:
    row = con.execute(f"SELECT {column} FROM customer_features WHERE customer_id = ?", [cid]).fetchone()
    assert row is not None, cid
    return row[0]


def tags_of(con, cid: str) -> list[str]:
    return con.execute("SELECT tags FROM customers WHERE customer_id = ?", [cid]).fetchone()[0]


@pytest.mark.parametrize(
    ("cid", "tier"),
    [
        ("A_edge", "A"),
        ("A_late", "C"),
        ("A_three", "B"),
        ("A_short", "B"),
        ("B_edge", "B"),
        ("B_short", "C"),
        ("B_once", "C"),
        ("B_late", "C"),
        ("sleeping", "C"),
        ("life_lead", "C"),
    ],
)
def test_rfm_tier_boundaries(crafted, cid, tier):
    assert feature(crafted, cid, "tier") == tier
    assert crafted.execute("SELECT tier FROM customers WHERE customer_id = ?", [cid]).fetchone()[0] == tier


def test_rfm_measures(crafted):
    assert feature(crafted, "A_edge", "recency_days") == 30
    assert feature(crafted, "A_edge", "frequency_per_year") == 4
    assert feature(crafted, "A_edge", "monetary_per_year") == 100_000
    assert feature(crafted, "A_short", "monetary_per_year") == pytest.approx(99_999.99)
    assert feature(crafted, "A_edge", "tier_label") == "高价值"
    assert feature(crafted, "B_edge", "tier_label") == "潜力"
    assert feature(crafted, "life_lead", "tier_label") == "基础"
    assert feature(crafted, "life_lead", "recency_days") is None


@pytest.mark.parametrize(
    ("cid", "orders_12m", "revenue_12m", "orders_total"),
    [("sleeping", 0, 0, 1), ("window_in", 1, 200_000, 1), ("future", 0, 0, 0)],
)
def test_twelve_month_window_and_future_orders(crafted, cid, orders_12m, revenue_12m, orders_total):
    assert feature(crafted, cid, "orders_12m") == orders_12m
    assert feature(crafted, cid, "revenue_12m") == revenue_12m
    assert feature(crafted, cid, "orders_total") == orders_total


@pytest.mark.parametrize(
    ("cid", "risk"),
    [
        ("churn_180", False),
        ("churn_181", True),
        ("churn_talked", False),
        ("churn_no_orders", True),
        ("churn_prospect", False),
        ("churn_churned", False),
    ],
)
def test_churn_risk(crafted, cid, risk):
    assert feature(crafted, cid, "churn_risk") is risk


@pytest.mark.parametrize(
    ("cid", "stage"),
    [
        ("life_churned", "流失"),
        ("life_repeat", "老客户"),
        ("life_deal_edge", "成交"),
        ("life_deal_typed", "成交"),
        ("life_intent_stage", "意向"),
        ("life_need_field", "意向"),
        ("life_need_words", "意向"),
        ("life_lead", "潜在"),
        ("future", "成交"),
    ],
)
def test_lifecycle_stage(crafted, cid, stage):
    assert feature(crafted, cid, "lifecycle_stage") == stage


@pytest.mark.parametrize(
    ("cid", "status", "overdue", "days_overdue", "due"),
    [
        ("fu_30", "跟进中", False, None, AS_OF),
        ("fu_31", "跟进逾期", True, 1, AS_OF - dt.timedelta(days=1)),
        ("fu_new_7", "待首次联系", False, None, AS_OF),
        ("fu_new_8", "首次联系逾期", True, 1, AS_OF - dt.timedelta(days=1)),
        ("fu_unknown", "首次联系逾期", True, None, None),
        ("life_repeat", "已成交", False, None, None),
        ("life_churned", "已流失", False, None, None),
    ],
)
def test_follow_up_status(crafted, cid, status, overdue, days_overdue, due):
    assert feature(crafted, cid, "follow_up_status") == status
    assert feature(crafted, cid, "follow_up_overdue") is overdue
    assert feature(crafted, cid, "days_overdue") == days_overdue
    assert feature(crafted, cid, "follow_up_due") == due


@pytest.mark.parametrize(("cid", "new"), [("new_2m", True), ("old_2m", False), ("fu_unknown", False)])
def test_new_customer(crafted, cid, new):
    assert feature(crafted, cid, "is_new") is new


@pytest.mark.parametrize(
    ("count", "band"),
    [(19, "微型"), (20, "小型"), (299, "小型"), (300, "中型"), (999, "中型"), (1000, "大型"), ("null", None)],
)
def test_employee_band(crafted, count, band):
    assert feature(crafted, f"band_{count}", "employee_band") == band


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("A", "农业"),
        ("B", "采矿业"),
        ("C", "制造业"),
        ("D", "能源"),
        ("E", "建筑业"),
        ("I", "服务业"),
        ("L", "服务业"),
    ],
)
def test_industry_group(crafted, code, group):
    assert feature(crafted, f"ind_{code}", "industry_group") == group


@pytest.mark.parametrize(("cid", "n"), [("act_89", 1), ("act_90", 0), ("active_3", 3), ("active_2", 2)])
def test_interactions_in_the_last_90_days(crafted, cid, n):
    assert feature(crafted, cid, "interactions_90d") == n


def test_last_interaction(crafted):
    assert feature(crafted, "active_3", "last_interaction_date") == ago(1)
    assert feature(crafted, "active_3", "last_interaction_channel") == "电话"
    assert feature(crafted, "active_3", "days_since_contact") == 1
    assert feature(crafted, "life_lead", "last_interaction_date") is None


@pytest.mark.parametrize(
    ("cid", "price", "need"),
    [
        ("kw_price", ["打折", "贵"], []),
        ("kw_polite", [], []),
        ("kw_budget_ok", [], ["预算已批"]),
        ("kw_english", ["discount"], []),
        ("kw_no_plan", [], []),
        ("kw_empty", [], []),
        ("seed_sme", ["价格", "折扣"], []),
    ],
    ids=[
        "price-words",
        "polite-贵-excluded",
        "budget-approved",
        "english-any-case",
        "no-plan",
        "empty",
        "seed-note",
    ],
)
def test_keyword_signals(crafted, cid, price, need):
    assert feature(crafted, cid, "price_keywords") == price
    assert feature(crafted, cid, "price_mentions") == (1 if price else 0)
    assert feature(crafted, cid, "need_keywords") == need
    assert feature(crafted, cid, "need_note") == ("方案沟通 | 预算已批，下季度采购" if need else None)


@pytest.mark.parametrize(
    ("cid", "preferred", "mentioned"),
    [
        ("prod_orders", "产品A", []),
        ("prod_tie", "产品B", []),
        ("prod_mention", "产品B", ["产品B", "产品A"]),
        ("prod_need", "产品A", ["产品A"]),
        ("life_lead", None, []),
    ],
)
def test_product_preference(crafted, cid, preferred, mentioned):
    assert feature(crafted, cid, "preferred_product") == preferred
    assert feature(crafted, cid, "products_mentioned") == mentioned


def test_purchase_history(crafted):
    assert feature(crafted, "prod_orders", "products_bought") == ["产品A", "产品B"]
    assert feature(crafted, "prod_orders", "purchase_history") == (
        f"产品A ×2单 ¥20,000 最近{ago(5)}；产品B ×1单 ¥50,000 最近{ago(7)}"
    )


def test_seed_tag_lines(crafted):
    line = "SELECT tag_line FROM customers WHERE customer_id = ?"
    assert crafted.execute(line, ["seed_sme"]).fetchone()[0] == "制造业-中小客户-高价值-价格敏感"
    assert crafted.execute(line, ["seed_large_new"]).fetchone()[0] == "服务业-大型客户-新客户-需求明确"
    # 高价值 is spend; the RFM tier also wants recent, frequent orders.
    assert feature(crafted, "seed_sme", "tier") == "C"


# tag -> (a customer who gets it, a customer just outside its rule)
RULE_CASES = {
    "制造业": ("ind_C", "ind_I"),
    "服务业": ("ind_I", "ind_C"),
    "农林牧渔": ("ind_A", "ind_C"),
    "建筑业": ("ind_E", "ind_C"),
    "采矿业": ("ind_B", "ind_C"),
    "能源": ("ind_D", "ind_C"),
    "大型客户": ("band_1000", "band_999"),
    "中小客户": ("band_999", "band_1000"),
    "高价值": ("A_edge", "A_short"),
    "潜力客户": ("B_edge", "B_short"),
    "新客户": ("new_2m", "old_2m"),
    "低价值": ("B_short", "B_edge"),
    "沉睡客户": ("sleeping", "window_in"),
    "流失风险": ("churn_181", "churn_180"),
    "近期需跟进": ("fu_31", "fu_30"),
    "需求明确": ("kw_budget_ok", "kw_no_plan"),
    "价格敏感": ("kw_price", "kw_polite"),
    "高频采购": ("A_edge", "A_three"),
    "互动活跃": ("active_3", "active_2"),
    "潜在客户": ("life_lead", "life_intent_stage"),
    "意向客户": ("life_intent_stage", "life_lead"),
    "成交客户": ("life_deal_edge", "life_repeat"),
    "老客户": ("life_repeat", "life_deal_edge"),
    "已流失": ("life_churned", "life_lead"),
    "跟进中": ("fu_30", "fu_31"),
    "资料待补全": ("incomplete", "complete"),
}


def test_every_bundled_rule_has_a_case():
    assert {r.tag for r in load_tag_rules().rules} == set(RULE_CASES)


@pytest.mark.parametrize("tag", sorted(RULE_CASES))
def test_rule_just_inside_and_just_outside(crafted, tag):
    inside, outside = RULE_CASES[tag]
    assert tag in tags_of(crafted, inside)
    assert tag not in tags_of(crafted, outside)


def test_size_tags_need_a_known_size(crafted):
    assert not {"大型客户", "中小客户"} & set(tags_of(crafted, "band_null"))
    assert "中小客户" in tags_of(crafted, "band_19")


def test_tag_rules_table_counts_matches(crafted):
    rows = dict(crafted.execute("SELECT tag, customers FROM tag_rules WHERE slot = '行业'").fetchall())
    assert (
        rows["制造业"]
        == crafted.execute("SELECT count(*) FROM customers WHERE industry_code = 'C'").fetchone()[0]
    )
    source = crafted.execute("SELECT rule_source FROM tag_rules WHERE tag = '制造业'").fetchone()[0]
    assert source == f"tag_rules.yaml:{next(r.line for r in load_tag_rules().rules if r.tag == '制造业')}"


def test_views_answer_by_their_chinese_names(crafted):
    assert crafted.execute(
        "SELECT 客户编号, 客户类型 FROM v_客户基本信息 WHERE 客户编号 = 'life_churned'"
    ).fetchone() == (
        "life_churned",
        "流失客户",
    )
    assert (
        crafted.execute("SELECT count(*) FROM v_客户互动跟进记录").fetchone()[0]
        == crafted.execute("SELECT count(*) FROM interactions").fetchone()[0]
    )
    assert crafted.execute("SELECT 标签组合 FROM v_客户需求与标签 WHERE 客户编号 = 'seed_sme'").fetchone()[
        0
    ] == ("制造业-中小客户-高价值-价格敏感")
    assert crafted.execute(
        "SELECT 客户分层, 分层名称, 年购买频次F FROM v_客户分层 WHERE 客户编号 = 'A_edge'"
    ).fetchone() == (
        "A",
        "高价值",
        4,
    )


def _rules_with(tmp_path, old: str, new: str):
    schemas = tmp_path / "schemas"
    schemas.mkdir(exist_ok=True)
    target = schemas / "tag_rules.yaml"
    shutil.copy(SCHEMAS_DIR / "tag_rules.yaml", target)
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return load_tag_rules(target)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "price_mentions > 0",
            "price_mention > 0",
            r"tag rule '价格敏感' \(.*tag_rules\.yaml:\d+\) has an invalid predicate 'price_mention > 0': .*price_mention",
        ),
        (
            "price_mentions > 0",
            "price_mentions",
            r"tag rule '价格敏感' .* it is BIGINT, not a true/false condition",
        ),
        (
            "price_mentions > 0",
            "CAST(customer_name AS INTEGER) > 0",
            r"tag rule '价格敏感' .*invalid predicate.*Conversion",
        ),
    ],
    ids=["unknown-column", "not-boolean", "fails-on-data"],
)
def test_broken_predicate_names_rule_and_line(tmp_path, old, new, message):
    rules = _rules_with(tmp_path, old, new)
    con = new_database(tmp_path / "t.duckdb")
    load_crafted(con, {k: CUSTOMERS[k] for k in ("seed_sme", "life_lead")})
    build_customer_features(con, load_segments(), BROAD_GROUPS, AS_OF)
    with pytest.raises(RuleError, match=message):
        apply_tag_rules(con, rules)


def test_broken_intent_predicate_names_the_setting(tmp_path):
    segments = load_segments()
    broken = segments.model_copy(
        update={"lifecycle": Lifecycle(repeat_after_months=3, intent_when="core_needs IS NULL")}
    )
    con = new_database(tmp_path / "t.duckdb")
    load_crafted(con, {"life_lead": CUSTOMERS["life_lead"]})
    with pytest.raises(
        RuleError,
        match=r"segments\.yaml: lifecycle\.intent_when 'core_needs IS NULL' is not a valid predicate",
    ):
        build_customer_features(con, broken, BROAD_GROUPS, AS_OF)
    not_boolean = segments.model_copy(
        update={"lifecycle": Lifecycle(repeat_after_months=3, intent_when="orders_total")}
    )
    with pytest.raises(
        RuleError, match=r"lifecycle\.intent_when 'orders_total' is BIGINT, not a true/false condition"
    ):
        build_customer_features(con, not_boolean, BROAD_GROUPS, AS_OF)


def test_every_column_of_every_view_has_a_comment(crafted):
    views = [
        v for (v,) in crafted.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    ]
    assert len(views) >= 4
    bare = crafted.execute(
        """SELECT c.table_name || '.' || c.column_name FROM duckdb_columns() c
           JOIN duckdb_views() v ON v.view_oid = c.table_oid
           WHERE NOT v.internal AND coalesce(trim(c.comment), '') = ''"""
    ).fetchall()
    assert bare == []


def test_empty_database_profiles_without_error(tmp_path):
    con = new_database(tmp_path / "empty.duckdb")
    profile_and_tag(con)
    assert con.execute("SELECT count(*) FROM customer_features").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM v_客户分层").fetchone() == (0,)


def test_features_and_their_comments(crafted):
    rows = crafted.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'customer_features'"
    ).fetchall()
    assert rows and all(comment for _, comment in rows)
    tier_comment = dict(rows)["tier"]
    assert "A 高价值: R<=30 & F>=4 & M>=100,000" in tier_comment
