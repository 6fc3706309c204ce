-- Analyst views with the seeds' Chinese column names. Recreated by every run (after the
-- tables of tables.sql and customer_features are built), so a newer definition replaces an
-- older one in an existing file. Query them like tables: SELECT * FROM v_客户分层 WHERE 客户分层 = 'A'.

-- 客户基本信息 (seed table 1) and the customer's owner and contact details.
CREATE OR REPLACE VIEW v_客户基本信息 AS
SELECT
    c.customer_id        AS 客户编号,
    c.customer_name      AS 客户名称,
    c.contact_name       AS 联系人,
    c.contact_title      AS 职位,
    coalesce(c.mobile, c.phone) AS 联系方式,
    c.industry           AS 所属行业,
    CASE coalesce(c.customer_stage, c.customer_type)
        WHEN 'lead' THEN '潜在客户'
        WHEN 'intent' THEN '意向客户'
        WHEN 'prospect' THEN '潜在客户'
        WHEN 'deal' THEN '成交客户'
        WHEN 'customer' THEN '成交客户'
        WHEN 'churned' THEN '流失客户'
    END                  AS 客户类型,
    c.first_contact_date AS 首次接触时间,
    c.source_channel     AS 客户来源,
    c.owner              AS 负责人,
    c.mobile             AS 手机,
    c.phone              AS 座机,
    c.email              AS 邮箱,
    c.city               AS 城市,
    c.employees          AS 员工人数,
    c.completeness       AS 信息完整度
FROM customers c
ORDER BY c.customer_id;

-- 客户互动跟进记录 (seed table 2), one row per interaction, newest first.
CREATE OR REPLACE VIEW v_客户互动跟进记录 AS
SELECT
    i.customer_id  AS 客户编号,
    c.customer_name AS 客户名称,
    i.date         AS 日期,
    i.channel      AS 方式,
    i.participants AS 参与人员,
    i.content      AS 沟通内容,
    i.feedback     AS 客户反馈,
    i.todo         AS 待办事项,
    i.owner        AS 负责人,
    i.source_file || CASE WHEN i.source_sheet <> '' THEN '#' || i.source_sheet ELSE '' END
        || '!' || i.source_row AS 记录来源
FROM interactions i
JOIN customers c USING (customer_id)
ORDER BY i.date DESC NULLS LAST, i.customer_id;

-- 客户需求与标签 (seed table 3).
CREATE OR REPLACE VIEW v_客户需求与标签 AS
SELECT
    c.customer_id        AS 客户编号,
    c.customer_name      AS 客户名称,
    c.core_need          AS 核心需求,
    f.purchase_history   AS 历史购买记录,
    c.tag_line           AS 标签组合,
    c.tags               AS 全部标签,
    f.preferred_product  AS 偏好产品,
    f.lifecycle_stage    AS 生命周期阶段
FROM customers c
JOIN customer_features f USING (customer_id)
ORDER BY c.customer_id;

-- 客户分层: RFM tier, its measures, churn risk, lifecycle and follow-up.
CREATE OR REPLACE VIEW v_客户分层 AS
SELECT
    c.customer_id             AS 客户编号,
    c.customer_name           AS 客户名称,
    c.industry                AS 所属行业,
    c.owner                   AS 负责人,
    f.tier                    AS 客户分层,
    f.tier_label              AS 分层名称,
    f.recency_days            AS 最近购买天数R,
    f.frequency_per_year      AS 年购买频次F,
    f.monetary_per_year       AS 年购买金额M,
    f.orders_12m              AS 近12个月订单数,
    f.revenue_12m             AS 近12个月金额,
    f.last_order_date         AS 最近下单日期,
    f.churn_risk              AS 流失风险,
    f.lifecycle_stage         AS 生命周期阶段,
    f.follow_up_status        AS 跟进状态,
    f.follow_up_due           AS 下次跟进日期,
    f.days_overdue            AS 逾期天数,
    f.last_interaction_date   AS 最近互动日期,
    f.last_interaction_channel AS 最近互动方式,
    f.interactions_90d        AS 近90天互动次数,
    f.as_of                   AS 计算日期
FROM customers c
JOIN customer_features f USING (customer_id)
ORDER BY f.tier, f.monetary_per_year DESC, c.customer_id;

