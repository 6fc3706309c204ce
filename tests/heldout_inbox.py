"""The sample inbox with every header rewritten to a held-out spelling (tests/data/heldout_headers.csv).

`write_heldout_inbox(target)` copies `data/samples/` into `target` and rewrites each header to a
spelling of the same field that no file under `schemas/` knows. Only header cells change:

- xlsx: the header cells, via openpyxl load/save; titles, styles, merges and data cells are kept;
- CSV: the header line, in the file's own encoding (GB18030 for the legacy CRM). The bytes after
  the header line are copied unchanged;
- JSON Lines: the keys, renamed in place, so values keep their exact text (the truncated line too).

The spelling is picked deterministically from the held-out file:

- Chinese spellings for the Excel ledgers (`ledger` first, then the other Chinese sources). They
  rotate sheet by sheet, so the three customer sheets do not all read alike;
- English CRM spellings (`zoho`, `salesforce`, `hubspot`) for the legacy CRM CSVs;
- snake_case `webform` keys for the JSON Lines form.

A spelling whose hint states a date order or a unit (年/月/日, MM/DD/YYYY, 万元) is never picked,
because it would contradict the cells below it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples"
HELDOUT_CSV = Path(__file__).resolve().parent / "data" / "heldout_headers.csv"

EAST = "销售台账_华东_张伟.xlsx"
SOUTH = "销售台账_华南_李娜.xlsx"

# What every header of the samples means (see data/make_samples.py and data/README.md), per
# (file, sheet): the record type and {header: canonical field, or None for no canonical field}.
SAMPLE_TABLES: dict[tuple[str, str], tuple[str, dict[str, str | None]]] = {
    (EAST, "客户台账"): (
        "customers",
        {
            "客户编号": "legacy_id",
            "客户名称": "customer_name",
            "联系人": "contact_name",
            "职位": "contact_title",
            "手机": "mobile",
            "座机": "phone",
            "邮箱": "email",
            "所属行业": "industry",
            "客户类型": "customer_type",
            "首次接触时间": "first_contact_date",
            "客户来源": "source_channel",
            "负责人": "owner",
            "备注": "remark",
        },
    ),
    (SOUTH, "重点客户"): (
        "customers",
        {
            "公司名称": "customer_name",
            "对接人": "contact_name",
            "职务": "contact_title",
            "联系电话": "phone",
            "电子邮箱": "email",
            "行业": "industry",
            "类型": "customer_type",
            "接触日期": "first_contact_date",
            "渠道": "source_channel",
            "跟进人": "owner",
            "城市": "city",
            "公司规模": "employee_count",
        },
    ),
    (SOUTH, "2024新客户"): (
        "customers",
        {
            "客户名称": "customer_name",
            "联系人": "contact_name",
            "手机号": "mobile",
            "邮件": "email",
            "所属行业": "industry",
            "客户状态": "customer_type",
            "首次联系日期": "first_contact_date",
            "来源": "source_channel",
            "销售": "owner",
        },
    ),
    (SOUTH, "跟进记录"): (
        "interactions",
        {
            "日期": "date",
            "客户名称": "customer_name",
            "跟进方式": "channel",
            "参与人员": "participants",
            "沟通内容": "content",
            "客户反馈": "feedback",
            "待办事项": "todo",
            "跟进人": "owner",
        },
    ),
    ("legacy_crm/accounts.csv", ""): (
        "customers",
        {
            "Record Id": "legacy_id",
            "Account Name": "customer_name",
            "Contact Name": "contact_name",
            "Title": "contact_title",
            "Mobile": "mobile",
            "Phone": "phone",
            "Email": "email",
            "Industry": "industry",
            "Account Type": "customer_type",
            "Created Time": "first_contact_date",
            "Lead Source": "source_channel",
            "Account Owner": "owner",
            "City": "city",
            "Employees": "employee_count",
        },
    ),
    ("legacy_crm/orders.csv", ""): (
        "orders",
        {
            "Order Id": "order_id",
            "Account Id": "customer_ref",
            "Order Date": "order_date",
            "Product": "product",
            "Quantity": "quantity",
            "Amount (CNY)": "amount_cny",
            "Owner": "owner",
        },
    ),
    ("legacy_crm/interactions.csv", ""): (
        "interactions",
        {
            "Activity Id": "interaction_id",
            "Account Id": "customer_ref",
            "Activity Date": "date",
            "Activity Type": "channel",
            "Participants": "participants",
            "Description": "content",
            "Customer Feedback": "feedback",
            "Next Step": "todo",
            "Assigned To": "owner",
        },
    ),
    ("web_forms.jsonl", ""): (
        "customers",
        {
            "submission_id": "legacy_id",
            "company": "customer_name",
            "name": "contact_name",
            "job_title": "contact_title",
            "phone": "mobile",
            "email": "email",
            "industry": "industry",
            "submitted_at": "first_contact_date",
            "event": "source_channel",
            "city": "city",
            "interest": "core_need",
        },
    ),
}

# Origins whose spellings fit each file kind, in tiers: an earlier tier is preferred.
KIND_ORIGINS: dict[str, tuple[tuple[str, ...], ...]] = {
    "xlsx": (("ledger",), ("tradeshow", "erp", "wukong", "fxiaoke", "xiaoshouyi", "wecom")),
    "csv": (("zoho", "salesforce", "hubspot"),),
    "jsonl": (("webform",),),
}
CJK = re.compile(r"[\u3400-\u9fff]")
SNAKE_KEY = re.compile(r"[a-z][a-z0-9_]*")
# A bracketed hint that fixes a date order or a unit: true of some exports, false of the samples.
CONTRADICTING_HINT = re.compile(r"[(（][^)）]*(?:[年月日万千]|YYYY|MM|DD)[^)）]*[)）]", re.IGNORECASE)
# A JSON object key: an opening brace or comma, a string token, then a colon.
JSON_KEY = re.compile(r'(?P<lead>[{,]\s*)(?P<key>"(?:[^"\\]|\\.)*")(?P<colon>\s*:)')


@dataclass(frozen=True)
class HeldOut:
    """One row of tests/data/heldout_headers.csv."""

    record_type: str
    header: str
    field: str
    origin: str


def load_heldout(path: Path = HELDOUT_CSV) -> list[HeldOut]:
    """The held-out spellings, in file order."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [HeldOut(**row) for row in csv.DictReader(handle)]


