"""Write the committed sample inbox (data/samples/) and its ground truth (tests/samples_truth.py).

The samples are a small, realistic and deliberately messy set of customer exports: two sales
reps' Excel ledgers, the old CRM's GB18030 CSV exports and web/trade-show sign-ups as JSON
Lines. Every record is hand-authored below; the truth module (duplicate groups, hard negatives,
garbage rows, orphans, messy cells with their expected clean values) is computed from the same
lists while the files are written, so the two cannot disagree.

Output is deterministic: running the script twice gives byte-identical files (the xlsx core
properties and zip entry timestamps are pinned).

    python data/make_samples.py                  # writes data/samples/ and tests/samples_truth.py
    python data/make_samples.py --out /tmp/inbox # the inbox elsewhere (truth: see --truth)
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import logging
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

log = logging.getLogger("make_samples")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "data" / "samples"
DEFAULT_TRUTH = REPO_ROOT / "tests" / "samples_truth.py"

# Reference date of the samples: "new customer" means first contact within two months of it.
AS_OF_DATE = dt.date(2024, 6, 30)
# Pinned so the xlsx bytes do not change from run to run.
FIXED_TIMESTAMP = dt.datetime(2024, 6, 28, 18, 0, 0)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))

RowRef = tuple[str, str, int]
D = dt.date
DT = dt.datetime


@dataclass(frozen=True)
class Record:
    """One data row as written, plus what the truth tables need to know about it."""

    key: str  # handle used by the truth definitions below (entity, order id, ...)
    cells: object  # tuple in header order (xlsx/CSV), dict or raw text (JSON Lines)
    entity: str | None = None  # real-world customer; None for garbage and non-customer rows
    garbage: str | None = None  # "blank" | "note" | "totals" | "invalid_json"


@dataclass(frozen=True)
class Table:
    """One sheet, CSV file or JSON Lines file of the inbox."""

    label: str
    file: str  # path relative to the inbox, "/"-separated
    sheet: str  # "" for CSV and JSON Lines
    header: tuple[str, ...]
    records: tuple[Record, ...]
    is_customer_list: bool = True
    title: str | None = None  # xlsx: merged title row above the header
    date_format: str = "yyyy/m/d"


@dataclass
class Written:
    """Row references collected while writing, by (table label, record key)."""

    refs: dict[tuple[str, str], list[RowRef]] = field(default_factory=lambda: defaultdict(list))
    records: dict[RowRef, tuple[Table, Record]] = field(default_factory=dict)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, table: Table, record: Record, row: int) -> None:
        ref = (table.file, table.sheet, row)
        self.refs[(table.label, record.key)].append(ref)
        self.records[ref] = (table, record)

    def ref(self, label: str, key: str, nth: int = 0) -> RowRef:
        return self.refs[(label, key)][nth]


def customer(entity: str, *cells: object) -> Record:
    """A customer row of the real-world company `entity`."""
    return Record(key=entity, cells=cells, entity=entity)


def crm_row(*cells: object) -> Record:
    """An order or interaction row, known by its own id (the first cell)."""
    return Record(key=str(cells[0]), cells=cells)


def follow_up(entity: str | None, *cells: object) -> Record:
    """A row of a rep's follow-up log naming the customer `entity` (None: a company never loaded)."""
    return Record(key=f"follow_up:{cells[1]}", cells=cells, entity=entity)


def junk(kind: str, *cells: object) -> Record:
    """A garbage row (blank, note, totals) that is not a customer."""
    return Record(key=f"garbage:{kind}", cells=cells, garbage=kind)


def form(entity: str, **payload: object) -> Record:
    """A web-form sign-up; keys left out are missing from the JSON object."""
    return Record(key=entity, cells=payload, entity=entity)


def epoch_ms(moment: dt.datetime) -> int:
    """Milliseconds since the Unix epoch, as some form tools export timestamps."""
    return int(moment.timestamp()) * 1000


# ---------------------------------------------------------------------------------------------
# The records. Entity names are the real-world companies; the same entity in several rows is a
# duplicate group (see ENTITIES), different entities must stay different customers.
# ---------------------------------------------------------------------------------------------

EAST_FILE = "销售台账_华东_张伟.xlsx"
SOUTH_FILE = "销售台账_华南_李娜.xlsx"
ACCOUNTS_FILE = "legacy_crm/accounts.csv"
ORDERS_FILE = "legacy_crm/orders.csv"
INTERACTIONS_FILE = "legacy_crm/interactions.csv"
WEB_FILE = "web_forms.jsonl"

NOTE = "备注：以上客户信息由张伟于2024年6月整理，如有变动请及时更新。"

# fmt: off
EAST = Table(
    label="east", file=EAST_FILE, sheet="客户台账", title="华东区客户台账（2024年）",
    header=("客户编号", "客户名称", "联系人", "职位", "手机", "座机", "邮箱", "所属行业",
            "客户类型", "首次接触时间", "客户来源", "负责人", "备注"),
    records=(
        customer("hongda",
                 "C20240501001", "上海宏达机械制造有限公司", "陈建国", "总经理", 13816881234,
                 "021-57781234", "chenjg@hongda-mach.com", "制造业", "成交客户", D(2023, 8, 15),
                 "展会", "张伟", "员工约80人，数控加工为主，对价格比较敏感"),
        customer("jinhua",
                 "C20240501002", "上海锦华商贸有限公司", "黄丽华", "采购经理", "+86 137 6123 4567",
                 "021-62345678", "HuangLH@jinhua-sh.com", "贸易", "意向客户", "2024/3/12",
                 "官网", "张伟", None),
        customer("ruifeng",
                 None, "上海瑞丰包装材料有限公司", "吴涛", "销售总监", "158-2198-7766",
                 "021-62345678", "wutao@ruifeng-pack.cn", "制造业", "潜在客户", D(2024, 1, 9),
                 "电话营销", "张伟", "与锦华商贸同一栋楼，共用总机"),
        customer("huading",
                 "C20240502001", "杭州华鼎信息技术有限公司", "何俊", "技术总监",
                 "１３９５８０２６６７１", "(0571)87654321", "hejun@huading-info.com", "软件",
                 "意向客户", "2024年3月8日", "转介绍", "张伟", None),
        customer("haitong",
                 "C20240502002", "宁波海通国际贸易有限公司", "徐海涛", "外贸经理",
                 "(+86)13705741122", "0574-87301234", " Sales@HaiTong-Trade.com", "贸易",
                 "成交客户", D(2023, 6, 20), "展会", "张伟", "老客户，年采购额稳定"),
        customer("mingyuan",
                 "C20240502003", "杭州明远五金工具有限公司", "钱坤", "采购主管", "138-5717-2468",
                 "0571-85123456", "qiankun@mingyuan-tools.com", "机械制造", "成交客户",
                 D(2022, 11, 3), "转介绍", "张伟", None),
        customer("hengrui",
                 None, "苏州恒瑞精密模具有限公司", "刘洋", "生产经理", "+86 159 6215 1234",
                 "0512-65781234", None, "機械製造", "潜在客户", "2024.04.22", "展会", "张伟", None),
        customer("zhilian",
                 None, "北京智联恒通科技有限公司", "赵磊", "产品经理", 18610012345, "010-82345678",
                 "zhaolei@zlht-tech.com", "IT", "意向客户", DT(2024, 2, 26, 14, 30), "官网", "张伟",
                 None),
        junk("blank"),
        customer("yongda",
                 None, "宁波甬达塑料制品有限公司", "张伟", "厂长", "13857461234", "0574-86123456",
                 "zhangwei@yongda-plastic.com", "制造业", "成交客户", D(2023, 4, 18), "电话营销",
                 "张伟", "客户联系人与我同名\n注意区分"),
        customer("xixi",
                 "C20240503001", "杭州西溪电子商务有限公司", "王静", "运营总监",
                 "+86 136 5811 2233", "0571-88812345", "wangjing@xixi-ec.com", "电子商务",
                 "成交客户", D(2023, 11, 20), "转介绍", "王芳", None),
        customer("jinqiao",
                 None, "苏州金桥物流有限公司", "孙丽", "物流主管", 15150001234, "0512-62581234",
                 None, "物流", "意向客户", 45413, "电话营销", "张伟", None),
        customer("langxin",
                 None, "上海朗新文化传媒有限公司", "冯晓", "市场经理", "86-15921876543",
                 "021-62345678转8001", "fengxiao@langxin-media.com", "服务业", "潜在客户",
                 D(2024, 4, 2), "官网", "王芳", None),
        customer("xinjiyuan",
                 None, "上海新纪元教育科技有限公司", "马丽", "校长助理", "1380013800",
                 "021-58761234", "mali@xjy-edu.cn", "教育培训", "潜在客户", D(2024, 5, 13),
                 "电话营销", "张伟", "手机号少一位，待核实"),
        customer("hefeng",
                 None, "宁波禾丰农业科技有限公司", "朱明", "总经理", "无", "0574-88061234",
                 "ZHUMING1975@163.com", "农业", "流失客户", D(2022, 7, 5), "展会", "张伟",
                 "已转向其他供应商"),
        junk("note", NOTE),
        customer("shentongda",
                 None, "上海申通达汽车配件有限公司", "陶国强", "采购", "13917654321", "64781234",
                 None, "汽车配件", "意向客户", D(2024, 2, 1), "转介绍", "张伟", "座机没写区号"),
        customer("youke",
                 "C20240601001", "上海优客家居用品有限公司", "韩雪", "电商运营", 17721345678,
                 "400-820-1234", "hanxue@youke-home.com", "零售", "意向客户", D(2024, 6, 3), "官网",
                 "张伟", None),
        customer("runze",
                 None, "苏州润泽纺织品有限公司", "沈佳", "跟单员", "18051234567", "0512-63451234",
                 "shenjia88@qq.con", "纺织", "潜在客户", D(2024, 3, 27), "展会", "张伟", None),
        customer("baichuan",
                 None, "杭州百川环保设备有限公司", "张山", "销售经理", "13606711234",
                 "0571-86781234", "zhangsan#163.com", "环保设备", "潜在客户", D(2024, 1, 16),
                 "电话营销", "王芳", None),
        customer("kangyuan",
                 "C20240504001", "上海康源医疗器械有限公司", "杜鹏", "采购主管", "18917651234",
                 "021-64001234", "dupeng@kangyuan-med.com", "医疗器械", "流失客户",
                 D(2022, 10, 12), "展会", "王芳", None),
        customer("mingyuan",
                 "C20240502003", "明远五金", "钱总", None, None, None, None, "五金工具",
                 "成交客户", D(2024, 5, 8), "转介绍", "张伟", "重复录入，联系人以上一条为准"),
        customer("jingong",
                 None, "宁波精工轴承有限公司", "叶斌", "技术经理", "15888451234", "0574-87651234",
                 "yebin@jg-bearing.com", "机械制造", "意向客户", D(2024, 4, 11), "展会", "张伟",
                 None),
        customer("yuntu",
                 None, "深圳市云图软件有限公司", "高远", "CTO", "18516623344", "0755 8888 6666",
                 "gaoyuan@yuntu-soft.com ", "软件", "成交客户", D(2023, 9, 1), "官网", "张伟",
                 "深圳总部，上海有项目组"),
        junk("totals", None, "合计", "共22家"),
    ),
)

