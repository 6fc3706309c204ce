"""Generated Chinese B2B customer records with known truth, for bench_dedupe.py (any size, seeded).

Each company (entity) yields one to four records as different sources would write it. The first
record is the company's full registered name (place + trade name + industry + legal form), the
form a person would write and the truth for the golden name (`true_name`). Every later record
shows one named hard case (`case`): `typo` (a trade-name character replaced), `dropped_char`,
`abbreviation` (place + trade name), `short_name` (trade name + industry), `traditional`,
`bracket_place` (宏达机械（上海）有限公司), `group_form` (（集团）有限公司 for 集团有限公司),
`pinyin_contact`, `honorific_contact`, `mobile_typo` (one digit), `name_only` (the identical full
name and nothing else in common: another person, another number, as a contacts export lists a
company's people) or `plain` (only the formatting noise every record gets: phones in many shapes,
missing fields). Hard negatives are built in (`negative_of`, `negative_kind`): look-alike
companies one character apart with other people and numbers, branches of a company, a person who
moved to another company with their mobile, companies sharing one switchboard, and people with
common names at different companies. The records then go through the project's own cleaners,
exactly as the pipeline would.
"""

from __future__ import annotations

import random

import opencc
import polars as pl
from pypinyin import lazy_pinyin

from crm_etl.cleaners.company import company_display_name, company_match_key
from crm_etl.cleaners.emails import normalise_emails
from crm_etl.cleaners.persons import clean_person_names
from crm_etl.cleaners.phones import normalise_phones