def file_kind(file: str) -> str:
    """'xlsx', 'csv' or 'jsonl', from the file name."""
    return Path(file).suffix.lstrip(".").lower()


def fits(kind: str, header: str) -> bool:
    """Whether `header` is written the way a file of `kind` writes its headers."""
    if kind == "xlsx":
        return bool(CJK.search(header))
    if kind == "jsonl":
        return bool(SNAKE_KEY.fullmatch(header))
    return header.isascii()


def candidates(rows: Iterable[HeldOut], record_type: str, field: str, kind: str) -> list[str]:
    """Held-out spellings of `field` that fit a file of `kind`, preferred first."""
    tiers = KIND_ORIGINS[kind]
    tier_of = {origin: rank for rank, tier in enumerate(tiers) for origin in tier}
    pool = [
        row
        for row in rows
        if row.record_type == record_type
        and row.field == field
        and row.origin in tier_of
        and fits(kind, row.header)
        and not CONTRADICTING_HINT.search(row.header)
    ]
    pool.sort(key=lambda row: tier_of[row.origin])  # stable: file order inside a tier
    return [row.header for row in pool]


def _key(header: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", header)).lower()


def plan_headers(
    rows: list[HeldOut], file: str, sheet: str, headers: list[str], variant: int = 0
) -> dict[str, str]:
    """{old: new} for the headers of one table; a header without a held-out spelling is left out.

    `variant` rotates the choice among the candidates, so that sibling sheets differ. A spelling
    that equals another header of the table (old or new) is skipped.
    """
    record_type, fields = SAMPLE_TABLES[(file, sheet)]
    unknown = [h for h in headers if h not in fields]
    if unknown:
        raise KeyError(f"{file} {sheet}: headers not described in SAMPLE_TABLES: {unknown}")
    taken = {_key(h) for h in headers}
    plan: dict[str, str] = {}
    for header in headers:
        field = fields[header]
        if field is None:
            continue
        options = candidates(rows, record_type, field, file_kind(file))
        for i in range(len(options)):
            new = options[(variant + i) % len(options)]
            if _key(new) not in taken:
                plan[header] = new
                taken.add(_key(new))
                break
    return plan


def table_key(file: str, sheet: str) -> str:
    """Key of a table in the returned map: the file, and `#sheet` for a workbook's sheet."""
    return f"{file}#{sheet}" if sheet else file


def find_header_row(sheet: Worksheet, headers: Iterable[str]) -> int:
    """The 1-based row holding exactly `headers` (title rows above it are skipped)."""
    wanted = set(headers)
    for row in sheet.iter_rows(min_row=1, max_row=min(sheet.max_row, 10)):
        values = {cell.value for cell in row if cell.value is not None}
        if values == wanted:
            return row[0].row
    raise ValueError(f"{sheet.title}: no header row with {sorted(wanted)}")


def _rewrite_workbook(
    path: Path, file: str, rows: list[HeldOut], variants: dict[str, int]
) -> dict[str, dict[str, str]]:
    workbook = openpyxl.load_workbook(path)
    maps: dict[str, dict[str, str]] = {}
    for sheet in workbook.worksheets:
        record_type, fields = SAMPLE_TABLES[(file, sheet.title)]
        header_row = find_header_row(sheet, fields)
        cells = [cell for cell in sheet[header_row] if cell.value is not None]
        variant = variants.get(record_type, 0)
        variants[record_type] = variant + 1
        plan = plan_headers(rows, file, sheet.title, [str(cell.value) for cell in cells], variant)
        for cell in cells:
            cell.value = plan.get(str(cell.value), cell.value)
        maps[table_key(file, sheet.title)] = plan
    workbook.save(path)
    return maps


def _csv_encoding(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _rewrite_csv(path: Path, file: str, rows: list[HeldOut]) -> dict[str, str]:
    raw = path.read_bytes()
    encoding = _csv_encoding(raw)
    end = raw.index(b"\n") + 1  # the samples' headers hold no quoted line break
    line = raw[:end].decode(encoding)
    terminator = "\r\n" if line.endswith("\r\n") else "\n"
    headers = next(csv.reader([line.rstrip("\r\n")]))
    plan = plan_headers(rows, file, "", headers)
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator=terminator).writerow([plan.get(h, h) for h in headers])
    path.write_bytes(buffer.getvalue().encode(encoding) + raw[end:])
    return plan


def _rewrite_jsonl(path: Path, file: str, rows: list[HeldOut]) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    keys: dict[str, None] = {}
    for line in lines:
        for match in JSON_KEY.finditer(line):
            keys[json.loads(match["key"])] = None
    order = list(SAMPLE_TABLES[(file, "")][1])
    plan = plan_headers(
        rows, file, "", sorted(keys, key=lambda k: order.index(k) if k in order else len(order))
    )

    def rename(match: re.Match[str]) -> str:
        key = json.loads(match["key"])
        if key not in plan:
            return match[0]
        return match["lead"] + json.dumps(plan[key], ensure_ascii=False) + match["colon"]

    out = []
    for line in lines:
        new = JSON_KEY.sub(rename, line)
        try:
            before = json.loads(line)
        except json.JSONDecodeError:
            pass  # a broken line keeps its break; its keys are renamed all the same
        else:
            after = {plan.get(k, k): v for k, v in before.items()}
            if json.loads(new) != after or list(json.loads(new)) != list(after):
                raise ValueError(f"{file}: renaming keys changed a value in {line!r}")
        out.append(new)
    path.write_text("".join(out), encoding="utf-8")
    return plan


def write_heldout_inbox(target: Path, samples: Path = SAMPLES) -> dict[str, dict[str, str]]:
    """Copy the sample inbox into `target` with held-out headers; return {table: {old: new}}.

    The table is the file path relative to the inbox ("/"-separated), with `#sheet` appended for
    a workbook's sheet (a workbook's sheets have different headers). Headers that mean no
    canonical field, or have no held-out spelling, keep their text and are not in the map.
    """
    rows = load_heldout()
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(samples, target, dirs_exist_ok=True)
    maps: dict[str, dict[str, str]] = {}
    variants: dict[str, int] = {}
    for source in sorted(p for p in samples.rglob("*") if p.is_file()):
        file = source.relative_to(samples).as_posix()
        path = target / file
        kind = file_kind(file)
        if kind == "xlsx":
            maps.update(_rewrite_workbook(path, file, rows, variants))
        elif kind == "csv":
            maps[file] = _rewrite_csv(path, file, rows)
        elif kind == "jsonl":
            maps[file] = _rewrite_jsonl(path, file, rows)
        else:
            raise ValueError(f"{file}: not a kind of sample file this writer knows")
    return maps
