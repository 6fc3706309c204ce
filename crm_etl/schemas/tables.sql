-- The output contract: every table crm-etl publishes into the DuckDB file.
-- Current-state tables are rebuilt by each run; runs, run_files and
-- validation_results keep history. Applied with CREATE ... IF NOT EXISTS.

CREATE TABLE IF NOT EXISTS customers (
    customer_id        VARCHAR PRIMARY KEY,
    customer_name      VARCHAR,
    company_key        VARCHAR,
    contact_name       VARCHAR,
    contact_title      VARCHAR,
    mobile             VARCHAR,
    phone              VARCHAR,
    other_phones       VARCHAR[],
    email              VARCHAR,
    industry           VARCHAR,
    industry_code      VARCHAR,
    customer_type      VARCHAR,
    customer_stage     VARCHAR,
    first_contact_date DATE,
    source_channel     VARCHAR,
    owner              VARCHAR,
    city               VARCHAR,
    address            VARCHAR,
    employees          VARCHAR,
    employee_count     BIGINT,
    core_need          VARCHAR,
    tags               VARCHAR[],
    tag_line           VARCHAR,
    tier               VARCHAR,
    completeness       DOUBLE,
    missing_fields     VARCHAR[],
    source_count       BIGINT,
    field_sources      JSON,
    run_id             VARCHAR
);

CREATE TABLE IF NOT EXISTS contacts (
    contact_id   VARCHAR PRIMARY KEY,
    customer_id  VARCHAR,
    name         VARCHAR,
    title        VARCHAR,
    honorific    VARCHAR,
    mobile       VARCHAR,
    email        VARCHAR,
    is_primary   BOOLEAN,
    name_key     VARCHAR,
    source_count BIGINT
);

CREATE TABLE IF NOT EXISTS customer_sources (
    run_id        VARCHAR,
    source_system VARCHAR,
    source_spec   VARCHAR,
    source_file   VARCHAR,
    source_sheet  VARCHAR,
    source_row    BIGINT,
    source_key    VARCHAR,
    customer_id   VARCHAR,
    match_score   DOUBLE,
    match_reason  VARCHAR,
    issues        VARCHAR[],
    record        JSON,
    raw           JSON
);

CREATE TABLE IF NOT EXISTS quarantine (
    run_id        VARCHAR,
    record_type   VARCHAR,
    source_system VARCHAR,
    source_file   VARCHAR,
    source_sheet  VARCHAR,
    source_row    BIGINT,
    reason        VARCHAR,
    detail        VARCHAR,
    raw           JSON
);

CREATE TABLE IF NOT EXISTS orders (
    order_id      VARCHAR,
    customer_id   VARCHAR,
    order_date    DATE,
    amount_cny    DECIMAL(18, 2),
    product       VARCHAR,
    quantity      BIGINT,
    owner         VARCHAR,
    source_system VARCHAR,
    source_file   VARCHAR,
    source_sheet  VARCHAR,
    source_row    BIGINT,
    link_reason   VARCHAR
);

CREATE TABLE IF NOT EXISTS interactions (
    interaction_id VARCHAR,
    customer_id    VARCHAR,
    date           DATE,
    channel        VARCHAR,
    participants   VARCHAR,
    content        VARCHAR,
    feedback       VARCHAR,
    todo           VARCHAR,
    owner          VARCHAR,
    source_system  VARCHAR,
    source_file    VARCHAR,
    source_sheet   VARCHAR,
    source_row     BIGINT,
    link_reason    VARCHAR
);

CREATE TABLE IF NOT EXISTS tag_rules (
    tag         VARCHAR,
    tag_group   VARCHAR,
    slot        VARCHAR,
    priority    BIGINT,
    predicate   VARCHAR,
    customers   BIGINT,
    rule_source VARCHAR
);

-- Every scored candidate pair of the current run (cleaners/match_pairs.py): why two records were or
-- were not merged. The per-comparison evidence columns (<comparison>_level, _sim, _bits) follow
-- schemas/dedupe.yaml and are added, with their comments, by flows/match_pairs.py on every run.
CREATE TABLE IF NOT EXISTS match_pairs (
    run_id            VARCHAR,
    l_source_system   VARCHAR,
    l_source_key      VARCHAR,
    l_source_file     VARCHAR,
    l_source_sheet    VARCHAR,
    l_source_row      BIGINT,
    l_customer_id     VARCHAR,
    r_source_system   VARCHAR,
    r_source_key      VARCHAR,
    r_source_file     VARCHAR,
    r_source_sheet    VARCHAR,
    r_source_row      BIGINT,
    r_customer_id     VARCHAR,
    prior_bits        FLOAT,
    match_weight      FLOAT,
    match_probability FLOAT,
    match_threshold   FLOAT,
    decided_by        VARCHAR,
    rule              VARCHAR,
    link              VARCHAR,
    merged            BOOLEAN
);

-- customer_features (one row per customer: activity, RFM tier, lifecycle, follow-up, keyword
-- signals) is rebuilt by every run from schemas/segments.yaml with its column comments; see
-- cleaners/features.py. The analyst views (v_客户基本信息 …) are in schemas/views.sql.

