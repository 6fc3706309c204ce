"""A generated inbox of every source kind, at any size, for bench_pipeline.py (deterministic, streamed).

`write_inbox(directory, rows, seed)` writes about `rows` input data rows as a real migration brings
them: ~61% customer records (sales reps' Excel ledgers, the old CRM's accounts, web-form and
trade-show sign-ups), ~17% orders and ~22% follow-ups (a 跟进记录 sheet in every ledger, the CRM's
activity export). The formats are those of data/samples/ (data/make_samples.py): ledgers with a
merged title banner above the header and several sheets, GB18030 CSV with CRLF records, UTF-8 JSON
Lines. The mess is the samples' mess at scale: a company under several names (with or without
有限公司 and its city, the city in brackets, a typo, a short name), phones in ten shapes (numeric
cells, 13800138000.0, full-width digits, +86 and dashes, landlines with 转 extensions), dates in six
(date cells, Excel serials, 2024/3/5, 2024年3月5日, 20240305, ISO), missing fields, about a quarter
of the customer records duplicates of a company another record already names, and garbage rows
(blank rows, 合计 totals, notes, repeated header rows, test records, broken JSON lines).

Every company is a number: its registered name (place + trade name + industry word + legal form)
and its mobile are bijections of that number, so at 1M rows there are ~460,000 distinct companies
and no two share a name key or a mobile by accident; everything else about it is a hash of the
number, so no table of companies is ever held. Records are planned as a few numpy arrays and
written row by row (xlsxwriter in constant_memory mode): 1M rows in about a minute and a half.

    .venv/bin/python bench/inbox_data.py --rows 1M              # into bench/.data/inbox-1000000-7/
    .venv/bin/python bench/inbox_data.py --rows 10k --out /tmp/inbox
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import random
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xlsxwriter
from pypinyin import lazy_pinyin

BENCH_DIR = Path(__file__).resolve().parent
CACHE_ROOT = BENCH_DIR / ".data"
# Written last: an inbox folder without it is a generation that did not finish. Hidden files are
# not inputs (flows/inbox.py discover_inputs), so it can live inside the inbox.
MARKER = ".inbox.json"

AS_OF = dt.date(2024, 6, 30)
FIRST_DAY = dt.date(2021, 1, 1)
DAYS = (dt.date(2024, 6, 28) - FIRST_DAY).days
EXCEL_EPOCH = dt.date(1899, 12, 30)
# Data rows per sheet before a continuation sheet (客户台账(2)): under Excel's 1,048,576 rows.
MAX_SHEET_ROWS = 1_000_000
SHARE_CUSTOMERS, SHARE_ORDERS = 0.61, 0.17  # the rest are follow-ups
CUSTOMER_SOURCES = (0.45, 0.35, 0.20)  # ledger, CRM accounts, web forms
LEDGER, CRM, WEB = 0, 1, 2
# Extra records per company (0, 1, 2): 1.32 records per company, 24% of the records duplicates.
EXTRA_RECORDS = (0.73, 0.22, 0.05)
FOLLOW_UPS_IN_LEDGERS = 0.45

# fmt: off
PLACES = (
    ("上海", "华东", "021"), ("杭州", "华东", "0571"), ("苏州", "华东", "0512"), ("宁波", "华东", "0574"),
    ("南京", "华东", "025"), ("无锡", "华东", "0510"), ("合肥", "华东", "0551"), ("温州", "华东", "0577"),
    ("广州", "华南", "020"), ("深圳", "华南", "0755"), ("东莞", "华南", "0769"), ("佛山", "华南", "0757"),
    ("厦门", "华南", "0592"), ("福州", "华南", "0591"), ("北京", "华北", "010"), ("天津", "华北", "022"),
    ("济南", "华北", "0531"), ("青岛", "华北", "0532"), ("石家庄", "华北", "0311"), ("武汉", "华中", "027"),
    ("长沙", "华中", "0731"), ("郑州", "华中", "0371"), ("成都", "西南", "028"), ("重庆", "西南", "023"),
    ("西安", "西北", "029"),
)
# Sales reps in the order they join as the inbox grows (2 reps below 50k rows, 4 below 500k, else 8).
REPS = (("张伟", "华东"), ("李娜", "华南"), ("刘洋", "华北"), ("赵敏", "华中"),
        ("王芳", "华东"), ("陈晨", "华南"), ("孙磊", "华北"), ("周杰", "华中"))
TRADE = list(dict.fromkeys(
    "宏达华鼎瑞丰锦程恒通明远金桥鹏飞康源博思天成新锐永盛佳美汇丰云帆海纳德信正元和泰嘉禾兴隆昌盛益民中联东方"
    "远航安邦宝晨诚创大德尔发凡福富高光广好合弘鸿虹辉惠吉建江捷晶景久聚凯科蓝雷力立利良林龙路伦迈茂蒙铭能宁"
    "诺品普奇启千强乔勤青清擎庆荣润森山尚世舒顺朔松腾同拓万威伟维文沃祥翔协欣星雄旭轩雅亚扬耀业宜亿艺易意毅"
    "银英盈优友宇羽裕悦越跃展振志智众卓紫梓尊"
))
# (word in the registered name, its short form, how a ledger labels the industry, how the CRM
# does, mail domain word). Short forms are distinct, so a short name is still one company's key.
INDUSTRIES = (
    ("机械制造", "机械", "机械制造", "Machinery", "mach"), ("精密模具", "模具", "模具", "Manufacturing", "mould"),
    ("电子科技", "电子", "电子", "Electronics", "elec"), ("塑料制品", "塑料", "制造业", "Manufacturing", "plastic"),
    ("五金工具", "五金", "五金", "Manufacturing", "tools"), ("纺织品", "纺织", "纺织", "Textiles", "textile"),
    ("包装材料", "包装", "包装", "Manufacturing", "pack"), ("汽车配件", "汽配", "汽车配件", "Auto Parts", "auto"),
    ("医疗器械", "医疗", "医疗器械", "Medical Devices", "med"), ("精细化工", "化工", "化工", "Chemicals", "chem"),
    ("食品", "食品", "食品", "Manufacturing", "food"), ("商贸", "商贸", "贸易", "Wholesale Trade", "trade"),
    ("进出口贸易", "进出口", "外贸", "Import and Export", "impex"), ("信息技术", "信息", "IT", "IT Services", "info"),
    ("软件", "软件", "软件", "IT Services", "soft"), ("网络科技", "网络", "互联网", "Internet", "net"),
    ("数据服务", "数据", "数据服务", "IT Services", "data"), ("物流", "物流", "物流", "Logistics", "log"),
    ("供应链管理", "供应链", "供应链服务", "Supply Chain", "scm"), ("管理咨询", "咨询", "咨询服务", "Consulting", "mc"),
    ("人力资源服务", "人力", "人力资源服务", "Business Services", "hr"), ("广告传媒", "广告", "广告", "Advertising", "ad"),
    ("文化传播", "文化", "文化传媒", "Media", "media"), ("教育科技", "教育", "教育培训", "Education", "edu"),
    ("环保设备", "环保", "环保设备", "Environmental Services", "env"), ("新材料", "材料", "新材料", "Manufacturing", "mat"),
    ("光电科技", "光电", "光电", "Optoelectronics", "opto"), ("建筑工程", "建筑", "建筑", "Construction", "build"),
    ("餐饮管理", "餐饮", "餐饮服务", "Catering", "catering"), ("酒店管理", "酒店", "酒店服务", "Hospitality", "hotel"),
    ("家居用品", "家居", "零售", "Retail", "home"), ("电子商务", "电商", "电子商务", "E-commerce", "ec"),
    ("仪器仪表", "仪器", "仪器仪表", "Instruments", "inst"), ("农业科技", "农业", "农业", "Agriculture", "agri"),
    ("金融服务", "金融", "金融服务", "Financial Services", "fin"), ("智能装备", "智能", "智能制造", "Manufacturing", "robot"),
    ("电器", "电器", "家电制造", "Home Appliances", "appliance"),
)
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国晓东海波红志浩宇鹏飞婷雪琳欣怡俊凯文博斌林峰健佳")
TITLES = ("总经理", "采购经理", "销售总监", "技术总监", "采购主管", "厂长", "运营总监", "市场经理", "财务经理",
          "行政经理", "项目经理", "工程师", "采购", "副总经理", "IT经理", "生产经理")
LEDGER_TYPES = ("潜在客户", "意向客户", "成交客户", "流失客户")
CRM_TYPES = ("Prospect", "Lead", "Customer", "Churned")
LEDGER_CHANNELS = ("展会", "官网", "转介绍", "电话营销")
CRM_CHANNELS = ("Trade Show", "Web", "Referral", "Cold Call")
EVENTS = ("2024华东工业博览会", "官网表单", "2024中国国际工业博览会", "2024华南电子展", "官网表单", "2024中国人力资源服务博览会")
EMPLOYEES = ("20-50", "50-100", "100-200", "200-500", "500-1000", "1000+", "50", "80", "300人", "100人左右")
REMARKS = ("对价格比较敏感", "老客户，年采购额稳定", "重复录入，联系人以上一条为准", "手机号待核实", "与总部统一采购",
           "已转向其他供应商", "预算下季度批", "座机没写区号")
INTERESTS = ("产品A 批量采购", "产品B价格", "数控机床X200", "软件许可年费", "员工管理系统", "再次咨询产品B报价")
FOLLOW_UP_WAYS = ("电话", "微信", "上门拜访", "邮件", "视频会议")
CRM_ACTIVITY_TYPES = ("拜访", "电话", "Call", "Email", "Visit", "邮件")
CONTENTS = ("初次电话沟通，介绍产品A", "发送产品B报价单", "回访产品使用情况", "了解采购需求", "年度合作回顾",
            "现场参观产线，介绍数控机床X200", "确认交期", "发送方案初稿")
FEEDBACK = ("对价格比较关注，希望先看样品", "正在内部比价", "需求明确，预算已批", "暂无需求", "满意，希望增加培训",
            "要求月底前到货", "", "使用顺利，下季度可能追加")
TODOS = ("寄送样品", "下周回访", "整理方案", "准备合同", "安排技术交流会", "", "7月中旬再联系")
PRODUCTS = ("产品A", "产品B", "数控机床X200", "软件许可年费", "配件包C", "维保服务")
UNIT_PRICES = (6400.0, 180.0, 178000.0, 48000.0, 950.0, 12000.0)
QUANTITIES = ((1, 5, 10, 20, 50), (50, 100, 200, 300, 800), (1, 1, 2), (1, 1, 2), (10, 20, 50), (1, 1, 2))
FREE_MAIL = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com")
PRIMARY_MOBILE_PREFIXES = (130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 158, 159, 186, 188, 189)
OTHER_MOBILE_PREFIXES = (155, 156, 157, 166, 173, 176, 177, 180, 181, 185, 187, 198, 199)

# Headers as the samples write them (schemas/sources/*.yaml recognise them).
LEDGER_EAST = ("客户编号", "客户名称", "联系人", "职位", "手机", "座机", "邮箱", "所属行业", "客户类型",
               "首次接触时间", "客户来源", "负责人", "备注")
LEDGER_SOUTH = ("公司名称", "对接人", "职务", "联系电话", "电子邮箱", "行业", "类型", "接触日期", "渠道", "跟进人",
                "城市", "公司规模")
LEDGER_NEW = ("客户名称", "联系人", "手机号", "邮件", "所属行业", "客户状态", "首次联系日期", "来源", "销售")
LEDGER_FOLLOW_UPS = ("日期", "客户名称", "跟进方式", "参与人员", "沟通内容", "客户反馈", "待办事项", "跟进人")
ACCOUNTS = ("Record Id", "Account Name", "Contact Name", "Title", "Mobile", "Phone", "Email", "Industry",
            "Account Type", "Created Time", "Lead Source", "Account Owner", "City", "Employees")
ORDERS = ("Order Id", "Account Id", "Order Date", "Product", "Quantity", "Amount (CNY)", "Owner")
INTERACTIONS = ("Activity Id", "Account Id", "Activity Date", "Activity Type", "Participants", "Description",
                "Customer Feedback", "Next Step", "Assigned To")

# How a record writes its company's name (see _Companies.name), cumulative shares per source and
# for a company's first record vs its duplicates.
NAME_VARIANTS = {
    (LEDGER, False): ((0, 0.60), (1, 0.75), (2, 0.83), (3, 0.93), (4, 0.97), (8, 1.0)),
    (LEDGER, True): ((0, 0.30), (1, 0.45), (2, 0.55), (3, 0.65), (4, 0.80), (5, 0.85), (6, 0.93), (7, 0.97), (8, 1.0)),
    (CRM, False): ((0, 0.75), (1, 0.85), (2, 0.97), (7, 1.0)),
    (CRM, True): ((0, 0.40), (1, 0.50), (2, 0.65), (3, 0.70), (4, 0.80), (6, 0.88), (7, 0.95), (9, 1.0)),
    (WEB, False): ((0, 0.25), (2, 0.30), (3, 0.45), (4, 0.75), (5, 0.95), (6, 1.0)),
    (WEB, True): ((0, 0.20), (2, 0.25), (3, 0.40), (4, 0.70), (5, 0.90), (6, 1.0)),
}
# fmt: on

# Shapes of mobile_cell in percent: plain text and numeric cells most, full-width digits rarely.
MOBILE_STYLES = (
    [0] * 30
    + [3] * 20
    + [4] * 5
    + [1] * 8
    + [2] * 8
    + [6] * 8
    + [7] * 6
    + [8] * 4
    + [9] * 4
    + [10] * 5
    + [5] * 2
)
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_MASK = (1 << 64) - 1
_SALT_COMPANY, _SALT_COMPANY2, _SALT_RECORD, _SALT_RECORD2 = 1, 2, 3, 4


def _mix(x: int) -> int:
    """splitmix64: a well-spread 64-bit hash of an integer (the same as _mix_array)."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _mix_array(x: np.ndarray) -> np.ndarray:
    """splitmix64 over a uint64 array (wraps like the masked Python version)."""
    with np.errstate(over="ignore"):
        x = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _key(seed: int, salt: int, value: int) -> int:
    return ((seed & 0xFFFF) << 48) | (salt << 40) | value


