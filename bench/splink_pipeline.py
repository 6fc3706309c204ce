"""The peer of bench_pipeline.py: the plain Splink 5 pipeline a competent engineer would write.

It reads the inbox as the floor does (bench_pipeline.read_inbox_tables), keeps the customer
records (ledger sheets, CRM accounts, web forms: a sheet with a company, a contact and a phone or
mail column, found by the headers the engineer saw in the files), cleans three keys in polars
(phone: digits only, the last 11; company key: no spaces or punctuation, no legal form, no leading
city or province; e-mail lower-cased), dedupes with Splink on DuckDB (blocking on phone and on the
company key; Jaro-Winkler levels on the company key, exact phone, contact and e-mail; u by random
sampling, m by EM; predictions and clusters at 0.9) and writes the clusters to a DuckDB table.
Orders and follow-ups are not linked: that is the part a plain pipeline leaves for later.

    .venv/bin/python bench/bench_pipeline.py --peer splink --inbox DIR --out clusters.duckdb
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

THRESHOLD = 0.9
HEADERS = {
    "company": {"客户名称", "公司名称", "Account Name", "company"},
    "contact_name": {"联系人", "对接人", "Contact Name", "name"},
    "phone": {"手机", "手机号", "联系电话", "Mobile", "phone"},
    "email": {"邮箱", "电子邮箱", "邮件", "Email", "email"},
}
FOLLOW_UP_HEADERS = {"跟进方式", "Activity Type"}
LEGAL_FORMS = r"(股份有限公司|有限责任公司|集团有限公司|有限公司|集团|公司)$"
PLACES = (
    "上海|北京|天津|重庆|广州|深圳|杭州|南京|苏州|宁波|无锡|温州|合肥|武汉|成都|西安|长沙|郑州|青岛|济南|厦门|福州|"
    "东莞|佛山|珠海|石家庄|太原|沈阳|大连|广东|浙江|江苏|山东|福建|河北|河南|湖北|湖南|四川|安徽"
)


def _customer_frame(file: str, sheet: str, frame: pl.DataFrame, from_keys: bool) -> pl.DataFrame | None:
    """The sheet's customer columns under canonical names, or None when it is no customer list."""
    if from_keys:
        header, body = list(frame.columns), frame
    else:
        rows = frame.head(5).rows()
        at = next((i for i, row in enumerate(rows) if HEADERS["company"] & {str(v) for v in row}), None)
        if at is None:
            return None
        header = [str(v) if v is not None else f"_{i}" for i, v in enumerate(rows[at])]
        body = frame.slice(at + 1)
        body.columns = [f"{h}#{i}" for i, h in enumerate(header)]
        header = list(body.columns)
    names = {h.split("#")[0]: h for h in reversed(header)}
    if FOLLOW_UP_HEADERS & set(names):
        return None
    found = {
        field: next((names[h] for h in options if h in names), None) for field, options in HEADERS.items()
    }
    if found["company"] is None or found["contact_name"] is None or not (found["phone"] or found["email"]):
        return None
    return body.select(
        pl.lit(file).alias("source_file"),
        pl.lit(sheet).alias("source_sheet"),
        *[
            (pl.col(column).cast(pl.String) if column else pl.lit(None, pl.String)).alias(field)
            for field, column in found.items()
        ],
    ).filter(pl.col("company").is_not_null() & ~pl.col("company").is_in(list(HEADERS["company"])))


def customer_records(inbox: Path) -> pl.DataFrame:
    """Every customer record of the inbox with its cleaned phone, company key and e-mail."""
    from bench_pipeline import read_inbox_tables

    frames = [
        customer
        for file, sheet, frame, from_keys in read_inbox_tables(inbox)
        if (customer := _customer_frame(file, sheet, frame, from_keys)) is not None
    ]
    records = pl.concat(frames, how="vertical")
    phone = (
        pl.col("phone").str.strip_chars().str.replace(r"\.0$", "").str.replace_all(r"[^0-9]", "").str.tail(11)
    )
    key = (
        pl.col("company")
        .str.replace_all(r"[\s\p{P}\p{S}]", "")
        .str.replace(LEGAL_FORMS, "")
        .str.replace(f"^({PLACES})(省|市)?", "")
    )
    return records.with_row_index("unique_id").select(
        pl.col("unique_id").cast(pl.Int64),
        "source_file",
        "source_sheet",
        "company",
        pl.when(key != "").then(key).alias("company_key"),
        pl.when(phone != "").then(phone).alias("phone"),
        pl.col("contact_name").str.strip_chars(),
        pl.col("email").str.strip_chars().str.to_lowercase(),
    )


def run(inbox: Path, out: Path) -> dict[str, Any]:
    """Dedupe the inbox's customer records with Splink and write `clusters` into the DuckDB file `out`."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    start = time.perf_counter()
    records = customer_records(inbox)
    read_seconds = time.perf_counter() - start
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=[block_on("phone"), block_on("company_key")],
        comparisons=[
            cl.JaroWinklerAtThresholds("company_key", [0.92, 0.8]),
            cl.ExactMatch("phone"),
            cl.ExactMatch("contact_name"),
            cl.ExactMatch("email"),
        ],
    )
    linker = Linker(DuckDBAPI().register(records.to_arrow()), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match([block_on("phone")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    trained = 0
    for rule in (block_on("company_key"), block_on("phone")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
            trained += 1
        except ValueError:
            continue  # a session that leaves a level unobserved; the other one trains the rest
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    pairs = predictions.as_duckdbpyrelation().count("*").fetchall()[0]
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD)
    clusters = clustered.as_duckdbpyrelation().select(
        "unique_id, cluster_id, source_file, source_sheet, company, company_key, phone, contact_name, email"
    )
    table = clusters.arrow()
    with duckdb.connect(str(out)) as con:
        con.register("clusters_arrow", table)
        con.execute("CREATE OR REPLACE TABLE clusters AS SELECT * FROM clusters_arrow")
        count = con.execute("SELECT count(DISTINCT cluster_id) FROM clusters").fetchone()
    return {
        "records": records.height,
        "pairs": int(pairs[0]),
        "clusters": int(count[0]) if count else 0,
        "em_sessions": trained,
        "read_seconds": round(read_seconds, 2),
        "seconds": round(time.perf_counter() - start, 2),
    }


if __name__ == "__main__":
    raise SystemExit("run it through bench_pipeline.py --peer splink --inbox DIR --out FILE")
