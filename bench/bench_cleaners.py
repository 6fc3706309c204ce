"""Benchmark the cleaners on realistic mixed data: values per second and peak RSS per cleaner.

Run: .venv/bin/python bench/bench_cleaners.py [--n 1000000] [--distinct 0.3]

Each benchmark runs in a fresh 'spawn' subprocess so that its peak RSS is its own. To add a
cleaner, write a `bench_<name>(n, distinct, seed) -> Result` function and list it in BENCHMARKS.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import multiprocessing
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import polars as pl
from peak_rss import peak_rss_mb

PHONENUMBERS_SAMPLE = 100_000
WARM_UP = 1_000


class Result(NamedTuple):
    """One benchmark's figures."""

    values: int
    seconds: float
    peak_rss_mb: float
    data_rss_mb: float
    note: str


def _column(make_cell: Callable[[], str], n: int, distinct: float, rng: random.Random) -> list[str | None]:
    """n cells of which about n * distinct are distinct, common values (placeholders) staying common."""
    target = max(1, int(n * distinct))
    pool: list[str] = []
    seen: set[str] = set()
    while len(seen) < target and len(pool) < n:
        cell = make_cell()
        pool.append(cell)
        seen.add(cell)
    cells: list[str | None] = list(pool)
    cells += rng.choices(pool, k=n - len(cells))
    rng.shuffle(cells)
    return cells


def _mobile(rng: random.Random) -> str:
    prefix = rng.choice(["130", "131", "135", "136", "138", "139", "150", "158", "177", "186", "188", "199"])
    return prefix + f"{rng.randrange(10**8):08d}"


def _landline(rng: random.Random) -> tuple[str, str]:
    area = rng.choice(["010", "021", "020", "0755", "0571", "028", "027", "0512", "025"])
    return area, f"{rng.randrange(2, 9)}{rng.randrange(10**7):07d}"


def make_phone_cells(n: int, distinct: float, seed: int = 7) -> list[str | None]:
    """Mixed phone cells as they come out of CRM and Excel exports."""
    rng = random.Random(seed)

    def one() -> str:
        roll = rng.random()
        mobile = _mobile(rng)
        area, local = _landline(rng)
        if roll < 0.55:
            return mobile
        if roll < 0.65:
            return (
                rng.choice(["+86 ", "+86-", "86", "0086 ", ""]) + f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
            )
        if roll < 0.75:
            return rng.choice([f"{area}-{local}", f"({area}){local}", f"{area} {local[:4]} {local[4:]}"])
        if roll < 0.78:
            return f"{area}-{local}" + rng.choice(["-8001", "转123", " ext. 12"])
        if roll < 0.84:
            return f"{mobile}{rng.choice(['/', '、', '，', ' '])}{area}-{local}"
        if roll < 0.87:
            return rng.choice([f"{mobile}.0", f"{mobile[0]}.{mobile[1:].rstrip('0')}E10"])
        if roll < 0.90:
            return rng.choice(["手机:", "电话：", "Tel: ", "M: "]) + mobile
        if roll < 0.92:
            return rng.choice(["400-", "800-"]) + f"{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}"
        if roll < 0.95:
            return rng.choice(["无", "-", "N/A", "暂无", "0", "/", "00000000000"])
        return rng.choice([mobile[:-1], mobile + "1", local, "12" + mobile[2:], "abc"])

    return _column(one, n, distinct, rng)


def make_date_cells(n: int, distinct: float, seed: int = 11) -> list[str | None]:
    """Mixed date cells as they come out of CRM and Excel exports."""
    rng = random.Random(seed)
    start = datetime.date(1980, 1, 1).toordinal()

    def one() -> str:
        day = datetime.date.fromordinal(start + rng.randrange(17_000))
        roll = rng.random()
        if roll < 0.35:
            return day.isoformat()
        if roll < 0.50:
            return f"{day.year}/{day.month}/{day.day}"
        if roll < 0.60:
            return f"{day.year}年{day.month}月{day.day}日"
        if roll < 0.70:
            return f"{(day - datetime.date(1899, 12, 30)).days}" + rng.choice(["", ".0", ".5"])
        if roll < 0.80:
            return (
                f"{day.isoformat()}{rng.choice([' ', 'T'])}{rng.randrange(24):02d}:{rng.randrange(60):02d}:00"
            )
        if roll < 0.85:
            return f"{day.isoformat()}T{rng.randrange(24):02d}:00:00{rng.choice(['Z', '+08:00', '-05:00'])}"
        if roll < 0.90:
            return f"{day.day:02d}/{day.month:02d}/{day.year}"
        if roll < 0.93:
            return f"{day.year}{day.month:02d}{day.day:02d}"
        if roll < 0.95:
            return str(int(datetime.datetime(day.year, day.month, day.day, 12).timestamp()))
        if roll < 0.97:
            return day.strftime("%b %d, %Y")
        return rng.choice(["无", "-", "N/A", "不详", "0", "0000-00-00", "2024-02-30", "24/05/01", "??"])

    return _column(one, n, distinct, rng)