COMMENT ON VIEW v_客户基本信息 IS '客户基本信息: one row per customer with the seeds'' column names (customers)';
COMMENT ON VIEW v_客户互动跟进记录 IS '客户互动跟进记录: every follow-up linked to a customer, newest first (interactions)';
COMMENT ON VIEW v_客户需求与标签 IS '客户需求与标签: core need, purchase history and tags per customer';
COMMENT ON VIEW v_客户分层 IS '客户分层: RFM tier (A 高价值 / B 潜力 / C 基础), R/F/M, churn risk, lifecycle, follow-up';
-- A comment on every column of every view (tests/flows/test_analyst_file.py fails a view column
-- without one): what it means, where it comes from and its unit, as SQL clients show them.
COMMENT ON COLUMN v_客户基本信息.客户编号 IS 'Identifier of the customer: C + yyyymmdd + sequence, stable across runs (customers.customer_id)';
COMMENT ON COLUMN v_客户基本信息.客户名称 IS 'Company display name, full-width and traditional forms normalised (customers.customer_name)';
COMMENT ON COLUMN v_客户基本信息.联系人 IS 'Primary contact person (customers.contact_name)';
COMMENT ON COLUMN v_客户基本信息.职位 IS 'Primary contact''s job title (customers.contact_title)';
COMMENT ON COLUMN v_客户基本信息.联系方式 IS 'Mobile in E.164, else the landline';
COMMENT ON COLUMN v_客户基本信息.所属行业 IS 'Industry: GB/T 4754 section name, or the text as written when unmapped';
COMMENT ON COLUMN v_客户基本信息.客户类型 IS '潜在客户 / 意向客户 / 成交客户 / 流失客户, from customer_stage';
COMMENT ON COLUMN v_客户基本信息.首次接触时间 IS 'Date of first contact: the earliest of the merged records (DATE)';
COMMENT ON COLUMN v_客户基本信息.客户来源 IS 'Channel the customer came from (展会, 官网 …; customers.source_channel)';
COMMENT ON COLUMN v_客户基本信息.负责人 IS 'Sales rep who owns the customer (customers.owner)';
COMMENT ON COLUMN v_客户基本信息.手机 IS 'Mobile in E.164: +86 followed by 11 digits (customers.mobile)';
COMMENT ON COLUMN v_客户基本信息.座机 IS 'Landline or 400/800 number in E.164, extension as ;ext=N (customers.phone)';
COMMENT ON COLUMN v_客户基本信息.邮箱 IS 'E-mail address, lower case (customers.email)';
COMMENT ON COLUMN v_客户基本信息.城市 IS 'City as recorded (customers.city)';
COMMENT ON COLUMN v_客户基本信息.员工人数 IS 'Number of employees as written: 80, 200-500, 1000+ (customers.employees)';
COMMENT ON COLUMN v_客户基本信息.信息完整度 IS 'Share of required fields present (0-1)';

COMMENT ON COLUMN v_客户互动跟进记录.客户编号 IS 'Identifier of the customer the follow-up was linked to (interactions.customer_id)';
COMMENT ON COLUMN v_客户互动跟进记录.客户名称 IS 'Display name of that customer (customers.customer_name)';
COMMENT ON COLUMN v_客户互动跟进记录.日期 IS 'Date of the follow-up (DATE)';
COMMENT ON COLUMN v_客户互动跟进记录.方式 IS 'Channel of the follow-up: 电话 / 邮件 / 拜访 / 会议 / 微信 … (schemas/channels.yaml)';
COMMENT ON COLUMN v_客户互动跟进记录.参与人员 IS 'People who took part, as recorded';
COMMENT ON COLUMN v_客户互动跟进记录.沟通内容 IS 'What was discussed, as recorded';
COMMENT ON COLUMN v_客户互动跟进记录.客户反馈 IS 'The customer''s response, as recorded';
COMMENT ON COLUMN v_客户互动跟进记录.待办事项 IS 'Agreed next steps, as recorded';
COMMENT ON COLUMN v_客户互动跟进记录.负责人 IS 'Sales rep who recorded the follow-up (interactions.owner)';
COMMENT ON COLUMN v_客户互动跟进记录.记录来源 IS 'file#sheet!row of the interaction record';

