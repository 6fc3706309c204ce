import datetime as dt

import polars as pl

from crm_etl.cleaners.identity import assign_customer_ids

PATTERN = r"^C\d{8}\d{3,}$"
SCHEMA = {
    "cluster": pl.Int64,
    "source_system": pl.String,
    "source_key": pl.String,
    "legacy_id": pl.String,
    "first_contact_date": pl.Date,
    "company_key": pl.String,
}
PREV = {"source_system": pl.String, "source_key": pl.String, "customer_id": pl.String}


def _ids(records, previous=None, day=dt.date(2024, 6, 30)):
    frame = pl.DataFrame(records, schema=SCHEMA, orient="row")
    prev = pl.DataFrame(previous or [], schema=PREV, orient="row")
    return dict(assign_customer_ids(frame, prev, PATTERN, day).iter_rows())


def test_new_ids_use_first_contact_day_and_sequence():
    ids = _ids(
        [
            (0, "a", "k0", None, dt.date(2024, 5, 1), "甲"),
            (1, "a", "k1", None, dt.date(2024, 5, 1), "乙"),
            (2, "a", "k2", None, None, "丙"),
        ]
    )
    assert ids == {0: "C20240501001", 1: "C20240501002", 2: "C20240630001"}


def test_previous_ids_are_kept_and_never_reused():
    previous = [("a", "k0", "C20240501001")]
    ids = _ids(
        [(5, "a", "k0", None, dt.date(2024, 5, 1), "甲"), (6, "a", "k9", None, dt.date(2024, 5, 1), "乙")],
        previous,
    )
    assert ids == {5: "C20240501001", 6: "C20240501002"}


def test_ids_in_product_format_are_adopted():
    ids = _ids(
        [
            (0, "excel_ledger", "C20240501001", "C20240501001", dt.date(2024, 5, 1), "甲"),
            (1, "a", "x", None, dt.date(2024, 5, 1), "乙"),
        ]
    )
    assert ids == {0: "C20240501001", 1: "C20240501002"}


def test_a_split_cluster_keeps_the_id_where_most_records_went():
    previous = [("a", "k1", "C20240101001"), ("a", "k2", "C20240101001"), ("a", "k3", "C20240101001")]
    ids = _ids(
        [
            (0, "a", "k1", None, dt.date(2024, 1, 1), "x"),
            (0, "a", "k2", None, dt.date(2024, 1, 1), "x"),
            (1, "a", "k3", None, dt.date(2024, 1, 1), "y"),
        ],
        previous,
    )
    assert ids == {0: "C20240101001", 1: "C20240101002"}
