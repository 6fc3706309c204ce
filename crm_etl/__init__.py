"""crm-etl: customer exports into one clean, deduplicated DuckDB customer table.

Everything the program is lives in this one package, so its import names cannot clash with
another installed distribution: `crm_etl.flows` (I/O and orchestration), `crm_etl.cleaners`
(pure transforms), `crm_etl.schemas` (declarative contracts) and `crm_etl/reports/templates`.
"""
