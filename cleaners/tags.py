"""Turn declarative tag rules into one DuckDB statement that sets `tags` and `tag_line`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Rule(Protocol):
    tag: str
    group: str
    when: str
    priority: int


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _case(rule: Rule) -> str:
    return f"CASE WHEN ({rule.when}) THEN {_quote(rule.tag)} END"


def tag_update_sql(rules: Sequence[Rule], groups: Sequence[str], table: str = "customers") -> str:
    """An UPDATE that sets every customer's tags (all matching rules) and tag_line (best per group)."""
    ranked = sorted(rules, key=lambda r: -r.priority)
    tags = (
        "list_filter([" + ", ".join(_case(r) for r in ranked) + "]::VARCHAR[], lambda x: x IS NOT NULL)"
        if ranked
        else "[]::VARCHAR[]"
    )
    per_group = []
    for group in groups:
        members = [r for r in ranked if r.group == group]
        if members:
            per_group.append("coalesce(" + ", ".join(_case(r) for r in members) + ")")
    line = f"NULLIF(concat_ws('-', {', '.join(per_group)}), '')" if per_group else "NULL"
    return f"UPDATE {table} SET tags = {tags}, tag_line = {line}"


def predicate_check_sql(rule: Rule, table: str = "customers") -> str:
    """A query that fails if the rule's predicate is not valid SQL over the table."""
    return f"SELECT count(*) FROM {table} WHERE ({rule.when})"
