"""Customer features as one DuckDB statement: activity, RFM tier, lifecycle, follow-up, keyword signals.

Pure: builds SQL text from the settings of schemas/segments.yaml; flows/ runs it. The statement
reads `customers`, `orders`, `interactions` and a relation `_industry_groups(code, broad_group)`,
and (re)creates `customer_features`, one row per customer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crm_etl.schemas.segments import Segments

FEATURES_TABLE = "customer_features"

# Lifecycle stages and follow-up statuses, in the seeds' words.
LEAD, INTENT, DEAL, REPEAT, CHURNED = "潜在", "意向", "成交", "老客户", "流失"
FOLLOWING, FOLLOW_OVERDUE, FIRST_DUE, FIRST_OVERDUE = "跟进中", "跟进逾期", "待首次联系", "首次联系逾期"
WON, LOST = "已成交", "已流失"
OVERDUE_STATUSES = (FOLLOW_OVERDUE, FIRST_OVERDUE)
UNNAMED_PRODUCT = "(未注明产品)"


@dataclass(frozen=True)
class Feature:
    """One column of customer_features and what it means (its COMMENT)."""

    name: str
    comment: str


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _list_literal(values: Iterable[str]) -> str:
    return "[" + ", ".join(quote(v) for v in values) + "]::VARCHAR[]"


def _date(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


def _without(text_sql: str, phrases: Sequence[str]) -> str:
    """`text_sql` with every phrase replaced by a space, longest phrase first."""
    for phrase in sorted(phrases, key=len, reverse=True):
        text_sql = f"replace({text_sql}, {quote(phrase)}, ' ')"
    return text_sql


def _threshold_sql(settings: Segments) -> str:
    """The CASE that picks the RFM tier."""
    whens = []
    for tier in settings.rfm.tiers:
        conditions = []
        if tier.max_recency_days is not None:
            conditions.append(f"recency_days <= {tier.max_recency_days}")
        if tier.min_frequency_per_year is not None:
            conditions.append(f"frequency_per_year >= {tier.min_frequency_per_year!r}")
        if tier.min_monetary_per_year is not None:
            conditions.append(f"monetary_per_year >= {tier.min_monetary_per_year!r}")
        whens.append(f"WHEN {' AND '.join(conditions) or 'true'} THEN {quote(tier.tier)}")
    return f"CASE {' '.join(whens)} ELSE {quote(settings.rfm.default.tier)} END"


def _tier_label_sql(settings: Segments) -> str:
    pairs = [(t.tier, t.label) for t in settings.rfm.tiers] + [
        (settings.rfm.default.tier, settings.rfm.default.label)
    ]
    return "CASE tier " + " ".join(f"WHEN {quote(t)} THEN {quote(label)}" for t, label in pairs) + " END"


def _band_sql(settings: Segments) -> str:
    bands = sorted(settings.employee_bands, key=lambda b: -b.min_employees)
    whens = " ".join(f"WHEN employee_count >= {b.min_employees} THEN {quote(b.label)}" for b in bands)
    return f"CASE {whens} END"


def describe_tiers(settings: Segments) -> str:
    """The tier thresholds in words, for column comments."""
    parts = []
    for t in settings.rfm.tiers:
        limits = [
            f"R<={t.max_recency_days}" if t.max_recency_days is not None else "",
            f"F>={t.min_frequency_per_year:g}" if t.min_frequency_per_year is not None else "",
            f"M>={t.min_monetary_per_year:,.0f}" if t.min_monetary_per_year is not None else "",
        ]
        parts.append(f"{t.tier} {t.label}: {' & '.join(x for x in limits if x) or 'all'}")
    parts.append(f"{settings.rfm.default.tier} {settings.rfm.default.label}: the rest")
    return "; ".join(parts)


def features(settings: Segments) -> list[Feature]:
    """The columns of customer_features, in order, with their comments."""
    w = settings.rfm.window_months
    f = settings.follow_up
    keyword_features = [
        feature
        for name in settings.keywords
        for feature in (
            Feature(f"{name}_mentions", f"Interactions whose content/feedback contain a '{name}' keyword"),
            Feature(f"{name}_keywords", f"The '{name}' keywords found (segments.yaml keywords.{name})"),
            Feature(f"{name}_note", f"The latest interaction text with a '{name}' keyword"),
        )
    ]
    return [
        Feature("customer_id", "客户编号"),
        Feature("as_of", "Reference date the features are computed at (run --as-of); later events ignored"),
        Feature(
            "industry_group", "行业大类: broad group of the GB/T 4754 section (industries.yaml broad_group)"
        ),
        Feature(
            "employee_band",
            "员工规模: band of employee_count (segments.yaml employee_bands); NULL if unknown",
        ),
        Feature(
            "is_new",
            f"新客户: first contact within {settings.new_customer_months} months before as_of",
        ),
        Feature("days_since_first_contact", "Days from first_contact_date to as_of"),
        Feature("orders_total", "Orders up to as_of"),
        Feature("revenue_total", "Revenue (CNY) of all orders up to as_of"),
        Feature("first_order_date", "Date of the first order"),
        Feature("last_order_date", "Date of the last order up to as_of"),
        Feature("orders_12m", "Orders in the 12 months up to as_of"),
        Feature("revenue_12m", "Revenue (CNY) in the 12 months up to as_of"),
        Feature("recency_days", "R: days since the last order; NULL if never ordered"),
        Feature("frequency_per_year", f"F: orders per year, over the last {w} months"),
        Feature("monetary_per_year", f"M: revenue (CNY) per year, over the last {w} months"),
        Feature("tier", f"客户分层 (RFM): {describe_tiers(settings)}"),
        Feature("tier_label", "客户分层名称: 高价值 / 潜力 / 基础"),
        Feature("products_bought", "Products ordered, most often ordered first"),
        Feature("purchase_history", "历史购买记录: per product, orders, revenue and last order date"),
        Feature("interactions_total", "Interactions (follow-ups) up to as_of"),
        Feature("interactions_90d", "Interactions in the 90 days up to as_of"),
        Feature("last_interaction_date", "最近互动日期"),
        Feature("last_interaction_channel", "最近互动方式 (电话/邮件/拜访 …)"),
        Feature("days_since_contact", "Days since the last interaction; NULL if none"),
        *keyword_features,
        Feature("products_mentioned", "Products named in interactions or the core need, most often first"),
        Feature("preferred_product", "偏好产品: most ordered product, else most mentioned"),
        Feature("last_activity_date", "Latest order or interaction date"),
        Feature("days_inactive", "Days without an order or interaction (since first contact if neither)"),
        Feature(
            "need_identified", "Need identified (segments.yaml lifecycle.intent_when): moves 潜在 to 意向"
        ),
        Feature("lifecycle_stage", "生命周期: 潜在 / 意向 / 成交 / 老客户 / 流失"),
        Feature(
            "churn_risk",
            f"流失风险: buying customer with no order and no interaction for more than "
            f"{settings.churn_risk.inactive_more_than_days} days",
        ),
        Feature(
            "follow_up_status",
            f"跟进状态: 跟进中 (contact within {f.overdue_after_days} days) / 跟进逾期 / 待首次联系 / "
            f"首次联系逾期 (no contact {f.first_contact_due_days} days after first contact) / 已成交 / 已流失",
        ),
        Feature("follow_up_due", "Date the next follow-up is due (潜在/意向 customers only)"),
        Feature(
            "follow_up_overdue",
            "跟进逾期 or 首次联系逾期: a 潜在/意向 customer's follow-up is overdue; "
            "the report's 跟进超时 counts these (schemas/kpis.yaml overdue_followups)",
        ),
        Feature("days_overdue", "Days past follow_up_due when overdue"),
    ]


def _activity_ctes(settings: Segments, as_of: dt.date) -> str:
    """CTEs up to `measured`: one row per customer, its columns plus order/interaction measures."""
    day = _date(as_of)
    w = settings.rfm.window_months
    products = settings.products
    note = "concat_ws(' | ', content, feedback)"
    # Each keyword group's text (lower case, its exclusions blanked) is computed once per interaction:
    # inside the lambda it would be rebuilt for every keyword of the group.
    keyword_texts = "".join(
        f",\n            {_without('lowered', kw.exclude)} AS text_{name}"
        for name, kw in settings.keywords.items()
    )
    keyword_hits = ",\n".join(
        f"        list_filter({_list_literal(kw.words)}, lambda w: contains(text_{name}, w)) AS kw_{name}"
        for name, kw in settings.keywords.items()
    )
    keyword_stats = ",\n".join(
        f"""        count(*) FILTER (WHERE len(kw_{name}) > 0) AS {name}_mentions,
        list_sort(list_distinct(flatten(list(kw_{name})))) AS {name}_keywords,
        arg_max(note, struct_pack(d := coalesce(day, DATE '0001-01-01'), f := source_file,
                s := source_sheet, r := source_row)) FILTER (WHERE len(kw_{name}) > 0) AS {name}_note"""
        for name in settings.keywords
    )
    keyword_columns = ",\n".join(
        f"""        coalesce(a.{name}_mentions, 0) AS {name}_mentions,
        coalesce(a.{name}_keywords, []::VARCHAR[]) AS {name}_keywords,
        a.{name}_note"""
        for name in settings.keywords
    )
    history = "format('{} ×{}单 ¥{:,.0f} 最近{}', product, n, revenue, last_date)"
    ranking = "n DESC, revenue DESC, last_date DESC, product"
    return f"""
