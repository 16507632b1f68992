"""Assessing each gate and control for a period from what the locker holds: the gap analysis.

The questions are the auditor's: did the gate run, on every active repository and all
through the period; did it block when findings crossed its threshold; what is still open.
Every figure keeps the ids of the locker items it was computed from.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from auditpack.controls.matrix import Control, ControlMatrix, Gate
from auditpack.controls.period import Period
from auditpack.controls.results import (
    Assessment,
    ControlAssessment,
    Gap,
    GateAssessment,
    Reason,
    RuntimeCoverage,
    Status,
    WeekFigures,
)
from auditpack.controls.runtime import assess_runtime
from auditpack.controls.worm import worm_summary
from auditpack.evidence.locker import Locker, from_db_time, to_db_time
from auditpack.evidence.model import (
    EvidenceGap,
    Finding,
    GapKind,
    GateExecution,
    Outcome,
    Severity,
)


@dataclass(frozen=True)
class Scan:
    """One SARIF run of a gate in the period."""

    item_id: int
    run_index: int
    repository: str
    tool: str
    category: str
    produced_at: datetime
    run_id: int | None
    rule_count: int | None = None  # rules the tool listed; None for lockers from before


@dataclass(frozen=True)
class Execution:
    execution: GateExecution
    created_at: datetime
    item_id: int


@dataclass
class _Evidence:
    """What the locker holds for one period, read once."""

    executions: dict[str, list[Execution]]
    scans: dict[str, list[Scan]]
    run_items: dict[tuple[str, int], int]  # (repository, run id) -> runs listing item
    active_repositories: tuple[str, ...]
    gaps: tuple[EvidenceGap, ...]


def assess(locker: Locker, matrix: ControlMatrix, period: Period) -> Assessment:
    evidence = _read(locker, period)
    gates = tuple(_assess_gate(locker, gate, period, evidence) for gate in matrix.gates)
    by_id: dict[str, GateAssessment] = {assessed.gate.id: assessed for assessed in gates}
    controls = tuple(
        _assess_control(control, matrix, by_id) for control in matrix.mapped_controls()
    )
    coverage: Counter[tuple[str, str]] = Counter(
        (execution.execution.repository, gate_id)
        for gate_id, executions in evidence.executions.items()
        for execution in executions
    )
    return Assessment(
        period=period,
        matrix=matrix,
        gates=gates,
        controls=controls,
        gaps=_gap_list(gates, matrix),
        evidence_gaps=evidence.gaps,
        repositories=evidence.active_repositories,
        status_counts=dict(Counter(control.status for control in controls)),
        coverage=dict(coverage),
        retention=worm_summary(locker, period),
    )


# Reading the locker ---------------------------------------------------------------------


def _read(locker: Locker, period: Period) -> _Evidence:
    start, end = to_db_time(period.start), to_db_time(period.end)
    executions: dict[str, list[Execution]] = defaultdict(list)
    in_period_runs = {
        (run.repository, run.run_id, run.attempt): run
        for run in locker.runs()
        if period.contains(run.created_at)
    }
    run_rows = locker.query(
        "SELECT repository, run_id, item_id FROM runs WHERE created_at >= ? AND created_at < ?",
        (start, end),
    )
    run_items = {(row["repository"], row["run_id"]): row["item_id"] for row in run_rows}
    for item_id, execution in locker.execution_rows():
        run = in_period_runs.get((execution.repository, execution.run_id, execution.attempt))
        moment = run.created_at if run is not None else execution.started_at
        if moment is not None and period.contains(moment):
            executions[execution.gate].append(Execution(execution, moment, item_id))
    scans = _scans(locker, start, end)
    repositories: set[str] = {run.repository for run in in_period_runs.values()}
    repositories.update(scan.repository for found in scans.values() for scan in found)
    repositories.discard("")
    return _Evidence(
        executions=executions,
        scans=scans,
        run_items=run_items,
        active_repositories=tuple(sorted(repositories)),
        gaps=tuple(locker.gaps()),
    )


def _scans(locker: Locker, start: str | None, end: str | None) -> dict[str, list[Scan]]:
    rows = locker.query(
        """SELECT s.item_id, s.run_index, s.tool, s.category, s.gate, s.rule_count,
                  i.repository, i.produced_at, i.run_id
           FROM sarif_runs s JOIN items i ON i.id = s.item_id
           WHERE s.gate IS NOT NULL AND i.produced_at >= ? AND i.produced_at < ?
           ORDER BY i.produced_at, s.item_id, s.run_index""",
        (start, end),
    )
    scans: dict[str, list[Scan]] = defaultdict(list)
    for row in rows:
        produced = from_db_time(row["produced_at"])
        assert produced is not None
        scans[row["gate"]].append(
            Scan(
                item_id=row["item_id"],
                run_index=row["run_index"],
                repository=row["repository"] or "",
                tool=row["tool"],
                category=row["category"] or "",
                produced_at=produced,
                run_id=row["run_id"],
                rule_count=row["rule_count"],
            )
        )
    return scans


def _findings_of(locker: Locker, scans: list[Scan]) -> dict[tuple[int, int], list[Finding]]:
    """Findings of the given scans, keyed by (item id, run index)."""
    found: dict[tuple[int, int], list[Finding]] = defaultdict(list)
    for item_id in sorted({scan.item_id for scan in scans}):
        for run_index, finding in locker.findings_of(item_id):
            found[(item_id, run_index)].append(finding)
    return found


# One gate ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GateFacts:
    """What the locker shows of one gate in the period, before any judgement."""

    executions: list[Execution]
    scans: list[Scan]
    latest: list[Scan]
    unblocked: list[Scan]
    outcomes: Counter[Outcome]
    covered: tuple[str, ...]
    missing: tuple[str, ...]
    gaps: tuple[EvidenceGap, ...]
    open_counts: Counter[Severity]
    suppressed: int
    above: int
    empty: tuple[Scan, ...] = ()  # latest scans listing no rule and no result


def _assess_gate(locker: Locker, gate: Gate, period: Period, evidence: _Evidence) -> GateAssessment:
    if gate.runtime:
        return _assess_runtime_gate(locker, gate, period, evidence)
    facts = _gate_facts(locker, gate, evidence)
    reasons, status = _judge(gate, period, facts)
    passed, failed = facts.outcomes[Outcome.PASSED], facts.outcomes[Outcome.FAILED]
    return GateAssessment(
        gate=gate,
        status=status,
        reasons=reasons,
        repositories=facts.covered,
        repositories_missing=facts.missing,
        executions=len(facts.executions),
        passed=passed,
        failed=failed,
        other_outcomes=len(facts.executions) - passed - failed,
        scans=len(facts.scans),
        open_by_severity={severity: facts.open_counts[severity] for severity in Severity},
        suppressed=facts.suppressed,
        above_threshold=facts.above,
        unblocked_breaches=len(facts.unblocked),
        last_evidence_at=_last_evidence(facts.executions, facts.scans),
        item_ids=_item_ids(facts.executions, facts.scans, evidence),
        evidence_gaps=facts.gaps,
        weekly=_weekly(period, facts.executions),
    )


def _gate_facts(locker: Locker, gate: Gate, evidence: _Evidence) -> _GateFacts:
    executions = evidence.executions.get(gate.id, [])
    scans = evidence.scans.get(gate.id, [])
    findings = _findings_of(locker, scans)
    latest = _latest_scans(scans)
    open_counts: Counter[Severity] = Counter()
    suppressed = above = 0
    for scan in latest:
        for finding in findings.get((scan.item_id, scan.run_index), []):
            if finding.suppressed:
                suppressed += 1
                continue
            open_counts[finding.severity] += 1
            above += gate.threshold.breached_by(finding)
    covered = {e.execution.repository for e in executions} | {s.repository for s in scans}
    covered.discard("")
    return _GateFacts(
        executions=executions,
        scans=scans,
        latest=latest,
        unblocked=_unblocked_breaches(gate, scans, findings, executions),
        outcomes=Counter(execution.execution.outcome for execution in executions),
        covered=tuple(sorted(covered)),
        missing=tuple(
            repo
            for repo in evidence.active_repositories
            if repo not in covered and gate.applies(repo)
        ),
        gaps=tuple(gap for gap in evidence.gaps if gap.gate == gate.id),
        open_counts=open_counts,
        suppressed=suppressed,
        above=above,
        empty=tuple(
            scan
            for scan in latest
            if scan.rule_count == 0 and not findings.get((scan.item_id, scan.run_index))
        ),
    )


def _latest_scans(scans: list[Scan]) -> list[Scan]:
    """What is still open: the last scan of each repository by each tool and category."""
    latest: dict[tuple[str, str, str], Scan] = {}
    for scan in scans:  # in time order
        latest[(scan.repository, scan.tool, scan.category)] = scan
    return list(latest.values())


def _unblocked_breaches(
    gate: Gate,
    scans: list[Scan],
    findings: dict[tuple[int, int], list[Finding]],
    executions: list[Execution],
) -> list[Scan]:
    """Scans that crossed the threshold in a run where the gate still passed."""
    outcomes: dict[tuple[str, int], set[Outcome]] = defaultdict(set)
    for execution in executions:
        key = (execution.execution.repository, execution.execution.run_id)
        outcomes[key].add(execution.execution.outcome)
    unblocked = []
    for scan in scans:
        if scan.run_id is None:
            continue
        ran = outcomes.get((scan.repository, scan.run_id), set())
        breached = any(
            gate.threshold.breached_by(finding)
            for finding in findings.get((scan.item_id, scan.run_index), [])
        )
        if breached and Outcome.PASSED in ran and Outcome.FAILED not in ran:
            unblocked.append(scan)
    return unblocked


def _judge(gate: Gate, period: Period, facts: _GateFacts) -> tuple[tuple[Reason, ...], Status]:
    """The status and the sentences behind it, worst first."""
    if not facts.executions and not facts.scans:
        text = f"No run of the {gate.name} gate and no scanner output in {period.label}."
        return (Reason(text),), Status.NO_EVIDENCE
    failing = _failing(gate, facts)
    partial = _shortfalls(period, facts)
    holding = _what_held(facts) + _empty_scans(facts)
    if failing:
        return tuple(failing + partial + holding), Status.NOT_EFFECTIVE
    if partial:
        return tuple(partial + holding), Status.PARTIALLY_EFFECTIVE
    return tuple(holding), Status.EFFECTIVE


def _failing(gate: Gate, facts: _GateFacts) -> list[Reason]:
    if not facts.unblocked:
        return []
    text = (
        f"{len(facts.unblocked)} scan(s) found findings at or above the threshold "
        f"({gate.threshold.describe()}) while the gate passed: it did not block."
    )
    return [Reason(text, tuple(sorted({scan.item_id for scan in facts.unblocked})))]


def _shortfalls(period: Period, facts: _GateFacts) -> list[Reason]:
    reasons = []
    if facts.missing:
        reasons.append(
            Reason(
                f"The gate did not run on {len(facts.missing)} of the repositories active in the "
                f"period: {_some(facts.missing)}."
            )
        )
    idle = _idle_weeks(period, facts.executions, facts.scans)
    if idle:
        shown = ", ".join(week.isoformat() for week in idle[:6]) + ("..." if len(idle) > 6 else "")
        reasons.append(
            Reason(
                f"No run of the gate in {len(idle)} week(s) of the period (weeks starting {shown})."
            )
        )
    if facts.above:
        reasons.append(
            Reason(
                f"{facts.above} open finding(s) at or above the threshold in the latest scans.",
                tuple(sorted({scan.item_id for scan in facts.latest})),
            )
        )
    if facts.gaps:
        reasons.append(Reason(_gap_sentence(facts.gaps)))
    scanned, runs = _scanned_share(facts)
    if not facts.scans:
        reasons.append(
            Reason(
                "The gate ran, but no scanner output (SARIF) was collected to show what it found."
            )
        )
    elif scanned * 2 < runs:
        reasons.append(
            Reason(
                f"Scanner output was kept for {scanned} of the {runs} runs of the gate: for the "
                "others, that the outcome matched the findings cannot be checked."
            )
        )
    if not facts.executions:
        reasons.append(
            Reason(
                "Scanner output exists, but no CI run history was collected: that the gate ran on "
                "every change and blocked cannot be shown.",
                tuple(sorted({scan.item_id for scan in facts.scans})),
            )
        )
    return reasons


def _scanned_share(facts: _GateFacts) -> tuple[int, int]:
    """How many of the gate's runs left a SARIF log of it, out of how many runs."""
    with_output = {(scan.repository, scan.run_id) for scan in facts.scans if scan.run_id}
    runs = {(e.execution.repository, e.execution.run_id) for e in facts.executions}
    return len(runs & with_output), len(runs)