SOUTH_KEY = Table(
    label="south_key", file=SOUTH_FILE, sheet="重点客户", date_format="yyyy-mm-dd",
    header=("公司名称", "对接人", "职务", "联系电话", "电子邮箱", "行业", "类型", "接触日期",
            "渠道", "跟进人", "城市", "公司规模"),
    records=(
        customer("huaqiang",
                 "深圳市華強電子有限公司", "林志明", "采购总监", "13823456789/0755-26881234",
                 "linzm@huaqiang-elec.com", "电子元器件", "成交客户", D(2023, 3, 15), "展会",
                 "李娜", "深圳", "500-1000人"),
        customer("pengcheng",
                 "深圳市鹏程科技有限公司", "郑浩", "副总经理", "0755-86001234",
                 "zhenghao@pengcheng-tech.com", "软件", "成交客户", D(2022, 12, 6), "转介绍",
                 "李娜", "深圳", "200-500人"),
        customer("dmt",
                 "深圳市ＤＭＴ智能装备有限公司", "梁伟", "工程部经理", "13922223333；13922224444",
                 "liangwei@dmt-robot.com", "智能制造", "意向客户", D(2024, 3, 20), "展会", "李娜",
                 "深圳", "100人左右"),
        customer("youpin",
                 "广州优品贸易有限公司", "邓雪", "总经理", "137-1111-2222", "dengxue@163.com",
                 "贸易", "成交客户", D(2023, 7, 7), "官网", "李娜", "广州", "20-50人"),
        customer("meijia",
                 "广州市番禺区美嘉电器有限公司", "何文君", "采购经理", "020-84881234",
                 "hewenjun@meijia-elec.com", "家电制造", "意向客户", D(2024, 1, 22), "展会",
                 "李娜", "广州", "300人"),
        junk("blank"),
        customer("baoan_hengtong",
                 "深圳市宝安区恒通五金制品厂", "罗志强", "厂长", "13509871234", None, "五金加工",
                 "潜在客户", D(2024, 4, 8), "电话营销", "李娜", "深圳", "50人以下"),
        customer("ruikang",
                 "广州瑞康医疗设备有限公司", "黎敏", "设备科长", "020-87651234-302",
                 "limin@ruikang-med.cn", "医疗器械", "意向客户", "2024-02-28", "展会", "李娜",
                 "广州", "150"),
        customer("xinghe",
                 "深圳市星河物流有限公司", "钟华", "运营经理", "0755-28881234 / 13714561234",
                 "zhonghua@xinghe-log.com", "物流", "成交客户", D(2023, 10, 9), "转介绍", "陈晨",
                 "深圳", "1000人以上"),
        customer("lingnan",
                 "广州岭南餐饮管理有限公司", "卢嘉欣", "行政经理", "18620001234",
                 "lujiaxin@lingnan-food.com", "餐饮服务", "流失客户", D(2022, 8, 30), "展会",
                 "李娜", "广州", "200-500人"),
        customer("haina",
                 "深圳市海纳光电科技有限公司", "温志远", "研发总监", "0755-86331234",
                 "wenzy@haina-opto.com", "光电", "潜在客户", D(2024, 5, 30), "官网", "李娜",
                 "深圳", "80人"),
        customer("wanjia",
                 "深圳万嘉供应链管理有限公司", "陈思", "采购", "15817651234",
                 "chensi@wanjia-scm.com", "供应链服务", "意向客户", D(2024, 6, 11), "电话营销",
                 "李娜", "深圳", "500人"),
        customer("tiancheng",
                 "广州天成软件科技有限公司", "邱伟", "IT经理", "020-38991234", None, "IT",
                 "成交客户", D(2023, 5, 17), "官网", "陈晨", "广州", "100-200人"),
    ),
)

SOUTH_NEW = Table(
    label="south_new", file=SOUTH_FILE, sheet="2024新客户", date_format="yyyy-mm-dd",
    header=("客户名称", "联系人", "手机号", "邮件", "所属行业", "客户状态", "首次联系日期", "来源",
            "销售"),
    records=(
        customer("pengcheng_gz",
                 "深圳市鹏程科技有限公司广州分公司", "谢婷", "13922891234",
                 "xieting@pengcheng-tech.com", "软件", "意向客户", D(2024, 2, 19), "转介绍",
                 "李娜"),
        customer("youpin",
                 "广州优品", "邓雪", 13711112222, None, "贸易", "成交客户", D(2024, 1, 5), "官网",
                 "李娜"),
        customer("jiahe",
                 "深圳市佳和包装制品有限公司", "冯丽", "13580561234", "fengli@jiahe-pack.com",
                 "包装", "潜在客户", DT(2024, 3, 2, 10, 0), "展会", "李娜"),
        customer("jinhui",
                 "广州市南沙区金辉铝业有限公司", "梁国华", 13928561234.0, None, "有色金属",
                 "意向客户", "2024/04/16", "展会", "李娜"),
        customer("huitong_fin",
                 "深圳市前海汇通金融服务有限公司", "曾晓", "18818881234", "zengxiao@hth-fin.com",
                 "金融服务", "潜在客户", D(2024, 4, 25), "官网", "陈晨"),
        customer("hengfeng",
                 "广州市白云区恒丰贸易商行", "何强", "13602221234", "heqiang@126.com", "贸易",
                 "潜在客户", D(2024, 5, 9), "电话营销", "李娜"),
        customer("suitong",
                 "广州穗通物流有限公司", "黄振", "13826001234", None, "物流", "意向客户",
                 D(2024, 5, 21), "转介绍", "李娜"),
        customer("chuangxiangjia",
                 "深圳市创想家科技有限公司", "孙悦", "15019871234", "sunyue@cxj-tech.cn", "IT",
                 "潜在客户", D(2024, 6, 5), "官网", "李娜"),
        customer("yuanhang",
                 "广州远航灯饰有限公司", "冯志", "13631121234", None, "灯饰制造", "潜在客户",
                 D(2024, 3, 14), "展会", "李娜"),
        customer("huayue",
                 "广州华悦酒店管理有限公司", "林佳", "18924561234", "linjia@huayue-hotel.com",
                 "酒店服务", "成交客户", D(2024, 1, 30), "转介绍", "陈晨"),
        customer("shengshi",
                 "深圳市盛世华章文化传播有限公司", "周琳", "13760021234", "zhoulin@sshz.com",
                 "文化传媒", "意向客户", "2024年6月2日", "官网", "李娜"),
        customer("lida",
                 "广州利达机电设备有限公司", "伍健", "13702881234", None, "机械制造", "潜在客户",
                 D(2024, 4, 3), "展会", "李娜"),
    ),
)

