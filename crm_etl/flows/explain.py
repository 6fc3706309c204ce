"""`crm-etl explain`: a customer's records, the links that joined them and the nearest pairs that did not.

Reads only the published DuckDB file (read-only): `customer_sources` for the records and
`match_pairs` for the evidence, printed as text waterfalls like Splink's waterfall chart.
Personal data is masked as on every console (cleaners/masking.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from crm_etl.cleaners.dedupe.explain import Step, waterfall
from crm_etl.cleaners.masking import mask_text, mask_value


class ExplainError(LookupError):
    """The file cannot explain this customer: missing, written before match_pairs, or unknown ID."""


# Cleaned values shown per record, in this order, each masked by its column.
_SHOWN = ["customer_name", "contact_name", "mobile", "phone", "email"]


@dataclass
class Explanation:
    """What `crm-etl explain` prints about one customer."""

    customer_id: str
    customer_name: str | None
    comparisons: list[str]
    distances: set[str]  # comparisons whose `_sim` is an edit distance
    records: list[dict[str, Any]]
    links: list[dict[str, Any]]
    other_inside: int  # candidate pairs inside the customer that are not links
    nearest: list[dict[str, Any]]
    others: dict[tuple[str, str, int], dict[str, Any]]  # record outside, by (file, sheet, row)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


_RECORD_SQL = """
    SELECT source_system, source_file, source_sheet, source_row, source_key, customer_id,
           {fields}
    FROM customer_sources WHERE {where} ORDER BY source_file, source_sheet, source_row
"""


def _record_sql(where: str) -> str:
    fields = ", ".join(f"json_extract_string(record, '$.{f}') AS {f}" for f in _SHOWN)
    return _RECORD_SQL.format(fields=fields, where=where)


def load_explanation(db: Path, customer_id: str, pairs: int) -> Explanation:
    """Read everything the explanation of `customer_id` needs from the published file."""
    if not db.is_file():
        raise ExplainError(f"{db} does not exist; run `crm-etl run` first")
    with duckdb.connect(str(db), read_only=True) as con:
        described = con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'match_pairs' ORDER BY column_index"
        ).fetchall()
        columns = [name for name, _ in described]
        if not columns:
            raise ExplainError(
                f"{db} has no match_pairs table (written by an older crm-etl); run `crm-etl run` again"
            )
        found = con.execute(
            "SELECT customer_name FROM customers WHERE customer_id = ?", [customer_id]
        ).fetchall()
        if not found:
            raise ExplainError(f"no customer {customer_id!r} in {db}")
        records = _rows(con, _record_sql("customer_id = ?"), [customer_id])
        inside = "l_customer_id = $id AND r_customer_id = $id"
        links = _rows(
            con,
            f"SELECT * FROM match_pairs WHERE {inside} AND link = 'kept' ORDER BY match_weight DESC",
            {"id": customer_id},  # type: ignore[arg-type]
        )
        other_inside = con.execute(
            f"SELECT count(*) FROM match_pairs WHERE {inside} AND link <> 'kept'", {"id": customer_id}
        ).fetchall()[0][0]
        # Exactly one end in this customer (the other's customer_id may be NULL: quarantined).
        nearest = _rows(
            con,
            """SELECT * FROM match_pairs
               WHERE coalesce(l_customer_id = $id, false) <> coalesce(r_customer_id = $id, false)
               ORDER BY match_probability DESC, match_weight DESC LIMIT $n""",
            {"id": customer_id, "n": pairs},  # type: ignore[arg-type]
        )
        others = {}
        for pair in nearest:
            side = "r" if pair["l_customer_id"] == customer_id else "l"
            key = (pair[f"{side}_source_file"], pair[f"{side}_source_sheet"], pair[f"{side}_source_row"])
            rows = _rows(
                con, _record_sql("source_file = ? AND source_sheet = ? AND source_row = ?"), list(key)
            )
            others[key] = (
                rows[0] if rows else {"source_file": key[0], "source_sheet": key[1], "source_row": key[2]}
            )
    comparisons = [c.removesuffix("_bits") for c in columns if c.endswith("_bits") and c != "prior_bits"]
    # The column comment says which comparisons measure an edit distance rather than a similarity.
    distances = {
        n.removesuffix("_sim")
        for n, comment in described
        if n.endswith("_sim") and "edit distance" in (comment or "")
    }
    return Explanation(
        customer_id, found[0][0], comparisons, distances, records, links, other_inside, nearest, others
    )


def _where(row: dict[str, Any]) -> str:
    """`file [sheet] row N`, with phones and e-mails in the file and sheet names masked."""
    sheet = f" [{row['source_sheet']}]" if row.get("source_sheet") else ""
    return mask_text(f"{row['source_file']}{sheet}") + f" row {row['source_row']}"


def _masked(row: dict[str, Any]) -> list[str]:
    return [escape(str(mask_value(f, row.get(f)) or "")) for f in _SHOWN]


def _record_line(row: dict[str, Any]) -> str:
    """`file [sheet] row N (system, key): company · contact · mobile …`, masked and escaped."""
    values = " · ".join(v for v in _masked(row) if v)
    return f"{escape(_where(row))} ({escape(row.get('source_system') or '?')}): {values}"


def _bar(bits: float) -> str:
    width = min(round(abs(bits)), 24)
    return f"[green]{'▇' * width}[/]" if bits >= 0 else f"[red]{'▇' * width}[/]"


def _step_cells(step: Step, distances: set[str]) -> list[str]:
    if step.comparison == "prior":
        return ["prior", "", "", f"{step.bits:+.2f}", _bar(step.bits), f"{step.total:.2f}"]
    if step.level is None:
        return [f"[dim]{step.comparison}[/]", "[dim]missing[/]", "", "[dim]+0.00[/]", "", f"{step.total:.2f}"]
    if step.similarity is None:
        similarity = ""
    elif step.comparison in distances:
        similarity = f"{step.similarity:.0f} edits"
    else:
        similarity = f"{step.similarity:.2f}"
    return [
        step.comparison,
        str(step.level),
        similarity,
        f"{step.bits:+.2f}",
        _bar(step.bits),
        f"{step.total:.2f}",
    ]


def print_waterfall(
    console: Console, pair: dict[str, Any], comparisons: list[str], distances: set[str]
) -> None:
    """The pair's evidence: prior, one line per comparison with its bits and the running total, the result."""
    table = Table(show_edge=False, pad_edge=False, box=None, padding=(0, 1))
    for column, justify in [("field", "left"), ("level", "right"), ("sim", "right"), ("bits", "right"),
                            ("", "left"), ("total", "right")]:  # fmt: skip
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for step in waterfall(pair, comparisons):
        table.add_row(*_step_cells(step, distances))
    console.print(table)
    console.print(
        f"    = match weight [bold]{pair['match_weight']:.2f}[/] bits → "
        f"probability [bold]{pair['match_probability']:.4f}[/] (threshold {pair['match_threshold']:g})"
    )
    if pair["decided_by"] in {"must_link", "cannot_link"}:
        effect = "merged whatever the weight" if pair["decided_by"] == "must_link" else "never merged"
        console.print(f"    rule {pair['decided_by']} [bold]{escape(pair['rule'])}[/]: {effect}")


