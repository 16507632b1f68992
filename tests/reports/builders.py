"""Hand-built packs for the renderer's tests: every figure here is chosen, not computed."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

from auditpack.controls.matrix import Control, ControlMatrix, Gate, load_matrix
from auditpack.controls.period import parse_period
from auditpack.controls.results import (
    Assessment,
    ControlAssessment,
    Gap,
    GateAssessment,
    Reason,
    RuntimeCoverage,
    RuntimeEvent,
    Status,
)
from auditpack.evidence.locker import Population
from auditpack.evidence.model import (
    EvidenceGap,
    EvidenceItem,
    GapKind,
    GateId,
    ItemKind,
    Repository,
    Severity,
    Sha256,
)
from auditpack.reports.pack import ManifestEntry, Pack

GENERATED_AT = datetime(2026, 10, 2, 9, 30, tzinfo=UTC)
ORGANISATION = "Northwind Analytics Ltd"
_WORST_FIRST = (
    Status.NO_EVIDENCE,
    Status.NOT_EFFECTIVE,
    Status.PARTIALLY_EFFECTIVE,
    Status.EFFECTIVE,
)

# gate id -> status, executions, passed, failed, scans, open findings C/H/M/L, above threshold
GATE_FIGURES: dict[str, tuple[Status, int, int, int, int, tuple[int, int, int, int], int]] = {
    "sast": (Status.EFFECTIVE, 412, 398, 14, 412, (0, 0, 7, 12), 0),
    "image-scan": (Status.NOT_EFFECTIVE, 388, 371, 17, 388, (3, 9, 22, 5), 3),
    "dependency-scan": (Status.PARTIALLY_EFFECTIVE, 405, 379, 26, 405, (1, 4, 11, 2), 4),
    "iac-scan": (Status.EFFECTIVE, 120, 117, 3, 120, (0, 0, 2, 6), 0),
    "secret-scanning": (Status.EFFECTIVE, 410, 409, 1, 410, (0, 0, 0, 0), 0),
    "runtime-detection": (Status.PARTIALLY_EFFECTIVE, 0, 0, 0, 0, (0, 0, 0, 0), 0),
}


def repositories(count: int) -> tuple[str, ...]:
    return tuple(f"northwind/service-{index:03d}" for index in range(1, count + 1))


def item(
    item_id: int, gate: str | None, repository: str | None, *, hostile: str = ""
) -> EvidenceItem:
    sha = hashlib.sha256(f"item {item_id}".encode()).hexdigest()
    produced = datetime(2026, 7, 1, 6, tzinfo=UTC) + timedelta(hours=7 * item_id)
    return EvidenceItem(
        sha256=Sha256(sha),
        kind=ItemKind.SARIF if gate != "runtime-detection" else ItemKind.FALCO_EVENTS,
        source=f"ci-artifacts/{repository or 'org'}/{gate or 'runs'}/run-{9000 + item_id}"
        f"/results.sarif{hostile}",
        produced_at=produced,
        retrieved_at=produced + timedelta(minutes=11),
        size=1_000 + 37 * item_id,
        gate=GateId(gate) if gate else None,
        repository=Repository(repository) if repository else None,
        run_id=9000 + item_id,
        version_id="3HL4kqtJvjVBH40Nrjfkd" if item_id % 5 == 0 else None,
        redacted=gate == "secret-scanning",
    )


def gate_assessment(
    gate: Gate, repos: tuple[str, ...], item_ids: tuple[int, ...], hostile: str = ""
) -> GateAssessment:
    status, runs, passed, failed, scans, (c, h, m, low), above = GATE_FIGURES[gate.id]
    missing = repos[-2:] if status is not Status.EFFECTIVE else ()
    reasons = (
        Reason(
            f"{gate.name} ran {runs} times in {len(repos) - len(missing)} repositories{hostile}.",
            item_ids,
        ),
    )
    return GateAssessment(
        gate=gate,
        status=status,
        reasons=reasons,
        repositories=repos[: len(repos) - len(missing)],
        repositories_missing=missing,
        executions=runs,
        passed=passed,
        failed=failed,
        other_outcomes=0,
        scans=scans,
        open_by_severity={
            Severity.CRITICAL: c,
            Severity.HIGH: h,
            Severity.MEDIUM: m,
            Severity.LOW: low,
        },
        suppressed=2 if gate.id == "sast" else 0,
        above_threshold=above,
        unblocked_breaches=1 if gate.id == "image-scan" else 0,
        last_evidence_at=datetime(2026, 9, 30, 17, 4, tzinfo=UTC),
        item_ids=item_ids,
        evidence_gaps=(),
        runtime=_runtime(item_ids, hostile) if gate.runtime else None,
    )


def _runtime(item_ids: tuple[int, ...], hostile: str) -> RuntimeCoverage:
    missing = (date(2026, 8, 14), date(2026, 8, 15), date(2026, 8, 16), date(2026, 9, 2))
    event = RuntimeEvent(
        time=datetime(2026, 8, 3, 2, 17, 44, tzinfo=UTC),
        priority="Critical",
        rule="Terminal shell in container",
        hostname="ip-10-0-3-17",
        output=f"A shell was spawned in a container (user=root container=api-7f9c){hostile}",
        item_id=item_ids[0],
    )
    return RuntimeCoverage(
        days_total=92,
        days_with_events=88,
        missing_days=missing,
        events=1_532,
        rules=(
            ("Read sensitive file untrusted", "Warning", 1_204),
            ("Terminal shell in container", "Critical", 3),
        ),
        serious_events=(event,),
    )


def make_pack(
    repo_count: int = 6,
    items_per_gate: int = 4,
    hostile: str = "",
    matrix: ControlMatrix | None = None,
) -> Pack:
    """A quarter of evidence for `repo_count` repositories; `hostile` ends each untrusted text."""
    matrix = matrix or load_matrix()
    period = parse_period("2026-Q3")
    repos = repositories(repo_count)
    if hostile:
        repos = (*repos[:-1], f"northwind/legacy{hostile}")
    manifest: list[ManifestEntry] = []
    gates = []
    for gate in matrix.gates:
        first = len(manifest) + 1
        ids = tuple(range(first, first + items_per_gate))
        for offset, item_id in enumerate(ids):
            repo = repos[offset % len(repos)]
            manifest.append(ManifestEntry(item_id, item(item_id, gate.id, repo, hostile=hostile)))
        gates.append(gate_assessment(gate, repos, ids, hostile))
    controls = tuple(_control(matrix, control, gates) for control in matrix.mapped_controls())
    counts = {status: sum(c.status is status for c in controls) for status in Status}
    assessment = Assessment(
        period=period,
        matrix=matrix,
        gates=tuple(gates),
        controls=controls,
        gaps=_gaps(matrix, gates, hostile),
        evidence_gaps=_evidence_gaps(hostile),
        repositories=repos,
        status_counts=counts,
    )
    return Pack(ORGANISATION, assessment, GENERATED_AT, tuple(manifest), _populations())


def _control(
    matrix: ControlMatrix, control: Control, gates: list[GateAssessment]
) -> ControlAssessment:
    pairs = tuple(
        (next(g for g in gates if g.gate.id == gate.id), mapping)
        for gate, mapping in matrix.gates_for(control)
    )
    status = min((g.status for g, _ in pairs), key=_WORST_FIRST.index)
    reasons = tuple(r for g, _ in pairs for r in g.reasons if g.status is status)
    return ControlAssessment(control, status, reasons, pairs)


def _gaps(matrix: ControlMatrix, gates: list[GateAssessment], hostile: str) -> tuple[Gap, ...]:
    gaps = []
    for assessed in reversed(gates):  # reversed, so that the renderer must order them
        if assessed.status is Status.EFFECTIVE:
            continue
        gaps.append(
            Gap(
                controls=tuple(
                    matrix.control(m.framework, m.control_id) for m in assessed.gate.mappings
                ),
                gate=assessed.gate,
                repositories=assessed.repositories_missing,
                why=f"{assessed.above_threshold} open findings at or above the threshold{hostile}",
                remediation=assessed.gate.remediation,
                status=assessed.status,
            )
        )
    return tuple(gaps)


def _evidence_gaps(hostile: str) -> tuple[EvidenceGap, ...]:
    recorded = datetime(2026, 10, 1, 8, 12, tzinfo=UTC)
    return (
        EvidenceGap(
            GapKind.MALFORMED,
            "uploads/service-004/trivy.sarif",
            f"not JSON: unexpected end of data at byte 18,342{hostile}",
            recorded,
            GateId("dependency-scan"),
            Repository("northwind/service-004"),
        ),
        EvidenceGap(
            GapKind.EXPIRED_ARTIFACT,
            "github:northwind/service-002/actions/artifacts/77",
            "artefact expired on 2026-08-30 before collection",
            recorded,
            GateId("image-scan"),
            Repository("northwind/service-002"),
            9931,
        ),
    )


def _populations() -> tuple[Population, ...]:
    extracted = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    query = "GET /repos/{o}/{r}/actions/runs?branch=main&created=2026-07-01..2026-09-30"
    return (
        Population(
            "Workflow runs on the default branch", "GitHub REST API", query, extracted, 1_735, 1_735
        ),
        Population(
            "Image scan executions", "GitHub REST API", query + "&event=push", extracted, 388, 390
        ),
    )
