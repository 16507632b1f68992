"""The audit pack as data: assessment, manifest of evidence, pack id, and its JSON form.

The PDF and `pack.json` are two views of one `Pack`, so their figures cannot disagree.
The pack id is the SHA-256 of the manifest's canonical JSON: anyone holding the manifest
can recompute it, and any change to an item's hash changes the id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from auditpack import __version__
from auditpack.controls.results import Assessment, GateAssessment
from auditpack.evidence.locker import Locker, Population
from auditpack.evidence.model import EvidenceItem, Severity


@dataclass(frozen=True)
class ManifestEntry:
    """One evidence item as the pack lists it; `item_id` is its number in the locker."""

    item_id: int
    item: EvidenceItem

    def as_json(self) -> dict[str, Any]:
        item = self.item
        return {
            "item": self.item_id,
            "sha256": item.sha256,
            "kind": item.kind.value,
            "source": item.source,
            "produced_at": _time(item.produced_at),
            "retrieved_at": _time(item.retrieved_at),
            "size": item.size,
            "gate": item.gate,
            "repository": item.repository,
            "run_id": item.run_id,
            "version_id": item.version_id,
            "etag": item.etag,
            "object_lock_mode": item.object_lock_mode,
            "object_lock_retain_until": _time(item.object_lock_retain_until),
            "redacted": item.redacted,
            "locker_path": f"blobs/{item.sha256[:2]}/{item.sha256}",
        }


@dataclass(frozen=True)
class Pack:
    organisation: str
    assessment: Assessment
    generated_at: datetime
    manifest: tuple[ManifestEntry, ...]
    populations: tuple[Population, ...]

    @property
    def pack_id(self) -> str:
        return hashlib.sha256(manifest_bytes(self.manifest)).hexdigest()

    def entry(self, item_id: int) -> ManifestEntry:
        for entry in self.manifest:
            if entry.item_id == item_id:
                return entry
        raise KeyError(item_id)


def build_pack(
    locker: Locker, assessment: Assessment, organisation: str, generated_at: datetime
) -> Pack:
    """The manifest holds every item behind the assessment's numbers, in locker order."""
    used = _items_used(assessment)
    manifest = tuple(
        ManifestEntry(item_id, item) for item_id, item in locker.item_rows() if item_id in used
    )
    return Pack(
        organisation=organisation,
        assessment=assessment,
        generated_at=generated_at.astimezone(UTC),
        manifest=manifest,
        populations=tuple(locker.populations()),
    )


def _items_used(assessment: Assessment) -> set[int]:
    used: set[int] = set()
    for gate in assessment.gates:
        used.update(gate.item_ids)
    return used


def manifest_bytes(manifest: tuple[ManifestEntry, ...]) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8. Verification recomputes exactly this."""
    entries = [entry.as_json() for entry in manifest]
    return json.dumps(entries, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def pack_json(pack: Pack) -> str:
    """The pack's figures, machine-readable; stable key order for byte-identical output."""
    assessment = pack.assessment
    document = {
        "auditpack": __version__,
        "organisation": pack.organisation,
        "pack_id": pack.pack_id,
        "generated_at": _time(pack.generated_at),
        "period": {
            "label": assessment.period.label,
            "start": _time(assessment.period.start),
            "end": _time(assessment.period.end),
        },
        "matrix": assessment.matrix.source,
        "repositories": list(assessment.repositories),
        "gates": [_gate_json(gate) for gate in assessment.gates],
        "controls": [
            {
                "framework": control.control.framework,
                "id": control.control.id,
                "title": control.control.title,
                "status": control.status.value,
                "reasons": [reason.text for reason in control.reasons],
                "gates": [gate.gate.id for gate, _ in control.gates],
            }
            for control in assessment.controls
        ],
        "gaps": [
            {
                "gate": gap.gate.id,
                "controls": [f"{c.framework}:{c.id}" for c in gap.controls],
                "repositories": list(gap.repositories),
                "why": gap.why,
                "remediation": gap.remediation,
            }
            for gap in assessment.gaps
        ],
        "evidence_gaps": [
            {
                "kind": gap.kind.value,
                "source": gap.source,
                "reason": gap.reason,
                "gate": gap.gate,
                "repository": gap.repository,
                "run_id": gap.run_id,
            }
            for gap in assessment.evidence_gaps
        ],
        "populations": [
            {
                "name": population.name,
                "source": population.source,
                "query": population.query,
                "extracted_at": _time(population.extracted_at),
                "count": population.count,
                "source_count": population.source_count,
            }
            for population in pack.populations
        ],
        "manifest": [entry.as_json() for entry in pack.manifest],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _gate_json(gate: GateAssessment) -> dict[str, Any]:
    return {
        "id": gate.gate.id,
        "name": gate.gate.name,
        "status": gate.status.value,
        "threshold": gate.gate.threshold.describe(),
        "reasons": [{"text": r.text, "items": list(r.item_ids)} for r in gate.reasons],
        "repositories": list(gate.repositories),
        "repositories_missing": list(gate.repositories_missing),
        "executions": gate.executions,
        "passed": gate.passed,
        "failed": gate.failed,
        "other_outcomes": gate.other_outcomes,
        "scans": gate.scans,
        "open_findings": {s.value: gate.open_by_severity.get(s, 0) for s in Severity},
        "suppressed": gate.suppressed,
        "above_threshold": gate.above_threshold,
        "unblocked_breaches": gate.unblocked_breaches,
        "last_evidence_at": _time(gate.last_evidence_at),
        "items": list(gate.item_ids),
    }


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
