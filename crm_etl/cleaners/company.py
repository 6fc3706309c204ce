"""Company names: a clean display name and a matching key that ignores legal form and place."""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl

from crm_etl.cleaners.text import clean_text


def _names(text: str) -> tuple[str, ...]:
    """Whitespace-separated place names: easier to read and edit than a list of literals."""
    return tuple(text.split())


PROVINCES: tuple[str, ...] = _names(
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 "
    "广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门"
)

# Prefecture-level divisions (cities, 地区, 自治州, 盟) by province, in their short form: the
# suffixes 市/地区/盟 and "<ethnic>自治州" are matched by _PLACE_SUFFIX. 阿里 (地区) is left
# out on purpose: as a leading word it is far more often 阿里巴巴 than the Tibetan prefecture.
PREFECTURES: dict[str, str] = {
    "河北": "石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水 雄安",
    "山西": "太原 大同 阳泉 长治 晋城 朔州 晋中 运城 忻州 临汾 吕梁",
    "内蒙古": "呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布 兴安 锡林郭勒 阿拉善",
    "辽宁": "沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳 葫芦岛",
    "吉林": "长春 吉林 四平 辽源 通化 白山 松原 白城 延边",
    "黑龙江": "哈尔滨 齐齐哈尔 鸡西 鹤岗 双鸭山 大庆 伊春 佳木斯 七台河 牡丹江 黑河 绥化 大兴安岭",
    "江苏": "南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁",
    "浙江": "杭州 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水",
    "安徽": "合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州 六安 亳州 池州 宣城",
    "福建": "福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德",
    "江西": "南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶",
    "山东": "济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽",
    "河南": "郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 驻马店 济源",
    "湖北": "武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州 恩施 仙桃 潜江 天门 神农架",
    "湖南": "长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底 湘西",
    "广东": "广州 韶关 深圳 珠海 汕头 佛山 江门 湛江 茂名 肇庆 惠州 梅州 汕尾 河源 阳江 清远 东莞 "
    "中山 潮州 揭阳 云浮",
    "广西": "南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 玉林 百色 贺州 河池 来宾 崇左",
    "海南": "海口 三亚 三沙 儋州",
    "四川": "成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 巴中 "
    "资阳 阿坝 甘孜 凉山",
    "贵州": "贵阳 六盘水 遵义 安顺 毕节 铜仁 黔西南 黔东南 黔南",
    "云南": "昆明 曲靖 玉溪 保山 昭通 丽江 普洱 临沧 楚雄 红河 文山 西双版纳 大理 德宏 怒江 迪庆",
    "西藏": "拉萨 日喀则 昌都 林芝 山南 那曲",
    "陕西": "西安 铜川 宝鸡 咸阳 渭南 延安 汉中 榆林 安康 商洛",
    "甘肃": "兰州 嘉峪关 金昌 白银 天水 武威 张掖 平凉 酒泉 庆阳 定西 陇南 临夏 甘南",
    "青海": "西宁 海东 海北 黄南 海南 果洛 玉树 海西",
    "宁夏": "银川 石嘴山 吴忠 固原 中卫",
    "新疆": "乌鲁木齐 克拉玛依 吐鲁番 哈密 昌吉 博尔塔拉 巴音郭楞 克孜勒苏 伊犁 阿克苏 喀什 和田 塔城 "
    "阿勒泰 石河子",
    "台湾": "台北 新北 桃园 台中 台南 高雄 基隆 新竹",
}

# County-level cities that B2B ledgers name as often as prefectures.
COUNTY_CITIES: tuple[str, ...] = _names(
    "昆山 江阴 张家港 常熟 太仓 宜兴 丹阳 靖江 义乌 慈溪 余姚 诸暨 海宁 桐乡 乐清 瑞安 温岭 永康 "
    "晋江 石狮 寿光 龙口 胶州"
)

PLACES: tuple[str, ...] = tuple(
    sorted(
        {*PROVINCES, *COUNTY_CITIES, *(c for cities in PREFECTURES.values() for c in _names(cities))},
        key=lambda name: (-len(name), name),
    )
)