CREATE TABLE IF NOT EXISTS runs (
    run_id           VARCHAR PRIMARY KEY,
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ,
    status           VARCHAR,
    inbox            VARCHAR,
    as_of            DATE,
    input_files      JSON,
    rows_read        BIGINT,
    rows_loaded      BIGINT,
    rows_quarantined BIGINT,
    customers_before BIGINT,
    customers        BIGINT,
    records_merged   BIGINT,
    files_failed     BIGINT
);

CREATE TABLE IF NOT EXISTS run_files (
    run_id           VARCHAR,
    source_file      VARCHAR,
    source_sheet     VARCHAR,
    sha256           VARCHAR,
    size_bytes       BIGINT,
    status           VARCHAR,
    source_spec      VARCHAR,
    record_type      VARCHAR,
    header_row       BIGINT,
    encoding         VARCHAR,
    rows_read        BIGINT,
    unmapped_headers VARCHAR[],
    error            VARCHAR
);

CREATE TABLE IF NOT EXISTS validation_results (
    run_id      VARCHAR,
    suite       VARCHAR,
    expectation VARCHAR,
    "column"    VARCHAR,
    success     BOOLEAN,
    observed    VARCHAR,
    threshold   VARCHAR,
    severity    VARCHAR
);
-- Added with the Great Expectations suites; ALTER keeps files written before them usable.
ALTER TABLE validation_results ADD COLUMN IF NOT EXISTS unexpected_count BIGINT;
ALTER TABLE validation_results ADD COLUMN IF NOT EXISTS element_count BIGINT;
ALTER TABLE validation_results ADD COLUMN IF NOT EXISTS samples JSON;
ALTER TABLE validation_results ADD COLUMN IF NOT EXISTS notes VARCHAR;

CREATE TABLE IF NOT EXISTS run_kpis (
    run_id    VARCHAR,
    kpi       VARCHAR,
    dimension VARCHAR,
    value     DOUBLE
);

-- How long each stage of each run took (flows/stages.py): the figures `-v` and the benchmarks print.
CREATE TABLE IF NOT EXISTS run_stages (
    run_id      VARCHAR,
    position    INTEGER,
    stage       VARCHAR,
    seconds     DOUBLE,
    items       BIGINT,
    unit        VARCHAR,
    peak_rss_mb DOUBLE
);
COMMENT ON TABLE run_stages IS 'Wall time of each stage of each published run, in the order they ran';
COMMENT ON COLUMN run_stages.run_id IS 'Run the stage belongs to';
COMMENT ON COLUMN run_stages.position IS 'Order of the stage in its run (1 = first)';
COMMENT ON COLUMN run_stages.stage IS 'extract, clean, link, dedupe, stage, tag, validate, report (publish follows and is not recorded)';
COMMENT ON COLUMN run_stages.seconds IS 'Wall-clock seconds the stage took';
COMMENT ON COLUMN run_stages.items IS 'How many items the stage handled (NULL: it counts none)';
COMMENT ON COLUMN run_stages.unit IS 'What items counts: rows, records, customers, expectations, files';
COMMENT ON COLUMN run_stages.peak_rss_mb IS 'Peak resident memory of the run process when the stage ended (MiB)';

-- Incremental input (flows/inputs.py): one version of every file the database has
-- loaded, and that version's extracted rows. Each run rebuilds the current-state
-- tables from these plus what it reads from the inbox.
CREATE TABLE IF NOT EXISTS input_files (
    source_file VARCHAR PRIMARY KEY,
    sha256      VARCHAR,
    size_bytes  BIGINT,
    run_id      VARCHAR
);

CREATE TABLE IF NOT EXISTS input_rows (
    source_file    VARCHAR,
    record_type    VARCHAR,
    row_order      BIGINT,
    source_system  VARCHAR,
    source_spec    VARCHAR,
    source_sheet   VARCHAR,
    source_row     BIGINT,
    excel_1904     BOOLEAN,
    day_first      BOOLEAN,
    fields         VARCHAR,
    extra          VARCHAR,
    raw            VARCHAR,
    extract_reason VARCHAR,
    extract_detail VARCHAR
);
-- Added with the column-mapping engine; ALTER keeps files written before it usable.
ALTER TABLE input_rows ADD COLUMN IF NOT EXISTS amount_scale DOUBLE;
-- Added with contacts exports (customers | contacts | orders | interactions); rows stored before read as their record type.
ALTER TABLE input_rows ADD COLUMN IF NOT EXISTS sheet_kind VARCHAR;