def _coprime_near(n: int, fraction: float) -> int:
    a = max(1, int(n * fraction))
    while math.gcd(a, n) != 1:
        a += 1
    return a


def _pick(table: Sequence[tuple[int, float]], u: float) -> int:
    for value, upto in table:
        if u < upto:
            return value
    return table[-1][0]


def _pinyin(text: str) -> str:
    return "".join(lazy_pinyin(text))


class _Companies:
    """Everything about company number c, computed from c (nothing stored per company)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.space = len(TRADE) * len(TRADE) * len(INDUSTRIES)
        self.stride = _coprime_near(self.space, 0.6180339887)
        self.trade_py = [_pinyin(ch) for ch in TRADE]
        self.surname_py = [_pinyin(ch) for ch in SURNAMES]
        self.given_py = [_pinyin(ch) for ch in GIVEN]
        self.place_py = [_pinyin(p).capitalize() for p, _, _ in PLACES]

    def place_of(self, companies: np.ndarray) -> np.ndarray:
        """The place index of many companies at once (the same as `parts`)."""
        keys = (np.uint64((self.seed & 0xFFFF) << 48) | np.uint64(_SALT_COMPANY << 40)) | companies.astype(
            np.uint64
        )
        return (_mix_array(keys) % np.uint64(len(PLACES))).astype(np.int64)

    def parts(self, c: int) -> tuple[int, int, int, int, int, int]:
        """(place, trade 1, trade 2, trade 3 or -1, industry, hash) of company c; the name part is a bijection."""
        h = _mix(_key(self.seed, _SALT_COMPANY, c))
        block, index = divmod(c, self.space)
        p = (index * self.stride + 12345) % self.space
        t1, rest = p % len(TRADE), p // len(TRADE)
        t2, industry = rest % len(TRADE), rest // len(TRADE)
        t3 = (block - 1) % len(TRADE) if block else -1
        return h % len(PLACES), t1, t2, t3, industry, h

    def trade(self, t1: int, t2: int, t3: int, typo: bool = False) -> str:
        second = TRADE[(t2 + 7) % len(TRADE)] if typo else TRADE[t2]
        return TRADE[t1] + second + (TRADE[t3] if t3 >= 0 else "")

    def name(self, c: int, variant: int) -> str:
        """Company c as one record writes it: 0 registered name, 1 no place, 2 place in brackets, 3 no
        legal form, 4 short name, 5 place + short name, 6 a trade-name typo, 7 ASCII brackets, 8 a
        stray space, 9 an English name."""
        place, t1, t2, t3, industry, h = self.parts(c)
        city = PLACES[place][0]
        word, short = INDUSTRIES[industry][0], INDUSTRIES[industry][1]
        legal_draw = (h >> 8) & 0xFF
        legal = (
            "有限公司"
            if legal_draw < 180
            else "有限责任公司"
            if legal_draw < 210
            else "股份有限公司"
            if legal_draw < 235
            else "集团有限公司"
        )
        prefix = city + ("市" if (h >> 16) & 3 == 0 and len(city) == 2 else "")
        trade = self.trade(t1, t2, t3)
        if variant == 0:
            return prefix + trade + word + legal
        if variant == 1:
            return trade + word + legal
        if variant == 2:
            return f"{trade}{word}（{city}）{legal}"
        if variant == 3:
            return prefix + trade + word
        if variant == 4:
            return trade + short
        if variant == 5:
            return city + trade + short
        if variant == 6:
            return prefix + self.trade(t1, t2, t3, typo=True) + word + legal
        if variant == 7:
            return f"{trade}{word}({city}){legal}"
        if variant == 8:
            return f"{prefix} {trade}{word}{legal}"
        trade_py = self.trade_py[t1].capitalize() + self.trade_py[t2]
        return f"{self.place_py[place]} {trade_py} {INDUSTRIES[industry][3]} Co., Ltd."

    def _person(self, c: int, second: bool) -> tuple[int, int, int, int]:
        h = _mix(_key(self.seed, _SALT_COMPANY2 if second else _SALT_COMPANY, c) ^ 0x5A5A)
        return h % len(SURNAMES), (h >> 8) % len(GIVEN), (h >> 16) % (len(GIVEN) + 20), h

    def person(self, c: int, second: bool) -> tuple[str, str, int]:
        """(name, mail local part, mobile) of the company's main contact, or of another person there."""
        s, g1, g2, h = self._person(c, second)
        has_g2 = g2 < len(GIVEN)
        name = SURNAMES[s] + GIVEN[g1] + (GIVEN[g2] if has_g2 else "")
        given_py = self.given_py[g1] + (self.given_py[g2] if has_g2 else "")
        local = self.surname_py[s] + given_py
        if (h >> 24) & 3 == 0:
            local = self.surname_py[s] + self.given_py[g1][0] + (self.given_py[g2][0] if has_g2 else "")
        # A bijection of c: no two companies (nor two second persons) share a mobile.
        low = (c * 61_803_399 + (87_654_321 if second else 12_345_678)) % 100_000_000
        prefixes = OTHER_MOBILE_PREFIXES if second else PRIMARY_MOBILE_PREFIXES
        return name, local, prefixes[(h >> 32) % len(prefixes)] * 100_000_000 + low

    def pinyin_name(self, c: int, second: bool) -> str:
        """The person's name as a web form written in Latin letters: Lei Zhao, zhao LEI."""
        s, g1, g2, h = self._person(c, second)
        given = self.given_py[g1] + (self.given_py[g2] if g2 < len(GIVEN) else "")
        surname = self.surname_py[s]
        return f"{given.capitalize()} {surname.capitalize()}" if h & 1 else f"{surname} {given.upper()}"

    def profile(self, c: int) -> tuple[dt.date, int, str, str, int, int]:
        """(first contact, type index, area code, landline digits, channel index, size index)."""
        place, *_, h = self.parts(c)
        h2 = _mix(h)
        first = FIRST_DAY + dt.timedelta(days=h2 % DAYS)
        number = str(20_000_000 + (h2 >> 20) % 79_999_999)
        return first, (h2 >> 8) % 4, PLACES[place][2], number, (h2 >> 12) % 4, (h2 >> 16) % len(EMPLOYEES)

    def mail_domain(self, c: int) -> str:
        _, t1, t2, t3, industry, h = self.parts(c)
        trade = self.trade_py[t1] + self.trade_py[t2] + (self.trade_py[t3] if t3 >= 0 else "")
        return f"{trade}-{INDUSTRIES[industry][4]}" + (".cn" if (h >> 20) & 3 == 0 else ".com")