LEGAL_FORMS_ZH: tuple[str, ...] = (
    "集团股份有限公司", "股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "股份公司",
    "集团公司", "总公司", "公司", "集团", "特殊普通合伙", "有限合伙", "普通合伙", "合伙企业",
)  # fmt: skip
LEGAL_FORMS_LATIN: tuple[str, ...] = (
    r"co\s?ltd", r"co\s?limited", r"company\s?limited", r"ltd", r"limited", r"inc", r"incorporated",
    r"corp", r"corporation", r"llc", r"l\s?l\s?c", r"gmbh", r"group", r"plc", r"pte", r"pty", r"ag",
    r"sa", r"srl", r"bv", r"kk", r"co", r"company",
)  # fmt: skip
# Units of an entity that are entities of their own for a CRM: kept, with their place.
BRANCH_MARKERS: tuple[str, ...] = (
    "分支机构", "分公司", "办事处", "代表处", "营业部", "事业部", "分中心", "分厂", "分部", "分行",
    "支行", "分店", "分所", "分院", "分社",
)  # fmt: skip
PLACEHOLDER_COMPANIES: tuple[str, ...] = (
    "个人", "个体", "个体户", "自然人", "散户", "无", "暂无", "没有", "测试", "测试公司", "test",
    "testing", "待定", "未知", "不详", "未填", "其他", "其它", "客户", "公司", "有限公司", "空", "null",
    "none", "nil", "na", "nan", "n/a", "xxx", "xx", "x", "abc", "某某", "某某公司", "xx公司", "xxx公司",
)  # fmt: skip

COMPANY_REASONS: frozenset[str] = frozenset({"company_placeholder"})

_PLACE = "(?:" + "|".join(PLACES) + ")"
_PLACE_SUFFIX = r"(?:特别行政区|自治区|自治州|\p{Han}{1,8}?自治[区州]|地区|林区|新区|省|市|盟)"
# "province|city" for every city inside a province: 江苏南京 is one place, 广州安康 is not.
_NESTED_PLACES: list[str] = [
    f"{province}|{city}"
    for province, cities in PREFECTURES.items()
    for city in _names(cities)
    if city != province
]
# A district, county or development zone named with its suffix: 番禺区, 浦东新区, 工业园区, 昆山县.
_DISTRICT = r"^\p{Han}{1,5}?(?:新区|开发区|园区|区|县|旗)"
# Bracketed tags that say where or what legal form, not who: （中国）, (上海), (集团), (有限合伙).
_BRACKET_TAG = (
    rf"\(\s?(?:中国|中华|国际|亚太|{_PLACE}{_PLACE_SUFFIX}?|集团|控股|股份|有限|有限公司|特殊普通合伙|"
    r"有限合伙|普通合伙|china|prc|p r c|asia|asia pacific|hong kong|hk|beijing|shanghai|shenzhen|"
    r"guangzhou|hangzhou|suzhou|tianjin)\s?\)"
)
_MARKER = "(" + "|".join(BRANCH_MARKERS) + ")"
# Branch split into (head)(tail)(marker): a tail after a legal form (not the 公司 of a 分公司) …
_BRANCH_AFTER_LEGAL_FORM = rf"^(.*(?:[^分]公司|集团|[^分]厂))(.+?){_MARKER}$"
# … or a named place right before the marker, or the marker alone.
_BRANCH_AT_PLACE = rf"^(.+?)({_PLACE}){_PLACE_SUFFIX}?{_MARKER}$"
_BRANCH_BARE = rf"^(.+?){_MARKER}$"
_LATIN_BRANCHES = ("branch", "branch office", "representative office", "rep office")
_BRANCH_LATIN = rf"^(.+?)\s((?:[a-z]+\s)?(?:{'|'.join(_LATIN_BRANCHES)}))$"
# Any run of legal forms at the end: 集团有限公司, co ltd, 有限公司 ltd …
_LEGAL_SUFFIXES = rf"(?:{'|'.join(LEGAL_FORMS_ZH)}|(?:^|\s)(?:{'|'.join(LEGAL_FORMS_LATIN)}))+$"
# Words that say what a company does, not who it is (机械, 贸易, 科技 …).
_GENERIC_WORDS = (
    r"(?:电气|电力|电子|电器|科技|技术|银行|证券|保险|航空|地铁|城建|城投|建工|建设|医药|钢铁|化工|"
    r"纺织|能源|交通|水务|燃气|热力|机械|贸易|商贸|物流|信息|投资|实业|发展|控股|国际|工业|农业|百货|"
    r"传媒|文化|旅游|置业|地产|房地产|建筑|汽车|食品|环保|网络|软件|通信|电信|移动|联通|石化|石油|"
    r"烟草|港务|水利|公交|自来水|酒店|宾馆|饭店|商业|服务|咨询|管理|设计|工程|医疗|健康|生物|教育|培训|"
    r"智能|数据|材料|新材料|新能源|精密|仪器|设备|器械|包装|印刷|家居|用品|制品|五金|装备|光电|电商|"
    r"电子商务|供应链|人力资源|财务|会计|餐饮|物业|广告|营销|安防|自动化|机电|模具|塑料|纺织品|服饰|"
    r"制造|工具|运输|广告传媒|制造业|加工|销售|开发)"
)
# A remainder after a leading place that is only generic words (北京|银行, 上海|国际贸易) or a
# public body (北京|协和医院) is not a trade name: the place is what tells such entities apart.
_GENERIC_REMAINDER = (
    r"^\p{Han}{0,8}(?:大学|学院|学校|中学|小学|幼儿园|医院|卫生院|银行|信用社|政府|局|委员会|电视台|"
    r"日报|晚报|报社|机场|研究院|研究所|图书馆|博物馆|中心|协会|商会|学会)$|"
    rf"^{_GENERIC_WORDS}+$"
)
_OPEN_BRACKETS = "([【〔［｛{"
_CLOSE_BRACKETS = ")]】〕］｝}"
# Everything but letters, digits and combining marks; dropped from keys.
_NOT_KEY = r"[^\p{L}\p{N}\p{M}]+"
_MAX_BRANCH_NAME_BYTES = 1000
# Re-keying rounds until a key maps to itself; two suffice for all but contrived names.
_MAX_ROUNDS = 4


