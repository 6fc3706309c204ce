"""Deduplicate customer records into companies: the customer features the linkage engine compares."""

from __future__ import annotations

import polars as pl

from crm_etl.cleaners.company import BRANCH_MARKERS, PLACES, company_legal_name, company_trade_name
from crm_etl.cleaners.dedupe.engine import LinkageResult, link
from crm_etl.cleaners.dedupe.scoring import PairScoring
from crm_etl.cleaners.dedupe.settings import LinkageSettings
from crm_etl.cleaners.emails import PROVIDERS

# Keys longer than this are Latin names or pasted text: deletion variants would only make noise.
_MAX_VARIANT_KEY = 12
_BRANCH_TAIL = rf"((?:{'|'.join(PLACES)})?(?:省|市|区|县)?(?:{'|'.join(sorted(BRANCH_MARKERS, key=len, reverse=True))}))$"


def _deletion_variants(keys: pl.DataFrame) -> pl.DataFrame:
    """Per distinct `key`: `company_variants`, the key itself and the key with one character left
    out at each position (empty for keys longer than _MAX_VARIANT_KEY characters).

    Two keys one substitution apart (金桥 ~ 金侨) share a deletion; a key that lost a character
    (振包装材料 ~ 振好包装材料) is itself a deletion of the other.
    """
    length = pl.col("key").str.len_chars()
    position = pl.col("position")
    deletions = (
        keys.filter((length >= 3) & (length <= _MAX_VARIANT_KEY))
        .with_columns(pl.int_ranges(0, length).alias("position"))
        .explode("position")
        .select(
            "key",
            (pl.col("key").str.slice(0, position) + pl.col("key").str.slice(position + 1)).alias("variant"),
        )
        .group_by("key", maintain_order=True)
        .agg(pl.col("variant"))
    )
    empty = pl.lit([], pl.List(pl.String))
    return keys.join(deletions, on="key", how="left").select(
        "key",
        pl.when(length <= _MAX_VARIANT_KEY)
        .then(pl.concat_list("key", pl.col("variant").fill_null(empty)))
        .otherwise(empty)
        .alias("company_variants"),
    )


def _branches(keys: pl.Series) -> pl.Series:
    """The branch tail of each company key (广州分公司), null for the many keys that name no branch."""
    marked = keys.str.contains_any(list(BRANCH_MARKERS)).fill_null(value=False)
    branch = pl.Series("branch", [None] * len(keys), dtype=pl.String)
    # Only the few branch names pay for the place-name regex.
    return branch.scatter(marked.arg_true(), keys.filter(marked).str.extract(_BRANCH_TAIL, 1))


def customer_features(records: pl.DataFrame) -> pl.DataFrame:
    """Columns the customer linkage settings read, derived from the cleaned record columns."""
    # Records of callers that know no contacts exports speak for their company.
    for column, default in (("record_role", "account"), ("account_ref", None)):
        if column not in records.columns:
            records = records.with_columns(pl.lit(default, pl.String).alias(column))
    key = pl.when(pl.col("company_key").str.len_chars() >= 2).then(pl.col("company_key"))
    domain = pl.col("email").str.split("@").list.get(1, null_on_oob=True)
    # Variants once per distinct key: many records share one.
    variants = _deletion_variants(records.select(key.alias("key")).unique().drop_nulls())
    contact = pl.col("record_role") == "contact"
    # A system numbers its contacts apart from its accounts: Contact 17 is not Account 17.
    id_space = pl.when(contact).then(pl.col("source_system") + " contacts").otherwise(pl.col("source_system"))
    features = records.with_columns(
        records.select(key.alias("key"))
        .join(variants, on="key", how="left", maintain_order="left")
        .get_column("company_variants"),
        key.alias("company_key"),
        id_space.alias("id_space"),
        pl.when(pl.col("legacy_id").is_not_null())
        .then(id_space + pl.lit(":") + pl.col("legacy_id"))
        .alias("legacy_ref"),
        # The account a record is, or (a contact) the account its person works at, in the account IDs
        # of its system: a contact's account ID meets the account's own ID here.
        pl.when(contact)
        .then(pl.col("source_system") + pl.lit(":") + pl.col("account_ref"))
        .otherwise(pl.col("source_system") + pl.lit(":") + pl.col("legacy_id"))
        .alias("account_key"),
        _branches(records.get_column("company_key")),
        pl.when(key.str.len_chars() >= 4).then(key.str.slice(0, 4)).alias("company_head"),
        pl.when(key.str.len_chars() >= 2).then(key.str.slice(0, 2)).alias("company_head2"),
        # A company's own mail domain; two qq.com addresses say nothing about the company.
        pl.when(~domain.is_in(PROVIDERS)).then(domain).alias("email_domain"),
        legal_names(records),
        company_trade_name(records.get_column("company_key")).alias("trade_name"),
        # Whether the name is written in Chinese: the rules read a flag, not the name of each pair.
        key.str.contains(r"\p{Han}").fill_null(value=False).alias("company_han"),
    )
    return with_attach_names(features)


