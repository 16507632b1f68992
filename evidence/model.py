"""The evidence values every other module speaks: items, findings, runs, gate executions, gaps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NewType

Sha256 = NewType("Sha256", str)
GateId = NewType("GateId", str)
Repository = NewType("Repository", str)  # "owner/name"


class Severity(StrEnum):
    """Normalised severity, worst first."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"

    @property
    def rank(self) -> int:
        """4 for critical down to 0 for none, so that `a.rank >= b.rank` reads 'at least'."""
        return _RANKS[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_RANKS = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.NONE: 0,
}
SEVERITIES_WORST_FIRST = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.NONE,
)


class ItemKind(StrEnum):
    """What an evidence item holds."""

    SARIF = "sarif"
    CODE_SCANNING_SARIF = "code-scanning-sarif"  # GitHub's subset of an uploaded SARIF
    WORKFLOW_RUNS = "workflow-runs"  # a REST listing of workflow runs
    WORKFLOW_JOBS = "workflow-jobs"  # a REST listing of a run's jobs and steps
    WORKFLOW_FILE = "workflow-file"
    ARTIFACT_ZIP = "artifact-zip"
    FALCO_EVENTS = "falco-events"
    API_RESPONSE = "api-response"  # any other REST answer kept as provenance


class GapKind(StrEnum):
    """Why evidence that should exist is missing or unusable."""

    MALFORMED = "malformed"
    EXPIRED_ARTIFACT = "expired-artifact"
    FETCH_FAILED = "fetch-failed"
    UNCLASSIFIED = "unclassified"
    INCOMPLETE_POPULATION = "incomplete-population"
    UNSAFE_ARCHIVE = "unsafe-archive"
    # Not missing evidence but evidence of a gate that did not block: a deploy job succeeded
    # in the same run attempt after a gate had failed. Shown with the gaps so no one misses it.
    DEPLOY_AFTER_FAILED_GATE = "deploy-after-failed-gate"


class Outcome(StrEnum):
    """How a gate execution ended, folded from GitHub's conclusions."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class EvidenceItem:
    """One raw piece of evidence as the locker keeps it.

    `produced_at` is when the source made it (a SARIF's invocation end, a run's
    creation); `retrieved_at` is when auditpack fetched it. Storage-specific facts
    (an S3 version id, Object Lock) sit in the optional fields so that the
    manifest can show them beside the hash.
    """

    sha256: Sha256
    kind: ItemKind
    source: str
    produced_at: datetime
    retrieved_at: datetime
    size: int
    gate: GateId | None = None
    repository: Repository | None = None
    run_id: int | None = None
    version_id: str | None = None
    etag: str | None = None
    object_lock_mode: str | None = None
    object_lock_retain_until: datetime | None = None
    redacted: bool = False  # the item holds secrets: reports show only a redacted copy
    note: str = ""
    checksum_sha256: str | None = None  # the store's own checksum (S3 ChecksumSHA256, base64)


@dataclass(frozen=True)
class Location:
    uri: str
    start_line: int | None = None


@dataclass(frozen=True)
class Finding:
    """One normalised scanner result. Text fields are already redacted."""

    tool: str
    rule_id: str
    severity: Severity
    message: str
    location: Location | None = None
    suppressed: bool = False
    baseline_state: str | None = None
    fix_available: bool | None = None  # None: the tool does not say
    fingerprint: str = ""


@dataclass(frozen=True)
class WorkflowRun:
    """One GitHub Actions workflow run (or another CI system's pipeline run)."""

    repository: Repository
    run_id: int
    attempt: int
    workflow_name: str
    workflow_path: str
    event: str
    branch: str
    head_sha: str
    status: str
    conclusion: str | None
    created_at: datetime
    updated_at: datetime | None
    url: str


@dataclass(frozen=True)
class GateExecution:
    """A job or step of a run that the matrix recognised as a gate."""

    repository: Repository
    run_id: int
    attempt: int
    gate: GateId
    job_id: int
    job_name: str
    step_name: str | None
    outcome: Outcome
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class EvidenceGap:
    """Evidence that should be there and is not: every one is shown in the pack."""

    kind: GapKind
    source: str
    reason: str
    recorded_at: datetime
    gate: GateId | None = None
    repository: Repository | None = None
    run_id: int | None = None


@dataclass(frozen=True)
class FalcoEvent:
    """One Falco runtime event. Internal events (metrics snapshots) prove Falco ran; no alert."""

    time: datetime
    priority: str  # Falco's name, capitalised: Emergency ... Debug
    rule: str
    output: str  # redacted
    source: str | None = None
    hostname: str | None = None
    uuid: str | None = None
    internal: bool = False


@dataclass(frozen=True)
class WorkflowVersion:
    """A workflow file as it stood at one commit: its content is the evidence item `item_id`."""

    repository: Repository
    path: str  # .github/workflows/security.yml
    commit_sha: str
    committed_at: datetime  # the committer date GitHub reports
    item_id: int
