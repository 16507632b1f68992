"""The audit pack as data: assessment, manifest of evidence, pack id, and its JSON form.

The PDF and `pack.json` are two views of one `Pack`, so their figures cannot disagree.
The pack id is the SHA-256 of the manifest's canonical JSON: anyone holding the manifest
can recompute it, and any change to an item's hash changes the id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from auditpack import __version__
from auditpack.controls.results import Assessment, GateAssessment, RuntimeCoverage
from auditpack.evidence.locker import Locker, Population
from auditpack.evidence.model import EvidenceItem, Severity

if TYPE_CHECKING:
    from auditpack.controls.population import ControlPopulation
    from auditpack.controls.sampling import ControlSample


@dataclass(frozen=True)
class ManifestEntry:
    """One evidence item as the pack lists it; `item_id` is its number in the locker."""

    item_id: int
    item: EvidenceItem
    # If attached: its entry name in `archive` (an embedded ZIP), or without an archive its
    # own embedded file's name. Two fields, so no one has to split a name to find the entry.
    attached_as: str | None = None
    redacted_copy_sha256: str | None = None  # what is attached instead of an item with secrets
    redaction: str | None = None  # what the redacted copy lost
    archive: str | None = None  # the embedded ZIP holding it (evidence.zip), if attached

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
            "s3_checksum_sha256": item.checksum_sha256,
            "redacted": item.redacted,
            "locker_path": f"blobs/{item.sha256[:2]}/{item.sha256}",
            "attached_as": self.attached_as,
            "archive": self.archive,
            "redacted_copy_sha256": self.redacted_copy_sha256,
            "redaction": self.redaction,
        }


@dataclass(frozen=True)
class PackFile:
    """A file the pack derives and embeds (a population export): named and hashed in the
    manifest so that the pack id covers it too."""

    name: str
    sha256: str
    size: int
    description: str

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sha256": self.sha256,
            "size": self.size,
            "description": self.description,
        }


@dataclass(frozen=True)
class Pack:
    organisation: str
    assessment: Assessment
    generated_at: datetime
    manifest: tuple[ManifestEntry, ...]
    populations: tuple[Population, ...]
    files: tuple[PackFile, ...] = ()
    populations_by_control: Mapping[str, ControlPopulation] = field(default_factory=dict)
    samples: Mapping[str, ControlSample] = field(default_factory=dict)

    @property
    def pack_id(self) -> str:
        return hashlib.sha256(manifest_bytes(self.manifest, self.files)).hexdigest()

    def entry(self, item_id: int) -> ManifestEntry:
        for entry in self.manifest:
            if entry.item_id == item_id:
                return entry
        raise KeyError(item_id)


def build_pack(
    locker: Locker, assessment: Assessment, organisation: str, generated_at: datetime
) -> Pack:
    """The manifest holds every item behind the assessment's numbers, in locker order."""
    used = _items_used(locker, assessment)
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


def _items_used(locker: Locker, assessment: Assessment) -> set[int]:
    """Items behind a figure, and items that arrived unreadable: the gaps they left are shown."""
    used: set[int] = set()
    for gate in assessment.gates:
        used.update(gate.item_ids)
    gap_sources = {gap.source for gap in assessment.evidence_gaps}
    used.update(item_id for item_id, item in locker.item_rows() if item.source in gap_sources)
    return used


def manifest_bytes(manifest: tuple[ManifestEntry, ...], files: tuple[PackFile, ...] = ()) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8. Verification recomputes exactly this.

    `{"files": [...], "items": [...]}`: the evidence items, and the files the pack derives.
    """
    document = {
        "files": [file.as_json() for file in files],
        "items": [entry.as_json() for entry in manifest],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


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
        "retention": [
            {
                "gate": worm.gate,
                "items": worm.items,
                "object_locked": worm.locked,
                "modes": dict(worm.by_mode),
                "earliest_retain_until": _time(worm.earliest_retain_until),
            }
            for worm in assessment.retention.values()
        ],
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
        "control_populations": [
            _population_json(population, pack.samples.get(key))
            for key, population in pack.populations_by_control.items()
        ],
        "files": [file.as_json() for file in pack.files],
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
        "weekly": [
            {
                "week_start": week.week_start.isoformat(),
                "executions": week.executions,
                "passed": week.passed,
                "failed": week.failed,
            }
            for week in gate.weekly
        ],
        "runtime": None if gate.runtime is None else _runtime_json(gate.runtime),
    }


def _runtime_json(runtime: RuntimeCoverage) -> dict[str, Any]:
    return {
        "days_total": runtime.days_total,
        "days_with_events": runtime.days_with_events,
        "missing_days": [day.isoformat() for day in runtime.missing_days],
        "alerts": runtime.events,
        "heartbeats": runtime.heartbeats,
        "last_seen": _time(runtime.last_seen),
        "rules": [
            {"rule": rule, "priority": priority, "alerts": count}
            for rule, priority, count in runtime.rules
        ],
        "critical_and_error_alerts": [
            {
                "time": _time(event.time),
                "priority": event.priority,
                "rule": event.rule,
                "hostname": event.hostname,
                "output": event.output,
                "item": event.item_id,
            }
            for event in runtime.serious_events
        ],
    }


def _population_json(population: ControlPopulation, sample: ControlSample | None) -> dict[str, Any]:
    """A control's population in summary (the rows are in the embedded CSV) and its sample."""
    return {
        "control": population.control.key,
        "gates": list(population.gates),
        "branch": population.branch,
        "query": population.query,
        "source": population.source,
        "extracted_at": _time(population.extracted_at),
        "count": population.count,
        "reconciles": population.reconciles,
        "left_out_unlisted_runs": population.unlisted,
        "files": [f"{stem}{suffix}" for stem in population.files for suffix in (".csv", ".xlsx")],
        "sources": [
            {
                "repository": source.repository,
                "source": source.source,
                "query": source.query,
                "extracted_at": _time(source.extracted_at),
                "listed": source.listed,
                "reported": source.reported,
            }
            for source in population.sources
        ],
        "sample": None
        if sample is None
        else {
            "seed": sample.seed,
            "frequency": sample.frequency,
            "size": sample.size,
            "items": [
                {
                    "repository": item.row.repository,
                    "run_id": item.row.run_id,
                    "attempt": item.row.attempt,
                    "gate": item.row.gate,
                    "job_id": item.row.job_id,
                    "outcome": item.row.outcome.value,
                    "run_url": item.row.run_url,
                    "job_listing_item": item.row.job_listing_item,
                    "sarif_items": list(item.row.sarif_items),
                    "checks": list(item.checks),
                }
                for item in sample.items
            ],
        },
    }


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
