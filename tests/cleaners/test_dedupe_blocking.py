"""Spec of blocking (cleaners/dedupe/blocking.py): blocks under the limit, oversized blocks sub-blocked."""

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from crm_etl.cleaners.customer_matching import customer_features
from crm_etl.cleaners.dedupe.blocking import candidate_pairs
from crm_etl.cleaners.dedupe.clustering import connected_components, pair_edges
from crm_etl.cleaners.dedupe.engine import link
from crm_etl.cleaners.dedupe.settings import BlockingRule
from tests.cleaners.test_dedupe import HONGDA, SETTINGS, _records


def _frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"phone": pl.String, "name": pl.String, "city": pl.String}
    ).with_row_index("record_idx")


def _components(pairs: pl.DataFrame, n: int) -> int:
    ids = pl.Series(range(n), dtype=pl.Int64)
    return connected_components(ids, pair_edges(pairs))["component"].n_unique()


def test_a_block_under_the_limit_pairs_all_with_all_as_before() -> None:
    records = _frame([{"phone": "1", "name": f"n{i}"} for i in range(10)])
    pairs = candidate_pairs(records, [BlockingRule(columns=["phone"], max_block_size=10)])
    assert pairs.height == 45
    assert not pairs["sub_block"].any()


def test_an_oversized_block_of_identical_records_is_a_star_connecting_all_of_them() -> None:
    n = 5_000
    records = _frame([{"phone": "1", "name": "same", "city": "sh"}] * n)
    pairs = candidate_pairs(records, [BlockingRule(columns=["phone"], max_block_size=50)])
    # n - 1 pairs, not n²/2 and not none: one star, all from the sub-block.
    assert pairs.height == n - 1
    assert pairs["sub_block"].all()
    assert _components(pairs, n) == 1


def test_an_oversized_block_of_distinct_records_pairs_only_its_copies_without_a_window() -> None:
    rows = [{"phone": "1", "name": f"n{i}"} for i in range(60)] + [{"phone": "1", "name": "twin"}] * 3
    pairs = candidate_pairs(_frame(rows), [BlockingRule(columns=["phone"], max_block_size=20)])
    # The three twins (ids 60, 61, 62) as a star; the 60 different names, a switchboard, pair nothing.
    assert pairs.select("l", "r").rows() == [(60, 61), (60, 62)]


@pytest.mark.parametrize("window", [1, 3])
def test_a_window_pairs_each_record_with_its_next_neighbours_in_sort_order(window: int) -> None:
    n = 200
    # Names written so that sort order is not id order: neighbours are by name.
    rows = [{"phone": "1", "name": f"{(i * 37) % n:04d}"} for i in range(n)]
    rule = BlockingRule(columns=["phone"], max_block_size=20, window=window, sort_by=["name"])
    pairs = candidate_pairs(_frame(rows), [rule])
    assert pairs.height == sum(n - step for step in range(1, window + 1))
    name = dict(enumerate(row["name"] for row in rows))
    gaps = {abs(int(name[l_]) - int(name[r_])) for l_, r_ in pairs.select("l", "r").rows()}
    assert gaps == set(range(1, window + 1))


def test_a_list_column_key_over_the_limit_is_sub_blocked_too() -> None:
    records = pl.DataFrame(
        {
            "record_idx": list(range(40)),
            "variants": [["ab", "ac"]] * 30 + [["ab", f"x{i}"] for i in range(10)],
        }
    )
    pairs = candidate_pairs(records, [BlockingRule(columns=["variants"], max_block_size=15)])
    # "ab" (40 records) and "ac" (30) are both oversized: the 30 identical records become one star.
    assert pairs.height == 29 and pairs["sub_block"].all()
    assert set(pairs["l"].to_list()) == {0}


def test_a_pair_a_proper_block_finds_is_not_marked_as_sub_block() -> None:
    rows = [{"phone": "1", "name": "same", "city": "sh"}] * 30
    rules = [
        BlockingRule(columns=["phone"], max_block_size=10),
        BlockingRule(columns=["city"], max_block_size=50),
    ]
    pairs = candidate_pairs(_frame(rows), rules)
    assert pairs.height == 30 * 29 // 2
    # (0, r) is in rule 0's sub-block star and in rule 1's block: the first rule names it, as a sub-block.
    star = pairs.filter(pl.col("l") == 0)
    assert star["rule"].unique().to_list() == [0] and star["sub_block"].all()
    rest = pairs.filter(pl.col("l") > 0)
    assert rest["rule"].unique().to_list() == [1] and not rest["sub_block"].any()


def test_a_window_needs_an_order() -> None:
    with pytest.raises(ValidationError, match="needs sort_by"):
        BlockingRule(columns=["phone"], window=2)
    with pytest.raises(ValidationError, match="without a window"):
        BlockingRule(columns=["phone"], sort_by=["name"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("xyz")), min_size=1, max_size=60),
    st.integers(min_value=2, max_value=8),
    st.integers(min_value=0, max_value=3),
)
def test_blocking_keeps_small_blocks_links_copies_and_stays_linear(
    rows: list[tuple[str, str]], limit: int, window: int
) -> None:
    records = _frame([{"phone": p, "name": n} for p, n in rows])
    rule = BlockingRule(
        columns=["phone"], max_block_size=limit, window=window, sort_by=["name"] if window else []
    )
    pairs = candidate_pairs(records, [rule])
    found = set(pairs.select("l", "r").rows())
    assert all(l_ < r_ for l_, r_ in found) and len(found) == pairs.height
    by_phone: dict[str, list[int]] = {}
    for i, (phone, _) in enumerate(rows):
        by_phone.setdefault(phone, []).append(i)
    for ids in by_phone.values():
        inside = {(a, b) for a in ids for b in ids if a < b}
        if len(ids) <= limit:
            # A block under the limit: every pair, none marked as a sub-block.
            assert inside <= found
            assert not pairs.filter(pl.col("l").is_in(ids))["sub_block"].any()
        else:
            # Oversized: about linear (copies' star plus the window), and copies connected.
            assert len(found & inside) <= len(ids) * (window + 1)
            for name in "xyz":
                copies = [i for i in ids if rows[i][1] == name]
                star = {(copies[0], c) for c in copies[1:]}
                assert star <= found


def test_the_mobile_window_of_dedupe_yaml_lets_a_team_on_one_number_meet() -> None:
    # 120 people of one company on its one mobile: no copies; the mobile and company blocks overflow.
    people = [
        {**HONGDA, "company_key": "宏达机械", "contact_key": f"person {i:03d}", "email": None}
        for i in range(120)
    ]
    others = [{"company_key": f"另一家{i:03d}公司", "mobile": HONGDA["mobile"]} for i in range(3)]
    result = link(customer_features(_records(*people, *others)), SETTINGS)
    sub = result.pairs.filter(pl.col("sub_block"))
    # Each with its next two in company order: the team is connected by candidate pairs, linearly;
    # whether they merge is the model's call (a number 120 records share is weak evidence).
    assert _components(sub.filter(pl.col("r") < 120), 120) == 1
    assert sub.height <= 123 * 2
    # Records of other companies on the number meet their own neighbours and the team at one seam.
    assert sub.filter(pl.col("r") >= 120).height <= 2 * 3