SOUTH_FOLLOW_UPS = Table(
    label="south_follow_ups", file=SOUTH_FILE, sheet="跟进记录", date_format="yyyy-mm-dd",
    is_customer_list=False,
    header=("日期", "客户名称", "跟进方式", "参与人员", "沟通内容", "客户反馈", "待办事项", "跟进人"),
    records=(
        follow_up("jiahe",
                  D(2024, 6, 18), "深圳市佳和包装制品有限公司", "电话", "冯丽", "初次电话沟通，介绍产品B",
                  "对价格比较关注，希望先看样品", "寄送样品", "李娜"),
        follow_up("suitong",
                  "2024/5/20", "广州穗通物流有限公司", "上门拜访", "黄振;李娜", "了解仓储系统需求",
                  "需求明确：年内上线仓储管理系统，覆盖3个仓库", "整理方案", "李娜"),
        follow_up("wanjia",
                  D(2024, 6, 25), "深圳万嘉供应链管理有限公司", "微信", "陈思", "发送产品A报价单",
                  "正在内部比价", "下周回访", "李娜"),
        # The rep's short name: only the 2024新客户 sheet's record of 优品贸易 is written this way.
        follow_up("youpin",
                  D(2024, 6, 12), "广州优品", "电话", "邓雪", "回访产品B使用情况",
                  "使用顺利，下季度可能追加", "7月中旬再联系", "李娜"),
        follow_up(None,
                  D(2024, 6, 10), "广州远景贸易有限公司", "电话", "陈经理", "初次电话沟通", "暂无需求",
                  None, "李娜"),
    ),
)

ACCOUNTS = Table(
    label="accounts", file=ACCOUNTS_FILE, sheet="",
    header=("Record Id", "Account Name", "Contact Name", "Title", "Mobile", "Phone", "Email",
            "Industry", "Account Type", "Created Time", "Lead Source", "Account Owner", "City",
            "Employees"),
    records=(
        customer("kangqiao",
                 "ACC-100201", "上海康桥精密仪器有限公司", "许文", "采购经理", "13917891234",
                 "021-58121234", "xuwen@kangqiao-inst.com", "Manufacturing", "Customer",
                 "2022-03-14 09:21:33", "Trade Show", "张伟", "上海", "200-500"),
        customer("tianmushan",
                 "ACC-100204", "杭州天目山茶业有限公司", "钟秀", "总经理", "+86 13867451234",
                 "0571-63721234", "", "农业", "Churned", "2022/5/9", "Web", "王芳", "杭州", "50"),
        customer("jinghua_soft",
                 "ACC-100209", "北京京华软件技术有限公司", "马骏", "技术总监", "18601121234",
                 "010-62781234", "majun@jinghua-soft.com", "IT Services", "Customer",
                 "2022-08-22 16:05:10", "Referral", "张伟", "北京", "200-500"),
        customer("haitong",
                 "ACC-100215", "Ningbo Haitong International Trading Co., Ltd.", "徐海涛",
                 "Export Manager", "", "0574-87301234", "SALES@HAITONG-TRADE.COM",
                 "Wholesale Trade", "Customer", "2022-10-11 11:30:00", "Trade Show", "张伟",
                 "Ningbo", "100-200"),
        customer("tianyi",
                 "ACC-100219", "宁波天一文具有限公司", "董平", "采购部经理\n（兼仓储主管）",
                 "1.395712E10", "0574-87221234", "dongping@tianyi-stationery.com",
                 "Manufacturing", "Customer", "2022-11-30 10:00:00", "Trade Show", "王芳", "宁波",
                 "200-500"),
        customer("bosi",
                 "ACC-100223", "苏州工业园区博思电子有限公司", "李䶮", "研发经理", "15250121234",
                 "0512-62881234", "liyan@bosi-elec.com", "Electronics", "Prospect", "2023/1/6",
                 "Web", "张伟", "苏州", "500-1000"),
        customer("hongda",
                 "ACC-100231", "宏达机械制造（上海）有限公司", "陈建国", "总经理",
                 "+86 13816881234", "021-57781234", "ChenJG@Hongda-Mach.com", "Manufacturing",
                 "Customer", "2023-08-15 10:12:45", "Trade Show", "张伟", "上海", "80"),
        customer("hongda_equip",
                 "ACC-100236", "上海宏大机械设备有限公司", "戴明", "销售经理", "13601771234",
                 "021-39561234", "daiming@hongda-equip.com", "Machinery", "Prospect",
                 "2023-09-02 15:40:00", "Cold Call", "张伟", "上海", "50-100"),
        customer("yunfan",
                 "ACC-100240", "杭州云帆网络科技有限公司", "周敏", "产品经理", "13588886666",
                 "0571-87011234", "zhoumin@yunfan-net.com", "IT Services", "Customer",
                 "2022-09-14 16:40:03", "Referral", "王芳", "杭州", "100-200"),
        customer("qimingxing",
                 "ACC-100244", "上海启明星教育咨询有限公司", "罗佳", "校区主管", "17317651234", "",
                 "luojia@qimingxing-edu.com", "Education", "Lead", "2024-01-18 13:00:00", "Web",
                 "张伟", "上海", "50"),
        customer("huaqiang",
                 "ACC-100252", "深圳华强电子有限公司", "黄晓东", "工程师", "+86 13660001234", "",
                 "huangxd@huaqiang-elec.com", "Electronics", "Customer", "2023-04-03 09:45:12",
                 "Trade Show", "李娜", "深圳", "500-1000"),
        customer("ankang",
                 "ACC-100258", "广州安康医疗科技有限公司", "莫凡", "采购主管", "13802561234",
                 "020-81231234", "mofan@ankang-med.cn", "Healthcare", "Customer",
                 "2023-02-17 10:20:00", "Referral", "李娜", "广州", "200-500"),
        customer("xixi",
                 "ACC-100262", "杭州西溪电子商务股份有限公司", "李强", "财务经理", "15067891234",
                 "0571-88812345", "liqiang@xixi-ec.com", "Retail", "Customer",
                 "2023-12-05 14:10:00", "Referral", "王芳", "杭州", "100-200"),
        customer("yanshan",
                 "ACC-100266", "北京燕山环境工程有限公司", "白洁", "项目经理", "13910567812",
                 "010-68121234", "baijie@yanshan-env.com", "环保", "Prospect", "2023/6/28", "Web",
                 "张伟", "北京", "200-500"),
        customer("huading_tech",
                 "ACC-100270", "杭州华顶信息技术有限公司", "潘磊", "总经理", "18958012345",
                 "0571-86901234", "panlei@huading-tech.cn", "IT Services", "Prospect",
                 "2023-10-19 11:11:11", "Cold Call", "王芳", "杭州", "20-50"),
        customer("boyuan",
                 "ACC-100277", "北京博远咨询有限公司", "张伟", "合伙人", "13910102020",
                 "010-85901234", "zhangwei@boyuan-consulting.com", "Consulting", "Customer",
                 "2023-03-08 09:00:00", "Referral", "张伟", "北京", "50"),
        customer("jinqiao",
                 "ACC-100283", "苏州金侨物流有限公司", "孙丽", "物流主管", "", "",
                 "sunli@jqwl.com.cn", "Logistics", "Lead", "2023/12/11", "Cold Call", "张伟",
                 "苏州", "100-200"),
        customer("dmt",
                 "ACC-100290", "DMT智能装备（深圳）有限公司", "曾凡", "采购经理", "13728765432",
                 "0755-23451234", "zengfan@dmt-robot.com", "Manufacturing", "Customer",
                 "2023-07-21 17:30:00", "Trade Show", "李娜", "深圳", "100-200"),
        customer("meijia",
                 "ACC-100294", "美佳电器（广州）有限公司", "Wenjun He", "Purchasing", "", "",
                 "wenjun.he@meijia-elec.com", "Home Appliances", "Lead", "2023-11-28 10:05:00",
                 "Trade Show", "李娜", "广州", "200-500"),
        customer("zhonglian",
                 "ACC-100298", "上海众联人力资源服务有限公司", "蒋晓燕", "人力资源总监",
                 "18621003344", "021-61231234", "jiangxy@zhonglian-hr.com", "Business Services",
                 "Prospect", "2024-05-20 09:15:00", "Trade Show", "张伟", "上海", "1000+"),
        customer("yunfan",
                 "ACC-100240", "云帆网络", "周敏", "技术总监", "", "", "", "IT", "Customer",
                 "2023/3/1", "Referral", "王芳", "杭州", "100-200"),
        customer("zhengxin",
                 "ACC-100302", "广州正信财务咨询有限公司", "陆雯", "合伙人", "13710981234",
                 "020-34561234", "luwen@zhengxin-cpa.cn", "Financial Services", "Churned",
                 "2022-06-01 08:45:00", "Web", "李娜", "广州", "50"),
        customer("huayi",
                 "ACC-100305", "苏州华亿纺织科技有限公司", "缪健", "总经理", "+86 15995871234",
                 "0512-63981234", "", "纺织", "Customer", "2022-12-20 10:30:00", "Trade Show",
                 "张伟", "苏州", "1000+"),
        customer("gangcheng",
                 "ACC-100311", "宁波港城国际物流有限公司", "应海波", "运营总监", "13805741234",
                 "0574-27861234", "yinghb@gangcheng-log.com", "物流运输", "Customer",
                 "2023-05-16 15:00:00", "Referral", "张伟", "宁波", "1000+"),
        customer("yunduan",
                 "ACC-100316", "上海云端数据服务有限公司", "季涛", "CTO", "18917761234",
                 "021-60981234", "jitao@yunduan-data.com", "IT Services", "Prospect",
                 "2024-04-09 10:00:00", "Web", "张伟", "上海", "200-500"),
        customer("ruisi",
                 "ACC-100320", "北京睿思管理咨询有限公司", "田野", "顾问", "18511231234", "",
                 "tianye@ruisi-mc.com", "咨询服务", "Lead", "2024/6/18", "Web", "张伟", "北京",
                 "20-50"),
        customer("jiamei",
                 "ACC-100324", "深圳市佳美零售连锁有限公司", "叶嘉", "采购总监", "13926781234",
                 "0755-82561234", "yejia@jiamei-retail.com", "Retail", "Customer",
                 "2023-08-30 11:45:00", "Trade Show", "李娜", "深圳", "1000+"),
        customer("dexin",
                 "ACC-100329", "上海德信医疗器械有限公司", "顾敏", "注册专员", "13761231234",
                 "021-68011234", "gumin@dexin-med.com", "Healthcare", "Churned",
                 "2022-04-11 09:30:00", "Trade Show", "王芳", "上海", "200-500"),
        customer("feihong",
                 "ACC-100333", "杭州飛鴻服飾有限公司", "郑丹", "电商主管", "17758131234", "",
                 "zhengdan@feihong-fashion.com", "服装", "Prospect", "2024-03-03 14:00:00", "Web",
                 "王芳", "杭州", "50-100"),
        customer("xinrui",
                 "ACC-100338", "广州新锐广告传媒有限公司", "杨帆", "客户总监", "+86 186 2011 1234",
                 "020-87001234", "yangfan@xinrui-ad.com", "Advertising", "Lead",
                 "2024-02-14 10:10:00", "Cold Call", "李娜", "广州", "50-100"),
    ),
)