class _Serial(int):
    """An Excel date serial written with a date format (a date cell)."""


def mobile_cell(number: int, style: int, excel: bool) -> Any:
    """A mobile written one of the ways people write them."""
    s = str(number)
    if style == 1:
        return f"+86 {s[:3]}-{s[3:7]}-{s[7:]}"
    if style == 2:
        return f"{s[:3]} {s[3:7]} {s[7:]}"
    if style == 3:
        return number if excel else s
    if style == 4:
        return float(number) if excel else f"{s}.0"
    if style == 5:
        return s.translate(FULL_WIDTH)
    if style == 6:
        return f"{s[:3]}-{s[3:7]}-{s[7:]}"
    if style == 7:
        return f"+86{s}"
    if style == 8:
        return f"86-{s}"
    if style == 9:
        return f"(+86){s}"
    return s


def landline_cell(area: str, number: str, style: int, extension: str | None) -> str:
    """A landline with its area code, sometimes with an extension."""
    if style == 1:
        text = f"({area}){number[:4]}-{number[4:]}"
        return text + (f" 转 {extension}" if extension else "")
    if style == 2:
        return f"{area} {number[:4]} {number[4:]}"
    if style == 3 and extension:
        return f"{area}-{number}-{extension}"
    if style == 4:
        return f"+86 {area[1:]} {number}"
    return f"{area}-{number}" + (f"转{extension}" if extension else "")