COMMENT ON TABLE input_files IS 'One version of every input file the database holds: the current state is built from these';
COMMENT ON COLUMN input_files.source_file IS 'File identity: path relative to the inbox; a file read again under the same path supersedes this version';
COMMENT ON COLUMN input_files.run_id IS 'The run that first read this version (same SHA-256)';
COMMENT ON TABLE input_rows IS 'The extracted rows of each version in input_files, exactly as a run would read them again';
COMMENT ON COLUMN input_rows.fields IS 'JSON text: canonical field -> raw cell text';
COMMENT ON COLUMN input_rows.row_order IS 'Position of the row among its file''s rows of this record type, as read';
COMMENT ON COLUMN input_rows.sheet_kind IS 'What the sheet holds, as extraction recognised it: customers (accounts), contacts (people at a named company), orders, interactions';
COMMENT ON TABLE customers IS 'One golden record per real-world customer (a company), deduplicated across all sources';
COMMENT ON TABLE contacts IS 'Distinct people met at each customer; is_primary marks the one on the customer row';
COMMENT ON TABLE customer_sources IS 'Every input customer record that was loaded, with the customer it went to and why';
COMMENT ON TABLE quarantine IS 'Every input row that was not loaded, with its reason and its original cells';
COMMENT ON TABLE orders IS 'Purchases, linked to customer_id through the record they reference';
COMMENT ON TABLE interactions IS 'Follow-ups (calls, emails, visits), linked to customer_id';
COMMENT ON TABLE runs IS 'One row per published pipeline run';
COMMENT ON TABLE run_files IS 'Every file and sheet each run found, read, or could not read';
COMMENT ON TABLE validation_results IS 'Each expectation checked in each run';
COMMENT ON TABLE run_kpis IS 'The report''s figures per run: kpi, dimension (field, quarantine reason or owner; empty for headline figures), value';
COMMENT ON COLUMN validation_results.samples IS 'JSON: up to 10 failing rows, personal data masked';
COMMENT ON COLUMN validation_results.severity IS 'critical: the run was not published; warning: published and flagged';
COMMENT ON COLUMN customers.customer_id IS '客户编号: C + yyyymmdd + sequence, stable across runs';
COMMENT ON COLUMN customers.mobile IS '手机: E.164, +86 followed by 11 digits';
COMMENT ON COLUMN customers.phone IS '座机: landline or 400/800 number in E.164, extension as ;ext=N';
COMMENT ON COLUMN customers.industry_code IS 'GB/T 4754-2017 section letter (A-T)';
COMMENT ON COLUMN customers.completeness IS '客户信息完整度: share of required fields present (0-1)';
COMMENT ON COLUMN customers.field_sources IS 'JSON: field -> {"record": source record (file#sheet!row) its value came from, "why": the survivorship rule that chose it}';
COMMENT ON COLUMN customer_sources.source_row IS 'Row a person sees: spreadsheet row (title and header rows count) or file line';
COMMENT ON COLUMN customer_sources.record IS 'JSON: this record''s values after cleaning';
COMMENT ON COLUMN customer_sources.issues IS 'Cleaning doubts as field:reason (the value was nulled or flagged)';
COMMENT ON COLUMN quarantine.raw IS 'The original cells as JSON, keyed by the source header';
COMMENT ON TABLE tag_rules IS 'The tag rules of schemas/tag_rules.yaml the current data was tagged with, and how many customers each matched';
COMMENT ON COLUMN customers.customer_name IS '客户名称: company display name (full-width/traditional forms normalised)';
COMMENT ON COLUMN customers.company_key IS 'Company matching key: name without place, legal form and punctuation';
COMMENT ON COLUMN customers.contact_name IS '联系人: primary contact person';
COMMENT ON COLUMN customers.contact_title IS '职位: primary contact''s job title';
COMMENT ON COLUMN customers.other_phones IS 'Further phone numbers found in the records (E.164)';
COMMENT ON COLUMN customers.email IS '邮箱: lower-case address';
COMMENT ON COLUMN customers.industry IS '所属行业: GB/T 4754 section name, or the text as written when unmapped';
COMMENT ON COLUMN customers.customer_type IS '客户类型: prospect / customer / churned';
COMMENT ON COLUMN customers.customer_stage IS 'Funnel stage as recorded: lead (潜在) / intent (意向) / deal (成交) / churned (流失)';
COMMENT ON COLUMN customers.first_contact_date IS '首次接触时间: earliest first-contact date of the merged records';
COMMENT ON COLUMN customers.source_channel IS '客户来源: where the customer came from (展会, 官网 …)';
COMMENT ON COLUMN customers.owner IS '负责人: sales rep who owns the customer';
COMMENT ON COLUMN customers.city IS '城市';
COMMENT ON COLUMN customers.address IS '地址';
COMMENT ON COLUMN customers.employees IS '员工人数 as written (80, 200-500, 1000+)';
COMMENT ON COLUMN customers.employee_count IS 'Employee count: the lower bound of what was written';
COMMENT ON COLUMN customers.core_need IS '核心需求: stated need or interest';
COMMENT ON COLUMN customers.tags IS '标签: every tag whose rule in schemas/tag_rules.yaml holds, by group then priority';
COMMENT ON COLUMN customers.tag_line IS '标签组合: one tag per tag_line slot (行业-规模-价值-关注点), e.g. 制造业-中小客户-高价值-价格敏感';
COMMENT ON COLUMN customers.tier IS '客户分层 (RFM): A 高价值 / B 潜力 / C 基础, thresholds in schemas/segments.yaml';
COMMENT ON COLUMN customers.missing_fields IS 'Required fields (pipeline.yaml completeness_fields) this customer lacks';
COMMENT ON COLUMN customers.source_count IS 'Input records merged into this customer';
COMMENT ON COLUMN customers.run_id IS 'Run that built this row';
COMMENT ON COLUMN contacts.contact_id IS 'Contact ID: customer_id + sequence';
COMMENT ON COLUMN contacts.customer_id IS '客户编号 of the company the person works at';
COMMENT ON COLUMN contacts.name IS '联系人姓名';
COMMENT ON COLUMN contacts.title IS '职位';
COMMENT ON COLUMN contacts.honorific IS 'Honorific written instead of a given name (总, 经理 …)';
COMMENT ON COLUMN contacts.mobile IS '手机 (E.164)';
COMMENT ON COLUMN contacts.email IS '邮箱';
COMMENT ON COLUMN contacts.is_primary IS 'The contact shown on the customer row';
COMMENT ON COLUMN contacts.name_key IS 'Pinyin key that matches 张伟 and Zhang Wei';
COMMENT ON COLUMN contacts.source_count IS 'Input records naming this person';
COMMENT ON COLUMN customer_sources.run_id IS 'Run that loaded the record';
COMMENT ON COLUMN customer_sources.source_system IS 'System the record came from: excel_ledger / legacy_crm / web_form';
COMMENT ON COLUMN customer_sources.source_spec IS 'Export kind recognised from the headers (schemas/sources/*.yaml)';
COMMENT ON COLUMN customer_sources.source_file IS 'Input file, relative to the inbox';
COMMENT ON COLUMN customer_sources.source_sheet IS 'Sheet name (empty for CSV and JSON Lines)';
COMMENT ON COLUMN customer_sources.source_key IS 'The record''s key in its system: its own ID, else file#sheet!row';
COMMENT ON COLUMN customer_sources.customer_id IS '客户编号 the record was merged into';
COMMENT ON COLUMN customer_sources.match_score IS 'Similarity (0-1) that merged the record into its customer';
COMMENT ON COLUMN customer_sources.match_reason IS 'Why the record joined its customer (shared mobile, email, name …)';
COMMENT ON COLUMN customer_sources.raw IS 'The original cells as JSON, keyed by the source header';
COMMENT ON COLUMN quarantine.run_id IS 'Run that read the row';
COMMENT ON COLUMN quarantine.record_type IS 'customer / order / interaction';
COMMENT ON COLUMN quarantine.source_system IS 'System the row came from';
COMMENT ON COLUMN quarantine.source_file IS 'Input file, relative to the inbox';
COMMENT ON COLUMN quarantine.source_sheet IS 'Sheet name (empty for CSV and JSON Lines)';
COMMENT ON COLUMN quarantine.source_row IS 'Row a person sees: spreadsheet row or file line';
COMMENT ON COLUMN quarantine.reason IS 'Why the row was not loaded (blank_row, unknown_customer, …)';
COMMENT ON COLUMN quarantine.detail IS 'Details of the reason, e.g. the reference that matched no customer';
COMMENT ON COLUMN orders.order_id IS '订单编号 in the source system';
COMMENT ON COLUMN orders.customer_id IS '客户编号 the order was linked to';
COMMENT ON COLUMN orders.order_date IS '订单日期';
COMMENT ON COLUMN orders.amount_cny IS '金额 (CNY)';
COMMENT ON COLUMN orders.product IS '产品';
COMMENT ON COLUMN orders.quantity IS '数量';
COMMENT ON COLUMN orders.owner IS '负责人';
COMMENT ON COLUMN orders.source_system IS 'System the order came from';
COMMENT ON COLUMN orders.source_file IS 'Input file, relative to the inbox';
COMMENT ON COLUMN orders.source_sheet IS 'Sheet name (empty for CSV)';
COMMENT ON COLUMN orders.source_row IS 'Row a person sees: spreadsheet row or file line';
COMMENT ON COLUMN orders.link_reason IS 'How the order found its customer: customer ID (same system), customer_id, customer ID in another system, customer name';
COMMENT ON COLUMN interactions.interaction_id IS '记录编号 in the source system (NULL for Excel follow-up logs)';
COMMENT ON COLUMN interactions.customer_id IS '客户编号 the follow-up was linked to';
COMMENT ON COLUMN interactions.date IS '日期';
COMMENT ON COLUMN interactions.channel IS '方式: 电话 / 邮件 / 拜访 / 会议 / 微信 … (schemas/channels.yaml)';
COMMENT ON COLUMN interactions.participants IS '参与人员';
COMMENT ON COLUMN interactions.content IS '沟通内容';
COMMENT ON COLUMN interactions.feedback IS '客户反馈';
COMMENT ON COLUMN interactions.todo IS '待办事项';
COMMENT ON COLUMN interactions.owner IS '负责人';
COMMENT ON COLUMN interactions.source_system IS 'System the record came from';
COMMENT ON COLUMN interactions.source_file IS 'Input file, relative to the inbox';
COMMENT ON COLUMN interactions.source_sheet IS 'Sheet name (empty for CSV)';
COMMENT ON COLUMN interactions.source_row IS 'Row a person sees: spreadsheet row or file line';
COMMENT ON COLUMN interactions.link_reason IS 'How the follow-up found its customer: customer ID (same system), customer_id, customer ID in another system, customer name';
COMMENT ON COLUMN tag_rules.tag IS '标签';
COMMENT ON COLUMN tag_rules.tag_group IS '标签分组: 属性 / 行为 / 需求 / 价值 / 状态';
COMMENT ON COLUMN tag_rules.slot IS 'Place in tag_line (行业 / 规模 / 价值 / 关注点); NULL: only in tags';
COMMENT ON COLUMN tag_rules.priority IS 'Higher wins within a slot';
COMMENT ON COLUMN tag_rules.predicate IS 'SQL condition over customers and customer_features';
COMMENT ON COLUMN tag_rules.customers IS 'Customers the rule matched in this run';
COMMENT ON COLUMN tag_rules.rule_source IS 'file:line of the rule';
COMMENT ON COLUMN runs.run_id IS 'R + UTC start time + random suffix';
COMMENT ON COLUMN runs.started_at IS 'Start of the run (UTC)';
COMMENT ON COLUMN runs.finished_at IS 'End of the run before publishing (UTC)';
COMMENT ON COLUMN runs.status IS 'published';
COMMENT ON COLUMN runs.inbox IS 'Folder the run read';
COMMENT ON COLUMN runs.as_of IS 'Reference date (--as-of) for dates and customer features';
COMMENT ON COLUMN runs.input_files IS 'JSON: every input file with SHA-256, size, status';
COMMENT ON COLUMN runs.rows_read IS 'Data rows read';
COMMENT ON COLUMN runs.rows_loaded IS 'Rows loaded into customer_sources, orders or interactions';
COMMENT ON COLUMN runs.rows_quarantined IS 'Rows put in quarantine';
COMMENT ON COLUMN runs.customers_before IS 'Customers in the file before the run';
COMMENT ON COLUMN runs.customers IS 'Customers after the run';
COMMENT ON COLUMN runs.records_merged IS 'Customer records merged into another';
COMMENT ON COLUMN runs.files_failed IS 'Input files that could not be read';
COMMENT ON COLUMN run_files.run_id IS 'Run that found the file';
COMMENT ON COLUMN run_files.source_file IS 'Input file, relative to the inbox';
COMMENT ON COLUMN run_files.source_sheet IS 'Sheet name (empty for CSV, JSON Lines and unreadable files)';
COMMENT ON COLUMN run_files.sha256 IS 'SHA-256 of the file';
COMMENT ON COLUMN run_files.size_bytes IS 'File size in bytes';
COMMENT ON COLUMN run_files.status IS 'loaded / empty / failed / skipped';
COMMENT ON COLUMN run_files.source_spec IS 'Export kind recognised from the headers';
COMMENT ON COLUMN run_files.record_type IS 'customers / orders / interactions';
COMMENT ON COLUMN run_files.header_row IS 'Row of the header (title rows above it are skipped)';
COMMENT ON COLUMN run_files.encoding IS 'Text encoding detected (CSV)';
COMMENT ON COLUMN run_files.rows_read IS 'Data rows read from the sheet';
COMMENT ON COLUMN run_files.unmapped_headers IS 'Headers that map to no field (kept in raw)';
COMMENT ON COLUMN run_files.error IS 'Why the file or sheet could not be read';
COMMENT ON COLUMN validation_results.run_id IS 'Run that checked';
COMMENT ON COLUMN validation_results.suite IS 'Expectation suite';
COMMENT ON COLUMN validation_results.expectation IS 'Expectation (Great Expectations name)';
COMMENT ON COLUMN validation_results."column" IS 'Column checked';
COMMENT ON COLUMN validation_results.success IS 'Whether the check passed';
COMMENT ON COLUMN validation_results.observed IS 'Observed value';
COMMENT ON COLUMN validation_results.threshold IS 'Required value';
COMMENT ON COLUMN validation_results.severity IS 'critical (stops the run) / warning';
COMMENT ON COLUMN run_kpis.run_id IS 'The run the figure belongs to';
COMMENT ON COLUMN run_kpis.kpi IS 'Which figure: completeness, duplicates merged, invalid phones, quarantined rows, overdue follow-ups …';
COMMENT ON COLUMN run_kpis.dimension IS 'What the figure is broken down by (field, quarantine reason or owner); empty for the headline figure';
COMMENT ON COLUMN run_kpis.value IS 'The figure itself (a share 0-1 or a count)';
COMMENT ON COLUMN validation_results.unexpected_count IS 'Rows that failed the expectation';
COMMENT ON COLUMN validation_results.element_count IS 'Rows the expectation looked at';
COMMENT ON COLUMN validation_results.notes IS 'Why the expectation could not be evaluated, or what else the engineer should know';
COMMENT ON COLUMN input_files.sha256 IS 'Content hash of the file as last loaded (an unchanged file is not read again)';
COMMENT ON COLUMN input_files.size_bytes IS 'Size of the file as last loaded';
COMMENT ON COLUMN input_rows.source_file IS 'Path relative to the inbox: the file identity a re-export supersedes';
COMMENT ON COLUMN input_rows.record_type IS 'customers, orders or interactions';
COMMENT ON COLUMN input_rows.source_system IS 'Source system the row came from (legacy_crm, excel_ledger, web_form …)';
COMMENT ON COLUMN input_rows.source_spec IS 'Source spec in schemas/sources/ that recognised the sheet';
COMMENT ON COLUMN input_rows.source_sheet IS 'Sheet name, empty for CSV and JSON Lines';
COMMENT ON COLUMN input_rows.source_row IS 'Row a person sees: spreadsheet row or file line';
COMMENT ON COLUMN input_rows.excel_1904 IS 'Whether the workbook uses the 1904 date system';
COMMENT ON COLUMN input_rows.day_first IS 'Day-first date setting of the sheet: the date column''s header hint (日/月/年, MM/DD/YYYY), else the source spec''s';
COMMENT ON COLUMN input_rows.amount_scale IS 'Multiplier to CNY that the amount column''s header states (万元 -> 10000), null when none';
COMMENT ON COLUMN input_rows.extra IS 'JSON: cells of columns that map to no canonical field';
COMMENT ON COLUMN input_rows.raw IS 'JSON: the original cells, keyed by the source header';
COMMENT ON COLUMN input_rows.extract_reason IS 'Why extraction rejected the row (blank, totals, note …), else null';
COMMENT ON COLUMN input_rows.extract_detail IS 'Human-readable detail of extract_reason';

