"""Benchmark reading and mapping an export: headers per second, and a large GB18030 orders CSV
extracted end to end (decode, header and kind detection, column mapping, raw records) beside the
floor of decoding it and parsing it with polars, and beside charset_normalizer's detection.

Run: .venv/bin/python bench/bench_mapping.py [--rows 200000]
Each measurement runs in a fresh 'spawn' subprocess so that its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import multiprocessing
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peak_rss import peak_rss_mb

REPO = Path(__file__).resolve().parent.parent
# Headers of a real-looking ERP orders export, none of them an alias of schemas/sources/.
ORDER_HEADERS = [
    "单据编号",
    "客户代号",
    "购货单位名称",
    "单据日期(年/月/日)",
    "存货名称",
    "采购数量",
    "价税合计(元)",
    "业务员",
    "备注",
]


def write_orders(path: Path, rows: int, seed: int = 7) -> None:
    """A GB18030 orders CSV that is almost all ASCII: a few `￥` and company names."""
    rng = random.Random(seed)
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ORDER_HEADERS)
        for i in range(rows):
            amount = f"{rng.randint(100, 900_000):,}.00"
            writer.writerow(
                [
                    f"SO-{i:07d}",
                    f"C{rng.randint(1, rows // 5):06d}",
                    "上海宏达机械有限公司" if i % 500 == 0 else f"Customer {rng.randint(1, 9999)}",
                    f"2024/{rng.randint(1, 12)}/{rng.randint(1, 28)}",
                    f"P-{rng.randint(1, 400)}",
                    str(rng.randint(1, 50)),
                    ("￥" if i % 1000 == 0 else "") + amount,
                    f"rep{rng.randint(1, 30)}",
                    "",
                ]
            )


def run_headers(queue: multiprocessing.Queue) -> None:
    from crm_etl.cleaners.mapping import decide_column, name_candidates, parse_header
    from crm_etl.schemas import load_config

    vocabularies = load_config().vocabularies()
    rows = []
    for name in ("heldout_headers.csv", "heldout_headers_test.csv"):
        with (REPO / "tests" / "data" / name).open(encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    start = time.perf_counter()
    for row in rows:
        vocab = vocabularies[row["record_type"]]
        parsed = parse_header(row["header"])
        decide_column(0, parsed, name_candidates(parsed, vocab), vocab)
    seconds = time.perf_counter() - start
    queue.put((len(rows), seconds, peak_rss_mb()))


def run_extract(path: str, queue: multiprocessing.Queue) -> None:
    from crm_etl.flows.extract import extract_file
    from crm_etl.schemas import load_config

    config = load_config()
    start = time.perf_counter()
    result = extract_file(Path(path), "orders.csv", config)
    seconds = time.perf_counter() - start
    sheet = result.outcome.sheets[0]
    mapped = sum(1 for c in sheet.columns if c["field"])
    queue.put(
        (
            sheet.rows_read,
            seconds,
            peak_rss_mb(),
            f"{sheet.kind}, {sheet.encoding}, {mapped}/{len(sheet.columns)} mapped",
        )
    )


def run_floor(path: str, queue: multiprocessing.Queue) -> None:
    import io

    import polars as pl

    start = time.perf_counter()
    text = Path(path).read_bytes().decode("gb18030")
    frame = pl.read_csv(io.StringIO(text), infer_schema=False)
    seconds = time.perf_counter() - start
    queue.put((frame.height, seconds, peak_rss_mb(), "decode as gb18030 (told) + polars.read_csv"))


def run_detect(path: str, queue: multiprocessing.Queue) -> None:
    import charset_normalizer

    from crm_etl.flows.readers import decode_text

    data = Path(path).read_bytes()
    start = time.perf_counter()
    _, ours = decode_text(data, "orders.csv")
    mid = time.perf_counter()
    best = charset_normalizer.from_bytes(data).best()
    end = time.perf_counter()
    queue.put((ours, mid - start, best.encoding if best else None, end - mid, peak_rss_mb()))


def _spawn(target, *args):  # type: ignore[no-untyped-def]
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.csv"
        write_orders(path, args.rows)
        size = path.stat().st_size / 2**20
        headers, header_s, header_rss = _spawn(run_headers)
        rows, extract_s, extract_rss, note = _spawn(run_extract, str(path))
        floor_rows, floor_s, floor_rss, floor_note = _spawn(run_floor, str(path))
        ours, ours_s, theirs, theirs_s, detect_rss = _spawn(run_detect, str(path))
    print(f"bench_mapping {datetime.date.today()} — {args.rows:,} order rows, {size:.1f} MiB GB18030 CSV")
    print("| measure | figures |")
    print("|---|---|")
    print(
        f"| header mapping (held-out headers, both splits) | {headers} headers in {header_s:.2f} s = {headers / header_s:,.0f} headers/s, peak RSS {header_rss:.0f} MiB |"
    )
    print(
        f"| extract_file (decode, header + kind, mapping, raw records) | {rows:,} rows in {extract_s:.2f} s = {rows / extract_s:,.0f} rows/s, peak RSS {extract_rss:.0f} MiB ({note}) |"
    )
    print(
        f"| floor: {floor_note} | {floor_rows:,} rows in {floor_s:.2f} s, peak RSS {floor_rss:.0f} MiB; extract is {extract_s / floor_s:.1f}x the floor |"
    )
    print(f"| encoding: crm-etl decode_text | {ours} in {ours_s:.2f} s |")
    print(
        f"| encoding: charset_normalizer.from_bytes (peer) | {theirs} in {theirs_s:.2f} s (peak RSS of both {detect_rss:.0f} MiB) |"
    )


if __name__ == "__main__":
    main()