def why_not_joined(pair: dict[str, Any]) -> str:
    """One sentence: why this pair did not join its records."""
    probability, threshold = pair["match_probability"], pair["match_threshold"]
    if pair["decided_by"] == "cannot_link":
        return f"cannot_link rule '{pair['rule']}' holds: these two are never merged"
    if pair["decided_by"] == "insufficient":
        return (
            f"probability {probability:.4f} ≥ {threshold:g}, but insufficient rule '{pair['rule']}' holds: "
            "this evidence alone does not merge"
        )
    if pair["link"] == "cut":
        return "accepted, then cut: its cluster chained to a record it must not join, and this was the weakest link"
    if pair["merged"]:
        return "joined after all, through other records"
    return f"probability {probability:.4f} is below the threshold {threshold:g}"


def print_explanation(console: Console, explanation: Explanation) -> None:
    """The whole explanation: records, links with their waterfalls, the nearest pairs not joined."""
    e = explanation
    console.print(
        f"[bold]{escape(e.customer_id)}[/] {escape(e.customer_name or '')}: {len(e.records)} record(s)"
    )
    for number, row in enumerate(e.records, start=1):
        console.print(f"  {number}. {_record_line(row)}", soft_wrap=True)
    console.print(f"\n[bold]Links that joined them[/] ({len(e.links)})")
    if not e.links:
        console.print("  none: a single record, or its records share no link in match_pairs")
    for pair in e.links:
        console.print(f"\n  {escape(_where(_side(pair, 'l')))}  ~  {escape(_where(_side(pair, 'r')))}")
        print_waterfall(console, pair, e.comparisons, e.distances)
    if e.other_inside:
        console.print(
            f"\n  ({e.other_inside} more candidate pair(s) inside this customer are no link of their own: "
            "below the threshold, held apart or cut, yet joined through other records)"
        )
    console.print(f"\n[bold]Nearest pairs not joined[/] ({len(e.nearest)}, most probable first)")
    if not e.nearest:
        console.print("  none: no candidate pair reaches outside this customer")
    for pair in e.nearest:
        inside, outside = ("l", "r") if pair["l_customer_id"] == e.customer_id else ("r", "l")
        other = e.others[
            (pair[f"{outside}_source_file"], pair[f"{outside}_source_sheet"], pair[f"{outside}_source_row"])
        ]
        console.print(f"\n  {escape(_where(_side(pair, inside)))}  ~  {_record_line(other)}", soft_wrap=True)
        console.print(
            f"  in customer {escape(pair[f'{outside}_customer_id'] or '— (quarantined: no company name)')}"
        )
        print_waterfall(console, pair, e.comparisons, e.distances)
        console.print(f"    [yellow]not joined[/]: {escape(why_not_joined(pair))}")


def _side(pair: dict[str, Any], side: str) -> dict[str, Any]:
    return {k.removeprefix(f"{side}_"): v for k, v in pair.items() if k.startswith(f"{side}_source_")}