-- Added with the column-mapping engine (cleaners/mapping/): every decision of every run.
CREATE TABLE IF NOT EXISTS column_mappings (
    run_id          VARCHAR,
    source_file     VARCHAR,
    source_sheet    VARCHAR,
    kind            VARCHAR,
    source_spec     VARCHAR,
    "column"        BIGINT,
    header          VARCHAR,
    field           VARCHAR,
    part            VARCHAR,
    method          VARCHAR,
    confidence      DOUBLE,
    runner_up       VARCHAR,
    runner_up_score DOUBLE,
    suggestion      VARCHAR,
    hints           JSON,
    note            VARCHAR
);
COMMENT ON TABLE column_mappings IS 'How each run mapped every source column to a canonical field: method, confidence, runner-up';
COMMENT ON COLUMN column_mappings.run_id IS 'The run that made the decision';
COMMENT ON COLUMN column_mappings.source_file IS 'Path relative to the inbox';
COMMENT ON COLUMN column_mappings.source_sheet IS 'Sheet name, empty for CSV and JSON Lines';
COMMENT ON COLUMN column_mappings.kind IS 'What the sheet was recognised as: customers, contacts, orders or interactions';
COMMENT ON COLUMN column_mappings.source_spec IS 'Source spec in schemas/sources/ the sheet was read with';
COMMENT ON COLUMN column_mappings."column" IS '1-based column position in the sheet';
COMMENT ON COLUMN column_mappings.header IS 'The header as written';
COMMENT ON COLUMN column_mappings.field IS 'Canonical field the column fills, null when none';
COMMENT ON COLUMN column_mappings.part IS 'For a composite field (姓 + 名, 省 + 市 + 区 + 地址): which part this column is';
COMMENT ON COLUMN column_mappings.method IS 'alias, alias+hint, convention, alternative, alias-core, core, contains, shorter, fuzzy, content, composite, override; for none: ambiguous, refused, duplicate, ignored, none';
COMMENT ON COLUMN column_mappings.confidence IS 'How sure the decision is (0-1); below 0.9 the report lists it for a look';
COMMENT ON COLUMN column_mappings.runner_up IS 'The next most likely field, if any';
COMMENT ON COLUMN column_mappings.runner_up_score IS 'The runner-up field''s score (0-1)';
COMMENT ON COLUMN column_mappings.suggestion IS 'For an unmapped column: the nearest field';
COMMENT ON COLUMN column_mappings.hints IS 'JSON: what the header says besides the field (date_order, unit, scale, required, system, notes)';
COMMENT ON COLUMN column_mappings.note IS 'Why a match was refused or a column left out';
COMMENT ON TABLE match_pairs IS 'Every candidate pair the dedupe stage scored in the current run, with the evidence per field in bits, the rule or threshold that decided and the outcome: why two records were or were not merged (crm-etl explain)';
COMMENT ON COLUMN match_pairs.run_id IS 'Run that scored the pair';
COMMENT ON COLUMN match_pairs.l_source_system IS 'Left record: system it came from (joins customer_sources with l_source_file, l_source_sheet, l_source_row)';
COMMENT ON COLUMN match_pairs.l_source_key IS 'Left record: its key in its system (own ID, else file#sheet!row)';
COMMENT ON COLUMN match_pairs.l_source_file IS 'Left record: input file, relative to the inbox';
COMMENT ON COLUMN match_pairs.l_source_sheet IS 'Left record: sheet name (empty for CSV and JSON Lines)';
COMMENT ON COLUMN match_pairs.l_source_row IS 'Left record: row a person sees (spreadsheet row or file line)';
COMMENT ON COLUMN match_pairs.l_customer_id IS 'Left record: 客户编号 it was merged into (NULL: its cluster named no company and was quarantined)';
COMMENT ON COLUMN match_pairs.r_source_system IS 'Right record: system it came from (joins customer_sources with r_source_file, r_source_sheet, r_source_row)';
COMMENT ON COLUMN match_pairs.r_source_key IS 'Right record: its key in its system (own ID, else file#sheet!row)';
COMMENT ON COLUMN match_pairs.r_source_file IS 'Right record: input file, relative to the inbox';
COMMENT ON COLUMN match_pairs.r_source_sheet IS 'Right record: sheet name (empty for CSV and JSON Lines)';
COMMENT ON COLUMN match_pairs.r_source_row IS 'Right record: row a person sees (spreadsheet row or file line)';
COMMENT ON COLUMN match_pairs.r_customer_id IS 'Right record: 客户编号 it was merged into (NULL: its cluster named no company and was quarantined)';
COMMENT ON COLUMN match_pairs.prior_bits IS 'log2 prior odds that two random records are duplicates (the run''s estimate): where every weight starts';
COMMENT ON COLUMN match_pairs.match_weight IS 'Evidence of the fields in bits (log2 odds of a match): prior_bits plus every *_bits column, before any rule';
COMMENT ON COLUMN match_pairs.match_probability IS 'Probability of a match the clustering used: from match_weight, or 1 / 0 when a must_link / cannot_link rule decided';
COMMENT ON COLUMN match_pairs.match_threshold IS 'Probability at or above which a pair is merged (dedupe.yaml model.match_probability)';
COMMENT ON COLUMN match_pairs.decided_by IS 'cannot_link / must_link: a rule overrode the evidence; insufficient: a rule kept a probable pair from merging on its own; threshold: match_probability against match_threshold';
COMMENT ON COLUMN match_pairs.rule IS 'Name of the dedupe.yaml rule that decided (NULL when the threshold did)';
COMMENT ON COLUMN match_pairs.link IS 'kept: a link of the final cluster; cut: accepted, then cut as the weakest link of a chained cluster; held_apart: by a cannot_link or insufficient rule; below_threshold';
COMMENT ON COLUMN match_pairs.merged IS 'The two records ended in one customer, by this pair or through other records';