PLACES = ["上海", "北京", "深圳", "广州", "杭州", "苏州", "宁波", "南京", "成都", "武汉", "天津", "厦门"]
# Trade-name characters: real names draw on thousands; a few hundred keep a million companies
# from colliding by accident, while look-alikes and typos stay one character apart.
TRADE = list(
    dict.fromkeys(
        "宏达华鼎瑞丰锦程恒通明远金桥鹏飞康源博思天成新锐永盛佳美汇丰云帆海纳德信正元和泰嘉禾兴隆昌盛益民中联东方远航"
        "安邦宝晨诚创大德东尔发凡福富高光广好合弘鸿虹辉惠吉建江捷晶景久聚凯科蓝雷力立利良林龙路伦迈茂蒙铭能宁诺品普"
        "奇启千强乔勤青清擎庆荣润森山尚世舒顺朔松腾同拓万威伟维文沃祥翔协欣星雄旭轩雅亚扬耀业宜亿艺易意毅银英盈优友"
        "宇羽裕悦越跃展振志智众卓资紫梓尊"
    )
)
INDUSTRY_WORDS = {
    "C": ["机械制造", "电子", "精密模具", "塑料制品", "五金工具", "纺织品", "包装材料"],
    "F": ["商贸", "国际贸易", "贸易"],
    "I": ["信息技术", "软件", "网络科技", "数据服务"],
    "G": ["物流", "供应链管理", "运输"],
    "L": ["管理咨询", "人力资源服务", "广告传媒"],
    "P": ["教育科技", "培训"],
}
LEGAL = ["有限公司", "有限责任公司", "股份有限公司", "集团有限公司"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国晓东海波红")
FREE_MAIL = ["qq.com", "163.com", "126.com", "sina.com"]
HONORIFICS = ["总", "经理", "先生", "女士"]
SIMILAR = {c: TRADE[(i + 7) % len(TRADE)] for i, c in enumerate(TRADE)}

_T2S = opencc.OpenCC("s2t")


def _mobile(rng: random.Random) -> str:
    return (
        rng.choice(["138", "139", "136", "158", "186", "177", "135", "150"]) + f"{rng.randrange(10**8):08d}"
    )


def _landline(rng: random.Random) -> str:
    return (
        rng.choice(["021", "010", "0755", "020", "0571"]) + f"{rng.randrange(2, 9)}{rng.randrange(10**7):07d}"
    )


GROUP_LEGAL = "集团有限公司"
# Shares of the hard cases among the records after an entity's first one.
CASES: dict[str, float] = {
    "plain": 0.22, "typo": 0.08, "dropped_char": 0.05, "abbreviation": 0.10, "short_name": 0.05,
    "traditional": 0.08, "bracket_place": 0.08, "group_form": 0.04, "pinyin_contact": 0.08,
    "honorific_contact": 0.04, "mobile_typo": 0.06, "name_only": 0.12,
}  # fmt: skip


def _entity(rng: random.Random, index: int, switchboards: list[str], taken: set[str]) -> dict:
    industry = rng.choice(list(INDUSTRY_WORDS))
    # Two companies never share a trade name by accident: only the hard negatives below do.
    while (trade := "".join(rng.sample(TRADE, rng.choice([2, 3, 3, 4])))) in taken:
        pass
    taken.add(trade)
    surname, given = rng.choice(SURNAMES), "".join(rng.choices(GIVEN, k=rng.choice([1, 2])))
    domain = f"{''.join(lazy_pinyin(trade))}{index}.com"
    return {
        "entity": index,
        "place": rng.choice(PLACES),
        "trade": trade,
        "word": rng.choice(INDUSTRY_WORDS[industry]),
        "legal": GROUP_LEGAL if rng.random() < 0.2 else rng.choice(LEGAL),
        "industry": industry,
        "contact": surname + given,
        "mobile": _mobile(rng),
        "landline": rng.choice(switchboards) if rng.random() < 0.05 else _landline(rng),
        # Company mailboxes are name@domain; free-mail ones are numbers, as QQ mail mostly is.
        "email": f"{''.join(lazy_pinyin(surname + given))}@{domain}"
        if rng.random() < 0.7
        else f"{rng.randrange(10**5, 10**10)}@{rng.choice(FREE_MAIL)}",
        "branch": "",
        "legacy_id": f"ACC-{100000 + index}",
        "negative_of": None,
        "negative_kind": None,
    }


def _look_alike(rng: random.Random, base: dict, index: int, switchboards: list[str], taken: set[str]) -> dict:
    """Another company one trade-name character away (华为 vs 华伟), other people and numbers."""
    other = _entity(rng, index, switchboards, taken)
    while other["contact"] == base["contact"]:  # else it is a typo of one company, by any standard
        other = _entity(rng, index, switchboards, taken)
    position = rng.randrange(len(base["trade"]))
    trade = base["trade"][:position] + SIMILAR[base["trade"][position]] + base["trade"][position + 1 :]
    return {**other, "trade": trade, "word": base["word"], "place": base["place"],
            "industry": base["industry"], "negative_of": base["entity"], "negative_kind": "look_alike"}  # fmt: skip


def _branch(rng: random.Random, base: dict, index: int, switchboards: list[str], taken: set[str]) -> dict:
    """A branch office of a company: its own customer, sharing the name and often the email domain."""
    other = _entity(rng, index, switchboards, taken)
    city = rng.choice([p for p in PLACES if p != base["place"]])
    return {**other, "trade": base["trade"], "word": base["word"], "place": base["place"],
            "industry": base["industry"], "legal": base["legal"], "branch": city + rng.choice(["分公司", "办事处"]),
            "email": other["email"].split("@")[0] + "@" + base["email"].split("@")[1],
            "negative_of": base["entity"], "negative_kind": "branch"}  # fmt: skip


def _moved(rng: random.Random, base: dict, index: int, switchboards: list[str], taken: set[str]) -> dict:
    """The same person, with their mobile, later at another company (a free-mail address, if any).

    The other company's trade name shares no character with the first one's: one shared character
    and the same person and mobile is a typo of one company to any reader.
    """
    other = _entity(rng, index, switchboards, taken)
    while set(other["trade"]) & set(base["trade"]):
        other = _entity(rng, index, switchboards, taken)
    return {**other, "contact": base["contact"], "mobile": base["mobile"],
            "negative_of": base["entity"], "negative_kind": "moved_person"}  # fmt: skip


def full_name(entity: dict) -> str:
    """The registered name a person would write: place + trade name + industry + legal form."""
    return f"{entity['place']}{entity['trade']}{entity['word']}{entity['legal']}{entity['branch']}"


def _one_edit(rng: random.Random, text: str, delete: bool) -> str:
    position = rng.randrange(len(text))
    return text[:position] + ("" if delete else rng.choice(TRADE)) + text[position + 1 :]


def _name(rng: random.Random, entity: dict, case: str) -> str:
    place, trade, word, legal, branch = (entity[k] for k in ("place", "trade", "word", "legal", "branch"))
    if case == "typo":
        trade = _one_edit(rng, trade, delete=False)
    elif case == "dropped_char":
        trade, word = (
            (_one_edit(rng, trade, True), word) if rng.random() < 0.5 else (trade, _one_edit(rng, word, True))
        )
    if case == "abbreviation":
        return f"{place}{trade}{branch}"
    if case == "short_name":
        return f"{trade}{word}{branch}"
    if case == "bracket_place":
        return f"{trade}{word}（{place}）{legal}{branch}"
    if case == "group_form" and legal == GROUP_LEGAL:
        return f"{place}{trade}{word}（集团）有限公司{branch}"
    name = f"{place}{trade}{word}{legal}{branch}"
    return _T2S.convert(name) if case == "traditional" else name


def _record(rng: random.Random, entity: dict, case: str) -> dict:
    """One source's version of an entity, showing one hard case (the first version shows none)."""
    if case == "group_form" and entity["legal"] != GROUP_LEGAL:
        case = "plain"  # only a group's name has a （集团） form
    first = case == "first"
    contact = entity["contact"]
    if case == "pinyin_contact":
        contact = " ".join(
            word.capitalize() for word in [*lazy_pinyin(contact[0]), "".join(lazy_pinyin(contact[1:]))]
        )
    elif case == "honorific_contact":
        contact = contact[0] + rng.choice(HONORIFICS)
    mobile, email, landline = entity["mobile"], entity["email"], entity["landline"]
    if case == "mobile_typo":
        digit = rng.randrange(3, 11)
        mobile = mobile[:digit] + str((int(mobile[digit]) + rng.randrange(1, 10)) % 10) + mobile[digit + 1 :]
    if case == "name_only":
        # Another person of the company, as a contacts export lists them: nothing but the name shared.
        contact = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=2))
        mobile, email, landline = (
            _mobile(rng),
            f"{rng.randrange(10**5, 10**10)}@{rng.choice(FREE_MAIL)}",
            None,
        )
    mobile = rng.choice(
        [
            mobile,
            mobile,
            f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}",
            f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
        ]
    )
    system = rng.choice(["legacy_crm", "excel_ledger", "excel_ledger", "web_form"])
    missing_mobile = case in {"plain", "typo", "dropped_char", "abbreviation", "short_name", "traditional",
                              "bracket_place", "group_form"} and rng.random() < 0.35  # fmt: skip
    return {
        "entity": entity["entity"],
        "case": case,
        "true_name": full_name(entity),
        "negative_of": entity["negative_of"],
        "negative_kind": entity["negative_kind"],
        "source_system": system,
        "legacy_id": entity["legacy_id"] if system == "legacy_crm" and case != "name_only" else None,
        "customer_name": _name(rng, entity, "plain" if first else case),
        "contact_name": contact,
        "mobile_raw": None if missing_mobile else mobile,
        "phone_raw": None if rng.random() < 0.4 else landline,
        "email_raw": None if rng.random() < (0.5 if not first else 0.2) else email,
        "industry_code": None if rng.random() < 0.2 else entity["industry"],
        "city": None if rng.random() < 0.5 else entity["place"],
    }