def _time_cleaner(clean: Callable[[pl.Series], pl.DataFrame], cells: pl.Series) -> Result:
    """Time one call over all cells, after a small warm-up call that pays the one-off start-up costs."""
    data_rss = peak_rss_mb()
    started = time.perf_counter()
    clean(cells.slice(0, WARM_UP))
    warm_up = time.perf_counter() - started
    started = time.perf_counter()
    clean(cells)
    note = f"after a {WARM_UP:,}-cell warm-up call ({warm_up:.2f} s)"
    return Result(len(cells), time.perf_counter() - started, peak_rss_mb(), data_rss, note)


def bench_phones(n: int, distinct: float, seed: int) -> Result:
    """normalise_phones over n mixed phone cells."""
    from crm_etl.cleaners.phones import normalise_phones

    return _time_cleaner(normalise_phones, pl.Series("phone", make_phone_cells(n, distinct, seed), pl.String))


def bench_dates(n: int, distinct: float, seed: int) -> Result:
    """parse_dates over n mixed date cells."""
    from crm_etl.cleaners.dates import parse_dates

    return _time_cleaner(parse_dates, pl.Series("date", make_date_cells(n, distinct, seed), pl.String))


def bench_phonenumbers_loop(n: int, distinct: float, seed: int) -> Result:
    """Baseline: a plain loop of phonenumbers.parse(x, 'CN') over the same phone cells."""
    import phonenumbers

    cells = make_phone_cells(n, distinct, seed)
    sample = cells[:PHONENUMBERS_SAMPLE]
    data_rss = peak_rss_mb()
    started = time.perf_counter()
    for cell in sample:
        with contextlib.suppress(phonenumbers.NumberParseException):
            phonenumbers.parse(cell or "", "CN")
    seconds = (time.perf_counter() - started) * n / len(sample)
    note = f"timed on {len(sample):,} cells, extrapolated to {n:,}" if len(sample) < n else ""
    return Result(n, seconds, peak_rss_mb(), data_rss, note)


BENCHMARKS: dict[str, Callable[[int, float, int], Result]] = {
    "normalise_phones": bench_phones,
    "parse_dates": bench_dates,
    "phonenumbers.parse loop": bench_phonenumbers_loop,
}


def _run_isolated(name: str, n: int, distinct: float, seed: int) -> Result:
    """Run one benchmark in a fresh interpreter so its peak RSS is its own."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(BENCHMARKS[name], (n, distinct, seed))


def main(argv: list[str] | None = None) -> None:
    """Run every benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=1_000_000, help="cells per cleaner")
    parser.add_argument("--distinct", type=float, default=0.3, help="share of distinct cells")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only these")
    args = parser.parse_args(argv)

    header = f"{'cleaner':<26} {'values':>10} {'seconds':>8} {'values/s':>12} {'data RSS MiB':>13} {'peak RSS MiB':>13}  note"
    print(f"{args.n:,} cells per cleaner, {args.distinct:.0%} distinct, seed {args.seed}")
    print(header)
    print("-" * len(header))
    for name in args.only or BENCHMARKS:
        result = _run_isolated(name, args.n, args.distinct, args.seed)
        rate = result.values / result.seconds if result.seconds else float("inf")
        print(
            f"{name:<26} {result.values:>10,} {result.seconds:>8.2f} {rate:>12,.0f} "
            f"{result.data_rss_mb:>13.0f} {result.peak_rss_mb:>13.0f}  {result.note}"
        )


if __name__ == "__main__":
    main()