-- Added with the steward review (cleaners/dedupe/review.py, flows/review.py): the uncertain pairs of
-- the current run, and every decision a returned review file brought.
CREATE TABLE IF NOT EXISTS match_review (
    run_id              VARCHAR,
    pair_id             VARCHAR,
    status              VARCHAR,
    queue_rank          BIGINT,
    match_probability   DOUBLE,
    uncertainty         DOUBLE,
    decided_by          VARCHAR,
    same_customer       BOOLEAN,
    evidence            VARCHAR,
    levels              JSON,
    decision            VARCHAR,
    decision_source     VARCHAR,
    left_source_system  VARCHAR,
    left_source_key     VARCHAR,
    left_source_file    VARCHAR,
    left_source_sheet   VARCHAR,
    left_source_row     BIGINT,
    left_customer_id    VARCHAR,
    right_source_system VARCHAR,
    right_source_key    VARCHAR,
    right_source_file   VARCHAR,
    right_source_sheet  VARCHAR,
    right_source_row    BIGINT,
    right_customer_id   VARCHAR
);
COMMENT ON TABLE match_review IS 'Uncertain record pairs of the current run (queued for a steward in reports/<run>/review.xlsx) and the pairs a steward decision settled';
COMMENT ON COLUMN match_review.run_id IS 'The run that scored the pair';
COMMENT ON COLUMN match_review.pair_id IS 'Stable pair ID: hash of both records'' source_system + source_key, the same in every run and in either order';
COMMENT ON COLUMN match_review.status IS 'queued: in this run''s review file; decided: a stored steward decision settled it (never asked again)';
COMMENT ON COLUMN match_review.queue_rank IS 'Position in the review file (1 = most uncertain), null for decided pairs';
COMMENT ON COLUMN match_review.match_probability IS 'The model''s match probability from the field evidence alone (before rules and steward decisions)';
COMMENT ON COLUMN match_review.uncertainty IS '1 where the model''s probability is 0.5, 0 where it is certain';
COMMENT ON COLUMN match_review.decided_by IS 'What kept the pair apart this run: band (below the merge threshold), the insufficient rule''s name, or steward';
COMMENT ON COLUMN match_review.same_customer IS 'Whether both records are in one customer after this run (a chain through a third record can join them)';
COMMENT ON COLUMN match_review.evidence IS 'Per field in words, as the review file shows it: 公司名称 相似 0.93；手机 相同；邮箱 缺失 …';
COMMENT ON COLUMN match_review.levels IS 'JSON: comparison -> {level, similarity} of the pair';
COMMENT ON COLUMN match_review.decision IS 'The steward''s decision in force: must_link or cannot_link; null while queued';
COMMENT ON COLUMN match_review.decision_source IS 'Where the decision was taken: steward: <review file> row N';
COMMENT ON COLUMN match_review.left_source_system IS 'First record: source system';
COMMENT ON COLUMN match_review.left_source_key IS 'First record: its key in the source system (legacy ID, else file#sheet!row)';
COMMENT ON COLUMN match_review.left_source_file IS 'First record: path relative to the inbox';
COMMENT ON COLUMN match_review.left_source_sheet IS 'First record: sheet name, empty for CSV and JSON Lines';
COMMENT ON COLUMN match_review.left_source_row IS 'First record: the row a person sees when opening the file';
COMMENT ON COLUMN match_review.left_customer_id IS 'First record: its customer this run';
COMMENT ON COLUMN match_review.right_source_system IS 'Second record: source system';
COMMENT ON COLUMN match_review.right_source_key IS 'Second record: its key in the source system';
COMMENT ON COLUMN match_review.right_source_file IS 'Second record: path relative to the inbox';
COMMENT ON COLUMN match_review.right_source_sheet IS 'Second record: sheet name';
COMMENT ON COLUMN match_review.right_source_row IS 'Second record: the row a person sees when opening the file';
COMMENT ON COLUMN match_review.right_customer_id IS 'Second record: its customer this run';

