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

COMMENT ON TABLE input_files IS 'One version of every input file the database holds: the current state is built from these';
COMMENT ON COLUMN input_files.source_file IS 'File identity: path relative to the inbox; a file read again under the same path supersedes this version';
COMMENT ON COLUMN input_files.run_id IS 'The run that first read this version (same SHA-256)';
COMMENT ON TABLE input_rows IS 'The extracted rows of each version in input_files, exactly as a run would read them again';
COMMENT ON COLUMN input_rows.fields IS 'JSON text: canonical field -> raw cell text';
COMMENT ON COLUMN input_rows.row_order IS 'Position of the row among its file''s rows of this record type, as read';
COMMENT ON TABLE customers IS 'One golden record per real-world customer (a company), deduplicated across all sources';
COMMENT ON TABLE contacts IS 'Distinct people met at each customer; is_primary marks the one on the customer row';
COMMENT ON TABLE customer_sources IS 'Every input customer record that was loaded, with the customer it went to and why';
COMMENT ON TABLE quarantine IS 'Every input row that was not loaded, with its reason and its original cells';
COMMENT ON TABLE orders IS 'Purchases, linked to customer_id through the record they reference';
COMMENT ON TABLE interactions IS 'Follow-ups (calls, emails, visits), linked to customer_id';
COMMENT ON TABLE runs IS 'One row per published pipeline run';
COMMENT ON TABLE run_files IS 'Every file and sheet each run found, read, or could not read';
COMMENT ON TABLE validation_results IS 'Each expectation checked in each run';
COMMENT ON COLUMN customers.customer_id IS '客户编号: C + yyyymmdd + sequence, stable across runs';
COMMENT ON COLUMN customers.mobile IS '手机: E.164, +86 followed by 11 digits';
COMMENT ON COLUMN customers.phone IS '座机: landline or 400/800 number in E.164, extension as ;ext=N';
COMMENT ON COLUMN customers.industry_code IS 'GB/T 4754-2017 section letter (A-T)';
COMMENT ON COLUMN customers.completeness IS '客户信息完整度: share of required fields present (0-1)';
COMMENT ON COLUMN customers.field_sources IS 'JSON: field -> source record (file#sheet!row) its value came from';
COMMENT ON COLUMN customer_sources.source_row IS 'Row a person sees: spreadsheet row (title and header rows count) or file line';
COMMENT ON COLUMN customer_sources.record IS 'JSON: this record''s values after cleaning';
COMMENT ON COLUMN customer_sources.issues IS 'Cleaning doubts as field:reason (the value was nulled or flagged)';
COMMENT ON COLUMN quarantine.raw IS 'The original cells as JSON, keyed by the source header';
