"""Charts of the pack, drawn with matplotlib as SVG text: byte-identical for the same figures."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from auditpack.controls.results import GateAssessment
from auditpack.evidence.model import SEVERITIES_WORST_FIRST, Severity

SEVERITY_COLOURS = {
    Severity.CRITICAL: "#7f1d1d",
    Severity.HIGH: "#dc2626",
    Severity.MEDIUM: "#f59e0b",
    Severity.LOW: "#93c5fd",
    Severity.NONE: "#d1d5db",
}
# Coverage cells: 0 the repository was not active for the gate, 1 active but the gate never
# ran there in the period (a gap), 2 the gate ran.
_COVERAGE_COLOURS = ListedColormap(["#f3f4f6", "#dc2626", "#15803d"])
_STYLE: dict[Any, Any] = {
    "svg.hashsalt": "auditpack",  # fixed ids: the same pack gives the same bytes
    "svg.fonttype": "none",  # text stays text, set in the document's own font
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass(frozen=True)
class Coverage:
    """Which repositories each gate reached; `shown` rows are the ones drawn."""

    shown: tuple[str, ...]
    hidden_full: int  # repositories every gate reached, left out of the picture
    hidden_other: int  # repositories with a gap that did not fit


def severity_by_gate(gates: Sequence[GateAssessment]) -> str:
    """Open findings by severity for each scanning gate, as stacked horizontal bars."""
    scanned = [gate for gate in gates if gate.runtime is None]
    names = [gate.gate.name for gate in scanned]
    with _figure(6.6, 0.42 * len(names) + 1.0) as figure:
        axes = figure.add_subplot()
        left = [0] * len(scanned)
        for severity in SEVERITIES_WORST_FIRST:
            counts = [gate.open_by_severity.get(severity, 0) for gate in scanned]
            axes.barh(
                names,
                counts,
                left=left,
                color=SEVERITY_COLOURS[severity],
                label=severity.value,
                height=0.6,
            )
            left = [a + b for a, b in zip(left, counts, strict=True)]
        axes.invert_yaxis()
        axes.set_xlabel("open findings in each repository's latest scan")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(ncols=5, loc="lower center", bbox_to_anchor=(0.4, 1.0), frameon=False)
        return _svg(figure)


def pass_rate_by_week(gates: Sequence[GateAssessment]) -> str:
    """Share of each CI gate's executions that passed, week by week; gaps where it never ran."""
    ran = [gate for gate in gates if gate.weekly and gate.executions]
    with _figure(6.6, 2.6) as figure:
        axes = figure.add_subplot()
        for gate in ran:
            weeks = mdates.date2num([week.week_start for week in gate.weekly])
            rates = [
                100 * week.passed / week.executions if week.executions else float("nan")
                for week in gate.weekly
            ]
            axes.plot(weeks, rates, marker="o", markersize=2.5, linewidth=1.2, label=gate.gate.name)
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        axes.set_ylim(0, 105)
        axes.set_ylabel("executions passed (%)")
        axes.set_xlabel("week starting (Monday, UTC)")
        axes.tick_params(axis="x", labelsize=6.5)
        figure.autofmt_xdate(rotation=30, ha="right")
        axes.legend(
            ncols=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=6.5
        )
        return _svg(figure)


def coverage_rows(
    repositories: Sequence[str], gates: Sequence[GateAssessment], limit: int
) -> Coverage:
    """The repositories worth drawing: all when they fit, else those with gaps, most first."""
    missing = {
        repo: sum(repo in gate.repositories_missing for gate in gates) for repo in repositories
    }
    if len(repositories) <= limit:
        return Coverage(tuple(repositories), 0, 0)
    with_gaps = sorted((r for r in repositories if missing[r]), key=lambda r: (-missing[r], r))
    full = len(repositories) - len(with_gaps)
    return Coverage(tuple(with_gaps[:limit]), full, max(0, len(with_gaps) - limit))


def coverage_heatmap(coverage: Coverage, gates: Sequence[GateAssessment]) -> str:
    """Repository × gate: green where the gate ran in the period, red where it should have."""
    cells = [[_coverage_cell(repo, gate) for gate in gates] for repo in coverage.shown]
    height = 0.15 * len(coverage.shown) + 1.3
    with _figure(6.6, height) as figure:
        axes = figure.add_subplot()
        # pcolormesh stays vector in SVG; imshow would embed a PNG the fetcher must refuse.
        axes.pcolormesh(
            cells, cmap=_COVERAGE_COLOURS, vmin=0, vmax=2, edgecolors="white", linewidth=0.6
        )
        axes.invert_yaxis()
        axes.set_xticks(
            [i + 0.5 for i in range(len(gates))],
            [g.gate.name for g in gates],
            rotation=20,
            ha="left",
            rotation_mode="anchor",
        )
        axes.xaxis.tick_top()
        axes.set_yticks([i + 0.5 for i in range(len(coverage.shown))], coverage.shown, fontsize=6.5)
        axes.tick_params(length=0)
        for spine in axes.spines.values():
            spine.set_visible(False)
        return _svg(figure)


def _coverage_cell(repository: str, gate: GateAssessment) -> int:
    if repository in gate.repositories:
        return 2
    return 1 if repository in gate.repositories_missing else 0


@contextmanager
def _figure(width: float, height: float) -> Iterator[Figure]:
    with mpl.rc_context(_STYLE):
        yield Figure(figsize=(width, height), layout="constrained")


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    # No Date in the metadata: the chart must not change with the clock.
    figure.savefig(buffer, format="svg", metadata={"Date": None}, transparent=True)
    return buffer.getvalue()
