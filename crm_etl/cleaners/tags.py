"""Turn declarative tag rules into DuckDB SQL that sets every customer's `tags` and `tag_line`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

# One row per customer: the customer's columns and its features; tag predicates run over it.
TAG_INPUT = "_tag_input"


class Rule(Protocol):
    tag: str
    group: str
    when: str
    priority: int
    slot: str | None


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _case(rule: Rule) -> str:
    return f"CASE WHEN ({rule.when}) THEN {_quote(rule.tag)} END"


def tag_input_sql(features: str = "customer_features", customers: str = "customers") -> str:
    """A temporary view joining each customer's columns with its features."""
    return (
        f"CREATE OR REPLACE TEMP VIEW {TAG_INPUT} AS SELECT f.*, "
        f"c.* EXCLUDE (customer_id, tags, tag_line, tier) "
        f"FROM {features} f JOIN {customers} c USING (customer_id)"
    )


def ordered_rules(rules: Sequence[Rule], groups: Sequence[str]) -> list[Rule]:
    """Rules by group (in `groups` order), then priority (highest first), then file order."""
    rank = {g: i for i, g in enumerate(groups)}
    return sorted(rules, key=lambda r: (rank.get(r.group, len(rank)), -r.priority))


def tags_sql(rules: Sequence[Rule], groups: Sequence[str], slots: Sequence[str]) -> str:
    """SELECT customer_id, tags (every matching tag), tag_line (best tag per slot) FROM the tag input."""
    merged: dict[str, list[Rule]] = {}
    for rule in ordered_rules(rules, groups):
        merged.setdefault(rule.tag, []).append(rule)
    cases = [
        f"CASE WHEN {' OR '.join(f'({r.when})' for r in same)} THEN {_quote(tag)} END"
        for tag, same in merged.items()
    ]
    tags = (
        "list_filter([" + ", ".join(cases) + "]::VARCHAR[], lambda x: x IS NOT NULL)"
        if cases
        else "[]::VARCHAR[]"
    )
    per_slot = []
    for slot in slots:
        members = sorted((r for r in rules if r.slot == slot), key=lambda r: -r.priority)
        if members:
            per_slot.append("coalesce(" + ", ".join(_case(r) for r in members) + ")")
    line = f"NULLIF(concat_ws('-', {', '.join(per_slot)}), '')" if per_slot else "NULL::VARCHAR"
    return f"SELECT customer_id, {tags} AS tags, {line} AS tag_line FROM {TAG_INPUT}"


# Carries each customer's tags as JSON text while `customers.tags` is rewritten (tag_update_sql).
_TAGS_JSON = "_tags_json"


def tag_update_sql(rules: Sequence[Rule], groups: Sequence[str], slots: Sequence[str]) -> str:
    """Statements that set customers.tags and customers.tag_line from the rules.

    DuckDB updates a list column of a table with a primary key by deleting and re-inserting
    whole rows, fetched one by one (field_sources and all): at 468k customers that took half a
    minute. So the tags go into a text column first (updated in place), and `tags` is then
    rewritten from it by ALTER … USING, which rewrites that one column only.
    """
    return f"""
ALTER TABLE customers ADD COLUMN {_TAGS_JSON} VARCHAR;
UPDATE customers SET {_TAGS_JSON} = to_json(t.tags), tag_line = t.tag_line
FROM ({tags_sql(rules, groups, slots)}) t WHERE customers.customer_id = t.customer_id;
ALTER TABLE customers ALTER tags TYPE VARCHAR[]
    USING coalesce(from_json({_TAGS_JSON}, '["VARCHAR"]'), tags);
ALTER TABLE customers DROP COLUMN {_TAGS_JSON};
"""


def predicate_type_sql(rule: Rule) -> str:
    """DESCRIBE of the predicate alone: fails if it does not bind, else tells its type."""
    return f"DESCRIBE SELECT ({rule.when}) AS predicate FROM {TAG_INPUT}"


def predicate_check_sql(rule: Rule) -> str:
    """A query that evaluates the predicate on every customer (catches errors at run time too)."""
    return f"SELECT count(*) FILTER (WHERE ({rule.when})) AS matches FROM {TAG_INPUT}"
