"""Created-date windows for run listings, split until each is under GitHub's 1,000-result cap.

A window is half-open on whole seconds, [start, end): GitHub's `created` filter takes an
inclusive range `A..B`, and run creation times have whole seconds, so `start..end-1s`
selects exactly the window. Adjacent windows then share no second: a run created at an
edge lands in one window, never in both and never in neither.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

LISTING_CAP = 1000  # a filtered run listing stops here whatever total_count says
_SECOND = timedelta(seconds=1)
# Aim below the cap when splitting: runs are rarely spread evenly over a window.
_FILL = 0.8


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())

    def query(self) -> str:
        """GitHub's search syntax for this window: both ends inclusive, to the second."""
        return f"{_stamp(self.start)}..{_stamp(self.end - _SECOND)}"

    def split(self, parts: int) -> list[Window]:
        """`parts` windows of near-equal whole seconds; [] when the window is one second."""
        parts = min(parts, self.seconds)
        if parts < 2:
            return []
        edges = [self.start + _SECOND * (self.seconds * index // parts) for index in range(parts)]
        edges.append(self.end)
        return [Window(left, right) for left, right in itertools.pairwise(edges)]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parts_for(total: int, cap: int = LISTING_CAP) -> int:
    return max(2, math.ceil(total / (cap * _FILL)))


def leaf_windows(
    window: Window, total: int, count: Callable[[Window], int], cap: int = LISTING_CAP
) -> Iterator[tuple[Window, int]]:
    """Windows under the cap with their totals, oldest first; `count` asks GitHub for a total.

    A one-second window still over the cap cannot be split: it is yielded as it is and the
    caller records the population as incomplete.
    """
    if total <= cap:
        yield window, total
        return
    parts = window.split(parts_for(total, cap))
    if not parts:
        yield window, total
        return
    for part in parts:
        yield from leaf_windows(part, count(part), count, cap)