CREATE TABLE IF NOT EXISTS match_decisions (
    pair_id             VARCHAR,
    left_source_system  VARCHAR,
    left_source_key     VARCHAR,
    right_source_system VARCHAR,
    right_source_key    VARCHAR,
    decision            VARCHAR,
    answer              VARCHAR,
    reviewer_file       VARCHAR,
    reviewer_sheet      VARCHAR,
    reviewer_row        BIGINT,
    reviewer_sha256     VARCHAR,
    decided_at          TIMESTAMPTZ,
    run_id              VARCHAR
);
COMMENT ON TABLE match_decisions IS 'Every steward decision read from a returned review file (history, kept across runs); the latest per pair_id is honoured by every run';
COMMENT ON COLUMN match_decisions.pair_id IS 'Stable pair ID (as match_review.pair_id)';
COMMENT ON COLUMN match_decisions.left_source_system IS 'First record: source system';
COMMENT ON COLUMN match_decisions.left_source_key IS 'First record: its key in the source system (legacy ID, else file#sheet!row)';
COMMENT ON COLUMN match_decisions.right_source_system IS 'Second record: source system';
COMMENT ON COLUMN match_decisions.right_source_key IS 'Second record: its key in the source system';
COMMENT ON COLUMN match_decisions.decision IS 'must_link (是: the same customer) or cannot_link (否: never merge)';
COMMENT ON COLUMN match_decisions.answer IS 'The answer as the steward wrote it';
COMMENT ON COLUMN match_decisions.reviewer_file IS 'The returned review file, path relative to the inbox';
COMMENT ON COLUMN match_decisions.reviewer_sheet IS 'Its sheet';
COMMENT ON COLUMN match_decisions.reviewer_row IS 'The spreadsheet row of the answer';
COMMENT ON COLUMN match_decisions.reviewer_sha256 IS 'SHA-256 of the returned file';
COMMENT ON COLUMN match_decisions.decided_at IS 'When the steward saved the file (its modification time): the latest decision of a pair wins';
COMMENT ON COLUMN match_decisions.run_id IS 'The run that read the file';

