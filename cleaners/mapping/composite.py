"""Build one field from several columns: 姓 + 名 or First + Last Name, 省 + 市 + 区 + 详细地址."""

from __future__ import annotations

from collections.abc import Sequence

from cleaners.mapping.headers import has_cjk


def compose_field(field: str, parts: Sequence[tuple[str, str]]) -> str | None:
    """One cell of a composite field from its (part, text) cells, non-empty ones only.

    Chinese names join without a space, family name first (张 + 伟 -> 张伟); Latin
    names join given name first (John + Smith -> John Smith). Address parts join in
    order, skipping a part the next one already starts with (广东省 + 广东省深圳市… ->
    广东省深圳市…). `city` takes the city part, else the province.
    """
    values = dict(parts)
    if not values:
        return None
    if field == "contact_name":
        family, given = values.get("family", ""), values.get("given", "")
        if has_cjk(family + given):
            return (family + given) or None
        return " ".join(p for p in (given, family) if p) or None
    if field == "city":
        return values.get("city") or values.get("province")
    if field == "address":
        joined = ""
        for part in ("province", "city", "district", "street"):
            text = values.get(part)
            if not text or text in joined:
                continue
            joined = text if text.startswith(joined) and joined else joined + text
        return joined or None
    return " ".join(v for _, v in parts) or None
