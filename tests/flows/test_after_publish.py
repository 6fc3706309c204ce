"""flows/after_publish.py: a step after the publish that fails is recorded as that step, never raised."""

from __future__ import annotations

import pytest

from crm_etl.flows.after_publish import AfterPublish, reason


def test_each_failing_step_is_recorded_in_order_and_the_next_one_still_runs(tmp_path):
    blocker = tmp_path / "latest"
    blocker.write_text("a file where a folder must be", encoding="utf-8")
    after = AfterPublish()
    ran = []
    with after.step("latest report"):
        (blocker / "index.html").parent.mkdir(parents=True, exist_ok=True)
    with after.step("snapshot pruning"):
        ran.append("pruning")
    with after.step("cache pruning"):
        raise ValueError("cache key 'x' is not a file")
    after.fail("moving processed files", "a.xlsx: Permission denied (it stays in the inbox)")
    assert ran == ["pruning"]
    assert after.failures == [
        f"latest report failed: {blocker}: File exists",
        "cache pruning failed: ValueError: cache key 'x' is not a file",
        "moving processed files failed: a.xlsx: Permission denied (it stays in the inbox)",
    ]


def test_an_interrupt_is_not_swallowed():
    after = AfterPublish()
    with pytest.raises(KeyboardInterrupt), after.step("snapshot pruning"):
        raise KeyboardInterrupt
    assert after.failures == []


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (FileExistsError(17, "File exists", "reports/latest"), "reports/latest: File exists"),
        (OSError(28, "No space left on device"), "No space left on device"),
        (RuntimeError("boom"), "RuntimeError: boom"),
    ],
    ids=["file", "no-file", "other"],
)
def test_reason(exc, text):
    assert reason(exc) == text