def _tight_spaces(text: pl.Expr) -> pl.Expr:
    """Drop spaces next to Han characters and （）, keep those between Latin words."""
    return text.str.replace_all(r"([\p{Han}（）]) ", "${1}").str.replace_all(r" ([\p{Han}（）])", "${1}")


def _unify_brackets(text: pl.Expr, open_: str, close: str) -> pl.Expr:
    mapping = {**dict.fromkeys(_OPEN_BRACKETS, open_), **dict.fromkeys(_CLOSE_BRACKETS, close)}
    return text.str.replace_many(mapping)


def _per_distinct(s: pl.Series, transform: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """Run `transform` once per distinct non-null value and join the results back onto `s`."""
    values = pl.DataFrame({"v": s.cast(pl.String)})
    unique = values["v"].drop_nulls().unique()
    lookup = pl.DataFrame({"v": unique, "out": transform(unique)}, schema={"v": pl.String, "out": pl.String})
    joined = values.join(lookup, on="v", how="left", maintain_order="left")
    return joined["out"].alias(s.name)


def _collect(frame: pl.LazyFrame) -> pl.DataFrame:
    # The streaming engine spreads row batches over the cores and shares sub-expressions.
    return frame.collect(engine="streaming")


def _display(v: pl.Expr) -> pl.Expr:
    han = v.str.contains(r"\p{Han}")
    chinese = _tight_spaces(_unify_brackets(v, "（", "）"))
    chinese = chinese.str.replace_all(r"^[[\p{P}\p{S}\s]--[（]]+", "").str.replace_all(
        r"[[\p{P}\p{S}\s]--[）]]+$", ""
    )
    latin = v.str.replace_all(r"^[[\p{P}\p{S}\s]--[(\[]]+", "").str.replace_all(
        r"[[\p{P}\p{S}\s]--[)\].]]+$", ""
    )
    trimmed = pl.when(han).then(chinese).otherwise(latin)
    return pl.when(trimmed.str.len_bytes() > 0).then(trimmed).otherwise(v)


def company_display_name(s: pl.Series) -> pl.Series:
    """Company name for display: cleaned, simplified, （） brackets for Chinese, ends trimmed."""

    def display(unique: pl.Series) -> pl.Series:
        cleaned = pl.LazyFrame({"v": clean_text(unique)})
        return _collect(cleaned.select(_display(pl.col("v")))).to_series()

    return _per_distinct(s, display)


def _prepared(v: pl.Expr) -> pl.Expr:
    """Lower-case, without bracket tags; punctuation and brackets become spaces."""
    return (
        _unify_brackets(v.str.to_lowercase(), "(", ")")
        .str.replace_all(r"[\s\p{P}\p{S}&&[^()]]+", " ")
        .str.replace_all(_BRACKET_TAG, " ")
        .str.replace_many({"(": " ", ")": " "})
        .str.replace_all(r"\s\s+", " ")
        .str.strip_chars(" ")
    )


def _strip_leading_place(frame: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """Drop the leading administrative places of a name, unless what is left is generic.

    The first place may be written bare (北京华为, 广州优品). A second place goes too when it lies
    inside the first (江苏南京银河 → 银河) or says what it is (广东省深圳市华强 → 华强); any other
    second place means the first guess was wrong — 广州安康医疗, 上海吉林路餐厅 are trade names
    that start with a place — and the name keeps all of it. A district written with its suffix
    after a place goes as well (广州市番禺区美嘉 → 美嘉).
    """
    name = pl.col(column)

    def strip(text: pl.Expr, pattern: str) -> tuple[pl.Expr, pl.Expr]:
        stripped = text.str.replace(pattern, "")
        usable = (
            (stripped != text)
            & (stripped.str.len_chars() >= 2)
            & stripped.str.contains(r"[\p{Han}\p{L}]")
            & ~stripped.str.replace(_LEGAL_SUFFIXES, "").str.contains(_GENERIC_REMAINDER)
        ).fill_null(value=False)
        return stripped, usable

    once, first_ok = strip(name, rf"^{_PLACE}{_PLACE_SUFFIX}?")
    frame = frame.with_columns(
        pl.when(first_ok).then(once).alias("_once"),
        pl.when(first_ok).then(name.str.extract(rf"^({_PLACE})", 1)).alias("_first"),
    )
    once = pl.col("_once")
    twice, second_ok = strip(once, rf"^{_PLACE}{_PLACE_SUFFIX}?")
    second_is_place = once.str.contains(rf"^{_PLACE}").fill_null(value=False)
    second_belongs = (
        once.str.contains(rf"^{_PLACE}{_PLACE_SUFFIX}")
        | (pl.col("_first") + "|" + once.str.extract(rf"^({_PLACE})", 1)).is_in(_NESTED_PLACES)
    ).fill_null(value=False)
    frame = frame.with_columns(
        pl.when(pl.col("_first").is_null())
        .then(name)
        .when(second_is_place & ~second_belongs)
        .then(name)
        .when(second_is_place & second_ok)
        .then(twice)
        .otherwise(once)
        .alias("_placed")
    )
    placed = pl.col("_placed")
    district, district_ok = strip(placed, _DISTRICT)
    return frame.with_columns(
        pl.when(pl.col("_first").is_not_null() & (placed != name) & district_ok)
        .then(district)
        .otherwise(placed)
        .alias(column)
    ).drop("_once", "_first", "_placed")


def _split_branch(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Split `_prepared` into `_head` and `_tail`, the branch a name ends with (北京分公司)."""
    prepared = pl.col("_prepared")
    after_legal = prepared.str.extract_groups(_BRANCH_AFTER_LEGAL_FORM).struct
    at_place = prepared.str.extract_groups(_BRANCH_AT_PLACE).struct
    bare = prepared.str.extract_groups(_BRANCH_BARE).struct
    latin = prepared.str.extract_groups(_BRANCH_LATIN).struct
    tail_place = after_legal["2"].str.replace(rf"^({_PLACE}){_PLACE_SUFFIX}$", "${1}")
    return frame.with_columns(
        pl.coalesce(after_legal["1"], at_place["1"], bare["1"], latin["1"], prepared).alias("_head"),
        pl.coalesce(
            tail_place + after_legal["3"],
            at_place["2"] + at_place["3"],
            bare["2"],
            latin["2"],
        ).alias("_tail"),
    )


def _key_round(frame: pl.LazyFrame, column: str, out: str, *, from_keys: bool) -> pl.LazyFrame:
    """Add `out`: one round of key building over `column` (`from_keys`: made by an earlier round)."""
    if from_keys:
        # Keys without punctuation or spaces are lower-case letters and digits: nothing to prepare.
        plain = pl.col(column).str.contains(_NOT_KEY).not_().fill_null(False)
        frame = pl.concat(
            [
                frame.filter(plain).with_columns(pl.col(column).alias("_prepared")),
                frame.filter(~plain).with_columns(_prepared(pl.col(column)).alias("_prepared")),
            ]
        )
    else:
        frame = frame.with_columns(_prepared(pl.col(column)).alias("_prepared"))
    # Few names are branches: only those pay for the capture-group regexes (and only names of
    # a sane length: those regexes are linear, but slow on a pasted megabyte).
    prepared = pl.col("_prepared")
    is_branch = (
        prepared.str.contains_any([*BRANCH_MARKERS, *_LATIN_BRANCHES])
        & (prepared.str.len_bytes() <= _MAX_BRANCH_NAME_BYTES)
    ).fill_null(False)
    frame = pl.concat(
        [
            _split_branch(frame.filter(is_branch)),
            frame.filter(~is_branch).with_columns(
                prepared.alias("_head"), pl.lit(None, dtype=pl.String).alias("_tail")
            ),
        ]
    )
    frame = frame.with_columns(pl.col("_head").str.replace(_LEGAL_SUFFIXES, "").alias("_core"))
    frame = _strip_leading_place(frame, "_core")
    core = pl.col("_core").str.replace(_LEGAL_SUFFIXES, "")
    core = pl.when(core.str.contains(r"[\p{L}\p{N}]")).then(core).otherwise(pl.col("_head"))
    key = pl.concat_str(core, pl.col("_tail"), ignore_nulls=True).str.replace_all(_NOT_KEY, "")
    # Dropping spaces and punctuation can leave a letter next to a combining mark: recompose.
    key = key.str.normalize("NFKC")
    key = pl.when(key.str.len_bytes() > 0).then(key).otherwise(pl.col(column).str.to_lowercase())
    return frame.select(pl.exclude("^_.*$"), key.alias(out))


def _match_keys(unique: pl.Series) -> pl.Series:
    """Keys of distinct raw names, each re-keyed until stable so that keying a key is a no-op."""
    frame = pl.LazyFrame({"i": pl.int_range(len(unique), eager=True), "key": clean_text(unique)})
    # Round two runs in the same plan as round one: for nearly every name it confirms the key.
    frame = _key_round(frame, "key", "first", from_keys=False)
    step = _collect(_key_round(frame, "first", "next", from_keys=True))
    done: list[pl.DataFrame] = []
    for round_ in range(2, _MAX_ROUNDS + 1):
        stable = step["next"].eq_missing(step["first"])
        done.append(step.filter(stable).select("i", pl.col("first").alias("key")))
        pending = step.filter(~stable).select("i", pl.col("next").alias("first"))
        if pending.is_empty() or round_ == _MAX_ROUNDS:
            break
        step = _collect(_key_round(pending.lazy(), "first", "next", from_keys=True))
    done.append(pending.select("i", pl.col("first").alias("key")))
    return pl.concat(done).sort("i")["key"]


def company_match_key(s: pl.Series) -> pl.Series:
    """Key for matching companies: simplified, lower-case, no legal form, leading place or punctuation."""
    return _per_distinct(s, _match_keys)


def company_key_reasons(s: pl.Series, keys: pl.Series | None = None) -> pl.Series:
    """`company_placeholder` for names that are no company (个人, 无, 测试, test, 待定, 未知 …)."""
    # Pass the names' match keys when they are at hand, to not build them twice.
    keys = company_match_key(s) if keys is None else keys
    placeholders = [re.sub(r"\W", "", name) for name in PLACEHOLDER_COMPANIES]
    # 测试1, 测试公司2, xxxx: numbered or repeated placeholders.
    bare = keys.str.replace(r"\d+$", "").str.replace(r"^x+$", "x")
    placeholder = bare.is_in(placeholders) | ~keys.str.contains(r"[\p{Han}\p{L}]")
    return (
        pl.select(pl.when(placeholder).then(pl.lit("company_placeholder")).otherwise(None))
        .to_series()
        .cast(pl.String)
        .alias(s.name)
    )


# Legal forms a registered enterprise name ends with (企业名称登记管理规定): 公司 alone or 集团 alone
# is how people talk, not how a name is registered.
REGISTERED_FORMS: tuple[str, ...] = (
    "股份有限公司", "有限责任公司", "有限公司", "股份公司", "集团公司", "总公司", "特殊普通合伙",
    "有限合伙", "普通合伙", "合伙企业",
)  # fmt: skip
_REGISTERED_END = rf"(?:{'|'.join(REGISTERED_FORMS)})(?:\p{{Han}}{{0,8}}?(?:{'|'.join(BRANCH_MARKERS)}))?$"
# 宏达机械（上海）有限公司 is how 上海宏达机械有限公司 is written when the place is put in brackets.
_BRACKETED_PLACE = rf"^(.+?)\(({_PLACE}){_PLACE_SUFFIX}?\)(.*)$"
_LEADING_PLACE_SUFFIX = rf"^({_PLACE})(?:省|市|自治区|特别行政区)"


def _legal_names(unique: pl.Series) -> pl.Series:
    v = _unify_brackets(pl.col("v").str.to_lowercase(), "(", ")")
    # Spaces and punctuation other than brackets say nothing; （集团） and 集团 are one form.
    v = v.str.replace_all(r"[\s\p{P}\p{S}&&[^()]]+", "").str.replace_all(r"\((集团|控股|股份)\)", "${1}")
    moved = v.str.extract_groups(_BRACKETED_PLACE).struct
    v = pl.when(moved["2"].is_not_null()).then(moved["2"] + moved["1"] + moved["3"]).otherwise(v)
    v = v.str.replace(_LEADING_PLACE_SUFFIX, "${1}").str.replace_all(r"[()]", "")
    registered = v.str.contains(r"\p{Han}") & v.str.contains(_REGISTERED_END)
    frame = pl.LazyFrame({"v": clean_text(unique)})
    return _collect(frame.select(pl.when(registered).then(v).alias("v"))).to_series()


def company_legal_name(s: pl.Series) -> pl.Series:
    """A registered enterprise name in one spelling, null when the name is not one.

    In China a registered name (place + trade name + industry + legal form) is unique within its
    registration area, so two records whose legal names agree name one company. Simplified, width-
    and case-folded, without spaces or punctuation; （集团） is 集团, a place in brackets moves to the
    front (宏达机械（上海）有限公司 = 上海宏达机械有限公司), 上海市 is 上海. The legal form and any
    branch are kept: 有限公司 and 股份有限公司 are different registrations, a 分公司 is its own.
    """
    return _per_distinct(s, _legal_names)


def company_trade_name(keys: pl.Series) -> pl.Series:
    """The trade name of company match keys: what they do taken off the end (宏达机械制造 → 宏达).

    Two keys may share what they do (机械制造) and nothing else: the trade name tells who.
    Keys left shorter than two characters keep all of it.
    """
    return _per_distinct(
        keys, lambda unique: pl.DataFrame({"v": unique}).select(_trade_names_expr()).to_series()
    )


def _trade_names_expr() -> pl.Expr:
    stripped = pl.col("v").str.replace(rf"{_GENERIC_WORDS}+$", "")
    return pl.when(stripped.str.len_chars() >= 2).then(stripped).otherwise(pl.col("v")).alias("v")


# A name that starts with an administrative place (上海宏达…, 广东省深圳市…).
LEADING_PLACE = rf"^{_PLACE}"


def company_spelling(s: pl.Series) -> pl.Series:
    """A company name as its letters alone: lower-case, no spaces, brackets or punctuation, 上海市 as
    上海. Two records spelling one name alike agree here; the registered name is company_legal_name."""

    def spelled(unique: pl.Series) -> pl.Series:
        letters = pl.col("v").str.to_lowercase().str.replace_all(r"[\s\p{P}\p{S}]+", "")
        return (
            pl.DataFrame({"v": unique}).select(letters.str.replace(_LEADING_PLACE_SUFFIX, "${1}")).to_series()
        )

    return _per_distinct(s, spelled)