def _some(names: tuple[str, ...], shown: int = 10) -> str:
    """A list short enough for a sentence; pack.json keeps the whole of it."""
    text = ", ".join(names[:shown])
    return text if len(names) <= shown else f"{text} and {len(names) - shown} more"


def _what_held(facts: _GateFacts) -> list[Reason]:
    """Facts in the gate's favour: shown beside the concerns, never listed as a gap."""
    if not facts.executions:
        return []
    text = (
        f"{len(facts.executions)} execution(s): {facts.outcomes[Outcome.PASSED]} passed, "
        f"{facts.outcomes[Outcome.FAILED]} failed (blocked)."
    )
    items = tuple(sorted({execution.item_id for execution in facts.executions}))
    return [Reason(text, items, concern=False)]


def _empty_scans(facts: _GateFacts) -> list[Reason]:
    """A latest scan that lists no rule at all may have checked nothing. Some tools (Trivy)
    list only the rules that matched, so this is for the reader to check, not a verdict."""
    return [
        Reason(
            f"The latest scan of {scan.repository or 'an unnamed repository'} by "
            f"{scan.tool or 'an unnamed tool'} lists no rule and no result: check that it ran "
            "its rules (tools such as Trivy list only the rules that matched).",
            (scan.item_id,),
        )
        for scan in facts.empty
    ]


