"""What an assessment concludes: per gate, per control, and the gap list. Values only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from auditpack.controls.matrix import Control, ControlMatrix, Gate, Mapping
from auditpack.controls.period import Period
from auditpack.controls.worm import WormStatus
from auditpack.evidence.model import EvidenceGap, Severity


class Status(StrEnum):
    EFFECTIVE = "effective"
    PARTIALLY_EFFECTIVE = "partially effective"
    NOT_EFFECTIVE = "not effective"
    NO_EVIDENCE = "no evidence"


@dataclass(frozen=True)
class Reason:
    """One sentence behind a status, with the locker item ids that show it.

    A concern is why the status is not better; the others are facts in the control's favour.
    """

    text: str
    item_ids: tuple[int, ...] = ()
    concern: bool = True


@dataclass(frozen=True)
class RuntimeCoverage:
    """Runtime detection over the period: which days had events, which rules fired."""

    days_total: int
    days_with_events: int
    missing_days: tuple[date, ...]
    events: int
    rules: tuple[tuple[str, str, int], ...]  # (rule, priority, count), busiest first
    serious_events: tuple[RuntimeEvent, ...]  # critical and error events, by time
    heartbeats: int = 0  # Falco's internal events (metrics snapshots): running, no alert
    item_ids: tuple[int, ...] = ()  # the Falco items the figures come from
    last_seen: datetime | None = None  # the period's last event or heartbeat


@dataclass(frozen=True)
class RuntimeEvent:
    time: datetime
    priority: str
    rule: str
    hostname: str
    output: str  # redacted
    item_id: int


@dataclass(frozen=True)
class GateAssessment:
    gate: Gate
    status: Status
    reasons: tuple[Reason, ...]
    repositories: tuple[str, ...]  # repositories where the gate ran in the period
    repositories_missing: tuple[str, ...]  # repositories active in the period where it did not
    executions: int
    passed: int
    failed: int
    other_outcomes: int  # skipped, cancelled, unknown
    scans: int  # SARIF runs for the gate in the period
    open_by_severity: dict[Severity, int]  # latest scan per repository, unsuppressed
    suppressed: int
    above_threshold: int  # open findings at or above the threshold, latest scans
    unblocked_breaches: int  # scans above the threshold whose gate execution passed
    last_evidence_at: datetime | None
    item_ids: tuple[int, ...]
    evidence_gaps: tuple[EvidenceGap, ...]
    runtime: RuntimeCoverage | None = None
    weekly: tuple[WeekFigures, ...] = ()  # every week of the period, in order


@dataclass(frozen=True)
class WeekFigures:
    """A gate's executions in one week (Monday start, UTC), for the pass-rate chart."""

    week_start: date
    executions: int
    passed: int
    failed: int


@dataclass(frozen=True)
class ControlAssessment:
    control: Control
    status: Status
    reasons: tuple[Reason, ...]
    gates: tuple[tuple[GateAssessment, Mapping], ...]


@dataclass(frozen=True)
class Gap:
    """A line of the gap analysis: what falls short, why, and what to do about it."""

    controls: tuple[Control, ...]
    gate: Gate
    repositories: tuple[str, ...]
    why: str
    remediation: str
    status: Status


@dataclass(frozen=True)
class Assessment:
    period: Period
    matrix: ControlMatrix
    gates: tuple[GateAssessment, ...]
    controls: tuple[ControlAssessment, ...]
    gaps: tuple[Gap, ...]
    evidence_gaps: tuple[EvidenceGap, ...]
    repositories: tuple[str, ...]
    status_counts: dict[Status, int] = field(default_factory=dict)
    # executions per (repository, gate id) in the period: the coverage heat map
    coverage: dict[tuple[str, str], int] = field(default_factory=dict)
    # per gate id, how much of the period's evidence sits under S3 Object Lock
    retention: dict[str, WormStatus] = field(default_factory=dict)

    def gate(self, gate_id: str) -> GateAssessment:
        for assessed in self.gates:
            if assessed.gate.id == gate_id:
                return assessed
        raise KeyError(gate_id)

    def control(self, framework: str, control_id: str) -> ControlAssessment:
        for assessed in self.controls:
            if assessed.control.framework == framework and assessed.control.id == control_id:
                return assessed
        raise KeyError(f"{framework}:{control_id}")
