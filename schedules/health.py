"""Source health from one run's facts and the runs before it: never a silent failure.

OK; EMPTY (nothing listed); BLOCKED (anti-bot answers instead of pages); FAILING (the run failed, or
errors on consecutive runs); LAYOUT_CHANGED (pages fetched but not understood where earlier runs
understood them).
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.models import CrawlRun

OK, EMPTY, BLOCKED, FAILING, LAYOUT_CHANGED = "OK", "EMPTY", "BLOCKED", "FAILING", "LAYOUT_CHANGED"


def _first_problem(run: CrawlRun, word: str = "") -> str:
    lines = (run.error or "").splitlines()
    return next((ln for ln in lines if word in ln), lines[0] if lines else "")


def assess(run: CrawlRun, previous: Sequence[CrawlRun]) -> tuple[str, str | None]:
    """`previous`: earlier runs of the source that ran (not skipped/coalesced), newest first."""
    parsed = run.new + run.changed + run.unchanged
    if run.status == "interrupted":
        return (previous[0].health or OK, None) if previous else (OK, None)
    if run.blocked and (parsed == 0 or run.blocked * 2 >= run.fetched):
        return BLOCKED, f"{run.blocked} anti-bot answers: {_first_problem(run, 'blocked')}"
    if run.layout_problems:
        return LAYOUT_CHANGED, f"list pages not understood: {_first_problem(run)}"
    if (
        parsed >= 3
        and run.no_metadata >= 0.9 * parsed
        and any(p.new + p.changed + p.unchanged > p.no_metadata for p in previous)
    ):
        return LAYOUT_CHANGED, (f"{run.no_metadata} documents without a metadata table, where earlier runs found one")
    if run.status == "failed":
        return FAILING, f"run failed: {_first_problem(run)}"
    if run.errors and previous and (previous[0].errors or previous[0].status == "failed"):
        streak = 1 + next((i for i, p in enumerate(previous) if not (p.errors or p.status == "failed")), len(previous))
        return FAILING, f"errors on {streak} consecutive runs: {_first_problem(run)}"
    if run.listed == 0:
        before = next((p.listed for p in previous if p.listed), 0)
        return EMPTY, ("nothing listed" + (f" where the last runs listed {before}" if before else ""))
    return OK, None