COMMENT ON COLUMN v_客户需求与标签.客户编号 IS 'Identifier of the customer (customers.customer_id)';
COMMENT ON COLUMN v_客户需求与标签.客户名称 IS 'Company display name (customers.customer_name)';
COMMENT ON COLUMN v_客户需求与标签.核心需求 IS 'Stated need or interest, as recorded (customers.core_need)';
COMMENT ON COLUMN v_客户需求与标签.历史购买记录 IS 'Per product: orders, revenue (CNY), last order date';
COMMENT ON COLUMN v_客户需求与标签.标签组合 IS 'tag_line: one tag per slot of tag_rules.yaml tag_line, joined with -';
COMMENT ON COLUMN v_客户需求与标签.全部标签 IS 'Every tag whose rule in schemas/tag_rules.yaml holds, by group then priority (list)';
COMMENT ON COLUMN v_客户需求与标签.偏好产品 IS 'Most ordered product, else the most mentioned one';
COMMENT ON COLUMN v_客户需求与标签.生命周期阶段 IS 'Lifecycle stage: 潜在 / 意向 / 成交 / 老客户 / 流失 (schemas/segments.yaml lifecycle)';

COMMENT ON COLUMN v_客户分层.客户编号 IS 'Identifier of the customer (customers.customer_id)';
COMMENT ON COLUMN v_客户分层.客户名称 IS 'Company display name (customers.customer_name)';
COMMENT ON COLUMN v_客户分层.所属行业 IS 'Industry: GB/T 4754 section name, or the text as written when unmapped';
COMMENT ON COLUMN v_客户分层.负责人 IS 'Sales rep who owns the customer (customers.owner)';
COMMENT ON COLUMN v_客户分层.客户分层 IS 'RFM tier: A 高价值 / B 潜力 / C 基础, thresholds in schemas/segments.yaml';
COMMENT ON COLUMN v_客户分层.分层名称 IS 'Name of the tier: 高价值 / 潜力 / 基础';
COMMENT ON COLUMN v_客户分层.最近购买天数R IS 'R: days since the last order (NULL: never ordered)';
COMMENT ON COLUMN v_客户分层.年购买频次F IS 'F: orders per year over the RFM window (segments.yaml rfm.window_months)';
COMMENT ON COLUMN v_客户分层.年购买金额M IS 'M: revenue (CNY) per year over the RFM window';
COMMENT ON COLUMN v_客户分层.近12个月订单数 IS 'Orders in the 12 months up to the calculation date (count)';
COMMENT ON COLUMN v_客户分层.近12个月金额 IS 'Revenue in the 12 months up to the calculation date (CNY)';
COMMENT ON COLUMN v_客户分层.最近下单日期 IS 'Date of the last order up to the calculation date (DATE)';
COMMENT ON COLUMN v_客户分层.流失风险 IS 'No order and no interaction for longer than segments.yaml churn_risk allows';
COMMENT ON COLUMN v_客户分层.生命周期阶段 IS 'Lifecycle stage: 潜在 / 意向 / 成交 / 老客户 / 流失 (schemas/segments.yaml lifecycle)';
COMMENT ON COLUMN v_客户分层.跟进状态 IS 'Follow-up status: 跟进中 / 跟进逾期 / 待首次联系 / 首次联系逾期 / 已成交 / 已流失 (schemas/segments.yaml follow_up)';
COMMENT ON COLUMN v_客户分层.下次跟进日期 IS 'Date the next follow-up is due (潜在/意向 customers only; DATE)';
COMMENT ON COLUMN v_客户分层.逾期天数 IS 'Days past the due date when the follow-up is overdue';
COMMENT ON COLUMN v_客户分层.最近互动日期 IS 'Date of the latest follow-up (DATE)';
COMMENT ON COLUMN v_客户分层.最近互动方式 IS 'Channel of the latest follow-up: 电话 / 邮件 / 拜访 …';
COMMENT ON COLUMN v_客户分层.近90天互动次数 IS 'Follow-ups in the 90 days up to the calculation date (count)';
COMMENT ON COLUMN v_客户分层.计算日期 IS 'as_of: the reference date of the run';