-- One line per `crm-etl export` (flows/export_audit.py): who took which data out of the file.
CREATE TABLE IF NOT EXISTS export_log (
    export_id      VARCHAR,
    exported_at    TIMESTAMPTZ,
    exported_by    VARCHAR,
    host           VARCHAR,
    owners         VARCHAR[],
    format         VARCHAR,
    out_dir        VARCHAR,
    tables         VARCHAR[],
    table_rows     JSON,
    masked_columns VARCHAR[],
    run_id         VARCHAR
);
COMMENT ON TABLE export_log IS 'Audit of every crm-etl export: who, when, which owner or all, format, tables and rows per table';
COMMENT ON COLUMN export_log.export_id IS 'Random id of the export (a line kept beside the file while it was open elsewhere is stored once)';
COMMENT ON COLUMN export_log.exported_at IS 'When the export finished (UTC)';
COMMENT ON COLUMN export_log.exported_by IS 'Operating-system user who ran crm-etl export';
COMMENT ON COLUMN export_log.host IS 'Machine the export ran on';
COMMENT ON COLUMN export_log.owners IS 'The owners (负责人) whose customers were exported, NULL for all customers';
COMMENT ON COLUMN export_log.format IS 'File format: parquet, csv or xlsx (a worklist is always xlsx)';
COMMENT ON COLUMN export_log.out_dir IS 'Absolute path of the folder the files were written into';
COMMENT ON COLUMN export_log.tables IS 'Tables and views exported, in order (worklist: the owner worklist)';
COMMENT ON COLUMN export_log.table_rows IS 'JSON object: table or view -> rows written';
COMMENT ON COLUMN export_log.masked_columns IS 'Columns whose phones and e-mails were masked (schemas/report.yaml owner_exports)';
COMMENT ON COLUMN export_log.run_id IS 'The latest published run in the file when it was exported';