# A company key this short is a trade name alone (东方, 华为): many registered companies share it.
_MIN_ATTACH_KEY = {"cjk": 4, "latin": 6}


def with_attach_names(features: pl.DataFrame) -> pl.DataFrame:
    """`attach_name`, `name_accounts` and `registered_place`: how a contact attaches by company name.

    `registered_place` is what a registered name has before the company key (深圳 of 深圳华为技术有限
    公司). `name_accounts` counts the registered places among account records of one company key:
    two (北京东方科技, 上海东方科技) are two companies, and a contact naming only 东方科技 could be
    at either. `attach_name` is the company key of a contact, and of an account whose key names one
    company at most, when the key is distinctive (four characters, six Latin letters).
    """
    key, legal = pl.col("company_key"), pl.col("legal_name")
    place = pl.when(legal.str.contains(key, literal=True) & ~legal.str.starts_with(key)).then(
        legal.str.split(key).list.first()
    )
    distinctive = key.str.len_chars() >= pl.when("company_han").then(_MIN_ATTACH_KEY["cjk"]).otherwise(
        _MIN_ATTACH_KEY["latin"]
    )
    with_place = features.with_columns(place.alias("registered_place"))
    accounts = (
        with_place.filter((pl.col("record_role") != "contact") & key.is_not_null())
        .group_by("company_key")
        .agg(pl.col("registered_place").drop_nulls().n_unique().cast(pl.Int64).alias("name_accounts"))
    )
    joined = with_place.join(accounts, on="company_key", how="left", maintain_order="left").with_columns(
        pl.col("name_accounts").fill_null(0)
    )
    attaches = distinctive & ((pl.col("record_role") == "contact") | (pl.col("name_accounts") <= 1))
    return joined.with_columns(pl.when(attaches).then(key).alias("attach_name"))


# Features that say how a contact record attached to its company (cleaners/contact_records.py).
ATTACH_FEATURES = ["account_key", "legal_name", "attach_name", "registered_place", "name_accounts"]


def legal_names(records: pl.DataFrame) -> pl.Series:
    """`legal_name` of each record's company (`company_legal_name`), unless the records carry it."""
    if "legal_name" in records.columns:
        return records.get_column("legal_name")
    return company_legal_name(records.get_column("customer_name")).alias("legal_name")


def cluster_customers(
    records: pl.DataFrame,
    settings: LinkageSettings,
    decisions: pl.DataFrame | None = None,
    scoring: PairScoring | None = None,
) -> tuple[pl.DataFrame, LinkageResult]:
    """Cluster clean customer records; returns (record_idx, cluster, match_score, match_reason,
    *ATTACH_FEATURES) and the run.

    `cluster` is the smallest record_idx of the cluster; a record with no duplicate has a null
    score and the reason `no duplicate found`. `decisions` are a steward's, between record_idx
    (l, r, decision, reason: see cleaners/dedupe/engine.py `link`).
    """
    features = customer_features(records)
    missing = [c for c in settings.columns if c not in features.columns]
    if missing:
        raise ValueError(f"dedupe settings read columns that customer records do not have: {missing}")
    result = link(features, settings, id_column="record_idx", decisions=decisions, scoring=scoring)
    clusters = result.clusters.rename({"id": "record_idx"}).join(
        features.select("record_idx", *ATTACH_FEATURES), on="record_idx", how="left", maintain_order="left"
    )
    return clusters, result
