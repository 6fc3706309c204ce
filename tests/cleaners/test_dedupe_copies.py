"""Spec of identical records (cleaners/dedupe/copies.py): a copy group too large for a block is one record."""

import polars as pl

from crm_etl.cleaners.customer_matching import cluster_customers
from crm_etl.cleaners.dedupe.copies import fold_copies
from crm_etl.cleaners.dedupe.settings import BlockingRule
from tests.cleaners.test_dedupe import HONGDA, SETTINGS, _records

RULES = [
    BlockingRule(columns=["mobile"], max_block_size=50),
    BlockingRule(columns=["name"], max_block_size=100),
]
SCHEMA = {"record_idx": pl.Int64, "mobile": pl.String, "name": pl.String}


def _frame(*groups: tuple[int, dict]) -> pl.DataFrame:
    rows = [row for count, row in groups for _ in range(count)]
    return pl.DataFrame([{"record_idx": i, **row} for i, row in enumerate(rows)], schema=SCHEMA)


def test_a_copy_group_larger_than_a_block_it_holds_a_key_of_is_folded_into_its_first_record() -> None:
    copies = fold_copies(
        _frame((60, {"mobile": "1", "name": "a"}), (3, {"mobile": "2", "name": "b"})),
        RULES,
        ["mobile", "name"],
        "record_idx",
    )
    assert copies.folded == 59
    assert copies.members["representative"].unique().to_list() == [0]
    # The linked records: the representative and the three small copies, left to the model.
    assert copies.linked["record_idx"].to_list() == [0, 60, 61, 62]


def test_copies_that_overflow_no_block_are_left_to_the_model() -> None:
    # 60 copies without a mobile: the name block (100) holds them, so no block is oversized.
    frame = _frame((60, {"mobile": None, "name": "a"}), (40, {"mobile": "1", "name": "b"}))
    copies = fold_copies(frame, RULES, ["mobile", "name"], "record_idx")
    assert copies.folded == 0 and copies.linked.equals(frame)


def test_records_differing_in_one_compared_column_are_not_copies() -> None:
    frame = _frame((60, {"mobile": "1", "name": "a"}), (60, {"mobile": "1", "name": "b"}))
    copies = fold_copies(frame, RULES, ["mobile", "name"], "record_idx")
    assert copies.members.group_by("representative").len().sort("representative").rows() == [
        (0, 60),
        (60, 60),
    ]


# No registered legal form (有限公司): no must-link rule joins these, only the model would.
COPY = {**HONGDA, "company_key": "宏达机械", "customer_name": "宏达机械"}


def test_two_thousand_identical_records_are_one_customer_and_say_so() -> None:
    other = {"company_key": "恒瑞模具", "contact_key": "yang liu", "mobile": "+8615962151234"}
    clusters, result = cluster_customers(_records(*[COPY] * 2_000, other), SETTINGS)
    assert clusters["cluster"].n_unique() == 2
    copies = clusters.filter(pl.col("record_idx") < 2_000)
    assert copies["cluster"].unique().to_list() == [0]
    assert copies["match_reason"].unique().to_list() == [
        "one of 2000 identical records (every compared field equal)"
    ]
    assert copies["match_score"].unique().to_list() == [1.0]
    assert result.stats["identical_copies"] == 1_999


def test_a_copy_that_matches_another_record_brings_its_copies_along() -> None:
    # A ledger row of the same company with a typo'd e-mail: the representative links to it.
    ledger = {**COPY, "email": "chenjg@hongda-mach.cn"}
    clusters, _ = cluster_customers(_records(*[COPY] * 500, ledger), SETTINGS)
    assert clusters["cluster"].n_unique() == 1
    # The representative keeps the reason of its own link.
    assert clusters["match_reason"][0].startswith("company exact")


def test_a_steward_decision_about_a_copy_is_one_about_its_group() -> None:
    ledger = {**COPY, "email": "chenjg@hongda-mach.cn"}
    records = _records(*[COPY] * 500, ledger)
    decisions = pl.DataFrame(
        {"l": [123], "r": [500], "decision": ["cannot_link"], "reason": ["steward: row 3"]}
    )
    clusters, _ = cluster_customers(records, SETTINGS, decisions)
    assert clusters["cluster"].n_unique() == 2
    assert clusters.filter(pl.col("record_idx") < 500)["cluster"].n_unique() == 1