WITH
ord AS (
    SELECT customer_id, order_date, CAST(amount_cny AS DOUBLE) AS amount,
           nullif(trim(product), '') AS product
    FROM orders
    WHERE customer_id IS NOT NULL AND order_date IS NOT NULL AND order_date <= {day}
),
order_stats AS (
    SELECT customer_id,
        count(*) AS orders_total,
        round(coalesce(sum(amount), 0), 2) AS revenue_total,
        min(order_date) AS first_order_date,
        max(order_date) AS last_order_date,
        count(*) FILTER (WHERE order_date > {day} - INTERVAL 12 MONTH) AS orders_12m,
        round(coalesce(sum(amount) FILTER (WHERE order_date > {day} - INTERVAL 12 MONTH), 0), 2) AS revenue_12m,
        count(*) FILTER (WHERE order_date > {day} - INTERVAL {w} MONTH) AS rfm_orders,
        coalesce(sum(amount) FILTER (WHERE order_date > {day} - INTERVAL {w} MONTH), 0) AS rfm_revenue
    FROM ord GROUP BY customer_id
),
product_orders AS (
    SELECT customer_id, coalesce(product, {quote(UNNAMED_PRODUCT)}) AS product, product IS NOT NULL AS named,
           count(*) AS n, sum(amount) AS revenue, max(order_date) AS last_date
    FROM ord GROUP BY ALL
),
purchases AS (
    SELECT customer_id,
        list(product ORDER BY {ranking}) FILTER (WHERE named) AS products_bought,
        string_agg({history}, '；' ORDER BY {ranking}) AS purchase_history
    FROM product_orders GROUP BY customer_id
),
catalogue AS (
    SELECT coalesce(list(DISTINCT name), []::VARCHAR[]) AS names
    FROM (
        SELECT trim(product) AS name FROM orders WHERE product IS NOT NULL
        UNION SELECT unnest({_list_literal(products.extra)})
    )
    WHERE length(name) >= {products.min_name_length}
),
acts AS (
    SELECT customer_id, day, channel, source_file, source_sheet, source_row, note,
{keyword_hits}{"," if keyword_hits else ""}
        list_filter(catalogue.names, lambda p: contains(lowered, lower(p))) AS products_hit
    FROM (
        SELECT *{keyword_texts}
        FROM (
            SELECT customer_id, "date" AS day, channel, source_file, source_sheet, source_row,
                {note} AS note, lower({note}) AS lowered
            FROM interactions
            WHERE customer_id IS NOT NULL AND ("date" IS NULL OR "date" <= {day})
        )
    ), catalogue
),
activity AS (
    SELECT customer_id,
{keyword_stats}{"," if keyword_stats else ""}
        count(*) AS interactions_total,
        count(*) FILTER (WHERE day > {day} - INTERVAL 90 DAY) AS interactions_90d,
        max(day) AS last_interaction_date
    FROM acts GROUP BY customer_id
),
last_touch AS (
    SELECT customer_id, channel AS last_interaction_channel
    FROM acts WHERE day IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY customer_id ORDER BY day DESC, source_file DESC, source_sheet DESC, source_row DESC) = 1
),
mentioned AS (
    SELECT customer_id, product, count(*) AS n, max(day) AS last_day
    FROM (
        SELECT customer_id, day, unnest(products_hit) AS product FROM acts
        UNION ALL
        SELECT c.customer_id, NULL::DATE AS day,
               unnest(list_filter(catalogue.names, lambda p: contains(lower(c.core_need), lower(p)))) AS product
        FROM customers c, catalogue WHERE c.core_need IS NOT NULL
    )
    GROUP BY ALL
),
mentions AS (
    SELECT customer_id, list(product ORDER BY n DESC, last_day DESC NULLS LAST, product) AS products_mentioned
    FROM mentioned GROUP BY customer_id
),
base AS (
    SELECT c.* EXCLUDE (tags, tag_line, tier),
        g.broad_group AS industry_group,
        coalesce(o.orders_total, 0) AS orders_total,
        coalesce(o.revenue_total, 0) AS revenue_total,
        o.first_order_date, o.last_order_date,
        coalesce(o.orders_12m, 0) AS orders_12m,
        coalesce(o.revenue_12m, 0) AS revenue_12m,
        coalesce(o.rfm_orders, 0) AS rfm_orders,
        coalesce(o.rfm_revenue, 0) AS rfm_revenue,
        coalesce(p.products_bought, []::VARCHAR[]) AS products_bought,
        p.purchase_history,
        coalesce(a.interactions_total, 0) AS interactions_total,
        coalesce(a.interactions_90d, 0) AS interactions_90d,
        a.last_interaction_date,
        t.last_interaction_channel,
{keyword_columns}{"," if keyword_columns else ""}
        coalesce(m.products_mentioned, []::VARCHAR[]) AS products_mentioned
    FROM customers c
    LEFT JOIN _industry_groups g ON g.code = c.industry_code
    LEFT JOIN order_stats o ON o.customer_id = c.customer_id
    LEFT JOIN purchases p ON p.customer_id = c.customer_id
    LEFT JOIN activity a ON a.customer_id = c.customer_id
    LEFT JOIN last_touch t ON t.customer_id = c.customer_id
    LEFT JOIN mentions m ON m.customer_id = c.customer_id
),
measured AS (
    SELECT *,
        {day} AS as_of,
        {_band_sql(settings)} AS employee_band,
        coalesce(first_contact_date >= {day} - INTERVAL {settings.new_customer_months} MONTH, false) AS is_new,
        {day} - first_contact_date AS days_since_first_contact,
        {day} - last_order_date AS recency_days,
        round(rfm_orders / ({w} / 12.0), 4) AS frequency_per_year,
        round(rfm_revenue / ({w} / 12.0), 2) AS monetary_per_year,
        {day} - last_interaction_date AS days_since_contact,
        coalesce(products_bought[1], products_mentioned[1]) AS preferred_product,
        greatest(last_order_date, last_interaction_date) AS last_activity_date,
        {day} - coalesce(greatest(last_order_date, last_interaction_date), first_contact_date) AS days_inactive
    FROM base
)"""


def intent_check_sql(settings: Segments, as_of: dt.date) -> str:
    """A query that fails unless lifecycle.intent_when is a valid predicate; returns its type."""
    return (
        _activity_ctes(settings, as_of)
        + f"\nSELECT typeof(({settings.lifecycle.intent_when})) AS type, count(*) AS n FROM measured GROUP BY ALL"
    )


def customer_features_sql(settings: Segments, as_of: dt.date) -> str:
    """CREATE OR REPLACE TABLE customer_features AS … (one row per customer)."""
    day = _date(as_of)
    f = settings.follow_up
    stage = f"""CASE
            WHEN customer_type = 'churned' OR customer_stage = 'churned' THEN {quote(CHURNED)}
            WHEN orders_total > 0
                 AND first_order_date < {day} - INTERVAL {settings.lifecycle.repeat_after_months} MONTH
                THEN {quote(REPEAT)}
            WHEN orders_total > 0 OR customer_type = 'customer' THEN {quote(DEAL)}
            WHEN need_identified THEN {quote(INTENT)}
            ELSE {quote(LEAD)}
        END"""
    open_stage = f"lifecycle_stage IN ({quote(LEAD)}, {quote(INTENT)})"
    follow_up = f"""CASE
            WHEN lifecycle_stage = {quote(CHURNED)} THEN {quote(LOST)}
            WHEN NOT {open_stage} THEN {quote(WON)}
            WHEN interactions_total > 0 AND days_since_contact <= {f.overdue_after_days} THEN {quote(FOLLOWING)}
            WHEN interactions_total > 0 THEN {quote(FOLLOW_OVERDUE)}
            WHEN days_since_first_contact <= {f.first_contact_due_days} THEN {quote(FIRST_DUE)}
            ELSE {quote(FIRST_OVERDUE)}
        END"""
    due = f"""CASE WHEN {open_stage} THEN
            CASE WHEN interactions_total > 0 THEN last_interaction_date + {f.overdue_after_days}
                 ELSE first_contact_date + {f.first_contact_due_days} END
        END"""
    overdue = f"follow_up_status IN ({', '.join(quote(s) for s in OVERDUE_STATUSES)})"
    churn = (
        f"(orders_total > 0 OR customer_type = 'customer') AND lifecycle_stage <> {quote(CHURNED)} "
        f"AND coalesce(days_inactive > {settings.churn_risk.inactive_more_than_days}, false)"
    )
    columns = ", ".join(feature.name for feature in features(settings))
    return f"""CREATE OR REPLACE TABLE {FEATURES_TABLE} AS
{_activity_ctes(settings, as_of)},
assessed AS (
    SELECT *, coalesce(({settings.lifecycle.intent_when}), false) AS need_identified FROM measured
),
staged AS (
    SELECT *, {stage} AS lifecycle_stage, {_threshold_sql(settings)} AS tier FROM assessed
),
followed AS (
    SELECT *,
        {follow_up} AS follow_up_status,
        {due} AS follow_up_due,
        {_tier_label_sql(settings)} AS tier_label,
        {churn} AS churn_risk
    FROM staged
),
flagged AS (
    SELECT *, {overdue} AS follow_up_overdue FROM followed
)
SELECT {columns}
FROM (SELECT *, CASE WHEN follow_up_overdue THEN {day} - follow_up_due END AS days_overdue FROM flagged)
ORDER BY customer_id"""


def feature_comments_sql(settings: Segments) -> list[str]:
    """COMMENT ON statements for customer_features and each of its columns."""
    statements = [
        f"COMMENT ON TABLE {FEATURES_TABLE} IS "
        + quote("Per-customer features, RFM tier, lifecycle and follow-up status (schemas/segments.yaml)")
    ]
    statements += [
        f"COMMENT ON COLUMN {FEATURES_TABLE}.{feature.name} IS {quote(feature.comment)}"
        for feature in features(settings)
    ]
    return statements