def date_cell(day: dt.date, style: int, excel: bool) -> Any:
    """A date as a cell: a date cell or an Excel serial (xlsx only), ISO, 2024/3/5, 2024年3月5日, 20240305."""
    if style in (0, 3) and excel:
        serial = (day - EXCEL_EPOCH).days
        return _Serial(serial) if style == 0 else serial
    if style == 1:
        return f"{day.year}/{day.month}/{day.day}"
    if style == 2:
        return f"{day.year}年{day.month}月{day.day}日"
    if style == 4:
        return f"{day:%Y%m%d}"
    return day.isoformat()


class _Plan:
    """Which company each record is, in which source and order: a few numpy arrays, no per-row objects."""

    def __init__(self, rows: int, seed: int) -> None:
        self.seed = seed
        rng = np.random.default_rng(seed)
        n_customers = round(rows * SHARE_CUSTOMERS)
        self.n_orders = round(rows * SHARE_ORDERS)
        n_follow_ups = max(0, rows - n_customers - self.n_orders)
        mean = 1 + sum(i * p for i, p in enumerate(EXTRA_RECORDS))
        self.n_companies = max(1, round(n_customers / mean))
        extras = rng.choice(len(EXTRA_RECORDS), size=self.n_companies, p=EXTRA_RECORDS)
        sizes = 1 + extras
        company = np.repeat(np.arange(self.n_companies, dtype=np.int64), sizes)
        starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
        ordinal = np.arange(company.size, dtype=np.int64) - starts
        source = rng.choice(3, size=company.size, p=CUSTOMER_SOURCES)
        order = rng.permutation(company.size)
        company, ordinal, source = company[order], ordinal[order], source[order]
        self.companies = _Companies(seed)

        ledger = source == LEDGER
        self.n_reps = 2 if rows < 50_000 else 4 if rows < 500_000 else 8
        reps = REPS[: self.n_reps]
        region = np.array([PLACES[p][1] for p in range(len(PLACES))])[
            self.companies.place_of(company[ledger])
        ]
        rep = rng.integers(0, self.n_reps, size=region.size)  # companies of regions no rep covers
        for r in range(self.n_reps):
            mine = [k for k, (_, reg) in enumerate(reps) if reg == reps[r][1]]
            hit = region == reps[r][1]
            rep[hit] = np.array(mine)[rng.integers(0, len(mine), size=int(hit.sum()))]
        # A rep who has a customer of another region, or took over a colleague's.
        stray = rng.random(region.size) < 0.15
        rep[stray] = rng.integers(0, self.n_reps, size=int(stray.sum()))
        self.ledger = [(company[ledger][rep == r], ordinal[ledger][rep == r]) for r in range(self.n_reps)]
        n_ledger_follow_ups = round(n_follow_ups * FOLLOW_UPS_IN_LEDGERS)
        self.n_interactions = n_follow_ups - n_ledger_follow_ups
        weights = np.array([c.size for c, _ in self.ledger], dtype=float)
        weights = weights / weights.sum() if weights.sum() else np.full(self.n_reps, 1 / self.n_reps)
        self.ledger_follow_ups = rng.multinomial(n_ledger_follow_ups, weights)

        crm = source == CRM
        self.crm_company, self.crm_ordinal = company[crm], ordinal[crm]
        n_crm = self.crm_company.size
        # The CRM exported some accounts twice: a company's later record then has its first Record Id.
        account = 100_000 + np.arange(n_crm, dtype=np.int64)
        if n_crm:
            by_company = np.argsort(self.crm_company, kind="stable")
            sorted_company = self.crm_company[by_company]
            first = np.ones(n_crm, dtype=bool)
            first[1:] = sorted_company[1:] != sorted_company[:-1]
            first_at = np.maximum.accumulate(np.where(first, np.arange(n_crm), 0))
            same_id = ~first & (rng.random(n_crm) < 0.5)
            ids = account[by_company]
            ids[same_id] = ids[first_at[same_id]]
            account[by_company] = ids
        self.crm_account = account
        self.web_company, self.web_ordinal = company[source == WEB], ordinal[source == WEB]