def _gap_sentence(gaps: tuple[EvidenceGap, ...]) -> str:
    kinds = Counter(gap.kind for gap in gaps)
    parts = [f"{count} {kind.value.replace('-', ' ')}" for kind, count in sorted(kinds.items())]
    text = "Evidence gaps: " + ", ".join(parts) + "."
    if GapKind.EXPIRED_ARTIFACT in kinds:
        text += (
            " Collection must run more often than the artefact retention period"
            " (90 days by default)."
        )
    return text


def _idle_weeks(period: Period, executions: list[Execution], scans: list[Scan]) -> list[date]:
    active = {_week_of(e.created_at.date()) for e in executions}
    active.update(_week_of(s.produced_at.date()) for s in scans)
    return [week for week in _weeks(period) if week not in active]


def _weeks(period: Period) -> list[date]:
    """Monday-start weeks that lie wholly inside the period (a part week is not judged)."""
    weeks = []
    day = period.first_day + timedelta(days=(7 - period.first_day.weekday()) % 7)
    while day + timedelta(days=6) <= period.last_day:
        weeks.append(day)
        day += timedelta(days=7)
    return weeks


def _week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weekly(period: Period, executions: list[Execution]) -> tuple[WeekFigures, ...]:
    first = _week_of(period.first_day)
    figures: dict[date, Counter[Outcome]] = {}
    day = first
    while day <= period.last_day:
        figures[day] = Counter()
        day += timedelta(days=7)
    for execution in executions:
        figures.setdefault(_week_of(execution.created_at.date()), Counter())[
            execution.execution.outcome
        ] += 1
    return tuple(
        WeekFigures(week, sum(counts.values()), counts[Outcome.PASSED], counts[Outcome.FAILED])
        for week, counts in sorted(figures.items())
    )