ORDERS = Table(
    label="orders", file=ORDERS_FILE, sheet="", is_customer_list=False,
    header=("Order Id", "Account Id", "Order Date", "Product", "Quantity", "Amount (CNY)",
            "Owner"),
    records=(
        crm_row("SO-22-0001", "ACC-100201", "2022-04-02", "数控机床X200", "2",
                "356,000.00", "张伟"),
        crm_row("SO-22-0002", "ACC-100204", "2022-05-20", "产品B", "100", "¥18000",
                "王芳"),
        crm_row("SO-22-0003", "ACC-100209", "2022/9/5", "软件许可年费", "1", "96000",
                "张伟"),
        crm_row("SO-22-0004", "ACC-100215", "2022-11-18", "产品A", "50",
                "320,000.00", "张伟"),
        crm_row("SO-22-0005", "ACC-100219", "2022-12-10", "产品B", "300", "54000.00",
                "王芳"),
        crm_row("SO-23-0006", "ACC-100240", "2023-01-09", "软件许可年费", "1",
                "¥48000", "王芳"),
        crm_row("SO-23-0007", "ACC-100305", "2023-01-15", "产品A", "100",
                "640,000.00", "张伟"),
        crm_row("SO-23-0008", "ACC-100258", "2023-03-28", "产品A", "5", "¥32000",
                "李娜"),
        crm_row("SO-23-0009", "ACC-100277", "2023-04-12", "软件许可年费", "1",
                "60000", "张伟"),
        crm_row("SO-23-0010", "ACC-100252", "2023-05-06", "产品B", "200", "36000",
                "李娜"),
        crm_row("SO-23-0011", "ACC-100311", "2023/6/20", "产品B", "800",
                "144,000.00", "张伟"),
        crm_row("SO-23-0012", "ACC-100290", "2023-08-15", "数控机床X200", "1",
                "178000", "李娜"),
        crm_row("SO-23-0013", "ACC-100231", "2023-09-10", "产品A", "20",
                "128,000.00", "张伟"),
        crm_row("SO-23-0014", "ACC-100324", "2023-10-08", "产品B", "1500",
                "¥270000", "李娜"),
        crm_row("SO-23-0015", "ACC-100262", "2023-12-18", "软件许可年费", "2",
                "￥96,000", "王芳"),
        crm_row("SO-23-0016", "ACC-100215", "2023-12-22", "产品A", "30",
                "192000.00", "张伟"),
        crm_row("SO-24-0017", "ACC-100201", "2024-01-10", "产品B", "50", "9000",
                "张伟"),
        crm_row("SO-24-0018", "ACC-100240", "2024-01-09", "软件许可年费", "1",
                "48000", "王芳"),
        crm_row("SO-24-0019", "ACC-999999", "2024-02-02", "产品A", "1", "¥6400",
                "张伟"),
        crm_row("SO-24-0020", "ACC-100231", "2024/3/18", "产品A", "10", "¥64000",
                "张伟"),
        crm_row("SO-24-0021", "ACC-100252", "2024-03-25", "数控机床X200", "1",
                "182,000.00", "李娜"),
        crm_row("SO-24-0022", "ACC-100305", "2024-04-16", "产品A", "80",
                "512,000.00", "张伟"),
        crm_row("SO-24-0023", "ACC-100209", "2024-05-06", "软件许可年费", "1",
                "¥96000", "张伟"),
        crm_row("SO-24-0024", "ACC-100324", "2024-05-28", "产品B", "900", "162000",
                "李娜"),
        crm_row("SO-24-0025", "ACC-100311", "2024-06-14", "产品A", "10",
                "64,000.00", "张伟"),
        # Entered late, so out of date order: they give 华亿纺织 four orders in the last 12
        # months (RFM tier A) and 港城物流 two (tier B).
        crm_row("SO-23-0026", "ACC-100305", "2023-08-22", "产品A", "60",
                "384,000.00", "张伟"),
        crm_row("SO-23-0027", "ACC-100305", "2023/11/9", "产品B", "500", "¥90000",
                "张伟"),
        crm_row("SO-24-0028", "ACC-100305", "2024-06-18", "产品A", "40",
                "256,000.00", "张伟"),
        crm_row("SO-24-0029", "ACC-100311", "2024-02-26", "产品B", "300",
                "54,000.00", "张伟"),
    ),
)