def _chunks(*arrays: np.ndarray, size: int = 65_536) -> Iterator[tuple[int, ...]]:
    """Rows of parallel arrays as Python ints, converted a chunk at a time."""
    total = arrays[0].size if arrays else 0
    for start in range(0, total, size):
        yield from zip(*(a[start : start + size].tolist() for a in arrays), strict=True)


class _SheetStream:
    """Rows written in order into a sheet (and continuation sheets past MAX_SHEET_ROWS)."""

    def __init__(
        self, book: Any, formats: dict[str, Any], name: str, header: tuple[str, ...], title: str | None
    ) -> None:
        self.book, self.formats, self.name, self.header, self.title = book, formats, name, header, title
        self.part = 0
        self._open()

    def _open(self) -> None:
        self.part += 1
        sheet = self.book.add_worksheet(self.name if self.part == 1 else f"{self.name}({self.part})")
        sheet.set_column(0, len(self.header) - 1, 16)
        row = 0
        if self.title:
            sheet.merge_range(0, 0, 0, len(self.header) - 1, self.title, self.formats["title"])
            row = 1
        sheet.write_row(row, 0, self.header, self.formats["bold"])
        sheet.freeze_panes(row + 1, 0)
        self.sheet, self.row, self.used = sheet, row + 1, 0

    def write(self, cells: Sequence[Any]) -> None:
        if self.used >= MAX_SHEET_ROWS:
            self._open()
        sheet, row, date_format = self.sheet, self.row, self.formats["date"]
        for column, value in enumerate(cells):
            if value is None or value == "":
                continue
            kind = type(value)
            if kind is str:
                sheet.write_string(row, column, value)
            elif kind is _Serial:
                sheet.write_number(row, column, value, date_format)
            else:
                sheet.write_number(row, column, value)
        self.row += 1
        self.used += 1

    def blank(self) -> None:
        self.write(())