def _item_ids(
    executions: list[Execution], scans: list[Scan], evidence: _Evidence
) -> tuple[int, ...]:
    ids = {execution.item_id for execution in executions}
    ids.update(scan.item_id for scan in scans)
    ids.update(
        evidence.run_items[key]
        for key in {(e.execution.repository, e.execution.run_id) for e in executions}
        if key in evidence.run_items
    )
    return tuple(sorted(ids))


def _last_evidence(executions: list[Execution], scans: list[Scan]) -> datetime | None:
    moments = [e.execution.completed_at or e.created_at for e in executions]
    moments += [scan.produced_at for scan in scans]
    return max(moments) if moments else None


# The runtime gate -------------------------------------------------------------------------


def _assess_runtime_gate(
    locker: Locker, gate: Gate, period: Period, evidence: _Evidence
) -> GateAssessment:
    coverage = assess_runtime(locker, period)
    gaps = tuple(gap for gap in evidence.gaps if gap.gate == gate.id)
    item_ids = coverage.item_ids
    reasons, status = _judge_runtime(gate, period, coverage, gaps, item_ids)
    return GateAssessment(
        gate=gate,
        status=status,
        reasons=reasons,
        repositories=(),
        repositories_missing=(),
        executions=0,
        passed=0,
        failed=0,
        other_outcomes=0,
        scans=0,
        open_by_severity={severity: 0 for severity in Severity},
        suppressed=0,
        above_threshold=0,
        unblocked_breaches=0,
        last_evidence_at=coverage.last_seen,
        item_ids=item_ids,
        evidence_gaps=gaps,
        runtime=coverage,
    )


