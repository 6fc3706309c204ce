"""The report opened in a real headless browser: Debian's chromium driven by Playwright.

`.ci/run` installs chromium (and a CJK font) when it is missing. Outside CI, a machine without
chromium skips these tests; in CI (CI=true) a missing browser fails them. The screenshots are
written to test-artifacts/ at the repository root.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from crm_etl.flows.report import write_report
from crm_etl.schemas import load_config
from tests.conftest import REPO

ARTIFACTS = REPO / "test-artifacts"
# As the CI machine runs it: as root, offline, no first-run or background chatter.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and (path := shutil.which(candidate)):
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; .ci/run installs Debian's chromium before the tests")
    pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _open(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    return page, problems, requests


def test_report_renders_kpis_owner_table_and_charts(browser, sample_run):
    summary, con, _ = sample_run
    page, problems, requests = _open(browser, Path(summary.report))
    assert page.title().startswith("客户数据质量报告")

    cards = page.locator("#kpis .kpi")
    assert cards.count() == 9
    for index in range(cards.count()):
        card = cards.nth(index)
        assert card.is_visible()
        assert card.locator(".v").inner_text().strip() not in {"", "–"}
    completeness = page.locator('[data-kpi="completeness"] .v').inner_text()
    assert completeness.endswith("%") and float(completeness[:-1]) > 0

    owners = con.execute("SELECT count(DISTINCT coalesce(owner, '')) FROM customers").fetchone()[0]
    assert page.locator("#owners tr").count() == owners + 1
    assert page.locator("#owners").is_visible()

    charts = page.locator("svg.chart")
    assert charts.count() == 3
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
    bars = page.locator("svg.bars rect.bar")
    assert bars.count() == len(load_config().pipeline.completeness_fields)
    widths = [bars.nth(i).bounding_box()["width"] for i in range(bars.count())]
    assert max(widths) > 100
    assert page.locator("svg.bars line.guide").count() == 2
    assert page.locator("#trend circle.point").count() >= 5

    assert problems == []
    assert all(url.startswith(("file:", "data:")) for url in requests), requests

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000
    page.close()


def test_english_report_renders_without_errors(browser, sample_run, tmp_path):
    summary, _, out = sample_run
    path = write_report(out / "crm.duckdb", tmp_path / "reports", summary.run_id, lang="en")
    page, problems, requests = _open(browser, path)
    assert page.title().startswith("Customer data quality report")
    assert page.locator('[data-kpi="overdue_followups"] .l').inner_text().startswith("Overdue follow-ups")
    assert page.locator("svg.chart").count() == 3
    assert problems == []
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-en.png"), full_page=True)
    page.close()
