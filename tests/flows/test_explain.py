"""`match_pairs` as a real run over data/samples writes it, and `crm-etl explain` reading it back."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from crm_etl.cleaners.masking import mask_phone
from crm_etl.flows.cli import EXIT_INPUT, app

runner = CliRunner()


def test_match_pairs_has_a_comment_on_the_table_and_every_column(sample_db) -> None:
    _, db = sample_db
    with duckdb.connect(str(db), read_only=True) as con:
        table = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'match_pairs'").fetchone()
        columns = con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'match_pairs'"
        ).fetchall()
        pairs = con.execute("SELECT count(*) FROM match_pairs").fetchone()
    assert table is not None and table[0]
    assert [name for name, comment in columns if not comment] == []
    assert {"company_bits", "mobile_level", "email_sim", "l_source_row", "r_customer_id"} <= {
        n for n, _ in columns
    }
    assert pairs is not None and pairs[0] > 0


def test_stored_bits_add_up_to_the_stored_weight_and_outcomes_agree(sample_db) -> None:
    _, db = sample_db
    with duckdb.connect(str(db), read_only=True) as con:
        bits = [
            r[0]
            for r in con.execute("SELECT column_name FROM (DESCRIBE match_pairs)").fetchall()
            if r[0].endswith("_bits")
        ]
        worst = con.execute(f"SELECT max(abs({' + '.join(bits)} - match_weight)) FROM match_pairs").fetchone()
        wrong = con.execute(
            """SELECT count(*) FROM match_pairs
               WHERE merged <> coalesce(l_customer_id = r_customer_id, false)
                  OR (link = 'kept' AND NOT merged)
                  OR (link = 'held_apart') <> (decided_by IN ('cannot_link', 'insufficient'))
                  OR (rule IS NULL) <> (decided_by = 'threshold')"""
        ).fetchone()
    assert worst is not None and worst[0] < 1e-3
    assert wrong == (0,)


def _customer_with_a_link_and_a_pair_outside(db: Path) -> tuple[str, float, str]:
    """A sample customer, its strongest link's weight, and its mobile (for the masking check)."""
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            """SELECT p.l_customer_id, max(p.match_weight), any_value(c.mobile) FROM match_pairs p
               JOIN customers c ON c.customer_id = p.l_customer_id
               WHERE p.link = 'kept' AND c.mobile IS NOT NULL AND p.l_customer_id IN (
                   SELECT l_customer_id FROM match_pairs WHERE l_customer_id <> r_customer_id
                   UNION SELECT r_customer_id FROM match_pairs WHERE l_customer_id <> r_customer_id)
               GROUP BY 1 ORDER BY 1 LIMIT 1"""
        ).fetchone()
    assert row is not None, "the samples hold a merged customer with a near miss"
    return row


def test_explain_prints_records_waterfalls_near_misses_and_masks_phones(sample_db) -> None:
    _, db = sample_db
    customer_id, weight, mobile = _customer_with_a_link_and_a_pair_outside(db)
    result = runner.invoke(app, ["explain", customer_id, "--db", str(db)])
    assert result.exit_code == 0, result.output
    output = result.output
    assert re.search(r"^\s+1\. .+ row \d+ ", output, re.MULTILINE)  # its records, with where they sit
    assert "prior" in output and "company" in output
    # The strongest link's waterfall ends on its stored weight, and the last running total agrees.
    links = output.split("Nearest pairs not joined")[0]
    assert f"match weight {weight:.2f} bits" in links
    first = links.split("= match weight")[0].strip().splitlines()[-1]
    assert first.split()[-1] == f"{weight:.2f}"
    assert "Nearest pairs not joined" in output and "not joined:" in output
    digits = mobile.removeprefix("+86")
    assert digits not in output and mask_phone(mobile) in output


def test_explain_pairs_option_limits_the_near_misses(sample_db) -> None:
    _, db = sample_db
    customer_id, _, _ = _customer_with_a_link_and_a_pair_outside(db)
    result = runner.invoke(app, ["explain", customer_id, "--db", str(db), "--pairs", "0"])
    assert result.exit_code == 0 and "not joined:" not in result.output


def test_explain_an_unknown_customer_is_exit_2(sample_db) -> None:
    _, db = sample_db
    result = runner.invoke(app, ["explain", "C00000000999", "--db", str(db)])
    assert result.exit_code == EXIT_INPUT and "no customer" in result.output


@pytest.mark.parametrize("make", ["missing", "no-match-pairs"])
def test_explain_needs_a_file_with_match_pairs(tmp_path: Path, make: str) -> None:
    db = tmp_path / "crm.duckdb"
    if make == "no-match-pairs":
        with duckdb.connect(str(db)) as con:
            con.execute("CREATE TABLE customers (customer_id VARCHAR, customer_name VARCHAR)")
    result = runner.invoke(app, ["explain", "C1", "--db", str(db)])
    assert result.exit_code == EXIT_INPUT
    assert ("does not exist" if make == "missing" else "no match_pairs") in result.output


def test_explain_help() -> None:
    result = runner.invoke(app, ["explain", "--help"])
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.output)
    assert result.exit_code == 0, plain
    assert "Usage" in plain and "pairs" in plain and "CUSTOMER_ID" in plain, plain
