"""Created-date windows: GitHub's inclusive syntax for half-open windows on whole seconds."""

from __future__ import annotations

from datetime import UTC, datetime

from auditpack.evidence.sources.github_windows import Window, leaf_windows


def moment(day: int, hour: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 7, day, hour, 0, second, tzinfo=UTC)


def test_query_ends_one_second_before_the_window_does() -> None:
    assert Window(moment(1), moment(2)).query() == "2026-07-01T00:00:00Z..2026-07-01T23:59:59Z"


def test_split_windows_touch_without_sharing_a_second() -> None:
    parts = Window(moment(1), moment(1, second=5)).split(2)

    assert [part.query() for part in parts] == [
        "2026-07-01T00:00:00Z..2026-07-01T00:00:01Z",
        "2026-07-01T00:00:02Z..2026-07-01T00:00:04Z",
    ]
    assert Window(moment(1), moment(1, second=1)).split(2) == []


def test_leaf_windows_split_until_each_is_under_the_cap() -> None:
    totals = {"2026-07-01T12:00:00Z..2026-07-01T17:59:59Z": 5}
    asked: list[str] = []

    def count(window: Window) -> int:
        asked.append(window.query())
        return totals.get(window.query(), 8)

    leaves = list(leaf_windows(Window(moment(1), moment(2)), 30, count, cap=10))

    # 30 over a cap of 10, aiming at 8 a window: ceil(30 / 8) = 4 parts of six hours.
    assert [(window.query()[11:19], total) for window, total in leaves] == [
        ("00:00:00", 8),
        ("06:00:00", 8),
        ("12:00:00", 5),
        ("18:00:00", 8),
    ]
    assert len(asked) == 4
