"""Write `match_pairs`: the run's scored candidate pairs, with one evidence column set per comparison."""

from __future__ import annotations

import re

from crm_etl.cleaners.customers import ResolvedCustomers
from crm_etl.cleaners.dedupe.explain import evidence_columns
from crm_etl.cleaners.match_pairs import match_pair_rows
from crm_etl.flows.load import StagedDatabase

_EVIDENCE = re.compile(r"_(level|sim|bits)$")


def write_match_pairs(staged: StagedDatabase, resolved: ResolvedCustomers, run_id: str) -> int:
    """Insert the run's pairs (the table was emptied with the current state); returns how many.

    The evidence columns follow the run's comparisons: added with their comments when new, dropped
    when a comparison left dedupe.yaml, so the table always describes the run that wrote it.
    """
    con = staged.connection
    wanted = evidence_columns(resolved.linkage.settings.model_comparisons)
    names = {name for name, _, _ in wanted}
    existing = [row[0] for row in con.execute("SELECT column_name FROM (DESCRIBE match_pairs)").fetchall()]
    for column in existing:
        if _EVIDENCE.search(column) and column not in names and column != "prior_bits":
            con.execute(f'ALTER TABLE match_pairs DROP COLUMN "{column}"')
    for name, sql_type, comment in wanted:
        con.execute(f'ALTER TABLE match_pairs ADD COLUMN IF NOT EXISTS "{name}" {sql_type}')
        escaped = comment.replace("'", "''")
        con.execute(f"COMMENT ON COLUMN match_pairs.\"{name}\" IS '{escaped}'")
    rows = match_pair_rows(resolved, run_id)
    staged.insert("match_pairs", rows)
    return rows.height