INTERACTIONS = Table(
    label="interactions", file=INTERACTIONS_FILE, sheet="", is_customer_list=False,
    header=("Activity Id", "Account Id", "Activity Date", "Activity Type", "Participants",
            "Description", "Customer Feedback", "Next Step", "Assigned To"),
    records=(
        crm_row("ACT-0001", "ACC-100201", "2022-03-20", "拜访", "许文;张伟",
                "现场参观产线，介绍数控机床X200", "对设备精度满意", "发送报价单", "张伟"),
        crm_row("ACT-0002", "ACC-100204", "2022-09-15", "电话", "钟秀", "季度回访",
                "已改用其他供应商", "", "王芳"),
        crm_row("ACT-0003", "ACC-100209", "2022-08-30", "Call", "马骏",
                "沟通软件许可续费事宜", "同意续费", "准备合同", "张伟"),
        crm_row("ACT-0004", "ACC-100215", "2022-10-20", "Email", "徐海涛",
                "Sent quotation for 产品A", "Will compare with other suppliers",
                "Follow up next week", "张伟"),
        crm_row("ACT-0005", "ACC-100219", "2022/11/25 15:30", "电话", "董平",
                "确认产品B交期", "要求月底前到货", "安排发货", "王芳"),
        crm_row("ACT-0006", "ACC-100240", "2023-01-05", "邮件", "周敏",
                "发送年费续约提醒", "", "", "王芳"),
        crm_row("ACT-0007", "ACC-100231", "2023-08-20", "拜访", "陈建国;张伟",
                "首次拜访宏达机械，了解产品A用量", "每月用量约20台，关注价格和交期", "报价",
                "张伟"),
        crm_row("ACT-0008", "ACC-100262", "2023-12-01", "拜访", "李强;王芳",
                "年度合作回顾", "满意，希望增加培训", "安排培训", "王芳"),
        crm_row("ACT-0009", "ACC-100270", "2023-10-25", "Call", "潘磊",
                "初次电话沟通", "暂无采购计划", "三个月后再联系", "王芳"),
        crm_row("ACT-0010", "ACC-100283", "2024-01-08", "电话", "孙丽",
                "物流合作意向沟通", "有兴趣，需对比价格", "发资料", "张伟"),
        crm_row("ACT-0011", "ACC-100305", "2024-02-20", "Visit", "缪健;张伟",
                "年度采购计划沟通", "计划扩产，采购量增加30%", "跟进框架协议", "张伟"),
        crm_row("ACT-0012", "ACC-100252", "2024-03-12", "Visit", "黄晓东",
                "Demo of 数控机床X200", "Interested, needs budget approval", "Send formal quote",
                "李娜"),
        crm_row("ACT-0013", "ACC-999998", "2024-03-15", "电话", "刘经理",
                "询问产品B价格", "", "回电", "张伟"),
        crm_row("ACT-0014", "ACC-100231", "2024-04-10", "电话", "陈建国",
                "沟通二季度产品A补货", "客户反馈价格偏高，希望有折扣", "申请九五折特价", "张伟"),
        crm_row("ACT-0015", "ACC-100316", "2024-04-15", "邮件", "季涛",
                "发送软件许可年费报价", "正在内部评估", "两周后跟进", "张伟"),
        crm_row("ACT-0016", "ACC-100324", "2024-05-20", "拜访", "叶嘉;李娜",
                "门店补货需求沟通", "预算已批，计划下季度采购", "准备年度框架合同", "李娜"),
        crm_row("ACT-0017", "ACC-100298", "2024/5/28 14:00", "拜访",
                "蒋晓燕;张伟;技术支持刘工",
                "明确需求：为全国30个分支机构采购员工管理系统，约1200个账号。\n"
                "要求支持私有化部署，8月底前上线。",
                "预算已批，计划下季度采购", "7月初提交方案和报价", "张伟"),
        crm_row("ACT-0018", "ACC-100311", "2024-06-05", "Call", "应海波",
                "确认产品A交付", "对交付及时性满意", "", "张伟"),
        crm_row("ACT-0019", "ACC-100298", "2024-06-12", "Email", "蒋晓燕",
                "发送方案初稿", "对方案整体认可", "安排技术交流会", "张伟"),
        crm_row("ACT-0020", "ACC-100338", "2024-06-20", "Email", "杨帆",
                "介绍产品B", "", "等待回复", "李娜"),
    ),
)

EXPO = "2024华东工业博览会"
HR_EXPO = "2024中国人力资源服务博览会"
SITE = "官网表单"

WEB = Table(
    label="web", file=WEB_FILE, sheet="",
    header=("submission_id", "company", "name", "job_title", "phone", "email", "industry",
            "submitted_at", "event", "city", "interest"),
    records=(
        form("hongda", submission_id="F-0031", company="上海宏达机械", name="陈建国",
             job_title="总经理", phone="138 1688 1234", industry="机械",
             submitted_at="2024-04-30T18:30:00Z", event=EXPO, city="上海",
             interest="产品A 批量采购"),
        form("hengrui", submission_id="F-0032", company="恒瑞模具", name="刘洋",
             job_title="生产经理", phone=15962151234, email="liuyang@hengrui-mould.com",
             industry="模具", submitted_at="2024-05-01T09:30:00+08:00", event=EXPO, city="苏州",
             interest="数控机床X200"),
        form("nanowei", submission_id="F-0033", company="苏州纳微新材料有限公司", name="邹博",
             job_title="研发经理", phone="13962141234", email="zoubo@nanowei-mat.com",
             industry="新材料", submitted_at="2024-04-30T02:15:00Z", event=EXPO, city="苏州",
             interest="数控机床X200"),
        form("web_wanglei", submission_id="F-0034", name="王磊", job_title="采购",
             phone="18817651234", email="wanglei1988@qq.com", industry="制造业",
             submitted_at="2024-05-01T11:20:00+08:00", event=EXPO, city="上海",
             interest="产品B价格"),
        form("zhilian", submission_id="F-0035", company="智联恒通", name="zhao LEI",
             job_title="Product Manager", phone="", email="lei.zhao@163.com", industry="互联网",
             submitted_at=epoch_ms(DT(2024, 3, 5, 10, 12, 30, tzinfo=SHANGHAI)), event=SITE,
             city="北京", interest="软件许可年费"),
        form("mingrui", submission_id="F-0036", company="明睿教育科技（杭州）有限公司",
             name="陈露", job_title="市场主管", phone="17706511234",
             email="lucy.chen@mingrui-edu.com", industry="教育",
             submitted_at="2024-03-22T14:00:00+08:00", event=SITE, city="杭州", interest="产品B"),
        form("huaxin", submission_id="F-0037", company="北京华信联创科技有限公司", name="刘畅",
             job_title="采购经理", phone="+86 186 1088 1234", email="liuchang@hxlc-tech.com",
             industry="IT", submitted_at="2024-06-03T16:45:00+08:00", event=SITE, city="北京",
             interest="软件许可年费"),
        form("web_limin", submission_id="F-0038", company=None, name="李敏", job_title="",
             phone="13671231234", email="limin@foxmail.com", industry="",
             submitted_at=epoch_ms(DT(2024, 5, 15, 20, 41, 7, tzinfo=SHANGHAI)), event=SITE,
             city="广州", interest="产品A"),
        form("zhonglian", submission_id="F-0039", company="众联人力资源服务（上海）有限公司",
             name="蒋晓燕", job_title="HRD", phone="+86-186-2100-3344",
             email="JiangXY@zhonglian-hr.com ", industry="人力资源服务",
             submitted_at="2024-05-18T10:05:00+08:00", event=HR_EXPO, city="上海",
             interest="员工管理系统，公司1000人以上"),
        form("mingrui", submission_id="F-0040", company="杭州明睿教育", name="Lucy Chen",
             email=" Lucy.Chen@MingRui-Edu.com", industry="教育",
             submitted_at=epoch_ms(DT(2024, 4, 2, 7, 30, tzinfo=SHANGHAI)), event=SITE,
             city="杭州", interest="再次咨询产品B报价"),
        form("pujiang", submission_id="F-0041", company="上海浦江精细化工有限公司", name="吕明",
             job_title="技术经理", phone="021-57501234", email="lvming@pujiang-chem.com",
             industry="化工", submitted_at="2024-05-02T10:00:00+08:00", event=EXPO, city="上海",
             interest="产品A"),
        Record(key="garbage:invalid_json", cells='{"submission_id": "F-0042", "company": "杭州',
               garbage="invalid_json"),
        form("kaiyuan", submission_id="F-0043", company="苏州吴中开元食品有限公司", name="邵琪",
             job_title="品控经理", phone="15106201234", email="shaoqi@kaiyuan-food.com",
             industry="食品", submitted_at="2024-05-01T15:10:00+08:00", event=EXPO, city="苏州",
             interest="产品B"),
        form("hengyuan", submission_id="F-0044", company="宁波北仑恒源模具有限公司", name="贺军",
             job_title="厂长", phone="13738461234", industry="模具",
             submitted_at="2024-05-02T09:00:00+08:00", event=EXPO, city="宁波",
             interest="数控机床X200"),
        form("weilai", submission_id="F-0045", company="杭州未来视界科技有限公司", name="姚远",
             job_title="CEO", phone="18668001234", email="yaoyuan@weilaishijie.com",
             industry="软件", submitted_at=epoch_ms(DT(2024, 6, 15, 21, 0, tzinfo=SHANGHAI)),
             event=SITE, city="杭州", interest="软件许可年费"),
        form("nansha_gw", submission_id="F-0046", company="广州南沙港湾物流有限公司",
             name="区志豪", job_title="运营总监", phone="13631451234",
             email="ouzhihao@nsgw-log.com", industry="物流",
             submitted_at="2024-06-20T08:10:00+08:00", event=SITE, city="广州", interest="产品B"),
        form("lanhai", submission_id="F-0047", company="深圳市蓝海跨境电商有限公司", name="谭晶",
             job_title="采购", phone="+86 15013561234", email="TanJing@lanhai-ec.com",
             industry="电子商务", submitted_at="2024-06-22T11:30:00Z", event=SITE, city="深圳",
             interest="产品B"),
        form("zhongke", submission_id="F-0048", company="北京中科远望仪器有限公司", name="蔡宁",
             job_title="研究员", phone="13801231234", email="caining@zkyw-inst.cn",
             industry="仪器仪表", submitted_at="2024-06-25T10:00:00+08:00", event=SITE,
             city="北京", interest="数控机床X200"),
        form("wanxiang", submission_id="F-0049", company="上海万象会展服务有限公司", name="钱晓",
             job_title="项目经理", phone="18017651234", email="qianxiao@wanxiang-expo.com",
             industry="会展服务", submitted_at="2024-06-28T17:00:00+08:00", event=SITE,
             city="上海", interest="产品B"),
        form("huateng", submission_id="F-0050", company="苏州新区华腾电子有限公司", name="钟毅",
             job_title="工程师", phone="18906131234", email="zhongyi@huateng-elec.com",
             industry="电子", submitted_at="2024-05-01T10:40:00+08:00", event=EXPO, city="苏州",
             interest="产品A"),
    ),
)

