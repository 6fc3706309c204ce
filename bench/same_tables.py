"""Do two runs' DuckDB files hold the same tables? The check that a speed change changed no result.

Run:
    .venv/bin/python bench/same_tables.py BEFORE.duckdb AFTER.duckdb

Every table is compared row for row in a canonical order, leaving out only the columns that
name or time a run (run IDs, start and end times, stage timings: tests/flows/processes.py
RUN_SPECIFIC). Prints one line per table and exits 1 when any table differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.flows.processes import RUN_SPECIFIC


def table_digests(db: Path) -> dict[str, tuple[int, str]]:
    """Per table: row count and an order-independent digest of its rows (run-specific columns left out)."""
    digests: dict[str, tuple[int, str]] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                "AND table_type = 'BASE TABLE' ORDER BY 1"
            ).fetchall()
        ]
        for table in names:
            # Scores are compared to 9 decimals: the last bits of a float move with summation order.
            columns = [
                f'round("{name}", 9)' if kind in ("DOUBLE", "FLOAT") else f'"{name}"'
                for name, kind, *_ in con.execute(f'DESCRIBE "{table}"').fetchall()
                if name not in RUN_SPECIFIC.get(table, set())
            ]
            row = ", ".join(columns)
            count, digest = con.execute(
                f"SELECT count(*), coalesce(bit_xor(hash(({row})))::VARCHAR, '-') || '/' || "
                f"coalesce(sum(hash(({row})) % 1000003)::VARCHAR, '-') FROM \"{table}\""
            ).fetchone()  # type: ignore[misc]
            digests[table] = (int(count), str(digest))
    return digests


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    before, after = (table_digests(Path(a)) for a in argv)
    different = 0
    for table in sorted(set(before) | set(after)):
        b, a = before.get(table), after.get(table)
        same = b == a
        different += not same
        print(
            f"{'same' if same else 'DIFFERENT':9} {table:22} rows {b[0] if b else '-':>9} → {a[0] if a else '-':>9}"
        )
    print("all tables identical" if not different else f"{different} table(s) differ")
    return 1 if different else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
