import math

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_etl.cleaners.kpis import stratified_sample

owners = st.lists(st.sampled_from(["张伟", "李娜", "王芳", None]), min_size=1, max_size=120)


@settings(max_examples=60, deadline=None)
@given(owners, st.sampled_from([0.1, 0.25, 0.5]), st.integers(0, 2**32 - 1))
def test_stratified_sample_takes_the_share_of_every_owner(owner_list, share, seed):
    frame = pl.DataFrame({"customer_id": [f"C{i:04d}" for i in range(len(owner_list))], "owner": owner_list})
    sample = stratified_sample(frame, "owner", share, seed, "customer_id")
    sizes = frame.group_by("owner").len()
    taken = dict(sample.group_by("owner").len().iter_rows())
    for owner, size in sizes.iter_rows():
        assert taken[owner] == max(1, math.ceil(size * share))
    assert sample.height >= share * frame.height
    again = stratified_sample(frame.reverse(), "owner", share, seed, "customer_id")
    assert sorted(again["customer_id"]) == sorted(sample["customer_id"])


def test_stratified_sample_depends_on_the_seed():
    frame = pl.DataFrame({"customer_id": [f"C{i:04d}" for i in range(200)], "owner": ["张伟"] * 200})
    draws = {
        tuple(sorted(stratified_sample(frame, "owner", 0.1, seed, "customer_id")["customer_id"]))
        for seed in range(5)
    }
    assert len(draws) > 1