def generate(records: int, seed: int = 7) -> pl.DataFrame:
    """About `records` raw records with their true `entity`, cleaned by the project's cleaners."""
    rng = random.Random(seed)
    switchboards = [_landline(rng) for _ in range(max(1, records // 200))]
    rows: list[dict] = []
    taken: set[str] = set()
    index = 0
    cases, weights = list(CASES), list(CASES.values())
    while len(rows) < records:
        roll = rng.random()
        base = _entity(rng, index, switchboards, taken)
        entities = [base]
        if roll < 0.05:
            entities.append(_look_alike(rng, base, index + 1, switchboards, taken))
        elif roll < 0.08:
            entities.append(_branch(rng, base, index + 1, switchboards, taken))
        elif roll < 0.10:
            entities.append(_moved(rng, base, index + 1, switchboards, taken))
        index += len(entities)
        for entity in entities:
            copies = rng.choices([1, 2, 3, 4], weights=[45, 35, 15, 5])[0]
            rows.append(_record(rng, entity, "first"))
            rows += [_record(rng, entity, rng.choices(cases, weights)[0]) for _ in range(copies - 1)]
    return clean(pl.DataFrame(rows[:records], infer_schema_length=None))


def clean(raw: pl.DataFrame) -> pl.DataFrame:
    """The cleaned columns the dedupe stage reads, made by the pipeline's own cleaners."""
    mobiles = normalise_phones(raw["mobile_raw"])
    phones = normalise_phones(raw["phone_raw"])
    people = clean_person_names(raw["contact_name"])
    emails = normalise_emails(raw["email_raw"])
    return raw.with_row_index("record_idx").select(
        pl.col("record_idx").cast(pl.Int64),
        "entity",
        "case",
        "true_name",
        "negative_of",
        "negative_kind",
        "source_system",
        "legacy_id",
        pl.Series("customer_name", company_display_name(raw["customer_name"])),
        pl.Series("company_key", company_match_key(raw["customer_name"])),
        pl.Series("contact_key", people["name_pinyin_key"]),
        pl.Series("mobile", mobiles["mobile"]),
        pl.Series("phone", phones["landline"]),
        pl.Series("email", emails["email"]),
        "industry_code",
        "city",
    )


def case_report(truth: pl.DataFrame, clusters: pl.DataFrame) -> pl.DataFrame:
    """Per hard case: records, and the share of them found in their company's cluster (recall);
    per kind of hard negative: companies, and how many were merged with the one they resemble."""
    joined = truth.join(clusters.select("record_idx", "cluster"), on="record_idx", how="left").with_columns(
        pl.col("cluster").fill_null(-1 - pl.col("record_idx"))
    )
    anchors = joined.filter(pl.col("case") == "first").select("entity", pl.col("cluster").alias("anchor"))
    recall = (
        joined.filter(pl.col("case") != "first")
        .join(anchors, on="entity")
        .group_by("case")
        .agg(pl.len().alias("n"), (pl.col("cluster") == pl.col("anchor")).mean().alias("share"))
        .with_columns(pl.lit("recall").alias("measure"))
    )
    clusters_of = joined.group_by("entity").agg(pl.col("cluster").unique())
    negatives = (
        joined.filter(pl.col("negative_of").is_not_null())
        .group_by("entity", "negative_of", "negative_kind")
        .agg(pl.col("cluster").unique().alias("mine"))
        .join(clusters_of.rename({"entity": "negative_of", "cluster": "theirs"}), on="negative_of")
        .with_columns((pl.col("mine").list.set_intersection("theirs").list.len() > 0).alias("merged"))
        .group_by(pl.col("negative_kind").alias("case"))
        .agg(pl.len().alias("n"), pl.col("merged").sum().cast(pl.Float64).alias("share"))
        .with_columns(pl.lit("merged (count)").alias("measure"))
    )
    return pl.concat([recall, negatives]).select("measure", "case", "n", "share").sort("measure", "case")


def golden_names(truth: pl.DataFrame, clusters: pl.DataFrame) -> pl.DataFrame:
    """Per cluster, the golden company name the project's survivorship rules choose (cleaners/dedupe
    survivorship with the columns of cleaners/golden_values.py, settings of schemas/pipeline.yaml)."""
    from crm_etl.cleaners.dedupe.survivorship import GOLDEN_FIELDS, golden_records
    from crm_etl.cleaners.golden_values import golden_value_columns
    from crm_etl.schemas import load_config

    settings = load_config().dedupe
    records = truth.join(clusters.select("record_idx", "cluster"), on="record_idx").with_columns(
        pl.col("cluster").cast(pl.String).alias("customer_id"),
        pl.lit("bench").alias("source_file"),
        pl.col("source_system").alias("source_sheet"),
        pl.col("record_idx").alias("source_row"),
        pl.lit(None, pl.Date).alias("first_contact_date"),
        pl.lit([], pl.List(pl.String)).alias("other_phones"),
    )
    absent = [f for f in GOLDEN_FIELDS if f not in records.columns]
    records = records.with_columns(pl.lit(None, pl.String).alias(f) for f in absent)
    golden = golden_records(golden_value_columns(records), settings.survivorship, settings.source_trust)
    return golden.select(pl.col("customer_id").cast(pl.Int64).alias("cluster"), "customer_name")


def most_frequent_names(truth: pl.DataFrame, clusters: pl.DataFrame) -> pl.DataFrame:
    """Per cluster, the name most of its records carry, the most trusted source's on a tie (legacy
    CRM, ledgers, forms): what a plain pipeline without survivorship rules would keep."""
    trust = {"legacy_crm": 0, "excel_ledger": 1, "web_form": 2}
    return (
        truth.join(clusters.select("record_idx", "cluster"), on="record_idx")
        .with_columns(pl.col("source_system").replace_strict(trust, default=3).alias("trust"))
        .group_by("cluster", "customer_name")
        .agg(pl.len().alias("n"), pl.col("trust").min(), pl.col("record_idx").min())
        .sort(["cluster", "n", "trust", "record_idx"], descending=[False, True, False, False])
        .group_by("cluster", maintain_order=True)
        .first()
        .select("cluster", "customer_name")
    )


def golden_name_right(truth: pl.DataFrame, clusters: pl.DataFrame, names: pl.DataFrame) -> float:
    """Share of clusters whose golden name is the full registered name of the company most of its
    records belong to (as the display cleaner writes it)."""
    truth_names = truth.select(
        "record_idx", "entity", pl.Series("true_display", company_display_name(truth["true_name"]))
    )
    majority = (
        truth_names.join(clusters.select("record_idx", "cluster"), on="record_idx")
        .group_by("cluster", "entity", "true_display")
        .len()
        .sort(["cluster", "len", "entity"], descending=[False, True, False])
        .group_by("cluster", maintain_order=True)
        .first()
    )
    scored = majority.join(names, on="cluster", how="left")
    return float((scored["customer_name"] == scored["true_display"]).fill_null(False).mean() or 0.0)