class _Writer:
    """Writes the inbox's files and counts what it wrote."""

    def __init__(self, directory: Path, plan: _Plan) -> None:
        self.directory, self.plan, self.companies = directory, plan, plan.companies
        self.counts: dict[str, int] = {
            "ledger_customers": 0,
            "ledger_follow_ups": 0,
            "crm_accounts": 0,
            "crm_orders": 0,
            "crm_interactions": 0,
            "web_forms": 0,
            "garbage_rows": 0,
        }

    def _record_rng(self, c: int, ordinal: int, salt: int) -> float:
        return (_mix(_key(self.plan.seed, salt, c * 4 + ordinal)) & 0xFFFFFF) / 0x1000000

    def record_name(self, c: int, ordinal: int, source: int) -> str:
        """The name record (c, ordinal) of `source` writes; follow-ups recompute it to name the customer."""
        table = NAME_VARIANTS[(source, ordinal > 0)]
        return self.companies.name(c, _pick(table, self._record_rng(c, ordinal, _SALT_RECORD)))

    def contact(self, c: int, ordinal: int) -> tuple[str, str, int, bool]:
        """(name, mail local part, mobile, another person?) of record (c, ordinal)."""
        second = ordinal > 0 and self._record_rng(c, ordinal, _SALT_RECORD2) < 0.12
        name, local, mobile = self.companies.person(c, second)
        return name, local, mobile, second

    # -- ledgers ---------------------------------------------------------------------------

    def ledgers(self) -> None:
        for r in range(self.plan.n_reps):
            self._ledger(r)

    def _ledger(self, r: int) -> None:
        rep, region = REPS[r]
        path = self.directory / f"销售台账_{region}_{rep}.xlsx"
        book = xlsxwriter.Workbook(
            str(path), {"constant_memory": True, "strings_to_urls": False, "strings_to_numbers": False}
        )
        book.set_properties({"author": rep, "created": dt.datetime(2024, 6, 28, 18, 0)})
        formats = {
            "title": book.add_format({"bold": True, "font_size": 14, "align": "center"}),
            "bold": book.add_format({"bold": True}),
            "date": book.add_format({"num_format": "yyyy/m/d" if r % 2 == 0 else "yyyy-mm-dd"}),
        }
        east = r % 2 == 0
        main = _SheetStream(
            book,
            formats,
            "客户台账" if east else "重点客户",
            LEDGER_EAST if east else LEDGER_SOUTH,
            f"2024年{region}区客户台账",
        )
        new = _SheetStream(book, formats, "2024新客户", LEDGER_NEW, None)
        follow_ups = _SheetStream(
            book, formats, "跟进记录", LEDGER_FOLLOW_UPS, f"{region}区客户跟进记录（{rep}）"
        )
        rng = random.Random(f"ledger-{self.plan.seed}-{r}")
        companies, ordinals = self.plan.ledger[r]
        written = main_records = 0
        for c, ordinal in _chunks(companies, ordinals):
            profile = self.companies.profile(c)
            first = profile[0]
            day = min(AS_OF, first + dt.timedelta(days=rng.randrange(200))) if ordinal else first
            sheet = new if day.year == 2024 and rng.random() < 0.7 else main
            if rng.random() < 0.0025:
                sheet.blank()
                self.counts["garbage_rows"] += 1
            if sheet is main and main_records == 150:
                main.write(main.header)  # a second block pasted below the first, header and all
                self.counts["garbage_rows"] += 1
            sheet.write(self._ledger_row(sheet.header, c, ordinal, day, profile, rep, rng))
            written += 1
            main_records += sheet is main
        self.counts["ledger_customers"] += written
        if main.used > 10:
            main.blank()
            main.write((f"备注：以上客户信息由{rep}于2024年6月整理，如有变动请及时更新。",))
            main.write((None, "合计", f"共{main_records}家"))
            self.counts["garbage_rows"] += 3
        self._ledger_follow_ups(follow_ups, r, rep, rng)
        book.close()

    def _ledger_row(
        self,
        header: tuple[str, ...],
        c: int,
        ordinal: int,
        day: dt.date,
        profile: tuple[dt.date, int, str, str, int, int],
        rep: str,
        rng: random.Random,
    ) -> tuple[Any, ...]:
        first, type_index, area, landline, channel, size = profile
        name, local, mobile, second = self.contact(c, ordinal)
        company = self.record_name(c, ordinal, LEDGER)
        u = rng.random()
        if ordinal and u < 0.03:
            name = name[0] + "总"
        elif u < 0.05:
            name = None
        mobile_value = (
            mobile_cell(mobile, rng.choice(MOBILE_STYLES), excel=True) if rng.random() < 0.93 else None
        )
        if mobile_value is None and rng.random() < 0.3:
            mobile_value = "无"
        email = self._email(c, local, second, rng) if rng.random() < 0.65 else None
        industry = INDUSTRIES[self.companies.parts(c)[4]][2]
        date = date_cell(day, rng.choice((0, 0, 0, 1, 2, 3, 4)), excel=True) if rng.random() < 0.97 else None
        kind = LEDGER_TYPES[type_index] if rng.random() < 0.9 else None
        source_channel = LEDGER_CHANNELS[channel]
        if header is LEDGER_EAST:
            legacy = f"C{first:%Y%m%d}{c:06d}" if (_mix(c) & 1) else None
            phone = (
                landline_cell(
                    area, landline, rng.randrange(5), str(rng.randrange(100, 9000)) if u > 0.9 else None
                )
                if rng.random() < 0.7
                else None
            )
            remark = rng.choice(REMARKS) if rng.random() < 0.08 else None
            title = TITLES[(c + ordinal) % len(TITLES)] if rng.random() < 0.85 else None
            return (legacy, company, name, title, mobile_value, phone, email, industry, kind, date,
                    source_channel, rep, remark)  # fmt: skip
        if header is LEDGER_SOUTH:
            w = rng.random()
            if w < 0.12 and mobile_value is not None:
                mobile_value = f"{mobile}/{landline_cell(area, landline, 0, None)}"
            elif w < 0.2:
                mobile_value = landline_cell(area, landline, rng.randrange(5), None)
            title = TITLES[(c + ordinal) % len(TITLES)] if rng.random() < 0.85 else None
            city = PLACES[self.companies.parts(c)[0]][0]
            return (company, name, title, mobile_value, email, industry, kind, date, source_channel, rep, city,
                    EMPLOYEES[size])  # fmt: skip
        return (company, name, mobile_value, email, industry, kind, date, source_channel, rep)

    def _ledger_follow_ups(self, sheet: _SheetStream, r: int, rep: str, rng: random.Random) -> None:
        companies, ordinals = self.plan.ledger[r]
        count = int(self.plan.ledger_follow_ups[r])
        if not companies.size:
            return
        picks = np.random.default_rng([self.plan.seed, r]).integers(0, companies.size, size=count)
        for k, index in enumerate(picks.tolist()):
            if rng.random() < 0.01:
                # A company that no customer list holds: an unknown customer.
                customer = self.companies.name(self.plan.n_companies + 7 * k + r, 0)
                person = rng.choice(SURNAMES) + "经理"
            else:
                c, ordinal = int(companies[index]), int(ordinals[index])
                customer = self.record_name(c, ordinal, LEDGER)
                person = self.contact(c, ordinal)[0]
            day = AS_OF - dt.timedelta(days=rng.randrange(540))
            sheet.write((date_cell(day, rng.choice((0, 0, 1, 2, 3, 4)), excel=True), customer,
                         rng.choice(FOLLOW_UP_WAYS), f"{person};{rep}" if rng.random() < 0.3 else person,
                         rng.choice(CONTENTS), rng.choice(FEEDBACK), rng.choice(TODOS), rep))  # fmt: skip
        self.counts["ledger_follow_ups"] += count

    def _email(self, c: int, local: str, second: bool, rng: random.Random) -> str:
        if (_mix(c + 99) & 7) == 0 and not second:
            email = f"{local}{1970 + (c % 30)}@{FREE_MAIL[c % len(FREE_MAIL)]}"
        else:
            email = f"{local}@{self.companies.mail_domain(c)}"
        u = rng.random()
        if u < 0.05:
            return email.upper()
        if u < 0.08:
            return f" {email}"
        return email

    # -- legacy CRM ------------------------------------------------------------------------

    def _csv(self, relative: str, header: tuple[str, ...]) -> tuple[Any, Any]:
        path = self.directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("w", encoding="gb18030", newline="")
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        return handle, writer

    def accounts(self) -> None:
        handle, writer = self._csv("legacy_crm/accounts.csv", ACCOUNTS)
        rng = random.Random(f"accounts-{self.plan.seed}")
        plan = self.plan
        n = plan.crm_company.size
        with handle:
            for k, (c, ordinal, account) in enumerate(
                _chunks(plan.crm_company, plan.crm_ordinal, plan.crm_account)
            ):
                if rng.random() < 0.0005 or k == n // 4:
                    writer.writerow(())
                    self.counts["garbage_rows"] += 1
                if k == n // 2 and n > 500:
                    writer.writerow(ACCOUNTS)  # two exports pasted into one file
                    self.counts["garbage_rows"] += 1
                if rng.random() < 0.0002 or k == n // 3:
                    writer.writerow((f"ACC-T{k:05d}", "测试客户", "张三", "", "13800138000", "", "test@test.com",
                                     "", "Lead", "2024-01-01 00:00:00", "Web", "admin", "", ""))  # fmt: skip
                    self.counts["garbage_rows"] += 1
                writer.writerow(self._account_row(c, ordinal, account, rng))
        self.counts["crm_accounts"] = n

    def _account_row(self, c: int, ordinal: int, account: int, rng: random.Random) -> tuple[Any, ...]:
        first, type_index, area, landline, channel, size = self.companies.profile(c)
        place, *_, industry, _ = self.companies.parts(c)
        name, local, mobile, second = self.contact(c, ordinal)
        day = min(AS_OF, first + dt.timedelta(days=rng.randrange(120))) if ordinal else first
        style = rng.random()
        if style < 0.6:
            created = f"{day.isoformat()} {rng.randrange(8, 19):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
        else:
            created = date_cell(day, rng.choice((1, 2, 4, 5)), excel=False)
        industry_label = INDUSTRIES[industry][3] if rng.random() < 0.8 else INDUSTRIES[industry][2]
        owner = next(
            (rep for rep, region in REPS[: self.plan.n_reps] if region == PLACES[place][1]), REPS[0][0]
        )
        return (
            f"ACC-{account}",
            self.record_name(c, ordinal, CRM),
            name if rng.random() < 0.97 else "",
            TITLES[(c + ordinal + 3) % len(TITLES)] if rng.random() < 0.8 else "",
            mobile_cell(mobile, rng.choice((0, 0, 0, 1, 4, 7, 10)), excel=False)
            if rng.random() < 0.85
            else "",
            landline_cell(area, landline, rng.randrange(5), None) if rng.random() < 0.6 else "",
            self._email(c, local, second, rng) if rng.random() < 0.8 else "",
            industry_label,
            CRM_TYPES[type_index],
            created,
            CRM_CHANNELS[channel],
            owner,
            PLACES[place][0],
            EMPLOYEES[size],
        )

    def orders(self) -> None:
        handle, writer = self._csv("legacy_crm/orders.csv", ORDERS)
        rng = random.Random(f"orders-{self.plan.seed}")
        plan = self.plan
        n = plan.n_orders if plan.crm_account.size else 0
        picks = np.random.default_rng([plan.seed, 101]).integers(0, max(1, plan.crm_account.size), size=n)
        total = 0.0
        with handle:
            for k, index in enumerate(picks.tolist()):
                account = f"ACC-{int(plan.crm_account[index])}"
                if rng.random() < 0.005:
                    account = f"ACC-999{k % 10_000:04d}"  # an account the export left out
                day = AS_OF - dt.timedelta(days=rng.randrange(1200))
                product = rng.randrange(len(PRODUCTS))
                quantity = rng.choice(QUANTITIES[product])
                amount = UNIT_PRICES[product] * quantity
                total += amount
                shape = rng.randrange(5)
                text = (
                    f"{amount:,.2f}",
                    f"¥{amount:.0f}",
                    f"￥{amount:,.0f}",
                    f"{amount:.2f}",
                    f"{amount:.0f}",
                )[shape]
                writer.writerow((f"SO-{day:%y}-{k + 1:07d}", account,
                                 day.isoformat() if rng.random() < 0.8 else f"{day.year}/{day.month}/{day.day}",
                                 PRODUCTS[product], str(quantity), text, REPS[k % plan.n_reps][0]))  # fmt: skip
            if n > 100:
                writer.writerow(("", "", "", "合计", "", f"{total:,.2f}", ""))
                self.counts["garbage_rows"] += 1
        self.counts["crm_orders"] = n

    def interactions(self) -> None:
        handle, writer = self._csv("legacy_crm/interactions.csv", INTERACTIONS)
        rng = random.Random(f"interactions-{self.plan.seed}")
        plan = self.plan
        n = plan.n_interactions if plan.crm_account.size else 0
        picks = np.random.default_rng([plan.seed, 202]).integers(0, max(1, plan.crm_account.size), size=n)
        with handle:
            for k, index in enumerate(picks.tolist()):
                account = f"ACC-{int(plan.crm_account[index])}"
                if rng.random() < 0.005:
                    account = f"ACC-998{k % 10_000:04d}"
                c, ordinal = int(plan.crm_company[index]), int(plan.crm_ordinal[index])
                day = AS_OF - dt.timedelta(days=rng.randrange(900))
                when = day.isoformat() if rng.random() < 0.8 else f"{day.year}/{day.month}/{day.day} 15:30"
                rep = REPS[k % plan.n_reps][0]
                person = self.contact(c, ordinal)[0]
                writer.writerow((f"ACT-{k + 1:07d}", account, when, rng.choice(CRM_ACTIVITY_TYPES),
                                 f"{person};{rep}" if rng.random() < 0.3 else person, rng.choice(CONTENTS),
                                 rng.choice(FEEDBACK), rng.choice(TODOS), rep))  # fmt: skip
        self.counts["crm_interactions"] = n

    # -- web forms -------------------------------------------------------------------------

    def web_forms(self) -> None:
        rng = random.Random(f"web-{self.plan.seed}")
        plan = self.plan
        path = self.directory / "web_forms.jsonl"
        shanghai = dt.timezone(dt.timedelta(hours=8))
        broken = 0
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            for k, (c, ordinal) in enumerate(_chunks(plan.web_company, plan.web_ordinal)):
                first, _, area, landline, *_ = self.companies.profile(c)
                place, *_, industry, _ = self.companies.parts(c)
                name, local, mobile, second = self.contact(c, ordinal)
                day = min(AS_OF, first + dt.timedelta(days=rng.randrange(90))) if ordinal else first
                moment = dt.datetime.combine(day, dt.time(rng.randrange(8, 22), rng.randrange(60)), shanghai)
                shape = rng.random()
                if shape < 0.5:
                    submitted: Any = moment.isoformat()
                elif shape < 0.8:
                    submitted = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                else:
                    submitted = int(moment.timestamp()) * 1000
                form: dict[str, Any] = {"submission_id": f"F-{k + 1:07d}"}
                u = rng.random()
                if u >= 0.03:
                    form["company"] = self.record_name(c, ordinal, WEB)
                elif u < 0.01:
                    form["company"] = None
                form["name"] = self.companies.pinyin_name(c, second) if rng.random() < 0.03 else name
                form["job_title"] = TITLES[(c + ordinal + 5) % len(TITLES)] if rng.random() < 0.7 else ""
                phone = rng.random()
                if phone < 0.05:
                    form["phone"] = landline_cell(area, landline, rng.randrange(5), None)
                elif phone < 0.9:
                    form["phone"] = (
                        mobile if phone < 0.14 else mobile_cell(mobile, rng.choice(MOBILE_STYLES), False)
                    )
                if rng.random() < 0.85:
                    form["email"] = self._email(c, local, second, rng)
                form["industry"] = INDUSTRIES[industry][2] if rng.random() < 0.8 else ""
                form["submitted_at"] = submitted
                form["event"] = EVENTS[(c + k) % len(EVENTS)]
                form["city"] = PLACES[place][0]
                form["interest"] = rng.choice(INTERESTS)
                line = json.dumps(form, ensure_ascii=False)
                if rng.random() < 0.002:
                    line = line[: len(line) // 2]  # the export was cut mid-record
                    self.counts["garbage_rows"] += 1
                    broken += 1
                handle.write(line + "\n")
        self.counts["web_forms"] = plan.web_company.size - broken


def write_inbox(directory: Path, rows: int, seed: int = 7) -> dict[str, int]:
    """Write an inbox of about `rows` data rows into `directory`; returns rows per kind and total bytes."""
    directory.mkdir(parents=True, exist_ok=True)
    plan = _Plan(rows, seed)
    writer = _Writer(directory, plan)
    writer.ledgers()
    writer.accounts()
    writer.orders()
    writer.interactions()
    writer.web_forms()
    counts = dict(writer.counts)
    counts["data_rows"] = sum(counts.values())
    counts["companies"] = plan.n_companies
    files = [p for p in directory.rglob("*") if p.is_file() and not p.name.startswith(".")]
    counts["files"] = len(files)
    counts["bytes"] = sum(p.stat().st_size for p in files)
    return counts


def cached_inbox(rows: int, seed: int = 7, root: Path = CACHE_ROOT) -> tuple[Path, dict[str, Any]]:
    """The inbox for (rows, seed) under bench/.data/, generated unless a complete one is there.

    The counts carry `generated_seconds` (how long it took when it was generated) and, when that
    was now, `generated_now`.
    """
    root.mkdir(parents=True, exist_ok=True)
    ignore = root / ".gitignore"
    if not ignore.exists():
        # Generated data stays out of git, whatever the repository's .gitignore says.
        ignore.write_text("*\n", encoding="utf-8")
    directory = root / f"inbox-{rows}-{seed}"
    marker = directory / MARKER
    if marker.exists():
        return directory, json.loads(marker.read_text(encoding="utf-8"))
    if directory.exists():
        shutil.rmtree(directory)  # an unfinished generation
    start = time.perf_counter()
    counts: dict[str, Any] = dict(write_inbox(directory, rows, seed))
    counts["generated_seconds"] = round(time.perf_counter() - start, 2)
    marker.write_text(json.dumps(counts, indent=2), encoding="utf-8")
    return directory, {**counts, "generated_now": True}


def parse_rows(text: str) -> int:
    """`10k`, `100k`, `1M`, `2.5m` or a plain integer."""
    value = text.strip().lower().replace("_", "").replace(",", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(value[-1:], 1)
    number = value[:-1] if scale > 1 else value
    return int(float(number) * scale)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", default="10k", help="about this many data rows: 10k, 100k, 1M or an integer"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="write here (default: the cache under bench/.data/)")
    args = parser.parse_args(argv)
    rows = parse_rows(args.rows)
    start = time.perf_counter()
    if args.out:
        directory, counts = args.out, dict(write_inbox(args.out, rows, args.seed))
    else:
        directory, counts = cached_inbox(rows, args.seed)
    seconds = counts.get("generated_seconds", time.perf_counter() - start)
    print(json.dumps(counts, indent=2))
    print(f"{directory}: {counts['data_rows']:,} data rows, {counts['bytes'] / 2**20:.1f} MiB, {seconds:.1f} s",
          file=sys.stderr)  # fmt: skip


if __name__ == "__main__":
    main()