def _judge_runtime(
    gate: Gate,
    period: Period,
    coverage: RuntimeCoverage,
    gaps: tuple[EvidenceGap, ...],
    item_ids: tuple[int, ...],
) -> tuple[tuple[Reason, ...], Status]:
    if coverage.events == 0 and coverage.days_with_events == 0:
        return (
            Reason(f"No runtime detection event or heartbeat in {period.label}."),
        ), Status.NO_EVIDENCE
    reasons = [
        Reason(
            f"Detection was active on {coverage.days_with_events} of {coverage.days_total} days; "
            f"{coverage.events} alert(s) recorded.",
            item_ids,
            concern=False,
        )
    ]
    status = Status.EFFECTIVE
    if coverage.missing_days:
        status = Status.PARTIALLY_EFFECTIVE
        shown = ", ".join(day.isoformat() for day in coverage.missing_days[:8])
        more = "..." if len(coverage.missing_days) > 8 else ""
        reasons.insert(
            0,
            Reason(f"No event or heartbeat on {len(coverage.missing_days)} day(s): {shown}{more}."),
        )
    if gaps:
        status = Status.PARTIALLY_EFFECTIVE
        reasons.insert(0, Reason(_gap_sentence(gaps)))
    return tuple(reasons), status


# Controls and the gap list ----------------------------------------------------------------


def _assess_control(
    control: Control, matrix: ControlMatrix, gates: dict[str, GateAssessment]
) -> ControlAssessment:
    mapped = tuple((gates[gate.id], mapping) for gate, mapping in matrix.gates_for(control))
    statuses = [assessed.status for assessed, _ in mapped]
    reasons = tuple(reason for assessed, _ in mapped for reason in _gate_reasons(assessed))
    return ControlAssessment(control, _combine(statuses), reasons, mapped)


def _gate_reasons(assessed: GateAssessment) -> list[Reason]:
    """A control's reasons are its gates' own, each named after its gate."""
    name = assessed.gate.name
    if assessed.status is Status.EFFECTIVE:
        return [
            Reason(f"{name}: {reason.text}", reason.item_ids, concern=False)
            for reason in assessed.reasons
        ]
    return [
        Reason(f"{name}: {reason.text}", reason.item_ids, reason.concern)
        for reason in assessed.reasons
        if reason.concern
    ]


def _combine(statuses: list[Status]) -> Status:
    """All gates effective: effective. None with evidence: no evidence. Only failing or absent
    gates: not effective. Anything between: partially effective."""
    if all(status is Status.EFFECTIVE for status in statuses):
        return Status.EFFECTIVE
    if all(status is Status.NO_EVIDENCE for status in statuses):
        return Status.NO_EVIDENCE
    if all(status in (Status.NOT_EFFECTIVE, Status.NO_EVIDENCE) for status in statuses):
        return Status.NOT_EFFECTIVE
    return Status.PARTIALLY_EFFECTIVE


def _gap_list(gates: tuple[GateAssessment, ...], matrix: ControlMatrix) -> tuple[Gap, ...]:
    """One line per gate that falls short, in the order the article rolls the gates out."""
    order = {gate.id: position for position, gate in enumerate(matrix.gates)}
    short = [assessed for assessed in gates if assessed.status is not Status.EFFECTIVE]
    short.sort(key=lambda assessed: (assessed.gate.rollout_week, order[assessed.gate.id]))
    return tuple(
        Gap(
            controls=tuple(
                matrix.control(mapping.framework, mapping.control_id)
                for mapping in assessed.gate.mappings
            ),
            gate=assessed.gate,
            repositories=assessed.repositories_missing or assessed.repositories,
            why=" ".join(reason.text for reason in assessed.reasons if reason.concern),
            remediation=assessed.gate.remediation,
            status=assessed.status,
        )
        for assessed in short
    )
