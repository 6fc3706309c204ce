"""Benchmark company name cleaning on 1,000,000 realistic names, 30% of them distinct.

Run: `.venv/bin/python bench/bench_companies.py [rows] [distinct_share]`
"""

from __future__ import annotations

import random
import resource
import sys
import time
from collections.abc import Callable

import polars as pl
from opencc import OpenCC

from crm_etl.cleaners.company import PLACES, company_display_name, company_key_reasons, company_match_key

_TRADE_CHARS = (
    "华为腾讯阿里巴京东美的格力海尔联想小米比亚迪宁德中兴大疆顺丰万科碧桂园恒力荣盛三一徐工潍柴中联"
    "金龙鑫源宏达永盛泰华瑞丰盛世嘉和恒通天成信诚鼎新博远创明德润康隆兴旺昌佳源利民安达广顺宝丰"
)
_INDUSTRIES = str.split(
    "科技 电子 机械 贸易 网络技术 信息技术 建筑工程 食品 化工 医疗器械 物流 实业 新材料 环保科技 "
    "汽车零部件 精密制造 电气设备 软件 生物医药 纺织 包装材料 五金制品 国际贸易 供应链管理 智能装备"
)
_LEGAL = ["有限公司"] * 6 + ["股份有限公司", "有限责任公司", "集团有限公司", "厂", "商行", ""]
_BRANCHES = ["分公司", "办事处", "分厂", "营业部"]
_LATIN_WORDS = str.split("sino global tech star pacific bright orient golden smart union prime delta")
_LATIN_LEGAL = ["Co., Ltd.", "CO.,LTD", "Ltd", "Limited", "Inc.", "Corp.", "GmbH", "Group"]


def _one_name(rng: random.Random, to_traditional: OpenCC) -> str:
    """One name in the shapes ledgers use: place, trade name, industry, legal form, noise."""
    if rng.random() < 0.06:
        words = " ".join(rng.choice(_LATIN_WORDS).title() for _ in range(rng.randint(1, 3)))
        name = f"{words} {rng.choice(['Trading', 'Electronics', 'Machinery', 'Tech'])} "
        name += rng.choice(_LATIN_LEGAL)
        return name.upper() if rng.random() < 0.2 else name
    trade = "".join(rng.choice(_TRADE_CHARS) for _ in range(rng.choice([2, 2, 3, 4])))
    name = trade + rng.choice(_INDUSTRIES) + rng.choice(_LEGAL)
    roll = rng.random()
    if roll < 0.35:
        name = rng.choice(PLACES) + rng.choice(["市", "", "省"]) + name
    elif roll < 0.45:
        name = name.replace("有限公司", rng.choice(["（中国）有限公司", "(上海)有限公司"]), 1)
    if rng.random() < 0.1:
        name += rng.choice(PLACES) + rng.choice(_BRANCHES)
    if rng.random() < 0.05:
        name = to_traditional.convert(name)
    noise = rng.random()
    if noise < 0.05:
        name = f"  {name[:2]} {name[2:]}\u3000"
    elif noise < 0.08:
        name += rng.choice(["。", ",", " -", "\u200b"])
    return name


def company_names(rows: int = 1_000_000, distinct_share: float = 0.3, seed: int = 7) -> pl.Series:
    """`rows` company names of which `rows * distinct_share` are distinct, shuffled."""
    rng = random.Random(seed)
    to_traditional = OpenCC("s2t")
    wanted = int(rows * distinct_share)
    pool: set[str] = set()
    while len(pool) < wanted:
        pool.add(_one_name(rng, to_traditional))
    distinct = sorted(pool)
    values = distinct + rng.choices(distinct, k=rows - wanted)
    rng.shuffle(values)
    return pl.Series("customer_name", values, dtype=pl.String)


def _timed(label: str, run: Callable[[pl.Series], pl.Series], names: pl.Series) -> float:
    started = time.perf_counter()
    run(names)
    seconds = time.perf_counter() - started
    print(f"{label:<22} {seconds:6.2f} s  {names.len() / seconds:>12,.0f} values/s")
    return seconds


def bench_companies(rows: int = 1_000_000, distinct_share: float = 0.3) -> None:
    """Print values/s of the company cleaners and the peak RSS of the process."""
    names = company_names(rows, distinct_share)
    print(f"{names.len():,} names, {names.n_unique():,} distinct, polars threads={pl.thread_pool_size()}")
    _timed("company_match_key", company_match_key, names)
    _timed("company_display_name", company_display_name, names)
    _timed("company_key_reasons", company_key_reasons, names)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mib:,.0f} MiB")


if __name__ == "__main__":
    bench_companies(*(f(a) for f, a in zip((int, float), sys.argv[1:], strict=False)))
