"""The rules of issue 12 on full company names: identical registered names, branches, look-alikes,
a person who moved, and the trade name and deletion variants that feed them."""

from __future__ import annotations

import polars as pl
import pytest

from crm_etl.cleaners.company import company_legal_name, company_trade_name


def _person(name: str, mobile: str) -> dict:
    return {"contact_key": name, "mobile": mobile}


ACCOUNT = {"customer_name": "上海宏达机械制造有限公司", **_person("jian guo chen", "+8613816881234")}

# Cases on full company names (test_dedupe.py runs them with its own must-merge pairs).
NAME_MUST_MERGE = [
    # A contacts export lists other people of the company: the registered name is all they share.
    pytest.param(ACCOUNT, {"customer_name": "上海宏达机械制造有限公司", **_person("li na", "+8613900001111")},
                 id="identical-registered-name-other-person"),
    pytest.param(ACCOUNT, {"customer_name": "宏达机械制造（上海）有限公司", **_person("wang fang", "+8613700002222")},
                 id="place-moved-into-brackets"),
    pytest.param({**ACCOUNT, "customer_name": "上海宏达集团有限公司"},
                 {"customer_name": "上海宏达（集团）有限公司", **_person("wang fang", "+8613700002222")},
                 id="group-in-brackets"),
    pytest.param(ACCOUNT, {"customer_name": "上海宏達機械製造有限公司", **_person("zhao lei", "+8613600003333")},
                 id="traditional-characters"),
    pytest.param(ACCOUNT, {**ACCOUNT, "customer_name": "上海宏达机械", "mobile": "+8613816881235"},
                 id="abbreviation-with-a-one-digit-mobile-typo"),
    pytest.param({**ACCOUNT, "customer_name": "上海振好包装材料有限公司"},
                 {**ACCOUNT, "customer_name": "上海好包装材料有限公司", "mobile": None},
                 id="a-dropped-character-and-the-same-contact-and-mobile"),
]  # fmt: skip

NAME_MUST_NOT_MERGE = [
    pytest.param(ACCOUNT, {"customer_name": "上海宏达机械制造有限公司北京分公司", **_person("li na", "+8613900001111")},
                 id="a-branch-is-its-own-customer"),
    pytest.param(ACCOUNT, {"customer_name": "北京宏达机械制造有限公司", **_person("li na", "+8613900001111")},
                 id="another-place-is-another-registration"),
    pytest.param({"customer_name": "深圳华为技术有限公司", **_person("wei zhang", "+8613800000001")},
                 {"customer_name": "深圳华伟技术有限公司", **_person("qiang li", "+8613800000002")},
                 id="look-alike-names"),
    pytest.param({"customer_name": "华为技术", **_person("wei zhang", "+8613800000001")},
                 {"customer_name": "华伟技术", **_person("qiang li", "+8613800000002")},
                 id="look-alike-short-names"),
    # The person moved to another company and took the mobile along.
    pytest.param(ACCOUNT, {"customer_name": "苏州瑞丰机械制造有限公司", **_person("jian guo chen", "+8613816881234")},
                 id="a-person-who-moved"),
    pytest.param(
        {"source_system": "legacy_crm", "legacy_id": "ACC-1", "industry_code": "C", "city": "上海", **ACCOUNT},
        {"source_system": "legacy_crm", "legacy_id": "ACC-2", "industry_code": "F", "city": "北京",
         "customer_name": "上海宏达机械制造有限公司", **_person("li na", "+8613900001111")},
        id="one-system-keeps-two-ids-with-clearly-different-data"),
]  # fmt: skip


def _clusters(*rows: dict) -> list[int]:
    from tests.cleaners.test_dedupe import _clusters as clusters

    return clusters(*rows)


def test_a_hundred_people_of_one_company_attach_to_it() -> None:
    people = [
        {"customer_name": "上海宏达机械制造有限公司", **_person(f"person {i}", f"+86139{i:08d}")}
        for i in range(150)
    ]
    # More than any all-pairs block allows: the star blocking of identical names still joins them.
    assert set(_clusters(ACCOUNT, *people)) == {0}


def test_the_same_person_at_another_company_still_merges_with_more_evidence() -> None:
    moved = {"customer_name": "上海瑞丰机械制造有限公司", **_person("jian guo chen", "+8613816881234")}
    both = {**moved, "email": "chen@hongda.com"}
    assert _clusters({**ACCOUNT, "email": "chen@hongda.com"}, both) == [0, 0]
    # A free-mail address two people happen to share the provider of is no such evidence.
    assert _clusters({**ACCOUNT, "email": "1234@qq.com"}, {**moved, "email": "5678@qq.com"}) == [0, 1]


@pytest.mark.parametrize(
    ("name", "legal"),
    [
        ("宏达机械（上海）有限公司", "上海宏达机械有限公司"),
        ("上海市宏达机械有限公司", "上海宏达机械有限公司"),
        ("宏達機械(上海)有限公司 ", "上海宏达机械有限公司"),
        ("宏达（集团）有限公司", "宏达集团有限公司"),
        ("宏达机械有限公司北京分公司", "宏达机械有限公司北京分公司"),
        ("上海 宏达 机械 有限公司", "上海宏达机械有限公司"),
        ("宏达机械", None),  # no legal form: not a registered name
        ("宏达公司", None),
        ("Acme Co., Ltd.", None),
    ],
)
def test_legal_name(name: str, legal: str | None) -> None:
    assert company_legal_name(pl.Series([name])).to_list() == [legal]


def test_trade_name_drops_what_the_company_does() -> None:
    keys = pl.Series(["宏达机械制造", "易友机械制造", "科技", "智联恒通科技", None])
    assert company_trade_name(keys).to_list() == ["宏达", "易友", "科技", "智联恒通", None]
