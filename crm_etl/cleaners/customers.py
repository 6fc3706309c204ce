"""From clean customer records to golden customers, contacts and per-record lineage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from crm_etl.cleaners.contact_records import company_view, describe_attachments
from crm_etl.cleaners.contacts import build_contacts
from crm_etl.cleaners.customer_matching import ATTACH_FEATURES, cluster_customers, legal_names
from crm_etl.cleaners.dedupe.engine import LinkageResult
from crm_etl.cleaners.dedupe.review import decision_pairs
from crm_etl.cleaners.dedupe.scoring import PairScoring
from crm_etl.cleaners.dedupe.settings import DedupeSettings
from crm_etl.cleaners.dedupe.survivorship import completeness, golden_records, record_lineage
from crm_etl.cleaners.golden_values import golden_value_columns
from crm_etl.cleaners.identity import assign_customer_ids


@dataclass
class ResolvedCustomers:
    """Loaded records with their customer_id, the golden customers, their contacts, and rejected records."""

    records: pl.DataFrame
    golden: pl.DataFrame
    contacts: pl.DataFrame
    rejected: pl.DataFrame
    # Every scored candidate pair (l, r are `record_idx` of `records`), the fitted model, the figures.
    linkage: LinkageResult


def source_key(frame: pl.DataFrame) -> pl.Expr:
    """A record's key in its source system: its own ID, else where it sits (file#sheet!row)."""
    return pl.coalesce(pl.col("legacy_id"), record_lineage()).alias("source_key")


def record_identity(system: pl.Expr, key: pl.Expr) -> pl.Expr:
    """A record's identity across runs, as steward decisions name it: its source system and source key."""
    return system + pl.lit("\x1f") + key


@dataclass
class MatchedRecords:
    """Clean customer records matched into clusters, the records that cannot be matched, and the run."""

    records: pl.DataFrame  # with record_idx, source_key, legal_name, cluster, match_score, match_reason
    rejected: pl.DataFrame
    linkage: LinkageResult


def match_records(
    cleaned: pl.DataFrame,
    dedupe: DedupeSettings,
    decisions: pl.DataFrame | None = None,
    scoring: PairScoring | None = None,
) -> MatchedRecords:
    """Cluster the clean customer records that are records (the rejected ones are kept apart).

    `decisions`: a steward's latest decisions by record identity (left_identity, right_identity,
    decision, reason; see `record_identity`), honoured by the engine as must-link / cannot-link.
    `scoring`: where the candidate pairs are compared and scored (cleaners/dedupe/scoring.py).
    """
    records = cleaned.with_row_index("record_idx").with_columns(
        pl.col("record_idx").cast(pl.Int64), source_key(cleaned)
    )
    rejected = records.filter(pl.col("reject_reason").is_not_null())
    candidates = records.filter(pl.col("reject_reason").is_null())
    # Matching and the golden name both read the registered names: built once.
    candidates = candidates.with_columns(legal_names(candidates))
    constraints = None
    if decisions is not None:
        identified = candidates.with_columns(
            record_identity(pl.col("source_system"), pl.col("source_key")).alias("identity")
        )
        constraints = decision_pairs(identified, decisions)
    clusters, linkage = cluster_customers(candidates, dedupe, constraints, scoring)
    matched = candidates.join(clusters.drop("legal_name"), on="record_idx", how="left")
    return MatchedRecords(matched, rejected, linkage)


def build_customers(
    matched: MatchedRecords,
    previous: pl.DataFrame,
    id_pattern: str,
    completeness_fields: Sequence[str],
    as_of: dt.date,
    dedupe: DedupeSettings,
) -> ResolvedCustomers:
    """Give each cluster a stable customer_id and build its golden record and contacts."""
    candidates = matched.records
    # A customer is a company: a cluster in which no record names the company cannot be loaded.
    named = pl.col("customer_name").is_not_null().any().over("cluster")
    nameless = candidates.filter(~named).with_columns(
        pl.lit("missing_customer_name").alias("reject_reason"),
        pl.lit("no company name in this record or in any record matched to it").alias("reject_detail"),
    )
    candidates = candidates.filter(named)
    ids = assign_customer_ids(
        candidates.select(
            "cluster", "source_system", "source_key", "legacy_id", "first_contact_date", "company_key"
        ),
        previous,
        id_pattern,
        as_of,
    )
    loaded = describe_attachments(candidates.join(ids, on="cluster", how="left"))
    # A contact record speaks for its person: company fields and the golden contact are the account's.
    golden = completeness(
        golden_records(golden_value_columns(company_view(loaded)), dedupe.survivorship, dedupe.source_trust),
        completeness_fields,
    )
    contacts = build_contacts(loaded, golden, dedupe.source_trust)
    return ResolvedCustomers(
        records=loaded.drop("legal_name"),
        golden=golden.sort("customer_id"),
        contacts=contacts,
        rejected=pl.concat(
            [matched.rejected, nameless.drop("cluster", "match_score", "match_reason", *ATTACH_FEATURES)],
            how="diagonal",
        ),
        linkage=matched.linkage,
    )


def resolve_customers(
    cleaned: pl.DataFrame,
    previous: pl.DataFrame,
    id_pattern: str,
    completeness_fields: Sequence[str],
    as_of: dt.date,
    dedupe: DedupeSettings,
    decisions: pl.DataFrame | None = None,
) -> ResolvedCustomers:
    """Cluster clean records, give each cluster a stable customer_id, and build golden records."""
    return build_customers(
        match_records(cleaned, dedupe, decisions), previous, id_pattern, completeness_fields, as_of, dedupe
    )


def quarantine_rows(rejected: pl.DataFrame, record_type: str, run_id: str) -> pl.DataFrame:
    """Rows for the `quarantine` table from rejected records of one type."""
    return rejected.select(
        pl.lit(run_id).alias("run_id"),
        pl.lit(record_type).alias("record_type"),
        "source_system",
        "source_file",
        "source_sheet",
        "source_row",
        pl.col("reject_reason").alias("reason"),
        pl.col("reject_detail").alias("detail"),
        "raw",
    )