TABLES: tuple[Table, ...] = (
    EAST, SOUTH_KEY, SOUTH_NEW, SOUTH_FOLLOW_UPS, ACCOUNTS, ORDERS, INTERACTIONS, WEB
)

# Entities that appear in more than one customer row: a name for the duplicate group and the
# one kind of evidence that links every row of the group (checked below for the exact kinds).
ENTITIES: dict[str, tuple[str, str]] = {
    "hongda": ("上海宏达机械制造 (ledger C20240501001 / CRM ACC-100231 / expo form)", "mobile"),
    "hengrui": ("苏州恒瑞精密模具 (ledger / expo form, mobile as JSON integer)", "mobile"),
    "youpin": ("广州优品贸易 (both sheets of the 华南 ledger)", "mobile"),
    "haitong": ("宁波海通国际贸易 (ledger / English name in CRM)", "email"),
    "zhonglian": ("上海众联人力资源服务 (CRM / HR expo form)", "email"),
    "mingrui": ("杭州明睿教育科技 (two web sign-ups)", "email"),
    "mingyuan": ("杭州明远五金工具 (entered twice in the 华东 ledger)", "legacy_id"),
    "yunfan": ("杭州云帆网络科技 (exported twice by the CRM)", "legacy_id"),
    "huaqiang": ("深圳华强电子 (traditional chars in ledger, two contacts)", "company_key"),
    "xixi": ("杭州西溪电子商务 (有限公司 vs 股份有限公司, two contacts)", "company_key"),
    "dmt": ("DMT智能装备 (full-width letters, city in brackets, two contacts)", "company_key"),
    "zhilian": ("北京智联恒通科技 (abbreviated name, pinyin contact)", "fuzzy"),
    "jinqiao": ("苏州金桥物流 (typo 桥/侨, same contact)", "fuzzy"),
    "meijia": ("广州美嘉电器 (typo 嘉/佳, pinyin contact, same mail domain)", "fuzzy"),
}

# Pairs of (table label, entity) that must end in different customers.
HARD_NEGATIVE_PAIRS: tuple[tuple[str, tuple[str, str], tuple[str, str]], ...] = (
    ("shared switchboard 021-62345678: different companies, different mobiles",
     ("east", "jinhua"), ("east", "ruifeng")),
    ("same switchboard, one with extension 8001: different companies",
     ("east", "jinhua"), ("east", "langxin")),
    ("headquarters vs its Guangzhou branch (same mail domain, different people)",
     ("south_key", "pengcheng"), ("south_new", "pengcheng_gz")),
    ("华鼎 vs 华顶: one character apart, different people, mobiles and domains",
     ("east", "huading"), ("accounts", "huading_tech")),
    ("two different people both called 张伟 at different companies",
     ("east", "yongda"), ("accounts", "boyuan")),
    ("宏达 vs 宏大 (same pinyin hongda): different company, contact and mobile",
     ("east", "hongda"), ("accounts", "hongda_equip")),
)

# (table label, record key, occurrence, header as written, canonical field, expected clean value,
#  expected issue reason or None): the reason is what customer_sources.issues records for the field.
MESSY_CELLS: tuple[tuple[str, str, int, str, str, str | None, str | None], ...] = (
    ("east", "hongda", 0, "手机", "mobile", "+8613816881234", None),
    ("east", "jinhua", 0, "手机", "mobile", "+8613761234567", None),
    ("east", "ruifeng", 0, "手机", "mobile", "+8615821987766", None),
    ("east", "huading", 0, "手机", "mobile", "+8613958026671", None),
    ("east", "haitong", 0, "手机", "mobile", "+8613705741122", None),
    ("east", "langxin", 0, "手机", "mobile", "+8615921876543", None),
    ("east", "xinjiyuan", 0, "手机", "mobile", None, "phone_invalid_length"),
    ("east", "hefeng", 0, "手机", "mobile", None, "phone_placeholder"),
    ("accounts", "tianyi", 0, "Mobile", "mobile", "+8613957120000", None),
    ("web", "hengrui", 0, "phone", "mobile", "+8615962151234", None),
    ("east", "jinhua", 0, "座机", "phone", "+862162345678", None),
    ("east", "langxin", 0, "座机", "phone", "+862162345678;ext=8001", None),
    ("east", "huading", 0, "座机", "phone", "+8657187654321", None),
    ("east", "yuntu", 0, "座机", "phone", "+8675588886666", None),
    ("east", "shentongda", 0, "座机", "phone", None, "phone_no_area_code"),
    ("east", "youke", 0, "座机", "phone", "+864008201234", None),
    ("east", "haitong", 0, "邮箱", "email", "sales@haitong-trade.com", None),
    ("accounts", "haitong", 0, "Email", "email", "sales@haitong-trade.com", None),
    ("east", "runze", 0, "邮箱", "email", "shenjia88@qq.com", "email_domain_typo"),
    ("east", "baichuan", 0, "邮箱", "email", None, "email_invalid_syntax"),
    ("east", "jinhua", 0, "首次接触时间", "first_contact_date", "2024-03-12", None),
    ("east", "huading", 0, "首次接触时间", "first_contact_date", "2024-03-08", None),
    ("east", "hengrui", 0, "首次接触时间", "first_contact_date", "2024-04-22", None),
    ("east", "jinqiao", 0, "首次接触时间", "first_contact_date", "2024-05-01", None),
    ("accounts", "hongda", 0, "Created Time", "first_contact_date", "2023-08-15", None),
    ("accounts", "yunfan", 1, "Created Time", "first_contact_date", "2023-03-01", None),
    ("web", "hongda", 0, "submitted_at", "first_contact_date", "2024-05-01", None),
    ("web", "mingrui", 1, "submitted_at", "first_contact_date", "2024-04-02", None),
    ("accounts", "hongda", 0, "Account Name", "company_key", "宏达机械制造", None),
    ("south_key", "dmt", 0, "公司名称", "company_key", "dmt智能装备", None),
    ("accounts", "feihong", 0, "Account Name", "customer_name", "杭州飞鸿服饰有限公司", None),
    ("east", "mingyuan", 1, "联系人", "contact_name", "钱", None),
    ("east", "mingyuan", 1, "联系人", "contact_honorific", "总", None),
    ("web", "zhilian", 0, "name", "contact_name", "Zhao Lei", None),
    ("east", "hengrui", 0, "所属行业", "industry_code", "C", None),
    ("east", "mingyuan", 1, "所属行业", "industry_code", "C", None),
    ("east", "zhilian", 0, "所属行业", "industry_code", "I", None),
    ("accounts", "jinghua_soft", 0, "Industry", "industry_code", "I", None),
    ("accounts", "yunfan", 1, "Industry", "industry_code", "I", None),
    ("east", "langxin", 0, "所属行业", "industry_code", None, "industry_unmapped"),
    ("east", "hengrui", 0, "客户类型", "customer_type", "prospect", None),
    ("east", "huading", 0, "客户类型", "customer_stage", "intent", None),
    ("accounts", "feihong", 0, "Account Type", "customer_type", "prospect", None),
    ("accounts", "zhengxin", 0, "Account Type", "customer_type", "churned", None),
)
# fmt: on


# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------


def write_workbook(path: Path, tables: Sequence[Table], author: str, written: Written) -> None:
    """Write one sales ledger workbook, one sheet per table, with stable bytes."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(table.sheet)
        row = 1
        if table.title:
            sheet.cell(row=1, column=1, value=table.title).font = Font(bold=True, size=14)
            sheet.cell(row=1, column=1).alignment = Alignment(horizontal="center")
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(table.header))
            row = 2
        for column, name in enumerate(table.header, start=1):
            sheet.cell(row=row, column=column, value=name).font = Font(bold=True)
            sheet.column_dimensions[get_column_letter(column)].width = 16
        sheet.freeze_panes = sheet.cell(row=row + 1, column=1)
        for record in table.records:
            row += 1
            for column, value in enumerate(record.cells, start=1):
                if value is None:
                    continue
                target = sheet.cell(row=row, column=column, value=value)
                if isinstance(value, dt.datetime):
                    target.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(value, dt.date):
                    target.number_format = table.date_format
                elif isinstance(value, str) and "\n" in value:
                    target.alignment = Alignment(wrap_text=True)
            written.add(table, record, row)
        written.counts[(table.file, table.sheet)] = len(table.records)
    workbook.properties.creator = author
    workbook.properties.lastModifiedBy = author
    workbook.properties.created = FIXED_TIMESTAMP
    workbook.properties.modified = FIXED_TIMESTAMP
    path.write_bytes(_stable_xlsx_bytes(workbook))


def _stable_xlsx_bytes(workbook: Workbook) -> bytes:
    """Serialise without openpyxl's save(), which stamps 'now' into the file."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    pinned = io.BytesIO()
    with (
        zipfile.ZipFile(raw) as source,
        zipfile.ZipFile(pinned, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIMESTAMP.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return pinned.getvalue()


def write_csv(path: Path, table: Table, written: Written) -> None:
    """Write a legacy CRM export: GB18030, CRLF records, quoted only where needed."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.header)
    line = 2
    for record in table.records:
        cells = ["" if value is None else str(value) for value in record.cells]
        writer.writerow(cells)
        written.add(table, record, line)
        # A quoted value with a line break makes the record span several physical lines.
        line += 1 + sum(value.count("\n") for value in cells)
    written.counts[(table.file, table.sheet)] = len(table.records)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("gb18030"))


def write_jsonl(path: Path, table: Table, written: Written) -> None:
    """Write the web-form export: UTF-8 JSON Lines, one sign-up per line."""
    lines = []
    for line, record in enumerate(table.records, start=1):
        if isinstance(record.cells, str):
            lines.append(record.cells)
        else:
            lines.append(json.dumps(record.cells, ensure_ascii=False))
        written.add(table, record, line)
    written.counts[(table.file, table.sheet)] = len(table.records)
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


def write_inbox(out: Path) -> Written:
    """Write every sample file into `out` and return where each record landed."""
    out.mkdir(parents=True, exist_ok=True)
    written = Written()
    write_workbook(out / EAST_FILE, [EAST], "张伟", written)
    write_workbook(out / SOUTH_FILE, [SOUTH_KEY, SOUTH_NEW, SOUTH_FOLLOW_UPS], "李娜", written)
    for table in (ACCOUNTS, ORDERS, INTERACTIONS):
        write_csv(out / table.file, table, written)
    write_jsonl(out / WEB_FILE, WEB, written)
    expected = {table.file for table in TABLES}
    for stray in sorted(p for p in out.rglob("*") if p.is_file()):
        if stray.relative_to(out).as_posix() not in expected:
            log.warning("%s is not a sample file; the pipeline will read it too", stray)
    return written


# ---------------------------------------------------------------------------------------------
# Truth tables
# ---------------------------------------------------------------------------------------------


def cell(table: Table, record: Record, header: str) -> object:
    """The raw value written for `header` in `record` (None when left empty or missing)."""
    if isinstance(record.cells, dict):
        return record.cells.get(header)
    if isinstance(record.cells, str) or header not in table.header:
        return None
    values = tuple(record.cells)
    index = table.header.index(header)
    return values[index] if index < len(values) else None


def build_truth(written: Written) -> dict[str, Any]:
    """Compute every truth table from where the records were written."""
    customer_rows = [
        (ref, table, record)
        for ref, (table, record) in written.records.items()
        if table.is_customer_list and record.garbage is None
    ]
    rows_of_entity: dict[str, list[RowRef]] = defaultdict(list)
    for ref, _, record in customer_rows:
        assert record.entity is not None
        rows_of_entity[record.entity].append(ref)

    groups = []
    for entity, rows in rows_of_entity.items():
        if len(rows) == 1:
            continue
        assert entity in ENTITIES, f"{entity} appears {len(rows)} times but has no group"
        name, evidence = ENTITIES[entity]
        assert 2 <= len(rows) <= 4, f"group {entity} has {len(rows)} rows"
        groups.append({"name": name, "evidence": evidence, "rows": rows})
    assert not set(ENTITIES) - set(rows_of_entity), "group without rows"

    negatives = []
    for why, (label_a, key_a), (label_b, key_b) in HARD_NEGATIVE_PAIRS:
        assert key_a != key_b
        negatives.append(
            {
                "name": f"{key_a} vs {key_b}",
                "why": why,
                "rows": [written.ref(label_a, key_a), written.ref(label_b, key_b)],
            }
        )

    garbage = [
        {"row": ref, "kind": record.garbage}
        for ref, (_, record) in written.records.items()
        if record.garbage is not None
    ]

    known_accounts = {cell(ACCOUNTS, record, "Record Id") for record in ACCOUNTS.records}
    orphans = [
        {"row": ref, "kind": "order" if table.label == "orders" else "interaction"}
        for ref, (table, record) in written.records.items()
        if (
            table.label in ("orders", "interactions")
            and cell(table, record, "Account Id") not in known_accounts
        )
        or (table is SOUTH_FOLLOW_UPS and record.entity is None)
    ]
    follow_ups = [
        {"row": ref, "entity": record.entity}
        for ref, (table, record) in written.records.items()
        if table is SOUTH_FOLLOW_UPS
    ]

    tables = {table.label: table for table in TABLES}
    messy = []
    for label, key, nth, header, canonical, expected, reason in MESSY_CELLS:
        ref = written.ref(label, key, nth)
        raw = cell(tables[label], written.records[ref][1], header)
        assert isinstance(raw, str | int | float), (label, key, header, raw)
        messy.append({"row": ref, "field": canonical, "raw": raw, "expected": expected, "reason": reason})

    def account_rows(record_id: str, table: Table) -> list[RowRef]:
        return [
            ref
            for ref, (t, record) in written.records.items()
            if t is table and cell(t, record, "Account Id") == record_id
        ]

    seeds = {
        "sme_manufacturer": {
            "legacy_ids": ["C20240501001", "ACC-100231"],
            "customers": rows_of_entity["hongda"],
            "orders": account_rows("ACC-100231", ORDERS),
            "interactions": account_rows("ACC-100231", INTERACTIONS),
        },
        "large_service_new": {
            "legacy_ids": ["ACC-100298", "F-0039"],
            "customers": rows_of_entity["zhonglian"],
            "orders": account_rows("ACC-100298", ORDERS),
            "interactions": account_rows("ACC-100298", INTERACTIONS),
        },
    }

    return {
        "AS_OF_DATE": AS_OF_DATE.isoformat(),
        "DUPLICATE_GROUPS": groups,
        "HARD_NEGATIVES": negatives,
        "GARBAGE_ROWS": garbage,
        "ORPHANS": orphans,
        "FOLLOW_UPS": follow_ups,
        "MESSY_VALUES": messy,
        "SEED_CUSTOMERS": seeds,
        "DATA_ROW_COUNTS": written.counts,
        "ENTITY_OF_ROW": {ref: record.entity for ref, _, record in customer_rows},
    }


def check_samples(written: Written, truth: dict[str, Any]) -> None:
    """Refuse to write samples whose exact evidence contradicts the truth tables."""
    evidence_of: dict[RowRef, dict[str, set[str]]] = {}
    for ref, (table, record) in written.records.items():
        if not table.is_customer_list or record.garbage is not None:
            continue
        values = [v for v in _cells(record) if isinstance(v, str | int | float)]
        evidence_of[ref] = {
            "mobile": {m for v in values for m in _mobiles(v)},
            "email": {_email(v) for v in values if isinstance(v, str) and "@" in v},
            "legacy_id": {str(v) for h in LEGACY_ID_HEADERS if (v := cell(table, record, h))},
            "landline": {n for v in values for n in _landlines(v)},
        }
    entity_of = truth["ENTITY_OF_ROW"]
    for kind in ("mobile", "email", "legacy_id", "landline"):
        owners: dict[str, set[str]] = defaultdict(set)
        for ref, found in evidence_of.items():
            for value in found[kind]:
                owners[value].add(entity_of[ref])
        shared = {v: e for v, e in owners.items() if len(e) > 1}
        allowed = {"landline": {"02162345678"}}.get(kind, set())
        assert set(shared) <= allowed, f"{kind} shared across companies: {shared}"
    for group in truth["DUPLICATE_GROUPS"]:
        if group["evidence"] in ("mobile", "email", "legacy_id"):
            common = set.intersection(*(evidence_of[r][group["evidence"]] for r in group["rows"]))
            assert common, f"group {group['name']} shares no {group['evidence']}"


LEGACY_ID_HEADERS = ("客户编号", "Record Id", "submission_id")


def _cells(record: Record) -> Iterable[object]:
    if isinstance(record.cells, dict):
        return record.cells.values()
    return tuple(record.cells)  # type: ignore[arg-type]


def _mobiles(value: str | int | float) -> set[str]:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value))
    if re.fullmatch(r"\d\.\d+E\d+", text):
        text = str(int(float(text)))
    found = set()
    for part in re.split(r"[/;,]", text):
        digits = re.sub(r"\D", "", part)
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
        if len(digits) == 11 and digits.startswith("1"):
            found.add(digits)
    return found


def _landlines(value: str | int | float) -> set[str]:
    text = unicodedata.normalize("NFKC", str(value))
    found = set()
    for part in re.split(r"[/;,]", text):
        digits = re.sub(r"\D", "", part.split("转")[0])
        if digits.startswith("0") and 10 <= len(digits) <= 12:
            found.add(digits)
    return found


def _email(value: str) -> str:
    return value.strip().lower()


# ---------------------------------------------------------------------------------------------
# The generated truth module
# ---------------------------------------------------------------------------------------------

LINE_LIMIT = 100

TRUTH_HEADER = '''\
"""Ground truth for the sample inbox data/samples/ (row references, duplicates, messy cells).

GENERATED by data/make_samples.py. Do not edit: change the script and run
`python data/make_samples.py`, which rewrites the samples and this file together.

A RowRef is (source_file, source_sheet, source_row): the file path relative to the inbox
with "/" separators, the sheet name for xlsx and "" for CSV/JSON Lines, and the row a person
sees (1-based spreadsheet row with title and header rows counted; 1-based physical line where
the record starts in CSV, header on line 1, and in JSON Lines).
"""

RowRef = tuple[str, str, int]

'''

TRUTH_DOCS = {
    "AS_OF_DATE": "Reference date of the samples; 'new' means first contact within 2 months of it.",
    "DUPLICATE_GROUPS": "Records of one real company; evidence is what links all of its rows.",
    "HARD_NEGATIVES": "Pairs of records that look alike but must end in different customers.",
    "GARBAGE_ROWS": "Rows inside the data region that are not records (to be quarantined).",
    "ORPHANS": "Orders and interactions whose Account Id (or customer name) matches no customer.",
    "FOLLOW_UPS": "Rows of the Excel follow-up log and the company each names (None: none loaded).",
    "MESSY_VALUES": "Messy cells and what a correct cleaner makes of them (None = reject).",
    "SEED_CUSTOMERS": "Customers that later features (tags, RFM, needs) are tested on.",
    "DATA_ROW_COUNTS": "Data rows per (file, sheet), garbage included: the accounting total.",
    "ENTITY_OF_ROW": "Every customer record (garbage excluded) -> the real company it is.",
}

TRUTH_TYPES = {
    "AS_OF_DATE": "str",
    "DUPLICATE_GROUPS": "list[dict]",
    "HARD_NEGATIVES": "list[dict]",
    "GARBAGE_ROWS": "list[dict]",
    "ORPHANS": "list[dict]",
    "FOLLOW_UPS": "list[dict]",
    "MESSY_VALUES": "list[dict]",
    "SEED_CUSTOMERS": "dict",
    "DATA_ROW_COUNTS": "dict[tuple[str, str], int]",
    "ENTITY_OF_ROW": "dict[RowRef, str]",
}


def render_truth(truth: dict[str, Any]) -> str:
    """The truth tables as a Python module, laid out the way ruff format would."""
    parts = [TRUTH_HEADER]
    for name, value in truth.items():
        lead = f"{name}: {TRUTH_TYPES[name]} = "
        parts.append(f"# {TRUTH_DOCS[name]}\n{lead}{_literal(value, 0, len(lead))}\n\n")
    return "".join(parts).rstrip("\n") + "\n"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _flat(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flat(k)}: {_flat(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flat(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(_flat(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    assert value is None or isinstance(value, int | float), value
    return repr(value)


def _literal(value: object, indent: int, column: int) -> str:
    """Render `value` flat if it fits (with a trailing comma), else one item per line."""
    flat = _flat(value)
    if column + _width(flat) + 1 <= LINE_LIMIT or not isinstance(value, dict | list | tuple):
        return flat
    inner = indent + 4
    pad = " " * inner
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            lead = f"{pad}{_flat(key)}: "
            lines.append(f"{lead}{_literal(item, inner, _width(lead))},")
        opening, closing = "{", "}"
    else:
        lines = [f"{pad}{_literal(item, inner, inner)}," for item in value]
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
    return opening + "\n" + "\n".join(lines) + "\n" + " " * indent + closing


def main(argv: Sequence[str] | None = None) -> None:
    """Write the sample inbox and the truth module."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="inbox folder to write")
    parser.add_argument("--truth", type=Path, default=DEFAULT_TRUTH, help="truth module to write (tests/...)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    written = write_inbox(args.out)
    truth = build_truth(written)
    check_samples(written, truth)
    args.truth.parent.mkdir(parents=True, exist_ok=True)
    args.truth.write_text(render_truth(truth), encoding="utf-8")
    for (file, sheet), count in written.counts.items():
        log.info("%-32s %-12s %3d data rows", file, sheet, count)
    log.info("truth: %s", args.truth)


if __name__ == "__main__":
    main()
